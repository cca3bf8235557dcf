/**
 * How a pool of workers or edge nodes is replaced when its Ignition config or image changes, in one `pulumi up`:
 *
 * - one host per node name: the instance is deleted before its replacement is created (deleteBeforeReplace), so two
 *   hosts never register as the same Node (two kubelets running that Node's pods, flannel's lease flipping);
 * - drained first: the node's join command carries a `beforeDelete` resource hook that cordons the Node, evicts its
 *   pods through the Eviction API (PodDisruptionBudgets decide), then deletes the Node object. The join command is
 *   replaced with its instance (its trigger is the instance id) and, as a dependent of a delete-before-replace
 *   instance, is deleted first; it depends on the control plane, so on `pulumi destroy` it goes while the API is up;
 * - in batches of `rollBatch`: the instances of the nodes that existed before this run (Alibaba's instance list), in
 *   index order, wait for the previous batch's join commands; a replaced node's join command carries an
 *   `afterCreate` hook that waits until its new Node is Ready. New nodes (first deploy, scale-up) wait for nothing.
 *
 * Hooks are program code that the engine calls (Pulumi CLI 3.274.1 with @pulumi/pulumi 3.248.0): before-hooks that
 * fail stop the step, and so the update; `pulumi destroy` needs `--run-program` to find the delete hooks.
 */
import * as pulumi from "@pulumi/pulumi";
import { KubeApi, kubeApiTarget } from "./kubeApi";
import { Log, deleteNode, drainNode, waitForPoolBudget, waitUntilReady } from "./nodeDrain";

/** How long a replaced node may take to become Ready: first boot downloads the kubelet and CNI plugins. */
export const NODE_READY_TIMEOUT_MINUTES = 20;

/**
 * The nodes (by index) whose join commands node `index` waits for: the previous batch of `rollBatch` among the nodes
 * that existed before this run, in index order. A node that did not exist waits for nothing.
 */
export function previousBatch(existing: readonly number[], index: number, rollBatch: number): number[] {
    const order = [...new Set(existing)].sort((a, b) => a - b);
    const position = order.indexOf(index);
    const batch = Math.floor(position / rollBatch);
    if (position < 0 || batch === 0) return [];
    return order.slice((batch - 1) * rollBatch, batch * rollBatch);
}

/** What a rolling pool needs. */
export interface RollingPoolArgs {
    /** The pool's component name (`workers`, `edge`): its hooks are named after it, its join commands `<pool>-<i>-join`. */
    readonly pool: string;
    /** The label every node of the pool registers with (`node.kubernetes.io/worker`). */
    readonly roleLabel: string;
    /** The Node name of node `index`, also for an index no longer planned (a node removed by a scale-down). */
    readonly hostnameOf: (index: number) => string;
    /** Nodes replaced at a time. */
    readonly rollBatch: number;
    /** How long one node's drain (and its wait for room in the pool) may take. */
    readonly drainTimeoutMinutes: number;
    /** A kubeconfig that may cordon, evict and delete Nodes (the admin kubeconfig). */
    readonly kubeconfig: pulumi.Input<string>;
    /** Node names of the pool that existed before this run. */
    readonly existing: pulumi.Input<readonly string[]>;
    /** Where the hooks report progress. Defaults to the Pulumi log (the update's output). */
    readonly log?: Log;
}

/** The hooks, batches and join bookkeeping of one pool; `NodePool` (and the engine suite, with stand-ins) use it. */
export class RollingPool {
    /** Hooks of every join command of the pool. */
    public readonly joinHooks: pulumi.ResourceHookBinding;
    private readonly joins = new Map<number, pulumi.Resource>();
    private readonly existing: pulumi.Output<readonly string[]>;

    constructor(private readonly args: RollingPoolArgs) {
        this.existing = pulumi.output(args.existing);
        const kubeconfig = pulumi.output(args.kubeconfig);
        const log: Log = (message) => (args.log ?? ((m: string) => void pulumi.log.info(m)))(`${args.pool}: ${message}`);
        const withApi = async <T>(use: (api: KubeApi) => Promise<T>): Promise<T> => {
            const api = new KubeApi(kubeApiTarget(await valueOf(kubeconfig)));
            try {
                return await use(api);
            } finally {
                api.close();
            }
        };
        const timing = { timeoutMs: args.drainTimeoutMinutes * 60000 };
        const drain = new pulumi.ResourceHook(`${args.pool}-drain`, async (hook) => {
            const node = this.nodeOf(hook.name);
            await withApi(async (api) => {
                await waitForPoolBudget(api, args.roleLabel, node, args.rollBatch, timing, log);
                const drained = await drainNode(api, node, timing, log);
                if (drained.found) await deleteNode(api, node, log);
            });
        });
        const ready = new pulumi.ResourceHook(`${args.pool}-ready`, async (hook) => {
            const node = this.nodeOf(hook.name);
            // Only a replaced node: a new stage's nodes join before the cluster's network add-on exists.
            if (!(await valueOf(this.existing)).includes(node)) return;
            await withApi((api) => waitUntilReady(api, node, { timeoutMs: NODE_READY_TIMEOUT_MINUTES * 60000 }, log));
        });
        this.joinHooks = { beforeDelete: [drain], afterCreate: [ready] };
    }

    /** The logical name of node `index`'s join command, which the hooks map back to the node. */
    public joinName(index: number): string {
        return `${this.args.pool}-${index}-join`;
    }

    /** What node `index`'s instance waits for: the join commands of the previous batch of replaced nodes. */
    public instanceDependsOn(index: number): pulumi.Input<pulumi.Resource[]> {
        return this.existing.apply((names) => {
            const indices = names.map((name) => this.indexOf(name)).filter((i): i is number => i !== undefined);
            return previousBatch(indices, index, this.args.rollBatch).map((i) => {
                const join = this.joins.get(i);
                if (!join) throw new Error(`${this.args.pool}: node ${i} has no join command yet (nodes must be created in index order)`);
                return join;
            });
        });
    }

    /** Records node `index`'s join command, which the next batch waits for. */
    public joined(index: number, join: pulumi.Resource): void {
        this.joins.set(index, join);
    }

    private nodeOf(joinName: string): string {
        const m = new RegExp(`^${this.args.pool}-(\\d+)-join$`).exec(joinName);
        if (!m) throw new Error(`${this.args.pool}: ${joinName} is not one of the pool's join commands`);
        return this.args.hostnameOf(Number(m[1]));
    }

    private indexOf(name: string): number | undefined {
        const m = /-(\d+)$/.exec(name);
        return m && this.args.hostnameOf(Number(m[1])) === name ? Number(m[1]) : undefined;
    }
}

/** The value of an output inside a hook (the update has resolved it by then). */
function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => {
        output.apply((value) => {
            resolve(value);
            return value;
        });
    });
}
