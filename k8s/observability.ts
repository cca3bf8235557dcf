/**
 * Metrics, logs, dashboards and alerts, as plain objects (docs/observability.md). Two namespaces: `monitoring`
 * (Pod Security restricted) holds Prometheus, Alertmanager, kube-state-metrics, Grafana and Loki; the node agents
 * (node_exporter and the log shipper), which read the host, run in `monitoring-agents` (privileged).
 * `components/observability.ts` creates them.
 */
import type { StageConfig } from "../config/types";
import { planCluster } from "../config/plan";
import { METRICS_PORTS } from "../layout/cluster";
import { NODE_EXPORTER_TEXTFILE_DIR } from "../layout/node";
import { versions } from "../versions";
import { renderAlertRules } from "./alertRules";
import { APPS_NAMESPACE, appIngress } from "./appParts";
import { DISK_STORAGE_CLASS } from "./blockStorage";
import { DASHBOARDS, LOKI_DATASOURCE_UID, PROMETHEUS_DATASOURCE_UID, dashboardJson } from "./dashboards";
import { INGRESS_CLASS, INGRESS_NAMESPACE, INGRESS_POD_LABELS, defaultCertificateSecret } from "./ingress";
import {
    LOKI_DATA_DIR,
    LOKI_PORT,
    LogDestination,
    SHIPPER_ENV,
    SHIPPER_HEALTH_PORT,
    SHIPPER_METRICS_PORT,
    SHIPPER_PATHS,
    renderLokiConfig,
    renderShipperConfig,
} from "./logConfigs";
import { ClusterNetworks, IngressPods, renderObservabilityNetworkPolicies } from "./networkPolicies";
import { Container, KubeObject, Late, PodSpec, kube, podFieldEnv, podSecurityLabels, recommendedLabels, selectorLabels } from "./objects";
import { OUTSIDE_TARGETS_FILE, PROMETHEUS_PATHS, renderPrometheusConfig } from "./prometheusConfig";
import { nodeAgentDaemonSet } from "./scheduling";

export const MONITORING_NAMESPACE = "monitoring";
export const AGENTS_NAMESPACE = "monitoring-agents";
const PROMETHEUS_PORT = 9090;
const ALERTMANAGER_PORT = 9093;
const KSM_PORT = 8080;
const GRAFANA_PORT = 3000;
/** Log Service's Kafka-compatible endpoint's port (the intranet broker the shipper writes to). */
const SLS_KAFKA_PORT = 10011;
/** Prometheus's pods: the apps' policies admit them on the management ports (k8s/apps.ts). */
export const PROMETHEUS_PODS: IngressPods = { namespace: MONITORING_NAMESPACE, labels: selectorLabels("prometheus") };
const svc = (name: string, port: number) => `${name}.${MONITORING_NAMESPACE}.svc:${port}`;

/** What observability takes from the stage config (build it with `observabilitySettings`). */
export interface ObservabilitySettings {
    readonly stage: string;
    readonly metrics: { readonly retentionDays: number; readonly diskGb: number; readonly memory: string };
    readonly logs: { readonly retentionDays: number; readonly diskGb: number; readonly destination: LogDestination };
    /** Grafana's public host on the ingress ("" for none: kubectl port-forward). */
    readonly grafanaHost: string;
    /** The ingress the Grafana route goes through: rate limit and whether it serves HTTPS. */
    readonly ingress: { readonly rateLimitRps: number; readonly https: boolean };
    /** The controllers' names and fixed addresses (etcd, controller-manager, scheduler). */
    readonly controllers: readonly { readonly hostname: string; readonly ip: string }[];
    readonly renewBeforeDays: number;
    /** The networks the namespaces' network policies name. */
    readonly networks: ClusterNetworks;
}

/** Everything observability is rendered from: its settings and what only the program knows once it runs. */
export interface ObservabilityInput extends ObservabilitySettings {
    /** The client certificate Prometheus scrapes etcd with, its key, and the etcd CA (secret). */
    readonly etcdClient: { readonly ca: Late<string>; readonly certificate: Late<string>; readonly key: Late<string> };
    /** `renderCertificateRules` of the certificates the program issued. */
    readonly certificateRules: Late<string>;
    /** `renderOutsideTargets` of the bastion and the NFS node. */
    readonly outsideTargets: Late<string>;
    /** `renderAlertmanagerConfig` with the receivers' secrets (secret). */
    readonly alertmanagerConfig: Late<string>;
    /** Grafana's admin password (secret). */
    readonly grafanaAdminPassword: Late<string>;
    /** sls: the Kafka password of the log writer, "<AccessKeyId>#<AccessKeySecret>" (secret). */
    readonly slsKafkaPassword?: Late<string>;
}

/** The Log Service project and logstore of a stage (sls), named from the stage unless the config names the project. */
export function slsNames(cfg: Pick<StageConfig, "namePrefix" | "observability">): { project: string; logstore: string } {
    return { project: cfg.observability.logs.slsProject || `${cfg.namePrefix}-logs`, logstore: "kubernetes" };
}

/** Picks observability's settings out of a stage config. */
export function observabilitySettings(cfg: StageConfig): ObservabilitySettings {
    const o = cfg.observability;
    const sls = slsNames(cfg);
    return {
        stage: cfg.stage,
        metrics: o.metrics,
        logs: {
            retentionDays: o.logs.retentionDays,
            diskGb: o.logs.diskGb,
            destination:
                o.logs.backend === "loki"
                    ? { kind: "loki", endpoint: `http://${svc("loki", LOKI_PORT)}` }
                    : { ...sls, kind: "sls", broker: `${sls.project}.${cfg.region}-intranet.log.aliyuncs.com:${SLS_KAFKA_PORT}` },
        },
        grafanaHost: o.grafana.host,
        ingress: {
            rateLimitRps: cfg.ingress.rateLimitRps,
            https: defaultCertificateSecret({ tls: cfg.ingress.tls, tlsSecretName: cfg.ingress.tlsSecretName }) !== undefined,
        },
        controllers: planCluster(cfg).controllers.map((c) => ({ hostname: c.hostname, ip: c.ip })),
        renewBeforeDays: cfg.pki.renewBeforeDays,
        networks: { podCidr: cfg.network.podCidr, vpcCidr: cfg.network.vpcCidr, apiServiceIp: cfg.cluster.apiServiceIp },
    };
}

const restricted = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
};

/** A pod that runs as one unprivileged user and group, which also owns its volumes. */
function podRunsAs(id: number): PodSpec["securityContext"] {
    return { runAsUser: id, runAsGroup: id, fsGroup: id, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };
}

/** A Deployment of one pod (Recreate: a `disk` volume attaches to one node at a time) with its Service. */
function singleton(name: string, labels: Record<string, string>, port: number, pod: PodSpec): KubeObject[] {
    const selector = selectorLabels(name);
    return [
        kube.Service({
            metadata: { name, namespace: MONITORING_NAMESPACE, labels },
            spec: { selector, ports: [{ name: "http", port, targetPort: "http", protocol: "TCP" }] },
        }),
        kube.Deployment({
            metadata: { name, namespace: MONITORING_NAMESPACE, labels },
            spec: {
                replicas: 1,
                strategy: { type: "Recreate" },
                selector: { matchLabels: selector },
                template: { metadata: { labels: { ...labels, ...selector } }, spec: pod },
            },
        }),
    ];
}

/** A claim on a `disk` volume: its size grows in place when the config grows it (the class allows expansion). */
function diskClaim(name: string, labels: Record<string, string>, sizeGb: number): KubeObject {
    return kube.PersistentVolumeClaim({
        metadata: { name, namespace: MONITORING_NAMESPACE, labels },
        spec: { storageClassName: DISK_STORAGE_CLASS, accessModes: ["ReadWriteOnce"], resources: { requests: { storage: `${sizeGb}Gi` } } },
    });
}

function httpContainer(name: string, image: string, port: number, rest: Omit<Container, "name" | "image" | "ports">): Container {
    return { name, image, ports: [{ name: "http", containerPort: port, protocol: "TCP" }], securityContext: restricted, ...rest };
}

function renderPrometheus(input: ObservabilityInput): KubeObject[] {
    const name = "prometheus";
    const ns = MONITORING_NAMESPACE;
    const labels = recommendedLabels("observability", name);
    const config = renderPrometheusConfig({
        stage: input.stage,
        controllers: input.controllers,
        alertmanager: svc("alertmanager", ALERTMANAGER_PORT),
        kubeStateMetrics: svc("kube-state-metrics", KSM_PORT),
        ingressNamespace: INGRESS_NAMESPACE,
    });
    const rules = renderAlertRules({ renewBeforeDays: input.renewBeforeDays, etcdMembers: input.controllers.length });
    // Keep 15% of the volume free: past retention.size Prometheus deletes the oldest blocks before the disk fills.
    const retentionSize = `${Math.floor(input.metrics.diskGb * 0.85)}GB`;
    return [
        kube.ServiceAccount({ metadata: { name, namespace: ns, labels } }),
        kube.ClusterRole({
            metadata: { name, labels },
            rules: [
                { apiGroups: [""], resources: ["nodes", "services", "endpoints", "pods"], verbs: ["get", "list", "watch"] },
                { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
                // The kubelets' /metrics and /metrics/cadvisor, and nothing else of the kubelet API.
                { apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] },
                // The API server's, controller-manager's and scheduler's /metrics.
                { nonResourceURLs: ["/metrics"], verbs: ["get"] },
            ],
        }),
        kube.ClusterRoleBinding({
            metadata: { name, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
            subjects: [{ kind: "ServiceAccount", name, namespace: ns }],
        }),
        kube.ConfigMap({ metadata: { name: "prometheus-config", namespace: ns, labels }, data: { "prometheus.yml": config } }),
        kube.ConfigMap({ metadata: { name: "prometheus-rules", namespace: ns, labels }, data: { "platform.yml": rules } }),
        kube.ConfigMap({
            metadata: { name: "prometheus-certificate-rules", namespace: ns, labels },
            data: { "certificates.yml": input.certificateRules },
        }),
        kube.ConfigMap({
            metadata: { name: "prometheus-targets", namespace: ns, labels },
            data: { [OUTSIDE_TARGETS_FILE]: input.outsideTargets },
        }),
        kube.Secret({
            metadata: { name: "prometheus-etcd-client", namespace: ns, labels },
            type: "kubernetes.io/tls",
            stringData: { "ca.crt": input.etcdClient.ca, "tls.crt": input.etcdClient.certificate, "tls.key": input.etcdClient.key },
        }),
        diskClaim("prometheus-data", labels, input.metrics.diskGb),
        ...singleton(name, labels, PROMETHEUS_PORT, {
            serviceAccountName: name,
            securityContext: podRunsAs(65534),
            containers: [
                httpContainer(name, versions.images.prometheus, PROMETHEUS_PORT, {
                    args: [
                        `--config.file=${PROMETHEUS_PATHS.config}`,
                        "--storage.tsdb.path=/prometheus",
                        `--storage.tsdb.retention.time=${input.metrics.retentionDays}d`,
                        `--storage.tsdb.retention.size=${retentionSize}`,
                        // ConfigMaps change under the running pod (a new certificate, a new rule): reload them.
                        "--enable-feature=auto-reload-config",
                        "--config.auto-reload-interval=60s",
                    ],
                    readinessProbe: { httpGet: { path: "/-/ready", port: "http" }, periodSeconds: 10 },
                    livenessProbe: { httpGet: { path: "/-/healthy", port: "http" }, periodSeconds: 30, failureThreshold: 10 },
                    resources: { requests: { cpu: "250m", memory: input.metrics.memory }, limits: { memory: input.metrics.memory } },
                    volumeMounts: [
                        { name: "config", mountPath: "/etc/prometheus/prometheus.yml", subPath: "prometheus.yml" },
                        { name: "rules", mountPath: PROMETHEUS_PATHS.rulesDir },
                        { name: "certificate-rules", mountPath: PROMETHEUS_PATHS.certificateRulesDir },
                        { name: "targets", mountPath: PROMETHEUS_PATHS.targetsDir },
                        { name: "etcd-client", mountPath: PROMETHEUS_PATHS.etcdTlsDir, readOnly: true },
                        { name: "data", mountPath: "/prometheus" },
                    ],
                }),
            ],
            volumes: [
                { name: "config", configMap: { name: "prometheus-config" } },
                { name: "rules", configMap: { name: "prometheus-rules" } },
                { name: "certificate-rules", configMap: { name: "prometheus-certificate-rules" } },
                { name: "targets", configMap: { name: "prometheus-targets" } },
                { name: "etcd-client", secret: { secretName: "prometheus-etcd-client", defaultMode: 0o400 } },
                { name: "data", persistentVolumeClaim: { claimName: "prometheus-data" } },
            ],
        }),
    ];
}

function renderAlertmanager(input: ObservabilityInput): KubeObject[] {
    const name = "alertmanager";
    const labels = recommendedLabels("observability", name);
    return [
        kube.Secret({
            metadata: { name: "alertmanager-config", namespace: MONITORING_NAMESPACE, labels },
            stringData: { "alertmanager.yml": input.alertmanagerConfig },
        }),
        ...singleton(name, labels, ALERTMANAGER_PORT, {
            securityContext: podRunsAs(65534),
            automountServiceAccountToken: false,
            containers: [
                httpContainer(name, versions.images.alertmanager, ALERTMANAGER_PORT, {
                    args: ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager", "--cluster.listen-address="],
                    readinessProbe: { httpGet: { path: "/-/ready", port: "http" }, periodSeconds: 10 },
                    resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                    volumeMounts: [
                        { name: "config", mountPath: "/etc/alertmanager", readOnly: true },
                        // Silences and notification state: lost with the pod (documented), so no disk to pay for.
                        { name: "data", mountPath: "/alertmanager" },
                    ],
                }),
            ],
            volumes: [
                { name: "config", secret: { secretName: "alertmanager-config" } },
                { name: "data", emptyDir: {} },
            ],
        }),
    ];
}

/** The Kubernetes objects kube-state-metrics turns into series (read-only, cluster-wide). */
const KSM_RESOURCES: readonly [string, readonly string[]][] = [
    [
        "",
        [
            "nodes",
            "pods",
            "services",
            "endpoints",
            "namespaces",
            "persistentvolumes",
            "persistentvolumeclaims",
            "resourcequotas",
            "replicationcontrollers",
            "limitranges",
            "configmaps",
            "secrets",
        ],
    ],
    ["apps", ["deployments", "daemonsets", "statefulsets", "replicasets"]],
    ["batch", ["jobs", "cronjobs"]],
    ["autoscaling", ["horizontalpodautoscalers"]],
    ["policy", ["poddisruptionbudgets"]],
    ["storage.k8s.io", ["storageclasses", "volumeattachments"]],
    ["networking.k8s.io", ["ingresses", "networkpolicies"]],
    ["coordination.k8s.io", ["leases"]],
    ["discovery.k8s.io", ["endpointslices"]],
    ["certificates.k8s.io", ["certificatesigningrequests"]],
];

function renderKubeStateMetrics(): KubeObject[] {
    const name = "kube-state-metrics";
    const ns = MONITORING_NAMESPACE;
    const labels = recommendedLabels("observability", name);
    return [
        kube.ServiceAccount({ metadata: { name, namespace: ns, labels } }),
        kube.ClusterRole({
            metadata: { name, labels },
            rules: KSM_RESOURCES.map(([group, resources]) => ({ apiGroups: [group], resources: [...resources], verbs: ["list", "watch"] })),
        }),
        kube.ClusterRoleBinding({
            metadata: { name, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
            subjects: [{ kind: "ServiceAccount", name, namespace: ns }],
        }),
        ...singleton(name, labels, KSM_PORT, {
            serviceAccountName: name,
            securityContext: { runAsUser: 65534, runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
                httpContainer(name, versions.images.kubeStateMetrics, KSM_PORT, {
                    args: [`--port=${KSM_PORT}`, "--telemetry-port=8081", `--resources=${KSM_RESOURCES.flatMap(([, r]) => r).join(",")}`],
                    readinessProbe: { httpGet: { path: "/readyz", port: 8081 }, periodSeconds: 10 },
                    livenessProbe: { httpGet: { path: "/livez", port: "http" }, periodSeconds: 30 },
                    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
                }),
            ],
        }).map((o) =>
            // The readiness probe's port must be declared too.
            o.kind === "Deployment" ? withExtraPort(o, { name: "telemetry", containerPort: 8081, protocol: "TCP" }) : o,
        ),
    ];
}

function withExtraPort(deployment: KubeObject, port: { name: string; containerPort: number; protocol: string }): KubeObject {
    const spec = deployment.spec as { template: { spec: PodSpec } };
    const [first, ...rest] = spec.template.spec.containers as Container[];
    const container = { ...first, ports: [...((first.ports as object[]) ?? []), port] } as Container;
    return {
        ...deployment,
        spec: { ...spec, template: { ...spec.template, spec: { ...spec.template.spec, containers: [container, ...rest] } } },
    };
}

/** node_exporter on every Kubernetes node's host network (the bastion and the NFS node run it under podman). */
function renderNodeExporter(): KubeObject[] {
    const name = "node-exporter";
    const labels = recommendedLabels("observability", name);
    return [
        nodeAgentDaemonSet(name, AGENTS_NAMESPACE, labels, {
            // The node's own network and processes are what it measures.
            hostNetwork: true,
            hostPID: true,
            // Fedora CoreOS labels the host's files for the host: the exporter reads them as a super-privileged container.
            securityContext: {
                runAsUser: 65534,
                runAsNonRoot: true,
                seLinuxOptions: { type: "spc_t" },
                seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [
                {
                    name,
                    image: versions.images.nodeExporter,
                    args: [
                        "--path.rootfs=/host/root",
                        `--web.listen-address=:${METRICS_PORTS.nodeExporter}`,
                        `--collector.textfile.directory=/host/root${NODE_EXPORTER_TEXTFILE_DIR}`,
                        "--collector.filesystem.mount-points-exclude=^/(dev|proc|run/credentials/.+|sys|var/lib/containers/.+|var/lib/kubelet/.+)($|/)",
                    ],
                    ports: [{ name: "metrics", containerPort: METRICS_PORTS.nodeExporter, protocol: "TCP" }],
                    readinessProbe: { httpGet: { path: "/", port: "metrics" }, periodSeconds: 30 },
                    resources: { requests: { cpu: "20m", memory: "32Mi" }, limits: { memory: "128Mi" } },
                    securityContext: {
                        allowPrivilegeEscalation: false,
                        readOnlyRootFilesystem: true,
                        capabilities: { drop: ["ALL"] },
                    },
                    volumeMounts: [{ name: "root", mountPath: "/host/root", readOnly: true, mountPropagation: "HostToContainer" }],
                },
            ],
            volumes: [{ name: "root", hostPath: { path: "/", type: "Directory" } }],
        }),
    ];
}

function renderGrafana(input: ObservabilityInput): KubeObject[] {
    const name = "grafana";
    const ns = MONITORING_NAMESPACE;
    const labels = recommendedLabels("observability", name);
    const datasources = [
        {
            name: "Prometheus",
            type: "prometheus",
            uid: PROMETHEUS_DATASOURCE_UID,
            access: "proxy",
            url: `http://${svc("prometheus", PROMETHEUS_PORT)}`,
            isDefault: true,
            editable: false,
        },
        ...(input.logs.destination.kind === "loki"
            ? [
                  {
                      name: "Loki",
                      type: "loki",
                      uid: LOKI_DATASOURCE_UID,
                      access: "proxy",
                      url: `http://${svc("loki", LOKI_PORT)}`,
                      editable: false,
                  },
              ]
            : []),
    ];
    const provider = {
        apiVersion: 1,
        providers: [
            {
                name: "platform",
                folder: "Platform",
                type: "file",
                disableDeletion: true,
                allowUiUpdates: false,
                options: { path: "/var/lib/grafana-dashboards" },
            },
        ],
    };
    const objects: KubeObject[] = [
        kube.Secret({ metadata: { name: "grafana-admin", namespace: ns, labels }, stringData: { password: input.grafanaAdminPassword } }),
        kube.ConfigMap({
            metadata: { name: "grafana-provisioning", namespace: ns, labels },
            data: {
                "datasources.yml": JSON.stringify({ apiVersion: 1, datasources }, null, 2),
                "dashboards.yml": JSON.stringify(provider, null, 2),
            },
        }),
        kube.ConfigMap({
            metadata: { name: "grafana-dashboards", namespace: ns, labels },
            data: Object.fromEntries(DASHBOARDS.map((d) => [`${d.uid}.json`, dashboardJson(d)])),
        }),
        ...singleton(name, labels, GRAFANA_PORT, {
            automountServiceAccountToken: false,
            securityContext: podRunsAs(472),
            containers: [
                httpContainer(name, versions.images.grafana, GRAFANA_PORT, {
                    env: [
                        { name: "GF_SECURITY_ADMIN_USER", value: "admin" },
                        { name: "GF_SECURITY_ADMIN_PASSWORD", valueFrom: { secretKeyRef: { name: "grafana-admin", key: "password" } } },
                        { name: "GF_AUTH_ANONYMOUS_ENABLED", value: "false" },
                        { name: "GF_USERS_ALLOW_SIGN_UP", value: "false" },
                        { name: "GF_ANALYTICS_REPORTING_ENABLED", value: "false" },
                        { name: "GF_ANALYTICS_CHECK_FOR_UPDATES", value: "false" },
                        { name: "GF_PLUGINS_PLUGIN_ADMIN_ENABLED", value: "false" },
                        { name: "GF_PATHS_PROVISIONING", value: "/etc/grafana/provisioning" },
                        ...(input.grafanaHost
                            ? [{ name: "GF_SERVER_ROOT_URL", value: `${input.ingress.https ? "https" : "http"}://${input.grafanaHost}/` }]
                            : []),
                        ...(input.ingress.https ? [{ name: "GF_SECURITY_COOKIE_SECURE", value: "true" }] : []),
                    ],
                    readinessProbe: { httpGet: { path: "/api/health", port: "http" }, periodSeconds: 10 },
                    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
                    volumeMounts: [
                        {
                            name: "provisioning",
                            mountPath: "/etc/grafana/provisioning/datasources/datasources.yml",
                            subPath: "datasources.yml",
                        },
                        {
                            name: "provisioning",
                            mountPath: "/etc/grafana/provisioning/dashboards/dashboards.yml",
                            subPath: "dashboards.yml",
                        },
                        { name: "dashboards", mountPath: "/var/lib/grafana-dashboards" },
                        // Sessions and users only: every dashboard and data source comes from the ConfigMaps above.
                        { name: "data", mountPath: "/var/lib/grafana" },
                        { name: "tmp", mountPath: "/tmp" },
                    ],
                }),
            ],
            volumes: [
                { name: "provisioning", configMap: { name: "grafana-provisioning" } },
                { name: "dashboards", configMap: { name: "grafana-dashboards" } },
                { name: "data", emptyDir: {} },
                { name: "tmp", emptyDir: {} },
            ],
        }),
    ];
    if (input.grafanaHost) {
        objects.push(
            appIngress(name, labels, { host: input.grafanaHost, path: "/" }, name, {
                namespace: ns,
                ingress: { className: INGRESS_CLASS, rateLimitRps: input.ingress.rateLimitRps, https: input.ingress.https },
            }),
        );
    }
    return objects;
}

function renderLoki(input: ObservabilityInput): KubeObject[] {
    const name = "loki";
    const labels = recommendedLabels("observability", name);
    return [
        kube.ConfigMap({
            metadata: { name: "loki-config", namespace: MONITORING_NAMESPACE, labels },
            data: { "loki.yaml": renderLokiConfig(input.logs.retentionDays) },
        }),
        diskClaim("loki-data", labels, input.logs.diskGb),
        ...singleton(name, labels, LOKI_PORT, {
            automountServiceAccountToken: false,
            securityContext: podRunsAs(10001),
            containers: [
                httpContainer(name, versions.images.loki, LOKI_PORT, {
                    args: ["-config.file=/etc/loki/loki.yaml", "-target=all"],
                    readinessProbe: { httpGet: { path: "/ready", port: "http" }, periodSeconds: 10, initialDelaySeconds: 15 },
                    resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { memory: "2Gi" } },
                    volumeMounts: [
                        { name: "config", mountPath: "/etc/loki", readOnly: true },
                        { name: "data", mountPath: LOKI_DATA_DIR },
                    ],
                }),
            ],
            volumes: [
                { name: "config", configMap: { name: "loki-config" } },
                { name: "data", persistentVolumeClaim: { claimName: "loki-data" } },
            ],
        }),
    ];
}

/** The log shipper on every node: each container's log file and the node's journal. */
function renderLogShipper(input: ObservabilityInput): KubeObject[] {
    const name = "log-shipper";
    const ns = AGENTS_NAMESPACE;
    const labels = recommendedLabels("observability", name);
    const sls = input.logs.destination.kind === "sls";
    if (sls && input.slsKafkaPassword === undefined) {
        throw new Error("observability: logs go to Log Service but no slsKafkaPassword was given");
    }
    return [
        kube.ConfigMap({
            metadata: { name, namespace: ns, labels },
            data: { "config.yaml": renderShipperConfig({ stage: input.stage, destination: input.logs.destination }) },
        }),
        ...(sls
            ? [
                  kube.Secret({
                      metadata: { name: `${name}-sls`, namespace: ns, labels },
                      stringData: { password: input.slsKafkaPassword ?? "" },
                  }),
              ]
            : []),
        nodeAgentDaemonSet(name, ns, labels, {
            // Root, to read every pod's log and to run the node's journalctl chrooted into its root
            // (SYS_CHROOT); spc_t, because SELinux keeps containers out of the host's log files.
            securityContext: { runAsUser: 0, seLinuxOptions: { type: "spc_t" }, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
                {
                    name,
                    image: versions.images.otelCollector,
                    args: ["--config=/etc/otelcol/config.yaml"],
                    env: [
                        podFieldEnv(SHIPPER_ENV.nodeName, "spec.nodeName"),
                        podFieldEnv(SHIPPER_ENV.podIp, "status.podIP"),
                        ...(sls
                            ? [
                                  {
                                      name: SHIPPER_ENV.slsPassword,
                                      valueFrom: { secretKeyRef: { name: `${name}-sls`, key: "password" } },
                                  },
                              ]
                            : []),
                    ],
                    ports: [
                        { name: "health", containerPort: SHIPPER_HEALTH_PORT, protocol: "TCP" },
                        { name: "metrics", containerPort: SHIPPER_METRICS_PORT, protocol: "TCP" },
                    ],
                    readinessProbe: { httpGet: { path: "/", port: "health" }, periodSeconds: 10 },
                    livenessProbe: { httpGet: { path: "/", port: "health" }, periodSeconds: 30 },
                    resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
                    securityContext: {
                        allowPrivilegeEscalation: false,
                        readOnlyRootFilesystem: true,
                        capabilities: { drop: ["ALL"], add: ["SYS_CHROOT", "DAC_READ_SEARCH"] },
                    },
                    volumeMounts: [
                        { name: "config", mountPath: "/etc/otelcol", readOnly: true },
                        { name: "pod-logs", mountPath: SHIPPER_PATHS.podLogs, readOnly: true },
                        {
                            name: "host-root",
                            mountPath: SHIPPER_PATHS.hostRoot,
                            readOnly: true,
                            mountPropagation: "HostToContainer",
                        },
                        { name: "state", mountPath: SHIPPER_PATHS.state },
                    ],
                },
            ],
            volumes: [
                { name: "config", configMap: { name } },
                { name: "pod-logs", hostPath: { path: SHIPPER_PATHS.podLogs, type: "DirectoryOrCreate" } },
                { name: "host-root", hostPath: { path: "/", type: "Directory" } },
                { name: "state", hostPath: { path: SHIPPER_PATHS.state, type: "DirectoryOrCreate" } },
            ],
        }),
    ];
}

/** Every object of observability, for a stage that has it on. */
export function renderObservabilityObjects(input: ObservabilityInput): KubeObject[] {
    const labels = recommendedLabels("observability", "namespace");
    return [
        kube.Namespace({ metadata: { name: MONITORING_NAMESPACE, labels: { ...labels, ...podSecurityLabels("restricted") } } }),
        // The node agents read the host (host network and PID namespace, hostPath, spc_t): only privileged admits them.
        kube.Namespace({ metadata: { name: AGENTS_NAMESPACE, labels: { ...labels, ...podSecurityLabels("privileged") } } }),
        ...renderPrometheus(input),
        ...renderAlertmanager(input),
        ...renderKubeStateMetrics(),
        ...renderNodeExporter(),
        ...renderGrafana(input),
        ...(input.logs.destination.kind === "loki" ? renderLoki(input) : []),
        ...renderLogShipper(input),
        ...renderObservabilityNetworkPolicies(
            input.networks,
            {
                namespace: MONITORING_NAMESPACE,
                agentsNamespace: AGENTS_NAMESPACE,
                prometheus: { labels: PROMETHEUS_PODS.labels, port: PROMETHEUS_PORT },
                alertmanager: { labels: selectorLabels("alertmanager"), port: ALERTMANAGER_PORT },
                kubeStateMetrics: { labels: selectorLabels("kube-state-metrics"), port: KSM_PORT },
                grafana: { labels: selectorLabels("grafana"), port: GRAFANA_PORT },
                logShipper: { labels: selectorLabels("log-shipper") },
                ...(input.logs.destination.kind === "loki"
                    ? { loki: { labels: selectorLabels("loki"), port: LOKI_PORT } }
                    : { slsKafkaPort: SLS_KAFKA_PORT }),
                grafanaRouted: input.grafanaHost !== "",
                appsNamespace: APPS_NAMESPACE,
            },
            { namespace: INGRESS_NAMESPACE, labels: INGRESS_POD_LABELS },
        ),
    ];
}
