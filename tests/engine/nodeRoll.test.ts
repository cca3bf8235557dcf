/**
 * Replacing workers on the real control plane and the real engine (components/nodeRoll.ts):
 *
 * - the drain, on a real kubelet's Node with a running pod that a PodDisruptionBudget protects: the real API server
 *   refuses the eviction, the drain fails after its timeout naming the pod and leaves the node cordoned; once the
 *   budget allows it the pod is evicted, the Node object deleted, and the old kubelet does not register it again; a
 *   new host with the same name registers a fresh Node (not cordoned, its rendered labels);
 * - the mechanism, through the Go-built CLI 3.274.1 and the program's `RollingPool` (its hooks, batches and options)
 *   with stand-in resources (`pulumi.Stash`, the engine's builtin: no Alibaba or command provider can run here):
 *   a change that touches every node replaces them batch after batch in one `pulumi up`, each drained before its
 *   host goes and each host gone before its replacement exists; a budget that never allows the eviction fails the
 *   `up` with the drain's message and deletes nothing; `pulumi destroy` needs `--run-program`.
 *
 * The stand-in hosts: the stage's first worker is a real kubelet (stopped when its "instance" goes, started afresh
 * when the new one comes: a new host, with new keys and the join's certificates for them); the other two are Node
 * objects this test keeps Ready, as their kubelets would.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { KubeApi, kubeApiTarget } from "../../components/kubeApi";
import { deleteNode, drainNode, waitUntilReady } from "../../components/nodeDrain";
import { RollingPool } from "../../components/nodeRoll";
import { nodeHostname } from "../../config/plan";
import { nodePaths } from "../../layout/node";
import { NODE_ROLE_LABELS } from "../../layout/roles";
import { listStages } from "../../tools/stageFiles";
import { BootedControlPlane, bootControlPlane, kubectl } from "./helpers/controlPlane";
import { JoiningNode, TESTPOD_IMAGE, WorkerJoin, joinFirstWorker, joinNode, joinWorker, stopNode, unmountUnder } from "./helpers/node";
import { Processes } from "./helpers/processes";
import { StageScratch, cleanUp, stageScratch } from "./helpers/scratch";
import { RenderedStage } from "./helpers/render";
import { EngineWorkspace, engineStack, engineWorkspace, previewChanges, stopStrayPlugins } from "./helpers/stack";
import { EngineTools, engineTools, requireMachine } from "./helpers/tools";
import { Vpc } from "./helpers/vpc";

const STAGE = (process.env.ENGINE_STAGES?.split(",") ?? listStages())[0];
const NAMESPACE = "roll-test";
const POOL = 3;

describe(`replacing workers of stage ${STAGE} on the real control plane and engine`, () => {
    let scratch: StageScratch;
    let tools: EngineTools;
    let work: string;
    let processes: Processes;
    let vpc: Vpc;
    let rendered: RenderedStage;
    let cp: BootedControlPlane;
    let worker: JoiningNode | undefined;
    let workerName: string;
    let api: KubeApi;
    let admin: string;
    const log: string[] = [];
    const note = (message: string) => log.push(message);
    const hostname = (i: number) => nodeHostname(rendered.cfg.namePrefix, "workers", i);

    /** Creates (or replaces) a Kubernetes object from its JSON. */
    const apply = (object: unknown) => kubectl(tools, cp.adminKubeconfig, ["apply", "-f", "-"], JSON.stringify(object));
    const getJson = (args: string[]) => JSON.parse(kubectl(tools, cp.adminKubeconfig, [...args, "-o", "json"]));
    const nodeExists = async (name: string) => (await api.get(`/api/v1/nodes/${name}`)) !== undefined;

    /** A host of the real worker: containerd and a kubelet that joins with the program's join files already in its root. */
    const startWorkerHost = async (fresh: boolean) => {
        const node = worker!.node;
        const host = worker!.host;
        // A new host has no kubelet identity: its join command makes new keys on it and brings certificates signed for
        // them (as NodePool's join does); nothing of the old host's identity is left.
        // The old kubelet may have been stopped before it tore down an evicted pod's volume mounts (a loaded machine).
        let join: WorkerJoin | undefined;
        if (fresh) {
            unmountUnder(node.at("/var/lib/kubelet"));
            fs.rmSync(node.at("/var/lib/kubelet"), { recursive: true, force: true });
            fs.rmSync(node.at(nodePaths.joinKey), { force: true });
            join = joinWorker(rendered, node, host, work);
        }
        worker = await joinNode(node, host, join?.files, processes, tools, work, "roll", { standInCni: true });
        await processes.waitFor(
            `kubelet of ${workerName} up`,
            () => nodeExists(workerName),
            [worker.kubelet, worker.containerd],
            180000,
            2000,
        );
    };

    /** Ready stand-in Nodes for the other workers, heartbeats included (the node lifecycle controller watches them). */
    const fakeNodes = new Set<string>();
    let heartbeat: NodeJS.Timeout | undefined;
    const readyStatus = () => ({
        status: {
            conditions: [
                { type: "Ready", status: "True", reason: "KubeletReady", message: "stand-in", lastHeartbeatTime: new Date().toISOString() },
            ],
        },
    });
    const beat = async () => {
        for (const name of fakeNodes) {
            try {
                await api.mergePatch(`/api/v1/nodes/${name}/status`, readyStatus());
            } catch {
                // deleted by a drain meanwhile
            }
        }
    };
    const fakeHostUp = async (name: string) => {
        await api.post("/api/v1/nodes", {
            apiVersion: "v1",
            kind: "Node",
            metadata: { name, labels: { [NODE_ROLE_LABELS.worker]: "true" } },
        });
        await api.mergePatch(`/api/v1/nodes/${name}/status`, readyStatus());
        fakeNodes.add(name);
    };

    beforeAll(async () => {
        requireMachine();
        tools = engineTools();
        scratch = stageScratch(STAGE, "roll", "n");
        ({ work, processes, rendered, vpc } = scratch);
        cp = await bootControlPlane(rendered, vpc, processes, tools, work, scratch.cleanup);
        ({ worker, name: workerName } = await joinFirstWorker(rendered, vpc, cp, processes, tools, work, scratch.cleanup, "roll"));
        expect(workerName).toBe(hostname(0));
        admin = fs.readFileSync(cp.adminKubeconfig, "utf8");
        api = new KubeApi(kubeApiTarget(admin));
        // Restart it with a CNI config, so that it turns Ready (the roll waits for Ready nodes).
        await stopNode(worker, processes);
        await startWorkerHost(false);
        await waitUntilReady(api, workerName, { timeoutMs: 180000 }, note);
        heartbeat = setInterval(() => void beat(), 5000);
        // The test's pods run on the host network (no CNI plugin runs here): a namespace of its own that admits them, as
        // the cluster's Pod Security default (baseline) would refuse them.
        apply({
            apiVersion: "v1",
            kind: "Namespace",
            metadata: { name: NAMESPACE, labels: { "pod-security.kubernetes.io/enforce": "privileged" } },
        });
    }, 1800000);

    afterAll(async () => {
        if (heartbeat) clearInterval(heartbeat);
        api?.close();
        if (worker) await stopNode(worker, processes);
        await cleanUp(scratch);
    }, 120000);

    /** A running pod on the real worker (host network, the offline test image) that a budget keeps at one. */
    const guardedPod = async (name: string, port: number) => {
        apply({
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name, namespace: NAMESPACE, labels: { app: name } },
            spec: {
                nodeName: workerName,
                hostNetwork: true,
                terminationGracePeriodSeconds: 5,
                tolerations: [{ operator: "Exists" }],
                containers: [
                    {
                        name: "app",
                        image: TESTPOD_IMAGE,
                        imagePullPolicy: "Never",
                        args: ["-listen", `127.0.0.1:${port}`, "-message", name],
                    },
                ],
            },
        });
        apply({
            apiVersion: "policy/v1",
            kind: "PodDisruptionBudget",
            metadata: { name, namespace: NAMESPACE },
            spec: { minAvailable: 1, selector: { matchLabels: { app: name } } },
        });
        await processes.waitFor(
            `pod ${name} running and counted healthy by its budget`,
            () => getJson(["-n", NAMESPACE, "get", "pdb", name]).status?.currentHealthy === 1,
            [worker!.kubelet],
            180000,
            2000,
        );
    };

    test("a PodDisruptionBudget stops the drain: it fails after its timeout naming the pod, the node stays cordoned, the pod runs", async () => {
        await guardedPod("guarded", 18091);
        const started = Date.now();
        const failure = await drainNode(api, workerName, { timeoutMs: 20000, pollMs: 2000 }, note).then(
            () => "drained",
            (err: Error) => err.message,
        );
        expect(Date.now() - started).toBeLessThan(60000);
        expect(failure).toContain(`draining node ${workerName} did not finish within`);
        expect(failure).toMatch(
            new RegExp(`${NAMESPACE}/guarded \\(eviction refused: Cannot evict pod as it would violate the pod's disruption budget`),
        );
        expect(failure).toContain(`kubectl uncordon ${workerName}`);
        expect(getJson(["get", "node", workerName]).spec.unschedulable).toBe(true);
        expect(getJson(["-n", NAMESPACE, "get", "pod", "guarded"]).status.phase).toBe("Running");
    }, 180000);

    test("once the budget allows it, the pod is evicted and gone, the Node deleted, and the old kubelet does not register it again", async () => {
        kubectl(tools, cp.adminKubeconfig, ["-n", NAMESPACE, "delete", "pdb", "guarded"]);
        const drained = await drainNode(api, workerName, { timeoutMs: 120000, pollMs: 2000 }, note);
        expect(drained).toEqual({ found: true, evicted: [`${NAMESPACE}/guarded`] });
        expect(await api.get(`/api/v1/namespaces/${NAMESPACE}/pods/guarded`)).toBeUndefined();
        await deleteNode(api, workerName, note);
        // The kubelet still runs (its host is not gone yet) and posts status every 10 s: three rounds.
        await new Promise((resolve) => setTimeout(resolve, 35000));
        expect(worker!.kubelet.exit).toBeUndefined();
        expect(await nodeExists(workerName)).toBe(false);
    }, 240000);

    test("a new host with the same name registers a fresh Node: not cordoned, with its rendered labels", async () => {
        await stopNode(worker!, processes);
        // Waits for the Node's registration, not for Ready: a kubelet that starts while its Node does not exist (deleted by
        // the drain) fails to initialise its CSINode and backs off (about 2.5 minutes here) before it reports Ready. That is
        // the real kubelet's behaviour on a replaced host too; the roll below waits for it through the pool's own wait.
        await startWorkerHost(true);
        const node = getJson(["get", "node", workerName]);
        expect(node.spec.unschedulable).toBeUndefined();
        expect(node.metadata.labels).toEqual(expect.objectContaining({ [NODE_ROLE_LABELS.worker]: "true" }));
    }, 300000);

    describe("through the real CLI, with the program's RollingPool and stand-in resources", () => {
        let ws: EngineWorkspace;
        let stack: Stack;
        let generation = "g1";
        let drainMinutes = 5;
        /** What the stand-in hosts did, in order, with when. */
        const timeline: { at: number; what: string }[] = [];
        const mark = (what: string) => timeline.push({ at: Date.now(), what });

        /** The pool's node names that exist in the stack (what Alibaba's instance list answers NodePool). */
        const existing = async (): Promise<string[]> => {
            const resources = ((await stack.exportStack()).deployment.resources ?? []) as { type: string; urn: string }[];
            return resources
                .filter((r) => r.type === "pulumi:index:Stash" && /::workers-\d+$/.test(r.urn))
                .map((r) => hostname(Number(/::workers-(\d+)$/.exec(r.urn)![1])));
        };

        const program = (names: string[]) => async () => {
            const roll = new RollingPool({
                pool: "workers",
                roleLabel: NODE_ROLE_LABELS.worker,
                hostnameOf: hostname,
                rollBatch: 1,
                drainTimeoutMinutes: drainMinutes,
                kubeconfig: pulumi.secret(admin),
                existing: names,
                // In this process, in order with the stand-in hosts' own marks (the engine's event stream lags behind).
                log: (message) => {
                    mark(message);
                    void pulumi.log.info(message);
                },
            });
            const indexOf = (name: string) => Number(/^workers-(\d+)$/.exec(name)![1]);
            const hostUp = new pulumi.ResourceHook("engine-host-up", async (args) => {
                const i = indexOf(args.name);
                mark(`host ${i} up`);
                if (i === 0) {
                    if (!worker!.kubelet.exit && (await nodeExists(workerName))) return; // the first up: it runs already
                    await startWorkerHost(true);
                } else await fakeHostUp(hostname(i));
            });
            const hostGone = new pulumi.ResourceHook("engine-host-gone", async (args) => {
                const i = indexOf(args.name);
                mark(`host ${i} gone (Node ${(await nodeExists(hostname(i))) ? "still registered" : "already deleted"})`);
                if (i === 0) await stopNode(worker!, processes);
                else fakeNodes.delete(hostname(i));
            });
            for (let i = 0; i < POOL; i++) {
                // Stands in for the ECS instance: replaced when its "user data" (the generation) changes, delete-first.
                const instance = new pulumi.Stash(
                    `workers-${i}`,
                    { input: generation },
                    {
                        replaceOnChanges: ["input"],
                        deleteBeforeReplace: true,
                        dependsOn: roll.instanceDependsOn(i),
                        hooks: { afterCreate: [hostUp], afterDelete: [hostGone] },
                    },
                );
                // Stands in for the join command: replaced with its instance (the command's trigger is the instance id).
                const join = new pulumi.Stash(
                    roll.joinName(i),
                    { input: instance.id },
                    { replaceOnChanges: ["input"], dependsOn: [instance], hooks: roll.joinHooks },
                );
                roll.joined(i, join);
            }
        };

        /** Runs `up` with the current generation; returns its result and the drain hooks' messages the engine shows. */
        const up = async (): Promise<{ result: string; diagnostics: string[] }> => {
            stack.workspace.program = program(await existing());
            const diagnostics: string[] = [];
            const onEvent = (e: EngineEvent) => {
                const message = e.diagnosticEvent?.message.trim();
                if (message && /^workers: /.test(message)) diagnostics.push(message);
            };
            const result = await stack.up({ onEvent }).then(
                (r) => r.summary.result as string,
                (err: Error) => `failed: ${err.message}`,
            );
            return { result, diagnostics };
        };

        beforeAll(async () => {
            ws = await engineWorkspace(tools, path.join(work, "roll"));
            stack = await engineStack(ws, `${STAGE}-roll`, program([]), {});
        }, 300000);

        afterAll(() => {
            if (ws) stopStrayPlugins(ws);
        });

        test("the first `up` creates every node at once and waits for none of them", async () => {
            const r = await up();
            expect(r.result).toBe("succeeded");
            expect(r.diagnostics).toEqual([]);
            for (let i = 1; i < POOL; i++) expect(await nodeExists(hostname(i))).toBe(true);
            expect(await previewChanges(stack)).toEqual([]);
        }, 600000);

        test("a change to every node replaces them one batch after the other in one `up`: drained, host gone, new host, Ready", async () => {
            generation = "g2";
            timeline.length = 0;
            const started = Date.now();
            const r = await up();
            const seconds = Math.round((Date.now() - started) / 1000);
            expect(r.result).toBe("succeeded");
            const events = timeline.map((t) => t.what);
            const at = (pattern: RegExp) => {
                const i = events.findIndex((e) => pattern.test(e));
                if (i < 0) throw new Error(`no event ${pattern} in:\n${events.join("\n")}`);
                return i;
            };
            for (let i = 0; i < POOL; i++) {
                const name = hostname(i);
                // Cordoned and drained, its Node deleted, before its host goes; the host gone before the new one is up.
                expect(at(new RegExp(`node ${name} cordoned`))).toBeLessThan(at(new RegExp(`node ${name} drained`)));
                expect(at(new RegExp(`node ${name} deleted from the cluster`))).toBeLessThan(at(new RegExp(`^host ${i} gone`)));
                expect(events[at(new RegExp(`^host ${i} gone`))]).toContain("already deleted");
                expect(at(new RegExp(`^host ${i} gone`))).toBeLessThan(at(new RegExp(`^host ${i} up`)));
                expect(at(new RegExp(`^host ${i} up`))).toBeLessThan(at(new RegExp(`node ${name} is Ready`)));
                // One at a time (rollBatch 1): the next node is touched only once this one is Ready again.
                if (i + 1 < POOL)
                    expect(at(new RegExp(`node ${name} is Ready`))).toBeLessThan(at(new RegExp(`node ${hostname(i + 1)} cordoned`)));
            }
            note(`roll of ${POOL} nodes, one at a time, through the CLI: ${seconds} s`);
            for (let i = 0; i < POOL; i++) {
                const node = await api.get<{ spec: { unschedulable?: boolean } }>(`/api/v1/nodes/${hostname(i)}`);
                expect({ node: hostname(i), unschedulable: node?.spec.unschedulable }).toEqual({
                    node: hostname(i),
                    unschedulable: undefined,
                });
            }
            expect(await previewChanges(stack)).toEqual([]);
        }, 900000);

        test("a budget that never allows the eviction fails the `up` with the drain's message; that node's host is not deleted", async () => {
            await guardedPod("pinned", 18092);
            generation = "g3";
            drainMinutes = 0.3;
            timeline.length = 0;
            const r = await up();
            expect(r.result).toMatch(/^failed/);
            expect(r.result).toContain(`before hook "workers-drain" failed`);
            expect(r.result).toMatch(
                new RegExp(`${NAMESPACE}/pinned \\(eviction refused: Cannot evict pod as it would violate the pod's disruption budget`),
            );
            expect(timeline.map((t) => t.what).filter((w) => /^host /.test(w))).toEqual([]);
            expect(worker!.kubelet.exit).toBeUndefined();
            expect(getJson(["get", "node", workerName]).spec.unschedulable).toBe(true);
            // The budget lifted, the next `up` finishes the roll.
            kubectl(tools, cp.adminKubeconfig, ["-n", NAMESPACE, "delete", "pdb", "pinned"]);
            drainMinutes = 5;
            expect((await up()).result).toBe("succeeded");
            expect(await api.get(`/api/v1/namespaces/${NAMESPACE}/pods/pinned`)).toBeUndefined();
        }, 900000);

        test("`pulumi destroy` needs --run-program (the delete hooks live in the program); with it, every node is drained first", async () => {
            const refused = await stack.destroy().then(
                () => "destroyed",
                (err: Error) => err.message,
            );
            expect(refused).toContain("You must run with the `--run-program` flag to use delete hooks during destroy");
            stack.workspace.program = program(await existing());
            timeline.length = 0;
            const destroyed = await stack.destroy({ runProgram: true });
            expect(destroyed.summary.result).toBe("succeeded");
            for (let i = 0; i < POOL; i++) expect(await nodeExists(hostname(i))).toBe(false);
            const events = timeline.map((t) => t.what);
            for (let i = 0; i < POOL; i++) expect(events).toContain(`host ${i} gone (Node already deleted)`);
            worker = undefined;
        }, 900000);
    });
});
