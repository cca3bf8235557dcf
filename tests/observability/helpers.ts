/** Shared by the observability tests: the real tools they run, the metric names a query uses, a stage's rendered configs. */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parser } from "@prometheus-io/lezer-promql";
import { CERTIFICATE_EXPIRY_METRIC, renderAlertRules } from "../../k8s/alertRules";
import { ETCD_BACKUP_SUCCESS_METRIC } from "../../layout/node";
import { DASHBOARDS } from "../../k8s/dashboards";
import { find, renderStage, stageConfig } from "../k8s/helpers";

/** A tool the tests need: its path, or a failure that names it and its Debian package (tools/test.sh installs it as root). */
export function tool(name: string, debianPackage: string): string {
    const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
    if (!found) {
        throw new Error(`${name} is not installed: apt-get install -y ${debianPackage} (npm test does this when it runs as root)`);
    }
    return found;
}

/** Runs a tool; returns its exit status and combined output. */
export function run(file: string, args: string[], cwd?: string): { status: number; output: string } {
    const r = spawnSync(file, args, { encoding: "utf8", cwd, timeout: 120000 });
    return { status: r.status ?? -1, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

export function scratchDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

/** The metric names a PromQL expression selects (vector and range selectors), parsed by Prometheus's own grammar. */
export function metricNames(expr: string): string[] {
    const tree = parser.parse(expr);
    const names: string[] = [];
    const cursor = tree.cursor();
    do {
        if (cursor.type.isError) {
            throw new Error(`not PromQL: ${expr}`);
        }
        if (cursor.name === "Identifier" && cursor.node.parent?.name === "VectorSelector") {
            names.push(expr.slice(cursor.from, cursor.to));
        }
    } while (cursor.next());
    return names;
}

/** Every PromQL expression of the dashboards, with where it is. */
export function dashboardQueries(): { where: string; expr: string }[] {
    return DASHBOARDS.flatMap((d) => d.panels.flatMap((p) => p.queries.map((q) => ({ where: `${d.uid}: ${p.title}`, expr: q.expr }))));
}

/** Every expression of the alerting rules of a stage. */
export function ruleQueries(renewBeforeDays = 30, etcdMembers = 3): { where: string; expr: string }[] {
    const YAML = require("yaml"); // eslint-disable-line @typescript-eslint/no-require-imports -- the same parser the renderer uses
    const groups = YAML.parse(renderAlertRules({ renewBeforeDays, etcdMembers })).groups as { rules: { alert: string; expr: string }[] }[];
    return groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })));
}

/** The rendered text of a ConfigMap or Secret key of a stage (with overrides). */
export function renderedFile(
    stage: string,
    kind: "ConfigMap" | "Secret",
    name: string,
    key: string,
    overrides: Record<string, unknown> = {},
): string {
    const o = find(renderStage(stage, overrides), kind, name) as { data?: Record<string, string>; stringData?: Record<string, string> };
    const text = (o.data ?? o.stringData ?? {})[key];
    if (typeof text !== "string") {
        throw new Error(`${kind} ${name} has no key ${key}`);
    }
    return text;
}

export { stageConfig };

/** Starts a binary that serves /metrics on loopback, scrapes it once and stops it: the metric names it exports. */
export function exportedNames(file: string, args: string[], port: number): Set<string> {
    const child = require("child_process").spawn(file, args, { stdio: "ignore" }); // eslint-disable-line @typescript-eslint/no-require-imports -- spawn with a detached life, stopped below
    try {
        for (let attempt = 0; attempt < 50; attempt++) {
            const got = spawnSync("curl", ["-sf", `http://127.0.0.1:${port}/metrics`], { encoding: "utf8" });
            if (got.status === 0 && got.stdout.length > 0) {
                return namesOfExposition(got.stdout);
            }
            execFileSync("sleep", ["0.2"]);
        }
        throw new Error(`${file} did not serve /metrics on 127.0.0.1:${port}`);
    } finally {
        child.kill("SIGTERM");
    }
}

/** The metric names of a Prometheus text exposition (histograms and summaries with their _bucket/_sum/_count series). */
export function namesOfExposition(text: string): Set<string> {
    const names = new Set<string>();
    for (const line of text.split("\n")) {
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{| )/.exec(line);
        if (m) {
            names.add(m[1]);
        }
        const declared = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (histogram|summary)/.exec(line);
        if (declared) {
            for (const suffix of declared[2] === "histogram" ? ["_bucket", "_sum", "_count"] : ["_sum", "_count"]) {
                names.add(declared[1] + suffix);
            }
        }
    }
    return names;
}

/** Name prefixes of the targets the engine suite scrapes for real (kube-apiserver, etcd, controller-manager, scheduler, kubelet). */
export const ENGINE_CHECKED = /^(apiserver_|etcd_|scheduler_|workqueue_|kubelet_|container_)/;

/**
 * Metrics of targets that cannot run here, each with where its name is documented. The test fails if one is no
 * longer used (the list must not grow stale) or if a query uses a name outside every source.
 */
export const EXCEPTIONS: Readonly<Record<string, string>> = {
    // kube-state-metrics: its Go module is not served by the proxy here (docs/cli/metrics in its repository).
    kube_node_status_condition: "kube-state-metrics docs/metrics/cluster/node-metrics.md",
    kube_pod_status_phase: "kube-state-metrics docs/metrics/workload/pod-metrics.md",
    kube_pod_container_status_restarts_total: "kube-state-metrics docs/metrics/workload/pod-metrics.md",
    kube_pod_container_status_waiting_reason: "kube-state-metrics docs/metrics/workload/pod-metrics.md",
    // ingress-nginx: nginx with Lua, no Go binary to run (docs/user-guide/monitoring.md of ingress-nginx).
    nginx_ingress_controller_requests: "ingress-nginx docs/user-guide/monitoring.md",
    nginx_ingress_controller_request_duration_seconds_bucket: "ingress-nginx docs/user-guide/monitoring.md",
    nginx_ingress_controller_nginx_process_connections: "ingress-nginx docs/user-guide/monitoring.md",
    // Spring Boot's actuator (Micrometer's Prometheus registry), in the app's image (docs/kubernetes.md, the image contract).
    http_server_requests_seconds_count: "Spring Boot reference, Observability > Metrics > Supported metrics (HTTP server)",
    http_server_requests_seconds_bucket: "Spring Boot, management.metrics.distribution.percentiles-histogram set by the platform",
    jvm_memory_used_bytes: "Micrometer JvmMemoryMetrics",
    jvm_memory_max_bytes: "Micrometer JvmMemoryMetrics",
    jvm_gc_pause_seconds_sum: "Micrometer JvmGcMetrics",
    jvm_threads_live_threads: "Micrometer JvmThreadMetrics",
    process_cpu_usage: "Micrometer ProcessorMetrics",
    // The platform's own: a recording rule of the program's certificates, and the etcd backup's (issue 12).
    [CERTIFICATE_EXPIRY_METRIC]: "k8s/alertRules.ts renderCertificateRules",
    [ETCD_BACKUP_SUCCESS_METRIC]: "written by the etcd backup for node_exporter's textfile collector (tests/engine/etcdRestore.test.ts)",
};
