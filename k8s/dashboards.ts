/**
 * Grafana's dashboards, as code: the cluster, the nodes, etcd, ingress traffic and the apps (JVM, HTTP latency and
 * errors per service). Each is Grafana's dashboard JSON, provisioned from a ConfigMap; every query names only
 * metrics that the scraped targets export (checked in the tests against real binaries where they can run here).
 */
import { JOBS } from "./prometheusConfig";

/** The Prometheus data source's uid, as provisioned (k8s/observability.ts). */
export const PROMETHEUS_DATASOURCE_UID = "prometheus";
export const LOKI_DATASOURCE_UID = "loki";

/** One panel: a title, its queries (legend per query) and the unit Grafana formats values in. */
interface Panel {
    readonly title: string;
    readonly queries: readonly { readonly expr: string; readonly legend: string }[];
    readonly unit: "percentunit" | "bytes" | "Bps" | "reqps" | "s" | "short" | "ops";
    /** A single number rather than a graph. */
    readonly stat?: boolean;
}

/** One dashboard: its uid (its file name and URL), title and panels, two to a row. */
interface Dashboard {
    readonly uid: string;
    readonly title: string;
    readonly panels: readonly Panel[];
}

const q = (expr: string, legend: string) => ({ expr, legend });
const apps = `job="${JOBS.apps}"`;

export const DASHBOARDS: readonly Dashboard[] = [
    {
        uid: "cluster",
        title: "Cluster",
        panels: [
            {
                title: "Nodes ready",
                stat: true,
                unit: "short",
                queries: [q(`sum(kube_node_status_condition{condition="Ready",status="true"})`, "ready")],
            },
            { title: "Pods by phase", unit: "short", queries: [q("sum by (phase) (kube_pod_status_phase)", "{{phase}}")] },
            {
                title: "API server requests by code",
                unit: "reqps",
                queries: [q("sum by (code) (rate(apiserver_request_total[5m]))", "{{code}}")],
            },
            {
                title: "API server latency (p99, without watches)",
                unit: "s",
                queries: [
                    q(
                        `histogram_quantile(0.99, sum by (le, verb) (rate(apiserver_request_duration_seconds_bucket{verb!~"WATCH|CONNECT"}[5m])))`,
                        "{{verb}}",
                    ),
                ],
            },
            {
                title: "CPU by namespace",
                unit: "short",
                queries: [q(`sum by (namespace) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))`, "{{namespace}}")],
            },
            {
                title: "Memory by namespace",
                unit: "bytes",
                queries: [q(`sum by (namespace) (container_memory_working_set_bytes{container!=""})`, "{{namespace}}")],
            },
            {
                title: "Container restarts in the last hour",
                unit: "short",
                queries: [
                    q("sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total[1h])) > 0", "{{namespace}}/{{pod}}"),
                ],
            },
            {
                title: "Volumes used",
                unit: "percentunit",
                queries: [
                    q("kubelet_volume_stats_used_bytes / kubelet_volume_stats_capacity_bytes", "{{namespace}}/{{persistentvolumeclaim}}"),
                ],
            },
            {
                title: "Pods waiting for the scheduler",
                unit: "short",
                queries: [q("sum by (queue) (scheduler_pending_pods)", "{{queue}}")],
            },
            {
                title: "Controller-manager work queues",
                unit: "short",
                queries: [q(`sum by (name) (workqueue_depth{job="${JOBS.controllerManager}"})`, "{{name}}")],
            },
        ],
    },
    {
        uid: "nodes",
        title: "Nodes",
        panels: [
            {
                title: "CPU busy",
                unit: "percentunit",
                queries: [q(`1 - avg by (node) (rate(node_cpu_seconds_total{mode="idle"}[5m]))`, "{{node}}")],
            },
            {
                title: "Memory available",
                unit: "percentunit",
                queries: [q("node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes", "{{node}}")],
            },
            {
                title: "Filesystem free",
                unit: "percentunit",
                queries: [
                    q(
                        `node_filesystem_avail_bytes{fstype=~"ext4|xfs"} / node_filesystem_size_bytes{fstype=~"ext4|xfs"}`,
                        "{{node}} {{mountpoint}}",
                    ),
                ],
            },
            { title: "Load (1 minute)", unit: "short", queries: [q("node_load1", "{{node}}")] },
            {
                title: "Network",
                unit: "Bps",
                queries: [
                    q(`sum by (node) (rate(node_network_receive_bytes_total{device!~"lo|veth.*|cni.*|flannel.*"}[5m]))`, "{{node}} in"),
                    q(`sum by (node) (rate(node_network_transmit_bytes_total{device!~"lo|veth.*|cni.*|flannel.*"}[5m]))`, "{{node}} out"),
                ],
            },
            { title: "Disk busy", unit: "percentunit", queries: [q("rate(node_disk_io_time_seconds_total[5m])", "{{node}} {{device}}")] },
            { title: "Nodes answering", unit: "short", queries: [q(`up{job="${JOBS.node}"}`, "{{node}}")] },
            {
                title: "Kubelet client certificate left",
                unit: "s",
                queries: [q("kubelet_certificate_manager_client_ttl_seconds", "{{node}}")],
            },
        ],
    },
    {
        uid: "etcd",
        title: "etcd",
        panels: [
            { title: "Members with a leader", stat: true, unit: "short", queries: [q("sum(etcd_server_has_leader)", "members")] },
            {
                title: "Leader changes in the last hour",
                unit: "short",
                queries: [q("increase(etcd_server_leader_changes_seen_total[1h])", "{{node}}")],
            },
            {
                title: "Database size and quota",
                unit: "bytes",
                queries: [q("etcd_mvcc_db_total_size_in_bytes", "{{node}} size"), q("etcd_server_quota_backend_bytes", "{{node}} quota")],
            },
            {
                title: "WAL fsync (p99)",
                unit: "s",
                queries: [
                    q("histogram_quantile(0.99, sum by (le, node) (rate(etcd_disk_wal_fsync_duration_seconds_bucket[5m])))", "{{node}}"),
                ],
            },
            {
                title: "Backend commit (p99)",
                unit: "s",
                queries: [
                    q(
                        "histogram_quantile(0.99, sum by (le, node) (rate(etcd_disk_backend_commit_duration_seconds_bucket[5m])))",
                        "{{node}}",
                    ),
                ],
            },
            { title: "Failed proposals", unit: "ops", queries: [q("rate(etcd_server_proposals_failed_total[5m])", "{{node}}")] },
            {
                title: "Certificates: days left",
                unit: "short",
                queries: [q("(coreos_platform_certificate_expiry_timestamp_seconds - time()) / 86400", "{{certificate}}")],
            },
        ],
    },
    {
        uid: "ingress",
        title: "Ingress traffic",
        panels: [
            {
                title: "Requests by status",
                unit: "reqps",
                queries: [q("sum by (status) (rate(nginx_ingress_controller_requests[5m]))", "{{status}}")],
            },
            {
                title: "Requests by host",
                unit: "reqps",
                queries: [q("sum by (host) (rate(nginx_ingress_controller_requests[5m]))", "{{host}}")],
            },
            {
                title: "Server errors by ingress",
                unit: "percentunit",
                queries: [
                    q(
                        `sum by (ingress) (rate(nginx_ingress_controller_requests{status=~"5.."}[5m])) / sum by (ingress) (rate(nginx_ingress_controller_requests[5m]))`,
                        "{{ingress}}",
                    ),
                ],
            },
            {
                title: "Latency by host (p95)",
                unit: "s",
                queries: [
                    q(
                        "histogram_quantile(0.95, sum by (le, host) (rate(nginx_ingress_controller_request_duration_seconds_bucket[5m])))",
                        "{{host}}",
                    ),
                ],
            },
            {
                title: "Connections",
                unit: "short",
                queries: [q("sum by (state) (nginx_ingress_controller_nginx_process_connections)", "{{state}}")],
            },
        ],
    },
    {
        uid: "apps",
        title: "Apps",
        panels: [
            {
                title: "Requests per service",
                unit: "reqps",
                queries: [q(`sum by (service) (rate(http_server_requests_seconds_count{${apps}}[5m]))`, "{{service}}")],
            },
            {
                title: "Server errors per service",
                unit: "percentunit",
                queries: [
                    q(
                        `sum by (service) (rate(http_server_requests_seconds_count{${apps},status=~"5.."}[5m])) / sum by (service) (rate(http_server_requests_seconds_count{${apps}}[5m]))`,
                        "{{service}}",
                    ),
                ],
            },
            {
                title: "Latency per service (p95)",
                unit: "s",
                queries: [
                    q(
                        `histogram_quantile(0.95, sum by (le, service) (rate(http_server_requests_seconds_bucket{${apps}}[5m])))`,
                        "{{service}}",
                    ),
                ],
            },
            {
                title: "JVM heap used and max",
                unit: "bytes",
                queries: [
                    q(`sum by (service, pod) (jvm_memory_used_bytes{${apps},area="heap"})`, "{{pod}} used"),
                    q(`sum by (service, pod) (jvm_memory_max_bytes{${apps},area="heap"})`, "{{pod}} max"),
                ],
            },
            {
                title: "GC pause time",
                unit: "percentunit",
                queries: [q(`sum by (service, pod) (rate(jvm_gc_pause_seconds_sum{${apps}}[5m]))`, "{{pod}}")],
            },
            { title: "JVM live threads", unit: "short", queries: [q(`jvm_threads_live_threads{${apps}}`, "{{pod}}")] },
            { title: "Process CPU", unit: "percentunit", queries: [q(`process_cpu_usage{${apps}}`, "{{pod}}")] },
            { title: "Targets answering", unit: "short", queries: [q(`up{${apps}}`, "{{service}} {{pod}}")] },
        ],
    },
];

/** A dashboard's JSON model as Grafana's provisioning reads it (schema version 39: Grafana 11 and 12). */
export function dashboardJson(d: Dashboard): string {
    const panels = d.panels.map((p, i) => ({
        id: i + 1,
        type: p.stat ? "stat" : "timeseries",
        title: p.title,
        datasource: { type: "prometheus", uid: PROMETHEUS_DATASOURCE_UID },
        gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
        fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
        options: p.stat ? { reduceOptions: { calcs: ["lastNotNull"] } } : { legend: { displayMode: "list", placement: "bottom" } },
        targets: p.queries.map((query, j) => ({
            refId: String.fromCharCode(65 + j),
            datasource: { type: "prometheus", uid: PROMETHEUS_DATASOURCE_UID },
            expr: query.expr,
            legendFormat: query.legend,
        })),
    }));
    return JSON.stringify(
        {
            uid: d.uid,
            title: d.title,
            tags: ["coreos-platform"],
            timezone: "browser",
            schemaVersion: 39,
            version: 1,
            editable: false,
            refresh: "1m",
            time: { from: "now-6h", to: "now" },
            templating: { list: [] },
            panels,
        },
        null,
        2,
    );
}
