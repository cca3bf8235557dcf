/**
 * Block storage: Alibaba's open-source disk CSI driver (kubernetes-sigs/alibaba-cloud-csi-driver) behind a second
 * StorageClass, `disk`: one encrypted ESSD cloud disk per claim, created in the zone of the pod that first uses it
 * (WaitForFirstConsumer), growable in place. NFS stays the default for volumes that several pods share.
 *
 * The driver's controller (create, attach, detach, resize through the ECS API) runs on the controllers only: they
 * alone carry the RAM role that allows those calls (components/blockStorage.ts), so no pod on a worker can reach
 * credentials for the ECS API through the metadata service. The node plugin on every node only formats, mounts and
 * grows what is already attached, finding the device by the disk's serial; it calls no API (docs/storage.md).
 */
import { CONTROLLER_TAINT_KEY, NODE_ROLE_LABELS } from "../layout/roles";
import { versions } from "../versions";
import { KubeObject, kube, podFieldEnv, recommendedLabels, selectorLabels } from "./objects";
import { nodeAgentDaemonSet } from "./scheduling";

/** The CSI driver's name: the StorageClass's provisioner and the name its node plugin registers with the kubelet. */
export const DISK_CSI_DRIVER = "diskplugin.csi.alibabacloud.com";
/** The block-storage StorageClass (not the default: claims name it). */
export const DISK_STORAGE_CLASS = "disk";
const NAMESPACE = "kube-system";
const KUBELET_DIR = "/var/lib/kubelet";
/** Where the node plugin's socket lives on the host: the registrar tells the kubelet this path. */
const PLUGIN_DIR = `${KUBELET_DIR}/csi-plugins/${DISK_CSI_DRIVER}`;
/** The plugin's own endpoint flag: it replaces "driverplugin.csi.alibabacloud.com-replace" with each driver's name. */
const PLUGIN_ENDPOINT = "unix://csi/driverplugin.csi.alibabacloud.com-replace/csi.sock";

/**
 * The RAM role of the controllers (created by components/blockStorage.ts under this name, so the cluster side can
 * name it before it exists). RAM role names are unique per account: the stage's prefix keeps stages apart.
 */
export function diskCsiRoleName(namePrefix: string): string {
    return `${namePrefix}-disk-csi`;
}

/** What the block storage is rendered from. */
export interface BlockStorageSettings {
    /** The RAM role the controllers carry: the driver's controller takes its STS credentials from the metadata service. */
    readonly ramRoleName: string;
    /** How many controllers there are (the driver's controller runs one replica per controller, at most two). */
    readonly controllerCount: number;
    /** What happens to a disk when its claim is deleted (the stage's storage.reclaimPolicy, as for NFS). */
    readonly reclaimPolicy: "Retain" | "Delete";
}

const dropAll = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } };

export function renderBlockStorage(s: BlockStorageSettings): KubeObject[] {
    const labels = recommendedLabels("platform", "disk-csi");
    const controller = "disk-csi-controller";
    const node = "disk-csi-node";
    const controllerSelector = selectorLabels(controller);
    const roleRef = (name: string) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name });
    const sidecar = (name: string, image: string, port: number, args: string[]) => ({
        name,
        image,
        args: ["--csi-address=/csi/csi.sock", `--http-endpoint=:${port}`, "--leader-election=true", "--v=2", ...args],
        ports: [{ name: `${name.slice(0, 10)}-http`, containerPort: port, protocol: "TCP" }],
        livenessProbe: { httpGet: { path: "/healthz/leader-election", port: `${name.slice(0, 10)}-http` }, periodSeconds: 20 },
        resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "256Mi" } },
        securityContext: dropAll,
        volumeMounts: [{ name: "socket-dir", mountPath: "/csi" }],
    });
    return [
        kube.CSIDriver({
            metadata: { name: DISK_CSI_DRIVER, labels },
            // The attacher must attach a disk to its node before the kubelet stages it.
            spec: { attachRequired: true, podInfoOnMount: false, fsGroupPolicy: "File", volumeLifecycleModes: ["Persistent"] },
        }),
        kube.StorageClass({
            metadata: { name: DISK_STORAGE_CLASS, labels },
            provisioner: DISK_CSI_DRIVER,
            parameters: {
                type: "cloud_essd",
                performanceLevel: "PL1",
                // Encrypted with the account's default KMS key for ECS, like every system and data disk of the stage.
                encrypted: "true",
                "csi.storage.k8s.io/fstype": "ext4",
            },
            reclaimPolicy: s.reclaimPolicy,
            allowVolumeExpansion: true,
            // A disk lives in one zone and attaches only to an instance of that zone: create it where the pod lands.
            volumeBindingMode: "WaitForFirstConsumer",
        }),
        kube.ServiceAccount({ metadata: { name: controller, namespace: NAMESPACE, labels } }),
        kube.ClusterRole({
            metadata: { name: controller, labels },
            rules: [
                {
                    apiGroups: [""],
                    resources: ["persistentvolumes"],
                    verbs: ["get", "list", "watch", "create", "delete", "patch", "update"],
                },
                { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["get", "list", "watch", "update", "patch"] },
                { apiGroups: [""], resources: ["persistentvolumeclaims/status"], verbs: ["update", "patch"] },
                { apiGroups: [""], resources: ["nodes", "pods"], verbs: ["get", "list", "watch"] },
                { apiGroups: [""], resources: ["events"], verbs: ["get", "list", "watch", "create", "update", "patch"] },
                { apiGroups: ["storage.k8s.io"], resources: ["storageclasses", "csinodes"], verbs: ["get", "list", "watch"] },
                { apiGroups: ["storage.k8s.io"], resources: ["volumeattachments"], verbs: ["get", "list", "watch", "update", "patch"] },
                { apiGroups: ["storage.k8s.io"], resources: ["volumeattachments/status"], verbs: ["patch"] },
                {
                    apiGroups: ["coordination.k8s.io"],
                    resources: ["leases"],
                    verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
                },
            ],
        }),
        kube.ClusterRoleBinding({
            metadata: { name: controller, labels },
            roleRef: roleRef(controller),
            subjects: [{ kind: "ServiceAccount", name: controller, namespace: NAMESPACE }],
        }),
        kube.Deployment({
            metadata: { name: controller, namespace: NAMESPACE, labels },
            spec: {
                replicas: Math.min(2, s.controllerCount),
                selector: { matchLabels: controllerSelector },
                template: {
                    metadata: { labels: { ...labels, ...controllerSelector } },
                    spec: {
                        serviceAccountName: controller,
                        priorityClassName: "system-cluster-critical",
                        // Only the controllers carry the RAM role (see the file comment).
                        nodeSelector: { "kubernetes.io/os": "linux", [NODE_ROLE_LABELS.controller]: "true" },
                        tolerations: [{ key: CONTROLLER_TAINT_KEY, operator: "Exists", effect: "NoSchedule" }],
                        affinity: {
                            podAntiAffinity: {
                                preferredDuringSchedulingIgnoredDuringExecution: [
                                    {
                                        weight: 100,
                                        podAffinityTerm: {
                                            labelSelector: { matchLabels: controllerSelector },
                                            topologyKey: "kubernetes.io/hostname",
                                        },
                                    },
                                ],
                            },
                        },
                        securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
                        containers: [
                            {
                                name: "csi-plugin",
                                image: versions.images.diskCsiPlugin,
                                args: [
                                    `--endpoint=${PLUGIN_ENDPOINT}`,
                                    "--driver=disk",
                                    "--run-controller-service=true",
                                    "--run-node-service=false",
                                    "--v=2",
                                ],
                                env: [
                                    podFieldEnv("KUBE_NODE_NAME", "spec.nodeName"),
                                    // Alibaba's credential chain: STS credentials of this instance RAM role, from the metadata service.
                                    { name: "ALIBABA_CLOUD_ECS_METADATA", value: s.ramRoleName },
                                ],
                                ports: [{ name: "healthz", containerPort: 11270, protocol: "TCP" }],
                                livenessProbe: {
                                    httpGet: { path: "/healthz", port: "healthz" },
                                    periodSeconds: 10,
                                    timeoutSeconds: 5,
                                    failureThreshold: 5,
                                },
                                readinessProbe: { httpGet: { path: "/healthz", port: "healthz" }, periodSeconds: 10 },
                                resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "512Mi" } },
                                securityContext: dropAll,
                                volumeMounts: [{ name: "socket-dir", mountPath: `/csi/${DISK_CSI_DRIVER}` }],
                            },
                            sidecar("csi-provisioner", versions.images.diskCsiProvisioner, 8080, [
                                "--volume-name-prefix=disk",
                                // A disk can only be created in a zone the pod's node is in.
                                "--strict-topology=true",
                                "--timeout=150s",
                                "--extra-create-metadata=true",
                                "--default-fstype=ext4",
                            ]),
                            sidecar("csi-attacher", versions.images.diskCsiAttacher, 8081, ["--timeout=60s"]),
                            sidecar("csi-resizer", versions.images.diskCsiResizer, 8082, ["--handle-volume-inuse-error=false"]),
                        ],
                        volumes: [{ name: "socket-dir", emptyDir: {} }],
                    },
                },
            },
        }),
        kube.ServiceAccount({ metadata: { name: node, namespace: NAMESPACE, labels } }),
        nodeAgentDaemonSet(node, NAMESPACE, labels, {
            serviceAccountName: node,
            // The plugin formats and mounts block devices into the kubelet's directories.
            hostNetwork: true,
            hostPID: true,
            dnsPolicy: "ClusterFirstWithHostNet",
            containers: [
                {
                    name: "node-driver-registrar",
                    image: versions.images.diskCsiRegistrar,
                    args: ["--csi-address=/csi/csi.sock", `--kubelet-registration-path=${PLUGIN_DIR}/csi.sock`, "--v=2"],
                    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
                    securityContext: dropAll,
                    volumeMounts: [
                        { name: "plugin-dir", mountPath: "/csi" },
                        { name: "registration-dir", mountPath: "/registration" },
                    ],
                },
                {
                    name: "csi-plugin",
                    image: versions.images.diskCsiPlugin,
                    args: [
                        `--endpoint=${PLUGIN_ENDPOINT}`,
                        "--driver=disk",
                        "--run-controller-service=false",
                        "--run-node-service=true",
                        "--v=2",
                    ],
                    env: [podFieldEnv("KUBE_NODE_NAME", "spec.nodeName")],
                    ports: [{ name: "healthz", containerPort: 11260, protocol: "TCP" }],
                    livenessProbe: {
                        httpGet: { path: "/healthz", port: "healthz" },
                        periodSeconds: 10,
                        timeoutSeconds: 5,
                        failureThreshold: 5,
                    },
                    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "512Mi" } },
                    securityContext: { privileged: true, allowPrivilegeEscalation: true },
                    volumeMounts: [
                        { name: "kubelet-dir", mountPath: `${KUBELET_DIR}/`, mountPropagation: "Bidirectional" },
                        { name: "plugin-dir", mountPath: `/csi/${DISK_CSI_DRIVER}` },
                        { name: "host-dev", mountPath: "/dev", mountPropagation: "HostToContainer" },
                        { name: "host-etc", mountPath: "/host/etc" },
                        { name: "run-csi", mountPath: "/host/run/csi-tool" },
                        { name: "host-log", mountPath: "/var/log" },
                    ],
                },
            ],
            volumes: [
                { name: "kubelet-dir", hostPath: { path: KUBELET_DIR, type: "Directory" } },
                { name: "plugin-dir", hostPath: { path: PLUGIN_DIR, type: "DirectoryOrCreate" } },
                { name: "registration-dir", hostPath: { path: `${KUBELET_DIR}/plugins_registry`, type: "DirectoryOrCreate" } },
                { name: "host-dev", hostPath: { path: "/dev", type: "Directory" } },
                { name: "host-etc", hostPath: { path: "/etc", type: "Directory" } },
                { name: "run-csi", hostPath: { path: "/run/csi-tool", type: "DirectoryOrCreate" } },
                { name: "host-log", hostPath: { path: "/var/log", type: "Directory" } },
            ],
        }),
    ];
}
