/**
 * Realistic Ignition inputs, one per role, shaped like a `prod` stage: three controllers in three zones,
 * the program's ED25519 deploy key (the only key in user data: the team's keys arrive over SSH), long
 * physical hostnames, pool labels and taints, and an internal OS-update server.
 */
import {
    ALIBABA_NTP_SERVERS,
    BastionIgnitionInput,
    ControllerIgnitionInput,
    HostEntry,
    NfsServerIgnitionInput,
    NodeIgnitionInput,
    WorkerIgnitionInput,
} from "../../ignition";
import { FEDORA_UPSTREAM, fileMirrorUrl } from "../../config/mirrors";
import { versions } from "../../versions";

/** A public key only (the private half was discarded when it was generated). */
export const SSH_KEYS = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILCtI3bVUIVK/A407sIHLvkpaQlwcmr6vTFacKZjMx9p deploy@coreos-platform-prod"];

export const CONTROLLERS: readonly HostEntry[] = [
    { name: "coreos-platform-prod-controller-0", ip: "10.0.0.10" },
    { name: "coreos-platform-prod-controller-1", ip: "10.0.16.10" },
    { name: "coreos-platform-prod-controller-2", ip: "10.0.32.10" },
];

export const CLUSTER_DNS_IP = "10.96.0.10";
export const FLEETLOCK_URL = "http://10.96.0.15/";
export const UPDATE_SERVER_URL = "http://10.0.0.5:8080/";
export const ETCD_DISK_ID = "d-bp1f3m2x7k9q4w8e5r6t";
export const NFS_DISK_ID = "d-bp14k2n8c5v7z3x9m1q0";
/** The stage's file mirror (an OSS bucket's internal endpoint), tried before the upstream. */
export const FILE_MIRROR = "https://coreos-platform-prod-mirror.oss-cn-hangzhou-internal.aliyuncs.com";
export const FEDORA_MIRROR = "http://mirrors.cloud.aliyuncs.com/fedora";

const common = {
    sshAuthorizedKeys: SSH_KEYS,
    ntpServers: ALIBABA_NTP_SERVERS,
    hosts: CONTROLLERS,
};

const kubernetes = {
    apiServerUrl: "https://10.0.0.250:6443",
    clusterDnsIp: CLUSTER_DNS_IP,
    downloads: {
        kubelet: { sha256: versions.kubelet.sha256, urls: [fileMirrorUrl(FILE_MIRROR, versions.kubelet.url), versions.kubelet.url] },
        cniPlugins: {
            sha256: versions.cniPlugins.sha256,
            urls: [fileMirrorUrl(FILE_MIRROR, versions.cniPlugins.url), versions.cniPlugins.url],
        },
    },
};

export const bastionInput: BastionIgnitionInput = {
    ...common,
    role: "bastion",
    hostname: "coreos-platform-prod-bastion",
    hosts: [],
    osUpdates: { updateServerUrl: UPDATE_SERVER_URL },
    // Made by the program; a label in place of the private key (the policy's PEM search must not see a key here).
    sshHostKey: {
        privateKey: "<the bastion's host key, made by the program>",
        publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheBastionInTheTestFixtures00000000000",
    },
};

export const controllerInput: ControllerIgnitionInput = {
    ...common,
    role: "controller",
    hostname: CONTROLLERS[1].name,
    osUpdates: { updateServerUrl: UPDATE_SERVER_URL, fleetlockUrl: FLEETLOCK_URL },
    kubernetes: { ...kubernetes, nodeLabels: {}, nodeTaints: [] },
    etcd: { dataDiskId: ETCD_DISK_ID },
};

export const workerInput: WorkerIgnitionInput = {
    ...common,
    role: "worker",
    hostname: "coreos-platform-prod-worker-17",
    osUpdates: { updateServerUrl: UPDATE_SERVER_URL, fleetlockUrl: FLEETLOCK_URL },
    kubernetes: {
        ...kubernetes,
        nodeLabels: { "platform.example.com/pool": "workers", "node.kubernetes.io/workload": "spring-boot" },
        nodeTaints: [{ key: "platform.example.com/dedicated", value: "apps", effect: "PreferNoSchedule" }],
    },
};

export const edgeInput: WorkerIgnitionInput = {
    ...common,
    role: "edge",
    hostname: "coreos-platform-prod-edge-1",
    osUpdates: { updateServerUrl: UPDATE_SERVER_URL, fleetlockUrl: FLEETLOCK_URL },
    kubernetes: {
        ...kubernetes,
        nodeLabels: { "node.kubernetes.io/ingress": "true", "platform.example.com/pool": "edge" },
        nodeTaints: [{ key: "node.kubernetes.io/ingress", effect: "NoSchedule" }],
    },
};

export const nfsServerInput: NfsServerIgnitionInput = {
    ...common,
    role: "nfs-server",
    hostname: "coreos-platform-prod-nfs-server",
    osUpdates: { updateServerUrl: UPDATE_SERVER_URL },
    nfsServer: { dataDiskId: NFS_DISK_ID, fedoraMirrors: [FEDORA_MIRROR, FEDORA_UPSTREAM] },
};

/** Every role's fixture, by a name for test titles. */
export const ROLE_FIXTURES: Readonly<Record<string, NodeIgnitionInput>> = {
    bastion: bastionInput,
    controller: controllerInput,
    worker: workerInput,
    edge: edgeInput,
    "nfs-server": nfsServerInput,
};
