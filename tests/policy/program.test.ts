/**
 * The policy pack against the real program, for every stage file, under the mock runtime: no violation, and
 * every policy inspected something (a policy that never applies would pass vacuously). Its own file, so that a
 * program that fails inside an apply (which takes the jest worker down) does not hide the crafted-violation tests.
 */
import { listStages } from "../../tools/stageFiles";
import { eipQuota, policies } from "../../policy/policies";
import { RecordedResource, runProgram } from "../../tools/mockRuntime";
import { runPolicies } from "./adapter";

const STAGES = listStages();
const policyNames = policies.map((p) => p.name);

describe("the real program, every stage", () => {
    const runs = new Map<string, RecordedResource[]>();
    beforeAll(async () => {
        for (const stage of STAGES) {
            runs.set(stage, (await runProgram(stage)).resources);
        }
    });

    test("there are stages to check", () => {
        expect(STAGES).toEqual(expect.arrayContaining(["dev", "staging", "prod"]));
    });

    test.each(STAGES)("%s: no policy is violated, and every policy inspected something", async (stage) => {
        const result = await runPolicies(runs.get(stage)!, policies);
        expect(result.violations).toEqual([]);
        // Under the mock runtime every value is known, so no policy may have been skipped as "unknown at preview".
        expect(result.unknown).toEqual([]);
        for (const name of policyNames) {
            expect([name, (result.inspected.get(name) ?? 0) > 0]).toEqual([name, true]);
        }
    });

    test.each(STAGES)("%s: a policy quota one below the stage's EIP count is reported", async (stage) => {
        const resources = runs.get(stage)!;
        const eips = resources.filter((r) => r.type === "alicloud:ecs/eipAddress:EipAddress").length;
        expect(eips).toBeGreaterThanOrEqual(3);
        const atQuota = await runPolicies(resources, [eipQuota], { "eip-quota": { quota: eips } });
        expect(atQuota.violations).toEqual([]);
        const below = await runPolicies(resources, [eipQuota], { "eip-quota": { quota: eips - 1 } });
        expect(below.violations).toHaveLength(1);
        expect(below.violations[0].message).toContain(`holds ${eips} EIPs`);
    });
});
