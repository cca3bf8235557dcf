/**
 * The observability configurations of every stage that has it, checked by the real tools at the releases the
 * cluster runs (built from Go modules by engine/build.sh): Prometheus's configuration by promtool 3 (Debian's 2.42
 * has no Kubernetes service discovery), Alertmanager's by amtool 0.35, and the log shipper's configuration (Loki
 * and Log Service) by the OpenTelemetry Collector's own `validate`, run chrooted in a root laid out like its pod.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROMETHEUS_PATHS } from "../../k8s/prometheusConfig";
import { SHIPPER_PATHS } from "../../k8s/logConfigs";
import { find, renderStage, stageConfig } from "../k8s/helpers";
import { CheckerTools, checkerTools, requireMachine } from "./helpers/tools";

let tools: CheckerTools;
const cleanup: string[] = [];

// `npm run test:engine` builds the checkers in the background while the rest of the suite runs (this file runs
// last); from cold on 2 cores at the lowest priority that can outlast the suite's other files.
const CHECKERS_WAIT_MS = 50 * 60 * 1000;

beforeAll(async () => {
    requireMachine();
    tools = await checkerTools(CHECKERS_WAIT_MS);
}, CHECKERS_WAIT_MS + 60000);

afterAll(() => {
    for (const dir of cleanup) fs.rmSync(dir, { recursive: true, force: true });
});

function scratch(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    cleanup.push(dir);
    return dir;
}

function run(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { status: number; output: string } {
    try {
        const output = execFileSync(file, args, { ...opts, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60000 });
        return { status: 0, output };
    } catch (e) {
        const err = e as { status?: number; stdout?: string; stderr?: string };
        return { status: err.status ?? -1, output: `${err.stdout ?? ""}${err.stderr ?? ""}` };
    }
}

const data = (o: unknown) =>
    (o as { data?: Record<string, string>; stringData?: Record<string, string> }).data ??
    (o as { stringData: Record<string, string> }).stringData;

/** The log shipper's configuration as its ConfigMap holds it. */
function shipperConfig(objects: ReturnType<typeof renderStage>): string {
    return data(find(objects, "ConfigMap", "log-shipper", "monitoring-agents"))["config.yaml"];
}

/** The collector's own `validate` of `config`, chrooted in a root laid out like the shipper's pod. */
function validateShipper(config: string, nodeName: string): { status: number; output: string } {
    const root = scratch("otelcol");
    layOut(root, { "/etc/otelcol/config.yaml": config });
    for (const dir of [SHIPPER_PATHS.hostRoot, SHIPPER_PATHS.podLogs, SHIPPER_PATHS.state, "/tmp"]) {
        fs.mkdirSync(path.join(root, dir), { recursive: true });
    }
    fs.copyFileSync(tools.otelcol, path.join(root, "otelcol"));
    fs.chmodSync(path.join(root, "otelcol"), 0o755);
    return run(
        "/usr/bin/unshare",
        [...podProc(root), "/usr/sbin/chroot", root, "/otelcol", "validate", "--config=/etc/otelcol/config.yaml"],
        {
            env: { PATH: "/", NODE_NAME: nodeName, POD_IP: "127.0.0.1", SLS_KAFKA_PASSWORD: "stand-in" },
        },
    );
}

/**
 * unshare's arguments that give the chroot its own /proc, as a pod has: the collector's memory_limiter reads the
 * container's memory from /proc/self/mountinfo and refuses to start without it. A new mount and PID namespace, so
 * the mount goes with the process and nothing is left mounted under the scratch root.
 */
function podProc(root: string): string[] {
    fs.mkdirSync(path.join(root, "proc"), { recursive: true });
    return ["--mount", "--pid", "--fork", `--mount-proc=${path.join(root, "proc")}`];
}

/** Writes `files` (absolute pod paths) under `root`. */
function layOut(root: string, files: Record<string, string>): void {
    for (const [file, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
        fs.writeFileSync(path.join(root, file), content);
    }
}

const VARIANTS: [string, Record<string, unknown>][] = [
    ["staging", {}],
    ["prod", {}],
    ["staging", { observability: { logs: { backend: "sls" } } }],
];

describe.each(VARIANTS)("observability of %s %j, checked by the tools it runs", (stage, overrides) => {
    const objects = renderStage(stage, overrides);

    it("promtool (the pinned release) accepts prometheus.yml and its rules where the pod mounts them", () => {
        // promtool opens every file the configuration names: they go under a scratch root at the pod's paths.
        const root = scratch("promtool");
        const config = data(find(objects, "ConfigMap", "prometheus-config", "monitoring"))["prometheus.yml"];
        const at = (p: string) => path.join(root, p);
        layOut(root, {
            [`${PROMETHEUS_PATHS.rulesDir}/platform.yml`]: data(find(objects, "ConfigMap", "prometheus-rules", "monitoring"))[
                "platform.yml"
            ],
            [`${PROMETHEUS_PATHS.certificateRulesDir}/certificates.yml`]: data(
                find(objects, "ConfigMap", "prometheus-certificate-rules", "monitoring"),
            )["certificates.yml"],
            [`${PROMETHEUS_PATHS.etcdTlsDir}/ca.crt`]: "stand-in",
            [`${PROMETHEUS_PATHS.etcdTlsDir}/tls.crt`]: "stand-in",
            [`${PROMETHEUS_PATHS.etcdTlsDir}/tls.key`]: "stand-in",
            [`${PROMETHEUS_PATHS.serviceAccountDir}/token`]: "stand-in",
            [`${PROMETHEUS_PATHS.serviceAccountDir}/ca.crt`]: "stand-in",
        });
        const rooted = config.replace(/(?<=[\s'"])\/(etc\/prometheus|var\/run\/secrets)\//g, `${root}/$1/`);
        fs.writeFileSync(at("prometheus.yml"), rooted);
        const result = run(tools.promtool, ["check", "config", at("prometheus.yml")]);
        expect(result.output).toMatch(/SUCCESS/);
        expect(result.status).toBe(0);
    });

    it("amtool (the pinned release) accepts alertmanager.yml", () => {
        const dir = scratch("amtool");
        fs.writeFileSync(
            path.join(dir, "alertmanager.yml"),
            data(find(objects, "Secret", "alertmanager-config", "monitoring"))["alertmanager.yml"],
        );
        const result = run(tools.amtool, ["check-config", path.join(dir, "alertmanager.yml")]);
        expect(result.output).toMatch(/SUCCESS/);
        expect(result.status).toBe(0);
    });

    it("the log shipper's own `validate` accepts its configuration, in a root laid out like its pod", () => {
        const cfg = stageConfig(stage, overrides);
        const result = validateShipper(shipperConfig(objects), `${cfg.namePrefix}-worker-0`);
        expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: expect.any(String) });
    });

    it("the shipper's `validate` refuses a broken configuration (the check is real)", () => {
        const broken = shipperConfig(objects).replace("journalctl_path: /usr/bin/journalctl", "journalctl_path: journalctl");
        const result = validateShipper(broken, "n");
        expect(result.status).not.toBe(0);
        expect(result.output).toMatch(/journalctl_path/);
    });
});
