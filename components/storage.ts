import * as alicloud from "@pulumi/alicloud";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderNasVolumesDirScript, renderNfsReadyScript } from "../controlplane";
import type { SshConnection } from "./bastion";
import { StorageConfig } from "../config/types";
import { NAS_VOLUMES_DIR, NFS_SQUASH_ID } from "../layout/cluster";
import { nodePaths } from "../layout/node";
import { createDataDisk, dailySnapshots, physicalName } from "./common";
import { IngressRule, createIngressRules, portRange } from "./network";
import { METRICS_PORTS } from "../layout/cluster";
import { nfsServerIgnitionInput } from "../ignition";
import { PoolEnvironment } from "./nodePool";
import { deliverNodeExporter, deliverTeamKeys, installNodeFiles } from "./nodeFiles";
import { nfsExportFiles } from "../controlplane";
import { LATE_VALUE_PLACEHOLDERS, LateValuesWithDisk, nodeUserData } from "./userData";

/** Arguments of a `SharedStorage`. */
export interface SharedStorageArgs {
    /**
     * What every node pool shares (names and tags, image, node settings, bastion, what to boot after); the NFS node
     * uses it as a pool's nodes do (it layers nfs-utils on first boot, through the NAT gateway).
     */
    readonly environment: PoolEnvironment;
    /** The stage's choice: Alibaba NAS, or an NFS server on its own ECS node. */
    readonly storage: StorageConfig;
    /** Whether `pulumi destroy` (after `pulumi state unprotect`) leaves the data, and its snapshots, behind. */
    readonly keepDataOnDestroy: boolean;
    readonly vpcId: pulumi.Input<string>;
    /** The first node vSwitch (`Network.nodeVswitches[0]`): where the mount target or the NFS node lives. */
    readonly vswitch: { readonly id: pulumi.Input<string>; readonly zone: string };
    /** nfs-server: the node's fixed private address in that vSwitch (planCluster's nfsServerAddress). */
    readonly nfsServerAddress: string;
    /**
     * The node vSwitch CIDRs: the only networks allowed to mount. They follow the config in place: NAS access rules
     * are keyed by network, and the NFS node's export list is delivered over SSH and reloaded.
     */
    readonly clientCidrs: readonly string[];
    /** nfs-server: security groups of the nodes and the bastion (the NFS node admits them). */
    readonly securityGroupIds: { readonly nodes: pulumi.Input<string>; readonly bastion: pulumi.Input<string> };
    /**
     * nfs-server: the Kubernetes node the readiness wait mounts the export from (the NFS node admits NFS only from the
     * nodes), through the bastion: the first controller, which exists before anything that needs the export.
     */
    readonly checkFrom: { readonly target: string; readonly connection: SshConnection; readonly instance: pulumi.CustomResource };
    /** nfs-server: whether Prometheus scrapes the NFS node (observability on): node_exporter then runs there. */
    readonly nodeExporter: boolean;
}

/** The NFS server's security rules: NFS from the nodes, SSH from the bastion, node_exporter from the nodes (observability on). */
export function nfsServerIngressRules(observability: boolean): IngressRule[] {
    return [
        ...(observability
            ? [
                  {
                      group: "nfs",
                      protocol: "tcp",
                      ports: portRange(METRICS_PORTS.nodeExporter),
                      source: { group: "nodes" },
                      why: "Prometheus scrapes node_exporter",
                  } as const,
              ]
            : []),
        { group: "nfs", protocol: "tcp", ports: "2049/2049", source: { group: "nodes" }, why: "NFSv4 from the Kubernetes nodes" },
        {
            group: "nfs",
            protocol: "tcp",
            ports: "22/22",
            source: { group: "bastion" },
            why: "SSH to the NFS node only through the bastion",
        },
    ];
}

/**
 * The NFS server behind the cluster's default StorageClass (the write-up's lesson: pods move between hosts, so
 * host-local disks are useless). Either Alibaba NAS (managed NFS) or, cheaper for small stages, an ECS node
 * with its own cloud disk. Whatever holds data is protected and survives the stack's deletion.
 */
export class SharedStorage extends pulumi.ComponentResource {
    /** NFS server address (NAS mount-target domain or the node's private IP). */
    public readonly server: pulumi.Output<string>;
    /** The exported path. */
    public readonly path: string;
    /** What must exist before anything uses the export: the NAS mount target, or the NFS node's readiness wait. */
    public readonly ready: pulumi.Resource[];
    /** nfs-server: the NFS node and SSH to it, host key pinned (its OS updates are turned on with everyone else's). */
    public readonly nfsNode?: { readonly hostname: string; readonly instance: alicloud.ecs.Instance; readonly connection: SshConnection };

    constructor(name: string, args: SharedStorageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:SharedStorage", name, {}, opts);
        const { identity, settings, bastion } = args.environment;
        const tags = { ...identity.tags, role: "storage" };
        const s = args.storage;
        // Data is never deleted by a routine update (protect). Whether `pulumi destroy` of the stage (after an explicit
        // `pulumi state unprotect`) leaves it behind is the stage's choice: yes, except for throwaway stages.
        const keep = { protect: true, retainOnDelete: args.keepDataOnDestroy };
        if (s.kind === "nas") {
            const fileSystem = new alicloud.nas.FileSystem(
                `${name}-nas`,
                {
                    protocolType: "NFS",
                    storageType: s.nasStorageType,
                    fileSystemType: "standard",
                    encryptType: 1,
                    zoneId: args.vswitch.zone,
                    description: physicalName(identity, "shared-storage"),
                    tags,
                },
                // The data of every PersistentVolume.
                { parent: this, ...keep },
            );
            const accessGroup = new alicloud.nas.AccessGroup(
                `${name}-access`,
                {
                    accessGroupName: physicalName(identity, "nodes"),
                    accessGroupType: "Vpc",
                    fileSystemType: "standard",
                    description: "Kubernetes node vSwitches",
                },
                // Its name is unique in the account and the mount target records it: a replacement would collide with itself
                // and take the mount target along. A kept mount target still uses it, which Alibaba then refuses to delete.
                { parent: this, protect: true, deleteBeforeReplace: true, retainOnDelete: args.keepDataOnDestroy },
            );
            args.clientCidrs.forEach((cidr, i) => {
                new alicloud.nas.AccessRule(
                    `${name}-access-${cidr.replace(/[./]/g, "_")}`,
                    {
                        accessGroupName: accessGroup.accessGroupName,
                        sourceCidrIp: cidr,
                        rwAccessType: "RDWR",
                        // Every node (and so every pod that could mount it) acts as nobody: no root on the data.
                        userAccessType: "all_squash",
                        priority: i + 1,
                        fileSystemType: "standard",
                    },
                    { parent: this },
                );
            });
            // The bastion runs no pods and only the team logs in there: the one host that may act as root on the file
            // system, to give the provisioner its directory (below) and for repairs by hand (docs/security.md).
            const bastionRule = new alicloud.nas.AccessRule(
                `${name}-access-bastion`,
                {
                    accessGroupName: accessGroup.accessGroupName,
                    sourceCidrIp: pulumi.interpolate`${bastion.privateIp}/32`,
                    rwAccessType: "RDWR",
                    userAccessType: "no_squash",
                    // Fixed (NAS's lowest, 100), not after the zones' rules: a zone added later changes no other rule. Its
                    // /32 is in the public vSwitch, which no node network overlaps, so the order decides nothing.
                    priority: 100,
                    fileSystemType: "standard",
                },
                { parent: this },
            );
            const mountTarget = new alicloud.nas.MountTarget(
                `${name}-mount`,
                {
                    fileSystemId: fileSystem.id,
                    accessGroupName: accessGroup.accessGroupName,
                    networkType: "Vpc",
                    vpcId: args.vpcId,
                    vswitchId: args.vswitch.id,
                },
                { parent: this, ...keep },
            );
            const volumesDir = new command.remote.Command(
                `${name}-volumes-dir`,
                {
                    connection: bastion.connection,
                    create: "sudo bash -s",
                    stdin: mountTarget.mountTargetDomain.apply((server) =>
                        renderNasVolumesDirScript({ server, dir: NAS_VOLUMES_DIR, owner: NFS_SQUASH_ID }),
                    ),
                    addPreviousOutputInEnv: false,
                },
                { parent: this, dependsOn: [mountTarget, bastionRule, ...bastion.ready] },
            );
            // The server's address once the provisioner's directory exists.
            this.server = pulumi.all([mountTarget.mountTargetDomain, volumesDir.stdout]).apply(([domain]) => domain);
            this.path = NAS_VOLUMES_DIR;
            this.ready = [volumesDir];
        } else {
            const group = new alicloud.ecs.SecurityGroup(
                `${name}-sg-nfs`,
                {
                    vpcId: args.vpcId,
                    securityGroupName: physicalName(identity, "nfs"),
                    description: "NFS server",
                    innerAccessPolicy: "Drop",
                    tags,
                },
                { parent: this },
            );
            createIngressRules(name, nfsServerIngressRules(args.nodeExporter), { nfs: group.id, ...args.securityGroupIds }, this);
            const hostname = physicalName(identity, "nfs");
            const snapshots = dailySnapshots(`${name}-snapshots`, identity, "nfs-snapshots", tags, this);
            const disk = createDataDisk(
                `${name}-data`,
                {
                    diskName: `${hostname}-data`,
                    description: "Data of every PersistentVolume",
                    zone: args.vswitch.zone,
                    category: s.diskCategory,
                    sizeGb: s.diskGb,
                    tags: { ...tags, data: "nfs" },
                    keepOnDestroy: args.keepDataOnDestroy,
                    snapshots: { policyId: snapshots.id, keepOnDestroy: args.keepDataOnDestroy },
                },
                this,
            );
            const userData = nodeUserData<LateValuesWithDisk>(
                this,
                name,
                hostname,
                (late) => nfsServerIgnitionInput(settings, hostname, late),
                { deployPublicKey: bastion.deployPublicKey, dataDiskId: disk.disk.id },
                LATE_VALUE_PLACEHOLDERS,
            );
            const instance = new alicloud.ecs.Instance(
                `${name}-node`,
                {
                    instanceName: hostname,
                    hostName: hostname,
                    description: "NFS server of the default StorageClass",
                    imageId: args.environment.imageId,
                    instanceType: s.instanceType,
                    vswitchId: args.vswitch.id,
                    privateIp: args.nfsServerAddress,
                    securityGroups: [group.id],
                    internetMaxBandwidthOut: 0,
                    instanceChargeType: "PostPaid",
                    systemDiskCategory: s.diskCategory,
                    systemDiskSize: 20,
                    systemDiskEncrypted: true,
                    userData: userData.base64,
                    tags: { ...tags, node: hostname },
                },
                // Like a controller: it serves data, so a new config or image never replaces it by itself; an explicit
                // replacement frees the fixed address (and the disk) before the new node takes them.
                {
                    parent: this,
                    dependsOn: [...args.environment.bootAfter],
                    ignoreChanges: ["userData", "imageId"],
                    deleteBeforeReplace: true,
                },
            );
            disk.attachTo(instance);
            const hostKey = bastion.scanHostKey(`${name}-host-key`, args.nfsServerAddress, instance, this);
            const connection = bastion.connectionTo(args.nfsServerAddress, hostKey);
            const node = { target: `NFS server ${hostname}`, connection, instance };
            const teamKeys = deliverTeamKeys(`${name}-ssh-keys`, node, settings.sshAuthorizedKeys, bastion.ready, this);
            if (args.nodeExporter) {
                deliverNodeExporter(`${name}-node-exporter`, node, args.environment.registries, [teamKeys], this);
            }
            // Not in Ignition, which runs once: a zone added later must reach the running server's export list.
            const exports = installNodeFiles(
                `${name}-exports`,
                { ...node, files: nfsExportFiles(nodePaths.nfsExportDir, args.clientCidrs), secret: false, after: bastion.ready },
                this,
            );
            this.server = pulumi.output(args.nfsServerAddress);
            this.path = nodePaths.nfsExportDir;
            this.nfsNode = { hostname, instance, connection };
            // The NFS node layers nfs-utils and reboots on first boot: nothing that needs the export (the provisioner,
            // the apps' volumes) is created until a node can mount it. Runs again for a new NFS node; after the export list
            // has arrived (over SSH, not in Ignition), without which no node may mount.
            this.ready = [
                new command.remote.Command(
                    `${name}-ready`,
                    {
                        connection: args.checkFrom.connection,
                        create: "sudo bash -s",
                        stdin: renderNfsReadyScript({ target: args.checkFrom.target, server: args.nfsServerAddress, path: this.path }),
                        triggers: [instance.id],
                        addPreviousOutputInEnv: false,
                    },
                    { parent: this, dependsOn: [instance, exports, args.checkFrom.instance, ...bastion.ready] },
                ),
            ];
        }
        this.registerOutputs({ server: this.server, path: this.path });
    }
}
