/**
 * metrics-server: the resource metrics API (metrics.k8s.io) that the apps' HorizontalPodAutoscalers read.
 * Without it an autoscaler never scales.
 *
 * It runs on the controllers: the node security group admits kubelet connections (10250) only from the
 * controllers' group, and traffic a pod sends to a node leaves masqueraded as its own node's address.
 *
 * TLS is verified both ways: metrics-server checks each kubelet's serving certificate against the cluster CA (the
 * `kube-root-ca.crt` ConfigMap every namespace has), and the aggregation layer checks metrics-server's certificate
 * (signed by the cluster CA for its Service's name, made by the program) against the APIService's CA bundle.
 */
import { METRICS_SERVER_SERVICE } from "../pki/specs";
import { versions } from "../versions";
import { KubeObject, Late, kube, recommendedLabels, selectorLabels } from "./objects";
import { NODE_ROLE_LABELS } from "../layout/roles";
import { TOLERATE_CONTROLLERS } from "./scheduling";

const HTTPS_PORT = 10250;
/** The Secret holding metrics-server's serving certificate and key. */
const TLS_SECRET = "metrics-server-tls";
const TLS_DIR = "/etc/metrics-server/tls";
const KUBELET_CA_DIR = "/etc/metrics-server/kubelet-ca";

/** metrics-server's serving certificate and the CA the aggregation layer checks it with. */
export interface MetricsServerTls {
    /** PEM certificate for the Service's names, signed by the cluster CA. */
    readonly certificate: Late<string>;
    /** Its private key: a Pulumi secret. */
    readonly key: Late<string>;
    /** The cluster CA certificate, base64 (the APIService's caBundle). */
    readonly caBundle: Late<string>;
}

export function renderMetricsServer(tls: MetricsServerTls): KubeObject[] {
    const { name, namespace } = METRICS_SERVER_SERVICE;
    const labels = recommendedLabels("platform", name);
    const selector = selectorLabels(name);
    const subject = [{ kind: "ServiceAccount", name, namespace }];
    const roleRef = (kind: "ClusterRole" | "Role", roleName: string) => ({ apiGroup: "rbac.authorization.k8s.io", kind, name: roleName });
    return [
        kube.ServiceAccount({ metadata: { name, namespace, labels } }),
        kube.ClusterRole({
            // Aggregated into view/edit/admin, so whoever may read pods may read their metrics (kubectl top).
            metadata: {
                name: "system:aggregated-metrics-reader",
                labels: {
                    ...labels,
                    "rbac.authorization.k8s.io/aggregate-to-admin": "true",
                    "rbac.authorization.k8s.io/aggregate-to-edit": "true",
                    "rbac.authorization.k8s.io/aggregate-to-view": "true",
                },
            },
            rules: [{ apiGroups: ["metrics.k8s.io"], resources: ["pods", "nodes"], verbs: ["get", "list", "watch"] }],
        }),
        kube.ClusterRole({
            metadata: { name: "system:metrics-server", labels },
            rules: [
                { apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] },
                { apiGroups: [""], resources: ["pods", "nodes"], verbs: ["get", "list", "watch"] },
            ],
        }),
        kube.ClusterRoleBinding({
            metadata: { name: "system:metrics-server", labels },
            roleRef: roleRef("ClusterRole", "system:metrics-server"),
            subjects: subject,
        }),
        // An aggregated API server authenticates requests the way kube-apiserver forwards them.
        kube.ClusterRoleBinding({
            metadata: { name: "metrics-server:system:auth-delegator", labels },
            roleRef: roleRef("ClusterRole", "system:auth-delegator"),
            subjects: subject,
        }),
        kube.RoleBinding({
            metadata: { name: "metrics-server-auth-reader", namespace, labels },
            roleRef: roleRef("Role", "extension-apiserver-authentication-reader"),
            subjects: subject,
        }),
        kube.Secret({
            metadata: { name: TLS_SECRET, namespace, labels },
            type: "kubernetes.io/tls",
            stringData: { "tls.crt": tls.certificate, "tls.key": tls.key },
        }),
        kube.Service({
            metadata: { name, namespace, labels },
            spec: { selector, ports: [{ name: "https", port: 443, targetPort: "https", protocol: "TCP" }] },
        }),
        kube.Deployment({
            metadata: { name, namespace, labels },
            spec: {
                replicas: 1,
                selector: { matchLabels: selector },
                strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0 } },
                template: {
                    metadata: { labels: { ...labels, ...selector } },
                    spec: {
                        serviceAccountName: name,
                        priorityClassName: "system-cluster-critical",
                        nodeSelector: { "kubernetes.io/os": "linux", [NODE_ROLE_LABELS.controller]: "true" },
                        tolerations: TOLERATE_CONTROLLERS,
                        containers: [
                            {
                                name,
                                image: versions.images.metricsServer,
                                args: [
                                    `--secure-port=${HTTPS_PORT}`,
                                    `--tls-cert-file=${TLS_DIR}/tls.crt`,
                                    `--tls-private-key-file=${TLS_DIR}/tls.key`,
                                    "--kubelet-preferred-address-types=InternalIP",
                                    "--kubelet-use-node-status-port",
                                    // Kubelets serve certificates the cluster CA signed for their name and private address.
                                    `--kubelet-certificate-authority=${KUBELET_CA_DIR}/ca.crt`,
                                    "--metric-resolution=15s",
                                ],
                                ports: [{ name: "https", containerPort: HTTPS_PORT, protocol: "TCP" }],
                                readinessProbe: {
                                    httpGet: { path: "/readyz", port: "https", scheme: "HTTPS" },
                                    periodSeconds: 10,
                                    failureThreshold: 3,
                                },
                                livenessProbe: {
                                    httpGet: { path: "/livez", port: "https", scheme: "HTTPS" },
                                    periodSeconds: 10,
                                    failureThreshold: 3,
                                },
                                resources: { requests: { cpu: "100m", memory: "200Mi" } },
                                securityContext: {
                                    allowPrivilegeEscalation: false,
                                    capabilities: { drop: ["ALL"] },
                                    readOnlyRootFilesystem: true,
                                    runAsNonRoot: true,
                                    runAsUser: 1000,
                                    seccompProfile: { type: "RuntimeDefault" },
                                },
                                volumeMounts: [
                                    { name: "tmp", mountPath: "/tmp" },
                                    { name: "tls", mountPath: TLS_DIR, readOnly: true },
                                    { name: "kubelet-ca", mountPath: KUBELET_CA_DIR, readOnly: true },
                                ],
                            },
                        ],
                        volumes: [
                            { name: "tmp", emptyDir: {} },
                            { name: "tls", secret: { secretName: TLS_SECRET } },
                            // Published in every namespace by kube-controller-manager (--root-ca-file).
                            { name: "kubelet-ca", configMap: { name: "kube-root-ca.crt" } },
                        ],
                    },
                },
            },
        }),
        kube.APIService({
            metadata: { name: "v1beta1.metrics.k8s.io", labels },
            spec: {
                group: "metrics.k8s.io",
                version: "v1beta1",
                groupPriorityMinimum: 100,
                versionPriority: 100,
                service: { name, namespace, port: 443 },
                // The aggregation layer verifies metrics-server's certificate (for this Service's name) with the cluster CA.
                caBundle: tls.caBundle,
            },
        }),
    ];
}
