/**
 * Replacing workers and edge nodes (components/nodeRoll.ts), as the program registers it: one host per node name
 * (delete before replace), the drain and readiness hooks on every join command, and batches of `rollBatch` among
 * the nodes that already exist. What the engine does with these registrations (and the drain on a real API server)
 * is proven by tests/engine/nodeRoll.test.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { previousBatch } from "../../components/nodeRoll";
import { nodeHostname } from "../../config/plan";
import { ProgramRun, RecordedResource, runProgram } from "../../tools/mockRuntime";
import { platformMocks } from "../../tools/mocks";
import { configKey } from "./helpers";

describe("previousBatch: which join commands a node's instance waits for", () => {
    test("batches of rollBatch in index order among the nodes that exist; the first batch waits for nothing", () => {
        const existing = [0, 1, 2, 3, 4, 5, 6];
        expect([0, 1, 2, 3, 4, 5, 6].map((i) => previousBatch(existing, i, 3))).toEqual([
            [],
            [],
            [],
            [0, 1, 2],
            [0, 1, 2],
            [0, 1, 2],
            [3, 4, 5],
        ]);
        expect([0, 1, 2].map((i) => previousBatch([0, 1, 2], i, 1))).toEqual([[], [0], [1]]);
    });

    test("a node that does not exist yet waits for nothing, and is not counted in anyone's batch", () => {
        // Nodes 1 and 4 are new (a scale-up, or a node whose instance creation failed): created at once.
        expect([0, 1, 2, 3, 4, 5].map((i) => previousBatch([5, 0, 3, 2], i, 2))).toEqual([[], [], [], [0, 2], [], [0, 2]]);
        expect(previousBatch([], 0, 2)).toEqual([]);
    });
});

/** The stage's instances as Alibaba's instance list would answer for an existing stage. */
function existingStage(names: (role: string) => string[]): pulumi.runtime.Mocks {
    return {
        newResource: platformMocks.newResource,
        call(args) {
            if (args.token === "alicloud:ecs/getInstances:getInstances") {
                const role = (args.inputs.tags as Record<string, string>).role;
                return { ...args.inputs, instances: names(role).map((name) => ({ name, id: `i-${name}` })) };
            }
            return platformMocks.call(args);
        },
    };
}

const byName = (run: ProgramRun) => new Map(run.resources.map((r) => [r.name, r]));

describe("dev's workers and edge nodes", () => {
    let fresh: ProgramRun;
    let existing: ProgramRun;
    const workers = 5;
    beforeAll(async () => {
        const overrides = {
            [configKey("workers")]: { count: workers, rollBatch: 2, instanceType: "ecs.g7.large", systemDiskGb: 50 },
            [configKey("edge")]: { count: 2 },
            [configKey("eipQuota")]: 20,
        };
        fresh = await runProgram("dev", { overrides });
        existing = await runProgram("dev", {
            overrides,
            // workers 0-3 and both edge nodes exist; worker 4 is new.
            mocks: existingStage((role) =>
                role === "worker"
                    ? [0, 1, 2, 3].map((i) => nodeHostname("coreos-platform-dev", "workers", i))
                    : [0, 1].map((i) => nodeHostname("coreos-platform-dev", "edge", i)),
            ),
        });
    }, 300000);

    test("a new config or image replaces a node delete-first: its name is never held by two hosts", () => {
        for (const r of fresh.resources.filter(
            (x) => x.type === "alicloud:ecs/instance:Instance" && /^(workers|edge)$/.test(x.parent ?? ""),
        )) {
            expect({ name: r.name, replaceOnChanges: r.replaceOnChanges, deleteBeforeReplace: r.deleteBeforeReplace }).toEqual({
                name: r.name,
                replaceOnChanges: ["userData", "imageId"],
                deleteBeforeReplace: true,
            });
        }
    });

    test("every join command drains its node before the host goes and waits for a replaced node to be Ready; it waits for the API", () => {
        const joins = fresh.resources.filter((r) => r.type === "command:remote:Command" && r.name.endsWith("-join"));
        expect(joins).toHaveLength(workers + 2);
        for (const j of joins) {
            const pool = j.name.split("-")[0];
            expect({ name: j.name, hooks: j.hooks }).toEqual({
                name: j.name,
                hooks: { beforeDelete: [`${pool}-drain`], afterCreate: [`${pool}-ready`] },
            });
            expect(j.inputs.triggers).toEqual([`${j.name.replace(/-join$/, "")}-id`]);
            expect(j.dependencies).toContain("control-plane-readiness");
        }
    });

    test("a new stage's nodes are created at once: no instance waits for another node", () => {
        const nodeNames = new Set(fresh.resources.filter((r) => r.parent === "workers" || r.parent === "edge").map((r) => r.name));
        for (const r of fresh.resources.filter(
            (x) => x.type === "alicloud:ecs/instance:Instance" && /^(workers|edge)$/.test(x.parent ?? ""),
        )) {
            expect({ name: r.name, waitsFor: r.dependencies.filter((d) => nodeNames.has(d)) }).toEqual({ name: r.name, waitsFor: [] });
        }
    });

    test("existing nodes are replaced batch after batch: an instance waits for the previous batch's join commands", () => {
        const waits = (r: RecordedResource) => r.dependencies.filter((d) => d.endsWith("-join"));
        const resources = byName(existing);
        expect(["workers-0", "workers-1", "workers-2", "workers-3", "workers-4"].map((n) => waits(resources.get(n)!))).toEqual([
            [],
            [],
            ["workers-0-join", "workers-1-join"],
            ["workers-0-join", "workers-1-join"],
            // New: created at once.
            [],
        ]);
        // Edge: one at a time (rollBatch 1), so ingress keeps a node.
        expect(["edge-0", "edge-1"].map((n) => waits(resources.get(n)!))).toEqual([[], ["edge-0-join"]]);
    });

    test("the chain changes no input: a preview of an existing stage shows the same resources with the same inputs", () => {
        // Only the order of registration differs (a later batch registers later).
        const inputs = (run: ProgramRun) =>
            run.resources
                .map((r) => JSON.stringify([r.type, r.name, r.inputs, r.protect, r.replaceOnChanges, r.deleteBeforeReplace]))
                .sort();
        expect(inputs(existing)).toEqual(inputs(fresh));
    });
});
