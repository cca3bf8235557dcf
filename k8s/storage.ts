/**
 * Shared storage: the NFS subdir provisioner makes one directory per PersistentVolumeClaim on the stage's NFS
 * server (Alibaba NAS, or the NFS node), behind the cluster's one default StorageClass. Pods move between hosts,
 * which made host-local disks useless in the original platform; NFS follows them.
 */
import { NFS_SQUASH_ID } from "../layout/cluster";
import { versions } from "../versions";
import { KubeObject, Late, kube, podSecurityLabels, recommendedLabels, selectorLabels } from "./objects";

/** The NFS export the provisioner carves volumes from. */
export interface NfsExport {
    /** NAS mount-target domain or the NFS node's private address; known once the cloud has created it. */
    readonly server: Late<string>;
    /** The exported directory (NAS_VOLUMES_DIR on NAS). */
    readonly path: string;
}

export const STORAGE_NAMESPACE = "nfs-provisioner";
/** The default StorageClass's name; claims that name no class get it. */
export const DEFAULT_STORAGE_CLASS = "nfs";
/** The provisioner's name, which ties the StorageClass to it. */
export const NFS_PROVISIONER_NAME = "k8s-sigs.io/nfs-subdir-external-provisioner";

/**
 * Alibaba's recommended NFS client options for NAS (NFSv4.0 for file locks across nodes; `hard` and long `timeo`
 * so a brief outage stalls I/O instead of failing it; `noresvport` so a reconnect picks a new source port).
 * The NFS node's server speaks v4.0 as well.
 */
export const NFS_MOUNT_OPTIONS = [
    "vers=4",
    "minorversion=0",
    "rsize=1048576",
    "wsize=1048576",
    "hard",
    "timeo=600",
    "retrans=2",
    "noresvport",
];

export function renderStorage(nfs: NfsExport, reclaimPolicy: "Retain" | "Delete"): KubeObject[] {
    const name = "nfs-provisioner";
    const namespace = STORAGE_NAMESPACE;
    const labels = recommendedLabels("platform", name);
    const selector = selectorLabels(name);
    const leaderRole = "nfs-provisioner-leader-locking";
    return [
        // Baseline, not restricted: the provisioner mounts the export as an nfs volume.
        kube.Namespace({ metadata: { name: namespace, labels: { ...labels, ...podSecurityLabels("baseline") } } }),
        kube.ServiceAccount({ metadata: { name, namespace, labels } }),
        kube.ClusterRole({
            metadata: { name, labels },
            rules: [
                { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "watch"] },
                { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["get", "list", "watch", "create", "delete"] },
                { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["get", "list", "watch", "update"] },
                { apiGroups: ["storage.k8s.io"], resources: ["storageclasses"], verbs: ["get", "list", "watch"] },
                { apiGroups: [""], resources: ["events"], verbs: ["create", "update", "patch"] },
            ],
        }),
        kube.ClusterRoleBinding({
            metadata: { name, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
            subjects: [{ kind: "ServiceAccount", name, namespace }],
        }),
        kube.Role({
            metadata: { name: leaderRole, namespace, labels },
            rules: [{ apiGroups: [""], resources: ["endpoints"], verbs: ["get", "list", "watch", "create", "update", "patch"] }],
        }),
        kube.RoleBinding({
            metadata: { name: leaderRole, namespace, labels },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: leaderRole },
            subjects: [{ kind: "ServiceAccount", name, namespace }],
        }),
        kube.StorageClass({
            metadata: { name: DEFAULT_STORAGE_CLASS, labels, annotations: { "storageclass.kubernetes.io/is-default-class": "true" } },
            provisioner: NFS_PROVISIONER_NAME,
            // Retain (the default) keeps a volume's data when its claim is deleted; an operator removes it by hand.
            reclaimPolicy,
            // With Delete the data really goes: reclaimPolicy is the one switch, no hidden archive copies.
            parameters: { archiveOnDelete: "false" },
            mountOptions: NFS_MOUNT_OPTIONS,
            volumeBindingMode: "Immediate",
        }),
        kube.Deployment({
            metadata: { name, namespace, labels },
            spec: {
                replicas: 1,
                // Recreate: the old pod must let go of the leader lock before the new one starts.
                strategy: { type: "Recreate" },
                selector: { matchLabels: selector },
                template: {
                    metadata: { labels: { ...labels, ...selector } },
                    spec: {
                        serviceAccountName: name,
                        // The server squashes every client to nobody anyway; the provisioner runs as nobody too.
                        securityContext: {
                            runAsNonRoot: true,
                            runAsUser: NFS_SQUASH_ID,
                            runAsGroup: NFS_SQUASH_ID,
                            seccompProfile: { type: "RuntimeDefault" },
                        },
                        containers: [
                            {
                                name,
                                image: versions.images.nfsProvisioner,
                                env: [
                                    { name: "PROVISIONER_NAME", value: NFS_PROVISIONER_NAME },
                                    { name: "NFS_SERVER", value: nfs.server },
                                    { name: "NFS_PATH", value: nfs.path },
                                ],
                                resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
                                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                                volumeMounts: [{ name: "nfs-root", mountPath: "/persistentvolumes" }],
                            },
                        ],
                        volumes: [{ name: "nfs-root", nfs: { server: nfs.server, path: nfs.path } }],
                    },
                },
            },
        }),
    ];
}
