/**
 * The program started as `pulumi preview` starts it (the SDK's nodejs entry point, with Pulumi.yaml's runtime
 * options, over gRPC to the mock monitor): it registers what the mock-runtime harness records, and TypeScript is
 * compiled without type-checking there (tsconfig.json `ts-node.transpileOnly`; `npm test` checks types once).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR } from "../../tools/stageFiles";
import { runProgram } from "../../tools/mockRuntime";
import { runThroughSdkEntry } from "../../tools/sdkEntry";

const comparable = (resources: { type: string; name: string; parent?: string; inputs: unknown }[]) =>
    resources.map((r) => JSON.stringify({ type: r.type, name: r.name, parent: r.parent, inputs: r.inputs })).sort();

test("through the SDK's nodejs entry point, the program registers what the mock-runtime harness records", async () => {
    const entry = await runThroughSdkEntry("dev");
    expect(entry.output).toBe("");
    expect(entry.exitCode).toBe(0);
    const harness = await runProgram("dev");
    expect(entry.resources.length).toBeGreaterThan(100);
    expect(comparable(entry.resources)).toEqual(comparable(harness.resources));
});

describe("a type error in a project with this tsconfig.json", () => {
    let dir: string;
    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "sdk-entry-project-"));
        for (const file of ["Pulumi.yaml", "Pulumi.dev.yaml", "tsconfig.json"]) {
            fs.copyFileSync(path.join(PROJECT_DIR, file), path.join(dir, file));
        }
        fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(dir, "node_modules"));
        fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "type-error", main: "index.ts" }));
        fs.writeFileSync(
            path.join(dir, "index.ts"),
            [
                'import * as pulumi from "@pulumi/pulumi";',
                'const port: number = "6443";',
                'export = () => { new pulumi.ComponentResource("test:index:Probe", `probe-${port}`); return {}; };',
                "",
            ].join("\n"),
        );
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("does not stop a preview: the program runs", async () => {
        const run = await runThroughSdkEntry("dev", { dir });
        expect(run.exitCode).toBe(0);
        expect(run.resources.map((r) => r.name)).toEqual(["probe-6443"]);
    });

    test("is a type error: with type-checking forced on, the preview stops at it", async () => {
        const run = await runThroughSdkEntry("dev", { dir, env: { PULUMI_NODEJS_TRANSPILE_ONLY: "false" } });
        expect(run.exitCode).not.toBe(0);
        expect(run.output).toContain("TS2322");
        expect(run.resources).toEqual([]);
    });
});
