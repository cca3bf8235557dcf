/**
 * A stack on the real engine: the Go-built Pulumi CLI, a `file://` backend, passphrase-encrypted secrets and the
 * Go-built Kubernetes provider, driving an inline program through the Automation API (no Node.js language host is
 * available here; inline programs need none).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ConfigMap, LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { PROJECT } from "../../../config/schema";
import { EngineTools } from "./tools";

/** The @pulumi/kubernetes SDK's version: the engine looks for the provider plugin under exactly this version. */
export function kubernetesSdkVersion(): string {
    return (require("@pulumi/kubernetes/package.json") as { version: string }).version; // eslint-disable-line @typescript-eslint/no-require-imports -- a JSON file
}

/** Where the stack's state, the CLI's home and the backend live. */
export interface EngineWorkspace {
    readonly stateDir: string;
    readonly envVars: Record<string, string>;
    readonly pulumiCommand: PulumiCommand;
}

export const ENGINE_PASSPHRASE = "engine-suite-passphrase";

/** Lays out PULUMI_HOME with the built provider as an installed plugin, and a directory holding the CLI. */
export async function engineWorkspace(tools: EngineTools, work: string): Promise<EngineWorkspace> {
    const home = path.join(work, "pulumi-home");
    const plugin = `resource-kubernetes-v${kubernetesSdkVersion()}`;
    fs.mkdirSync(path.join(home, "plugins", plugin), { recursive: true });
    fs.copyFileSync(tools["pulumi-resource-kubernetes"], path.join(home, "plugins", plugin, "pulumi-resource-kubernetes"));
    fs.chmodSync(path.join(home, "plugins", plugin, "pulumi-resource-kubernetes"), 0o755);
    fs.writeFileSync(path.join(home, "plugins", `${plugin}.lock`), "");
    const cliRoot = path.join(work, "pulumi-cli");
    fs.mkdirSync(path.join(cliRoot, "bin"), { recursive: true });
    fs.symlinkSync(tools.pulumi, path.join(cliRoot, "bin", "pulumi"));
    const stateDir = path.join(work, "state");
    fs.mkdirSync(stateDir, { recursive: true });
    return {
        stateDir,
        envVars: {
            PULUMI_CONFIG_PASSPHRASE: ENGINE_PASSPHRASE,
            PULUMI_BACKEND_URL: `file://${stateDir}`,
            PULUMI_HOME: home,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        },
        pulumiCommand: await PulumiCommand.get({ root: cliRoot }),
    };
}

/** The stack `stage` of this project, running `program`, with `config` (full keys). */
export async function engineStack(ws: EngineWorkspace, stage: string, program: () => Promise<void>, config: ConfigMap): Promise<Stack> {
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: stage, projectName: PROJECT, program },
        { envVars: ws.envVars, pulumiCommand: ws.pulumiCommand, projectSettings: { name: PROJECT, runtime: "nodejs" } },
    );
    await stack.setAllConfig(config);
    return stack;
}

/** The raw text of the stack's state file in the `file://` backend (what a backup of the bucket would hold). */
export function stateFileText(ws: EngineWorkspace, stage: string): string {
    const dir = path.join(ws.stateDir, ".pulumi", "stacks", PROJECT);
    const file = [`${stage}.json`, `${stage}.json.gz`].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
    if (!file) throw new Error(`no state file for ${stage} under ${dir}`);
    return file.endsWith(".gz") ? execFileSync("gzip", ["-dc", file], { encoding: "utf8" }) : fs.readFileSync(file, "utf8");
}

/**
 * Puts the file backend's copy of the previous checkpoint (`<stack>.json.bak`, which the CLI writes before each new
 * checkpoint) back in place: what README's recovery says to do when a CLI killed mid-write left the state unreadable.
 */
export function restoreCheckpointBackup(ws: EngineWorkspace, stage: string): void {
    const dir = path.join(ws.stateDir, ".pulumi", "stacks", PROJECT);
    const pair = [`${stage}.json`, `${stage}.json.gz`]
        .map((f) => ({ file: path.join(dir, f), backup: path.join(dir, `${f}.bak`) }))
        .find((p) => fs.existsSync(p.backup));
    if (!pair) throw new Error(`no checkpoint backup for ${stage} under ${dir}: ${fs.readdirSync(dir).join(", ")}`);
    fs.copyFileSync(pair.backup, pair.file);
}

/** PIDs of `pulumi` processes this process started (the CLI that the Automation API runs). */
export function cliProcesses(): number[] {
    try {
        return execFileSync("pgrep", ["-P", String(process.pid), "-x", "pulumi"], { encoding: "utf8" })
            .split("\n")
            .filter(Boolean)
            .map(Number);
    } catch {
        return [];
    }
}

/** Ends provider plugins left running by a killed CLI (they are this workspace's copies, matched by path). */
export function stopStrayPlugins(ws: EngineWorkspace): void {
    const home = ws.envVars.PULUMI_HOME;
    try {
        execFileSync("pkill", ["-KILL", "-f", `${home}/plugins/`]);
    } catch {
        // none left
    }
}

/**
 * The steps of a `pulumi preview` that change something, each as `<op> <urn>` with the properties it would change:
 * what a "no change" check expects to be empty, and names the resource when it is not (a change summary's counts
 * alone do not say which resource a stray `delete` is about).
 */
export async function previewChanges(stack: Stack): Promise<string[]> {
    const steps: string[] = [];
    const result = await stack.preview({
        onEvent: (e) => {
            const m = e.resourcePreEvent?.metadata;
            if (!m || m.op === "same" || m.op === "read") return;
            const keys = m.detailedDiff ? Object.keys(m.detailedDiff) : (m.diffs ?? []);
            steps.push(`${m.op} ${m.urn}${keys.length > 0 ? ` (${[...keys].sort().join(", ")})` : ""}`);
        },
    });
    const counted = Object.entries(result.changeSummary)
        .filter(([op]) => op !== "same")
        .reduce((n, [, count]) => n + (count ?? 0), 0);
    // A counted change with no step in the events must not pass as "no change".
    if (steps.length === 0 && counted > 0)
        steps.push(`change summary counts ${counted} change(s): ${JSON.stringify(result.changeSummary)}`);
    return steps.sort();
}
