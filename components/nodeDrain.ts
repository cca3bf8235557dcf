/**
 * What happens to a worker's or edge node's Kubernetes Node before its host goes: cordon, evict every pod through the
 * Eviction API (so PodDisruptionBudgets decide, as `kubectl drain` does), wait until they are gone, then delete the
 * Node object, so that a new host with the same name registers a fresh Node (no cordon, taint, pod CIDR or flannel
 * annotation of the old host). Also the waits the rolling batches need: a Node Ready, and a pool with room for one
 * more unavailable node. Each step is bounded and fails with a message that names the node, the pods and the budgets.
 */
import { KubeApi, KubeApiError } from "./kubeApi";

/** The parts of a Node the hooks read. */
interface KubeNode {
    readonly metadata: { readonly name: string; readonly labels?: Record<string, string> };
    readonly spec?: { readonly unschedulable?: boolean };
    readonly status?: { readonly conditions?: readonly { type: string; status: string; reason?: string; message?: string }[] };
}

/** The parts of a Pod the drain reads. */
interface KubePod {
    readonly metadata: {
        readonly name: string;
        readonly namespace: string;
        readonly annotations?: Record<string, string>;
        readonly ownerReferences?: readonly { kind: string; name: string }[];
        readonly deletionTimestamp?: string;
    };
    readonly status?: { readonly phase?: string };
}

/** How long and how often. */
export interface Timing {
    readonly timeoutMs: number;
    /** Defaults to 5 s. */
    readonly pollMs?: number;
}

/** Where progress goes (the Pulumi log in the hooks, the test's log in the engine suite). */
export type Log = (message: string) => void;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const minutes = (ms: number) => `${Math.round(ms / 6000) / 10} min`;
const nodePath = (name: string) => `/api/v1/nodes/${encodeURIComponent(name)}`;

/** The Ready condition of a Node, as "True", "False" or "Unknown" with its reason. */
function readiness(node: KubeNode): { ready: boolean; why: string } {
    const ready = node.status?.conditions?.find((c) => c.type === "Ready");
    if (!ready) return { ready: false, why: "no Ready condition yet" };
    return {
        ready: ready.status === "True",
        why: `Ready=${ready.status}${ready.reason ? ` (${ready.reason}: ${ready.message ?? ""})` : ""}`,
    };
}

/** Pods that a drain leaves alone: a DaemonSet's (they are on every node and go with it) and static pods' mirrors. */
function leftAlone(pod: KubePod): boolean {
    return (
        pod.metadata.annotations?.["kubernetes.io/config.mirror"] !== undefined ||
        (pod.metadata.ownerReferences ?? []).some((o) => o.kind === "DaemonSet")
    );
}

async function podsOn(api: KubeApi, node: string): Promise<KubePod[]> {
    const list = await api.get<{ items: KubePod[] }>(`/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`);
    return (list?.items ?? []).filter((pod) => !leftAlone(pod));
}

/** What `drainNode` did. */
export interface DrainResult {
    /** False when there was no such Node (a host that never joined): nothing to drain. */
    readonly found: boolean;
    /** Pods evicted, as namespace/name. */
    readonly evicted: readonly string[];
}

/**
 * Cordons `node` and evicts its pods until none is left (DaemonSet pods and static pods stay, as with `kubectl drain
 * --ignore-daemonsets`; pods with emptyDir data and pods without a controller are evicted too, since the host goes
 * anyway). An eviction the API refuses (429: a PodDisruptionBudget allows no disruption now) is retried until the
 * timeout, which fails with every pod still there and why. The node stays cordoned after a failure.
 */
export async function drainNode(api: KubeApi, node: string, timing: Timing, log: Log): Promise<DrainResult> {
    const poll = timing.pollMs ?? 5000;
    if (!(await api.get<KubeNode>(nodePath(node)))) {
        log(`node ${node} is not registered: nothing to drain`);
        return { found: false, evicted: [] };
    }
    await api.mergePatch(nodePath(node), { spec: { unschedulable: true } });
    log(`node ${node} cordoned`);
    const deadline = Date.now() + timing.timeoutMs;
    const evicted = new Set<string>();
    const refusals = new Map<string, string>();
    for (;;) {
        const pods = await podsOn(api, node);
        if (pods.length === 0) {
            log(`node ${node} drained (${evicted.size} pods evicted)`);
            return { found: true, evicted: [...evicted].sort() };
        }
        if (Date.now() > deadline) {
            const left = pods.map((p) => {
                const id = `${p.metadata.namespace}/${p.metadata.name}`;
                const why = p.metadata.deletionTimestamp ? "still terminating" : (refusals.get(id) ?? "not evicted yet");
                return `${id} (${why})`;
            });
            throw new Error(
                `draining node ${node} did not finish within ${minutes(timing.timeoutMs)}: ${left.join("; ")}. ` +
                    `The node stays cordoned and its host was not deleted. Make room for these pods (more nodes, fewer replicas, ` +
                    `or fix the pods a PodDisruptionBudget counts as unhealthy) and run pulumi up again, or give the node back ` +
                    `with kubectl uncordon ${node}.`,
            );
        }
        for (const pod of pods.filter((p) => !p.metadata.deletionTimestamp)) {
            const id = `${pod.metadata.namespace}/${pod.metadata.name}`;
            try {
                await api.post(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/eviction`, {
                    apiVersion: "policy/v1",
                    kind: "Eviction",
                    metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace },
                });
                evicted.add(id);
                refusals.delete(id);
                log(`evicted ${id} from ${node}`);
            } catch (err) {
                if (err instanceof KubeApiError && err.status === 404) continue; // gone meanwhile
                if (err instanceof KubeApiError && err.status === 429) {
                    refusals.set(id, `eviction refused: ${err.message.replace(/^.*HTTP 429: /, "")}`);
                    continue;
                }
                throw err;
            }
        }
        await sleep(poll);
    }
}

/** Deletes the Node object (the host is gone or going: its kubelet registered once and never re-registers). */
export async function deleteNode(api: KubeApi, node: string, log: Log): Promise<void> {
    await api.delete(nodePath(node));
    log(`node ${node} deleted from the cluster`);
}

/** Waits until `node` is registered and Ready; fails after the timeout with its last condition. */
export async function waitUntilReady(api: KubeApi, node: string, timing: Timing, log: Log): Promise<void> {
    const deadline = Date.now() + timing.timeoutMs;
    let last = "not registered yet";
    for (;;) {
        const found = await api.get<KubeNode>(nodePath(node));
        if (found) {
            const r = readiness(found);
            if (r.ready) {
                log(`node ${node} is Ready`);
                return;
            }
            last = r.why;
        }
        if (Date.now() > deadline) {
            throw new Error(
                `node ${node} did not become Ready within ${minutes(timing.timeoutMs)} (${last}); no further node of its pool is ` +
                    `replaced. On the node (ssh -J core@<bastion> core@<address>): journalctl -u kubelet; kubectl describe node ${node}.`,
            );
        }
        await sleep(timing.pollMs ?? 5000);
    }
}

/**
 * Waits until fewer than `budget` nodes with `roleLabel`, other than `node`, are NotReady: a roll never takes down
 * more than its batch, even across runs (a batch that a failed update left broken counts against the next one).
 */
export async function waitForPoolBudget(
    api: KubeApi,
    roleLabel: string,
    node: string,
    budget: number,
    timing: Timing,
    log: Log,
): Promise<void> {
    const deadline = Date.now() + timing.timeoutMs;
    for (;;) {
        const list = await api.get<{ items: KubeNode[] }>(`/api/v1/nodes?labelSelector=${encodeURIComponent(`${roleLabel}=true`)}`);
        const down = (list?.items ?? [])
            .filter((n) => n.metadata.name !== node)
            .map((n) => ({ name: n.metadata.name, ...readiness(n) }))
            .filter((n) => !n.ready);
        if (down.length < budget) return;
        if (Date.now() > deadline) {
            throw new Error(
                `node ${node} was not drained: ${down.length} other nodes of its pool are not Ready (${down
                    .map((n) => `${n.name}: ${n.why}`)
                    .join("; ")}) and the pool's rollBatch is ${budget}. Repair or replace those first.`,
            );
        }
        log(`node ${node} waits: ${down.map((n) => n.name).join(", ")} not Ready yet`);
        await sleep(timing.pollMs ?? 5000);
    }
}
