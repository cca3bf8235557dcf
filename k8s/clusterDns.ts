/**
 * Cluster DNS: CoreDNS, SkyDNS's maintained successor. The write-up's lesson was that an old SkyDNS release broke
 * service registration, so the image is the current release pinned in versions.ts. It answers at the 10th address
 * of the service CIDR, the address every kubelet was rendered with (clusterDNS).
 */
import { CLUSTER_DOMAIN } from "../layout/cluster";
import { versions } from "../versions";
import { KubeObject, kube, recommendedLabels, selectorLabels } from "./objects";
import { TOLERATE_CONTROLLERS } from "./scheduling";

/** What cluster DNS is rendered from (stage config: dns, and the derived Service IP); it serves CLUSTER_DOMAIN. */
export interface ClusterDnsSettings {
    /** The kube-dns Service's fixed ClusterIP (= kubelet clusterDNS). */
    readonly serviceIp: string;
    /** Resolvers for every name outside the cluster (Alibaba's VPC resolvers by default). */
    readonly upstreams: readonly string[];
    /** Domains answered by other resolvers ({"corp.example": ["10.0.0.2"]}). */
    readonly stubDomains: Readonly<Record<string, readonly string[]>>;
}

/** Prometheus metrics port of CoreDNS (its `prometheus` plugin). */
export const COREDNS_METRICS_PORT = 9153;
/** Two replicas on different nodes: one node's reboot (FleetLock drains one at a time) never stops DNS. */
export const COREDNS_REPLICAS = 2;

/** The Corefile: the cluster zone, then each stub domain as its own server block, sorted by domain. */
export function renderCorefile(s: Omit<ClusterDnsSettings, "serviceIp">): string {
    const main = [
        ".:53 {",
        "    errors",
        "    health {",
        "        lameduck 5s",
        "    }",
        "    ready",
        `    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {`,
        "        pods insecure",
        "        fallthrough in-addr.arpa ip6.arpa",
        "        ttl 30",
        "    }",
        `    prometheus :${COREDNS_METRICS_PORT}`,
        `    forward . ${s.upstreams.join(" ")} {`,
        "        max_concurrent 1000",
        "    }",
        "    cache 30",
        "    loop",
        "    reload",
        "    loadbalance",
        "}",
    ];
    const stubs = Object.keys(s.stubDomains)
        .sort()
        .flatMap((domain) => [`${domain}:53 {`, "    errors", "    cache 30", `    forward . ${s.stubDomains[domain].join(" ")}`, "}"]);
    return [...main, ...stubs].join("\n") + "\n";
}

export function renderClusterDns(s: ClusterDnsSettings): KubeObject[] {
    const name = "coredns";
    const namespace = "kube-system";
    // k8s-app=kube-dns is the label tools and NetworkPolicies conventionally select cluster DNS by.
    const selector = { ...selectorLabels(name), "k8s-app": "kube-dns" };
    const labels = recommendedLabels("platform", name);
    const roleName = "system:coredns";
    return [
        kube.ServiceAccount({ metadata: { name, namespace, labels } }),
        kube.ClusterRole({
            metadata: { name: roleName, labels },
            rules: [
                { apiGroups: [""], resources: ["endpoints", "services", "pods", "namespaces"], verbs: ["list", "watch"] },
                { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
            ],
        }),
        kube.ClusterRoleBinding({
            metadata: { name: roleName, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: roleName },
            subjects: [{ kind: "ServiceAccount", name, namespace }],
        }),
        kube.ConfigMap({ metadata: { name, namespace, labels }, data: { Corefile: renderCorefile(s) } }),
        kube.Service({
            // The name kube-dns is what clients and docs expect the cluster DNS Service to be called.
            metadata: {
                name: "kube-dns",
                namespace,
                labels: { ...labels, "k8s-app": "kube-dns" },
                annotations: { "prometheus.io/port": String(COREDNS_METRICS_PORT), "prometheus.io/scrape": "true" },
            },
            spec: {
                clusterIP: s.serviceIp,
                selector,
                ports: [
                    { name: "dns", port: 53, targetPort: "dns", protocol: "UDP" },
                    { name: "dns-tcp", port: 53, targetPort: "dns-tcp", protocol: "TCP" },
                    { name: "metrics", port: COREDNS_METRICS_PORT, targetPort: "metrics", protocol: "TCP" },
                ],
            },
        }),
        kube.Deployment({
            metadata: { name, namespace, labels },
            spec: {
                replicas: COREDNS_REPLICAS,
                selector: { matchLabels: selector },
                // No surge: with one replica per node, a surge pod could find no free node on a small stage.
                strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
                template: {
                    metadata: { labels: { ...labels, ...selector } },
                    spec: {
                        priorityClassName: "system-cluster-critical",
                        serviceAccountName: name,
                        // Resolve upstream names with the node's resolvers, not with itself.
                        dnsPolicy: "Default",
                        nodeSelector: { "kubernetes.io/os": "linux" },
                        // Controllers count as room too, so even a one-worker stage places both replicas.
                        tolerations: TOLERATE_CONTROLLERS,
                        affinity: {
                            podAntiAffinity: {
                                requiredDuringSchedulingIgnoredDuringExecution: [
                                    { labelSelector: { matchLabels: selector }, topologyKey: "kubernetes.io/hostname" },
                                ],
                            },
                        },
                        securityContext: {
                            seccompProfile: { type: "RuntimeDefault" },
                            // The image runs as a non-root user; this lets it bind port 53.
                            sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "53" }],
                        },
                        containers: [
                            {
                                name,
                                image: versions.images.coredns,
                                args: ["-conf", "/etc/coredns/Corefile"],
                                ports: [
                                    { name: "dns", containerPort: 53, protocol: "UDP" },
                                    { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
                                    { name: "metrics", containerPort: COREDNS_METRICS_PORT, protocol: "TCP" },
                                    { name: "liveness-probe", containerPort: 8080, protocol: "TCP" },
                                    { name: "readiness-probe", containerPort: 8181, protocol: "TCP" },
                                ],
                                livenessProbe: {
                                    httpGet: { path: "/health", port: "liveness-probe" },
                                    initialDelaySeconds: 60,
                                    timeoutSeconds: 5,
                                    failureThreshold: 5,
                                },
                                readinessProbe: { httpGet: { path: "/ready", port: "readiness-probe" } },
                                resources: { requests: { cpu: "100m", memory: "70Mi" }, limits: { memory: "170Mi" } },
                                securityContext: {
                                    allowPrivilegeEscalation: false,
                                    capabilities: { add: ["NET_BIND_SERVICE"], drop: ["ALL"] },
                                    readOnlyRootFilesystem: true,
                                },
                                volumeMounts: [{ name: "config", mountPath: "/etc/coredns", readOnly: true }],
                            },
                        ],
                        volumes: [{ name: "config", configMap: { name, items: [{ key: "Corefile", path: "Corefile" }] } }],
                    },
                },
            },
        }),
        kube.PodDisruptionBudget({
            metadata: { name, namespace, labels },
            spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
        }),
    ];
}
