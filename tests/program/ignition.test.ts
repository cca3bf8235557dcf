/**
 * The user data the real program gives every node of every stage (not fixtures): each config passes
 * ignition-validate, one node per role is applied by the real Ignition and its units pass systemd-analyze,
 * nothing secret is in it, and it fits the budget. What `npm run render` writes is exactly that user data.
 */
import * as fs from "fs";
import * as zlib from "zlib";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { stageConfigFromFiles } from "../../tools/stageFiles";
import { USER_DATA_LIMIT } from "../../ignition/input";
import { applyIgnition, validateIgnition, verifyUnits } from "../../tools/ignitionTools";
import { ProgramRun, revealSecrets } from "../../tools/mockRuntime";
import { renderIgnition, renderStage } from "../../tools/render";
import { runStage } from "./helpers";

const STAGES = ["dev", "staging", "prod"];
const runs = new Map<string, ProgramRun>();
beforeAll(async () => {
    for (const stage of STAGES) {
        runs.set(stage, await runStage(stage));
    }
});

/** The role of a node from its hostname (coreos-platform-<stage>-<role>[-<i>]). */
function roleOf(node: string): string {
    return /-(bastion|controller|worker|edge|nfs)(-\d+)?$/.exec(node)![1];
}

test.each(STAGES)("%s: every node's config passes ignition-validate", async (stage) => {
    const configs = renderIgnition(runs.get(stage)!);
    const cfg = stageConfigFromFiles(stage);
    const expectedNodes = 1 + cfg.controllers.count + cfg.workers.count + cfg.edge.count + (cfg.storage.kind === "nfs-server" ? 1 : 0);
    expect(configs.size).toBe(expectedNodes);
    for (const [node, json] of configs) {
        const result = await validateIgnition(json);
        expect({ node, ...result }).toEqual({ node, valid: true, report: "" });
    }
});

test.each(STAGES)(
    "%s: no private key, token or password in any user data but the bastion's own host key, and every config within 16,000 bytes",
    (stage) => {
        const run = runs.get(stage)!;
        // A real key is PEM; under the mocks a key reads "mock ... private key of <name>" (tools/mocks.ts).
        const privateKey = /-----BEGIN [A-Z ]*PRIVATE KEY-----|private key of /;
        for (const [node, json] of renderIgnition(run)) {
            expect(Buffer.byteLength(json)).toBeLessThanOrEqual(USER_DATA_LIMIT);
            const decoded = decodeEverything(json);
            // The bastion runs no pods: its own SSH host key is the one private key user data may hold (docs/security.md).
            const checked = roleOf(node) === "bastion" ? decoded.replace("mock openssh private key of bastion-host-key", "") : decoded;
            expect({ node, privateKey: privateKey.test(checked) }).toEqual({ node, privateKey: false });
            // No bootstrap token exists any more; one would be "<6 chars>.<16 chars>". A password hash would be a passwd field.
            expect({ node, token: /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/.test(decoded) }).toEqual({ node, token: false });
            expect({ node, password: /"passwordHash"/.test(json) }).toEqual({ node, password: false });
        }
        const bastion = [...renderIgnition(run)].filter(([node]) => roleOf(node) === "bastion");
        expect(bastion.map(([, json]) => decodeEverything(json).includes("mock openssh private key of bastion-host-key"))).toEqual([true]);
    },
);

/** The config text plus every data: URL in it decoded (gzip too), so secrets cannot hide in compressed files. */
function decodeEverything(json: string): string {
    const parts = [json];
    const config = JSON.parse(json);
    const sources = [...(config.storage?.files ?? []).map((f: any) => f.contents), ...(config.systemd?.units ?? []).map(() => undefined)];
    for (const contents of sources.filter(Boolean)) {
        const match = /^data:([^,]*),(.*)$/s.exec(contents.source ?? "");
        if (!match) continue;
        let data = match[1].endsWith(";base64") ? Buffer.from(match[2], "base64") : Buffer.from(decodeURIComponent(match[2]));
        if (contents.compression === "gzip") data = zlib.gunzipSync(data);
        parts.push(data.toString("utf8"));
    }
    return parts.join("\n");
}

describe.each(["dev", "prod"])("%s: the real Ignition applies one node of each role", (stage) => {
    const roles = new Map<string, string>();
    beforeAll(() => {
        for (const [node, json] of renderIgnition(runs.get(stage)!)) {
            if (!roles.has(roleOf(node))) roles.set(roleOf(node), json);
        }
    });

    test("with its units sound and the keys of the stage file authorized", async () => {
        const cfg = stageConfigFromFiles(stage);
        expect([...roles.keys()].sort()).toEqual(
            ["bastion", "controller", "edge", "worker", ...(cfg.storage.kind === "nfs-server" ? ["nfs"] : [])].sort(),
        );
        for (const [role, json] of roles) {
            const applied = await applyIgnition(json);
            try {
                expect(applied.log).toContain("Ignition finished successfully");
                // Only the program's deploy key is in user data; the team's keys arrive over SSH (tested below).
                const keys = fs.readFileSync(path.join(applied.root, "home/core/.ssh/authorized_keys.d/ignition"), "utf8");
                expect(keys.trim().split("\n")).toHaveLength(1);
                for (const key of cfg.sshAuthorizedKeys) {
                    expect(keys).not.toContain(key.split(" ")[1]);
                }
                const unitDir = path.join(applied.root, "etc/systemd/system");
                const units = fs.existsSync(unitDir)
                    ? fs
                          .readdirSync(unitDir)
                          .filter((u) => /\.(service|path|mount|timer)$/.test(u) && fs.lstatSync(path.join(unitDir, u)).isFile())
                    : [];
                // The bastion needs no unit of its own (sshd, chrony and Zincati are the image's); every other role does.
                expect(units.length > 0).toBe(role !== "bastion");
                expect({ role, problems: await verifyUnits(applied.root, units) }).toEqual({ role, problems: [] });
                if (role !== "bastion" && role !== "nfs") {
                    const kubelet = fs.readFileSync(path.join(applied.root, "etc/kubernetes/kubelet.yaml"), "utf8");
                    expect(kubelet).toContain(cfg.cluster.dnsServiceIp);
                    // The role label the cluster's workloads select, and (controllers only) exactly one controller taint:
                    // the kubelet refuses to start on a duplicate.
                    const unit = fs.readFileSync(path.join(unitDir, "kubelet.service"), "utf8");
                    expect(unit).toContain(`node.kubernetes.io/${role}=true`);
                    const taints: string[] = (YAML.parse(kubelet).registerWithTaints ?? []).map(
                        (t: { key: string; effect: string }) => `${t.key}:${t.effect}`,
                    );
                    expect(new Set(taints).size).toBe(taints.length);
                    expect(taints.filter((t) => t.startsWith("node-role.kubernetes.io/controller"))).toHaveLength(
                        role === "controller" ? 1 : 0,
                    );
                }
            } finally {
                fs.rmSync(applied.scratch, { recursive: true, force: true });
            }
        }
    });
});

test.each(STAGES)("%s: every node gets exactly the team's keys over SSH, through the bastion, once per instance", (stage) => {
    const run = runs.get(stage)!;
    const cfg = stageConfigFromFiles(stage);
    const instances = run.resources.filter((r) => r.type === "alicloud:ecs/instance:Instance");
    const deliveries = run.resources.filter((r) => r.type === "command:remote:Command" && r.name.endsWith("-ssh-keys"));
    expect(deliveries).toHaveLength(instances.length);
    for (const instance of instances) {
        const delivery = deliveries.find((d) => d.dependencies.includes(instance.name))!;
        expect(delivery).toBeDefined();
        expect(delivery.inputs.triggers).toEqual([`${instance.name}-id`]);
        // Read the install script's one file: it must write exactly the stage's keys, for the core user.
        const script = String(delivery.inputs.stdin);
        const installs = [
            ...script.matchAll(/^install_file '([^']+)' (\d+) \S+ \S+ \S+ '([^']*)' <<'PLATFORM_EOF'\n([A-Za-z0-9+/=]+)\nPLATFORM_EOF$/gm),
        ];
        expect(installs.map((m) => [m[1], m[2], m[3]])).toEqual([["/home/core/.ssh/authorized_keys.d/platform-team", "0600", "core:core"]]);
        expect(Buffer.from(installs[0][4], "base64").toString("utf8")).toBe(cfg.sshAuthorizedKeys.join("\n") + "\n");
    }
});

test("npm run render writes each node's exact user data, and the same as a readable tree", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "render-"));
    try {
        const run = await renderStage("dev", out);
        const written = fs.readdirSync(path.join(out, "dev", "ignition")).sort();
        const configs = renderIgnition(run);
        expect(written).toEqual([...configs.keys()].flatMap((n) => [n, `${n}.ign`]).sort());
        for (const [node, json] of configs) {
            const instance = run.resources.find((r) => r.type === "alicloud:ecs/instance:Instance" && r.inputs.instanceName === node)!;
            // The bastion's user data is a secret (it holds the bastion's host key).
            expect(Buffer.from(String(revealSecrets(instance.inputs.userData)), "base64").toString("utf8")).toBe(json);
            expect(fs.readFileSync(path.join(out, "dev", "ignition", `${node}.ign`), "utf8")).toBe(json);
            // The tree: files at their paths as plain text (gzip'd ones decoded), units where Ignition writes them.
            const tree = (file: string) => fs.readFileSync(path.join(out, "dev", "ignition", node, file), "utf8");
            expect(tree("etc/hostname")).toBe(`${node}\n`);
            expect(tree("etc/chrony.conf")).toMatch(/^server ntp\.cloud\.aliyuncs\.com iburst/);
            expect(tree("index.txt")).toMatch(/^file {2}\/etc\/hostname {2}mode=default user=root group=root overwrite$/m);
            if (roleOf(node) !== "bastion" && roleOf(node) !== "nfs") {
                expect(tree("etc/systemd/system/kubelet.service")).toContain(`--hostname-override=${node}`);
                expect(tree("index.txt")).toMatch(/^unit {2}kubelet\.path {2}enabled$/m);
            }
        }
    } finally {
        fs.rmSync(out, { recursive: true, force: true });
    }
});
