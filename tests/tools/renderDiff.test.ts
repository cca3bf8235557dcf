/**
 * `npm run render:diff`: the comparison of two renders (resources, Ignition files and units decoded from
 * gzip data: URLs, Kubernetes objects), and the whole command on a scratch repository whose program is a small
 * stand-in built from the real loader and components (renderDiffProgram.test.ts runs the real program).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { compareStage, formatReport, hasChanges } from "../../tools/renderCompare";
import { git, scratchRepo, setWorkerCount } from "./scratchRepo";

const sides = { before: "main (abc)", after: "working tree" };

function gz(text: string): string {
    return `data:;base64,${zlib.gzipSync(Buffer.from(text)).toString("base64")}`;
}

function ignition(hostsLine: string, unitBody: string): string {
    return JSON.stringify({
        ignition: { version: "3.3.0" },
        storage: {
            files: [
                { path: "/etc/hosts", mode: 420, contents: { source: gz(`127.0.0.1 localhost\n${hostsLine}\n`), compression: "gzip" } },
                { path: "/etc/hostname", mode: 420, contents: { source: "data:,node-0" } },
            ],
        },
        systemd: { units: [{ name: "kubelet.service", enabled: true, contents: `[Service]\n${unitBody}\n` }] },
    });
}

/** Writes a render directory the way tools/render.ts lays it out. */
function renderDir(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-"));
    for (const [file, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), text);
    }
    return dir;
}

const resource = (type: string, name: string, inputs: object) => ({
    type,
    name,
    parent: null,
    inputs,
    dependencies: [],
    protect: false,
    ignoreChanges: [],
    replaceOnChanges: [],
    retainOnDelete: false,
    deleteBeforeReplace: false,
});

describe("comparing two renders of a stage", () => {
    const before = renderDir({
        "resources.json": JSON.stringify([
            resource("alicloud:ecs/instance:Instance", "workers-0", { instanceType: "ecs.g7.large" }),
            resource("alicloud:ecs/instance:Instance", "workers-1", { instanceType: "ecs.g7.large" }),
            resource("alicloud:vpc/network:Network", "network-vpc", { cidrBlock: "10.10.0.0/16" }),
        ]),
        "ignition/node-0.ign": ignition("10.10.31.250 controller-0", "ExecStart=/opt/bin/kubelet --v=2"),
        // The readable tree repeats the .ign: the ignition section compares it, "other files" must not.
        "ignition/node-0/etc/hosts": "127.0.0.1 localhost\n10.10.31.250 controller-0\n",
        "ignition/node-1.ign": ignition("x", "y"),
        "k8s/kube-system.configmap.coredns.yaml": "kind: ConfigMap\ndata:\n  Corefile: old\n",
        "k8s/apps.deployment.web.yaml": "kind: Deployment\n",
        "outputs.json": "{}\n",
    });
    const after = renderDir({
        "resources.json": JSON.stringify([
            resource("alicloud:ecs/instance:Instance", "workers-0", { instanceType: "ecs.g7.xlarge" }),
            resource("alicloud:ecs/instance:Instance", "workers-2", { instanceType: "ecs.g7.large" }),
            resource("alicloud:vpc/network:Network", "network-vpc", { cidrBlock: "10.10.0.0/16" }),
        ]),
        "ignition/node-0.ign": ignition("10.10.31.249 controller-0", "ExecStart=/opt/bin/kubelet --v=2"),
        "ignition/node-0/etc/hosts": "127.0.0.1 localhost\n10.10.31.249 controller-0\n",
        "ignition/node-2.ign": ignition("x", "y"),
        "k8s/kube-system.configmap.coredns.yaml": "kind: ConfigMap\ndata:\n  Corefile: new\n",
        "k8s/apps.deployment.api.yaml": "kind: Deployment\n",
        "outputs.json": "{}\n",
    });
    afterAll(() => [before, after].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    const diff = compareStage("dev", before, after, sides);

    test("resources: added, removed and changed by type and name, with a diff of the changed one only", () => {
        expect(diff.resources.map((c) => [c.kind, c.label])).toEqual([
            ["changed", "alicloud:ecs/instance:Instance workers-0"],
            ["removed", "alicloud:ecs/instance:Instance workers-1"],
            ["added", "alicloud:ecs/instance:Instance workers-2"],
        ]);
        expect(diff.resources[0].patch).toContain('-    "instanceType": "ecs.g7.large"');
        expect(diff.resources[0].patch).toContain('+    "instanceType": "ecs.g7.xlarge"');
    });

    test("ignition: nodes added and removed; inside a changed node, the changed file decoded from gzip", () => {
        expect(diff.ignition.map((c) => [c.kind, c.label])).toEqual([
            ["changed", "node node-0"],
            ["removed", "node node-1"],
            ["added", "node node-2"],
        ]);
        const children = diff.ignition[0].children ?? [];
        expect(children.map((c) => [c.kind, c.label])).toEqual([["changed", "node-0: file /etc/hosts"]]);
        expect(children[0].patch).toContain("-10.10.31.250 controller-0");
        expect(children[0].patch).toContain("+10.10.31.249 controller-0");
        expect(children[0].patch).not.toContain("base64");
    });

    test("kubernetes objects and other files", () => {
        expect(diff.kubernetes.map((c) => [c.kind, c.label])).toEqual([
            ["added", "apps.deployment.api.yaml"],
            ["removed", "apps.deployment.web.yaml"],
            ["changed", "kube-system.configmap.coredns.yaml"],
        ]);
        expect(diff.kubernetes[2].patch).toMatch(/-\s+Corefile: old\n\+\s+Corefile: new/);
        expect(diff.other).toEqual([]);
    });

    test("the report says it is an offline render diff, not a preview, and lists each section", () => {
        const report = formatReport([diff, compareStage("prod", before, before, sides)], sides);
        expect(report.split("\n")[0]).toBe("Offline render diff: main (abc) -> working tree");
        expect(report).toContain("not a `pulumi preview`");
        expect(report).toContain("+ alicloud:ecs/instance:Instance workers-2");
        expect(report).toContain("~ node-0: file /etc/hosts");
        expect(report).toContain("== stage prod: no change");
        expect(hasChanges(compareStage("prod", before, before, sides))).toBe(false);
    });

    test("a stage that exists on one side only is all added", () => {
        const only = compareStage("perf", path.join(before, "does-not-exist"), after, sides);
        expect(only.presence).toBe("added");
        expect(only.resources.every((c) => c.kind === "added")).toBe(true);
    });
});

/**
 * A stand-in program: the real config loader, EipPool and Network, one ECS instance per worker with a small
 * Ignition config (a gzip file that lists the workers) and one Kubernetes ConfigMap.
 */
const STAND_IN_PROGRAM = `
import * as zlib from "zlib";
import * as alicloud from "@pulumi/alicloud";
import * as k8s from "@pulumi/kubernetes";
import { loadStageConfig } from "./config/load";
import { stageIdentity } from "./components/common";
import { EipPool } from "./components/eipPool";
import { Network } from "./components/network";

export = function () {
    const cfg = loadStageConfig();
    const identity = stageIdentity(cfg.project, cfg.stage);
    const eips = new EipPool("eips", { identity, claims: cfg.eip.claims, quota: cfg.eip.quota, bandwidthMbps: 10, bandwidthByClaim: {} });
    const network = new Network("network", { ...cfg.network, identity, natEip: eips.claim("nat") });
    const workers = Array.from({ length: cfg.workers.count }, (_, i) => \`\${cfg.namePrefix}-worker-\${i}\`);
    for (const [i, name] of workers.entries()) {
        const hosts = zlib.gzipSync(Buffer.from(workers.join("\\n") + "\\n")).toString("base64");
        const ign = { ignition: { version: "3.3.0" }, storage: { files: [{ path: "/etc/workers", mode: 420, contents: { source: "data:;base64," + hosts, compression: "gzip" } }] } };
        new alicloud.ecs.Instance(\`workers-\${i}\`, { instanceName: name, imageId: "m-x", instanceType: cfg.workers.instanceType, vswitchId: network.nodeVswitchIds[0], userData: Buffer.from(JSON.stringify(ign)).toString("base64") });
    }
    new k8s.core.v1.ConfigMap("workers", { metadata: { name: "workers", namespace: "kube-system" }, data: { count: String(cfg.workers.count) } });
    return {};
};
`;

describe("the command on a git repository (stand-in program)", () => {
    let repo: string;
    beforeAll(() => {
        repo = scratchRepo({ "index.ts": STAND_IN_PROGRAM });
        setWorkerCount(repo, "dev", 3);
    });
    afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

    const run = (...args: string[]) =>
        spawnSync(
            process.execPath,
            [require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(repo, "tools/renderDiff.ts"), ...args],
            { cwd: repo, encoding: "utf8" },
        );

    test("renders the ref and the working tree and reports what changed, per stage", () => {
        const r = run("HEAD", "--stage", "dev", "--stage", "prod");
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        const out = r.stdout;
        expect(out).toMatch(/^Offline render diff: HEAD \([0-9a-f]{12}\) -> working tree/);
        expect(out).toContain("+ alicloud:ecs/instance:Instance workers-2");
        expect(out).toContain("+ node coreos-platform-dev-worker-2");
        expect(out).toContain("~ coreos-platform-dev-worker-0: file /etc/workers");
        expect(out).toContain("+coreos-platform-dev-worker-2");
        expect(out).toContain("~ other-workers.yaml"); // manifestFiles groups by app.kubernetes.io labels; the stand-in has none
        expect(out).toContain("== stage prod: no change");
        // The temporary worktree is gone.
        expect(git(repo, "worktree", "list").trim().split("\n")).toHaveLength(1);
    });

    test("--check exits 1 on a difference and 0 without one; an unknown ref exits 2", () => {
        expect(run("HEAD", "--stage", "dev", "--check").status).toBe(1);
        expect(run("HEAD", "--stage", "prod", "--check").status).toBe(0);
        const unknown = run("no-such-ref");
        expect(unknown.status).toBe(2);
        expect(unknown.stderr).toContain("no-such-ref");
    });
});
