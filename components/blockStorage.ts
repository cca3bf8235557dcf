import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import { diskCsiRoleName } from "../k8s/blockStorage";
import { StageIdentity } from "./common";

/** Arguments of a `DiskCsiAccess`. */
export interface DiskCsiAccessArgs {
    /** Names and tags of the stage; the role's name carries its prefix (RAM names are unique per account). */
    readonly identity: StageIdentity;
    /** The stage's region: the policy allows disks and instances of this region only. */
    readonly region: string;
    /** The controllers' instance ids (`NodePool.nodes`): the only instances that get the role. Required. */
    readonly controllerInstanceIds: readonly pulumi.Input<string>[];
}

/**
 * The ECS API calls the disk CSI driver's controller makes (create, attach, detach, grow and delete a disk; look up
 * disks, instances and their types; tag disks), as a RAM policy document for the stage's region. Nothing else: no
 * snapshots (the driver's snapshot support is not installed), no other service.
 */
export function diskCsiPolicy(region: string): string {
    return JSON.stringify(
        {
            Version: "1",
            Statement: [
                {
                    Effect: "Allow",
                    Action: [
                        "ecs:CreateDisk",
                        "ecs:DeleteDisk",
                        "ecs:AttachDisk",
                        "ecs:DetachDisk",
                        "ecs:ResizeDisk",
                        "ecs:ModifyDiskAttribute",
                        "ecs:DescribeDisks",
                        "ecs:DescribeInstances",
                        "ecs:DescribeInstanceTypes",
                        "ecs:DescribeAvailableResource",
                        "ecs:DescribeTasks",
                        "ecs:TagResources",
                        "ecs:ListTagResources",
                    ],
                    Resource: [`acs:ecs:${region}:*:disk/*`, `acs:ecs:${region}:*:instance/*`, `acs:ecs:${region}:*:*`],
                },
            ],
        },
        null,
        2,
    );
}

/**
 * What the disk CSI driver's controller may do, and where: a RAM role that ECS instances can take, with exactly
 * `diskCsiPolicy`, attached to the controllers only. Pods read the role's short-lived STS credentials from the
 * metadata service of the instance they run on, so only pods on controllers (the driver's controller, pinned there,
 * and the control plane) can use it; workers and edge nodes, which run the apps, carry no role at all. An AccessKey
 * in a Secret would be a long-lived credential in the cluster instead (docs/storage.md, "Why an instance role").
 */
export class DiskCsiAccess extends pulumi.ComponentResource {
    /** The role's name (what the driver's controller is told to take credentials for). */
    public readonly roleName: pulumi.Output<string>;

    constructor(name: string, args: DiskCsiAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:DiskCsiAccess", name, {}, opts);
        if (args.controllerInstanceIds.length === 0) {
            throw new pulumi.ResourceError(
                `DiskCsiAccess ${name}: controllerInstanceIds is empty (the driver's controller runs there)`,
                this,
            );
        }
        const role = new alicloud.ram.Role(
            `${name}-role`,
            {
                roleName: diskCsiRoleName(args.identity.namePrefix),
                description: "Disk CSI driver controller on the Kubernetes controllers (create, attach, grow, delete cloud disks)",
                assumeRolePolicyDocument: JSON.stringify({
                    Version: "1",
                    Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: ["ecs.aliyuncs.com"] } }],
                }),
            },
            // RAM names are unique in the account: a replacement made first would collide with the old one.
            { parent: this, deleteBeforeReplace: true },
        );
        const policy = new alicloud.ram.Policy(
            `${name}-policy`,
            {
                policyName: `${args.identity.namePrefix}-disk-csi`,
                description: "What the disk CSI driver's controller may do, in the stage's region",
                policyDocument: diskCsiPolicy(args.region),
            },
            // RAM names are unique in the account.
            { parent: this, deleteBeforeReplace: true },
        );
        const attachment = new alicloud.ram.RolePolicyAttachment(
            `${name}-policy-attachment`,
            { roleName: role.roleName, policyName: policy.policyName, policyType: "Custom" },
            { parent: this },
        );
        args.controllerInstanceIds.forEach((instanceId, i) => {
            // A separate attachment, not the instance's roleName: attaching never touches the controller itself.
            new alicloud.ecs.RamRoleAttachment(
                `${name}-controller-${i}`,
                { instanceId, ramRoleName: role.roleName },
                { parent: this, dependsOn: [attachment] },
            );
        });
        this.roleName = role.roleName;
        this.registerOutputs({ roleName: this.roleName });
    }
}
