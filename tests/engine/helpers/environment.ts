/**
 * The engine suite's jest environment: Node's, plus what Pulumi's language host does for a program run in its
 * process and jest cannot.
 *
 * An inline program runs in the test's own process. When the engine ends an update early (a resource failed, a
 * refused update, the CLI killed on purpose) or is gone before the program reaches it, the program's calls fail with
 * gRPC UNAVAILABLE or CANCELLED, and the SDK leaves some of them as unhandled rejections: its resource calls, renamed
 * "Resource monitor is terminating" (`runtime/resource.ts`, `runAsyncResourceOp`), and its feature queries as they
 * come (`settings.ts`, `awaitFeatureSupport`: "14 UNAVAILABLE: No connection established"). Pulumi's language
 * host, and the Automation API's own language server, install a handler that drops exactly these: gRPC errors with
 * those two codes (`errors.isGrpcError`). Under jest that handler never fires: a test file's `process` is jest's copy,
 * and the real process's rejections go to jest, which reports each one as "Test suite failed to run" although every
 * test passed.
 *
 * This environment drops those rejections, and only those, as the language host does, and counts them on stderr
 * at the end of the file so that they stay visible. Any other unhandled rejection still fails the suite.
 */
import { TestEnvironment } from "jest-environment-node";
import type { Circus } from "@jest/types";

/** gRPC status codes that mean "the engine went away" to the SDK (`errors.isGrpcError`). */
const GRPC_CANCELLED = 1;
const GRPC_UNAVAILABLE = 14;
/** The message the SDK gives the resource calls among them before re-raising them. */
const MONITOR_TERMINATING = "Resource monitor is terminating";

/**
 * True for a gRPC call (grpc-js's error: a code, `details` and `metadata`) cut off because the engine went away:
 * UNAVAILABLE or CANCELLED, the two codes the language host drops.
 */
export function isMonitorTerminating(error: unknown): boolean {
    if (typeof error !== "object" || error === null) return false;
    const { code, details, metadata } = error as { code?: unknown; details?: unknown; metadata?: unknown };
    const grpcError = typeof details === "string" && typeof metadata === "object" && metadata !== null;
    return grpcError && (code === GRPC_UNAVAILABLE || code === GRPC_CANCELLED);
}

export default class EngineEnvironment extends TestEnvironment {
    /** Each dropped rejection: the test running when it came, and its message. */
    private readonly dropped: string[] = [];

    handleTestEvent(event: Circus.Event, state: Circus.State): void {
        // Runs after jest-circus's own handler has recorded the rejection: undo that record, as `rejectionHandled`
        // would.
        if (event.name !== "error" || !event.promise || !isMonitorTerminating(event.error)) return;
        state.unhandledRejectionErrorByPromiseTarget.get(event.promise)?.delete(event.promise);
        state.unhandledRejectionErrorByPromiseTarget.delete(event.promise);
        const test = state.currentlyRunningTest;
        const where = test ? `${test.parent?.name ?? ""} › ${test.name}` : "outside any test";
        this.dropped.push(`${where}: ${(event.error as Error).message.split("\n")[0]}`);
    }

    async teardown(): Promise<void> {
        if (this.dropped.length > 0) {
            // Which test each came in: a program run of that test that lost a call registered less than it meant to.
            process.stderr.write(
                `engine: ${this.dropped.length} SDK call(s) cut off by the engine's end (gRPC UNAVAILABLE or CANCELLED, ` +
                    `such as "${MONITOR_TERMINATING}") dropped, as Pulumi's language host drops them:\n` +
                    this.dropped.map((d) => `  during ${d}\n`).join(""),
            );
        }
        await super.teardown();
    }
}
