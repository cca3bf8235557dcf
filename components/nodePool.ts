import * as alicloud from "@pulumi/alicloud";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { PlannedController, PlannedEdgeNode, PlannedNode, PlannedWorker, nodeHostname } from "../config/plan";
import { NodeIgnitionInput, NodeSettings, controllerIgnitionInput, workerIgnitionInput } from "../ignition";
import {
    RegistrySettings,
    joinFiles,
    joinKubeconfig,
    registryFiles,
    renderJoinRequestScript,
    renderJoinedScript,
    splitJoinRequests,
} from "../controlplane";
import { nodePaths } from "../layout/node";
import { kubeletClientSpec, kubeletServingSpec } from "../pki";
import type { ClusterPki } from "./clusterPki";
import { NODE_ROLE_LABELS, NodeTaint } from "../layout/roles";
import { Bastion, SshConnection } from "./bastion";
import { StageIdentity, createDataDisk, dailySnapshots } from "./common";
import { EipPool, associateEip } from "./eipPool";
import { deliverTeamKeys, installNodeFiles } from "./nodeFiles";
import { RollingPool } from "./nodeRoll";
import { LATE_VALUE_PLACEHOLDERS, LateInputs, LateValues, LateValuesWithDisk, nodeUserData } from "./userData";

/** What every pool of a stage shares, built once in index.ts (one bundle, as pulumi-eks's `CoreData`). */
export interface PoolEnvironment {
    /** Names and tags of the stage. */
    readonly identity: StageIdentity;
    /** The Fedora CoreOS image. */
    readonly imageId: pulumi.Input<string>;
    /** Node vSwitch ids, in the order of the zones (`PlannedNode.vswitchIndex` indexes this). */
    readonly vswitchIds: readonly pulumi.Input<string>[];
    /** The stage-wide settings every node's Ignition gets, and the team's SSH keys (`nodeSettings(cfg, plan)`). */
    readonly settings: NodeSettings;
    /** The bastion: its deploy key goes into every node, and every SSH step goes through it. */
    readonly bastion: Bastion;
    /** What must exist before a node boots: the NAT gateway's SNAT entries (first boot downloads through them). */
    readonly bootAfter: readonly pulumi.Resource[];
    /** The registries the kubelets pull from and their mirrors, delivered with the join (`registrySettings(cfg)`). */
    readonly registries: RegistrySettings;
}

/**
 * How a worker's or edge node's kubelet joins: the node makes its keys and asks for its certificates over SSH, the
 * cluster CA signs exactly its name (and address), and the certificates go back over SSH. No token, no key in transit.
 */
export interface NodeJoin {
    /** The kubeconfigs' cluster name (`ClusterPki.clusterName`). */
    readonly clusterName: string;
    readonly caCertPem: pulumi.Input<string>;
    /** https://<internal load balancer>:6443 (`planCluster(cfg).apiServerUrl`). */
    readonly apiServerUrl: string;
    /** Signs the node's requests after checking them (`ClusterPki`). */
    readonly signer: Pick<ClusterPki, "signNodeRequest">;
}

/** The control plane as a pool of joining nodes needs it: to join, and to drain a node before its host goes. */
export interface PoolCluster {
    /** A kubeconfig that may cordon, evict and delete Nodes (the admin kubeconfig; secret). */
    readonly kubeconfig: pulumi.Input<string>;
    /**
     * What a node's join waits for (the API's readiness). On `pulumi destroy` the joins, and so the drains, then go
     * before the control plane does.
     */
    readonly ready: readonly pulumi.Resource[];
}

/** What every pool has, whatever its role. */
interface PoolArgsBase {
    /** What every pool of the stage shares. */
    readonly environment: PoolEnvironment;
    /** ECS instance type of every node. */
    readonly instanceType: string;
    /** System disk size in GiB. */
    readonly systemDiskGb: number;
    /** Disk category of the system disks (and of the controllers' etcd disks). */
    readonly diskCategory: string;
    /** Security groups every node of the pool joins. */
    readonly securityGroupIds: pulumi.Input<string>[];
}

/** Controllers: etcd members on protected disks, never replaced by a routine update. */
export interface ControllerPoolArgs extends PoolArgsBase {
    readonly role: "controller";
    /** The controllers, from `planCluster` (hostname, zone, fixed address). */
    readonly nodes: readonly PlannedController[];
    /** Size of each etcd data disk in GiB. */
    readonly etcdDiskGb: number;
    /** Whether the etcd disks' snapshots outlive them (config `keepDataOnDestroy`; false for throwaway stages). */
    readonly keepDataOnDestroy: boolean;
    /**
     * The controllers (by index) that take the current image, Ignition config, instance type and system disk in this
     * update, by replacement. Every other controller keeps what it was created with.
     */
    readonly roll: readonly number[];
}

/** What a pool of kubelets that join over SSH (workers, edge nodes) has. */
interface JoiningPoolArgs extends PoolArgsBase {
    /** Extra node labels from the stage config. */
    readonly labels: Readonly<Record<string, string>>;
    /** Node taints from the stage config. */
    readonly taints: readonly NodeTaint[];
    /** How the kubelets join; nothing of it is in user data. Controllers get theirs from the control plane. */
    readonly join: NodeJoin;
    /** The control plane: what the joins wait for and what drains nodes. */
    readonly cluster: PoolCluster;
    /** Nodes replaced at a time when their config or image changes (config `<pool>.rollBatch`). */
    readonly rollBatch: number;
    /** How long draining one node may take (config `<pool>.drainTimeoutMinutes`). */
    readonly drainTimeoutMinutes: number;
}

/** Workers: cattle, replaced (drained, in batches) when their Ignition config or image changes. */
export interface WorkerPoolArgs extends JoiningPoolArgs {
    readonly role: "worker";
    /** The workers, from `planCluster`. */
    readonly nodes: readonly PlannedWorker[];
}

/** Edge nodes: workers that run ingress, each holding one EIP. */
export interface EdgePoolArgs extends JoiningPoolArgs {
    readonly role: "edge";
    /** The edge nodes, from `planCluster`, each with its EIP claim. */
    readonly nodes: readonly PlannedEdgeNode[];
    /** The pool the nodes' EIP claims come from. */
    readonly eipPool: EipPool;
}

/** Arguments of a `NodePool`: one shape per role, so what a role needs cannot be left out. */
export type NodePoolArgs = ControllerPoolArgs | WorkerPoolArgs | EdgePoolArgs;

/** One node as created: its plan, its instance, and how to reach it over SSH (through the bastion, host key pinned). */
export interface PoolNode<P extends PlannedNode = PlannedNode> {
    readonly planned: P;
    readonly instance: alicloud.ecs.Instance;
    readonly connection: SshConnection;
}

/**
 * A pool of Fedora CoreOS ECS instances that share one Ignition role, spread round-robin over the zones.
 * Workers and edge nodes are cattle: a new Ignition config or image replaces them, `rollBatch` at a time, each drained
 * and deleted before its replacement exists (components/nodeRoll.ts). Controllers hold etcd: a routine update
 * never replaces them (user data and image are ignored after creation), their etcd data sits on a protected disk,
 * and their disks are snapshotted daily.
 */
export class NodePool<A extends NodePoolArgs = NodePoolArgs> extends pulumi.ComponentResource {
    /** The nodes in plan order, each with its planned name and address. */
    public readonly nodes: readonly PoolNode<A["nodes"][number]>[];
    public readonly instanceIds: pulumi.Output<string[]>;
    public readonly privateIps: pulumi.Output<string[]>;

    constructor(name: string, args: A, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:NodePool", name, {}, opts);
        const pool: NodePoolArgs = args;
        let created: PoolNode[];
        switch (pool.role) {
            case "controller":
                created = this.controllers(name, pool);
                break;
            case "worker": {
                const rolling = this.rollingPool(name, pool);
                created = pool.nodes.map((node) => this.joiningNode(name, pool, node, rolling));
                break;
            }
            case "edge": {
                const rolling = this.rollingPool(name, pool);
                created = pool.nodes.map((node) => {
                    const joined = this.joiningNode(name, pool, node, rolling);
                    associateEip(
                        `${name}-${node.index}-eip`,
                        pool.eipPool.claim(node.eipClaim),
                        { instanceId: joined.instance.id, instanceType: "EcsInstance" },
                        this,
                    );
                    return joined;
                });
                break;
            }
        }
        // Each node was made from one element of args.nodes, in order, so its plan has that element's type.
        this.nodes = created as PoolNode<A["nodes"][number]>[];
        this.instanceIds = pulumi.all(this.nodes.map((n) => n.instance.id));
        this.privateIps = pulumi.all(this.nodes.map((n) => n.instance.privateIp));
        this.registerOutputs({ instanceIds: this.instanceIds, privateIps: this.privateIps });
    }

    /** Controllers: a snapshot policy, and per controller an etcd disk, the instance and the disk's attachment. */
    private controllers(name: string, args: ControllerPoolArgs): PoolNode<PlannedController>[] {
        const tags = this.tags(args);
        const snapshots = dailySnapshots(`${name}-snapshots`, args.environment.identity, "controller-snapshots", tags, this);
        return args.nodes.map((node) => {
            const key = `${name}-${node.index}`;
            const etcdDisk = createDataDisk(
                `${key}-etcd`,
                {
                    diskName: `${node.hostname}-etcd`,
                    description: `etcd data of ${node.hostname}`,
                    zone: node.zone,
                    category: args.diskCategory,
                    sizeGb: args.etcdDiskGb,
                    tags: { ...tags, data: "etcd" },
                    keepOnDestroy: false,
                    snapshots: { policyId: snapshots.id, keepOnDestroy: args.keepDataOnDestroy },
                },
                this,
            );
            const { instance, connection } = this.instance<LateValuesWithDisk>(name, args, node, {
                build: (late) => controllerIgnitionInput(args.environment.settings, node, late),
                late: { deployPublicKey: args.environment.bastion.deployPublicKey, dataDiskId: etcdDisk.disk.id },
                placeholders: LATE_VALUE_PLACEHOLDERS,
                options: controllerUpdates(args.roll.includes(node.index)),
                // A throwaway stage's system disks get no snapshots: ECS keeps them after the instance is released.
                systemDiskSnapshots: args.keepDataOnDestroy ? snapshots.id : undefined,
            });
            etcdDisk.attachTo(instance);
            return { planned: node, instance, connection };
        });
    }

    /**
     * The hooks and batches of a pool of joining nodes. Which of its nodes exist already comes from Alibaba's instance
     * list (by the stage's tags and the role): only those are replaced batch after batch; new nodes are created at once.
     */
    private rollingPool(name: string, args: WorkerPoolArgs | EdgePoolArgs): RollingPool {
        const identity = args.environment.identity;
        const pool = args.role === "worker" ? "workers" : "edge";
        const instances = alicloud.ecs.getInstancesOutput({ tags: { ...identity.tags, role: args.role } }, { parent: this });
        return new RollingPool({
            pool: name,
            roleLabel: NODE_ROLE_LABELS[args.role],
            hostnameOf: (index) => nodeHostname(identity.namePrefix, pool, index),
            rollBatch: args.rollBatch,
            drainTimeoutMinutes: args.drainTimeoutMinutes,
            kubeconfig: args.cluster.kubeconfig,
            // The mock runtime's invoke answers without `instances`: nothing exists yet.
            existing: instances.apply((found) => (found.instances ?? []).map((i) => i.name)),
        });
    }

    /** A worker or edge node: the instance, and its join over SSH, which drains the node before its host goes. */
    private joiningNode<P extends PlannedWorker | PlannedEdgeNode>(
        name: string,
        args: WorkerPoolArgs | EdgePoolArgs,
        node: P,
        rolling: RollingPool,
    ): PoolNode<P> {
        const env = args.environment;
        const { instance, connection } = this.instance<LateValues>(name, args, node, {
            build: (late) => workerIgnitionInput(env.settings, args.role, node.hostname, args, late.deployPublicKey),
            late: { deployPublicKey: env.bastion.deployPublicKey },
            placeholders: LATE_VALUE_PLACEHOLDERS,
            // One host per node name: the old instance (drained by its join's hook) goes before the new one exists.
            options: { ...REPLACED_ON_NEW_CONFIG, deleteBeforeReplace: true },
            after: rolling.instanceDependsOn(node.index),
        });
        // The join (docs/security.md, "Joining"): the node makes its join and serving keys and prints the two requests,
        // the cluster CA signs them once they ask for exactly this node, and the certificates go back with the CA and the
        // registry mirrors. The join kubeconfig names the key's path on the node: nothing secret travels, and its arrival
        // starts the kubelet, whose first pull already goes through the mirrors.
        const key = `${name}-${node.index}`;
        const target = `${args.role} ${node.hostname}`;
        const requests = new command.remote.Command(
            `${key}-join-request`,
            {
                connection,
                create: "sudo bash -s",
                stdin: instance.privateIp.apply((ip) => renderJoinRequestScript({ target, hostname: node.hostname, ip })),
                // A new instance makes new keys; nothing else re-runs this.
                triggers: [instance.id],
                addPreviousOutputInEnv: false,
            },
            { parent: this, dependsOn: [instance, ...env.bastion.ready] },
        );
        const asked = requests.stdout.apply(splitJoinRequests);
        const join = args.join;
        const clientCertPem = join.signer.signNodeRequest(
            `${key}-kubelet-client`,
            asked.apply((r) => r.join),
            kubeletClientSpec(node.hostname),
            this,
        );
        const servingCertPem = join.signer.signNodeRequest(
            `${key}-kubelet-serving`,
            asked.apply((r) => r.serving),
            instance.privateIp.apply((ip) => kubeletServingSpec(node.hostname, ip)),
            this,
        );
        const delivered = installNodeFiles(
            rolling.joinName(node.index),
            {
                target,
                connection,
                files: pulumi
                    .all([join.caCertPem, clientCertPem, servingCertPem])
                    .apply(([caCertPem, clientCertificatePem, servingCert]) => ({
                        files: [
                            ...registryFiles(env.registries, false),
                            ...joinFiles({
                                caCertPem,
                                servingCertPem: servingCert,
                                kubeconfig: joinKubeconfig({
                                    clusterName: join.clusterName,
                                    hostname: node.hostname,
                                    server: join.apiServerUrl,
                                    caCertPem,
                                    credentials: { clientCertificatePem, clientKeyFile: nodePaths.joinKey },
                                }),
                            }),
                        ],
                    })),
                secret: false,
                instance,
                after: [requests, ...env.bastion.ready, ...args.cluster.ready],
                hooks: rolling.joinHooks,
            },
            this,
        );
        // The join credential lives as long as the join: once the kubelet holds a certificate of its own, it goes.
        new command.remote.Command(
            `${key}-joined`,
            {
                connection,
                create: "sudo bash -s",
                stdin: renderJoinedScript({ target }),
                triggers: [instance.id],
                addPreviousOutputInEnv: false,
            },
            { parent: this, dependsOn: [delivered] },
        );
        rolling.joined(node.index, delivered);
        return { planned: node, instance, connection };
    }

    /** One node's instance (with its user data), its pinned host key, and the delivery of the team's keys to it. */
    private instance<L extends LateValues>(
        name: string,
        args: NodePoolArgs,
        node: PlannedNode,
        how: InstanceSpec<L>,
    ): { instance: alicloud.ecs.Instance; connection: SshConnection } {
        const env = args.environment;
        const key = `${name}-${node.index}`;
        const userData = nodeUserData<L>(this, name, node.hostname, how.build, how.late, how.placeholders);
        const instance = new alicloud.ecs.Instance(
            key,
            {
                instanceName: node.hostname,
                hostName: node.hostname,
                description: `${args.role} ${node.index} of ${env.identity.namePrefix}`,
                imageId: env.imageId,
                instanceType: args.instanceType,
                vswitchId: env.vswitchIds[node.vswitchIndex],
                privateIp: node.pool === "controllers" ? node.ip : undefined,
                securityGroups: args.securityGroupIds,
                // Public traffic goes through the NAT gateway or the node's EIP, never a fixed public IP.
                internetMaxBandwidthOut: 0,
                instanceChargeType: "PostPaid",
                systemDiskCategory: args.diskCategory,
                systemDiskSize: args.systemDiskGb,
                systemDiskEncrypted: true,
                systemDiskAutoSnapshotPolicyId: how.systemDiskSnapshots,
                userData: userData.base64,
                tags: { ...this.tags(args), node: node.hostname },
            },
            {
                parent: this,
                dependsOn: pulumi.output(how.after ?? []).apply((after) => [...env.bootAfter, ...after]),
                ...how.options,
            },
        );
        const hostKey = env.bastion.scanHostKey(`${key}-host-key`, instance.privateIp, instance, this);
        const connection = env.bastion.connectionTo(instance.privateIp, hostKey);
        deliverTeamKeys(
            `${key}-ssh-keys`,
            { target: `${args.role} ${node.hostname}`, connection, instance },
            env.settings.sshAuthorizedKeys,
            env.bastion.ready,
            this,
        );
        return { instance, connection };
    }

    private tags(args: NodePoolArgs): Record<string, string> {
        return { ...args.environment.identity.tags, role: args.role };
    }
}

/** How one node's instance is made: its Ignition input and the options that decide whether it is ever replaced. */
interface InstanceSpec<L extends LateValues> {
    /** The node's Ignition input, from the values only the cloud knows. */
    readonly build: (late: L) => NodeIgnitionInput;
    readonly late: LateInputs<L>;
    /** Same-length stand-ins for `late`, for the size check at preview. */
    readonly placeholders: L;
    readonly options: pulumi.CustomResourceOptions;
    /** What the instance waits for besides the environment's `bootAfter` (the previous batch of a roll). */
    readonly after?: pulumi.Input<pulumi.Resource[]>;
    /** The snapshot policy of the system disk (controllers). */
    readonly systemDiskSnapshots?: pulumi.Input<string>;
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
