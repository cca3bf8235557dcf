/**
 * Alertmanager's configuration from the stage's receivers and routes passes `amtool check-config`, and routes an
 * alert where the stage says (`amtool config routes test`): WeChat Work, a webhook, email, and the default.
 */
import * as fs from "fs";
import * as path from "path";
import { renderedFile, run, scratchDir, tool } from "./helpers";

const amtool = () => tool("amtool", "prometheus-alertmanager");

/** A stage with a receiver of each kind, routes by severity and namespace, and their secrets. */
const ALERTS = {
    observability: {
        alerts: {
            receivers: [
                { name: "wechat-oncall", wechat: { corpId: "ww0123456789abcdef", agentId: "1000002", toParty: "2" } },
                { name: "team-hook", webhook: {} },
                {
                    name: "mail",
                    email: {
                        to: "platform@example.com",
                        from: "alerts@example.com",
                        smarthost: "smtp.example.com:465",
                        authUsername: "alerts",
                    },
                },
            ],
            routes: [
                { receiver: "wechat-oncall", matchers: ['severity="critical"'], continue: true },
                { receiver: "team-hook", matchers: ['namespace=~"apps|shop"'] },
            ],
            defaultReceiver: "mail",
        },
        grafana: { host: "grafana.staging.example.com" },
    },
    alertSecrets: {
        "wechat-oncall": { apiSecret: { secure: "v1:stand-in" } },
        "team-hook": { url: { secure: "v1:stand-in" } },
        mail: { authPassword: { secure: "v1:stand-in" } },
    },
};

function writeConfig(overrides: Record<string, unknown>): string {
    const dir = scratchDir("amtool");
    // The render puts a placeholder where a secret goes; a webhook URL must still look like one to amtool.
    const config = renderedFile("staging", "Secret", "alertmanager-config", "alertmanager.yml", overrides).replace(
        /url: \[secret\]|url: "\[secret\]"/,
        "url: https://hooks.example.com/stand-in",
    );
    fs.writeFileSync(path.join(dir, "alertmanager.yml"), config);
    return dir;
}

describe("Alertmanager's configuration, checked by amtool", () => {
    it("passes `amtool check-config` with a WeChat Work, a webhook and an email receiver", () => {
        const dir = writeConfig(ALERTS);
        const result = run(amtool(), ["check-config", "alertmanager.yml"], dir);
        expect(result.output).toMatch(/SUCCESS/);
        expect(result.output).toMatch(/4 receivers/);
        expect(result.status).toBe(0);
    });

    it("passes with the committed stages' settings (no receiver: alerts stay in Alertmanager)", () => {
        for (const stage of ["staging", "prod"]) {
            const dir = scratchDir("amtool-stage");
            fs.writeFileSync(path.join(dir, "alertmanager.yml"), renderedFile(stage, "Secret", "alertmanager-config", "alertmanager.yml"));
            expect(run(amtool(), ["check-config", "alertmanager.yml"], dir)).toMatchObject({ status: 0 });
        }
    });

    it.each([
        [["severity=critical", "namespace=kube-system"], "wechat-oncall"],
        [["severity=critical", "namespace=apps"], "wechat-oncall,team-hook"],
        [["severity=warning", "namespace=shop"], "team-hook"],
        [["severity=warning", "namespace=monitoring"], "mail"],
    ])("routes an alert with %j to %s", (labels, receivers) => {
        const dir = writeConfig(ALERTS);
        const result = run(amtool(), ["config", "routes", "test", "--config.file=alertmanager.yml", ...labels], dir);
        expect(result.output.trim().split("\n")[0]).toBe(receivers);
    });

    it("`amtool check-config` rejects a route to a receiver that does not exist (the check is real)", () => {
        const dir = writeConfig(ALERTS);
        const file = path.join(dir, "alertmanager.yml");
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("receiver: team-hook", "receiver: nobody"));
        expect(run(amtool(), ["check-config", "alertmanager.yml"], dir).status).not.toBe(0);
    });
});
