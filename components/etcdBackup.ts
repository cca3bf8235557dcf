import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import { BackupBucket, CONTROLLER_ETCD_PATHS, etcdBackupFiles } from "../controlplane";
import { PlannedController } from "../config/plan";
import { versions } from "../versions";
import type { Bastion } from "./bastion";
import { StageIdentity, physicalName } from "./common";
import { installNodeFiles } from "./nodeFiles";
import type { PoolNode } from "./nodePool";

/** Where the snapshots go inside the bucket; the controllers' role may put objects under it and nowhere else. */
export const ETCD_BACKUP_PREFIX = "etcd/";

/** Where an ECS instance reads its RAM role's short-lived credentials (Alibaba's metadata service, + role name). */
const ROLE_CREDENTIALS_URL = "http://100.100.100.200/latest/meta-data/ram/security-credentials/";

/** Arguments of `EtcdBackups`. */
export interface EtcdBackupsArgs {
    /** Names and tags of the stage. */
    readonly identity: StageIdentity;
    /** The stage's region (the bucket's, and what uploads are signed for). */
    readonly region: string;
    /** The stage's VPC: the only network from which the bucket's objects can be read or written. */
    readonly vpcId: pulumi.Input<string>;
    /** Hours between backups (config `etcdBackup.intervalHours`). */
    readonly intervalHours: number;
    /** Days a snapshot (and an overwritten version) is kept (config `etcdBackup.retentionDays`). */
    readonly retentionDays: number;
    /** Whether `pulumi destroy` leaves the bucket and its snapshots (config `keepDataOnDestroy`). */
    readonly keepDataOnDestroy: boolean;
    /** The controllers (the controller pool's `nodes`): each gets the role and the scripts. */
    readonly controllers: readonly PoolNode<PlannedController>[];
    /** The bastion: the scripts reach the controllers through it. */
    readonly bastion: Pick<Bastion, "connectionTo" | "ready">;
    /** What the delivery waits for: the control plane's files (the etcd client certificate the scripts use). */
    readonly after: readonly pulumi.Resource[];
}

/**
 * etcd's backups off the cluster: an OSS bucket of the stage (versioned, encrypted by OSS, public access blocked,
 * objects reachable only from the stage's VPC, snapshots expiring after `retentionDays`), a RAM role that the
 * controllers assume through the ECS metadata service and that may only put objects under `etcd/` from the VPC,
 * and on every controller the backup script, its timer and the restore script (controlplane/etcdBackup.ts).
 */
export class EtcdBackups extends pulumi.ComponentResource {
    /** The bucket's name (`<project>-<stage>-etcd-<account id>`: bucket names are global). */
    public readonly bucketName: pulumi.Output<string>;

    constructor(name: string, args: EtcdBackupsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:EtcdBackups", name, {}, opts);
        const { identity } = args;
        const tags = { ...identity.tags, role: "etcd-backup" };
        const account = alicloud.getCallerIdentityOutput({ parent: this });
        this.bucketName = account.accountId.apply((id) => physicalName(identity, "etcd", id));
        const keep = args.keepDataOnDestroy;
        const bucket = new alicloud.oss.Bucket(
            `${name}-bucket`,
            {
                bucket: this.bucketName,
                storageClass: "Standard",
                // Copies in several zones: the backups outlive a zone, as the cluster does.
                redundancyType: "ZRS",
                versioning: { status: "Enabled" },
                serverSideEncryptionRule: { sseAlgorithm: "AES256" },
                lifecycleRules: [
                    {
                        id: "etcd-retention",
                        enabled: true,
                        prefix: ETCD_BACKUP_PREFIX,
                        expirations: [{ days: args.retentionDays }],
                        noncurrentVersionExpirations: [{ days: args.retentionDays }],
                    },
                ],
                // A throwaway stage's destroy empties it; a real stage's destroy leaves it (and `protect` stops any update).
                forceDestroy: !keep,
                tags,
            },
            // The backups themselves; its name is global, so a replacement must free it first.
            { parent: this, protect: true, deleteBeforeReplace: true, retainOnDelete: keep },
        );
        new alicloud.oss.BucketPublicAccessBlock(`${name}-private`, { bucket: bucket.bucket, blockPublicAccess: true }, { parent: this });
        const objects = pulumi.interpolate`acs:oss:*:*:${bucket.bucket}`;
        new alicloud.oss.BucketPolicy(
            `${name}-vpc-only`,
            {
                bucket: bucket.bucket,
                policy: pulumi.jsonStringify({
                    Version: "1",
                    Statement: [
                        {
                            // Whoever asks, objects are read or written only from inside the stage's VPC.
                            Effect: "Deny",
                            Principal: ["*"],
                            Action: [
                                "oss:GetObject",
                                "oss:GetObjectVersion",
                                "oss:PutObject",
                                "oss:DeleteObject",
                                "oss:DeleteObjectVersion",
                                "oss:ListObjects",
                                "oss:ListObjectVersions",
                            ],
                            Resource: [objects, pulumi.interpolate`${objects}/*`],
                            Condition: { StringNotEquals: { "acs:SourceVpc": [args.vpcId] } },
                        },
                    ],
                }),
            },
            { parent: this },
        );

        const roleName = physicalName(identity, "etcd-backup");
        const role = new alicloud.ram.Role(
            `${name}-role`,
            {
                roleName,
                description: "Assumed by the stage's controllers (ECS instance role) to upload etcd snapshots",
                assumeRolePolicyDocument: JSON.stringify({
                    Version: "1",
                    Statement: [{ Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: ["ecs.aliyuncs.com"] } }],
                }),
                tags,
            },
            // RAM names are unique in the account.
            { parent: this, deleteBeforeReplace: true },
        );
        const policy = new alicloud.ram.Policy(
            `${name}-put-only`,
            {
                policyName: physicalName(identity, "etcd-backup-put"),
                description: "Put etcd snapshots into the stage's backup bucket, from the stage's VPC; nothing else",
                policyDocument: pulumi.jsonStringify({
                    Version: "1",
                    Statement: [
                        {
                            Effect: "Allow",
                            Action: ["oss:PutObject"],
                            Resource: [pulumi.interpolate`${objects}/${ETCD_BACKUP_PREFIX}*`],
                            Condition: { StringEquals: { "acs:SourceVpc": [args.vpcId] } },
                        },
                    ],
                }),
                tags,
            },
            { parent: this, deleteBeforeReplace: true },
        );
        new alicloud.ram.RolePolicyAttachment(
            `${name}-role-put-only`,
            { roleName: role.roleName, policyName: policy.policyName, policyType: "Custom" },
            { parent: this },
        );

        const destination = bucket.bucket.apply((bucketName): BackupBucket => ({
            bucket: bucketName,
            endpoint: ossInternalEndpoint(bucketName, args.region),
            region: args.region,
            prefix: ETCD_BACKUP_PREFIX,
        }));
        args.controllers.forEach((controller, i) => {
            const attachment = new alicloud.ecs.RamRoleAttachment(
                `${name}-role-${i}`,
                { instanceId: controller.instance.id, ramRoleName: role.roleName },
                { parent: this },
            );
            installNodeFiles(
                `${name}-files-${i}`,
                {
                    target: `controller ${controller.planned.hostname}`,
                    connection: controller.connection,
                    files: destination.apply((backupBucket) =>
                        etcdBackupFiles(
                            {
                                target: `controller ${controller.planned.hostname}`,
                                etcdImage: versions.images.etcd,
                                paths: CONTROLLER_ETCD_PATHS,
                                bucket: backupBucket,
                                credentialsUrl: `${ROLE_CREDENTIALS_URL}${roleName}`,
                            },
                            args.intervalHours,
                        ),
                    ),
                    secret: false,
                    instance: controller.instance,
                    after: [...args.bastion.ready, ...args.after, attachment],
                },
                this,
            );
        });
        this.registerOutputs({ bucketName: this.bucketName });
    }
}

/** A bucket's S3-compatible endpoint inside the region's network (no internet traffic, and the VPC condition holds). */
export function ossInternalEndpoint(bucket: string, region: string): string {
    return `https://${bucket}.s3.oss-${region}-internal.aliyuncs.com`;
}
