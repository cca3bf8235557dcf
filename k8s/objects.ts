/**
 * Kubernetes objects as plain data: what every renderer in k8s/ returns, what the tests validate against the
 * Kubernetes schemas, and what components/k8sObjects.ts turns into one typed @pulumi/kubernetes resource each.
 *
 * The builders below are typed with @pulumi/kubernetes' input types, so a misspelt field is a compile error
 * (kubernetes-models, which the tests run, checks types and required fields but ignores unknown ones).
 */
import type { Output } from "@pulumi/pulumi";
import type * as input from "@pulumi/kubernetes/types/input";

/**
 * A value that is either plain or only known once the cloud has it (an address) or kept secret (a key).
 * Renderers place such values but never look inside them; tests pass plain stand-ins.
 */
export type Late<T> = T | Output<T>;

/** The metadata every rendered object has: a fixed name (nothing random, so a re-run is a no-op). */
export interface ObjectMeta {
    readonly name: string;
    /** Absent for cluster-scoped kinds. */
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
}

/** One Kubernetes object, exactly as it would be applied. */
export interface KubeObject {
    readonly apiVersion: string;
    readonly kind: string;
    readonly metadata: ObjectMeta;
    readonly [field: string]: unknown;
}

type Body<T> = Omit<T, "apiVersion" | "kind" | "metadata" | "status"> & { readonly metadata: ObjectMeta };

function builder<T>(apiVersion: string, kind: string): (body: Body<T>) => KubeObject {
    return (body) => ({ apiVersion, kind, ...body });
}

/** One builder per kind the platform creates; the kind list here is the one components/k8sObjects.ts maps. */
export const kube = {
    Namespace: builder<input.core.v1.Namespace>("v1", "Namespace"),
    ServiceAccount: builder<input.core.v1.ServiceAccount>("v1", "ServiceAccount"),
    ConfigMap: builder<input.core.v1.ConfigMap>("v1", "ConfigMap"),
    Secret: builder<input.core.v1.Secret>("v1", "Secret"),
    Service: builder<input.core.v1.Service>("v1", "Service"),
    ClusterRole: builder<input.rbac.v1.ClusterRole>("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ClusterRoleBinding: builder<input.rbac.v1.ClusterRoleBinding>("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    Role: builder<input.rbac.v1.Role>("rbac.authorization.k8s.io/v1", "Role"),
    RoleBinding: builder<input.rbac.v1.RoleBinding>("rbac.authorization.k8s.io/v1", "RoleBinding"),
    DaemonSet: builder<input.apps.v1.DaemonSet>("apps/v1", "DaemonSet"),
    Deployment: builder<input.apps.v1.Deployment>("apps/v1", "Deployment"),
    StorageClass: builder<input.storage.v1.StorageClass>("storage.k8s.io/v1", "StorageClass"),
    CSIDriver: builder<input.storage.v1.CSIDriver>("storage.k8s.io/v1", "CSIDriver"),
    PersistentVolumeClaim: builder<input.core.v1.PersistentVolumeClaim>("v1", "PersistentVolumeClaim"),
    IngressClass: builder<input.networking.v1.IngressClass>("networking.k8s.io/v1", "IngressClass"),
    Ingress: builder<input.networking.v1.Ingress>("networking.k8s.io/v1", "Ingress"),
    HorizontalPodAutoscaler: builder<input.autoscaling.v2.HorizontalPodAutoscaler>("autoscaling/v2", "HorizontalPodAutoscaler"),
    PodDisruptionBudget: builder<input.policy.v1.PodDisruptionBudget>("policy/v1", "PodDisruptionBudget"),
    APIService: builder<input.apiregistration.v1.APIService>("apiregistration.k8s.io/v1", "APIService"),
    NetworkPolicy: builder<input.networking.v1.NetworkPolicy>("networking.k8s.io/v1", "NetworkPolicy"),
};

export type KindName = keyof typeof kube;

/** Sub-structures, for helpers that build parts of a pod spec. */
export type Container = input.core.v1.Container;
export type EnvVar = input.core.v1.EnvVar;
export type Toleration = input.core.v1.Toleration;
export type PolicyRule = input.rbac.v1.PolicyRule;
export type PodSpec = input.core.v1.PodSpec;
export type NetworkPolicyPeer = input.networking.v1.NetworkPolicyPeer;
/** One rule of a NetworkPolicy: peers (`from` for ingress, `to` for egress) and ports. */
export interface NetworkPolicyRule {
    readonly from?: NetworkPolicyPeer[];
    readonly to?: NetworkPolicyPeer[];
    readonly ports?: input.networking.v1.NetworkPolicyPort[];
}

/**
 * An environment variable from the pod's own fields (downward API). `apiVersion` is written out although the API
 * server defaults it: the selector is an atomic struct under server-side apply, so a defaulted field would make an
 * `up` that re-applies the object under a new field manager (after an interrupted update) conflict with the old one.
 */
export function podFieldEnv(
    name: string,
    fieldPath: "metadata.name" | "metadata.namespace" | "spec.nodeName" | "status.podIP" | "status.hostIP",
): EnvVar {
    return { name, valueFrom: { fieldRef: { apiVersion: "v1", fieldPath } } };
}

/**
 * Install order: a kind's dependencies (its namespace, service account, config, backends) always come earlier,
 * so creating objects in this order never waits on a later one.
 */
const KIND_ORDER: readonly string[] = [
    "Namespace",
    "ServiceAccount",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    // Before any workload: a pod never runs without its namespace's policies.
    "NetworkPolicy",
    "ConfigMap",
    "Secret",
    "StorageClass",
    "CSIDriver",
    "PersistentVolumeClaim",
    "IngressClass",
    "Service",
    "DaemonSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Ingress",
    "APIService",
];

/** Where an object sits in the install order (unknown kinds last). */
export function kindRank(kind: string): number {
    const i = KIND_ORDER.indexOf(kind);
    return i < 0 ? KIND_ORDER.length : i;
}

/** The object's identity: "apps/v1 Deployment apps/orders" (namespace empty for cluster-scoped kinds). */
export function objectKey(o: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): string {
    return `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

/** Sorts objects into install order, then by namespace and name (a stable order for resources and files). */
export function sortObjects<T extends KubeObject>(objects: readonly T[]): T[] {
    return [...objects].sort(
        (a, b) =>
            kindRank(a.kind) - kindRank(b.kind) ||
            compareText(a.metadata.namespace ?? "", b.metadata.namespace ?? "") ||
            compareText(a.metadata.name, b.metadata.name),
    );
}

/** The two groups of objects; the offline render writes one file per group and component. */
export type PartOf = "platform" | "apps" | "observability";

/**
 * The Kubernetes recommended labels (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/).
 * `name` is the component or app; `instance` tells apart two workloads of one app (a canary).
 */
export function recommendedLabels(partOf: PartOf, name: string, more: Readonly<Record<string, string>> = {}): Record<string, string> {
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/part-of": partOf,
        "app.kubernetes.io/managed-by": "pulumi",
        ...more,
    };
}

/** The selector labels of a workload: stable for the workload's life (a selector cannot change). */
export function selectorLabels(name: string, instance = name): Record<string, string> {
    return { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": instance };
}

/** Pod Security Admission labels of a namespace (https://kubernetes.io/docs/concepts/security/pod-security-admission/). */
export function podSecurityLabels(enforce: "privileged" | "baseline" | "restricted"): Record<string, string> {
    return {
        "pod-security.kubernetes.io/enforce": enforce,
        // Warn about anything short of restricted, so teams see what would need to change.
        "pod-security.kubernetes.io/warn": "restricted",
    };
}

/**
 * The objects each object must wait for, by key: its namespace, and for workloads the service account, config
 * maps, secrets and claims its pods mount; for an Ingress its backend Services; for an autoscaler its target. Only
 * dependencies inside `objects` count (a namespace like kube-system exists already).
 */
export function objectDependencies(objects: readonly KubeObject[]): Map<string, string[]> {
    const keys = new Set(objects.map(objectKey));
    const out = new Map<string, string[]>();
    for (const o of objects) {
        const ns = o.metadata.namespace;
        const wanted: string[] = [];
        if (ns !== undefined) {
            wanted.push(objectKey({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }));
            const local = (apiVersion: string, kind: string, name: unknown) => {
                if (typeof name === "string") {
                    wanted.push(objectKey({ apiVersion, kind, metadata: { name, namespace: ns } }));
                }
            };
            const pod = at(o, "spec", "template", "spec");
            if (pod !== undefined) {
                local("v1", "ServiceAccount", at(pod, "serviceAccountName"));
                for (const v of list(at(pod, "volumes"))) {
                    local("v1", "ConfigMap", at(v, "configMap", "name"));
                    local("v1", "Secret", at(v, "secret", "secretName"));
                    local("v1", "PersistentVolumeClaim", at(v, "persistentVolumeClaim", "claimName"));
                }
                for (const c of [...list(at(pod, "initContainers")), ...list(at(pod, "containers"))]) {
                    for (const e of list(at(c, "envFrom"))) {
                        local("v1", "ConfigMap", at(e, "configMapRef", "name"));
                        local("v1", "Secret", at(e, "secretRef", "name"));
                    }
                    for (const e of list(at(c, "env"))) {
                        local("v1", "ConfigMap", at(e, "valueFrom", "configMapKeyRef", "name"));
                        local("v1", "Secret", at(e, "valueFrom", "secretKeyRef", "name"));
                    }
                }
            }
            if (o.kind === "Ingress") {
                for (const rule of list(at(o, "spec", "rules"))) {
                    for (const path of list(at(rule, "http", "paths"))) {
                        local("v1", "Service", at(path, "backend", "service", "name"));
                    }
                }
            }
            if (o.kind === "APIService") {
                const service = at(o, "spec", "service") as { name?: string; namespace?: string } | undefined;
                if (service?.name && service.namespace) {
                    wanted.push(
                        objectKey({ apiVersion: "v1", kind: "Service", metadata: { name: service.name, namespace: service.namespace } }),
                    );
                }
            }
            if (o.kind === "HorizontalPodAutoscaler") {
                local("apps/v1", String(at(o, "spec", "scaleTargetRef", "kind")), at(o, "spec", "scaleTargetRef", "name"));
            }
        }
        out.set(
            objectKey(o),
            [...new Set(wanted)].filter((k) => keys.has(k) && k !== objectKey(o)),
        );
    }
    return out;
}

/** Reads a nested field of plain data (undefined when any step is missing or not an object). */
export function at(value: unknown, ...path: string[]): unknown {
    let current = value;
    for (const step of path) {
        if (current === null || typeof current !== "object") {
            return undefined;
        }
        current = (current as Record<string, unknown>)[step];
    }
    return current;
}

/** A field that should be a list, as a list (empty when absent or not a plain array). */
export function list(value: unknown): unknown[] {
    return Array.isArray(value) ? value : [];
}

/** A copy with keys in sorted order (rendered objects must not depend on the order config was written in). */
export function sortedRecord<V>(record: Readonly<Record<string, V>>): Record<string, V> {
    return Object.fromEntries(Object.entries(record).sort(([a], [b]) => compareText(a, b)));
}

/** Code-point order: unlike localeCompare, the same on every machine. */
export function compareText(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}
