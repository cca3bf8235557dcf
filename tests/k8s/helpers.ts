/** Shared by the k8s tests: rendering a real stage file, schema validation, and lookups in rendered objects. */
import { listStages, readStageFile, stageConfigFromFiles } from "../../tools/stageFiles";
import { PROJECT } from "../../config/schema";
import type { StageConfig } from "../../config/types";
import { renderClusterObjects } from "../../tools/kubernetesObjects";
import type { KubeObject } from "../../k8s/objects";

/** Every stage file of the project (dev, prod, staging). */
export const STAGES = listStages();

/** A stage's config from its real file, with overrides by bare key name. */
export function stageConfig(stage: string, overrides: Record<string, unknown> = {}): StageConfig {
    return stageConfigFromFiles(stage, Object.fromEntries(Object.entries(overrides).map(([k, v]) => [`${PROJECT}:${k}`, v])));
}

/** Every object of a stage, rendered from its real file (plus overrides). */
export function renderStage(stage: string, overrides: Record<string, unknown> = {}): KubeObject[] {
    return renderClusterObjects(stageConfig(stage, overrides));
}

/** The stage file's value of a key, for overrides that change one field. */
export function stageValue(stage: string, key: string): any {
    return JSON.parse(JSON.stringify(readStageFile(stage)[`${PROJECT}:${key}`]));
}

/**
 * Validates an object against the Kubernetes OpenAPI schema of its apiVersion/kind (kubernetes-models).
 * Returns the validation error's message, or undefined when valid. Throws if there is no schema for the kind.
 */
export function schemaError(o: KubeObject): string | undefined {
    const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
    const modulePath = `kubernetes-models/${group ? `${group}/` : ""}${version}/${o.kind}`;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the schema module is chosen by the object's kind
    const Model = require(modulePath)[o.kind];
    if (typeof Model !== "function") {
        throw new Error(`no schema for ${o.apiVersion} ${o.kind}`);
    }
    try {
        new Model(JSON.parse(JSON.stringify(o))).validate();
        return undefined;
    } catch (e) {
        return (e as Error).message;
    }
}

export function find(objects: readonly KubeObject[], kind: string, name: string, namespace?: string): KubeObject {
    const found = objects.filter(
        (o) => o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace),
    );
    if (found.length !== 1) {
        throw new Error(`expected one ${kind} ${namespace ?? "*"}/${name}, found ${found.length}`);
    }
    return found[0];
}

export function ofKind(objects: readonly KubeObject[], kind: string): any[] {
    return objects.filter((o) => o.kind === kind);
}

/** Deployments and DaemonSets. */
export function workloads(objects: readonly KubeObject[]): any[] {
    return objects.filter((o) => o.kind === "Deployment" || o.kind === "DaemonSet");
}

/** All containers of a workload, init containers included. */
export function containersOf(workload: any): any[] {
    const spec = workload.spec.template.spec;
    return [...(spec.initContainers ?? []), ...spec.containers];
}

export function envOf(container: any): Record<string, string> {
    return Object.fromEntries((container.env ?? []).filter((e: any) => "value" in e).map((e: any) => [e.name, e.value]));
}

/** True when every label of `selector` is on `labels`. */
export function selects(selector: Record<string, string>, labels: Record<string, string> = {}): boolean {
    return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Objects by a readable key, for comparing two renders. */
export function byKey(objects: readonly KubeObject[]): Map<string, string> {
    return new Map(objects.map((o) => [`${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`, JSON.stringify(o)]));
}

/** Keys added, removed or changed between two renders. */
export function diffObjects(before: readonly KubeObject[], after: readonly KubeObject[]): string[] {
    const a = byKey(before);
    const b = byKey(after);
    const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
    return keys.filter((k) => a.get(k) !== b.get(k));
}
