/**
 * `npm run render:diff` with the real program: a pull request that adds a worker to dev shows that worker's
 * resources and its node's Ignition as added, removes nothing, and leaves the other stages unchanged.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { scratchRepo, setWorkerCount } from "./scratchRepo";

let repo: string;
beforeAll(() => {
    repo = scratchRepo();
    setWorkerCount(repo, "dev", 3);
});
afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

test("adding a dev worker: its instance and node are added, nothing is removed, prod is unchanged", () => {
    const r = spawnSync(
        process.execPath,
        [
            require.resolve("ts-node/dist/bin.js"),
            "--transpile-only",
            path.join(repo, "tools/renderDiff.ts"),
            "HEAD",
            "--stage",
            "dev",
            "--stage",
            "prod",
        ],
        {
            cwd: repo,
            encoding: "utf8",
        },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const dev = r.stdout.slice(r.stdout.indexOf("== stage dev"), r.stdout.indexOf("== stage prod"));
    expect(dev).toContain("+ alicloud:ecs/instance:Instance workers-2");
    expect(dev).toContain("+ node coreos-platform-dev-worker-2");
    // Items are listed four spaces in; the diffs under them are indented further.
    expect(dev).not.toMatch(/^ {4}- /m);
    expect(r.stdout).toContain("== stage prod: no change");
});
