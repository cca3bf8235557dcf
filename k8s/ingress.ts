/**
 * The API gateway: ingress-nginx on the edge pool, whose nodes hold the public EIPs (1:1 NAT to their private
 * addresses). The edge security group opens exactly 80 and 443, and a DaemonSet binds them on every edge node by
 * hostPort: no Service hop, and the client's address reaches nginx (the rate limit counts per client).
 *
 * ingress-nginx v1.15.1 is the project's final release: Kubernetes retired ingress-nginx in March 2026 (best-effort
 * maintenance ended then). It still works; plan a move to a Gateway API implementation (docs/kubernetes.md).
 *
 * No admission webhook: it only pre-validates Ingress objects, and this program renders them from validated config.
 */
import { versions } from "../versions";
import { KubeObject, Late, PodSpec, kube, podFieldEnv, podSecurityLabels, recommendedLabels, selectorLabels } from "./objects";
import { NodeTaint } from "../layout/roles";
import { edgeNodeSelector, tolerationsFor } from "./scheduling";

export const INGRESS_NAMESPACE = "ingress-nginx";
/** The labels of the gateway's pods, which the apps' network policies admit. */
export const INGRESS_POD_LABELS = selectorLabels("ingress-nginx");
/** The IngressClass every app Ingress names; also the cluster's default class. */
export const INGRESS_CLASS = "nginx";
/** The default-certificate Secret the program creates from ingressTlsCertificate/ingressTlsKey. */
export const DEFAULT_TLS_SECRET = "ingress-default-tls";
const CONTROLLER = "ingress-nginx-controller";
const HEALTH_PORT = 10254;

/** Ingress as the stage configures it, plus the edge pool it runs on. */
export interface IngressSettings {
    /** An existing Secret (in the ingress-nginx namespace) with the default certificate; "" for none. */
    readonly tlsSecretName: string;
    /** A certificate from config; becomes the Secret DEFAULT_TLS_SECRET. The key stays a Pulumi secret. */
    readonly tls?: { readonly certificate: string; readonly key: Late<string> };
    /** The edge pool: how many nodes, and the extra labels and taints the stage gives them. */
    readonly edge: {
        readonly count: number;
        readonly labels: Readonly<Record<string, string>>;
        readonly taints: readonly NodeTaint[];
    };
}

/** The default-certificate Secret's name, if the stage has one (for --default-ssl-certificate). */
export function defaultCertificateSecret(s: Pick<IngressSettings, "tls" | "tlsSecretName">): string | undefined {
    return s.tls ? DEFAULT_TLS_SECRET : s.tlsSecretName !== "" ? s.tlsSecretName : undefined;
}

/** The controller's arguments (upstream's, minus the admission webhook, plus what TLS needs). */
export function controllerArgs(s: Pick<IngressSettings, "tls" | "tlsSecretName">): string[] {
    const certificate = defaultCertificateSecret(s);
    return [
        "/nginx-ingress-controller",
        "--election-id=ingress-nginx-leader",
        "--controller-class=k8s.io/ingress-nginx",
        `--ingress-class=${INGRESS_CLASS}`,
        `--configmap=$(POD_NAMESPACE)/${CONTROLLER}`,
        ...(certificate ? [`--default-ssl-certificate=$(POD_NAMESPACE)/${certificate}`] : []),
    ];
}

export function renderIngress(s: IngressSettings): KubeObject[] {
    const name = "ingress-nginx";
    const namespace = INGRESS_NAMESPACE;
    const labels = recommendedLabels("platform", name);
    const selector = selectorLabels(name);

    const podSpec: PodSpec = {
        serviceAccountName: name,
        nodeSelector: edgeNodeSelector(s.edge.labels),
        tolerations: tolerationsFor(s.edge.taints),
        priorityClassName: "system-cluster-critical",
        terminationGracePeriodSeconds: 300,
        // In the pod network, bound to 80/443 of the edge node by hostPort (CNI portmap): the client's address still
        // reaches nginx (the EIP is 1:1 NAT, portmap only rewrites the destination), and network policy can tell the
        // gateway's pods from every other client of the apps, which a host-network pod is not (docs/security.md).
        containers: [
            {
                name: "controller",
                image: versions.images.ingressNginx,
                args: controllerArgs(s),
                env: [
                    podFieldEnv("POD_NAME", "metadata.name"),
                    podFieldEnv("POD_NAMESPACE", "metadata.namespace"),
                    { name: "LD_PRELOAD", value: "/usr/local/lib/libmimalloc.so" },
                ],
                lifecycle: { preStop: { exec: { command: ["/wait-shutdown"] } } },
                ports: [
                    { name: "http", containerPort: 80, hostPort: 80, protocol: "TCP" },
                    { name: "https", containerPort: 443, hostPort: 443, protocol: "TCP" },
                    { name: "healthz", containerPort: HEALTH_PORT, protocol: "TCP" },
                ],
                livenessProbe: {
                    httpGet: { path: "/healthz", port: "healthz", scheme: "HTTP" },
                    initialDelaySeconds: 10,
                    periodSeconds: 10,
                    timeoutSeconds: 1,
                    failureThreshold: 5,
                },
                readinessProbe: {
                    httpGet: { path: "/healthz", port: "healthz", scheme: "HTTP" },
                    initialDelaySeconds: 10,
                    periodSeconds: 10,
                    timeoutSeconds: 1,
                    failureThreshold: 3,
                },
                resources: { requests: { cpu: "100m", memory: "90Mi" } },
                securityContext: {
                    allowPrivilegeEscalation: false,
                    capabilities: { add: ["NET_BIND_SERVICE"], drop: ["ALL"] },
                    readOnlyRootFilesystem: false,
                    runAsGroup: 82,
                    runAsNonRoot: true,
                    runAsUser: 101,
                    seccompProfile: { type: "RuntimeDefault" },
                },
            },
        ],
    };
    const template = { metadata: { labels: { ...labels, ...selector } }, spec: podSpec };

    const objects: KubeObject[] = [
        // hostPort is outside the baseline Pod Security level.
        kube.Namespace({ metadata: { name: namespace, labels: { ...labels, ...podSecurityLabels("privileged") } } }),
        kube.ServiceAccount({ metadata: { name, namespace, labels } }),
        kube.ClusterRole({
            metadata: { name, labels },
            rules: [
                {
                    apiGroups: [""],
                    resources: ["configmaps", "endpoints", "nodes", "pods", "secrets", "namespaces"],
                    verbs: ["list", "watch"],
                },
                { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["list", "watch"] },
                { apiGroups: [""], resources: ["nodes"], verbs: ["get"] },
                { apiGroups: [""], resources: ["services"], verbs: ["get", "list", "watch"] },
                { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: ["get", "list", "watch"] },
                { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
                { apiGroups: ["networking.k8s.io"], resources: ["ingresses/status"], verbs: ["update"] },
                { apiGroups: ["networking.k8s.io"], resources: ["ingressclasses"], verbs: ["get", "list", "watch"] },
                { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch", "get"] },
            ],
        }),
        kube.ClusterRoleBinding({
            metadata: { name, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
            subjects: [{ kind: "ServiceAccount", name, namespace }],
        }),
        kube.Role({
            metadata: { name, namespace, labels },
            rules: [
                { apiGroups: [""], resources: ["namespaces"], verbs: ["get"] },
                { apiGroups: [""], resources: ["configmaps", "pods", "secrets", "endpoints"], verbs: ["get", "list", "watch"] },
                { apiGroups: [""], resources: ["services"], verbs: ["get", "list", "watch"] },
                { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: ["get", "list", "watch"] },
                { apiGroups: ["networking.k8s.io"], resources: ["ingresses/status"], verbs: ["update"] },
                { apiGroups: ["networking.k8s.io"], resources: ["ingressclasses"], verbs: ["get", "list", "watch"] },
                {
                    apiGroups: ["coordination.k8s.io"],
                    resources: ["leases"],
                    resourceNames: ["ingress-nginx-leader"],
                    verbs: ["get", "update"],
                },
                { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
                { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
                { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch", "get"] },
            ],
        }),
        kube.RoleBinding({
            metadata: { name, namespace, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
            subjects: [{ kind: "ServiceAccount", name, namespace }],
        }),
        kube.ConfigMap({
            metadata: { name: CONTROLLER, namespace, labels },
            // Over the rate limit a client gets 429 Too Many Requests, not the default 503 that reads as an outage.
            data: { "limit-req-status-code": "429", "limit-conn-status-code": "429" },
        }),
        kube.IngressClass({
            metadata: { name: INGRESS_CLASS, labels, annotations: { "ingressclass.kubernetes.io/is-default-class": "true" } },
            spec: { controller: "k8s.io/ingress-nginx" },
        }),
    ];
    if (s.tls) {
        objects.push(
            kube.Secret({
                metadata: { name: DEFAULT_TLS_SECRET, namespace, labels },
                type: "kubernetes.io/tls",
                stringData: { "tls.crt": s.tls.certificate, "tls.key": s.tls.key },
            }),
        );
    }
    if (s.edge.count === 0) {
        // No edge node to run on.
        return objects;
    }
    objects.push(
        kube.DaemonSet({
            metadata: { name: CONTROLLER, namespace, labels },
            spec: {
                selector: { matchLabels: selector },
                // One node at a time: the others keep serving their EIPs.
                updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
                template,
            },
        }),
    );
    return objects;
}
