/**
 * The engine suite runs the rendered flags and configs on the real binaries, so a flag or field they refuse fails
 * it. Shown here with a deliberate misspelling on top of the dev stage's render: the process refuses to start and
 * the suite's wait fails with the binary's own message.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { STATIC_POD_FILES } from "../../controlplane";
import { nodePaths } from "../../layout/node";
import { parseFlags, rootPaths } from "./helpers/controlPlane";
import { unitExecStart } from "./helpers/node";
import { Processes } from "./helpers/processes";
import { nodeRoot, renderStage, RenderedStage } from "./helpers/render";
import { EngineTools, engineTools, requireMachine } from "./helpers/tools";

const cleanup: string[] = [];
let tools: EngineTools;
let rendered: RenderedStage;
let work: string;
let processes: Processes;

beforeAll(() => {
    requireMachine();
    tools = engineTools();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "engine-refusals-"));
    cleanup.push(work);
    processes = new Processes(path.join(work, "logs"));
    rendered = renderStage("dev", work);
}, 600000);

afterAll(async () => {
    await processes.stopAll();
    for (const dir of cleanup) fs.rmSync(dir, { recursive: true, force: true });
});

test("a misspelt kube-apiserver flag stops the control plane's boot with the binary's message", async () => {
    const controller = rendered.plan.controllers[0].hostname;
    const node = await nodeRoot(rendered, controller, cleanup);
    const { controllerFiles, controlPlaneSettings } = await import("../../controlplane");
    const pod = controllerFiles(rendered.material, controlPlaneSettings(rendered.cfg, rendered.plan), 0).files.find(
        (f) => f.path === `${nodePaths.staticPodDir}/${STATIC_POD_FILES.apiserver}`,
    )!;
    const [, ...args] = parse(pod.content).spec.containers[0].command as string[];
    const flags = parseFlags(args).map(([name, value]) => `--${name}=${rootPaths(value, node.root)}`);
    const apiserver = processes.start("apiserver-misspelt", undefined, tools["kube-apiserver"], [
        ...flags,
        "--etcd-servres=https://127.0.0.1:2379",
    ]);
    await expect(processes.waitFor("kube-apiserver ready", () => false, [apiserver], 60000)).rejects.toThrow(
        /stopped \(exit code 1\)[\s\S]*unknown flag: --etcd-servres/,
    );
});

test("a misspelt KubeletConfiguration field stops the node's join with the kubelet's message", async () => {
    const planned = rendered.plan.workers[0];
    const node = await nodeRoot(rendered, planned.hostname, cleanup);
    const config = parse(fs.readFileSync(node.at(nodePaths.kubeletConfig), "utf8"));
    const bad = path.join(work, "kubelet-misspelt.yaml");
    fs.writeFileSync(bad, stringify({ ...config, rotateCertificatez: true }));
    const [, ...args] = unitExecStart(node.at("/etc/systemd/system/kubelet.service"));
    const flags = parseFlags(args).map(([name, value]) => `--${name}=${name === "config" ? bad : rootPaths(value, node.root)}`);
    const kubelet = processes.start("kubelet-misspelt", undefined, tools.kubelet, [...flags, `--root-dir=${node.at("/var/lib/kubelet")}`]);
    await expect(processes.waitFor("kubelet running", () => false, [kubelet], 60000)).rejects.toThrow(
        /stopped \(exit code 1\)[\s\S]*rotateCertificatez/,
    );
});
