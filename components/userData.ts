import * as pulumi from "@pulumi/pulumi";
import { NodeIgnitionInput, USER_DATA_LIMIT, renderNodeIgnition } from "../ignition";

/** Values a node's Ignition needs that exist only once other resources do: the deploy key, for every node. */
export interface LateValues {
    /** The program's own SSH public key (tls.PrivateKey ED25519, OpenSSH form). */
    readonly deployPublicKey: string;
}

/** The late values of a node with a data disk (controllers, the NFS server). */
export interface LateValuesWithDisk extends LateValues {
    /** The id of the node's data disk (d-...). */
    readonly dataDiskId: string;
}

/**
 * Same-length stand-ins for late values: an OpenSSH ED25519 public key is always 80 characters and an Alibaba
 * disk id 22, so a config rendered with these is as large as the real one (give or take gzip's few bytes),
 * and the size check can run at preview, before anything exists.
 */
export const LATE_VALUE_PLACEHOLDERS: LateValuesWithDisk = {
    deployPublicKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA${"I".repeat(48)}`,
    dataDiskId: `d-${"x".repeat(20)}`,
};

/** Late values as they arrive: outputs of the resources that produce them. */
export type LateInputs<L extends LateValues> = { readonly [K in keyof L]: pulumi.Input<L[K]> };

/** A node's user data: the raw Ignition JSON and what ECS receives (base64). */
export interface NodeUserData {
    readonly raw: pulumi.Output<string>;
    readonly base64: pulumi.Output<string>;
    /** The size of the preview-time render, in bytes. */
    readonly estimatedBytes: number;
}

/** The message when a config is over the budget: names the pool, the node and the size. */
export function userDataTooLarge(pool: string, node: string, bytes: number): string {
    return (
        `pool ${pool}: the Ignition config of ${node} is ${bytes} bytes, over the ${USER_DATA_LIMIT}-byte ECS user-data budget ` +
        "(Alibaba's 16 KB limit on raw user data); fewer SSH keys or labels, or move files out of user data"
    );
}

/**
 * Renders a node's Ignition config. The size is checked twice: now, with same-length placeholders, so that
 * `pulumi preview` fails before any instance exists; and when the real values are known, before the
 * instance that consumes the user data is created.
 */
export function nodeUserData<L extends LateValues>(
    owner: pulumi.Resource,
    pool: string,
    node: string,
    build: (late: L) => NodeIgnitionInput,
    late: LateInputs<L>,
    placeholders: NoInfer<L>,
): NodeUserData {
    const estimatedBytes = Buffer.byteLength(renderNodeIgnition(build(placeholders)));
    if (estimatedBytes > USER_DATA_LIMIT) {
        throw new pulumi.ResourceError(userDataTooLarge(pool, node, estimatedBytes), owner);
    }
    // pulumi.output unwraps every input of `late`, which gives exactly an L.
    const raw = (pulumi.output(late) as pulumi.Output<L>).apply((values) => {
        const json = renderNodeIgnition(build(values));
        const bytes = Buffer.byteLength(json);
        if (bytes > USER_DATA_LIMIT) {
            throw new pulumi.ResourceError(userDataTooLarge(pool, node, bytes), owner);
        }
        return json;
    });
    return { raw, base64: raw.apply((json) => Buffer.from(json).toString("base64")), estimatedBytes };
}
