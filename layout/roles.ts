/**
 * How nodes of each role mark themselves: the labels their kubelets register (and the cluster's workloads select)
 * and the taint that keeps ordinary pods off controllers. NodeRestriction lets a kubelet set only labels under
 * node.kubernetes.io/ (and kubelet.kubernetes.io/), hence these keys. Ignition renders them into the kubelets;
 * k8s/ derives selectors and tolerations from them.
 */

/** The label each pool's kubelets set on their Node (value "true"). */
export const NODE_ROLE_LABELS = {
    controller: "node.kubernetes.io/controller",
    worker: "node.kubernetes.io/worker",
    edge: "node.kubernetes.io/edge",
} as const;

/** Controllers carry this taint with effect NoSchedule: only what must run there (or tolerates it) does. */
export const CONTROLLER_TAINT_KEY = "node-role.kubernetes.io/controller";

/** A Kubernetes taint, as the stage config declares it and the kubelet registers it. */
export interface NodeTaint {
    readonly key: string;
    readonly value?: string;
    readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}
