/**
 * Runs the real program under Pulumi's mock runtime with a stage's real config files, and records every
 * resource registration: type, name, parent, inputs, dependencies and the options that guard state.
 * The offline render, the tests and the benchmark all run the program through here.
 */
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../config/schema";
import { engineConfigFor } from "./stageFiles";
import { platformMocks } from "./mocks";

// Internal SDK modules (checked with @pulumi/pulumi 3.248.0, which package.json pins exactly), loaded untyped.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- internal module of the pinned SDK
const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- internal module of the pinned SDK
const settings = require("@pulumi/pulumi/runtime/settings");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- internal module of the pinned SDK
const rpc = require("@pulumi/pulumi/runtime/rpc");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- internal module of the pinned SDK
const state = require("@pulumi/pulumi/runtime/state");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- internal module of the pinned SDK
const { isUnknown } = require("@pulumi/pulumi/output") as { isUnknown(value: unknown): boolean };

/** One registered resource, as the engine would have received it. */
export interface RecordedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    /** Logical name of the parent component, if any. */
    readonly parent?: string;
    readonly custom: boolean;
    /** Inputs as sent to the engine; secret values are wrapped (see `isSecretValue`), unknowns are `UNKNOWN`. */
    readonly inputs: Record<string, unknown>;
    /** Logical names of the resources this one depends on (explicit and through inputs). */
    readonly dependencies: string[];
    readonly protect: boolean;
    readonly ignoreChanges: string[];
    readonly replaceOnChanges: string[];
    readonly retainOnDelete: boolean;
    readonly deleteBeforeReplace: boolean;
    /** Resource hooks by when they run (`beforeDelete`, `afterCreate`, ...), by hook name; absent when none. */
    readonly hooks?: Readonly<Record<string, readonly string[]>>;
    /** The explicit provider reference, if one was passed. */
    readonly provider?: string;
}

/** The value an input has when it is not known until apply. */
export const UNKNOWN = "(known after apply)";

/** The result of running the program once. */
export interface ProgramRun {
    readonly stage: string;
    readonly resources: RecordedResource[];
    /** The stack outputs, resolved (secrets wrapped). */
    readonly outputs: Record<string, unknown>;
    /** Every `Error.stackTraceLimit` in effect when a registration reached the engine, ascending. */
    readonly stackTraceLimits: number[];
}

/** Options of one run. */
export interface RunOptions {
    /** Config values laid over the stage file, by full key (`coreos-platform:workers`). */
    readonly overrides?: Record<string, unknown>;
    /** Run as `pulumi preview` (true, the default) or as `pulumi up`. */
    readonly preview?: boolean;
    /** The program to run; defaults to the project's `index.ts`. */
    readonly program?: () => Record<string, unknown>;
    /** Project directory holding Pulumi.yaml and the stage files. */
    readonly dir?: string;
    /** What the cloud answers instead of `platformMocks` (a test's view of an existing stage). */
    readonly mocks?: pulumi.runtime.Mocks;
}

/** True for a secret as the engine receives it. */
export function isSecretValue(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[rpc.specialSigKey] === rpc.specialSecretSig;
}

/** What every written or printed render shows instead of a secret's value. */
export const SECRET_MASK = "[secret]";

/** Replaces every secret by SECRET_MASK (for anything written to disk or printed). */
export function maskSecrets(value: unknown): unknown {
    if (isSecretValue(value)) {
        return SECRET_MASK;
    }
    if (Array.isArray(value)) {
        return value.map(maskSecrets);
    }
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v)]));
    }
    return value;
}

/** Unwraps secrets (for tests that assert on a secret's shape, never for output). */
export function revealSecrets(value: unknown): unknown {
    if (isSecretValue(value)) {
        return revealSecrets(value.value);
    }
    if (Array.isArray(value)) {
        return value.map(revealSecrets);
    }
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revealSecrets(v)]));
    }
    return value;
}

function normalizeUnknowns(value: unknown): unknown {
    if (value === rpc.unknownValue || isUnknown(value)) {
        return UNKNOWN;
    }
    if (Array.isArray(value)) {
        return value.map(normalizeUnknowns);
    }
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeUnknowns(v)]));
    }
    return value;
}

function nameOf(urn: string): string {
    return urn.split("::").pop() ?? urn;
}

/** The parts of the engine's RegisterResourceRequest (a generated gRPC class) the recording reads. */
interface RegisterResourceRequest {
    getParent(): string;
    getObject(): unknown;
    getProvider(): string;
    getType(): string;
    getName(): string;
    getCustom(): boolean;
    getDependenciesList(): string[];
    getProtect(): boolean | undefined;
    getIgnorechangesList(): string[];
    getReplaceonchangesList(): string[];
    getRetainondelete(): boolean | undefined;
    getDeletebeforereplace(): boolean | undefined;
    getHooks(): ResourceHooksBinding | undefined;
}

/** The hook names a registration binds (the engine's ResourceHooksBinding). */
interface ResourceHooksBinding {
    getBeforeCreateList(): string[];
    getAfterCreateList(): string[];
    getBeforeUpdateList(): string[];
    getAfterUpdateList(): string[];
    getBeforeDeleteList(): string[];
    getAfterDeleteList(): string[];
}

function hookNames(binding: ResourceHooksBinding | undefined): Record<string, string[]> | undefined {
    if (!binding) return undefined;
    const all: Record<string, string[]> = {
        beforeCreate: binding.getBeforeCreateList(),
        afterCreate: binding.getAfterCreateList(),
        beforeUpdate: binding.getBeforeUpdateList(),
        afterUpdate: binding.getAfterUpdateList(),
        beforeDelete: binding.getBeforeDeleteList(),
        afterDelete: binding.getAfterDeleteList(),
    };
    const bound = Object.fromEntries(Object.entries(all).filter(([, names]) => names.length > 0));
    return Object.keys(bound).length > 0 ? bound : undefined;
}

/** The SDK's mock monitor, recording every registration request (also served over gRPC by sdkEntry.ts). */
export class RecordingMonitor extends MockMonitor {
    public readonly records: RecordedResource[] = [];
    public readonly stackTraceLimits = new Set<number>();

    constructor(mocks: pulumi.runtime.Mocks) {
        super(mocks);
    }

    async registerResource(req: RegisterResourceRequest, callback: (err: unknown, resp: unknown) => void): Promise<void> {
        const parentUrn: string = req.getParent();
        const inputs = normalizeUnknowns(rpc.deserializeProperties(req.getObject(), true)) as Record<string, unknown>;
        const provider: string = req.getProvider();
        this.stackTraceLimits.add(Error.stackTraceLimit);
        this.records.push({
            urn: this.newUrn(parentUrn, req.getType(), req.getName()),
            type: req.getType(),
            name: req.getName(),
            parent: parentUrn ? nameOf(parentUrn) : undefined,
            custom: req.getCustom(),
            inputs,
            dependencies: [...new Set<string>(req.getDependenciesList().map(nameOf))].sort(),
            protect: req.getProtect() === true,
            ignoreChanges: req.getIgnorechangesList(),
            replaceOnChanges: req.getReplaceonchangesList(),
            retainOnDelete: req.getRetainondelete() === true,
            deleteBeforeReplace: req.getDeletebeforereplace() === true,
            ...(hookNames(req.getHooks()) ? { hooks: hookNames(req.getHooks()) } : {}),
            provider: provider ? provider.split("::")[3] : undefined,
        });
        return super.registerResource(req, callback);
    }

    /** Hooks are program code the engine calls back; offline nothing calls them, so registering one only succeeds. */
    registerResourceHook(_req: unknown, callback: (err: unknown, resp: unknown) => void): void {
        callback(null, {});
    }
}

let running = false;

/**
 * Runs the program once for `stage` and returns what it registered. Runs do not overlap; each one gets a fresh
 * mock runtime, so a process (or a jest file) may run the program many times. The stack-trace limit the program
 * sets for itself (stackCapture.ts) is the host's again afterwards, so test failures keep their stacks.
 */
export async function runProgram(stage: string, options: RunOptions = {}): Promise<ProgramRun> {
    if (running) {
        throw new Error("runProgram: a run is already in progress (await it first)");
    }
    running = true;
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on("unhandledRejection", onRejection);
    const hostStackTraceLimit = Error.stackTraceLimit;
    try {
        const preview = options.preview ?? true;
        const engineConfig = engineConfigFor(stage, options.overrides, options.dir);
        const mocks = options.mocks ?? platformMocks;
        await pulumi.runtime.setMocks(mocks, PROJECT, stage, preview);
        const monitor = new RecordingMonitor(mocks);
        // setMockOptions resets the features setMocks turned on (secrets among them): without restoring them,
        // secrets would reach the monitor as plain values.
        const features = Object.fromEntries(Object.entries(state.getStore()).filter(([k]) => k.startsWith("supports")));
        settings.setMockOptions(monitor, PROJECT, stage, preview);
        Object.assign(state.getStore(), features);
        pulumi.runtime.setAllConfig(engineConfig.values, engineConfig.secretKeys);

        // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program is loaded only now: the SDK must have its mocks before the program is imported
        const program = options.program ?? (require("../index") as () => Record<string, unknown>);
        const exported = program();
        const outputs: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(exported)) {
            outputs[key] = await resolve(value);
        }
        await settings.waitForRPCs();
        if (rejections.length > 0) {
            throw rejections[0];
        }
        return { stage, resources: monitor.records, outputs, stackTraceLimits: [...monitor.stackTraceLimits].sort((a, b) => a - b) };
    } finally {
        Error.stackTraceLimit = hostStackTraceLimit;
        // Registering a hook starts the SDK's callback server (a gRPC listener); it would keep the process alive.
        const store = state.getStore();
        store.callbacks?.shutdown();
        store.callbacks = undefined;
        process.off("unhandledRejection", onRejection);
        running = false;
    }
}

/** Resolves an output (or a structure of outputs) to plain data; secrets stay wrapped, unknowns become UNKNOWN. */
async function resolve(value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) {
        const output = value as pulumi.Output<unknown> & {
            isKnown: Promise<boolean>;
            isSecret: Promise<boolean>;
            promise(): Promise<unknown>;
        };
        const [known, secret] = await Promise.all([output.isKnown, output.isSecret]);
        const inner = known ? await resolve(await output.promise()) : UNKNOWN;
        return secret ? { [rpc.specialSigKey]: rpc.specialSecretSig, value: inner } : inner;
    }
    if (Array.isArray(value)) {
        return Promise.all(value.map(resolve));
    }
    if (value && typeof value === "object" && !(value instanceof pulumi.Resource)) {
        const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolve(v)] as const));
        return Object.fromEntries(entries);
    }
    return value;
}
