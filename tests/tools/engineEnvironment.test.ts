/**
 * The engine suite's jest environment (tests/engine/helpers/environment.ts) drops the SDK's gRPC rejections of a
 * call cut off by the engine's end ("Resource monitor is terminating", "14 UNAVAILABLE: No connection
 * established"), as Pulumi's language host does, and nothing else. Shown with a nested jest on a fixture that
 * raises them: Node's own environment fails it (the failure the engine suite had), the engine environment passes
 * it, and the same rejection with another gRPC code still fails.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isMonitorTerminating } from "../engine/helpers/environment";

const root = path.resolve(__dirname, "../..");
const fixtures = path.join(__dirname, "fixtures/engine-environment");

interface JestJson {
    numFailedTests: number;
    numPassedTests: number;
    numRuntimeErrorTestSuites: number;
    testResults: { message: string; status: string }[];
}

/** Runs the fixture in a nested jest with the given environment; returns jest's JSON report (and its stderr). */
function runFixture(testEnvironment: string, grpcCode: number): JestJson & { stderr: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-env-"));
    const out = path.join(dir, "report.json");
    const config = {
        rootDir: fixtures,
        testEnvironment,
        testMatch: ["**/*.fixture.ts"],
        transform: { "^.+\\.ts$": [require.resolve("ts-jest"), { isolatedModules: true, diagnostics: false }] },
    };
    // A failing fixture run exits non-zero; the report says why.
    const run = spawnSync(
        process.execPath,
        [require.resolve("jest/bin/jest"), "--config", JSON.stringify(config), "--json", "--outputFile", out],
        { cwd: root, env: { ...process.env, FIXTURE_GRPC_CODE: String(grpcCode) }, encoding: "utf8" },
    );
    try {
        return { ...(JSON.parse(fs.readFileSync(out, "utf8")) as JestJson), stderr: run.stderr };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const engineEnvironment = path.join(root, "tests/engine/helpers/environment.ts");

test("Node's environment fails a suite on the SDK's rejection, inside a test and outside any", () => {
    const report = runFixture("node", 14);
    expect(report.numFailedTests).toBe(1);
    expect(report.testResults[0].status).toBe("failed");
    expect(report.testResults[0].message).toContain("Resource monitor is terminating");
    // The one outside any test fails the file as a whole, as in the engine suite's CI run.
    expect(report.testResults[0].message).toContain("Test suite failed to run");
});

test("the engine environment drops exactly that rejection", () => {
    const report = runFixture(engineEnvironment, 14);
    expect(report.testResults[0].message).toBe("");
    expect(report.numPassedTests).toBe(2);
    expect(report.testResults[0].status).toBe("passed");
    // Each one is named with the test it came in (a program run that lost a call registered less than it meant to).
    expect(report.stderr).toContain("engine: 3 SDK call(s) cut off");
    expect(report.stderr).toContain(" › a rejection inside a test: Resource monitor is terminating");
    expect(report.stderr).toContain(" › a rejection inside a test: 14 UNAVAILABLE: No connection established");
    expect(report.stderr).toContain(" › a later test, while the earlier rejection lands: Resource monitor is terminating");
});

test("the engine environment still fails a suite on the same rejections with another gRPC code", () => {
    const report = runFixture(engineEnvironment, 2);
    expect(report.testResults[0].status).toBe("failed");
    expect(report.testResults[0].message).toContain("Resource monitor is terminating");
});

test("the rule: a gRPC error with UNAVAILABLE or CANCELLED (the language host's), nothing else", () => {
    const grpc = (message: string, code: number) => Object.assign(new Error(message), { code, details: "", metadata: {} });
    expect(isMonitorTerminating(grpc("Resource monitor is terminating", 14))).toBe(true);
    expect(isMonitorTerminating(grpc("Resource monitor is terminating", 1))).toBe(true);
    expect(isMonitorTerminating(grpc("14 UNAVAILABLE: No connection established", 14))).toBe(true);
    expect(isMonitorTerminating(grpc("Resource monitor is terminating", 13))).toBe(false);
    expect(isMonitorTerminating(grpc("2 UNKNOWN: boom", 2))).toBe(false);
    // Not a gRPC error, whatever its code: an Error of the test's own, or a Node system error.
    expect(isMonitorTerminating(Object.assign(new Error("Resource monitor is terminating"), { code: 14 }))).toBe(false);
    expect(isMonitorTerminating(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }))).toBe(false);
    expect(isMonitorTerminating("Resource monitor is terminating")).toBe(false);
    expect(isMonitorTerminating(undefined)).toBe(false);
});
