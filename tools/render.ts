/**
 * `npm run render -- --stack <stage>`: runs the real program under Pulumi's mock runtime with the stage's config
 * files and writes what `pulumi up` would create, for review without a cloud account or the Pulumi CLI:
 *
 *   out/<stage>/resources.json        every resource: type, name, parent, inputs (secrets masked),
 *                                     dependencies and the options that guard state
 *   out/<stage>/ignition/<node>.ign   the exact user data of each node
 *   out/<stage>/ignition/<node>/      the same as plain text: every file at its path, every unit, and index.txt
 *   out/<stage>/k8s/*.yaml            every Kubernetes object as it would be applied, one file per platform
 *                                     component or app (secret values masked, their keys kept)
 *   out/<stage>/controlplane/...      static pod manifests and kubeconfig templates
 *
 * and prints a preview-like tree. A bad stage config exits 1 with every problem listed.
 */
import * as fs from "fs";
import * as path from "path";
import { StageConfigError } from "../config/problems";
import { PROJECT_DIR, stageConfigFromFiles } from "./stageFiles";
import { renderControlPlaneArtifacts } from "./controlPlaneFiles";
import { ignitionTree } from "./ignitionTree";
import { manifestFiles, objectsFromRecords } from "./kubernetesObjects";
import { ProgramRun, RecordedResource, isSecretValue, maskSecrets, runProgram } from "./mockRuntime";

/** One entry of resources.json. */
export interface RenderedResource {
    type: string;
    name: string;
    parent: string | null;
    inputs: unknown;
    dependencies: string[];
    protect: boolean;
    ignoreChanges: string[];
    replaceOnChanges: string[];
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
    /** Resource hooks (program code the engine calls), by when they run; absent when none. */
    hooks?: Readonly<Record<string, readonly string[]>>;
}

/** Stable order (type, then name), so two renders of the same config are byte-identical. */
export function sortResources(resources: readonly RecordedResource[]): RecordedResource[] {
    return [...resources].sort((a, b) => (a.type === b.type ? compare(a.name, b.name) : compare(a.type, b.type)));
}

function compare(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

/** resources.json's entries: secrets masked. */
export function renderResources(run: ProgramRun): RenderedResource[] {
    return sortResources(run.resources).map((r) => ({
        type: r.type,
        name: r.name,
        parent: r.parent ?? null,
        inputs: maskSecrets(r.inputs),
        dependencies: r.dependencies,
        protect: r.protect,
        ignoreChanges: r.ignoreChanges,
        replaceOnChanges: r.replaceOnChanges,
        retainOnDelete: r.retainOnDelete,
        deleteBeforeReplace: r.deleteBeforeReplace,
        ...(r.hooks ? { hooks: r.hooks } : {}),
    }));
}

/** Node name -> raw Ignition JSON, from the user data of every ECS instance. */
export function renderIgnition(run: ProgramRun): Map<string, string> {
    const out = new Map<string, string>();
    for (const r of sortResources(run.resources)) {
        // The bastion's user data is a secret (its host key); under the mocks that key is a label, so it can be shown.
        const userData = isSecretValue(r.inputs.userData) ? r.inputs.userData.value : r.inputs.userData;
        if (r.type === "alicloud:ecs/instance:Instance" && typeof userData === "string") {
            out.set(String(r.inputs.instanceName ?? r.name), Buffer.from(userData, "base64").toString("utf8"));
        }
    }
    return out;
}

/** File name -> YAML of every Kubernetes object the program creates, one file per component or app (secrets masked). */
export function renderKubernetesObjects(run: ProgramRun): Map<string, string> {
    return manifestFiles(objectsFromRecords(sortResources(run.resources), isSecretValue));
}

const SUMMARY_INPUTS: Record<string, string[]> = {
    "alicloud:vpc/network:Network": ["vpcName", "cidrBlock"],
    "alicloud:vpc/switch:Switch": ["zoneId", "cidrBlock"],
    "alicloud:ecs/securityGroupRule:SecurityGroupRule": ["ipProtocol", "portRange", "cidrIp", "description"],
    "alicloud:ecs/eipAddress:EipAddress": ["addressName", "bandwidth"],
    "alicloud:ecs/instance:Instance": ["instanceName", "instanceType", "privateIp", "systemDiskSize"],
    "alicloud:ecs/ecsDisk:EcsDisk": ["diskName", "size", "category"],
    "alicloud:ecs/imageImport:ImageImport": ["imageName"],
    "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer": ["loadBalancerName", "address"],
    "alicloud:nas/fileSystem:FileSystem": ["storageType"],
};

/** A preview-like tree: one line per resource, children under their parent, with the inputs that matter. */
export function renderTree(run: ProgramRun): string {
    const byParent = new Map<string, RecordedResource[]>();
    for (const r of sortResources(run.resources)) {
        const key = r.parent ?? "";
        byParent.set(key, [...(byParent.get(key) ?? []), r]);
    }
    const lines: string[] = [];
    const walk = (parent: string, depth: number) => {
        for (const r of byParent.get(parent) ?? []) {
            const shown = (SUMMARY_INPUTS[r.type] ?? [])
                .filter((k) => r.inputs[k] !== undefined)
                .map((k) => `${k}=${JSON.stringify(maskSecrets(r.inputs[k]))}`);
            if (r.type.startsWith("kubernetes:") && r.custom) {
                const meta = (r.inputs.metadata ?? {}) as Record<string, unknown>;
                shown.push(`${meta.namespace ? `${meta.namespace}/` : ""}${meta.name ?? ""}`);
            }
            const flags = [
                r.protect ? "protect" : "",
                r.retainOnDelete ? "retainOnDelete" : "",
                r.deleteBeforeReplace ? "deleteBeforeReplace" : "",
                r.ignoreChanges.length ? `ignoreChanges=${r.ignoreChanges.join(",")}` : "",
                r.replaceOnChanges.length ? `replaceOnChanges=${r.replaceOnChanges.join(",")}` : "",
                ...Object.entries(r.hooks ?? {}).map(([when, names]) => `${when}=${names.join(",")}`),
            ].filter(Boolean);
            lines.push(
                `${"    ".repeat(depth)}+ ${r.type.split(":").pop()} ${r.name}${shown.length ? `  ${shown.join(" ")}` : ""}${flags.length ? `  [${flags.join(" ")}]` : ""}`,
            );
            walk(r.name, depth + 1);
        }
    };
    walk("", 0);
    return lines.join("\n");
}

/** Renders a stage into `outDir/<stage>/` and returns the run. */
export async function renderStage(stage: string, outDir: string): Promise<ProgramRun> {
    const run = await runProgram(stage);
    const dir = path.join(outDir, stage);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, "ignition"), { recursive: true });
    fs.mkdirSync(path.join(dir, "k8s"), { recursive: true });
    fs.writeFileSync(path.join(dir, "resources.json"), JSON.stringify(renderResources(run), null, 2) + "\n");
    fs.writeFileSync(path.join(dir, "outputs.json"), JSON.stringify(maskSecrets(run.outputs), null, 2) + "\n");
    for (const [node, json] of renderIgnition(run)) {
        fs.writeFileSync(path.join(dir, "ignition", `${node}.ign`), json);
        // The same, readable: every file and unit as plain text at its path on the node.
        for (const [file, text] of ignitionTree(json)) {
            fs.mkdirSync(path.dirname(path.join(dir, "ignition", node, file)), { recursive: true });
            fs.writeFileSync(path.join(dir, "ignition", node, file), text);
        }
    }
    for (const [file, yaml] of renderKubernetesObjects(run)) {
        fs.writeFileSync(path.join(dir, "k8s", file), yaml);
    }
    // Static pods and kubeconfig templates as the controllers receive them (placeholders for every secret).
    for (const [file, content] of Object.entries(renderControlPlaneArtifacts(stageConfigFromFiles(stage)))) {
        fs.mkdirSync(path.dirname(path.join(dir, "controlplane", file)), { recursive: true });
        fs.writeFileSync(path.join(dir, "controlplane", file), content);
    }
    return run;
}

function argument(name: string): string | undefined {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
    const stage = argument("stack") ?? argument("stage");
    if (!stage) {
        console.error("usage: npm run render -- --stack <stage>   (stages: the Pulumi.<stage>.yaml files)");
        process.exit(2);
    }
    const outDir = path.resolve(argument("out") ?? path.join(PROJECT_DIR, "out"));
    try {
        const run = await renderStage(stage, outDir);
        console.log(renderTree(run));
        const ignition = renderIgnition(run);
        const custom = run.resources.filter((r) => r.custom).length;
        console.log(
            `\n${run.resources.length} resources (${custom} cloud/cluster objects, ${run.resources.length - custom} components) for stage ${stage}`,
        );
        for (const [node, json] of ignition) {
            console.log(`  user data ${node}: ${Buffer.byteLength(json)} bytes`);
        }
        console.log(
            `written to ${path.relative(process.cwd(), path.join(outDir, stage)) || "."}/ (resources.json, outputs.json, ignition/ (.ign and a readable tree per node), k8s/, controlplane/)`,
        );
    } catch (err) {
        if (err instanceof StageConfigError) {
            console.error(err.message);
        } else {
            console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
        }
        process.exit(1);
    }
}

if (require.main === module) {
    void main();
}
