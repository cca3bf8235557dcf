/**
 * How `npm run render:diff` compares two offline renders of a stage (two `out/<stage>/` directories): resources by
 * type and name, each node's Ignition file by file and unit by unit (decoded, gzip too, by the one Ignition
 * reader), Kubernetes objects and the other rendered files, each change with a unified diff; and the report.
 */
import * as fs from "fs";
import * as path from "path";
import { createTwoFilesPatch } from "diff";
import { IgnitionContents, displayContents, ignitionContents } from "../ignition/reader";

/** One added, removed or changed item (a resource, a node's file, a Kubernetes object...). */
export interface Change {
    readonly kind: "added" | "removed" | "changed";
    /** What it is: `alicloud:ecs/instance:Instance workers-2`, `file /etc/hosts`, `_cluster.namespace.apps.yaml`. */
    readonly label: string;
    /** Unified diff of a changed item. */
    readonly patch?: string;
    /** Changes inside it (an Ignition node's files and units). */
    readonly children?: readonly Change[];
}

/** The differences of one stage, by section. */
export interface StageDiff {
    readonly stage: string;
    /** Set when the stage exists on one side only. */
    readonly presence?: "added" | "removed";
    readonly resources: readonly Change[];
    readonly ignition: readonly Change[];
    readonly kubernetes: readonly Change[];
    readonly other: readonly Change[];
}

/** How the two sides are named in diff headers and in the report. */
export interface SideLabels {
    readonly before: string;
    readonly after: string;
}

function patch(label: string, before: string, after: string, sides: SideLabels): string {
    const text = createTwoFilesPatch(`a/${label}`, `b/${label}`, before, after, sides.before, sides.after, { context: 3 });
    // The "Index:" and "====" lines createTwoFilesPatch starts with repeat the label; the ---/+++ lines suffice.
    return text
        .split("\n")
        .filter((l) => !/^(Index: |=+$)/.test(l))
        .join("\n")
        .trimEnd();
}

/** Compares two keyed collections of text; a changed entry gets a unified diff. */
export function compareTexts(
    before: ReadonlyMap<string, string>,
    after: ReadonlyMap<string, string>,
    sides: SideLabels,
    labelOf: (key: string) => string = (k) => k,
): Change[] {
    const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
    const out: Change[] = [];
    for (const key of keys) {
        const [a, b] = [before.get(key), after.get(key)];
        if (a === undefined) {
            out.push({ kind: "added", label: labelOf(key) });
        } else if (b === undefined) {
            out.push({ kind: "removed", label: labelOf(key) });
        } else if (a !== b) {
            out.push({ kind: "changed", label: labelOf(key), patch: patch(labelOf(key), a, b, sides) });
        }
    }
    return out;
}

function readIf(file: string): string | undefined {
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
}

/** resources.json as `type name` -> pretty JSON of the entry. */
function resourceTexts(stageDir: string): Map<string, string> {
    const text = readIf(path.join(stageDir, "resources.json"));
    const entries = text === undefined ? [] : (JSON.parse(text) as { type: string; name: string }[]);
    return new Map(entries.map((r) => [`${r.type} ${r.name}`, JSON.stringify(r, null, 2) + "\n"]));
}

/** A node's Ignition as reviewable texts: `file <path>`, `unit <name>`, and the other entries. */
export function ignitionTexts(contents: IgnitionContents): Map<string, string> {
    const out = new Map<string, string>();
    for (const f of contents.files) {
        out.set(`file ${f.path}`, `# ${f.attributes}\n${displayContents(f.contents)}`);
    }
    for (const u of contents.units) {
        const dropins = u.dropins.map((d) => `# drop-in ${d.name}\n${d.contents}`);
        out.set(`unit ${u.name}`, [`# ${u.state || "state left to presets"}`, u.contents, ...dropins].join("\n"));
    }
    for (const [key, json] of contents.other) {
        out.set(key, json + "\n");
    }
    return out;
}

function filesUnder(dir: string): string[] {
    if (!fs.existsSync(dir)) {
        return [];
    }
    return fs
        .readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
        .sort();
}

function textsIn(dir: string, files: readonly string[]): Map<string, string> {
    return new Map(files.map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]));
}

/** Compares one stage's two render directories (`out/<stage>/` of each side); either may be missing. */
export function compareStage(stage: string, beforeDir: string, afterDir: string, sides: SideLabels): StageDiff {
    const [beforeFiles, afterFiles] = [filesUnder(beforeDir), filesUnder(afterDir)];
    const section = (files: string[], test: (f: string) => boolean) => files.filter(test);
    const isIgnition = (f: string) => f.startsWith(`ignition${path.sep}`) && f.endsWith(".ign");
    const isK8s = (f: string) => f.startsWith(`k8s${path.sep}`);
    // The readable trees under ignition/<node>/ repeat the .ign files, which the ignition section compares.
    const isOther = (f: string) => f !== "resources.json" && !f.startsWith(`ignition${path.sep}`) && !isK8s(f);

    const nodeName = (f: string) => path.basename(f, ".ign");
    const nodes = (dir: string, files: string[]) =>
        new Map(section(files, isIgnition).map((f) => [nodeName(f), fs.readFileSync(path.join(dir, f), "utf8")]));
    const [beforeNodes, afterNodes] = [nodes(beforeDir, beforeFiles), nodes(afterDir, afterFiles)];
    const ignition: Change[] = [];
    for (const node of [...new Set([...beforeNodes.keys(), ...afterNodes.keys()])].sort()) {
        const [a, b] = [beforeNodes.get(node), afterNodes.get(node)];
        if (a === undefined || b === undefined) {
            ignition.push({ kind: a === undefined ? "added" : "removed", label: `node ${node}` });
        } else if (a !== b) {
            const children = compareTexts(
                ignitionTexts(ignitionContents(a)),
                ignitionTexts(ignitionContents(b)),
                sides,
                (k) => `${node}: ${k}`,
            );
            // Same files and units, different bytes (key order, a version field): show the raw JSON.
            ignition.push({
                kind: "changed",
                label: `node ${node}`,
                ...(children.length ? { children } : { patch: patch(`${node}.ign`, a, b, sides) }),
            });
        }
    }
    const k8sLabel = (f: string) => path.basename(f);
    return {
        stage,
        ...(beforeFiles.length === 0 ? { presence: "added" as const } : afterFiles.length === 0 ? { presence: "removed" as const } : {}),
        resources: compareTexts(resourceTexts(beforeDir), resourceTexts(afterDir), sides),
        ignition,
        kubernetes: compareTexts(
            textsIn(beforeDir, section(beforeFiles, isK8s)),
            textsIn(afterDir, section(afterFiles, isK8s)),
            sides,
            k8sLabel,
        ),
        other: compareTexts(textsIn(beforeDir, section(beforeFiles, isOther)), textsIn(afterDir, section(afterFiles, isOther)), sides),
    };
}

/** True when the stage has any difference. */
export function hasChanges(d: StageDiff): boolean {
    return d.presence !== undefined || [d.resources, d.ignition, d.kubernetes, d.other].some((s) => s.length > 0);
}

const MARK: Record<Change["kind"], string> = { added: "+", removed: "-", changed: "~" };

function count(changes: readonly Change[]): string {
    const n = (kind: Change["kind"]) => changes.filter((c) => c.kind === kind).length;
    const parts = (["added", "removed", "changed"] as const).filter((k) => n(k) > 0).map((k) => `${n(k)} ${k}`);
    return parts.length ? parts.join(", ") : "no change";
}

function formatChanges(changes: readonly Change[], indent: string): string[] {
    return changes.flatMap((c) => [
        `${indent}${MARK[c.kind]} ${c.label}`,
        ...(c.patch ? c.patch.split("\n").map((l) => `${indent}    ${l}`) : []),
        ...formatChanges(c.children ?? [], `${indent}    `),
    ]);
}

/** The report: a header that says what this is (and is not), then each stage. */
export function formatReport(diffs: readonly StageDiff[], sides: SideLabels, failures: readonly string[] = []): string {
    const lines = [
        `Offline render diff: ${sides.before} -> ${sides.after}`,
        "What `npm run render` writes for each stage (mock runtime, no cloud account), compared. This is not a `pulumi preview`:",
        "it does not see the stacks' real state or drift, nor which changes the provider applies in place and which replace a resource.",
        "",
    ];
    for (const failure of failures) {
        lines.push(`!! ${failure}`, "");
    }
    for (const d of diffs) {
        if (!hasChanges(d)) {
            lines.push(`== stage ${d.stage}: no change`);
            continue;
        }
        const presence = d.presence === "added" ? " (new stage)" : d.presence === "removed" ? " (stage removed)" : "";
        lines.push(
            `== stage ${d.stage}${presence}: resources ${count(d.resources)}; ignition ${count(d.ignition)}; kubernetes ${count(d.kubernetes)}; other files ${count(d.other)}`,
        );
        for (const [title, changes] of [
            ["resources", d.resources],
            ["ignition (per node: files and units)", d.ignition],
            ["kubernetes objects", d.kubernetes],
            ["other rendered files", d.other],
        ] as const) {
            if (changes.length) {
                lines.push(`  ${title}`, ...formatChanges(changes, "    "));
            }
        }
    }
    return lines.join("\n") + "\n";
}
