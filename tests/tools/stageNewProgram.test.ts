/**
 * A stage cloned by `npm run stage:new` builds under the real program (its own file: a program that fails
 * inside an apply takes the jest worker down with it, and the other stage:new tests should still report).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT } from "../../config/schema";
import { readStageFile } from "../../tools/stageFiles";
import { runProgram } from "../../tools/mockRuntime";
import { cloneStage } from "../../tools/stageNew";

const ROOT = path.resolve(__dirname, "../..");

test("a cloned stage builds under the real program", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stage-new-program-"));
    for (const f of fs.readdirSync(ROOT).filter((f) => /^Pulumi(\..+)?\.yaml$/.test(f))) {
        fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
    }
    cloneStage({ from: "staging", to: "perf", dir });
    const run = await runProgram("perf", { dir });
    const vpc = run.resources.find((r) => r.type === "alicloud:vpc/network:Network");
    expect(vpc?.inputs.cidrBlock).toBe(readStageFile("perf", dir)[`${PROJECT}:vpcCidr`]);
    expect(String(vpc?.inputs.vpcName)).toContain("-perf-");
    fs.rmSync(dir, { recursive: true, force: true });
});
