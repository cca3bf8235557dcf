/**
 * `npm run bench`: the numbers the README records.
 *
 *  1. User data per role (raw Ignition bytes of each stage's nodes) against the 16,000-byte ECS budget;
 *     target: every role at most 8,000 bytes (half the budget).
 *  2. The program's evaluation time and peak memory under the mock runtime with 10, 100 and 500 workers, next
 *     to a bare loop that registers the same number of plain resources in the same runtime (the SDK's own
 *     floor); target: at most 1.3x the floor at 500 workers, and linear growth. A second floor replays exactly
 *     the resources the program registered (same classes, same inputs as constants, no wiring): the distance to
 *     it is what the program itself costs; the rest is what the SDK spends per resource of each class.
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
import { RecordedResource, revealSecrets, runProgram } from "./mockRuntime";

const USER_DATA_TARGET = 8000;
const WORKER_COUNTS = [10, 100, 500];

/** Config for a stage scaled to `workers` workers (a pod network with room for them). */
function scaledOverrides(workers: number): Record<string, unknown> {
    return { [`${PROJECT}:workers`]: { count: workers }, [`${PROJECT}:podCidr`]: "10.128.0.0/14" };
}

/** The floor: a resource with two plain inputs and nothing computed. */
class PlainResource extends pulumi.CustomResource {
    constructor(name: string, props: Record<string, unknown>) {
        super("bench:index:Plain", name, props);
    }
}

interface Sample {
    ms: number;
    maxRssMb: number;
    resources: number;
}

type Mode = "program" | "floor" | "replay";

/** The resource class of a type token ("alicloud:ecs/instance:Instance" -> alicloud.ecs.Instance). */
function resourceClass(type: string): (new (name: string, args: unknown, opts?: pulumi.CustomResourceOptions) => pulumi.Resource) | undefined {
    const [pkg, mod, name] = type.split(":");
    if (pkg === "pulumi" && mod === "providers") {
        return require(`@pulumi/${name}`).Provider; // eslint-disable-line @typescript-eslint/no-require-imports
    }
    if (pkg === "platform") {
        return undefined;
    }
    let ns = require(`@pulumi/${pkg}`); // eslint-disable-line @typescript-eslint/no-require-imports
    const parts = mod.split("/");
    if (pkg === "kubernetes") {
        ns = ns[parts[0].split(".")[0]][parts[1]];
    } else if (parts[0] !== "index") {
        ns = ns[parts[0]];
    }
    return ns[name];
}

/** Child mode: one measurement, printed as JSON. `records` is where a program run saves (or a replay reads) its resources. */
async function child(mode: Mode, workers: number, floorCount: number, records: string): Promise<void> {
    const started = process.hrtime.bigint();
    let run;
    if (mode === "program") {
        run = await runProgram("dev", { overrides: scaledOverrides(workers) });
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const saved = run.resources.map((r) => ({ type: r.type, name: r.name, inputs: revealSecrets(r.inputs) }));
        fs.writeFileSync(records, JSON.stringify(saved));
        process.stdout.write(JSON.stringify({ ms, maxRssMb: process.resourceUsage().maxRSS / 1024, resources: run.resources.length }));
        return;
    } else if (mode === "replay") {
        const saved = JSON.parse(fs.readFileSync(records, "utf8")) as Pick<RecordedResource, "type" | "name" | "inputs">[];
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
        run = await runProgram("dev", {
            program: () => {
                for (let i = 0; i < floorCount; i++) {
                    new PlainResource(`plain-${i}`, { index: i, label: `resource ${i}` });
                }
                return {};
            },
        });
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const sample: Sample = { ms, maxRssMb: process.resourceUsage().maxRSS / 1024, resources: run.resources.length };
    process.stdout.write(JSON.stringify(sample));
}

function measure(mode: Mode, workers: number, floorCount: number, repeat: number, records: string): Sample {
    const samples: Sample[] = [];
    for (let i = 0; i < repeat; i++) {
        const out = execFileSync(
            process.execPath,
            ["-r", "ts-node/register/transpile-only", path.join(__dirname, "bench.ts"), "--child", mode, String(workers), String(floorCount), records],
            { encoding: "utf8", maxBuffer: 1 << 26, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" } },
        );
        samples.push(JSON.parse(out.trim().split("\n").pop()!));
    }
    samples.sort((a, b) => a.ms - b.ms);
    return samples[Math.floor(samples.length / 2)];
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
            console.log(`  ${stage.padEnd(8)} ${role.padEnd(11)} ${String(bytes).padStart(6)} B  ${((100 * bytes) / USER_DATA_LIMIT).toFixed(1).padStart(5)}% of budget  ${verdict}`);
        }
    }
    return ok;
}

async function main(): Promise<void> {
    const args = process.argv.slice(2);
    if (args[0] === "--child") {
        await child(args[1] as Mode, Number(args[2]), Number(args[3]), args[4]);
        return;
    }
    const repeatIndex = args.indexOf("--repeat");
    const repeat = repeatIndex >= 0 ? Number(args[repeatIndex + 1]) : 3;

    const userDataOk = await userDataReport();
    if (args.includes("--user-data")) {
        // The user-data table alone (seconds), for changes that touch only node configs.
        process.exit(userDataOk ? 0 : 1);
    }

    console.log(`\nEvaluation under the mock runtime (median of ${repeat} runs, each in a fresh process)`);
    console.log("  workers  resources   program ms  floor ms  ratio   replay ms  ratio   program MB  floor MB  replay MB   ms/resource");
    const rows: { workers: number; program: Sample; floor: Sample; replay: Sample }[] = [];
    const records = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-")), "records.json");
    for (const workers of WORKER_COUNTS) {
        const program = measure("program", workers, 0, repeat, records);
        const floor = measure("floor", workers, program.resources, repeat, records);
        const replay = measure("replay", workers, program.resources, repeat, records);
        rows.push({ workers, program, floor, replay });
        const cell = (n: number, width: number) => n.toFixed(0).padStart(width);
        console.log(
            `  ${String(workers).padStart(7)}  ${String(program.resources).padStart(9)}   ${cell(program.ms, 10)}  ${cell(floor.ms, 8)}  ${(program.ms / floor.ms).toFixed(2).padStart(5)}x` +
                `  ${cell(replay.ms, 9)}  ${(program.ms / replay.ms).toFixed(2).padStart(5)}x` +
                `  ${cell(program.maxRssMb, 10)}  ${cell(floor.maxRssMb, 8)}  ${cell(replay.maxRssMb, 9)}   ${(program.ms / program.resources).toFixed(2).padStart(11)}`,
        );
    }
    fs.rmSync(path.dirname(records), { recursive: true, force: true });
    const last = rows[rows.length - 1];
    const ratio = last.program.ms / last.floor.ms;
    // Linear growth: time per resource at 500 workers within 1.5x of that at 100 workers.
    const perResource = rows.map((r) => r.program.ms / r.program.resources);
    const growth = perResource[perResource.length - 1] / perResource[1];
    console.log(`\n  ratio at ${last.workers} workers: ${ratio.toFixed(2)}x the plain-resource floor (target <= 1.30x): ${ratio <= 1.3 ? "ok" : "MISSED"}`);
    console.log(`  ratio at ${last.workers} workers: ${(last.program.ms / last.replay.ms).toFixed(2)}x the replay floor (same resources, no wiring)`);
    console.log(`  time per resource, ${last.workers} vs ${rows[1].workers} workers: ${growth.toFixed(2)}x (linear if ~1): ${growth <= 1.5 ? "ok" : "MISSED"}`);
    const replayGrowth = last.replay.ms / last.replay.resources / (rows[1].replay.ms / rows[1].replay.resources);
    console.log(`  the same for the replay floor (the SDK alone): ${replayGrowth.toFixed(2)}x`);
    console.log(`  user data: ${userDataOk ? "every role within the 8,000-byte target" : "some role over the 8,000-byte target"}`);
}

void main().catch((err) => {
    console.error(err);
    process.exit(1);
});
