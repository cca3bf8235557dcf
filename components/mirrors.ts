import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import { MirrorsConfig, filesBucketName, registryNamespaceName } from "../config/mirrors";
import { StageIdentity } from "./common";

/** Arguments of `Mirrors`. */
export interface MirrorsArgs {
    /** Names and tags of the stage. */
    readonly identity: StageIdentity;
    /** What to create (config key `mirrors.create`). */
    readonly create: MirrorsConfig["create"];
    /** The stage's VPC: the only network allowed to read the files bucket, and the one linked to the registry. */
    readonly vpcId: pulumi.Input<string>;
    /** A node vSwitch, where the registry's VPC endpoint gets its address. */
    readonly vswitchId: pulumi.Input<string>;
}

/**
 * The mirrors the program creates when the stage asks it to (`mirrors.create`): a private OSS bucket for the files,
 * whose policy lets only the stage's VPC read, and a namespace of an existing Container Registry Enterprise Edition
 * instance, reached from the stage's VPC through the instance's VPC endpoint. Both are stage-scoped by name. Neither
 * holds anything the stage cannot copy again (`npm run mirror`), so neither is protected. Cost: docs/mirrors.md.
 */
export class Mirrors extends pulumi.ComponentResource {
    /** What nodes need before they boot: the bucket's policy and the registry's VPC endpoint. */
    public readonly ready: pulumi.Resource[];

    constructor(name: string, args: MirrorsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:Mirrors", name, {}, opts);
        const ready: pulumi.Resource[] = [];
        const tags = { ...args.identity.tags, role: "mirror" };
        if (args.create.filesBucket) {
            const bucketName = filesBucketName(args.identity.namePrefix);
            // No dependency on anything else of the stage: `pulumi up --target` can create it before the first fill.
            const bucket = new alicloud.oss.Bucket(
                `${name}-files`,
                { bucket: bucketName, storageClass: "Standard", serverSideEncryptionRule: { sseAlgorithm: "AES256" }, tags },
                { parent: this, deleteBeforeReplace: true },
            );
            new alicloud.oss.BucketAcl(`${name}-files-acl`, { bucket: bucket.bucket, acl: "private" }, { parent: this });
            // Anonymous reads, but only from inside the stage's VPC (nodes download with plain curl); the mirror
            // command writes with a RAM key.
            const policy = new alicloud.oss.BucketPolicy(
                `${name}-files-read-from-vpc`,
                {
                    bucket: bucket.bucket,
                    policy: pulumi.output(args.vpcId).apply((vpcId) =>
                        JSON.stringify({
                            Version: "1",
                            Statement: [
                                {
                                    Effect: "Allow",
                                    Principal: ["*"],
                                    Action: ["oss:GetObject"],
                                    Resource: [`acs:oss:*:*:${bucketName}/*`],
                                    Condition: { StringEquals: { "acs:SourceVpc": [vpcId] } },
                                },
                            ],
                        }),
                    ),
                },
                { parent: this },
            );
            ready.push(policy);
        }
        if (args.create.registryNamespace) {
            const instanceId = args.create.registryNamespace.instanceId;
            // Repositories are created on the first push; visible without credentials, but the instance answers only
            // on the endpoints it allows (the stage's VPC below, and the networks the mirror command pushes from).
            new alicloud.cs.RegistryEnterpriseNamespace(
                `${name}-registry-namespace`,
                { instanceId, name: registryNamespaceName(args.identity.namePrefix), autoCreate: true, defaultVisibility: "PUBLIC" },
                { parent: this },
            );
            ready.push(
                new alicloud.cr.VpcEndpointLinkedVpc(
                    `${name}-registry-vpc`,
                    { instanceId, vpcId: args.vpcId, vswitchId: args.vswitchId, moduleName: "Registry", enableCreateDnsRecordInPvzt: true },
                    { parent: this },
                ),
            );
        }
        this.ready = ready;
        this.registerOutputs({});
    }
}
