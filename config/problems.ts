/**
 * How the loader reports what is wrong with a stage config: one problem per key path, naming the value found and
 * the rule it breaks, all of them at once in one error. Also the translation of the schema library's issues into
 * such problems, and the "did you mean" for a misspelt key.
 */
import { z } from "zod";
import { KEYS, PROJECT, REMOVED_KEYS } from "./schema";

/** One problem with the stage config: the key path, the value found and the rule it breaks. */
export interface ConfigProblem {
    readonly key: string;
    readonly value: unknown;
    readonly rule: string;
}

/** What the rules call for each problem they find. */
export type Report = (key: string, value: unknown, rule: string) => void;

/** Thrown when a stage config is invalid; `problems` lists every one, the message prints them all. */
export class StageConfigError extends Error {
    constructor(
        public readonly stage: string,
        public readonly problems: readonly ConfigProblem[],
    ) {
        super(
            `Stage config of "${stage}" is invalid (${problems.length} problem${problems.length === 1 ? "" : "s"}; ` +
                `keys are in Pulumi.${stage}.yaml under ${PROJECT}:):\n` +
                problems.map((p) => `  - ${formatProblem(p)}`).join("\n"),
        );
        this.name = "StageConfigError";
    }
}

export function formatProblem(p: ConfigProblem): string {
    const shown = p.value === undefined ? "(not set)" : JSON.stringify(p.value);
    return `${p.key} = ${shown}: ${p.rule}`;
}

/** The problems of one schema issue of key `key` (whose whole value was `given`). */
export function zodProblems(key: string, given: unknown, issue: z.core.$ZodIssue): ConfigProblem[] {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    const where = key + path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("");
    if (issue.code === "unrecognized_keys") {
        return issue.keys.map((k) => ({
            key: `${where}.${k}`,
            value: valueAt(given, [...path, k]),
            rule: REMOVED_KEYS[`${where}.${k}`] ?? "is not a field of this object (a typo?)",
        }));
    }
    if (issue.code === "invalid_union" && issue.errors.length > 0 && issue.errors.every((branch) => branch.length > 0)) {
        // A union (e.g. storage kinds): report the branch that got furthest, not a vague "invalid input".
        const best = issue.errors.reduce((a, b) => (a.length <= b.length ? a : b));
        if (best.every((sub) => sub.code !== "invalid_union")) {
            return best.flatMap((sub) => zodProblems(key, given, { ...sub, path: [...path, ...sub.path] } as z.core.$ZodIssue));
        }
    }
    if (issue.code === "invalid_key" && issue.issues.length > 0) {
        // A bad key of a record (a label key, an app name in appSecrets): report the key's own rule. zod puts the key
        // at the end of the path and may leave `input` out.
        const badKey = issue.input ?? path[path.length - 1];
        return [{ key: where, value: badKey, rule: `the key ${JSON.stringify(badKey)} ${issue.issues[0].message}` }];
    }
    const value = valueAt(given, path);
    const rule = value === undefined && issue.code === "invalid_type" ? "is required" : issue.message;
    return [{ key: where, value, rule }];
}

function valueAt(value: unknown, path: (string | number)[]): unknown {
    let current = value;
    for (const p of path) {
        if (current === null || typeof current !== "object") {
            return undefined;
        }
        current = (current as Record<string | number, unknown>)[p];
    }
    return current;
}

/** The declared key closest to a misspelt one, if one is close enough to be a likely typo. */
export function closestKey(key: string): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const candidate of Object.keys(KEYS)) {
        const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
        if (d < bestDistance) {
            best = candidate;
            bestDistance = d;
        }
    }
    return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        previous = current;
    }
    return previous[b.length];
}
