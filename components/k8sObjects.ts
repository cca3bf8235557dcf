/**
 * The one place that turns rendered Kubernetes objects (k8s/) into Pulumi resources: each object becomes the
 * typed @pulumi/kubernetes resource of its apiVersion/kind, so `pulumi preview` shows a per-object diff and
 * the mock runtime records each object's inputs.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KubeObject, Late, objectDependencies, objectKey, sortObjects } from "../k8s/objects";

type ResourceClass = new (name: string, args: any, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource; // eslint-disable-line @typescript-eslint/no-explicit-any -- each class takes its own kind's args; the objects were typed when k8s/objects.ts built them

/** apiVersion/kind -> resource class: exactly the kinds k8s/objects.ts can build. */
const RESOURCE_CLASSES: Readonly<Record<string, ResourceClass>> = {
    "v1/Namespace": k8s.core.v1.Namespace,
    "v1/ServiceAccount": k8s.core.v1.ServiceAccount,
    "v1/ConfigMap": k8s.core.v1.ConfigMap,
    // The Secret class marks data and stringData secret, whatever was passed in.
    "v1/Secret": k8s.core.v1.Secret,
    "v1/Service": k8s.core.v1.Service,
    "rbac.authorization.k8s.io/v1/ClusterRole": k8s.rbac.v1.ClusterRole,
    "rbac.authorization.k8s.io/v1/ClusterRoleBinding": k8s.rbac.v1.ClusterRoleBinding,
    "rbac.authorization.k8s.io/v1/Role": k8s.rbac.v1.Role,
    "rbac.authorization.k8s.io/v1/RoleBinding": k8s.rbac.v1.RoleBinding,
    "apps/v1/DaemonSet": k8s.apps.v1.DaemonSet,
    "apps/v1/Deployment": k8s.apps.v1.Deployment,
    "storage.k8s.io/v1/StorageClass": k8s.storage.v1.StorageClass,
    "storage.k8s.io/v1/CSIDriver": k8s.storage.v1.CSIDriver,
    "v1/PersistentVolumeClaim": k8s.core.v1.PersistentVolumeClaim,
    "networking.k8s.io/v1/IngressClass": k8s.networking.v1.IngressClass,
    "networking.k8s.io/v1/Ingress": k8s.networking.v1.Ingress,
    "autoscaling/v2/HorizontalPodAutoscaler": k8s.autoscaling.v2.HorizontalPodAutoscaler,
    "policy/v1/PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
    "apiregistration.k8s.io/v1/APIService": k8s.apiregistration.v1.APIService,
    "networking.k8s.io/v1/NetworkPolicy": k8s.networking.v1.NetworkPolicy,
};

/**
 * The server-side apply field manager of every object the program applies. Fixed, not the provider's random
 * per-resource default: an `up` that re-creates an object its interrupted predecessor had created but not recorded
 * then applies as the same manager, instead of sharing every field with a dead one and failing on the next change
 * of any of them (found by the engine suite).
 */
export const FIELD_MANAGER = "coreos-platform";

/** The provider's annotation that names the field manager (pulumi-kubernetes 4.x). */
const FIELD_MANAGER_ANNOTATION = "pulumi.com/patchFieldManager";

/**
 * The logical name of an object's resource: the component's name, then namespace/name. Stable (it derives from
 * the object's identity only), and unambiguous because Kubernetes names never contain "/".
 */
export function resourceName(component: string, o: KubeObject): string {
    return o.metadata.namespace === undefined
        ? `${component}-${o.metadata.name}`
        : `${component}-${o.metadata.namespace}/${o.metadata.name}`;
}

/**
 * Creates one resource per object, children of `parent`, all through `provider`, each waiting for the objects
 * it refers to (its namespace, config, secrets, service account, backends) and for `parentDependsOn`: the
 * component's own dependsOn, which the engine does not pass on to a component's children. Returns them by key.
 */
export function createKubernetesObjects(
    parent: pulumi.ComponentResource,
    component: string,
    objects: readonly KubeObject[],
    provider: k8s.Provider,
    parentDependsOn?: pulumi.ComponentResourceOptions["dependsOn"],
): Map<string, pulumi.CustomResource> {
    const outer: pulumi.Input<pulumi.Resource>[] =
        parentDependsOn === undefined
            ? []
            : Array.isArray(parentDependsOn)
              ? parentDependsOn
              : [parentDependsOn as pulumi.Input<pulumi.Resource>];
    const created = new Map<string, pulumi.CustomResource>();
    const dependencies = objectDependencies(objects);
    for (const o of sortObjects(objects)) {
        const key = objectKey(o);
        if (created.has(key)) {
            throw new pulumi.ResourceError(
                `${component}: two objects are both ${key}; every object needs its own kind, namespace and name`,
                parent,
            );
        }
        const resourceClass = RESOURCE_CLASSES[`${o.apiVersion}/${o.kind}`];
        if (!resourceClass) {
            throw new pulumi.ResourceError(
                `${component}: ${key} has a kind this program cannot create (add it to components/k8sObjects.ts)`,
                parent,
            );
        }
        // Install order puts every dependency first, so each one is already in `created`.
        const dependsOn = (dependencies.get(key) ?? []).map((k) => {
            const dependency = created.get(k);
            if (!dependency) {
                throw new pulumi.ResourceError(
                    `${component}: ${key} needs ${k}, which comes later in the install order (k8s/objects.ts KIND_ORDER)`,
                    parent,
                );
            }
            return dependency;
        });
        const { apiVersion: _apiVersion, kind: _kind, metadata, ...body } = o; // the class sets both itself
        const args = {
            ...body,
            metadata: { ...metadata, annotations: { ...metadata.annotations, [FIELD_MANAGER_ANNOTATION]: FIELD_MANAGER } },
        };
        created.set(key, new resourceClass(resourceName(component, o), args, { parent, provider, dependsOn: [...dependsOn, ...outer] }));
    }
    return created;
}

/** A Pulumi input as the renderers take it: plain values stay plain (so they can be checked), the rest an Output. */
export function late<T>(value: pulumi.Input<T>): Late<T> {
    return pulumi.Output.isInstance(value) || value instanceof Promise
        ? (pulumi.output(value as pulumi.Input<T>) as pulumi.Output<T>)
        : (value as T);
}
