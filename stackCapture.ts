/**
 * Stack capture while the program registers resources.
 *
 * The Pulumi SDK records a stack trace on every promise it makes (runtime/debuggable.js: several per output
 * property, and an `ecs.Instance` declares about 100) and formats it at once, through source-map-support under
 * ts-node and under Pulumi's own nodejs entry point. At Node's default depth of 10 frames (jest sets 100) that is
 * most of the program's time and memory. Every entry point that registers resources calls `limitStackCapture()`
 * first: index.ts for `pulumi up`/`preview`, and Automation API inline programs that run `KubernetesPlatform` or
 * `Apps` on their own. It sets `Error.stackTraceLimit`, which reaches every way the program is started (the CLI,
 * the Automation API, the render, the bench, the tests); the project's `nodeargs` would reach only the CLI.
 *
 * With the limit at 0 an error keeps its message and loses its frames. The program's own errors carry their facts
 * in the message (a stage-config error names key, value and rule; a component error names the component and the
 * rule). To see where an unexpected exception came from, run again with `COREOS_PLATFORM_FULL_STACKS=1`: the
 * limit is then left as Node started (10 frames, or `NODE_OPTIONS=--stack-trace-limit=<n>`).
 */

/** The environment variable that keeps full stack traces (any value but empty or "0"). */
export const FULL_STACKS_ENV = "COREOS_PLATFORM_FULL_STACKS";

/** True when `env` asks for full stack traces. */
export function fullStacksRequested(env: NodeJS.ProcessEnv = process.env): boolean {
    const value = env[FULL_STACKS_ENV];
    return value !== undefined && value !== "" && value !== "0";
}

/**
 * Turns stack capture off for the rest of this process (in jest: this test file's context), unless `env` asks for
 * full stacks. Returns the limit now in effect.
 */
export function limitStackCapture(env: NodeJS.ProcessEnv = process.env): number {
    if (!fullStacksRequested(env)) {
        Error.stackTraceLimit = 0;
    }
    return Error.stackTraceLimit;
}
