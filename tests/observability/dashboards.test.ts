/**
 * Grafana's dashboards are valid JSON whose every query is PromQL (Prometheus's own grammar) naming only metrics the
 * scraped targets export. Here, the exporters that run on this machine are asked for their names (node_exporter,
 * Prometheus, Alertmanager); the control plane's, etcd's and the kubelet's names are checked against the real
 * binaries in the engine suite (tests/engine/metrics.test.ts). What cannot run here is listed with its source.
 */
import * as os from "os";
import { DASHBOARDS, dashboardJson } from "../../k8s/dashboards";
import { BACKUP_SUCCESS_METRIC, CERTIFICATE_EXPIRY_METRIC } from "../../k8s/alertRules";
import { find, renderStage } from "../k8s/helpers";
import { dashboardQueries, exportedNames, metricNames, ruleQueries, tool } from "./helpers";

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
    [BACKUP_SUCCESS_METRIC]: "docs/observability.md, the contract with the etcd backup",
};

describe("Grafana's dashboards", () => {
    it("are the cluster, nodes, etcd, ingress and apps dashboards, each valid JSON with a uid, panels and queries", () => {
        expect(DASHBOARDS.map((d) => d.uid)).toEqual(["cluster", "nodes", "etcd", "ingress", "apps"]);
        for (const d of DASHBOARDS) {
            const model = JSON.parse(dashboardJson(d));
            expect(model.uid).toBe(d.uid);
            expect(model.panels.length).toBeGreaterThanOrEqual(5);
            for (const panel of model.panels) {
                expect(panel.targets.length).toBeGreaterThan(0);
                expect(panel.datasource.uid).toBe("prometheus");
            }
        }
    });

    it("are provisioned from a ConfigMap Grafana mounts, one file per dashboard, with Prometheus (and Loki) as data sources", () => {
        const objects = renderStage("staging");
        const dashboards = find(objects, "ConfigMap", "grafana-dashboards", "monitoring") as any;
        expect(Object.keys(dashboards.data).sort()).toEqual(["apps.json", "cluster.json", "etcd.json", "ingress.json", "nodes.json"]);
        const provisioning = find(objects, "ConfigMap", "grafana-provisioning", "monitoring") as any;
        expect(JSON.parse(provisioning.data["datasources.yml"]).datasources.map((d: any) => d.type)).toEqual(["prometheus", "loki"]);
        const sls = renderStage("staging", { observability: { logs: { backend: "sls" } } });
        const slsProvisioning = find(sls, "ConfigMap", "grafana-provisioning", "monitoring") as any;
        expect(JSON.parse(slsProvisioning.data["datasources.yml"]).datasources.map((d: any) => d.type)).toEqual(["prometheus"]);
    });

    it("query only metrics the scraped targets export (or the listed exceptions)", () => {
        const exported = new Set<string>([
            ...exportedNames(tool("prometheus-node-exporter", "prometheus-node-exporter"), ["--web.listen-address=127.0.0.1:19100"], 19100),
            ...exportedNames(
                tool("prometheus", "prometheus"),
                [
                    "--web.listen-address=127.0.0.1:19090",
                    `--storage.tsdb.path=${os.tmpdir()}/prom-${process.pid}`,
                    "--config.file=/dev/null",
                ],
                19090,
            ),
            "up", // every scrape's own series
        ]);
        const queries = [...dashboardQueries(), ...ruleQueries()];
        const unknown: string[] = [];
        const usedExceptions = new Set<string>();
        let engineChecked = 0;
        for (const { where, expr } of queries) {
            for (const name of metricNames(expr)) {
                if (exported.has(name)) continue;
                if (ENGINE_CHECKED.test(name)) {
                    engineChecked++;
                    continue;
                }
                if (name in EXCEPTIONS) {
                    usedExceptions.add(name);
                    continue;
                }
                unknown.push(`${where}: ${name}`);
            }
        }
        expect(unknown).toEqual([]);
        expect([...usedExceptions].sort()).toEqual(Object.keys(EXCEPTIONS).sort());
        expect(engineChecked).toBeGreaterThan(10);
    });

    it("the name check finds a misspelt metric (node_memroy_...)", () => {
        const exported = exportedNames(
            tool("prometheus-node-exporter", "prometheus-node-exporter"),
            ["--web.listen-address=127.0.0.1:19101"],
            19101,
        );
        expect(exported.has("node_memory_MemAvailable_bytes")).toBe(true);
        expect(metricNames("node_memroy_MemAvailable_bytes / node_memory_MemTotal_bytes").filter((n) => !exported.has(n))).toEqual([
            "node_memroy_MemAvailable_bytes",
        ]);
    });
});
