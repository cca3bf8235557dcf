/**
 * The pod network on every node: flannel (VXLAN overlay, one /24 per node from the pod CIDR) and kube-proxy
 * (Service addresses). Both run before any Service address works, so both reach the API server at its real
 * address instead of the `kubernetes` Service IP.
 */
import { API_SERVER_PORT, FLANNEL_VXLAN_PORT } from "../layout/cluster";
import { NODE_ROLE_LABELS } from "../layout/roles";
import { versions } from "../versions";
import { EnvVar, KubeObject, PodSpec, kube, podFieldEnv, recommendedLabels, selectorLabels } from "./objects";
import { TOLERATE_EVERY_TAINT } from "./scheduling";

/** Where kube-proxy and flannel reach the API server: the internal load balancer, not the Service IP. */
export interface ApiServerEndpoint {
    readonly host: string;
    readonly port: number;
}

/**
 * Controllers reach their own apiserver on loopback: Alibaba's layer-4 load balancer drops the connections a backend
 * makes to its own listener (with one controller: every connection). So each node agent runs as two DaemonSets,
 * `<agent>` on every other node (through the load balancer) and `<agent>-controllers` on controllers (127.0.0.1),
 * the way the controllers' kubelets and control-plane components already reach it.
 */
export const LOCAL_API_SERVER: ApiServerEndpoint = { host: "127.0.0.1", port: API_SERVER_PORT };

/** Where one of an agent's two DaemonSets runs. */
interface AgentPlacement {
    readonly name: string;
    readonly api: ApiServerEndpoint;
    readonly nodeSelector: Record<string, string>;
    readonly affinity?: Record<string, unknown>;
}

/** The two placements of a node agent (see LOCAL_API_SERVER). */
export function agentPlacements(name: string, api: ApiServerEndpoint): AgentPlacement[] {
    const linux = { "kubernetes.io/os": "linux" };
    return [
        {
            name,
            api,
            nodeSelector: linux,
            affinity: {
                nodeAffinity: {
                    requiredDuringSchedulingIgnoredDuringExecution: {
                        nodeSelectorTerms: [{ matchExpressions: [{ key: NODE_ROLE_LABELS.controller, operator: "DoesNotExist" }] }],
                    },
                },
            },
        },
        { name: `${name}-controllers`, api: LOCAL_API_SERVER, nodeSelector: { ...linux, [NODE_ROLE_LABELS.controller]: "true" } },
    ];
}

/**
 * The two DaemonSets of a node agent (see LOCAL_API_SERVER): host network, node-critical, on every node whatever
 * its taints; `pod` gives the containers and volumes for the API endpoint of each placement.
 */
export function nodeAgentDaemonSets(
    name: string,
    namespace: string,
    labels: Record<string, string>,
    api: ApiServerEndpoint,
    pod: (at: AgentPlacement) => Pick<PodSpec, "initContainers" | "containers" | "volumes">,
): KubeObject[] {
    return agentPlacements(name, api).map((at) =>
        kube.DaemonSet({
            metadata: { name: at.name, namespace, labels },
            spec: {
                selector: { matchLabels: selectorLabels(at.name) },
                updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
                template: {
                    metadata: { labels: { ...labels, ...selectorLabels(at.name) } },
                    spec: {
                        hostNetwork: true,
                        priorityClassName: "system-node-critical",
                        serviceAccountName: name,
                        tolerations: TOLERATE_EVERY_TAINT,
                        nodeSelector: at.nodeSelector,
                        ...(at.affinity ? { affinity: at.affinity } : {}),
                        ...pod(at),
                    },
                },
            },
        }),
    );
}

/** Both agents live with the other cluster plumbing; kube-system carries no Pod Security labels, so privileged agents are admitted. */
export const NODE_AGENT_NAMESPACE = "kube-system";

/**
 * In-cluster clients read KUBERNETES_SERVICE_HOST/PORT to find the API. The kubelet sets them to the `kubernetes`
 * Service IP, which only routes once kube-proxy runs; a container's own env wins over the kubelet's.
 */
export function apiServerEnv(api: ApiServerEndpoint): EnvVar[] {
    return [
        { name: "KUBERNETES_SERVICE_HOST", value: api.host },
        { name: "KUBERNETES_SERVICE_PORT", value: String(api.port) },
    ];
}

/** flannel's net-conf.json: the pod network and the VXLAN port the node security group opens. */
export function flannelNetConf(podCidr: string): Record<string, unknown> {
    return {
        Network: podCidr,
        EnableNFTables: false,
        Backend: { Type: "vxlan", Port: FLANNEL_VXLAN_PORT },
    };
}

/** The CNI chain the kubelet runs: flannel (delegating to bridge + host-local), then portmap for hostPorts. */
const CNI_CONF = {
    name: "cbr0",
    cniVersion: "0.3.1",
    plugins: [
        { type: "flannel", delegate: { hairpinMode: true, isDefaultGateway: true } },
        { type: "portmap", capabilities: { portMappings: true } },
    ],
};

/** flannel with the Kubernetes subnet manager: node subnets come from kube-controller-manager's podCIDR allocation. */
export function renderFlannel(podCidr: string, api: ApiServerEndpoint): KubeObject[] {
    const name = "flannel";
    const namespace = NODE_AGENT_NAMESPACE;
    const labels = recommendedLabels("platform", name);
    const configName = "kube-flannel-cfg";
    // Fedora CoreOS runs SELinux enforcing: only a privileged (spc_t) container may write the host's
    // /opt/cni/bin and /etc/cni/net.d and program the host network (Typhoon runs flannel the same way).
    const privileged = { privileged: true };
    return [
        kube.ServiceAccount({ metadata: { name, namespace, labels } }),
        kube.ClusterRole({
            metadata: { name, labels },
            rules: [
                { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
                { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
                { apiGroups: [""], resources: ["nodes/status"], verbs: ["patch"] },
            ],
        }),
        kube.ClusterRoleBinding({
            metadata: { name, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
            subjects: [{ kind: "ServiceAccount", name, namespace }],
        }),
        kube.ConfigMap({
            metadata: { name: configName, namespace, labels },
            data: {
                "cni-conf.json": JSON.stringify(CNI_CONF, null, 2) + "\n",
                "net-conf.json": JSON.stringify(flannelNetConf(podCidr), null, 2) + "\n",
            },
        }),
        ...nodeAgentDaemonSets(name, namespace, labels, api, (at) => ({
            initContainers: [
                {
                    // The containernetworking plugins (bridge, host-local, portmap, loopback) come from
                    // the node's Ignition; only the flannel plugin comes from this image.
                    name: "install-cni-plugin",
                    image: versions.images.flannelCniPlugin,
                    command: ["cp", "-f", "/flannel", "/opt/cni/bin/flannel"],
                    securityContext: privileged,
                    volumeMounts: [{ name: "cni-plugin", mountPath: "/opt/cni/bin" }],
                },
                {
                    name: "install-cni",
                    image: versions.images.flannel,
                    command: ["/opt/bin/install-conf", "/etc/kube-flannel/cni-conf.json", "/etc/cni/net.d/10-flannel.conflist"],
                    securityContext: privileged,
                    volumeMounts: [
                        { name: "cni", mountPath: "/etc/cni/net.d" },
                        { name: "flannel-cfg", mountPath: "/etc/kube-flannel/" },
                    ],
                },
            ],
            containers: [
                {
                    name: "kube-flannel",
                    image: versions.images.flannel,
                    command: ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr", "--healthz-port=8081"],
                    ports: [{ name: "healthz", containerPort: 8081, protocol: "TCP" }],
                    livenessProbe: {
                        httpGet: { path: "/healthz", port: "healthz" },
                        initialDelaySeconds: 10,
                        periodSeconds: 30,
                    },
                    readinessProbe: {
                        httpGet: { path: "/readyz", port: "healthz" },
                        initialDelaySeconds: 5,
                        periodSeconds: 10,
                    },
                    resources: { requests: { cpu: "100m", memory: "50Mi" } },
                    securityContext: privileged,
                    env: [
                        podFieldEnv("POD_NAME", "metadata.name"),
                        podFieldEnv("POD_NAMESPACE", "metadata.namespace"),
                        { name: "EVENT_QUEUE_DEPTH", value: "5000" },
                        { name: "CONT_WHEN_CACHE_NOT_READY", value: "false" },
                        ...apiServerEnv(at.api),
                    ],
                    volumeMounts: [
                        { name: "run", mountPath: "/run/flannel" },
                        { name: "flannel-cfg", mountPath: "/etc/kube-flannel/" },
                        { name: "xtables-lock", mountPath: "/run/xtables.lock" },
                    ],
                },
            ],
            volumes: [
                { name: "run", hostPath: { path: "/run/flannel" } },
                { name: "cni-plugin", hostPath: { path: "/opt/cni/bin" } },
                { name: "cni", hostPath: { path: "/etc/cni/net.d" } },
                { name: "flannel-cfg", configMap: { name: configName } },
                { name: "xtables-lock", hostPath: { path: "/run/xtables.lock", type: "FileOrCreate" } },
            ],
        })),
    ];
}

/** kube-proxy in iptables mode; its built-in ClusterRole system:node-proxier holds the rights it needs. */
export function renderKubeProxy(podCidr: string, api: ApiServerEndpoint): KubeObject[] {
    const name = "kube-proxy";
    const namespace = NODE_AGENT_NAMESPACE;
    const labels = recommendedLabels("platform", name);
    return [
        kube.ServiceAccount({ metadata: { name, namespace, labels } }),
        kube.ClusterRoleBinding({
            metadata: { name, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:node-proxier" },
            subjects: [{ kind: "ServiceAccount", name, namespace }],
        }),
        ...nodeAgentDaemonSets(name, namespace, labels, api, (at) => ({
            containers: [
                {
                    name,
                    image: versions.images.kubeProxy,
                    command: [
                        "kube-proxy",
                        // Traffic from outside this CIDR to a Service is masqueraded.
                        `--cluster-cidr=${podCidr}`,
                        "--hostname-override=$(NODE_NAME)",
                        "--proxy-mode=iptables",
                    ],
                    env: [podFieldEnv("NODE_NAME", "spec.nodeName"), ...apiServerEnv(at.api)],
                    ports: [{ name: "healthz", containerPort: 10256, protocol: "TCP" }],
                    livenessProbe: {
                        httpGet: { path: "/healthz", port: "healthz" },
                        initialDelaySeconds: 15,
                        timeoutSeconds: 15,
                    },
                    resources: { requests: { cpu: "100m", memory: "50Mi" } },
                    // It writes iptables rules and conntrack sysctls on the host.
                    securityContext: { privileged: true },
                    volumeMounts: [
                        { name: "lib-modules", mountPath: "/lib/modules", readOnly: true },
                        { name: "xtables-lock", mountPath: "/run/xtables.lock" },
                    ],
                },
            ],
            volumes: [
                { name: "lib-modules", hostPath: { path: "/lib/modules" } },
                { name: "xtables-lock", hostPath: { path: "/run/xtables.lock", type: "FileOrCreate" } },
            ],
        })),
    ];
}
