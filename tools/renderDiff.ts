/**
 * `npm run render:diff -- <git-ref> [--stage <s> ...] [--check]`: for reviewers without cloud credentials.
 * Renders every stage offline (`tools/render.ts`, the mock runtime) at `<git-ref>` and at the working tree and
 * prints, per stage, the resources, the Ignition files and units of each node, the Kubernetes objects and the
 * other rendered files that were added, removed or changed, with a unified diff of each changed one.
 *
 * It complements `pulumi preview`; it is not one: it knows nothing of the stacks' real state, drift, or which
 * changes the provider would apply in place and which would replace a resource.
 *
 * The ref is checked out with `git worktree add` into a temporary directory that borrows this checkout's
 * node_modules through a symlink, so both sides must share their dependencies (docs/operations.md).
 *
 * Exit status: 0 whether or not anything changed; with --check, 1 when something did; 2 when a side could not
 * be rendered or the ref is unknown.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SideLabels, StageDiff, compareStage, formatReport, hasChanges } from "./renderCompare";
import { PROJECT_DIR, listStages } from "./stageFiles";

function git(args: string[], cwd: string): string {
    const r = spawnSync("git", args, { cwd, encoding: "utf8" });
    if (r.status !== 0) {
        throw new Error(`git ${args.join(" ")}: ${(r.stderr || r.stdout).trim()}`);
    }
    return r.stdout.trim();
}

/** Renders `stage` of the project in `projectDir` into `outDir/<stage>/` with that project's own render tool. */
function renderSide(projectDir: string, stage: string, outDir: string, nodeModules: string): string | undefined {
    const render = path.join(projectDir, "tools", "render.ts");
    if (!fs.existsSync(render)) {
        return "it has no tools/render.ts (the ref predates the offline render)";
    }
    const tsNode = path.join(nodeModules, "ts-node", "dist", "bin.js");
    const r = spawnSync(process.execPath, [tsNode, "--transpile-only", render, "--stack", stage, "--out", outDir], {
        cwd: projectDir,
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
    });
    if (r.status !== 0) {
        return (r.stderr || r.stdout || `exit ${r.status}`).trim().split("\n").slice(0, 15).join("\n");
    }
    return undefined;
}

/** Options of a render diff run. */
export interface RenderDiffOptions {
    /** The git ref to compare the working tree with. */
    readonly ref: string;
    /** Stages to compare; defaults to every stage of either side. */
    readonly stages?: readonly string[];
    /** The checkout (defaults to this repository). */
    readonly dir?: string;
}

/** The outcome of a run: the report and what the exit status should be based on. */
export interface RenderDiffResult {
    readonly report: string;
    readonly changed: boolean;
    readonly failures: readonly string[];
}

/** Checks out `ref` into a temporary worktree, renders both sides, compares them. Cleans up after itself. */
export function renderDiff(options: RenderDiffOptions): RenderDiffResult {
    const dir = options.dir ?? PROJECT_DIR;
    const sha = git(["rev-parse", "--verify", "--quiet", `${options.ref}^{commit}`], dir);
    const sides: SideLabels = { before: `${options.ref} (${sha.slice(0, 12)})`, after: "working tree" };
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "render-diff-"));
    const worktree = path.join(scratch, "ref");
    const nodeModules = path.join(dir, "node_modules");
    try {
        git(["worktree", "add", "--detach", "--quiet", worktree, sha], dir);
        // The ref borrows this checkout's dependencies (docs/operations.md: assumes they did not change).
        if (!fs.existsSync(path.join(worktree, "node_modules"))) {
            fs.symlinkSync(nodeModules, path.join(worktree, "node_modules"), "dir");
        }
        const stages = options.stages?.length ? [...options.stages] : [...new Set([...listStages(worktree), ...listStages(dir)])].sort();
        const failures: string[] = [];
        const diffs: StageDiff[] = [];
        for (const stage of stages) {
            const [before, after] = [path.join(scratch, "before"), path.join(scratch, "after")];
            const sideFailures = [
                fs.existsSync(path.join(worktree, `Pulumi.${stage}.yaml`)) ? renderSide(worktree, stage, before, nodeModules) : undefined,
                fs.existsSync(path.join(dir, `Pulumi.${stage}.yaml`)) ? renderSide(dir, stage, after, nodeModules) : undefined,
            ];
            sideFailures.forEach(
                (f, i) => f && failures.push(`stage ${stage} could not be rendered at ${i === 0 ? sides.before : sides.after}:\n${f}`),
            );
            if (sideFailures.every((f) => f === undefined)) {
                diffs.push(compareStage(stage, path.join(before, stage), path.join(after, stage), sides));
            }
        }
        return { report: formatReport(diffs, sides, failures), changed: diffs.some(hasChanges), failures };
    } finally {
        spawnSync("git", ["worktree", "remove", "--force", worktree], { cwd: dir });
        spawnSync("git", ["worktree", "prune"], { cwd: dir });
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

function main(): void {
    const args = process.argv.slice(2);
    const stages: string[] = [];
    let ref: string | undefined;
    let check = false;
    for (let i = 0; i < args.length; i++) {
        if (args[i] === "--stage" || args[i] === "--stack") {
            stages.push(args[++i]);
        } else if (args[i] === "--check") {
            check = true;
        } else if (!args[i].startsWith("--") && ref === undefined) {
            ref = args[i];
        } else {
            ref = undefined;
            break;
        }
    }
    if (!ref) {
        console.error("usage: npm run render:diff -- <git-ref> [--stage <stage> ...] [--check]\n  e.g. npm run render:diff -- origin/main");
        process.exit(2);
    }
    try {
        const result = renderDiff({ ref, stages });
        process.stdout.write(result.report);
        process.exit(result.failures.length ? 2 : check && result.changed ? 1 : 0);
    } catch (err) {
        console.error(`render:diff: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(2);
    }
}

if (require.main === module) {
    main();
}
