import * as alicloud from "@pulumi/alicloud";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PlannedNode } from "../config/plan";
import { HostEntry, NodeIgnitionInput } from "../ignition/input";
import { NodeTaint } from "../layout/roles";
import { nodePaths } from "../layout/node";
import { NODE_ROLE_LABELS } from "../layout/roles";
import { Bastion } from "./bastion";
import { StageIdentity, createDataDisk, physicalName } from "./common";
import { EipPool, associateEip } from "./eipPool";
import { deliverTeamKeys } from "./teamKeys";
import { nodeUserData } from "./userData";

/** The Kubernetes roles a pool can have; `edge` is a worker that holds an EIP and runs ingress. */
export type PoolRole = "controller" | "worker" | "edge";

/** What every node of a stage is told at first boot, whatever its pool. */
export interface NodeSettings {
    /** The team's SSH public keys (the deploy key is added by the pool). */
    readonly sshAuthorizedKeys: readonly string[];
    readonly ntpServers: readonly string[];
    /** The controllers' names and addresses, written to /etc/hosts everywhere. */
    readonly hosts: readonly HostEntry[];
    readonly updateServerUrl?: string;
    /** http://<fleetlock service ip>/ */
    readonly fleetlockUrl: string;
    /** https://<internal API load balancer>:6443 */
    readonly apiServerUrl: string;
    readonly clusterDnsIp: string;
    readonly clusterDomain: string;
}

/** Arguments of a `NodePool`. */
export interface NodePoolArgs {
    /** Names and tags of the stage. */
    readonly identity: StageIdentity;
    /** The pool's role: decides the Ignition renderer, labels, and whether nodes are ever replaced. */
    readonly role: PoolRole;
    /** The nodes, from `planCluster` (hostname, zone, fixed address, EIP claim). */
    readonly nodes: readonly PlannedNode[];
    /** ECS instance type of every node. */
    readonly instanceType: string;
    /** System disk size in GiB. */
    readonly systemDiskGb: number;
    /** Disk category of system (and etcd) disks. */
    readonly diskCategory: string;
    /** Extra node labels from the stage config. Defaults to none. */
    readonly labels?: Readonly<Record<string, string>>;
    /** Node taints from the stage config. Defaults to none. */
    readonly taints?: readonly NodeTaint[];
    /** Controllers: size of each etcd data disk in GiB. Required for controllers. */
    readonly etcdDiskGb?: number;
    /** The Fedora CoreOS image. */
    readonly imageId: pulumi.Input<string>;
    /** Node vSwitch ids, in the order of the zones (`PlannedNode.vswitchIndex` indexes this). */
    readonly vswitchIds: pulumi.Input<string>[];
    /** Security groups every node of the pool joins. */
    readonly securityGroupIds: pulumi.Input<string>[];
    /** The stage-wide settings every node's Ignition gets. */
    readonly settings: NodeSettings;
    /** The bastion: its deploy key goes into every node, and joins go through it. */
    readonly bastion: Bastion;
    /**
     * Workers and edge: what the kubelet joins with, copied over SSH through the bastion after boot (never in
     * user data). Controllers get theirs from the control plane.
     */
    readonly join?: { readonly caCertPem: pulumi.Input<string>; readonly bootstrapKubeconfig: pulumi.Input<string> };
    /** Edge: the pool the nodes' EIP claims come from. Required for edge pools. */
    readonly eipPool?: EipPool;
    /**
     * Controllers: the ones (by index) that take the current image, Ignition config, instance type and system disk
     * in this update, by replacement. Every other controller keeps what it was created with. Defaults to none.
     */
    readonly roll?: readonly number[];
    /** What must exist before a node boots (the NAT gateway's SNAT entries). Defaults to nothing. */
    readonly bootAfter?: pulumi.Resource[];
}

/** One node as created. */
export interface PoolNode {
    readonly hostname: string;
    readonly instance: alicloud.ecs.Instance;
    readonly privateIp: pulumi.Output<string>;
}

/** The script that installs a joining node's CA and bootstrap kubeconfig (fed on stdin, so never logged). */
export function joinScript(caCertPem: string, bootstrapKubeconfig: string): string {
    const install = (path: string, mode: string, content: string) =>
        `mkdir -p ${path.replace(/\/[^/]+$/, "")} && printf '%s' '${Buffer.from(content).toString("base64")}' | base64 -d > ${path}.tmp && chmod ${mode} ${path}.tmp && mv ${path}.tmp ${path}`;
    // The CA first: kubelet.path starts the kubelet as soon as the bootstrap kubeconfig exists.
    return [
        "set -eu",
        "umask 077",
        install(nodePaths.clusterCaCert, "0644", caCertPem),
        install(nodePaths.bootstrapKubeconfig, "0600", bootstrapKubeconfig),
        "",
    ].join("\n");
}

/**
 * A pool of Fedora CoreOS ECS instances that share one Ignition role, spread round-robin over the zones.
 * Workers and edge nodes are cattle: a new Ignition config replaces them. Controllers hold etcd: a routine update
 * never replaces them (user data and image are ignored after creation), their etcd data sits on a protected disk,
 * and their disks are snapshotted daily.
 */
export class NodePool extends pulumi.ComponentResource {
    public readonly nodes: readonly PoolNode[];
    public readonly instanceIds: pulumi.Output<string[]>;
    public readonly privateIps: pulumi.Output<string[]>;

    constructor(name: string, args: NodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:NodePool", name, {}, opts);
        if (args.role === "controller" && args.etcdDiskGb === undefined) {
            throw new pulumi.ResourceError(`NodePool ${name}: etcdDiskGb is required for a controller pool`, this);
        }
        if (args.role === "edge" && !args.eipPool) {
            throw new pulumi.ResourceError(`NodePool ${name}: eipPool is required for an edge pool (one EIP per node)`, this);
        }
        if (args.role !== "controller" && !args.join) {
            throw new pulumi.ResourceError(
                `NodePool ${name}: join (CA and bootstrap kubeconfig) is required for a ${args.role} pool`,
                this,
            );
        }
        const controller = args.role === "controller";
        const tags = { ...args.identity.tags, role: args.role };
        // The role label is what the cluster's workloads select (layout/roles.ts); the controller renderer adds
        // the controllers' taint itself.
        const labels = { [NODE_ROLE_LABELS[args.role]]: "true", ...(args.labels ?? {}) };
        const taints: NodeTaint[] = [...(args.taints ?? [])];
        const snapshots = controller
            ? new alicloud.ecs.AutoSnapshotPolicy(
                  `${name}-snapshots`,
                  {
                      autoSnapshotPolicyName: physicalName(args.identity, "controller-snapshots"),
                      // Daily at 03:00 (the write-up snapshotted after every upgrade; Zincati upgrades at any time).
                      repeatWeekdays: ["1", "2", "3", "4", "5", "6", "7"],
                      timePoints: ["3"],
                      retentionDays: 14,
                      tags,
                  },
                  { parent: this },
              )
            : undefined;

        this.nodes = args.nodes.map((node) => {
            const key = `${name}-${node.index}`;
            const etcdDisk = controller
                ? createDataDisk(
                      `${key}-etcd`,
                      {
                          diskName: `${node.hostname}-etcd`,
                          description: `etcd data of ${node.hostname}`,
                          zone: node.zone,
                          category: args.diskCategory,
                          sizeGb: args.etcdDiskGb!,
                          tags: { ...tags, data: "etcd" },
                          keepOnDestroy: false,
                      },
                      this,
                  )
                : undefined;
            const userData = nodeUserData(this, name, node.hostname, (late) => nodeIgnitionInput(args, node, labels, taints, late), {
                deployPublicKey: args.bastion.deployPublicKey,
                dataDiskId: etcdDisk?.disk.id,
            });
            const instance = new alicloud.ecs.Instance(
                `${key}`,
                {
                    instanceName: node.hostname,
                    hostName: node.hostname,
                    description: `${args.role} ${node.index} of ${args.identity.namePrefix}`,
                    imageId: args.imageId,
                    instanceType: args.instanceType,
                    vswitchId: args.vswitchIds[node.vswitchIndex],
                    privateIp: node.privateIp,
                    securityGroups: args.securityGroupIds,
                    // Public traffic goes through the NAT gateway or the node's EIP, never a fixed public IP.
                    internetMaxBandwidthOut: 0,
                    instanceChargeType: "PostPaid",
                    systemDiskCategory: args.diskCategory,
                    systemDiskSize: args.systemDiskGb,
                    systemDiskEncrypted: true,
                    systemDiskAutoSnapshotPolicyId: snapshots?.id,
                    userData: userData.base64,
                    tags: { ...tags, node: node.hostname },
                },
                {
                    parent: this,
                    dependsOn: args.bootAfter ?? [],
                    ...(controller ? controllerUpdates(args.roll?.includes(node.index) ?? false) : REPLACED_ON_NEW_CONFIG),
                },
            );
            if (etcdDisk) {
                etcdDisk.attachTo(instance);
                new alicloud.ecs.EcsAutoSnapshotPolicyAttachment(
                    `${key}-etcd-snapshots`,
                    { autoSnapshotPolicyId: snapshots!.id, diskId: etcdDisk.disk.id },
                    { parent: this },
                );
            }
            if (node.eipClaim) {
                associateEip(
                    `${key}-eip`,
                    args.eipPool!.claim(node.eipClaim),
                    { instanceId: instance.id, instanceType: "EcsInstance" },
                    this,
                );
            }
            if (args.join) {
                new command.remote.Command(
                    `${key}-join`,
                    {
                        connection: args.bastion.connectionTo(instance.privateIp),
                        create: "sudo sh -s",
                        // A new instance (a replaced worker) needs the files again; nothing else re-runs this.
                        triggers: [instance.id],
                        stdin: pulumi.secret(
                            pulumi
                                .all([args.join.caCertPem, args.join.bootstrapKubeconfig])
                                .apply(([ca, kubeconfig]) => joinScript(ca, kubeconfig)),
                        ),
                        logging: "stderr",
                    },
                    { parent: this, dependsOn: [instance, ...args.bastion.ready] },
                );
            }
            deliverTeamKeys(
                `${key}-ssh-keys`,
                args.bastion.connectionTo(instance.privateIp),
                args.settings.sshAuthorizedKeys,
                instance,
                args.bastion.ready,
                this,
            );
            return { hostname: node.hostname, instance, privateIp: instance.privateIp };
        });
        this.instanceIds = pulumi.all(this.nodes.map((n) => n.instance.id));
        this.privateIps = pulumi.all(this.nodes.map((n) => n.privateIp));
        this.registerOutputs({ instanceIds: this.instanceIds, privateIps: this.privateIps });
    }
}

/**
 * Ignition only runs on first boot: a changed config or image takes effect on a new instance (the provider would
 * otherwise swap the system disk in place, and Ignition would not run again).
 */
const REPLACED_ON_NEW_CONFIG: pulumi.CustomResourceOptions = { replaceOnChanges: ["userData", "imageId"] };

/** What a controller's instance does with a changed setting (README, "Controllers are never replaced by accident"). */
function controllerUpdates(rolling: boolean): pulumi.CustomResourceOptions {
    // A replacement frees the fixed address and the etcd disk before the new instance takes them.
    return rolling
        ? // Listed in controllers.roll: this one takes the current settings, by replacement if its config or image changed.
          { ...REPLACED_ON_NEW_CONFIG, deleteBeforeReplace: true }
        : // Otherwise it holds etcd and keeps what it was created with: a new config, image, instance type or system
          // disk would replace or restart every controller at once (stop/modify/start, or ForceNew), losing quorum.
          { ignoreChanges: ["userData", "imageId", "instanceType", "systemDiskCategory", "systemDiskSize"], deleteBeforeReplace: true };
}

/** The Ignition input of one node of a pool: plain data, for the pure renderer. */
export function nodeIgnitionInput(
    args: Pick<NodePoolArgs, "role" | "settings" | "nodes">,
    node: PlannedNode,
    labels: Readonly<Record<string, string>>,
    taints: readonly NodeTaint[],
    late: { deployPublicKey: string; dataDiskId?: string },
): NodeIgnitionInput {
    const s = args.settings;
    return {
        role: args.role,
        hostname: node.hostname,
        // Only the deploy key: the team's keys follow over SSH (components/teamKeys.ts), so they change in place.
        sshAuthorizedKeys: [late.deployPublicKey],
        ntpServers: s.ntpServers,
        hosts: s.hosts,
        osUpdates: { updateServerUrl: s.updateServerUrl, fleetlockUrl: s.fleetlockUrl },
        kubernetes: {
            apiServerUrl: s.apiServerUrl,
            clusterDnsIp: s.clusterDnsIp,
            clusterDomain: s.clusterDomain,
            nodeLabels: labels,
            nodeTaints: taints,
        },
        ...(args.role === "controller"
            ? {
                  etcd: {
                      name: node.hostname,
                      ip: node.privateIp!,
                      initialCluster: args.nodes.map((n) => ({ name: n.hostname, ip: n.privateIp! })),
                      dataDiskId: late.dataDiskId!,
                  },
              }
            : {}),
    };
}
