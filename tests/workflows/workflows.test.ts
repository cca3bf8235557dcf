/**
 * The CI workflows: each one passes a real workflow validator (`@action-validator/cli`, from npm, offline), and
 * each does what docs/operations.md says: previews of every stage with the policy pack, comments on the pull
 * request, dev applied automatically, staging and prod through their environments, pull-request stacks cloned
 * with a budget that the real loader accepts. Scripts the workflows run are run here too.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { listStages, stageConfigFromFiles } from "../../tools/stageFiles";
import { eipQuota } from "../../policy/policies";
import { cloneStage } from "../../tools/stageNew";

const ROOT = path.resolve(__dirname, "../..");
const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const VALIDATOR = path.join(ROOT, "node_modules", ".bin", "action-validator");
const files = fs
    .readdirSync(WORKFLOWS)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
/** Scratch space for this file's tests, removed afterwards. */
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "workflows-test-"));
afterAll(() => fs.rmSync(TMP, { recursive: true, force: true }));

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; if?: string; id?: string };
type Job = {
    uses?: string;
    with?: Record<string, unknown>;
    needs?: string | string[];
    steps?: Step[];
    env?: Record<string, string>;
    environment?: string;
    if?: string;
    permissions?: Record<string, string>;
    strategy?: any;
    container?: string;
    secrets?: string;
};
type Workflow = {
    on: Record<string, any>;
    jobs: Record<string, Job>;
    permissions?: Record<string, string>;
    concurrency?: { group: string; "cancel-in-progress"?: boolean };
};

const load = (file: string) => YAML.parse(fs.readFileSync(path.join(WORKFLOWS, file), "utf8")) as Workflow;
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps ?? []);
const pulumiSteps = (w: Workflow, command?: string) =>
    steps(w).filter((s) => s.uses?.startsWith("pulumi/actions@") && (command === undefined || s.with?.command === command));

function validate(file: string): { status: number | null; output: string } {
    if (!fs.existsSync(VALIDATOR)) {
        throw new Error(
            `action-validator is not installed at ${VALIDATOR}: it comes with the devDependency @action-validator/cli (run npm ci)`,
        );
    }
    const r = spawnSync(VALIDATOR, [file], { encoding: "utf8" });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test("there are the workflows the operations guide describes", () => {
    expect(files).toEqual(["main.yml", "pr-stack.yml", "pull-request.yml", "pulumi-up.yml", "test.yml"]);
});

test.each(files)("%s passes action-validator", (file) => {
    const r = validate(path.join(WORKFLOWS, file));
    expect(r.output).toBe("");
    expect(r.status).toBe(0);
});

test("action-validator does reject a broken workflow (a misspelt runs-on)", () => {
    const broken = path.join(fs.mkdtempSync(path.join(TMP, "wf-")), "broken.yml");
    fs.writeFileSync(broken, fs.readFileSync(path.join(WORKFLOWS, "pulumi-up.yml"), "utf8").replace("runs-on:", "run-on:"));
    const r = validate(broken);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain("run-on");
});

test("every npm script a workflow runs exists in package.json", () => {
    const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts ?? {};
    const used = files.flatMap((f) =>
        steps(load(f)).flatMap((s) => [...(s.run ?? "").matchAll(/npm run (?:--silent )?([\w:-]+)/g)].map((m) => m[1])),
    );
    expect(used).toEqual(expect.arrayContaining(["render:diff", "stage:new"]));
    for (const name of used) {
        expect([name, scripts[name]]).toEqual([name, expect.stringContaining("ts-node")]);
    }
});

test("no workflow puts a secret or pull-request text into a shell script (only into env)", () => {
    for (const file of files) {
        const w = load(file);
        expect(Object.keys(w.on)).not.toContain("pull_request_target");
        for (const step of steps(w)) {
            expect([file, step.run ?? ""]).not.toEqual([
                file,
                expect.stringMatching(/\$\{\{\s*(secrets\.|github\.event\.|github\.head_ref)/),
            ]);
        }
    }
});

describe("tests", () => {
    const w = load("test.yml");
    const job = w.jobs.test;

    test("npm ci then npm test, on Debian bookworm as root (tools/test.sh installs ignition, etcd, openssl)", () => {
        const runs = job.steps!.filter((s) => s.run).map((s) => s.run!.trim());
        expect(runs.indexOf("npm ci --no-audit --no-fund")).toBeGreaterThanOrEqual(0);
        expect(runs.indexOf("npm test")).toBeGreaterThan(runs.indexOf("npm ci --no-audit --no-fund"));
        expect(job.container).toMatch(/^node:20-bookworm/);
    });

    test("its stages output is every Pulumi.<stage>.yaml (the script runs here as the workflow runs it)", () => {
        const script = job.steps!.find((s) => s.id === "stages")!.run!;
        const output = path.join(fs.mkdtempSync(path.join(TMP, "gh-")), "output");
        execFileSync("bash", ["-e", "-c", script], { cwd: ROOT, env: { ...process.env, GITHUB_OUTPUT: output }, stdio: "pipe" });
        const line = fs.readFileSync(output, "utf8").trim();
        expect(line.startsWith("stages=")).toBe(true);
        expect(JSON.parse(line.slice("stages=".length))).toEqual(listStages());
    });
});

describe("pull requests", () => {
    const w = load("pull-request.yml");

    test("run the tests, then preview every stage listed by the tests job", () => {
        expect(Object.keys(w.on)).toEqual(["pull_request"]);
        expect(w.jobs.test.uses).toBe("./.github/workflows/test.yml");
        const preview = w.jobs.preview;
        expect(preview.needs).toBe("test");
        expect(preview.strategy.matrix.stage).toBe("${{ fromJSON(needs.test.outputs.stages) }}");
        expect(preview.strategy["fail-fast"]).toBe(false);
    });

    test("pulumi preview --diff with the policy pack, posted as a pull-request comment, on the self-managed backend", () => {
        const [step] = pulumiSteps(w, "preview");
        expect(step.with).toMatchObject({
            "stack-name": "${{ matrix.stage }}",
            diff: true,
            "comment-on-pr": true,
            policyPacks: "policy",
            "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
        });
        expect(String(step.with!.policyPackConfigs)).toContain("policy-config.json");
        expect(w.jobs.preview.permissions).toMatchObject({ "pull-requests": "write" });
    });

    test("credentials come from secrets: passphrase, state bucket key, Alibaba key", () => {
        const env = w.jobs.preview.env!;
        for (const name of [
            "PULUMI_CONFIG_PASSPHRASE",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "ALICLOUD_ACCESS_KEY",
            "ALICLOUD_SECRET_KEY",
        ]) {
            expect([name, env[name]]).toEqual([name, expect.stringMatching(/^\$\{\{ secrets\.[A-Z_]+ \}\}$/)]);
        }
    });

    test("previews skip forks (no secrets there); the render diff runs for everyone against the base branch", () => {
        expect(w.jobs.preview.if).toContain("github.event.pull_request.head.repo.full_name == github.repository");
        const diff = w.jobs["render-diff"];
        expect(diff.if).toBeUndefined();
        expect(diff.steps!.some((s) => /npm run --silent render:diff -- "origin\/\$BASE_REF"/.test(s.run ?? ""))).toBe(true);
        expect(diff.steps!.find((s) => s.uses?.startsWith("actions/checkout@"))!.with).toMatchObject({ "fetch-depth": 0 });
    });

    test("the policy config script writes what the eip-quota policy reads, and refuses a bad quota", () => {
        const script = steps(w).find((s) => /policy-config\.json/.test(s.run ?? ""))!.run!;
        const temp = fs.mkdtempSync(path.join(TMP, "gh-"));
        const run = (quota: string) =>
            spawnSync("bash", ["-e", "-c", script], {
                cwd: ROOT,
                env: { ...process.env, RUNNER_TEMP: temp, EIP_QUOTA: quota },
                encoding: "utf8",
            });
        expect(run("25").status).toBe(0);
        const config = JSON.parse(fs.readFileSync(path.join(temp, "policy-config.json"), "utf8"));
        expect(Object.keys(config)).toEqual([eipQuota.name]);
        expect(Object.keys(config[eipQuota.name])).toEqual(Object.keys(eipQuota.configSchema!.properties));
        expect(config[eipQuota.name].quota).toBe(25);
        expect(run("twenty").status).not.toBe(0);
    });
});

describe("main branch", () => {
    const w = load("main.yml");
    const up = load("pulumi-up.yml");

    test("dev, then staging, then prod, each through pulumi-up.yml", () => {
        expect(w.on).toEqual({ push: { branches: ["main"] } });
        expect(w.jobs.dev).toMatchObject({
            needs: "test",
            uses: "./.github/workflows/pulumi-up.yml",
            with: { stage: "dev" },
            secrets: "inherit",
        });
        expect(w.jobs.staging).toMatchObject({ needs: "dev", uses: "./.github/workflows/pulumi-up.yml", with: { stage: "staging" } });
        expect(w.jobs.prod).toMatchObject({ needs: "staging", uses: "./.github/workflows/pulumi-up.yml", with: { stage: "prod" } });
        // A newer push waits for the running deployment instead of cancelling it halfway.
        expect(w.concurrency).toEqual({ group: "deploy-main", "cancel-in-progress": false });
    });

    test("each update runs in the environment named after its stage (protected for staging and prod) with the policy pack", () => {
        const job = up.jobs.up;
        expect(job.environment).toBe("${{ inputs.stage }}");
        const [step] = pulumiSteps(up, "up");
        expect(step.with).toMatchObject({
            "stack-name": "${{ inputs.stage }}",
            policyPacks: "policy",
            "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}",
        });
        expect((job as any).concurrency).toEqual({ group: "pulumi-${{ inputs.stage }}", "cancel-in-progress": false });
    });
});

describe("pull-request stacks", () => {
    const w = load("pr-stack.yml");
    const job = w.jobs["pr-stack"];

    test("applied on the pr-stack label, destroyed and removed when the pull request closes or loses the label", () => {
        expect(w.on.pull_request.types).toEqual(expect.arrayContaining(["labeled", "unlabeled", "synchronize", "closed"]));
        expect(job.env!.STACK).toBe("pr-${{ github.event.pull_request.number }}");
        expect(job.env!.MODE).toContain("'closed'");
        const [upStep] = pulumiSteps(w, "up");
        expect(upStep.if).toBe("env.MODE == 'up'");
        expect(upStep.with).toMatchObject({ policyPacks: "policy", "comment-on-pr": true });
        // The drain hooks of worker and edge nodes live in the program: the destroy runs it, and removes the stack.
        const all = job.steps!;
        const destroy = all.find((s) => /pulumi destroy/.test(s.run ?? ""))!;
        expect(destroy.if).toBe("env.MODE == 'destroy' && steps.stack.outputs.exists == 'true'");
        expect(destroy.run).toMatch(/^pulumi destroy --yes --run-program --remove --stack "\$STACK"$/);
        // Protected etcd disks would stop the destroy: unprotect first, and only a pr-<n> stack.
        const unprotect = all.findIndex((s) => /pulumi state unprotect --all/.test(s.run ?? ""));
        expect(unprotect).toBeGreaterThan(0);
        expect(unprotect).toBeLessThan(all.indexOf(destroy));
        expect(all[unprotect].run).toContain("pr-[0-9]*)");
    });

    test("the stage:new command the workflow runs clones dev into a pr-<n> stage the loader accepts, within its EIP budget", () => {
        const script = job.steps!.map((s) => s.run ?? "").find((r) => r.includes("stage:new"))!;
        const line = script.split("\n").find((l) => l.includes("npm run --silent stage:new"))!;
        const args = line
            .replace(/^.*stage:new --\s*/, "")
            .replace(/"\$STACK"/g, "pr-123")
            .trim()
            .split(/\s+/);
        const option = (name: string) => args.filter((_, i) => args[i - 1] === `--${name}`);
        const dir = fs.mkdtempSync(path.join(TMP, "pr-stack-"));
        for (const f of fs.readdirSync(ROOT).filter((f) => /^Pulumi(\..+)?\.yaml$/.test(f))) {
            fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
        }
        cloneStage({ from: option("from")[0], to: option("to")[0], set: option("set"), dir });
        const cfg = stageConfigFromFiles("pr-123", {}, dir);
        expect(option("from")).toEqual(["dev"]);
        expect(cfg.eip.claims.length).toBeLessThanOrEqual(cfg.eip.quota);
        expect(cfg.eip.quota).toBeLessThan(20);
    });
});
