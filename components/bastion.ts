import * as alicloud from "@pulumi/alicloud";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { NodeSettings, bastionIgnitionInput } from "../ignition";
import type { RegistrySettings } from "../controlplane";
import { StageIdentity, physicalName } from "./common";
import { EipClaimHandle, associateEip } from "./eipPool";
import { renderHostKeyScanScript } from "../controlplane";
import { deliverNodeExporter, deliverTeamKeys } from "./nodeFiles";
import { LATE_VALUE_PLACEHOLDERS, LateValues, nodeUserData } from "./userData";

/** The bastion's late values: the deploy key, and its own SSH host key (which only the bastion's user data holds). */
interface BastionLateValues extends LateValues {
    readonly hostKeyPrivate: string;
    readonly hostKeyPublic: string;
}

/** Same-length stand-ins (an unencrypted OpenSSH ED25519 key is about 400 characters) for the size check at preview. */
const BASTION_PLACEHOLDERS: BastionLateValues = {
    ...LATE_VALUE_PLACEHOLDERS,
    hostKeyPrivate: `-----BEGIN OPENSSH PRIVATE KEY-----\n${`${"A".repeat(70)}\n`.repeat(5)}${"A".repeat(20)}\n-----END OPENSSH PRIVATE KEY-----\n`,
    hostKeyPublic: LATE_VALUE_PLACEHOLDERS.deployPublicKey,
};

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
 *
 * Every SSH hop verifies its host (docs/security.md, "SSH host keys"): the bastion's host key is made by the program
 * and reaches the bastion in its user data (through Alibaba's API, never over the internet path), so the first
 * connection already knows it; a node's host key is read from inside the VPC by the verified bastion when the node is
 * new (`scanHostKey`) and pinned from then on.
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
    /** The connection to the bastion itself, verifying its host key. */
    public readonly connection: SshConnection;
    /** The bastion's SSH host key (OpenSSH public key). */
    public readonly hostKey: pulumi.Output<string>;
    /** What a command through the bastion must wait for: the instance and its EIP. */
    public readonly ready: pulumi.Resource[];

    constructor(name: string, args: BastionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:Bastion", name, {}, opts);
        // Controllers and the NFS node trust only the key they were created with (their user data is ignored afterwards):
        // a new key would lock the program out of them.
        const deployKey = new tls.PrivateKey(`${name}-deploy-key`, { algorithm: "ED25519" }, { parent: this, protect: true });
        const deployPublicKey = deployKey.publicKeyOpenssh.apply((key) => key.trim());
        const hostKey = new tls.PrivateKey(`${name}-host-key`, { algorithm: "ED25519" }, { parent: this });
        this.hostKey = hostKey.publicKeyOpenssh.apply((key) => key.trim());
        const hostname = physicalName(args.identity, "bastion");
        // The deploy key and the host key in user data: the team's keys follow over SSH, so they can change without a
        // new bastion. The user data is then a secret (the host key's private half), encrypted in the state.
        const userData = nodeUserData<BastionLateValues>(
            this,
            "bastion",
            hostname,
            (late) =>
                bastionIgnitionInput(args.settings, hostname, late.deployPublicKey, {
                    privateKey: late.hostKeyPrivate,
                    publicKey: late.hostKeyPublic,
                }),
            { deployPublicKey, hostKeyPrivate: pulumi.secret(hostKey.privateKeyOpenssh), hostKeyPublic: this.hostKey },
            BASTION_PLACEHOLDERS,
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
            hostKey: this.hostKey,
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

    /**
     * The connection to a host inside the VPC (by private address), proxied through the bastion; both hops verify their
     * host key (`hostKey` from `scanHostKey`).
     */
    public connectionTo(host: pulumi.Input<string>, hostKey: pulumi.Input<string>): SshConnection {
        return {
            host,
            user: "core",
            hostKey,
            privateKey: this.connection.privateKey,
            dialErrorLimit: 30,
            perDialTimeout: 10,
            proxy: this.connection,
        };
    }

    /**
     * A new node's SSH host key, read by the bastion (verified) from inside the VPC, where no one else can answer for the
     * node's address (Alibaba's VPC forwards only to the interface that holds an address), once per instance and
     * pinned in the state: every later connection to the node verifies it.
     */
    public scanHostKey(
        name: string,
        host: pulumi.Input<string>,
        instance: pulumi.CustomResource,
        parent: pulumi.Resource,
    ): pulumi.Output<string> {
        const scan = new command.remote.Command(
            name,
            {
                connection: this.connection,
                create: "bash -s",
                stdin: pulumi.output(host).apply((address) => renderHostKeyScanScript(address)),
                // A new instance has a new host key; nothing else re-reads it.
                triggers: [instance.id],
                addPreviousOutputInEnv: false,
            },
            { parent, dependsOn: [instance, ...this.ready] },
        );
        return scan.stdout.apply((out) => out.trim());
    }
}
