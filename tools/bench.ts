/**
 * `npm run bench`: the numbers docs/benchmarks.md records.
 *
 *  1. User data per role (raw Ignition bytes of each stage's nodes) against the 16,000-byte ECS budget;
 *     target: every role at most 8,000 bytes (half the budget).
 *  2. The program's evaluation time and peak memory under the mock runtime with 10, 100 and 500 workers, side by
 *     side with the replay floor: exactly the resources the program registered (same classes, same inputs as
 *     constants, no wiring) registered by a plain program with Node's default settings, as other Pulumi programs
 *     run. Targets at 500 workers: at most 0.3x the replay floor's time, at most 1 GiB peak memory, and time per
 *     resource within 1.2x of that at 100 workers.
 *  3. The program as `pulumi preview` starts it (tools/sdkEntry.ts): what loading TypeScript costs (ts-node with
 *     type-checking, ts-node transpile-only as tsconfig.json chooses, JavaScript compiled by tsc), and stack
 *     capture off against COREOS_PLATFORM_FULL_STACKS=1 at the largest worker count.
 *
 * `npm run bench -- --user-data` prints the first table only.
 *
 * Every measurement runs in its own Node process (fresh heap, peak RSS from the OS); each point is the median
 * of `--repeat` runs (default 3).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../config/schema";
import { USER_DATA_LIMIT } from "../ignition/input";
import { renderIgnition } from "./render";
import { FULL_STACKS_ENV } from "../stackCapture";
import { RecordedResource, revealSecrets, runProgram } from "./mockRuntime";
import { EntryOptions, EntryRun, runThroughSdkEntry } from "./sdkEntry";

const USER_DATA_TARGET = 8000;
const WORKER_COUNTS = [10, 100, 500];
/** The targets at the largest worker count (issue 15). */
const TARGET_RATIO = 0.3;
const TARGET_PEAK_MB = 1024;
const TARGET_GROWTH = 1.2;

/** Config for a stage scaled to `workers` workers (a pod network with room for them). */
function scaledOverrides(workers: number): Record<string, unknown> {
    return { [`${PROJECT}:workers`]: { count: workers }, [`${PROJECT}:podCidr`]: "10.128.0.0/14" };
}

interface Sample {
    /** From the child's start (modules loaded, ts-node registered) to the end of the run. */
    ms: number;
    /** CPU time (user + system) of the child over the same span: less sensitive than `ms` to other load. */
    cpuMs: number;
    /** Peak resident memory of the child at the end of the run, before the bench's own bookkeeping. */
    maxRssMb: number;
    resources: number;
    /** `Error.stackTraceLimit` values in effect while the resources were registered. */
    stackTraceLimits: number[];
}

/** `program`: index.ts at a worker count; `replay`: the replay floor of the last program run. */
type Mode = "program" | "replay";

/** The resource class of a type token ("alicloud:ecs/instance:Instance" -> alicloud.ecs.Instance). */
function resourceClass(
    type: string,
): (new (name: string, args: unknown, opts?: pulumi.CustomResourceOptions) => pulumi.Resource) | undefined {
    const [pkg, mod, name] = type.split(":");
    if (pkg === "pulumi" && mod === "providers") {
        return require(`@pulumi/${name}`).Provider; // eslint-disable-line @typescript-eslint/no-require-imports -- the class of a recorded type, by name
    }
    if (pkg === "platform") {
        return undefined;
    }
    let ns = require(`@pulumi/${pkg}`); // eslint-disable-line @typescript-eslint/no-require-imports -- the class of a recorded type, by name
    const parts = mod.split("/");
    if (pkg === "kubernetes") {
        ns = ns[parts[0].split(".")[0]][parts[1]];
    } else if (parts[0] !== "index") {
        ns = ns[parts[0]];
    }
    return ns[name];
}

/** Child mode: one measurement, printed as JSON. `records` is where a program run saves (or a replay reads) its resources. */
async function child(mode: Mode, workers: number, records: string): Promise<void> {
    const started = process.hrtime.bigint();
    const cpuAtStart = process.cpuUsage();
    let run;
    if (mode === "replay") {
        const saved = JSON.parse(fs.readFileSync(records, "utf8")) as Pick<RecordedResource, "type" | "name" | "inputs">[];
        // A plain program: no limitStackCapture(), so Node's default stack-trace limit applies.
        run = await runProgram("dev", {
            program: () => {
                for (const r of saved) {
                    const Class = resourceClass(r.type);
                    if (Class) {
                        new Class(r.name, r.inputs);
                    } else {
                        new pulumi.ComponentResource(r.type, r.name);
                    }
                }
                return {};
            },
        });
    } else {
        run = await runProgram("dev", { overrides: scaledOverrides(workers) });
    }
    const cpu = process.cpuUsage(cpuAtStart);
    const sample: Sample = {
        ms: Number(process.hrtime.bigint() - started) / 1e6,
        cpuMs: (cpu.user + cpu.system) / 1000,
        maxRssMb: process.resourceUsage().maxRSS / 1024,
        resources: run.resources.length,
        stackTraceLimits: run.stackTraceLimits,
    };
    if (mode === "program") {
        const saved = run.resources.map((r) => ({ type: r.type, name: r.name, inputs: revealSecrets(r.inputs) }));
        fs.writeFileSync(records, JSON.stringify(saved));
    }
    process.stdout.write(JSON.stringify(sample));
}

/** One child process: one measurement. */
function measure(mode: Mode, workers: number, records: string): Sample {
    const out = execFileSync(
        process.execPath,
        ["-r", "ts-node/register/transpile-only", path.join(__dirname, "bench.ts"), "--child", mode, String(workers), records],
        {
            encoding: "utf8",
            maxBuffer: 1 << 26,
        },
    );
    const last = out.trim().split("\n").pop();
    if (last === undefined) throw new Error(`bench child ${mode} ${workers} printed nothing`);
    return JSON.parse(last);
}

/** The sample with the median time. */
function median<T extends { ms: number }>(samples: T[]): T {
    return [...samples].sort((a, b) => a.ms - b.ms)[Math.floor(samples.length / 2)];
}

const verdict = (met: boolean) => (met ? "MET" : "MISSED");
const num = (n: number, width: number, digits = 0) =>
    n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }).padStart(width);
const limits = (s: Sample) => s.stackTraceLimits.join(",").padStart(5);

/** Section 2: the program against the replay floor; returns whether every target is met. */
function evaluationReport(repeat: number): boolean {
    console.log(
        `\nEvaluation under the mock runtime: the program against the replay floor (median of ${repeat} runs, each in a fresh process)`,
    );
    console.log(
        "                     |              program (index.ts)                   |            replay floor (plain program)           |",
    );
    console.log(
        "  workers  resources |       ms    cpu ms      MiB  ms/resource  stack   |       ms    cpu ms      MiB  ms/resource  stack   |  time ratio",
    );
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
    const samples = WORKER_COUNTS.map(() => ({ programs: [] as Sample[], replays: [] as Sample[] }));
    try {
        // Round by round through every worker count, program then replay: a change in the machine's load during
        // the bench then hits every row and both sides alike.
        for (let i = 0; i < repeat; i++) {
            for (const [w, workers] of WORKER_COUNTS.entries()) {
                const records = path.join(scratch, `records-${workers}.json`);
                samples[w].programs.push(measure("program", workers, records));
                samples[w].replays.push(measure("replay", workers, records));
            }
        }
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
    const rows = WORKER_COUNTS.map((workers, w) => ({ workers, program: median(samples[w].programs), replay: median(samples[w].replays) }));
    for (const { workers, program, replay } of rows) {
        const side = (s: Sample) =>
            `${num(s.ms, 8)}  ${num(s.cpuMs, 8)}  ${num(s.maxRssMb, 7)}  ${num(s.ms / s.resources, 11, 2)}  ${limits(s)}   |`;
        console.log(
            `  ${num(workers, 7)}  ${num(program.resources, 9)} | ${side(program)} ${side(replay)}  ${num(program.ms / replay.ms, 9, 2)}x`,
        );
    }
    console.log("  (ms: wall time from the child's start, modules included; cpu ms: its user + system CPU time over the same span;");
    console.log("   stack: Error.stackTraceLimit while the resources were registered)");

    const last = rows[rows.length - 1];
    const base = rows.find((r) => r.workers === 100);
    if (!base) throw new Error("the bench needs a row at 100 workers");
    const ratio = last.program.ms / last.replay.ms;
    const perResource = (s: Sample) => s.ms / s.resources;
    const growth = perResource(last.program) / perResource(base.program);
    const cpuGrowth = last.program.cpuMs / last.program.resources / (base.program.cpuMs / base.program.resources);
    const replayGrowth = perResource(last.replay) / perResource(base.replay);
    const targets = [
        {
            met: ratio <= TARGET_RATIO,
            text: `time: ${num(last.program.ms, 0)} ms = ${ratio.toFixed(2)}x the replay floor's ${num(last.replay.ms, 0)} ms (target <= ${TARGET_RATIO.toFixed(2)}x)`,
        },
        {
            met: last.program.maxRssMb <= TARGET_PEAK_MB,
            text: `peak memory: ${num(last.program.maxRssMb, 0)} MiB (target <= ${TARGET_PEAK_MB} MiB; replay floor ${num(last.replay.maxRssMb, 0)} MiB)`,
        },
        {
            met: growth <= TARGET_GROWTH,
            text:
                `time per resource, ${last.workers} vs ${base.workers} workers: ${growth.toFixed(2)}x (target <= ${TARGET_GROWTH.toFixed(2)}x; ` +
                `CPU time ${cpuGrowth.toFixed(2)}x; replay floor ${replayGrowth.toFixed(2)}x)`,
        },
    ];
    console.log(`\nTargets at ${last.workers} workers`);
    for (const t of targets) {
        console.log(`  ${t.text}: ${verdict(t.met)}`);
    }
    return targets.every((t) => t.met);
}

/**
 * Runs the program through the SDK's nodejs entry point `repeat` times per variant, the variants in turn (so that
 * a change in the machine's load hits all alike); per variant, the run with the median time.
 */
async function measureEntries(variants: EntryOptions[], repeat: number): Promise<EntryRun[]> {
    const runs: EntryRun[][] = variants.map(() => []);
    for (let i = 0; i < repeat; i++) {
        for (const [v, options] of variants.entries()) {
            const run = await runThroughSdkEntry("dev", options);
            if (run.exitCode !== 0) {
                throw new Error(`the program failed through the SDK's entry point (exit ${run.exitCode}):\n${run.output}`);
            }
            runs[v].push(run);
        }
    }
    return runs.map(median);
}

/**
 * Section 3: the program as `pulumi preview` starts it (tools/sdkEntry.ts), by how TypeScript is loaded, and with
 * and without stack capture at the largest worker count.
 */
async function previewReport(repeat: number): Promise<void> {
    console.log(
        `\nAs \`pulumi preview\` starts the program: the SDK's nodejs entry point over gRPC to the mock monitor (median of ${repeat}, whole process)`,
    );
    const root = path.resolve(__dirname, "..");
    const compiled = path.join("out", "bench-js");
    let dev: EntryRun[];
    let buildMs: number;
    try {
        const started = process.hrtime.bigint();
        execFileSync(
            process.execPath,
            [require.resolve("typescript/bin/tsc"), "-p", path.join(root, "tsconfig.json"), "--outDir", path.join(root, compiled)],
            { stdio: "inherit" },
        );
        buildMs = Number(process.hrtime.bigint() - started) / 1e6;
        dev = await measureEntries(
            [
                { env: { PULUMI_NODEJS_TRANSPILE_ONLY: "false" } },
                {},
                { runtime: { typescript: false, main: path.join(compiled, "index.js") } },
            ],
            repeat,
        );
    } finally {
        fs.rmSync(path.join(root, compiled), { recursive: true, force: true });
    }
    const workers = WORKER_COUNTS[WORKER_COUNTS.length - 1];
    const scaled = { overrides: scaledOverrides(workers) };
    const [off, full] = await measureEntries([scaled, { ...scaled, env: { [FULL_STACKS_ENV]: "1" } }], repeat);
    const [checked, transpiled, javascript] = dev;
    const rows: [string, EntryRun][] = [
        ["dev: typescript: true, ts-node type-checking (PULUMI_NODEJS_TRANSPILE_ONLY=false)", checked],
        ["dev: typescript: true, transpile-only (tsconfig.json; this project)", transpiled],
        [`dev: typescript: false, main: JavaScript from tsc (+ the build: ${num(buildMs, 0)} ms)`, javascript],
        [`dev with ${workers} workers, transpile-only: stack capture off (the program's default)`, off],
        [`dev with ${workers} workers, transpile-only: ${FULL_STACKS_ENV}=1`, full],
    ];
    console.log(`  ${"".padEnd(80)} process ms  peak MiB  resources`);
    for (const [label, run] of rows) {
        console.log(`  ${label.padEnd(80)} ${num(run.ms, 10)} ${num(run.maxRssMb, 9)} ${num(run.resources.length, 10)}`);
    }
    console.log(
        `  type-checking costs each preview ${num(checked.ms - transpiled.ms, 0)} ms: ${(checked.ms / transpiled.ms).toFixed(1)}x the transpile-only start`,
    );
    console.log(`  transpiling costs each preview ${num(transpiled.ms - javascript.ms, 0)} ms over precompiled JavaScript`);
    console.log(
        `  stack capture off at ${workers} workers: ${(off.ms / full.ms).toFixed(2)}x the time and ${(off.maxRssMb / full.maxRssMb).toFixed(2)}x the memory of full stacks`,
    );
}

async function userDataReport(): Promise<boolean> {
    let ok = true;
    console.log(`User data per role (raw Ignition bytes; budget ${USER_DATA_LIMIT}, target <= ${USER_DATA_TARGET})`);
    for (const stage of ["dev", "staging", "prod"]) {
        const run = await runProgram(stage);
        const largest = new Map<string, number>();
        for (const [node, json] of renderIgnition(run)) {
            const role = node.replace(/^.*-(bastion|controller|worker|edge|nfs)(-\d+)?$/, "$1");
            largest.set(role, Math.max(largest.get(role) ?? 0, Buffer.byteLength(json)));
        }
        for (const [role, bytes] of [...largest].sort()) {
            const verdict = bytes > USER_DATA_LIMIT ? "OVER BUDGET" : bytes > USER_DATA_TARGET ? "over target" : "ok";
            ok &&= bytes <= USER_DATA_TARGET;
            console.log(
                `  ${stage.padEnd(8)} ${role.padEnd(11)} ${String(bytes).padStart(6)} B  ${((100 * bytes) / USER_DATA_LIMIT).toFixed(1).padStart(5)}% of budget  ${verdict}`,
            );
        }
    }
    return ok;
}

async function main(): Promise<void> {
    const args = process.argv.slice(2);
    if (args[0] === "--child") {
        await child(args[1] as Mode, Number(args[2]), args[3]);
        return;
    }
    const repeatIndex = args.indexOf("--repeat");
    const repeat = repeatIndex >= 0 ? Number(args[repeatIndex + 1]) : 3;

    const load = () =>
        os
            .loadavg()
            .map((l) => l.toFixed(2))
            .join(" ");
    console.log(`Node ${process.version}, ${os.cpus().length} cores; load average (1, 5, 15 min) at the start: ${load()}\n`);
    const userDataOk = await userDataReport();
    if (args.includes("--user-data")) {
        // The user-data table alone (seconds), for changes that touch only node configs.
        process.exit(userDataOk ? 0 : 1);
    }
    console.log(`  every role within the ${num(USER_DATA_TARGET, 0)}-byte target: ${verdict(userDataOk)}`);
    evaluationReport(repeat);
    await previewReport(repeat);
    console.log(`\nLoad average (1, 5, 15 min) at the end: ${load()}`);
}

void main().catch((err) => {
    console.error(err);
    process.exit(1);
});
