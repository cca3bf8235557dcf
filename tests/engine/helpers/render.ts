/**
 * A stage as the program renders it, for the engine suite: the offline render's exact user data of every node
 * (`npm run render`, run as a separate process because the mock runtime and the Automation API cannot share one
 * Pulumi runtime), each config applied by the real Ignition into a scratch root, and the cluster's PKI issued
 * with openssl from the same certificate specs the `@pulumi/tls` resources are made from.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ClusterPlan, planCluster } from "../../../config";
import { StageConfig } from "../../../config/types";
import { PkiMaterial } from "../../../pki";
import { stageCertificateSpecs } from "../../../tools/controlPlaneFiles";
import { PROJECT_DIR, stageConfigFromFiles } from "../../../tools/stageFiles";
import { applyIgnition } from "../../../tools/ignitionTools";
import { IssuedFiles, issueWithOpenssl, materialFromFiles } from "../../pki/helpers/openssl";
import type { Override } from "./controlPlane";
import { installedFiles } from "../../../controlplane";

/** The stage under test. */
export interface RenderedStage {
    readonly stage: string;
    readonly cfg: StageConfig;
    readonly plan: ClusterPlan;
    /** Node name -> the exact user data (raw Ignition JSON) the program gives that node. */
    readonly ignition: ReadonlyMap<string, string>;
    readonly material: PkiMaterial;
    /** The cluster CA's files, to sign nodes' requests as ClusterPki.signNodeRequest does. */
    readonly ca: IssuedFiles;
    /** The `apiserver` EIP stand-in: in the API server's certificate, routed to the first controller. */
    readonly apiServerPublicAddress: string;
    /** The render's resources.json (every resource with its inputs, secrets masked). */
    readonly resourcesFile: string;
}

/** Stand-in for the `apiserver` EIP: TEST-NET-2, which no stage's admin networks use. */
export const ENGINE_EIP = "198.51.100.7";

/** Renders `stage` with `npm run render` into `<dir>/render` and issues its PKI into `<dir>/pki`. */
export function renderStage(stage: string, dir: string): RenderedStage {
    const out = path.join(dir, "render");
    execFileSync("npx", ["ts-node", "--transpile-only", path.join(PROJECT_DIR, "tools/render.ts"), "--stack", stage, "--out", out], {
        cwd: PROJECT_DIR,
        stdio: ["ignore", "ignore", "pipe"],
    });
    const ignitionDir = path.join(out, stage, "ignition");
    const ignition = new Map(
        fs
            .readdirSync(ignitionDir)
            .filter((f) => f.endsWith(".ign"))
            .map((f) => [f.slice(0, -".ign".length), fs.readFileSync(path.join(ignitionDir, f), "utf8")] as const),
    );
    const cfg = stageConfigFromFiles(stage);
    const plan = planCluster(cfg);
    // The specs components/clusterPki.ts turns into @pulumi/tls resources, with this EIP.
    const specs = stageCertificateSpecs(cfg, ENGINE_EIP);
    const pkiDir = path.join(dir, "pki");
    fs.mkdirSync(pkiDir, { recursive: true });
    const issued = issueWithOpenssl(specs, cfg.pki, pkiDir);
    const material = materialFromFiles(issued, pkiDir, cfg.secretsEncryptionKeys);
    const ca = issued.get("ca");
    if (!ca) throw new Error("the stage's certificate specs have no ca");
    return {
        stage,
        cfg,
        plan,
        ignition,
        material,
        ca,
        apiServerPublicAddress: ENGINE_EIP,
        resourcesFile: path.join(out, stage, "resources.json"),
    };
}

/**
 * The files an SSH delivery of the render installs (`renderInstallScript`'s `install_file` lines), by path: what the
 * command `name` would put on its node. Only deliveries without secrets are readable in the render.
 */
export function deliveredFiles(rendered: RenderedStage, name: string): Map<string, string> {
    const resources = JSON.parse(fs.readFileSync(rendered.resourcesFile, "utf8")) as { name: string; inputs: { stdin?: unknown } }[];
    const command = resources.find((r) => r.name === name);
    if (!command || typeof command.inputs.stdin !== "string") {
        throw new Error(`the render of ${rendered.stage} has no readable delivery ${name}`);
    }
    return installedFiles(command.inputs.stdin);
}

/**
 * A rendered script with some of its variables (`name='value'` lines, as the renderers write them) set otherwise;
 * each change is listed, and a variable that is not there exactly once fails (the render changed).
 */
export function withVariables(script: string, values: Record<string, string>, where: string): { script: string; changes: Override[] } {
    let out = script;
    const changes: Override[] = [];
    for (const [name, value] of Object.entries(values)) {
        const lines = out.split("\n").filter((l) => l.startsWith(`${name}='`));
        if (lines.length !== 1) throw new Error(`${where}: expected one line ${name}='...', found ${lines.length}`);
        const replacement = `${name}='${value}'`;
        out = out.replace(lines[0], replacement);
        changes.push({ where: `${where} ${name}`, rendered: lines[0].slice(name.length + 1), run: `'${value}'` });
    }
    return { script: out, changes };
}

/** A node's root file system after Ignition's files stage: `root` stands for the node's "/". */
export interface NodeRoot {
    readonly name: string;
    readonly root: string;
    /** The node's path `p` inside the root. */
    at(p: string): string;
    /** Writes a file at the node's path `p` (parents created), with `mode` (octal string). */
    write(p: string, content: string, mode: string): void;
}

/** Applies node `name`'s user data with the real Ignition; the scratch directory goes into `cleanup`. */
export async function nodeRoot(rendered: RenderedStage, name: string, cleanup: string[]): Promise<NodeRoot> {
    const json = rendered.ignition.get(name);
    if (!json) {
        throw new Error(`the render of ${rendered.stage} has no node ${name} (has: ${[...rendered.ignition.keys()].join(", ")})`);
    }
    const applied = await applyIgnition(json);
    cleanup.push(applied.scratch);
    const root = applied.root;
    const at = (p: string) => path.join(root, p);
    return {
        name,
        root,
        at,
        write(p, content, mode) {
            fs.mkdirSync(path.dirname(at(p)), { recursive: true });
            fs.writeFileSync(at(p), content, { mode: parseInt(mode, 8) });
            fs.chmodSync(at(p), parseInt(mode, 8));
        },
    };
}
