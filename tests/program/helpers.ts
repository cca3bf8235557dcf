/** Running the real program under the mock runtime, and comparing two runs resource by resource. */
import { PROJECT } from "../../config/schema";
import { ProgramRun, RecordedResource, runProgram } from "../../tools/mockRuntime";

export const configKey = (name: string) => `${PROJECT}:${name}`;

/** Runs the program for a stage (its real files) with overrides by bare key name. */
export function runStage(stage: string, overrides: Record<string, unknown> = {}): Promise<ProgramRun> {
    return runProgram(stage, { overrides: Object.fromEntries(Object.entries(overrides).map(([k, v]) => [configKey(k), v])) });
}

/** Resources by `type::name` (unique in a stack). */
export function byKey(run: ProgramRun): Map<string, RecordedResource> {
    return new Map(run.resources.map((r) => [`${r.type}::${r.name}`, r]));
}

export function ofType(run: ProgramRun, type: string): RecordedResource[] {
    return run.resources.filter((r) => r.type === type);
}

/**
 * What differs between two runs: resources added, removed, and those whose inputs, parent or state-guarding options
 * changed (what the engine would update or replace; a changed dependency list alone updates nothing).
 */
export function diffRuns(before: ProgramRun, after: ProgramRun): { added: string[]; removed: string[]; changed: string[] } {
    const a = byKey(before);
    const b = byKey(after);
    const comparable = (r: RecordedResource) =>
        JSON.stringify({
            inputs: r.inputs,
            parent: r.parent,
            protect: r.protect,
            ignoreChanges: r.ignoreChanges,
            replaceOnChanges: r.replaceOnChanges,
            retainOnDelete: r.retainOnDelete,
        });
    return {
        added: [...b.keys()].filter((k) => !a.has(k)).sort(),
        removed: [...a.keys()].filter((k) => !b.has(k)).sort(),
        changed: [...b.keys()].filter((k) => a.has(k) && comparable(a.get(k)!) !== comparable(b.get(k)!)).sort(),
    };
}
