/**
 * The offline render's `out/<stage>/k8s/*.yaml`: every Kubernetes object as it would be applied, one file per
 * platform component or app, secrets masked.
 */
import * as YAML from "yaml";
import { SECRET_PLACEHOLDER } from "./cluster";
import { KubeObject, sortObjects } from "./objects";

/** The file an object is written to: platform-<component>.yaml, apps-<app>.yaml, apps-namespace.yaml. */
export function manifestFileName(o: KubeObject): string {
    const labels = o.metadata.labels ?? {};
    const group = labels["app.kubernetes.io/part-of"] ?? "other";
    const name = o.kind === "Namespace" && group === "apps" ? "namespace" : (labels["app.kubernetes.io/name"] ?? o.metadata.name);
    return `${group}-${name}.yaml`;
}

/** File name -> multi-document YAML, objects in install order within each file; files sorted by name. */
export function manifestFiles(objects: readonly KubeObject[]): Map<string, string> {
    const byFile = new Map<string, KubeObject[]>();
    for (const o of sortObjects(objects)) {
        const file = manifestFileName(o);
        byFile.set(file, [...(byFile.get(file) ?? []), o]);
    }
    const files = new Map<string, string>();
    for (const file of [...byFile.keys()].sort()) {
        files.set(file, byFile.get(file)!.map((o) => YAML.stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n"));
    }
    return files;
}

/** One registered resource, as the mock runtime records it (tools/mockRuntime.ts RecordedResource). */
export interface RecordedObject {
    readonly type: string;
    readonly inputs: Record<string, unknown>;
}

/**
 * The Kubernetes objects among a run's recorded resources, with the values the program really computed (mock
 * addresses included). A secret value becomes SECRET_PLACEHOLDER; a secret map (a Secret's stringData) keeps
 * its keys, so a reviewer still sees which variables an app gets.
 */
export function objectsFromRecords(records: readonly RecordedObject[], isSecret: (value: unknown) => boolean): KubeObject[] {
    const mask = (value: unknown): unknown => {
        if (isSecret(value)) {
            const inner = (value as { value?: unknown }).value;
            return inner && typeof inner === "object" && !Array.isArray(inner)
                ? Object.fromEntries(Object.keys(inner).map((k) => [k, SECRET_PLACEHOLDER]))
                : SECRET_PLACEHOLDER;
        }
        if (Array.isArray(value)) {
            return value.map(mask);
        }
        if (value && typeof value === "object") {
            return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v)]));
        }
        return value;
    };
    return records
        .filter((r) => r.type.startsWith("kubernetes:") && typeof r.inputs.kind === "string" && typeof r.inputs.apiVersion === "string")
        .map((r) => mask(r.inputs) as KubeObject);
}
