/**
 * Stack capture while the program registers resources (stackCapture.ts): off for the real program, back on with
 * COREOS_PLATFORM_FULL_STACKS, and the errors a user sees still name what is wrong.
 */
import * as k8s from "@pulumi/kubernetes";
import { Apps } from "../../components/apps";
import { StageConfigError } from "../../config";
import { stageConfigFromFiles } from "../../tools/stageFiles";
import { appsSettings } from "../../k8s/apps";
import { FULL_STACKS_ENV, fullStacksRequested, limitStackCapture } from "../../stackCapture";
import { runProgram } from "../../tools/mockRuntime";
import { runStage } from "./helpers";

// The SDK's own formatting of an unhandled exception, as `pulumi up` prints it (internal module; the SDK is pinned).
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an internal module of the SDK, not typed for import
const { defaultErrorMessage } = require("@pulumi/pulumi/cmd/run/error") as { defaultErrorMessage(err: unknown): string };

/** True when an error's stack lists any frame (a line "    at ..."). */
const hasFrames = (err: Error) => /\n\s+at /.test(err.stack ?? "");

/** Runs `body` with FULL_STACKS_ENV set to `value` (unset for undefined), restoring it afterwards. */
async function withFullStacks<T>(value: string | undefined, body: () => Promise<T>): Promise<T> {
    const before = process.env[FULL_STACKS_ENV];
    if (value === undefined) {
        delete process.env[FULL_STACKS_ENV];
    } else {
        process.env[FULL_STACKS_ENV] = value;
    }
    try {
        return await body();
    } finally {
        if (before === undefined) {
            delete process.env[FULL_STACKS_ENV];
        } else {
            process.env[FULL_STACKS_ENV] = before;
        }
    }
}

/** The error a run throws (fails the test if the run succeeds). */
async function failure(run: () => Promise<unknown>): Promise<Error> {
    try {
        await run();
    } catch (err) {
        return err as Error;
    }
    throw new Error("the run succeeded although it should have failed");
}

describe("stack capture during registration", () => {
    const host = Error.stackTraceLimit;

    test("the host process captures stacks (otherwise nothing here could tell)", () => {
        expect(host).toBeGreaterThan(0);
    });

    test("the program registers every resource with stack capture off, and hands the host its limit back", async () => {
        const run = await withFullStacks(undefined, () => runStage("dev"));
        expect(run.resources.length).toBeGreaterThan(100);
        expect(run.stackTraceLimits).toEqual([0]);
        expect(Error.stackTraceLimit).toBe(host);
    });

    test(`${FULL_STACKS_ENV}=1 leaves the host's limit in effect during registration`, async () => {
        const run = await withFullStacks("1", () => runStage("dev"));
        expect(run.stackTraceLimits).toEqual([host]);
    });

    test(`${FULL_STACKS_ENV} counts as set unless empty or "0"`, () => {
        expect([undefined, "", "0", "1", "true"].map((v) => fullStacksRequested(v === undefined ? {} : { [FULL_STACKS_ENV]: v }))).toEqual([
            false,
            false,
            false,
            true,
            true,
        ]);
    });

    test("limitStackCapture turns capture off only when full stacks are not asked for", () => {
        try {
            Error.stackTraceLimit = 7;
            expect(limitStackCapture({ [FULL_STACKS_ENV]: "1" })).toBe(7);
            expect(Error.stackTraceLimit).toBe(7);
            expect(limitStackCapture({})).toBe(0);
            expect(Error.stackTraceLimit).toBe(0);
        } finally {
            Error.stackTraceLimit = host;
        }
    });
});

describe("errors stay useful with stack capture off", () => {
    test("a stage-config error, as Pulumi prints it, names the key, the value and the rule", async () => {
        const err = await withFullStacks(undefined, () => failure(() => runStage("dev", { workers: { count: 5000 } })));
        expect(err).toBeInstanceOf(StageConfigError);
        expect(hasFrames(err)).toBe(false); // raised under the program's limit
        const problem = (err as StageConfigError).problems.find((p) => p.key === "workers.count");
        expect(problem).toBeDefined();
        const printed = defaultErrorMessage(err);
        expect(printed).toContain(`workers.count = 5000: ${problem!.rule}`);
        expect(problem!.rule).toMatch(/1000/);
    });

    test("a component error names the component, the property, the value and the rule", async () => {
        const cfg = stageConfigFromFiles("dev");
        const settings = appsSettings(cfg);
        const [first, ...rest] = settings.apps;
        expect(first.kind).toBe("spring-boot");
        const bad = { ...settings, apps: [{ ...first, env: { ...("env" in first ? first.env : {}), SERVER_PORT: "9999" } }, ...rest] };
        const err = await withFullStacks(undefined, () =>
            failure(() =>
                runProgram("dev", {
                    program: () => {
                        limitStackCapture();
                        new Apps("apps", {
                            provider: new k8s.Provider("k8s", { kubeconfig: "stand-in" }),
                            settings: bad as typeof settings,
                            ingressClassName: "nginx",
                        });
                        return {};
                    },
                }),
            ),
        );
        expect(hasFrames(err)).toBe(false);
        expect(err.message).toContain("Apps apps");
        expect(err.message).toContain(`apps[0].env.SERVER_PORT = "9999"`);
        expect(err.message).toContain("set by the platform");
    });

    /** A program with a bug: reads a field of a pool that is not configured. */
    function buggyProgram() {
        limitStackCapture();
        const pools = stageConfigFromFiles("dev") as unknown as Record<string, { count: number } | undefined>;
        return { count: readMissingPool(pools) };
    }
    function readMissingPool(pools: Record<string, { count: number } | undefined>): number {
        return pools["no-such-pool"]!.count;
    }

    test(`an unexpected exception says where it came from with ${FULL_STACKS_ENV}=1, and only its message without`, async () => {
        const full = await withFullStacks("1", () => failure(() => runProgram("dev", { program: buggyProgram })));
        expect(full).toBeInstanceOf(TypeError);
        expect(full.stack).toMatch(/at readMissingPool \(.*stackCapture\.test\.ts:\d+:\d+\)/);

        const bare = await withFullStacks(undefined, () => failure(() => runProgram("dev", { program: buggyProgram })));
        expect(bare).toBeInstanceOf(TypeError);
        expect(bare.message).toBe(full.message);
        expect(hasFrames(bare)).toBe(false);
    });
});
