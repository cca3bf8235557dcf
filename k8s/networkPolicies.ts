/**
 * Network policy: the enforcer beside flannel, and the policies of the apps and the platform's namespaces.
 *
 * flannel moves packets but enforces nothing. kube-network-policies (Kubernetes SIG Network) enforces the
 * NetworkPolicy API on any CNI: one DaemonSet that sends the first packet of each connection of a selected pod to
 * userspace through nftables' NFQUEUE and lets conntrack carry the rest. No CRDs, no datastore, no change to
 * flannel's routing or masquerading, and a ClusterRole that only reads pods, namespaces and policies (Calico's
 * policy-only mode would add calico-node with its CRDs, a wider ClusterRole and iptables chains of its own beside
 * flannel's). It runs fail-closed: a selected pod's new connections are dropped while the enforcer is down, rather
 * than let through unchecked. docs/security.md explains the choice and what the policies allow.
 */
import { API_SERVER_PORT, KUBELET_PORT, METRICS_PORTS } from "../layout/cluster";
import { versions } from "../versions";
import { KubeObject, NetworkPolicyPeer, NetworkPolicyRule, PartOf, kube, podFieldEnv, recommendedLabels, selectorLabels } from "./objects";
import { ApiServerEndpoint, NODE_AGENT_NAMESPACE, apiServerEnv, nodeAgentDaemonSets } from "./nodeNetwork";

/** Alibaba Cloud's metadata service: what a pod must never reach (instance identity, user data, RAM credentials). */
export const METADATA_ADDRESS = "100.100.100.200";

/** What every pod's egress may reach outside the cluster, whatever else its policy says. */
export interface ClusterNetworks {
    /** The pod network: app pods reach other pods only where a policy says so. */
    readonly podCidr: string;
    /** The `kubernetes` Service's address (before kube-proxy's translation). */
    readonly apiServiceIp: string;
    /** The VPC: the controllers' API servers (after kube-proxy's translation), the NFS server, the kubelets. */
    readonly vpcCidr: string;
}

/** The enforcer: kube-network-policies on every node, fail-closed. */
export function renderNetworkPolicyEnforcer(api: ApiServerEndpoint): KubeObject[] {
    const name = "kube-network-policies";
    const namespace = NODE_AGENT_NAMESPACE;
    const labels = recommendedLabels("platform", name);
    return [
        kube.ServiceAccount({ metadata: { name, namespace, labels } }),
        kube.ClusterRole({
            metadata: { name, labels },
            rules: [
                { apiGroups: [""], resources: ["pods", "namespaces"], verbs: ["list", "watch"] },
                { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["list", "watch"] },
            ],
        }),
        kube.ClusterRoleBinding({
            metadata: { name, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
            subjects: [{ kind: "ServiceAccount", name, namespace }],
        }),
        ...nodeAgentDaemonSets(name, namespace, labels, api, (at) => ({
            containers: [
                {
                    name,
                    image: versions.images.networkPolicies,
                    command: [
                        "/bin/netpol",
                        "--hostname-override=$(NODE_NAME)",
                        "--nfqueue-id=98",
                        // Fail closed: with the enforcer down, a selected pod's new connections wait instead of passing.
                        "--fail-open=false",
                        // Metrics on the node's loopback only (the default listens on every address of the host).
                        "--metrics-bind-address=127.0.0.1:9080",
                        "--v=2",
                    ],
                    env: [podFieldEnv("NODE_NAME", "spec.nodeName"), ...apiServerEnv(at.api)],
                    resources: { requests: { cpu: "100m", memory: "50Mi" } },
                    // It programs nftables and reads pods' network namespaces on the host.
                    securityContext: { privileged: true, capabilities: { add: ["NET_ADMIN"] } },
                    volumeMounts: [
                        { name: "nri-plugin", mountPath: "/var/run/nri" },
                        { name: "netns", mountPath: "/var/run/netns", mountPropagation: "HostToContainer" },
                    ],
                },
            ],
            volumes: [
                { name: "nri-plugin", hostPath: { path: "/var/run/nri" } },
                { name: "netns", hostPath: { path: "/var/run/netns" } },
            ],
        })),
    ];
}

/** Selects the pods of namespace `namespace` whose labels include `labels` (all pods for `{}`). */
export function podsIn(namespace: string, labels: Record<string, string> = {}): NetworkPolicyPeer {
    return { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } }, podSelector: { matchLabels: labels } };
}

/** Cluster DNS: CoreDNS's pods (k8s-app=kube-dns) on 53, UDP and TCP. */
const DNS: NetworkPolicyRule = {
    to: [podsIn("kube-system", { "k8s-app": "kube-dns" })],
    ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
    ],
};

/** The API server, before (the `kubernetes` Service) and after (a controller's 6443) kube-proxy's translation. */
function apiServer(net: ClusterNetworks): NetworkPolicyRule[] {
    return [
        { to: [{ ipBlock: { cidr: `${net.apiServiceIp}/32` } }], ports: [{ protocol: "TCP", port: 443 }] },
        { to: [{ ipBlock: { cidr: net.vpcCidr } }], ports: [{ protocol: "TCP", port: 6443 }] },
    ];
}

/** Nothing in or out of a namespace's pods unless another policy of it says so. */
function defaultDeny(namespace: string, partOf: PartOf): KubeObject {
    return kube.NetworkPolicy({
        metadata: { name: "default-deny", namespace, labels: recommendedLabels(partOf, "default-deny") },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });
}

/** An app as its network policy sees it. */
export interface AppEndpoint {
    readonly name: string;
    /** The Service's target: the container port named `http`. */
    readonly port: number;
    /** Published through the ingress. */
    readonly routed: boolean;
    /** The apps it calls (a React app's `apiServices`). */
    readonly calls: readonly string[];
    /** A Spring Boot app's management (actuator) port, which Prometheus scrapes. */
    readonly managementPort?: number;
}

/** Where a component's pods are: the ingress controller's (k8s/ingress.ts), Prometheus's (k8s/observability.ts). */
export interface IngressPods {
    readonly namespace: string;
    readonly labels: Record<string, string>;
}

/**
 * The apps namespace: default deny; every app pod may resolve names and reach anything outside the pod network except
 * the metadata service; each app takes connections on its http port from the ingress controller (when routed) and
 * from the apps that declare it, and nothing else; its management port only from Prometheus's pods (`scraper`, when the
 * stage has observability on), never from the gateway or another app.
 */
export function renderAppNetworkPolicies(
    namespace: string,
    apps: readonly AppEndpoint[],
    net: ClusterNetworks,
    ingress: IngressPods,
    scraper?: IngressPods,
): KubeObject[] {
    const appPods = (app: string) => ({ "app.kubernetes.io/name": app });
    const objects: KubeObject[] = [
        defaultDeny(namespace, "apps"),
        kube.NetworkPolicy({
            metadata: { name: "dns-and-outside", namespace, labels: recommendedLabels("apps", "dns-and-outside") },
            spec: {
                podSelector: {},
                policyTypes: ["Egress"],
                egress: [DNS, { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [net.podCidr, `${METADATA_ADDRESS}/32`] } }] }],
            },
        }),
    ];
    for (const app of apps) {
        const callers = apps.filter((a) => a.calls.includes(app.name));
        const from: NetworkPolicyPeer[] = [
            ...(app.routed ? [podsIn(ingress.namespace, ingress.labels)] : []),
            ...callers.map((c) => ({ podSelector: { matchLabels: appPods(c.name) } })),
        ];
        const to = app.calls.map((callee) => {
            const found = apps.find((a) => a.name === callee);
            // The config loader refuses a call to an app that does not exist; reaching this means unchecked settings.
            if (!found) throw new Error(`apps: app ${app.name} calls ${callee}, which is not an app of the stage`);
            return found;
        });
        objects.push(
            kube.NetworkPolicy({
                metadata: { name: app.name, namespace, labels: recommendedLabels("apps", app.name) },
                spec: {
                    podSelector: { matchLabels: appPods(app.name) },
                    policyTypes: ["Ingress", "Egress"],
                    ingress: [
                        ...(from.length === 0 ? [] : [{ from, ports: [{ protocol: "TCP", port: app.port }] }]),
                        ...(scraper && app.managementPort !== undefined
                            ? [
                                  {
                                      from: [podsIn(scraper.namespace, scraper.labels)],
                                      ports: [{ protocol: "TCP", port: app.managementPort }],
                                  },
                              ]
                            : []),
                    ],
                    egress: to.map((callee) => ({
                        to: [{ podSelector: { matchLabels: appPods(callee.name) } }],
                        ports: [{ protocol: "TCP", port: callee.port }],
                    })),
                },
            }),
        );
    }
    return objects;
}

/** A platform component's pods and what they need. */
interface PlatformPolicy {
    readonly name: string;
    readonly namespace: string;
    readonly pods: Record<string, string>;
    readonly ingress: NetworkPolicyRule[];
    readonly egress: NetworkPolicyRule[];
}

/**
 * The platform's own pods that are not on the host network, each limited to what it does. Host-network agents
 * (flannel, kube-proxy, the enforcer, ingress-nginx's, the control plane) are the node itself, which network policy
 * does not govern. Traffic from a node to a pod arrives masqueraded by flannel (from the node's flannel address, inside
 * the pod network), so where a node is the client (Zincati to FleetLock, the API server to metrics-server), the port
 * is open to every source: those servers authenticate their callers.
 */
export function renderPlatformNetworkPolicies(
    net: ClusterNetworks,
    nfsNamespace: string,
    fleetlockNamespace: string,
    ingress: IngressPods,
): KubeObject[] {
    const everyone: NetworkPolicyPeer[] = [{ ipBlock: { cidr: "0.0.0.0/0" } }, { namespaceSelector: {} }];
    const policies: PlatformPolicy[] = [
        {
            name: "coredns",
            namespace: "kube-system",
            pods: { "k8s-app": "kube-dns" },
            ingress: [{ from: everyone, ports: [...(DNS.ports ?? []), { protocol: "TCP", port: 9153 }] }],
            // Upstream resolvers (Alibaba's are 100.100.2.136/138) and stub domains: DNS only, anywhere.
            egress: [{ ports: DNS.ports }, ...apiServer(net)],
        },
        {
            name: "metrics-server",
            namespace: "kube-system",
            pods: selectorLabels("metrics-server"),
            // The aggregation layer (kube-apiserver on the host network) calls it; it checks the front proxy's certificate.
            ingress: [{ from: everyone, ports: [{ protocol: "TCP", port: 10250 }] }],
            egress: [DNS, ...apiServer(net), { to: [{ ipBlock: { cidr: net.vpcCidr } }], ports: [{ protocol: "TCP", port: 10250 }] }],
        },
        {
            name: "fleetlock",
            namespace: fleetlockNamespace,
            pods: selectorLabels("fleetlock"),
            // Zincati on every node (the host network); FleetLock takes each node's lock by its machine id.
            ingress: [{ from: everyone, ports: [{ protocol: "TCP", port: 8080 }] }],
            egress: [DNS, ...apiServer(net)],
        },
        {
            name: "nfs-provisioner",
            namespace: nfsNamespace,
            pods: selectorLabels("nfs-provisioner"),
            ingress: [],
            egress: [DNS, ...apiServer(net), { to: [{ ipBlock: { cidr: net.vpcCidr } }], ports: [{ protocol: "TCP", port: 2049 }] }],
        },
        {
            name: "ingress-nginx",
            namespace: ingress.namespace,
            pods: ingress.labels,
            // The public gateway: HTTP and HTTPS from anywhere (the edge security group admits them), health from the kubelet.
            ingress: [{ from: everyone, ports: [80, 443, 10254].map((port) => ({ protocol: "TCP", port })) }],
            // The apps' pods (their own policies say which ports), DNS, the API server.
            egress: [DNS, ...apiServer(net), { to: [podsIn("apps")] }],
        },
    ];
    return renderPolicies("platform", [nfsNamespace, fleetlockNamespace, ingress.namespace], policies);
}

/** Default deny in each namespace, then one policy per component. */
function renderPolicies(partOf: PartOf, namespaces: readonly string[], policies: readonly PlatformPolicy[]): KubeObject[] {
    return [
        ...[...new Set(namespaces)].map((ns) => defaultDeny(ns, partOf)),
        ...policies.map((p) =>
            kube.NetworkPolicy({
                metadata: { name: p.name, namespace: p.namespace, labels: recommendedLabels(partOf, p.name) },
                spec: { podSelector: { matchLabels: p.pods }, policyTypes: ["Ingress", "Egress"], ingress: p.ingress, egress: p.egress },
            }),
        ),
    ];
}

/** Observability's pods as its network policies see them (k8s/observability.ts). */
export interface ObservabilityPods {
    /** The namespace of Prometheus, Alertmanager, kube-state-metrics, Grafana and Loki. */
    readonly namespace: string;
    /** The node agents' namespace; only the log shipper there is in the pod network (node_exporter is the node). */
    readonly agentsNamespace: string;
    /** Each component's pod labels and the port it serves. */
    readonly prometheus: { readonly labels: Record<string, string>; readonly port: number };
    readonly alertmanager: { readonly labels: Record<string, string>; readonly port: number };
    readonly kubeStateMetrics: { readonly labels: Record<string, string>; readonly port: number };
    readonly grafana: { readonly labels: Record<string, string>; readonly port: number };
    readonly logShipper: { readonly labels: Record<string, string> };
    /** Loki when logs stay in the cluster; undefined when they go to Log Service. */
    readonly loki?: { readonly labels: Record<string, string>; readonly port: number };
    /** Log Service's Kafka port (the shipper's destination outside the cluster) when logs go there. */
    readonly slsKafkaPort?: number;
    /** Whether Grafana is published through the ingress (a host is set). */
    readonly grafanaRouted: boolean;
    /** The namespace of the apps whose `management` ports Prometheus scrapes. */
    readonly appsNamespace: string;
}

/**
 * The `monitoring` and `monitoring-agents` namespaces: default deny, and each component only the paths its
 * configuration uses (k8s/prometheusConfig.ts for Prometheus's scrapes). The nodes' ports Prometheus scrapes are on
 * their host network (node_exporter, the kubelets, etcd's metrics listener, controller-manager, scheduler, the API
 * server), so they are named by the VPC and the port; the security groups admit them from the nodes only.
 */
export function renderObservabilityNetworkPolicies(net: ClusterNetworks, o: ObservabilityPods, ingress: IngressPods): KubeObject[] {
    const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: "TCP", port }));
    const mine = (labels: Record<string, string>) => podsIn(o.namespace, labels);
    // Receivers and Log Service: anywhere but the pod network and the metadata service, as the apps' outside.
    const outside: NetworkPolicyPeer = { ipBlock: { cidr: "0.0.0.0/0", except: [net.podCidr, `${METADATA_ADDRESS}/32`] } };
    const nodePorts = [
        METRICS_PORTS.nodeExporter,
        KUBELET_PORT,
        METRICS_PORTS.etcd,
        METRICS_PORTS.controllerManager,
        METRICS_PORTS.scheduler,
        API_SERVER_PORT,
    ];
    const policies: PlatformPolicy[] = [
        {
            name: "prometheus",
            namespace: o.namespace,
            pods: o.prometheus.labels,
            ingress: [{ from: [mine(o.grafana.labels)], ports: tcp(o.prometheus.port) }],
            egress: [
                DNS,
                // Discovery of nodes, endpoints and pods; the API server's own /metrics.
                ...apiServer(net),
                { to: [{ ipBlock: { cidr: net.vpcCidr } }], ports: tcp(...nodePorts) },
                { to: [mine(o.kubeStateMetrics.labels)], ports: tcp(o.kubeStateMetrics.port) },
                { to: [mine(o.alertmanager.labels)], ports: tcp(o.alertmanager.port) },
                { to: [podsIn(ingress.namespace, ingress.labels)], ports: tcp(METRICS_PORTS.ingressNginx) },
                // The apps' management ports: their own policies admit Prometheus there and nowhere else.
                { to: [podsIn(o.appsNamespace)] },
            ],
        },
        {
            name: "alertmanager",
            namespace: o.namespace,
            pods: o.alertmanager.labels,
            // Grafana's data sources are Prometheus and Loki only: Prometheus alone sends alerts and scrapes it.
            ingress: [{ from: [mine(o.prometheus.labels)], ports: tcp(o.alertmanager.port) }],
            // The receivers: webhooks, WeChat Work's API, SMTP servers.
            egress: [DNS, { to: [outside] }],
        },
        {
            name: "kube-state-metrics",
            namespace: o.namespace,
            pods: o.kubeStateMetrics.labels,
            ingress: [{ from: [mine(o.prometheus.labels)], ports: tcp(o.kubeStateMetrics.port) }],
            egress: apiServer(net),
        },
        {
            name: "grafana",
            namespace: o.namespace,
            pods: o.grafana.labels,
            ingress: o.grafanaRouted ? [{ from: [podsIn(ingress.namespace, ingress.labels)], ports: tcp(o.grafana.port) }] : [],
            egress: [
                DNS,
                { to: [mine(o.prometheus.labels)], ports: tcp(o.prometheus.port) },
                ...(o.loki ? [{ to: [mine(o.loki.labels)], ports: tcp(o.loki.port) }] : []),
            ],
        },
        ...(o.loki
            ? [
                  {
                      name: "loki",
                      namespace: o.namespace,
                      pods: o.loki.labels,
                      // The shipper is in the pod network (not the host's), so its pods can be named.
                      ingress: [
                          { from: [podsIn(o.agentsNamespace, o.logShipper.labels), mine(o.grafana.labels)], ports: tcp(o.loki.port) },
                      ],
                      egress: [],
                  },
              ]
            : []),
        {
            name: "log-shipper",
            namespace: o.agentsNamespace,
            pods: o.logShipper.labels,
            // Nothing scrapes its metrics; the kubelet's probes come from the node, which the enforcer lets through.
            ingress: [],
            egress: [
                DNS,
                ...(o.loki ? [{ to: [mine(o.loki.labels)], ports: tcp(o.loki.port) }] : []),
                ...(o.slsKafkaPort !== undefined ? [{ to: [outside], ports: tcp(o.slsKafkaPort) }] : []),
            ],
        },
    ];
    // The gateway's own policy (renderPlatformNetworkPolicies) lets it reach the apps only; policies add up, so this
    // one, beside it, opens Grafana's port.
    const gatewayToGrafana = kube.NetworkPolicy({
        metadata: { name: "ingress-nginx-to-grafana", namespace: ingress.namespace, labels: recommendedLabels("observability", "grafana") },
        spec: {
            podSelector: { matchLabels: ingress.labels },
            policyTypes: ["Egress"],
            egress: [{ to: [mine(o.grafana.labels)], ports: tcp(o.grafana.port) }],
        },
    });
    return [...renderPolicies("observability", [o.namespace, o.agentsNamespace], policies), ...(o.grafanaRouted ? [gatewayToGrafana] : [])];
}
