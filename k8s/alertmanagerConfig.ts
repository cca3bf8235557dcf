/**
 * Alertmanager's configuration from the stage's `observability.alerts`: its receivers (WeChat Work, webhooks,
 * email) and routes. Secrets (WeChat Work's application secret, webhook URLs, SMTP passwords) go into the text, so
 * the whole file is a Kubernetes Secret; the component renders it once their values are known. `amtool
 * check-config` runs on it in the tests.
 */
import * as YAML from "yaml";
import type { ObservabilityConfig } from "../config/types";

/** The receiver that takes what no route sends elsewhere when the stage names none: alerts show in Alertmanager only. */
export const NO_RECEIVER = "none";

/** Receiver secrets as plain text (the component resolves them; tests pass stand-ins). */
export type PlainReceiverSecrets = Readonly<
    Record<string, { readonly apiSecret?: string; readonly url?: string; readonly authPassword?: string }>
>;

export function renderAlertmanagerConfig(alerts: ObservabilityConfig["alerts"], secrets: PlainReceiverSecrets): string {
    const secretOf = (receiver: string, key: "apiSecret" | "url" | "authPassword"): string => {
        const value = secrets[receiver]?.[key];
        if (value === undefined) {
            throw new Error(`alert receiver ${receiver}: alertSecrets.${receiver}.${key} is missing (the config loader checks this)`);
        }
        return value;
    };
    const receivers = [
        { name: NO_RECEIVER },
        ...alerts.receivers.map((r) => {
            if ("wechat" in r) {
                return {
                    name: r.name,
                    wechat_configs: [
                        {
                            send_resolved: true,
                            corp_id: r.wechat.corpId,
                            agent_id: r.wechat.agentId,
                            api_secret: secretOf(r.name, "apiSecret"),
                            ...(r.wechat.toParty ? { to_party: r.wechat.toParty } : {}),
                            ...(r.wechat.toUser ? { to_user: r.wechat.toUser } : {}),
                            ...(r.wechat.toTag ? { to_tag: r.wechat.toTag } : {}),
                        },
                    ],
                };
            }
            if ("webhook" in r) {
                return { name: r.name, webhook_configs: [{ send_resolved: r.webhook.sendResolved, url: secretOf(r.name, "url") }] };
            }
            const password = secrets[r.name]?.authPassword;
            return {
                name: r.name,
                email_configs: [
                    {
                        send_resolved: true,
                        to: r.email.to,
                        from: r.email.from,
                        smarthost: r.email.smarthost,
                        ...(r.email.authUsername ? { auth_username: r.email.authUsername } : {}),
                        ...(password !== undefined ? { auth_password: password } : {}),
                    },
                ],
            };
        }),
    ];
    const config = {
        route: {
            receiver: alerts.defaultReceiver || NO_RECEIVER,
            group_by: ["alertname", "stage", "namespace"],
            group_wait: "30s",
            group_interval: "5m",
            repeat_interval: "4h",
            routes: alerts.routes.map((r) => ({ receiver: r.receiver, matchers: [...r.matchers], continue: r.continue })),
        },
        // A node that is down also fails every target on it: say it once.
        inhibit_rules: [{ source_matchers: ['alertname="NodeDown"'], target_matchers: ['severity="warning"'], equal: ["node"] }],
        receivers,
    };
    return YAML.stringify(config, { lineWidth: 0 });
}
