/**
 * The rules the stage's observability settings must meet beyond their schema: every alert route and the default
 * route name a receiver that is declared, receivers have unique names and the secrets they need, secrets belong to
 * declared receivers, and Grafana's route needs an edge pool to be served from. Reported like every other rule.
 */
import { Report } from "./problems";
import { Parsed } from "./types";

/** The secret each kind of receiver cannot work without (email's password is optional: some relays take none). */
const REQUIRED_SECRET = { wechat: "apiSecret", webhook: "url" } as const;

export function checkObservability(
    observability: Parsed<"observability"> | undefined,
    alertSecrets: Parsed<"alertSecrets"> | undefined,
    edgeCount: number | undefined,
    report: Report,
): void {
    if (!observability) {
        return;
    }
    const { alerts, grafana } = observability;
    const declared = new Map<string, number>();
    alerts.receivers.forEach((receiver, i) => {
        const first = declared.get(receiver.name);
        if (first !== undefined) {
            report(
                `observability.alerts.receivers[${i}].name`,
                receiver.name,
                `is already the name of receivers[${first}]; receiver names must be unique`,
            );
            return;
        }
        declared.set(receiver.name, i);
        const kind = "wechat" in receiver ? "wechat" : "webhook" in receiver ? "webhook" : undefined;
        if (kind && alertSecrets && !alertSecrets[receiver.name]?.[REQUIRED_SECRET[kind]]) {
            report(
                `alertSecrets.${receiver.name}.${REQUIRED_SECRET[kind]}`,
                undefined,
                `is required for the ${kind} receiver ${receiver.name}: pulumi config set --secret --path alertSecrets.${receiver.name}.${REQUIRED_SECRET[kind]} ...`,
            );
        }
    });
    const known = [...declared.keys()];
    const mustBeDeclared = (key: string, name: string) => {
        if (!declared.has(name)) {
            report(
                key,
                name,
                `is not a receiver of observability.alerts.receivers (${known.length > 0 ? known.join(", ") : "none declared"})`,
            );
        }
    };
    alerts.routes.forEach((route, i) => mustBeDeclared(`observability.alerts.routes[${i}].receiver`, route.receiver));
    if (alerts.defaultReceiver !== "") {
        mustBeDeclared("observability.alerts.defaultReceiver", alerts.defaultReceiver);
    }
    for (const name of Object.keys(alertSecrets ?? {})) {
        mustBeDeclared(`alertSecrets.${name}`, name);
    }
    if (observability.enabled && grafana.host !== "" && edgeCount === 0) {
        report(
            "observability.grafana.host",
            grafana.host,
            "needs an edge node to serve it (edge.count is 0); leave it empty and use kubectl port-forward",
        );
    }
}
