/**
 * The selectors and tolerations the cluster's workloads derive from the node labels and taints the pools register
 * (layout/roles.ts: kubelet --node-labels and KubeletConfiguration registerWithTaints).
 */
import { CONTROLLER_TAINT_KEY, NODE_ROLE_LABELS, NodeTaint } from "../layout/roles";
import { KubeObject, PodSpec, Toleration, kube, selectorLabels, sortedRecord } from "./objects";

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

/**
 * A node agent: one pod on every Linux node whatever its taints, critical to the node, one node at a time on an
 * update, without an API token unless `pod` names a service account that needs one.
 */
export function nodeAgentDaemonSet(name: string, namespace: string, labels: Record<string, string>, pod: PodSpec): KubeObject {
    const selector = selectorLabels(name);
    return kube.DaemonSet({
        metadata: { name, namespace, labels },
        spec: {
            selector: { matchLabels: selector },
            updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
            template: {
                metadata: { labels: { ...labels, ...selector } },
                spec: {
                    automountServiceAccountToken: false,
                    priorityClassName: "system-node-critical",
                    tolerations: TOLERATE_EVERY_TAINT,
                    nodeSelector: { "kubernetes.io/os": "linux" },
                    ...pod,
                },
            },
        },
    });
}
