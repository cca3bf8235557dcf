import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { nodePaths } from "../layout/node";
import type { SshConnection } from "./bastion";

const TEAM_KEYS_FILE = nodePaths.teamKeysFile;

/** The script that makes a node's team keys exactly `keys` (public keys: no secret in it). */
export function teamKeysScript(keys: readonly string[]): string {
    const dir = TEAM_KEYS_FILE.replace(/\/[^/]+$/, "");
    const content = keys.map((k) => k.trim()).join("\n") + "\n";
    return [
        "set -eu",
        `install -d -o core -g core -m 0700 ${dir.replace(/\/[^/]+$/, "")} ${dir}`,
        `printf '%s' '${Buffer.from(content).toString("base64")}' | base64 -d > ${TEAM_KEYS_FILE}.tmp`,
        `chown core:core ${TEAM_KEYS_FILE}.tmp && chmod 0600 ${TEAM_KEYS_FILE}.tmp && mv -f ${TEAM_KEYS_FILE}.tmp ${TEAM_KEYS_FILE}`,
        "",
    ].join("\n");
}

/**
 * Gives a node the team's SSH keys over SSH (with the program's deploy key, the only key in its Ignition). Keys
 * therefore change in place on every node, controllers included: adding one replaces nothing, and removing one
 * revokes it everywhere, which Ignition (first boot only) could not do.
 */
export function deliverTeamKeys(
    name: string,
    connection: SshConnection,
    keys: readonly string[],
    instance: pulumi.CustomResource,
    after: pulumi.Resource[],
    parent: pulumi.Resource,
): command.remote.Command {
    return new command.remote.Command(
        name,
        {
            connection,
            create: "sudo sh -s",
            stdin: teamKeysScript(keys),
            // A replaced node is a new instance that needs its keys again.
            triggers: [instance.id],
            logging: "stderr",
        },
        { parent, dependsOn: [instance, ...after] },
    );
}
