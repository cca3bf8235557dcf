import type * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import { osUpdatesOnFiles } from "../controlplane";
import type { Bastion, SshConnection } from "./bastion";
import { installNodeFiles } from "./nodeFiles";
import type { PoolNode } from "./nodePool";

/** Arguments of `OsUpdates`. */
export interface OsUpdatesArgs {
    /** The bastion: its own updates are turned on too, and every other node is reached through it. */
    readonly bastion: Pick<Bastion, "connection" | "instance" | "ready">;
    /** The nodes of every pool (each with its host-key-pinned connection), by the role their messages name. */
    readonly pools: Readonly<Record<string, readonly PoolNode[]>>;
    /** The NFS node of a stage that runs one (storage kind nfs-server). */
    readonly nfsNode?: { readonly hostname: string; readonly instance: alicloud.ecs.Instance; readonly connection: SshConnection };
    /** What the stage has converged with: the cluster layer and the apps (and through them everything below). */
    readonly after: readonly pulumi.Resource[];
}

/**
 * Turns OS updates on, node by node, once the stage has converged. Every node boots with Zincati's updates off
 * (ignition/pieces/osUpdates.ts): the pinned image is older than the stream, and a node that updated and rebooted
 * during the first `pulumi up` (in dev, the only controller) would take the API away from it. A node created by a
 * later `pulumi up` (a replacement, a new worker) gets its updates turned on at the end of that update too; a node
 * whose updates are on already is left alone (the installer changes nothing, restarts nothing).
 */
export class OsUpdates extends pulumi.ComponentResource {
    constructor(name: string, args: OsUpdatesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:OsUpdates", name, {}, opts);
        const nodes = [
            { key: "bastion", target: "bastion", connection: args.bastion.connection, instance: args.bastion.instance },
            ...Object.entries(args.pools).flatMap(([role, nodes]) =>
                nodes.map((node) => ({
                    key: `${role}-${node.planned.index}`,
                    target: `${role} ${node.planned.hostname}`,
                    connection: node.connection,
                    instance: node.instance,
                })),
            ),
            ...(args.nfsNode
                ? [
                      {
                          key: "nfs",
                          target: `NFS server ${args.nfsNode.hostname}`,
                          connection: args.nfsNode.connection,
                          instance: args.nfsNode.instance,
                      },
                  ]
                : []),
        ];
        for (const node of nodes) {
            installNodeFiles(
                `${name}-${node.key}`,
                { ...node, files: osUpdatesOnFiles(), secret: false, after: [...args.bastion.ready, ...args.after] },
                this,
            );
        }
        this.registerOutputs({});
    }
}
