/**
 * `npm run stage:new`: a clone loads through the real loader, overlaps no stage, keeps everything else, never
 * copies a secret or the source's encryption salt, and refuses to overwrite. (stageNewProgram.test.ts runs
 * a clone through the real program.)
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { Cidr, cidr, contains, overlaps } from "../../config/cidr";
import { PROJECT } from "../../config/schema";
import { listStages, readStageFile, stageConfigFromFiles } from "../../tools/stageFiles";
import { StageNewError, cloneStage } from "../../tools/stageNew";

const ROOT = path.resolve(__dirname, "../..");
const k = (name: string) => `${PROJECT}:${name}`;
const NETWORK_KEYS = ["vpcCidr", "podCidr", "serviceCidr"];

/** A scratch project: Pulumi.yaml and copies of the real stage files. */
function scratchProject(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stage-new-test-"));
    for (const f of fs.readdirSync(ROOT).filter((f) => /^Pulumi(\..+)?\.yaml$/.test(f))) {
        fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
    }
    return dir;
}

/** Every network a stage file sets, parsed. */
function networksOf(stage: string, dir: string): Cidr[] {
    const config = readStageFile(stage, dir);
    return NETWORK_KEYS.flatMap((key) => [config[k(key)]].flat()).map((t) => cidr(String(t)));
}

/** The top-level networks (VPC, pods, services): vSwitches sit inside their VPC by design. */
function outerNetworks(stage: string, dir: string): Cidr[] {
    const config = readStageFile(stage, dir);
    return ["vpcCidr", "podCidr", "serviceCidr"].map((key) => cidr(String(config[k(key)])));
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function project(): string {
    const d = scratchProject();
    dirs.push(d);
    return d;
}

test("a clone of every stage loads, and its networks overlap no other stage and each other", () => {
    const dir = project();
    for (const [i, from] of listStages(ROOT).entries()) {
        const to = `clone-${i}`;
        const others = listStages(dir);
        cloneStage({ from, to, dir });
        const cfg = stageConfigFromFiles(to, {}, dir);
        expect(cfg.stage).toBe(to);
        const mine = outerNetworks(to, dir);
        for (const other of others) {
            for (const a of mine) {
                for (const b of networksOf(other, dir)) {
                    expect([to, a.text, other, b.text, overlaps(a, b)]).toEqual([to, a.text, other, b.text, false]);
                }
            }
        }
        for (const [j, a] of mine.entries()) {
            for (const b of mine.slice(j + 1)) {
                expect(overlaps(a, b)).toBe(false);
            }
        }
    }
    // Clones of clones too: each new stage was checked against the ones cloned before it.
    expect(listStages(dir).filter((s) => s.startsWith("clone-"))).toHaveLength(listStages(ROOT).length);
});

test("vSwitches move into the new VPC at the same offsets; everything but the networks and the stage-scoped mirror names is copied as is", () => {
    const dir = project();
    cloneStage({ from: "staging", to: "perf", dir });
    const source = readStageFile("staging", dir);
    const clone = readStageFile("perf", dir);
    // The vSwitches derive from the VPC (config/vswitches.ts): the loaded configs show where they are.
    const offsets = (stage: string) => {
        const network = stageConfigFromFiles(stage, {}, dir).network;
        const vpc = cidr(network.vpcCidr);
        return [network.publicVswitch, ...network.nodeVswitches].map((v) => {
            const c = cidr(v.cidr);
            expect(contains(vpc, c)).toBe(true);
            return [c.first - vpc.first, c.prefix];
        });
    };
    expect(offsets("perf")).toEqual(offsets("staging"));
    expect(clone[k("vpcCidr")]).not.toBe(source[k("vpcCidr")]);
    const rest = (config: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(config).filter(([key]) => ![...NETWORK_KEYS.map(k), k("mirrors")].includes(key)));
    expect(rest(clone)).toEqual(rest(source));
    // The mirrors' namespace and bucket carry the stage's name: the clone gets its own.
    expect(clone[k("mirrors")]).toEqual(
        JSON.parse(JSON.stringify(source[k("mirrors")]).replaceAll("coreos-platform-staging", "coreos-platform-perf")),
    );
});

test("the new file says where it came from, and two clones are byte-identical", () => {
    const [a, b] = [project(), project()];
    const first = cloneStage({ from: "dev", to: "perf", dir: a });
    const second = cloneStage({ from: "dev", to: "perf", dir: b });
    expect(first.text).toBe(second.text);
    expect(first.text.split("\n")[0]).toMatch(/^# Stage perf: cloned from Pulumi\.dev\.yaml/);
});

test("an existing target is refused and left untouched", () => {
    const dir = project();
    const before = fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8");
    expect(() => cloneStage({ from: "dev", to: "prod", dir })).toThrow(StageNewError);
    expect(() => cloneStage({ from: "dev", to: "prod", dir })).toThrow(/already exists/);
    expect(fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8")).toBe(before);
});

test("--set overrides go through the loader: a small EIP budget for a pull-request stack", () => {
    const dir = project();
    cloneStage({ from: "dev", to: "pr-42", dir, set: ["eipQuota=4", "edge.count=1"] });
    const cfg = stageConfigFromFiles("pr-42", {}, dir);
    expect(cfg.eip.quota).toBe(4);
    expect(cfg.edge.count).toBe(1);
    expect(cfg.eip.claims).toHaveLength(4);
    // A budget the loader refuses writes nothing and says why.
    expect(() => cloneStage({ from: "staging", to: "pr-43", dir, set: ["eipQuota=4"] })).toThrow(/eipQuota/);
    expect(fs.existsSync(path.join(dir, "Pulumi.pr-43.yaml"))).toBe(false);
    expect(() => cloneStage({ from: "dev", to: "pr-44", dir, set: ["eipQuta=4"] })).toThrow(/not a key/);
    expect(() => cloneStage({ from: "dev", to: "Bad_Name", dir })).toThrow(/stack name/);
    expect(fs.readdirSync(dir).filter((f) => /pr-4[34]|Bad_Name/.test(f))).toEqual([]);
});

test("an explicit network that overlaps another stage is refused", () => {
    const dir = project();
    expect(() => cloneStage({ from: "dev", to: "perf", dir, set: ["podCidr=10.245.0.0/16"] })).toThrow(/staging/);
});

test("secure values and the source's encryption salt are never copied; the dropped keys are listed", () => {
    const dir = project();
    const cert = "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n";
    const withSecrets =
        fs
            .readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8")
            .replace(/^config:\n/m, "encryptionsalt: v1:SALTsalt:v1:abc\nconfig:\n")
            // Its mirrors carry its own name, as a stage's do.
            .replaceAll("coreos-platform-staging", "coreos-platform-secret-src") +
        `  coreos-platform:ingressTlsCertificate: "${cert}"\n` +
        "  coreos-platform:ingressTlsKey:\n    secure: v1:CIPHERkey:v1:zzz\n" +
        "  coreos-platform:appSecrets:\n    orders:\n      DB_PASSWORD:\n        secure: v1:CIPHERdb:v1:yyy\n";
    fs.writeFileSync(path.join(dir, "Pulumi.secret-src.yaml"), withSecrets);
    // The source really loads, secrets and all (the loader stands in for the ciphertexts).
    expect(stageConfigFromFiles("secret-src", {}, dir).appSecrets.orders).toBeDefined();

    const result = cloneStage({ from: "secret-src", to: "perf", dir });
    expect(result.droppedSecrets).toEqual(["ingressTlsKey", "appSecrets.orders.DB_PASSWORD"]);
    expect(result.droppedSettings).toEqual(["encryptionsalt"]);
    const text = fs.readFileSync(result.file, "utf8");
    for (const leaked of ["secure", "CIPHER", "SALT", "encryptionsalt"]) {
        expect(text).not.toContain(leaked);
    }
    const doc = YAML.parse(text);
    expect(Object.keys(doc)).toEqual(["config"]);
    expect(doc.config[k("appSecrets")]).toBeUndefined();
    expect(doc.config[k("ingressTlsCertificate")]).toBe(cert.replace(/\\n/g, "\n"));
});

test("the command line prints the next steps and exits 1 on a refusal", () => {
    const dir = project();
    const tsNode = require.resolve("ts-node/dist/bin.js");
    const run = (...args: string[]) =>
        execFileSync(process.execPath, [tsNode, "--transpile-only", path.join(ROOT, "tools/stageNew.ts"), "--dir", dir, ...args], {
            encoding: "utf8",
            stdio: "pipe",
        });
    const out = run("--from", "dev", "--to", "pr-7", "--set", "eipQuota=4");
    expect(out).toContain("pulumi stack init pr-7");
    expect(fs.existsSync(path.join(dir, "Pulumi.pr-7.yaml"))).toBe(true);
    let failure: { status?: number; stderr?: string } = {};
    try {
        run("--from", "dev", "--to", "pr-7");
    } catch (err) {
        failure = err as typeof failure;
    }
    expect(failure.status).toBe(1);
    expect(failure.stderr).toContain("already exists");
});
