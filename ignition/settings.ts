/**
 * From the stage to each node's Ignition input: `nodeSettings` picks what every node is told out of the stage
 * config and the plan (as `platformSettings` does for the cluster's objects and `controlPlaneSettings` for the
 * controllers' files), and one builder per role adds what only that node has. Plain data: the components call
 * these with the values only the cloud knows (the deploy key, a disk id).
 */
import type { ClusterPlan, PlannedController } from "../config/plan";
import { NODE_DOWNLOADS, downloadSources, fedoraSources } from "../config/mirrors";
import type { StageConfig } from "../config/types";
import { fleetlockUrl } from "../layout/cluster";
import { NODE_ROLE_LABELS, NodeTaint } from "../layout/roles";
import {
    BastionIgnitionInput,
    ControllerIgnitionInput,
    HostEntry,
    KubeletInput,
    NfsServerIgnitionInput,
    WorkerIgnitionInput,
} from "./input";
import { ALIBABA_NTP_SERVERS } from "./pieces/timeSync";

/** What every node of a stage is told, whatever its pool. */
export interface NodeSettings {
    /** The team's SSH public keys: copied to every node over SSH (never in user data, so they change in place). */
    readonly sshAuthorizedKeys: readonly string[];
    readonly ntpServers: readonly string[];
    /** The controllers' names and addresses, written to /etc/hosts everywhere. */
    readonly hosts: readonly HostEntry[];
    /** Zincati's update server; absent: Fedora's. */
    readonly updateServerUrl?: string;
    /** http://<fleetlock service ip>/ */
    readonly fleetlockUrl: string;
    /** https://<internal API load balancer>:6443 */
    readonly apiServerUrl: string;
    readonly clusterDnsIp: string;
    /** Where Kubernetes nodes download the kubelet and the CNI plugins from, in the order tried. */
    readonly downloads: KubeletInput["downloads"];
    /** Fedora mirrors for the NFS node's package layering, in the order tried; absent: the image's repositories. */
    readonly fedoraMirrors?: readonly string[];
}

/** The settings of a stage's nodes. */
export function nodeSettings(cfg: StageConfig, plan: ClusterPlan): NodeSettings {
    return {
        sshAuthorizedKeys: cfg.sshAuthorizedKeys,
        ntpServers: ALIBABA_NTP_SERVERS,
        hosts: plan.controllers.map((c) => ({ name: c.hostname, ip: c.ip })),
        ...(cfg.osUpdates.updateServerUrl ? { updateServerUrl: cfg.osUpdates.updateServerUrl } : {}),
        fleetlockUrl: fleetlockUrl(cfg.cluster.fleetlockServiceIp),
        apiServerUrl: plan.apiServerUrl,
        clusterDnsIp: cfg.cluster.dnsServiceIp,
        downloads: {
            kubelet: downloadSources(cfg.mirrors, NODE_DOWNLOADS.kubelet),
            cniPlugins: downloadSources(cfg.mirrors, NODE_DOWNLOADS["cni-plugins"]),
        },
        ...(cfg.mirrors.fedora ? { fedoraMirrors: fedoraSources(cfg.mirrors) } : {}),
    };
}

/** What every node's user data holds for logging in: only the deploy key (the team's keys follow over SSH). */
function nodeBase(settings: Pick<NodeSettings, "ntpServers" | "hosts">, hostname: string, deployPublicKey: string) {
    return { hostname, sshAuthorizedKeys: [deployPublicKey], ntpServers: settings.ntpServers, hosts: settings.hosts };
}

/** The kubelet's settings on a node of `role`: the role's label next to the pool's own labels and taints. */
function kubeletInput(
    settings: NodeSettings,
    role: keyof typeof NODE_ROLE_LABELS,
    labels: Readonly<Record<string, string>>,
    taints: readonly NodeTaint[],
): KubeletInput {
    return {
        apiServerUrl: settings.apiServerUrl,
        clusterDnsIp: settings.clusterDnsIp,
        downloads: settings.downloads,
        // The role label is what the cluster's workloads select (layout/roles.ts); the controller renderer adds the
        // controllers' taint itself.
        nodeLabels: { [NODE_ROLE_LABELS[role]]: "true", ...labels },
        nodeTaints: taints,
    };
}

/** The bastion's input: no hosts (it runs nothing that needs the controllers' names). */
export function bastionIgnitionInput(
    settings: Pick<NodeSettings, "ntpServers" | "updateServerUrl">,
    hostname: string,
    deployPublicKey: string,
    sshHostKey: BastionIgnitionInput["sshHostKey"],
): BastionIgnitionInput {
    return {
        role: "bastion",
        ...nodeBase({ ntpServers: settings.ntpServers, hosts: [] }, hostname, deployPublicKey),
        osUpdates: { updateServerUrl: settings.updateServerUrl },
        sshHostKey,
    };
}

/** A controller's input: its etcd member's data disk `dataDiskId` (the member's settings arrive over SSH). */
export function controllerIgnitionInput(
    settings: NodeSettings,
    controller: PlannedController,
    late: { readonly deployPublicKey: string; readonly dataDiskId: string },
): ControllerIgnitionInput {
    return {
        role: "controller",
        ...nodeBase(settings, controller.hostname, late.deployPublicKey),
        osUpdates: { updateServerUrl: settings.updateServerUrl, fleetlockUrl: settings.fleetlockUrl },
        kubernetes: kubeletInput(settings, "controller", {}, []),
        etcd: { dataDiskId: late.dataDiskId },
    };
}

/** A worker's or an edge node's input, with its pool's labels and taints. */
export function workerIgnitionInput(
    settings: NodeSettings,
    role: WorkerIgnitionInput["role"],
    hostname: string,
    pool: { readonly labels: Readonly<Record<string, string>>; readonly taints: readonly NodeTaint[] },
    deployPublicKey: string,
): WorkerIgnitionInput {
    return {
        role,
        ...nodeBase(settings, hostname, deployPublicKey),
        osUpdates: { updateServerUrl: settings.updateServerUrl, fleetlockUrl: settings.fleetlockUrl },
        kubernetes: kubeletInput(settings, role, pool.labels, pool.taints),
    };
}

/** The NFS server's input: its export on the data disk `dataDiskId` (the export list arrives over SSH). */
export function nfsServerIgnitionInput(
    settings: NodeSettings,
    hostname: string,
    late: { readonly deployPublicKey: string; readonly dataDiskId: string },
): NfsServerIgnitionInput {
    return {
        role: "nfs-server",
        ...nodeBase(settings, hostname, late.deployPublicKey),
        osUpdates: { updateServerUrl: settings.updateServerUrl },
        nfsServer: {
            dataDiskId: late.dataDiskId,
            ...(settings.fedoraMirrors ? { fedoraMirrors: settings.fedoraMirrors } : {}),
        },
    };
}
