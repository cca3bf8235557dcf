/**
 * Node labels and taints as the node pools register them (kubelet --node-labels and KubeletConfiguration registerWithTaints), and
 * the selectors and tolerations the cluster's workloads derive from them. NodeRestriction lets a kubelet set
 * only labels under node.kubernetes.io/ (and kubelet.kubernetes.io/), hence these keys.
 */
import { Toleration, sortedRecord } from "./objects";

/** The label each pool's kubelets set on their Node (value "true"). */
export const NODE_ROLE_LABELS = {
    controller: "node.kubernetes.io/controller",
    worker: "node.kubernetes.io/worker",
    edge: "node.kubernetes.io/edge",
} as const;

/** Controllers carry this taint with effect NoSchedule: only what must run there (or tolerates it) does. */
export const CONTROLLER_TAINT_KEY = "node-role.kubernetes.io/controller";

/** A taint as the stage config declares it (edge.taints, workers.taints). */
export interface NodeTaint {
    readonly key: string;
    readonly value?: string;
    readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/**
 * For node agents (flannel, kube-proxy): every node needs them, whatever taints a stage adds, including the
 * not-ready taint a node has until its network is up (which these agents bring up).
 */
export const TOLERATE_EVERY_TAINT: Toleration[] = [{ operator: "Exists" }];

/** Lets a cluster add-on also run on controllers, so a small stage still has room for its replicas. */
export const TOLERATE_CONTROLLERS: Toleration[] = [{ key: CONTROLLER_TAINT_KEY, operator: "Exists", effect: "NoSchedule" }];

/** Tolerations for exactly the given taints (a value-less taint is tolerated by key). */
export function tolerationsFor(taints: readonly NodeTaint[]): Toleration[] {
    return taints.map((t) =>
        t.value === undefined
            ? { key: t.key, operator: "Exists", effect: t.effect }
            : { key: t.key, operator: "Equal", value: t.value, effect: t.effect },
    );
}

/** The node selector of the edge pool: its role label plus the stage's extra edge labels. */
export function edgeNodeSelector(extraLabels: Readonly<Record<string, string>>): Record<string, string> {
    return { ...sortedRecord(extraLabels), [NODE_ROLE_LABELS.edge]: "true" };
}
