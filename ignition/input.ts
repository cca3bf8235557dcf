/**
 * What a node's Ignition config is rendered from: plain data, no Pulumi types. `components/` builds one of
 * these per node and calls `renderNodeIgnition` (ignition/index.ts).
 */
import type { NodeTaint } from "../layout/roles";

/** The roles that have a renderer. `edge` is a worker with ingress labels. */
export type NodeRole = "bastion" | "controller" | "worker" | "edge" | "nfs-server";

/** Alibaba ECS user data limit we design for (raw bytes; Alibaba documents 16 KB before base64). */
export const USER_DATA_LIMIT = 16000;


/** A name -> address pair written to /etc/hosts (controllers' predictable names for etcd peers). */
export interface HostEntry {
    readonly name: string;
    readonly ip: string;
}

/** Everything one node's Ignition config is rendered from. */
export interface NodeIgnitionInput {
    readonly role: NodeRole;
    /** The node's hostname (also its Kubernetes node name and, on controllers, its etcd member name). */
    readonly hostname: string;
    /** OpenSSH public keys of the user `core` (the team's keys and the program's deploy key). */
    readonly sshAuthorizedKeys: readonly string[];
    /** NTP servers for chrony; Alibaba's VPC-internal servers. */
    readonly ntpServers: readonly string[];
    /** /etc/hosts entries: the controllers' names and addresses on every node. */
    readonly hosts: readonly HostEntry[];
    /** OS updates: Zincati's update server (empty: Fedora's) and, on Kubernetes nodes, the FleetLock URL. */
    readonly osUpdates: {
        readonly updateServerUrl?: string;
        /** e.g. http://10.96.0.15/ ; absent on the bastion and the NFS server (they reboot when Zincati says). */
        readonly fleetlockUrl?: string;
    };
    /** Kubernetes nodes (controller, worker, edge). */
    readonly kubernetes?: {
        /** https://<internal API load balancer>:6443 */
        readonly apiServerUrl: string;
        /** The 10th address of the service CIDR. */
        readonly clusterDnsIp: string;
        readonly clusterDomain: string;
        readonly nodeLabels: Readonly<Record<string, string>>;
        readonly nodeTaints: readonly NodeTaint[];
    };
    /** Controllers: this node's etcd member. */
    readonly etcd?: {
        /** Member name (= hostname). */
        readonly name: string;
        /** This controller's private address (advertised to peers and clients). */
        readonly ip: string;
        /** Every member, this one included, by name and address. */
        readonly initialCluster: readonly HostEntry[];
        /**
         * The Alibaba disk id (d-...) of the etcd data disk. The disk is attached after the instance is created,
         * so a unit waits for /dev/disk/by-id/*<id without "d-">, formats it only if it holds no filesystem, and
         * mounts it on /var/lib/etcd.
         */
        readonly dataDiskId: string;
    };
    /** The NFS server node (storage kind nfs-server). */
    readonly nfsServer?: {
        /** The data disk (same rules as etcd's): mounted on /var/srv/nfs and exported. */
        readonly dataDiskId: string;
        /** Networks allowed to mount the export (the node vSwitches). */
        readonly exportCidrs: readonly string[];
    };
}
