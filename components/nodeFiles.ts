import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { NodeFiles, RegistrySettings, nodeExporterFiles, renderInstallScript, teamKeysFiles } from "../controlplane";
import type { SshConnection } from "./bastion";

/** Arguments of `installNodeFiles`. */
export interface NodeFilesArgs {
    /** The connection to the node, through the bastion (`Bastion.connectionTo`). */
    readonly connection: SshConnection;
    /** Who the files are for, as the script's messages name it ("worker coreos-platform-dev-worker-0"). */
    readonly target: string;
    /** The files (and the directories they need), once their contents are known. */
    readonly files: pulumi.Input<NodeFiles>;
    /** Whether the files hold a secret: the script then stays a secret in the state and the logs. */
    readonly secret: boolean;
    /** The node's instance: a new instance (a replaced node) needs its files again, and nothing else re-runs this. */
    readonly instance: pulumi.CustomResource;
    /** What must exist first: the bastion's readiness, an earlier delivery. */
    readonly after: readonly pulumi.Resource[];
    /** Resource hooks of the command (a join command's drain and readiness wait: components/nodeRoll.ts). */
    readonly hooks?: pulumi.ResourceHookBinding;
}

/**
 * Installs files on a node over SSH through the bastion with the one install script (`renderInstallScript`: set
 * -Eeuo pipefail, named failing steps, atomic, idempotent), fed on stdin so that nothing it carries shows on a
 * command line. A command re-runs only when what it carries changes (its inputs are content, never timestamps),
 * and then changes only the files that differ.
 */
export function installNodeFiles(name: string, args: NodeFilesArgs, parent: pulumi.Resource): command.remote.Command {
    const script = pulumi.output(args.files).apply((files) => renderInstallScript({ target: args.target, ...files }));
    return new command.remote.Command(
        name,
        {
            connection: args.connection,
            create: "sudo bash -s",
            stdin: args.secret ? pulumi.secret(script) : script,
            triggers: [args.instance.id],
            // Nothing to undo: the files go with the node.
            addPreviousOutputInEnv: false,
        },
        {
            parent,
            dependsOn: [args.instance, ...args.after],
            ...(args.secret ? { additionalSecretOutputs: ["stdin"] } : {}),
            ...(args.hooks ? { hooks: args.hooks } : {}),
        },
    );
}

/**
 * Gives a node the team's SSH keys over SSH (with the program's deploy key, the only key in its Ignition). Keys
 * therefore change in place on every node, controllers included: adding one replaces nothing, and removing one
 * revokes it everywhere, which Ignition (first boot only) could not do.
 */
export function deliverTeamKeys(
    name: string,
    node: { readonly target: string; readonly connection: SshConnection; readonly instance: pulumi.CustomResource },
    keys: readonly string[],
    after: readonly pulumi.Resource[],
    parent: pulumi.Resource,
): command.remote.Command {
    return installNodeFiles(name, { ...node, files: teamKeysFiles(keys), secret: false, after }, parent);
}

/**
 * Runs node_exporter on a node without a kubelet (the bastion, the NFS node), delivered over SSH like the team's
 * keys: an existing node gets it in place, and user data does not grow. `registries`: the stage's, for podman's
 * mirror file, so the image comes through the stage's registry mirror like every other.
 */
export function deliverNodeExporter(
    name: string,
    node: { readonly target: string; readonly connection: SshConnection; readonly instance: pulumi.CustomResource },
    registries: RegistrySettings,
    after: readonly pulumi.Resource[],
    parent: pulumi.Resource,
): command.remote.Command {
    return installNodeFiles(name, { ...node, files: nodeExporterFiles(registries), secret: false, after }, parent);
}
