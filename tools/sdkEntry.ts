/**
 * The program as `pulumi preview` starts it, minus the engine: the SDK's own nodejs entry point
 * (`@pulumi/pulumi/cmd/run`, which the nodejs language host runs) in a child process, started the way the language
 * host starts it from Pulumi.yaml (`runtime.options.typescript` -> PULUMI_NODEJS_TYPESCRIPT, `nodeargs` -> Node's
 * arguments, `main` -> the program path; config in PULUMI_CONFIG), and connected over gRPC on loopback to the same
 * recording mock monitor that `runProgram` uses. The Pulumi CLI's nodejs language host cannot be built here
 * (docs/benchmarks.md); this is the part of a preview that TypeScript and stack capture cost.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { PROJECT } from "../config/schema";
import { PROJECT_DIR, engineConfigFor } from "./stageFiles";
import { platformMocks } from "./mocks";
import { RecordedResource, RecordingMonitor } from "./mockRuntime";

// Internal SDK modules (checked with @pulumi/pulumi 3.248.0, which package.json pins exactly), and the SDK's own
// copies of gRPC and protobuf, which its service definitions are built with.
/* eslint-disable @typescript-eslint/no-require-imports -- internal SDK modules and the SDK's own gRPC copies, by path */
const SDK_DIR = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const fromSdk = (module: string) => require(require.resolve(module, { paths: [SDK_DIR] }));
const grpc = fromSdk("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
const { Empty } = fromSdk("google-protobuf/google/protobuf/empty_pb");
const { ResourceMonitorService } = require("@pulumi/pulumi/proto/resource_grpc_pb");
const resproto = require("@pulumi/pulumi/proto/resource_pb");
const settings = require("@pulumi/pulumi/runtime/settings");
/* eslint-enable @typescript-eslint/no-require-imports -- back to imports */

/** What the nodejs language host reads from Pulumi.yaml to start the program. */
export interface NodejsRuntime {
    /** `runtime.options.typescript` (the language host's default: true). */
    readonly typescript: boolean;
    /** `runtime.options.nodeargs`, split on spaces. */
    readonly nodeargs: string[];
    /** The top-level `main` (a path relative to the project), if set. */
    readonly main?: string;
}

/** The nodejs runtime options of the Pulumi.yaml in `dir`. */
function nodejsRuntime(dir = PROJECT_DIR): NodejsRuntime {
    const project = YAML.parse(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"));
    const options = typeof project.runtime === "object" ? (project.runtime.options ?? {}) : {};
    return {
        typescript: options.typescript !== false,
        nodeargs: typeof options.nodeargs === "string" ? options.nodeargs.split(" ").filter(Boolean) : [],
        main: project.main,
    };
}

/** Options of one run through the SDK's entry point. */
export interface EntryOptions {
    /** The project directory (Pulumi.yaml, package.json, tsconfig.json, the stage files). Defaults to this project. */
    readonly dir?: string;
    /** Config values laid over the stage file, by full key (`coreos-platform:workers`). */
    readonly overrides?: Record<string, unknown>;
    /** Replaces what Pulumi.yaml says. */
    readonly runtime?: Partial<NodejsRuntime>;
    /** Extra environment of the program's process. */
    readonly env?: NodeJS.ProcessEnv;
}

/** What one run through the SDK's entry point gave. */
export interface EntryRun {
    readonly exitCode: number | null;
    /** stdout and stderr of the program's process. */
    readonly output: string;
    readonly resources: RecordedResource[];
    /** Wall time of the program's process, from spawn to exit. */
    readonly ms: number;
    /** Peak resident memory of the program's process. */
    readonly maxRssMb: number;
}

/** A gRPC call as the handlers below read it: the request, a generated protobuf class. */
type Call = import("@grpc/grpc-js").ServerUnaryCall<{ getId(): string }, unknown>;
type Callback = import("@grpc/grpc-js").sendUnaryData<unknown>;

/** The mock monitor as a gRPC service (the SDK's client needs real protobuf replies where the mock gives plain ones). */
function monitorService(monitor: RecordingMonitor): import("@grpc/grpc-js").UntypedServiceImplementation {
    const forward = (method: "registerResource" | "invoke" | "readResource" | "registerPackage") => (call: Call, callback: Callback) =>
        monitor[method](call.request, callback);
    return {
        supportsFeature: (call: Call, callback: Callback) => {
            // As the SDK's own mocks: no output values, so inputs reach the mocks resolved.
            callback(null, new resproto.SupportsFeatureResponse().setHassupport(call.request.getId() !== "outputValues"));
        },
        registerResource: forward("registerResource"),
        invoke: forward("invoke"),
        readResource: forward("readResource"),
        registerPackage: forward("registerPackage"),
        registerResourceOutputs: (call: Call, callback: Callback) =>
            monitor.registerResourceOutputs(call.request, (err: import("@grpc/grpc-js").ServiceError | null) => callback(err, new Empty())),
        // The drain hooks of the worker and edge joins (components/nodeRoll.ts): recorded, never called offline.
        registerResourceHook: (call: Call, callback: Callback) =>
            monitor.registerResourceHook(call.request, (err) => callback(err as import("@grpc/grpc-js").ServiceError | null, new Empty())),
        signalAndWaitForShutdown: (_call: Call, callback: Callback) => callback(null, new Empty()),
    };
}

/** Runs the project's program for `stage` as `pulumi preview` would, through the SDK's nodejs entry point. */
export async function runThroughSdkEntry(stage: string, options: EntryOptions = {}): Promise<EntryRun> {
    const dir = options.dir ?? PROJECT_DIR;
    const runtime = { ...nodejsRuntime(dir), ...options.runtime };
    const config = engineConfigFor(stage, options.overrides, dir);
    const monitor = new RecordingMonitor(platformMocks);
    // The monitor names resources (URNs) from this process's settings.
    settings.setMockOptions(monitor, PROJECT, stage, true);
    const server = new grpc.Server();
    server.addService(ResourceMonitorService, monitorService(monitor));
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    // Reports the process's peak memory; plain JavaScript, loaded before anything else (no TypeScript yet).
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sdk-entry-"));
    const peakFile = path.join(scratch, "peak");
    const reporter = path.join(scratch, "report-peak.js");
    fs.writeFileSync(
        reporter,
        `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(peakFile)}, String(process.resourceUsage().maxRSS)));\n`,
    );
    try {
        const entry = require.resolve("@pulumi/pulumi/cmd/run", { paths: [dir] });
        const args = [
            ...runtime.nodeargs,
            "-r",
            reporter,
            entry,
            `--monitor=127.0.0.1:${port}`,
            `--project=${PROJECT}`,
            `--stack=${stage}`,
            `--root-directory=${dir}`,
            "--dry-run",
            runtime.main ?? ".",
        ];
        const env: NodeJS.ProcessEnv = {
            ...process.env,
            PULUMI_CONFIG: JSON.stringify(config.values),
            PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(config.secretKeys),
            ...options.env,
        };
        delete env.PULUMI_NODEJS_TYPESCRIPT;
        if (runtime.typescript) {
            env.PULUMI_NODEJS_TYPESCRIPT = "true";
        }
        const started = process.hrtime.bigint();
        const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.on("data", (chunk) => (output += chunk));
        child.stderr.on("data", (chunk) => (output += chunk));
        const exitCode = await new Promise<number | null>((resolve) => child.on("close", resolve));
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const maxRssMb = fs.existsSync(peakFile) ? Number(fs.readFileSync(peakFile, "utf8")) / 1024 : NaN;
        // The root stack resource is the entry point's, not the program's: left out, and not named as a parent (as
        // under runProgram, where the program has no root stack).
        const stack = monitor.records.find((r) => r.type === "pulumi:pulumi:Stack")?.name;
        const resources = monitor.records
            .filter((r) => r.type !== "pulumi:pulumi:Stack")
            .map((r) => (r.parent === stack ? { ...r, parent: undefined } : r));
        return { exitCode, output, resources, ms, maxRssMb };
    } finally {
        server.forceShutdown();
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}
