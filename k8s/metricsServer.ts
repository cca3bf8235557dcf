/**
 * metrics-server: the resource metrics API (metrics.k8s.io) that the apps' HorizontalPodAutoscalers read.
 * Without it an autoscaler never scales.
 *
 * It runs on the controllers: the node security group admits kubelet connections (10250) only from the
 * controllers' group, and traffic a pod sends to a node leaves masqueraded as its own node's address.
 */
import { versions } from "../versions";
import { KubeObject, kube, recommendedLabels, selectorLabels } from "./objects";
import { NODE_ROLE_LABELS } from "../layout/roles";
import { TOLERATE_CONTROLLERS } from "./scheduling";

const NAMESPACE = "kube-system";
const HTTPS_PORT = 10250;

export function renderMetricsServer(): KubeObject[] {
    const name = "metrics-server";
    const namespace = NAMESPACE;
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
                                    "--cert-dir=/tmp",
                                    `--secure-port=${HTTPS_PORT}`,
                                    "--kubelet-preferred-address-types=InternalIP",
                                    "--kubelet-use-node-status-port",
                                    "--metric-resolution=15s",
                                    // Kubelet serving certificates are self-signed per node (as with kubeadm's defaults);
                                    // kube-apiserver does not verify them either. The connection stays inside the VPC and
                                    // the node security group admits only the controllers (docs/kubernetes.md).
                                    "--kubelet-insecure-tls",
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
                                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                            },
                        ],
                        volumes: [{ name: "tmp", emptyDir: {} }],
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
                // metrics-server serves a certificate it generates itself at start; the aggregation layer
                // reaches it over the pod network with the front-proxy client certificate.
                insecureSkipTLSVerify: true,
            },
        }),
    ];
}
