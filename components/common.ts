import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
/**
 * What every component shares: the naming rule and the tags that mark a resource as this stage's.
 */

/** Names and tags of one stage, handed to every component instead of the whole config. */
export interface StageIdentity {
    /** `<project>-<stage>`: the start of every physical name. */
    readonly namePrefix: string;
    /** Tags every taggable resource carries. */
    readonly tags: Readonly<Record<string, string>>;
}

/**
 * A daily automatic snapshot policy (03:00, kept `retentionDays`): the write-up snapshotted after every upgrade, and
 * Zincati upgrades at any time.
 */
export function dailySnapshots(
    name: string,
    identity: StageIdentity,
    physical: string,
    tags: Readonly<Record<string, string>>,
    parent: pulumi.Resource,
): alicloud.ecs.AutoSnapshotPolicy {
    return new alicloud.ecs.AutoSnapshotPolicy(
        name,
        {
            autoSnapshotPolicyName: physicalName(identity, physical),
            repeatWeekdays: ["1", "2", "3", "4", "5", "6", "7"],
            timePoints: ["3"],
            retentionDays: 14,
            tags,
        },
        { parent },
    );
}

/** The identity of a stage (`coreos-platform`, `dev`). */
export function stageIdentity(project: string, stage: string): StageIdentity {
    return {
        namePrefix: `${project}-${stage}`,
        tags: { project, stage, "managed-by": "pulumi" },
    };
}

/** A physical name: project, stage, then the parts ("coreos-platform-dev-nodes-cn-hangzhou-i"). */
export function physicalName(id: StageIdentity, ...parts: (string | number)[]): string {
    return [id.namePrefix, ...parts].join("-");
}

/** What a data disk holds and where it lives. */
export interface DataDiskArgs {
    /** Physical name ("<host>-etcd"). */
    readonly diskName: string;
    readonly description: string;
    readonly zone: string;
    readonly category: string;
    readonly sizeGb: number;
    /** Tags; `data` names what it holds (etcd, nfs), which the policy pack recognises. */
    readonly tags: Readonly<Record<string, string>>;
    /** Whether `pulumi destroy` leaves it in the account. */
    readonly keepOnDestroy: boolean;
    /** The automatic snapshot policy the disk is put under, and whether its snapshots outlive the disk. */
    readonly snapshots: { readonly policyId: pulumi.Input<string>; readonly keepOnDestroy: boolean };
}

/**
 * A cloud disk that holds data: encrypted, snapshotted by the given policy, `protect`ed (no `pulumi up` deletes or
 * replaces it; only an explicit `pulumi state unprotect` can), created apart from its instance so that it outlives a
 * replacement. The node's Ignition waits for it (it is attached after the instance exists) and formats it only if it
 * is blank. A throwaway stage's snapshots go with the disk, so that destroying it leaves nothing billed.
 */
export function createDataDisk(
    name: string,
    args: DataDiskArgs,
    parent: pulumi.Resource,
): { disk: alicloud.ecs.EcsDisk; attachTo(instance: alicloud.ecs.Instance): void } {
    const disk = new alicloud.ecs.EcsDisk(
        name,
        {
            diskName: args.diskName,
            description: args.description,
            zoneId: args.zone,
            category: args.category,
            size: args.sizeGb,
            encrypted: true,
            // Automatic snapshots are released with the disk unless the stage keeps its data.
            deleteAutoSnapshot: !args.snapshots.keepOnDestroy,
            tags: args.tags,
        },
        { parent, protect: true, retainOnDelete: args.keepOnDestroy },
    );
    new alicloud.ecs.EcsAutoSnapshotPolicyAttachment(
        `${name}-snapshots`,
        { autoSnapshotPolicyId: args.snapshots.policyId, diskId: disk.id },
        { parent },
    );
    return {
        disk,
        attachTo: (instance) => {
            new alicloud.ecs.EcsDiskAttachment(
                `${name}-attach`,
                { diskId: disk.id, instanceId: instance.id, deleteWithInstance: false },
                { parent },
            );
        },
    };
}
