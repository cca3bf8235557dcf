/**
 * The first `pulumi up` converges (issue 11), shown on the resource graph under the mock runtime with the real stage
 * files: no node updates or reboots before the stage has converged (OS updates off in every node's first-boot
 * Ignition, turned on over SSH only after every object of the cluster layer and the apps); nothing that needs the NFS
 * export is created before a node has mounted it; nodes boot after the mirrors the program creates are readable;
 * the NAT's EIP has its own bandwidth.
 */
import { ProgramRun, RecordedResource, revealSecrets } from "../../tools/mockRuntime";
import { renderIgnition } from "../../tools/render";
import { stageConfigFromFiles } from "../../tools/stageFiles";
import { planCluster } from "../../config";
import { nodePaths } from "../../layout/node";
import { decodeConfigFiles } from "../ignition/helpers";
import { ofType, runStage } from "./helpers";
import * as fs from "fs";
import * as path from "path";

let dev: ProgramRun;
let staging: ProgramRun;
beforeAll(async () => {
    dev = await runStage("dev");
    staging = await runStage("staging");
});

const named = (run: ProgramRun, name: string): RecordedResource => {
    const r = run.resources.find((x) => x.name === name);
    if (!r) throw new Error(`no resource ${name}; there are ${run.resources.map((x) => x.name).join(", ")}`);
    return r;
};
/** Every Kubernetes object of the stage (the provider aside). */
const kubernetesObjects = (run: ProgramRun) =>
    run.resources.filter((r) => r.type.startsWith("kubernetes:") && r.custom && !r.type.startsWith("pulumi:providers"));
const instances = (run: ProgramRun) => ofType(run, "alicloud:ecs/instance:Instance");
const stdin = (r: RecordedResource) => String(revealSecrets(r.inputs.stdin));

/** Whether `r` waits for `target`, directly or through what it waits for (the engine's ordering). */
function waitsFor(run: ProgramRun, r: RecordedResource, target: string): boolean {
    const byName = new Map(run.resources.map((x) => [x.name, x]));
    const seen = new Set<string>();
    const queue = [...r.dependencies];
    while (queue.length > 0) {
        const name = queue.pop()!;
        if (name === target) return true;
        if (seen.has(name)) continue;
        seen.add(name);
        queue.push(...(byName.get(name)?.dependencies ?? []));
    }
    return false;
}

describe("no node updates or reboots before the stage has converged", () => {
    test.each(["dev", "staging"])("%s: every node boots with Zincati's updates off", (stage) => {
        const run = stage === "dev" ? dev : staging;
        const ignition = renderIgnition(run);
        expect(ignition.size).toBe(instances(run).length);
        for (const [node, json] of ignition) {
            const zincati = decodeConfigFiles(json).get("/etc/zincati/config.d/55-updates.toml");
            expect({ node, zincati: zincati?.contents.toString() }).toEqual({
                node,
                zincati: expect.stringMatching(/^\[updates\]\nenabled = false\n/),
            });
        }
    });

    test("every node's updates are turned on by one command, after every object of the cluster layer and the apps", () => {
        const objects = kubernetesObjects(dev).map((r) => r.name);
        expect(objects.length).toBeGreaterThan(20);
        const commands = dev.resources.filter((r) => r.parent === "os-updates");
        // One per instance: bastion, controller, workers, edge, the NFS node.
        expect(commands.map((c) => c.name).sort()).toEqual(
            [
                "os-updates-bastion",
                "os-updates-controller-0",
                "os-updates-edge-0",
                "os-updates-nfs",
                "os-updates-worker-0",
                "os-updates-worker-1",
            ].sort(),
        );
        const byInstance = new Map(instances(dev).map((i) => [i.name, i]));
        for (const c of commands) {
            expect({ command: c.name, missing: objects.filter((o) => !c.dependencies.includes(o)) }).toEqual({
                command: c.name,
                missing: [],
            });
            // Triggered by its instance: a replaced node (which boots with updates off) gets them turned on again.
            const instance = c.dependencies.filter((d) => byInstance.has(d));
            expect(instance.length).toBeGreaterThanOrEqual(1);
            expect(c.inputs.triggers).toHaveLength(1);
            expect(stdin(c)).toContain(nodePaths.osUpdatesOnFile);
        }
    });

    test("nothing in the cluster layer waits for an OS-updates command (it comes last)", () => {
        for (const r of kubernetesObjects(dev)) {
            expect(r.dependencies.filter((d) => d.startsWith("os-updates"))).toEqual([]);
            expect(waitsFor(dev, r, "os-updates-controller-0")).toBe(false);
        }
    });
});

describe("the NFS node is ready before anything that needs it", () => {
    test("dev (nfs-server): a controller mounts the export, after the NFS node exists, before every Kubernetes object", () => {
        const ready = named(dev, "storage-ready");
        expect(ready.dependencies).toEqual(expect.arrayContaining(["storage-node", "controllers-0", "bastion-instance"]));
        const plan = planCluster(stageConfigFromFiles("dev"));
        expect(stdin(ready)).toContain(`'${plan.nfsServerAddress}:${nodePaths.nfsExportDir}'`);
        expect(stdin(ready)).toContain("mount -t nfs4");
        expect((revealSecrets(ready.inputs.connection) as { host: string }).host).toBe(plan.controllers[0].ip);
        for (const r of kubernetesObjects(dev)) {
            expect({ object: r.name, waits: waitsFor(dev, r, "storage-ready") }).toEqual({ object: r.name, waits: true });
        }
    });

    test("staging (NAS): every Kubernetes object waits for the mount target", () => {
        expect(staging.resources.find((r) => r.name === "storage-ready")).toBeUndefined();
        for (const r of kubernetesObjects(staging)) {
            expect({ object: r.name, waits: waitsFor(staging, r, "storage-mount") }).toEqual({ object: r.name, waits: true });
        }
    });
});

describe("mirrors the program creates", () => {
    test("dev's files bucket: stage-scoped, private, readable only from the stage's VPC; nodes boot after its policy", () => {
        const bucket = named(dev, "mirrors-files");
        expect(bucket.inputs.bucket).toBe("coreos-platform-dev-mirror");
        expect(named(dev, "mirrors-files-acl").inputs.acl).toBe("private");
        const policy = named(dev, "mirrors-files-read-from-vpc");
        expect(policy.dependencies).toContain("network-vpc");
        const doc = JSON.parse(String(policy.inputs.policy));
        expect(doc.Statement).toEqual([
            expect.objectContaining({
                Effect: "Allow",
                Action: ["oss:GetObject"],
                Resource: ["acs:oss:*:*:coreos-platform-dev-mirror/*"],
                Condition: { StringEquals: { "acs:SourceVpc": [expect.any(String)] } },
            }),
        ]);
        for (const i of instances(dev).filter((i) => i.name !== "bastion-instance"))
            expect(i.dependencies).toContain("mirrors-files-read-from-vpc");
        // The bucket depends on nothing of the stage, so `pulumi up --target` can create it before the first fill.
        expect(bucket.dependencies).toEqual([]);
    });

    test("the --target URN docs/mirrors.md gives for dev's bucket is the bucket's", () => {
        const docs = fs.readFileSync(path.join(__dirname, "../../docs/mirrors.md"), "utf8");
        expect(docs).toContain(named(dev, "mirrors-files").urn);
    });

    test("a registry namespace in an Enterprise Edition instance, linked to the stage's VPC, when asked for", async () => {
        const cfg = stageConfigFromFiles("dev");
        const run = await runStage("dev", {
            mirrors: { ...cfg.mirrors, create: { filesBucket: true, registryNamespace: { instanceId: "cri-abc123" } } },
        });
        expect(named(run, "mirrors-registry-namespace").inputs).toMatchObject({
            instanceId: "cri-abc123",
            name: "coreos-platform-dev",
            autoCreate: true,
        });
        expect(named(run, "mirrors-registry-vpc").inputs).toMatchObject({ instanceId: "cri-abc123", moduleName: "Registry" });
        expect(named(run, "mirrors-registry-vpc").dependencies).toContain("network-vpc");
        expect(named(run, "controllers-0").dependencies).toContain("mirrors-registry-vpc");
    });

    test("without mirrors.create nothing is created, and without mirrors the nodes' files name only the upstreams", async () => {
        const run = await runStage("dev", { mirrors: {} });
        expect(run.resources.filter((r) => r.parent === "mirrors")).toEqual([]);
        const worker = decodeConfigFiles(renderIgnition(run).get("coreos-platform-dev-worker-0")!);
        const setup = worker.get("/usr/local/bin/node-setup")!.contents.toString();
        expect(setup).not.toContain("aliyuncs.com");
        expect(setup).toContain("https://dl.k8s.io/");
        const join = stdin(named(run, "workers-0-join"));
        expect(join).toContain(`${nodePaths.containerdHostsDir}/registry.k8s.io/hosts.toml`);
        expect(
            Buffer.from(
                join.split("\n").find((l) => l.startsWith("c2VydmVy"))!,
                "base64",
            ).toString(),
        ).toBe('server = "https://registry.k8s.io"\n');
    });
});

describe("the NAT's bandwidth", () => {
    test("the nat EIP takes natBandwidthMbps; every other EIP eipBandwidthMbps", async () => {
        const bandwidths = (run: ProgramRun) =>
            Object.fromEntries(ofType(run, "alicloud:ecs/eipAddress:EipAddress").map((e) => [e.name, e.inputs.bandwidth]));
        expect(bandwidths(dev)).toEqual({ "eips-bastion": "5", "eips-nat": "100", "eips-apiserver": "5", "eips-edge-0": "5" });
        const wider = await runStage("dev", { natBandwidthMbps: 50 });
        expect(bandwidths(wider)["eips-nat"]).toBe("50");
    });
});
