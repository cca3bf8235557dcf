import * as alicloud from "@pulumi/alicloud";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { NodeSettings, bastionIgnitionInput } from "../ignition";
import type { RegistrySettings } from "../controlplane";
import { StageIdentity, physicalName } from "./common";
import { EipClaimHandle, associateEip } from "./eipPool";
import { deliverNodeExporter, deliverTeamKeys } from "./nodeFiles";
import { LATE_VALUE_PLACEHOLDERS, LateValues, nodeUserData } from "./userData";

/** Arguments of a `Bastion`. */
export interface BastionArgs {
    /** Names and tags of the stage. */
    readonly identity: StageIdentity;
    /** The public vSwitch. */
    readonly vswitchId: pulumi.Input<string>;
    /** Security groups of the bastion (the `bastion` group). */
    readonly securityGroupIds: pulumi.Input<string>[];
    /** The Fedora CoreOS image. */
    readonly imageId: pulumi.Input<string>;
    /** Instance type (config key `bastionInstanceType`). */
    readonly instanceType: string;
    /** The EIP of claim `bastion`. */
    readonly eip: EipClaimHandle;
    /** What the bastion takes of the stage's node settings: the team's keys, NTP servers, the update server. */
    readonly settings: Pick<NodeSettings, "sshAuthorizedKeys" | "ntpServers" | "updateServerUrl">;
    /**
     * Present when Prometheus scrapes the bastion (observability on): node_exporter is then delivered over SSH, with
     * podman's mirror file from the stage's registry settings.
     */
    readonly nodeExporter?: { readonly registries: RegistrySettings };
}

/** How `@pulumi/command` reaches a host inside the VPC: user core, the deploy key, through the bastion. */
export type SshConnection = command.types.input.remote.ConnectionArgs;

/**
 * The only SSH entry into the VPC: a small Fedora CoreOS instance with the `bastion` EIP. It also owns the
 * program's deploy key (an ED25519 key kept encrypted in the stack state), whose public half every node trusts,
 * so that `@pulumi/command` can reach nodes without anyone's personal key.
 */
export class Bastion extends pulumi.ComponentResource {
    /** The bastion's public address (its EIP). */
    public readonly publicAddress: pulumi.Output<string>;
    public readonly privateIp: pulumi.Output<string>;
    /** Its hostname (= instance name). */
    public readonly hostname: string;
    public readonly instanceId: pulumi.Output<string>;
    /** The bastion's instance (a replaced bastion is a new one). */
    public readonly instance: alicloud.ecs.Instance;
    /** The deploy key's public half (OpenSSH), for every node's authorized keys. */
    public readonly deployPublicKey: pulumi.Output<string>;
    /** The connection to the bastion itself. */
    public readonly connection: SshConnection;
    /** What a command through the bastion must wait for: the instance and its EIP. */
    public readonly ready: pulumi.Resource[];

    constructor(name: string, args: BastionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:Bastion", name, {}, opts);
        const deployKey = new tls.PrivateKey(`${name}-deploy-key`, { algorithm: "ED25519" }, { parent: this });
        const deployPublicKey = deployKey.publicKeyOpenssh.apply((key) => key.trim());
        const hostname = physicalName(args.identity, "bastion");
        // Only the deploy key in user data: the team's keys follow over SSH, so they can change without a new bastion.
        const userData = nodeUserData<LateValues>(
            this,
            "bastion",
            hostname,
            (late) => bastionIgnitionInput(args.settings, hostname, late.deployPublicKey),
            { deployPublicKey },
            LATE_VALUE_PLACEHOLDERS,
        );
        const instance = new alicloud.ecs.Instance(
            `${name}-instance`,
            {
                instanceName: hostname,
                hostName: hostname,
                description: "SSH bastion: the only SSH entry into the VPC",
                imageId: args.imageId,
                instanceType: args.instanceType,
                vswitchId: args.vswitchId,
                securityGroups: args.securityGroupIds,
                // The EIP is its public address; a fixed public IP would stop the EIP from attaching.
                internetMaxBandwidthOut: 0,
                instanceChargeType: "PostPaid",
                systemDiskCategory: "cloud_essd",
                systemDiskSize: 20,
                systemDiskEncrypted: true,
                userData: userData.base64,
                tags: { ...args.identity.tags, role: "bastion" },
            },
            // Ignition runs only on first boot: a new config or image needs a new instance (the provider would swap the
            // system disk in place, and Ignition would not run again). The EIP stays.
            { parent: this, replaceOnChanges: ["userData", "imageId"], deleteBeforeReplace: true },
        );
        const association = associateEip(`${name}-eip`, args.eip, { instanceId: instance.id, instanceType: "EcsInstance" }, this);

        this.publicAddress = args.eip.address;
        this.privateIp = instance.privateIp;
        this.instanceId = instance.id;
        this.instance = instance;
        this.deployPublicKey = deployPublicKey;
        this.connection = {
            host: args.eip.address,
            user: "core",
            privateKey: deployKey.privateKeyOpenssh,
            // The instance needs a minute to boot and run Ignition before sshd answers.
            dialErrorLimit: 30,
            perDialTimeout: 10,
        };
        const teamKeys = deliverTeamKeys(
            `${name}-ssh-keys`,
            { target: `bastion ${hostname}`, connection: this.connection, instance },
            args.settings.sshAuthorizedKeys,
            [association],
            this,
        );
        this.ready = [instance, association, teamKeys];
        this.hostname = hostname;
        if (args.nodeExporter) {
            deliverNodeExporter(
                `${name}-node-exporter`,
                { target: `bastion ${hostname}`, connection: this.connection, instance },
                args.nodeExporter.registries,
                [teamKeys],
                this,
            );
        }
        this.registerOutputs({ publicAddress: this.publicAddress, privateIp: this.privateIp, deployPublicKey });
    }

    /** The connection to a host inside the VPC (by private address), proxied through the bastion. */
    public connectionTo(host: pulumi.Input<string>): SshConnection {
        return {
            host,
            user: "core",
            privateKey: this.connection.privateKey,
            dialErrorLimit: 30,
            perDialTimeout: 10,
            proxy: this.connection,
        };
    }
}
