/**
 * What a node's Ignition config is rendered from: plain data, no Pulumi types, one shape per role. The role is
 * the tag: a controller without its etcd member, or a worker without its kubelet settings, does not compile.
 * `components/` builds one of these per node (ignition/settings.ts) and calls `renderNodeIgnition`.
 */
import type { DownloadSources } from "../config/mirrors";
import type { NodeTaint } from "../layout/roles";

/** The roles that have a renderer. `edge` is a worker with ingress labels. */
export type NodeRole = NodeIgnitionInput["role"];

/** Alibaba ECS user data limit we design for (raw bytes; Alibaba documents 16 KB before base64). */
export const USER_DATA_LIMIT = 16000;

/** A name -> address pair written to /etc/hosts (controllers' predictable names for etcd peers). */
export interface HostEntry {
    readonly name: string;
    readonly ip: string;
}

/** What every node gets, whatever its role. */
interface NodeBase {
    /** The node's hostname (also its Kubernetes node name and, on controllers, its etcd member name). */
    readonly hostname: string;
    /** OpenSSH public keys of the user `core` (the program's deploy key; the team's keys arrive over SSH). */
    readonly sshAuthorizedKeys: readonly string[];
    /** NTP servers for chrony; Alibaba's VPC-internal servers. */
    readonly ntpServers: readonly string[];
    /** /etc/hosts entries: the controllers' names and addresses on every node. */
    readonly hosts: readonly HostEntry[];
}

/** OS updates of a node that reboots in the weekly window: Zincati's update server (empty: Fedora's). */
export interface WindowUpdates {
    readonly updateServerUrl?: string;
}

/** OS updates of a Kubernetes node: one node reboots at a time, under a FleetLock lock. */
export interface FleetLockUpdates extends WindowUpdates {
    /** e.g. http://10.96.0.15/ */
    readonly fleetlockUrl: string;
}

/** What a Kubernetes node's kubelet is rendered with. */
export interface KubeletInput {
    /** https://<internal API load balancer>:6443 */
    readonly apiServerUrl: string;
    /** The 10th address of the service CIDR. */
    readonly clusterDnsIp: string;
    readonly nodeLabels: Readonly<Record<string, string>>;
    readonly nodeTaints: readonly NodeTaint[];
    /**
     * Where the kubelet and the CNI plugins are downloaded from, in the order tried (the file mirror, then the
     * upstream if falling back is allowed), and the sha256 each file must have whatever its source (versions.ts).
     */
    readonly downloads: { readonly kubelet: DownloadSources; readonly cniPlugins: DownloadSources };
}

/** A controller's etcd member: its settings and certificates arrive over SSH (controlplane/files.ts). */
export interface EtcdMemberInput {
    /**
     * The Alibaba disk id (d-...) of the etcd data disk. The disk is attached after the instance is created,
     * so a unit waits for /dev/disk/by-id/*<id without "d-">, formats it only if it holds no filesystem, and
     * mounts it on /var/lib/etcd.
     */
    readonly dataDiskId: string;
}

/** The NFS server's export. Which networks may mount it is not here: that list arrives over SSH (it follows the config). */
export interface NfsServerInput {
    /**
     * Base URLs of Fedora mirrors for layering nfs-utils, in the order tried (absent: the image's repositories, which
     * find mirrors through Fedora's metalink).
     */
    readonly fedoraMirrors?: readonly string[];
    /** The data disk (same rules as etcd's): mounted on /var/srv/nfs and exported. */
    readonly dataDiskId: string;
}

/** The bastion: sshd, time and OS updates, nothing else. */
export interface BastionIgnitionInput extends NodeBase {
    readonly role: "bastion";
    readonly osUpdates: WindowUpdates;
    /**
     * The bastion's SSH host key (ED25519, OpenSSH form), made by the program so that it knows the key before the first
     * connection over the internet. The bastion runs no pods, so this is the one private key allowed in user data.
     */
    readonly sshHostKey: { readonly privateKey: string; readonly publicKey: string };
    readonly kubernetes?: never;
    readonly etcd?: never;
    readonly nfsServer?: never;
}

/** A controller: a Kubernetes node with an etcd member on its own disk. */
export interface ControllerIgnitionInput extends NodeBase {
    readonly role: "controller";
    readonly osUpdates: FleetLockUpdates;
    readonly kubernetes: KubeletInput;
    readonly etcd: EtcdMemberInput;
    readonly nfsServer?: never;
}

/** A worker, or an edge node (a worker whose pool adds ingress labels and taints). */
export interface WorkerIgnitionInput extends NodeBase {
    readonly role: "worker" | "edge";
    readonly osUpdates: FleetLockUpdates;
    readonly kubernetes: KubeletInput;
    readonly etcd?: never;
    readonly nfsServer?: never;
}

/** The NFS server of stages without Alibaba NAS. */
export interface NfsServerIgnitionInput extends NodeBase {
    readonly role: "nfs-server";
    readonly osUpdates: WindowUpdates;
    readonly nfsServer: NfsServerInput;
    readonly kubernetes?: never;
    readonly etcd?: never;
}

/** Everything one node's Ignition config is rendered from, by role. */
export type NodeIgnitionInput = BastionIgnitionInput | ControllerIgnitionInput | WorkerIgnitionInput | NfsServerIgnitionInput;
