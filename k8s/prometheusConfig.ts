/**
 * What Prometheus scrapes, as its configuration file: every node's node_exporter (the bastion and the NFS node
 * included, from a file of targets), the API server, etcd (with a client certificate of the etcd CA), the
 * controller-manager and the scheduler on the controllers, every kubelet and its cAdvisor, kube-state-metrics,
 * ingress-nginx on the edge nodes, and every Service port named `management` (the Spring Boot actuator), without
 * configuration per app. Plain data in, YAML text out; `promtool check config` runs on it in the tests.
 */
import * as YAML from "yaml";
import { METRICS_PORTS } from "../layout/cluster";

/** Where Prometheus's pod mounts what it reads. */
export const PROMETHEUS_PATHS = {
    config: "/etc/prometheus/prometheus.yml",
    rulesDir: "/etc/prometheus/rules",
    certificateRulesDir: "/etc/prometheus/certificate-rules",
    targetsDir: "/etc/prometheus/targets",
    etcdTlsDir: "/etc/prometheus/etcd",
    /** The pod's own service-account token and CA (the kubelet mounts them). */
    serviceAccountDir: "/var/run/secrets/kubernetes.io/serviceaccount",
} as const;

/** The file of targets outside the cluster (bastion, NFS node), in Prometheus's file_sd format. */
export const OUTSIDE_TARGETS_FILE = "outside-nodes.json";

/** The Service port name that marks a Spring Boot actuator: its endpoints are scraped at ACTUATOR_METRICS_PATH. */
export const ACTUATOR_PORT_NAME = "management";
export const ACTUATOR_METRICS_PATH = "/actuator/prometheus";

/** Scrape jobs by name: rules and dashboards select on these `job` labels. */
export const JOBS = {
    node: "node",
    apiserver: "apiserver",
    etcd: "etcd",
    controllerManager: "kube-controller-manager",
    scheduler: "kube-scheduler",
    kubelet: "kubelet",
    cadvisor: "cadvisor",
    kubeStateMetrics: "kube-state-metrics",
    ingressNginx: "ingress-nginx",
    apps: "apps",
    prometheus: "prometheus",
    alertmanager: "alertmanager",
} as const;

/** What the configuration is rendered from. */
export interface PrometheusConfigInput {
    /** The stage (an external label on every series and alert, so a shared receiver tells stages apart). */
    readonly stage: string;
    /** The controllers: etcd, controller-manager and scheduler run there, at fixed addresses. */
    readonly controllers: readonly { readonly hostname: string; readonly ip: string }[];
    /** Alertmanager's in-cluster address (host:port). */
    readonly alertmanager: string;
    /** kube-state-metrics's in-cluster address (host:port). */
    readonly kubeStateMetrics: string;
    /** The ingress controller's namespace. */
    readonly ingressNamespace: string;
}

const SCRAPE_INTERVAL = "30s";

/** Authenticated scrapes with the pod's service-account token (kubelets, the API server, controller-manager, scheduler). */
function withToken(insecure: boolean): Record<string, unknown> {
    const sa = PROMETHEUS_PATHS.serviceAccountDir;
    return {
        scheme: "https",
        authorization: { credentials_file: `${sa}/token` },
        // Kubelets, the controller-manager and the scheduler serve certificates they sign themselves (like kubeadm's
        // defaults); their identity is the address the API server or the plan gives. The API server's is verified.
        tls_config: insecure ? { insecure_skip_verify: true } : { ca_file: `${sa}/ca.crt` },
    };
}

const controllerTargets = (input: PrometheusConfigInput, port: number) => [
    ...input.controllers.map((c) => ({ targets: [`${c.ip}:${port}`], labels: { node: c.hostname } })),
];

/** The node's name as the `node` label, from Kubernetes discovery. */
const nodeLabel = { source_labels: ["__meta_kubernetes_node_name"], target_label: "node" };

export function renderPrometheusConfig(input: PrometheusConfigInput): string {
    const config = {
        global: { scrape_interval: SCRAPE_INTERVAL, evaluation_interval: SCRAPE_INTERVAL, external_labels: { stage: input.stage } },
        rule_files: [`${PROMETHEUS_PATHS.rulesDir}/*.yml`, `${PROMETHEUS_PATHS.certificateRulesDir}/*.yml`],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [input.alertmanager] }] }] },
        scrape_configs: [
            { job_name: JOBS.prometheus, static_configs: [{ targets: ["localhost:9090"] }] },
            { job_name: JOBS.alertmanager, static_configs: [{ targets: [input.alertmanager] }] },
            {
                // node_exporter on the host network of every Kubernetes node: the kubelet's address, the exporter's port.
                job_name: JOBS.node,
                kubernetes_sd_configs: [{ role: "node" }],
                relabel_configs: [
                    {
                        source_labels: ["__address__"],
                        regex: "(.+):\\d+",
                        replacement: `$1:${METRICS_PORTS.nodeExporter}`,
                        target_label: "__address__",
                    },
                    nodeLabel,
                ],
                // The bastion and the NFS node run no kubelet: their addresses come from a file the program writes.
                file_sd_configs: [{ files: [`${PROMETHEUS_PATHS.targetsDir}/${OUTSIDE_TARGETS_FILE}`] }],
            },
            {
                job_name: JOBS.apiserver,
                ...withToken(false),
                kubernetes_sd_configs: [{ role: "endpoints", namespaces: { names: ["default"] } }],
                relabel_configs: [
                    {
                        source_labels: ["__meta_kubernetes_service_name", "__meta_kubernetes_endpoint_port_name"],
                        regex: "kubernetes;https",
                        action: "keep",
                    },
                ],
            },
            {
                job_name: JOBS.etcd,
                scheme: "https",
                tls_config: {
                    ca_file: `${PROMETHEUS_PATHS.etcdTlsDir}/ca.crt`,
                    cert_file: `${PROMETHEUS_PATHS.etcdTlsDir}/tls.crt`,
                    key_file: `${PROMETHEUS_PATHS.etcdTlsDir}/tls.key`,
                },
                static_configs: controllerTargets(input, METRICS_PORTS.etcd),
            },
            {
                job_name: JOBS.controllerManager,
                ...withToken(true),
                static_configs: controllerTargets(input, METRICS_PORTS.controllerManager),
            },
            { job_name: JOBS.scheduler, ...withToken(true), static_configs: controllerTargets(input, METRICS_PORTS.scheduler) },
            { job_name: JOBS.kubelet, ...withToken(true), kubernetes_sd_configs: [{ role: "node" }], relabel_configs: [nodeLabel] },
            {
                job_name: JOBS.cadvisor,
                ...withToken(true),
                metrics_path: "/metrics/cadvisor",
                kubernetes_sd_configs: [{ role: "node" }],
                relabel_configs: [nodeLabel],
            },
            { job_name: JOBS.kubeStateMetrics, honor_labels: true, static_configs: [{ targets: [input.kubeStateMetrics] }] },
            {
                // The controller runs on the edge nodes' host network: the pod's address is the node's.
                job_name: JOBS.ingressNginx,
                kubernetes_sd_configs: [{ role: "pod", namespaces: { names: [input.ingressNamespace] } }],
                relabel_configs: [
                    {
                        source_labels: ["__meta_kubernetes_pod_container_port_number"],
                        regex: String(METRICS_PORTS.ingressNginx),
                        action: "keep",
                    },
                    { source_labels: ["__meta_kubernetes_pod_node_name"], target_label: "node" },
                ],
            },
            {
                // Every Service port named `management`: Spring Boot's actuator, found without configuration per app.
                job_name: JOBS.apps,
                metrics_path: ACTUATOR_METRICS_PATH,
                kubernetes_sd_configs: [{ role: "endpoints" }],
                relabel_configs: [
                    { source_labels: ["__meta_kubernetes_endpoint_port_name"], regex: ACTUATOR_PORT_NAME, action: "keep" },
                    { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
                    { source_labels: ["__meta_kubernetes_service_name"], target_label: "service" },
                    { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
                ],
            },
        ],
    };
    return YAML.stringify(config, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** The file_sd targets of the nodes that run no kubelet (the bastion, the NFS node), labelled with their names. */
export function renderOutsideTargets(nodes: readonly { readonly hostname: string; readonly ip: string }[]): string {
    return JSON.stringify(
        nodes.map((n) => ({ targets: [`${n.ip}:${METRICS_PORTS.nodeExporter}`], labels: { node: n.hostname } })),
        null,
        2,
    );
}
