/**
 * Realistic Ignition inputs, one per role, shaped like a `prod` stage: three controllers in three zones,
 * two SSH keys (a team member's and the program's deploy key, both ED25519, ssh-keygen's default), long
 * physical hostnames, pool labels and taints, and an internal OS-update server.
 */
import { ALIBABA_NTP_SERVERS, HostEntry, NodeIgnitionInput } from "../../ignition";

/** Public keys only (the private halves were discarded when these were generated). */
export const SSH_KEYS = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH71sqoLXafALEbN5om6iR0nXvwoUEbX2sK1HjACrTgF ops@example.com",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILCtI3bVUIVK/A407sIHLvkpaQlwcmr6vTFacKZjMx9p deploy@coreos-platform-prod",
];

/** A team member's RSA 4096 key: the largest key in common use, for the worst case of the size budget. */
export const RSA_4096_KEY =
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAACAQCpMpg+1ZpGe5h7yGVlOF7eLuWoF1haUCCaPjZbOYOlWkxJhMpXOLQ67/5v3ORcbl824rlQELTM8STDaZTf0/tGztkwPH8d3/9ZYOWwBY0wyALZyMTqQhuAzA6AHD9wXt7Wwc9AorXAqHuDqxFTXFU4iJXB2A2AtAZWGKpGTx7yavgfQrG/IeHsiQx+AFGF3PF0anGhWlsa1i9BBhfy+APwS/4d0aP/7e57RFm9+cptJLKVFbsxtknQ5drYPVUrMJ27/Rs5NHgvYWAEKPK/VX1kH90ZVYw3rpvNq5eY44IJbZ90bcAfhXVae5TYHe3tV4qTURDm7XCP8BkMSUFtILD+Uztn1d1PHoP9Q568Q8QrRRn3Zyd+ZH3WmmXoLlg9mqVhM2OxqjvcqczyeGR9SARwE80uVTYvt+vhlCgmUmp/stkfteX06g8DsAKZCYzsg9daD2/IhzKutBMWHyJFojn1vVnt2MDNuzql/pde3TyWg9781ODqwlT0kCipnjzMAdXbLpNGC+EajIL5Ug3JvFNO/58B7XB9rEQOBQf+FXqDbvn+8t48e+Jng1J3mSd2Pv1FipZZu9eq46E+F2X7sdb0uvHxliyAMYmAkwTNqzS95oQ8SkrxXqNBKJxWSOXjUmZT21q4yYqZ1jVXNE1uxaxV+V4KEvx8jO906l9HbCQDEQ== ops@example.com";

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
export const NODE_CIDRS = ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"];

const common = {
    sshAuthorizedKeys: SSH_KEYS,
    ntpServers: ALIBABA_NTP_SERVERS,
    hosts: CONTROLLERS,
};

const kubernetes = {
    apiServerUrl: "https://10.0.0.250:6443",
    clusterDnsIp: CLUSTER_DNS_IP,
    clusterDomain: "cluster.local",
};

export const bastionInput: NodeIgnitionInput = {
    ...common,
    role: "bastion",
    hostname: "coreos-platform-prod-bastion",
    hosts: [],
    osUpdates: { updateServerUrl: UPDATE_SERVER_URL },
};

export const controllerInput: NodeIgnitionInput = {
    ...common,
    role: "controller",
    hostname: CONTROLLERS[1].name,
    osUpdates: { updateServerUrl: UPDATE_SERVER_URL, fleetlockUrl: FLEETLOCK_URL },
    kubernetes: { ...kubernetes, nodeLabels: {}, nodeTaints: [] },
    etcd: { name: CONTROLLERS[1].name, ip: CONTROLLERS[1].ip, initialCluster: CONTROLLERS, dataDiskId: ETCD_DISK_ID },
};

export const workerInput: NodeIgnitionInput = {
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

export const edgeInput: NodeIgnitionInput = {
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

export const nfsServerInput: NodeIgnitionInput = {
    ...common,
    role: "nfs-server",
    hostname: "coreos-platform-prod-nfs-server",
    osUpdates: { updateServerUrl: UPDATE_SERVER_URL },
    nfsServer: { dataDiskId: NFS_DISK_ID, exportCidrs: NODE_CIDRS },
};

/** Every role's fixture, by a name for test titles. */
export const ROLE_FIXTURES: Readonly<Record<string, NodeIgnitionInput>> = {
    bastion: bastionInput,
    controller: controllerInput,
    worker: workerInput,
    edge: edgeInput,
    "nfs-server": nfsServerInput,
};
