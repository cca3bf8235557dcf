/**
 * FleetLock (poseidon/fleetlock): Zincati on every node asks it for the reboot lock, so only one node reboots
 * at a time, and it drains the node first. Zincati runs on the host and is rendered with a fixed URL, so the
 * Service has a fixed ClusterIP (the 15th address of the service CIDR).
 */
import { versions } from "../versions";
import { KubeObject, kube, podFieldEnv, podSecurityLabels, recommendedLabels, selectorLabels } from "./objects";
import { TOLERATE_CONTROLLERS } from "./scheduling";

/**
 * Its own namespace: FleetLock needs to create and update Leases in its namespace, and in kube-system that
 * would include the control plane's leader-election leases (create cannot be limited by resource name).
 */
export const FLEETLOCK_NAMESPACE = "fleetlock";
const HTTP_PORT = 8080;

export function renderFleetlock(serviceIp: string): KubeObject[] {
    const name = "fleetlock";
    const namespace = FLEETLOCK_NAMESPACE;
    const labels = recommendedLabels("platform", name);
    const selector = selectorLabels(name);
    return [
        kube.Namespace({ metadata: { name: namespace, labels: { ...labels, ...podSecurityLabels("restricted") } } }),
        kube.ServiceAccount({ metadata: { name, namespace, labels } }),
        kube.ClusterRole({
            metadata: { name, labels },
            rules: [
                // Cordon and uncordon the node that holds the lock, and drain it through evictions.
                { apiGroups: [""], resources: ["nodes"], verbs: ["list", "patch"] },
                { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
                { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
            ],
        }),
        kube.ClusterRoleBinding({
            metadata: { name, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
            subjects: [{ kind: "ServiceAccount", name, namespace }],
        }),
        kube.Role({
            metadata: { name, namespace, labels },
            // The lock itself is a Lease (fleetlock-<zincati group>).
            rules: [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create", "get", "update"] }],
        }),
        kube.RoleBinding({
            metadata: { name, namespace, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
            subjects: [{ kind: "ServiceAccount", name, namespace }],
        }),
        kube.Service({
            metadata: { name, namespace, labels },
            spec: { clusterIP: serviceIp, selector, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
        }),
        kube.Deployment({
            metadata: { name, namespace, labels },
            spec: {
                // One instance: the lock lives in the Lease, a second replica would add nothing.
                replicas: 1,
                strategy: { type: "Recreate" },
                selector: { matchLabels: selector },
                template: {
                    metadata: { labels: { ...labels, ...selector } },
                    spec: {
                        serviceAccountName: name,
                        // FleetLock cordons the node it drains; if the drained node were the only place left for
                        // FleetLock itself, nobody could answer that node's unlock after its reboot.
                        tolerations: TOLERATE_CONTROLLERS,
                        securityContext: {
                            // The image's USER is the name "nobody", which the kubelet cannot verify as non-root; 65534 is its uid.
                            runAsNonRoot: true,
                            runAsUser: 65534,
                            runAsGroup: 65534,
                            seccompProfile: { type: "RuntimeDefault" },
                        },
                        containers: [
                            {
                                name,
                                image: versions.images.fleetlock,
                                env: [podFieldEnv("NAMESPACE", "metadata.namespace")],
                                ports: [{ name: "http", containerPort: HTTP_PORT, protocol: "TCP" }],
                                livenessProbe: { httpGet: { path: "/-/healthy", port: "http" } },
                                resources: { requests: { cpu: "30m", memory: "30Mi" }, limits: { cpu: "50m", memory: "50Mi" } },
                                securityContext: {
                                    allowPrivilegeEscalation: false,
                                    capabilities: { drop: ["ALL"] },
                                    readOnlyRootFilesystem: true,
                                },
                            },
                        ],
                    },
                },
            },
        }),
    ];
}
