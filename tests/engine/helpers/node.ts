/**
 * A worker (or edge) node joining for real: its network namespace with the node's rendered /etc/hosts, Debian's
 * containerd started with the node's rendered config, and the kubelet started with the rendered unit's flags and
 * KubeletConfiguration after the program's join files (CA, bootstrap kubeconfig) have arrived.
 *
 * What this machine forces, and nothing else, is overridden (the test lists each one):
 * - paths: every node path points into the node's scratch root (the kubelet also gets --root-dir there);
 * - cgroups: this VM has cgroup v1 and no systemd, so `failCgroupV1: false`, `cgroupDriver: cgroupfs` and
 *   containerd's `SystemdCgroup = false`;
 * - containerd: `restrict_oom_score_adj = true` (the process lacks CAP_SYS_RESOURCE) and its own root, state
 *   and socket in the scratch root;
 * - images: the pause image is the offline `testpod` image imported under the rendered pause reference.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import {
    NodeFile,
    joinFiles,
    joinKubeconfig,
    registryFiles,
    registrySettings,
    renderJoinRequestScript,
    splitJoinRequests,
} from "../../../controlplane";
import { cidr, nthAddress } from "../../../config/cidr";
import { certificateRequestProblems, kubeletClientSpec, kubeletServingSpec } from "../../../pki";
import { signRequestWithOpenssl } from "../../pki/helpers/openssl";
import { nodePaths } from "../../../layout/node";
import { versions } from "../../../versions";
import { BootedControlPlane, Override, kubectlAttempt, parseFlags, rootPaths } from "./controlPlane";
import { ociArchive } from "./image";
import { Processes, Started } from "./processes";
import { NodeRoot, RenderedStage, nodeRoot } from "./render";
import { EngineTools } from "./tools";
import { Vpc, VpcHost } from "./vpc";

/** The image of the probe pod that the test puts into the node's static pod directory. */
export const TESTPOD_IMAGE = "engine.local/testpod:1";

/** A joined node's processes and files. */
export interface JoiningNode {
    readonly node: NodeRoot;
    readonly host: VpcHost;
    readonly containerd: Started;
    readonly kubelet: Started;
    /** containerd's socket. */
    readonly socket: string;
    readonly overrides: Override[];
    /** The kubelet's client certificate and key (PEM, one file), once it has one. */
    readonly clientCertificate: string;
}

/** The ExecStart of a unit Ignition wrote, as argv (continuation lines joined). */
export function unitExecStart(unitFile: string): string[] {
    const text = fs.readFileSync(unitFile, "utf8").replace(/\\\n/g, " ");
    const line = text.split("\n").find((l) => l.startsWith("ExecStart="));
    if (!line) throw new Error(`${unitFile} has no ExecStart`);
    return line.slice("ExecStart=".length).trim().split(/\s+/);
}

/** Replaces `from` by `to` in `text`, failing if `from` is not there exactly once (the render changed). */
function replaceOnce(text: string, from: string, to: string, file: string): string {
    const count = text.split(from).length - 1;
    if (count !== 1)
        throw new Error(`${file}: expected "${from}" once, found it ${count} times (the rendered config changed; update the engine suite)`);
    return text.replace(from, to);
}

/** Starts the node's containerd from its rendered config. */
function startContainerd(
    node: NodeRoot,
    host: VpcHost,
    processes: Processes,
    work: string,
    overrides: Override[],
): { containerd: Started; socket: string } {
    const file = "/etc/containerd/config.toml";
    const rendered = fs.readFileSync(node.at(file), "utf8");
    const socket = node.at("/run/containerd/containerd.sock");
    const cri = '[plugins."io.containerd.grpc.v1.cri"]';
    let config = rendered;
    const change = (from: string, to: string, why: string) => {
        config = replaceOnce(config, from, to, file);
        overrides.push({ where: `${node.name} ${file} (${why})`, rendered: from, run: to });
    };
    change("version = 2\n", `version = 2\nroot = "${node.at("/var/lib/containerd")}"\nstate = "${node.at("/run/containerd")}"\n`, "paths");
    change('address = "/run/containerd/containerd.sock"', `address = "${socket}"`, "paths");
    change("SystemdCgroup = true", "SystemdCgroup = false", "cgroup v1, no systemd");
    change(`${cri}\n`, `${cri}\nrestrict_oom_score_adj = true\n`, "no CAP_SYS_RESOURCE");
    change(`bin_dir = "${nodePaths.cniBinDir}"`, `bin_dir = "${node.at(nodePaths.cniBinDir)}"`, "paths");
    change(`conf_dir = "${nodePaths.cniConfDir}"`, `conf_dir = "${node.at(nodePaths.cniConfDir)}"`, "paths");
    change(`config_path = "${nodePaths.containerdHostsDir}"`, `config_path = "${node.at(nodePaths.containerdHostsDir)}"`, "paths");
    config += `[plugins."io.containerd.internal.v1.opt"]\npath = "${node.at("/opt/containerd")}"\n`;
    const configFile = path.join(work, `${node.name}-containerd.toml`);
    fs.writeFileSync(configFile, config);
    const containerd = processes.start(`${node.name}-containerd`, host.mounts, "containerd", ["--config", configFile]);
    return { containerd, socket };
}

function ctr(socket: string, args: string[]): string {
    return execFileSync("ctr", ["--address", socket, "--namespace", "k8s.io", ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
    });
}

/**
 * Lays the join files into the node's root, starts containerd and the kubelet with the rendered settings, and puts
 * a static probe pod (answering `message` on 127.0.0.1:18080) into the node's static pod directory. On a
 * controller the kubelet also finds the control plane's static pods, whose images it cannot pull here (the
 * processes of helpers/controlPlane.ts stand in for them).
 */
export async function joinNode(
    node: NodeRoot,
    host: VpcHost,
    join: readonly NodeFile[] | undefined,
    processes: Processes,
    tools: EngineTools,
    work: string,
    message: string,
    options: { extraKubeletConfig?: Record<string, unknown>; standInCni?: boolean } = {},
): Promise<JoiningNode> {
    const overrides: Override[] = [];
    if (options.standInCni) {
        // flannel's DaemonSet writes the node's CNI config on a real cluster; its images cannot run here. With a
        // config in place containerd reports the network ready and the Node turns Ready (only host-network pods run).
        const file = `${nodePaths.cniConfDir}/10-engine-stand-in.conflist`;
        node.write(file, JSON.stringify({ cniVersion: "1.0.0", name: "engine", plugins: [{ type: "bridge" }] }), "0644");
        overrides.push({
            where: `${node.name} ${file} (CNI config: stand-in for flannel's)`,
            rendered: "(written by flannel)",
            run: "a bridge config",
        });
    }
    // Workers and edge nodes: the program's join files (registry mirrors, then `joinFiles`), in order. Controllers (join
    // undefined) got them with their control-plane files.
    for (const file of join ?? []) node.write(file.path, file.content, file.mode);

    const started = startContainerd(node, host, processes, work, overrides);
    const socket = started.socket;
    await processes.waitFor(`containerd of ${node.name}`, () => fs.existsSync(socket), [started.containerd], 60000, 500);
    await processes.waitFor(
        `containerd of ${node.name} answers`,
        () => {
            try {
                ctr(socket, ["version"]);
                return true;
            } catch {
                return false;
            }
        },
        [started.containerd],
        60000,
        500,
    );
    // The offline image, also under the rendered pause reference (containerd's sandbox image).
    ctr(socket, ["images", "import", ociArchive(tools.testpod, TESTPOD_IMAGE, path.join(work, `${node.name}-image`))]);
    ctr(socket, ["images", "tag", "--force", TESTPOD_IMAGE, versions.images.pause]);

    // The KubeletConfiguration as rendered, with what this machine forces.
    const configPath = nodePaths.kubeletConfig;
    const config = parse(fs.readFileSync(node.at(configPath), "utf8")) as Record<string, any>;
    const set = (key: string, value: unknown, why: string) => {
        overrides.push({
            where: `${node.name} ${configPath} ${key} (${why})`,
            rendered: JSON.stringify(getPath(config, key)) ?? "(unset)",
            run: JSON.stringify(value),
        });
        setPath(config, key, value);
    };
    set("authentication.x509.clientCAFile", node.at(config.authentication.x509.clientCAFile), "paths");
    set("tlsCertFile", node.at(config.tlsCertFile), "paths");
    set("tlsPrivateKeyFile", node.at(config.tlsPrivateKeyFile), "paths");
    set("staticPodPath", node.at(config.staticPodPath), "paths");
    set("volumePluginDir", node.at(config.volumePluginDir), "paths");
    set("resolvConf", node.at(config.resolvConf), "paths");
    set("containerRuntimeEndpoint", `unix://${socket}`, "paths");
    set("cgroupDriver", "cgroupfs", "no systemd here");
    set("failCgroupV1", false, "this VM has cgroup v1");
    for (const [key, value] of Object.entries(options.extraKubeletConfig ?? {})) set(key, value, "test case");
    node.write(config.resolvConf.slice(node.root.length), "nameserver 127.0.0.1\n", "0644");
    fs.mkdirSync(config.staticPodPath, { recursive: true });
    fs.mkdirSync(config.volumePluginDir, { recursive: true });
    const engineConfig = path.join(work, `${node.name}-kubelet.yaml`);
    fs.writeFileSync(engineConfig, stringify(config));

    // The rendered unit's command line, with the same path treatment.
    const [binary, ...args] = unitExecStart(node.at("/etc/systemd/system/kubelet.service"));
    if (binary !== nodePaths.kubeletBinary) throw new Error(`kubelet.service runs ${binary}, not ${nodePaths.kubeletBinary}`);
    const flags = parseFlags(args).map(([name, value]) => {
        const run = name === "config" ? engineConfig : rootPaths(value, node.root);
        const why = name === "config" ? " (the rendered KubeletConfiguration with the settings above)" : "";
        if (run !== value) overrides.push({ where: `${node.name} kubelet.service --${name}${why}`, rendered: value, run });
        return `--${name}=${run}`;
    });
    // The kubelet's state and certificates default to /var/lib/kubelet: into the root too. (Its device-plugin socket
    // directory, /var/lib/kubelet/device-plugins, is a constant of the kubelet and stays on the machine.)
    const rootDir = node.at("/var/lib/kubelet");
    const certDir = node.at("/var/lib/kubelet/pki");
    overrides.push({ where: `${node.name} kubelet.service --root-dir (paths)`, rendered: "(default /var/lib/kubelet)", run: rootDir });
    overrides.push({ where: `${node.name} kubelet.service --cert-dir (paths)`, rendered: "(default /var/lib/kubelet/pki)", run: certDir });

    fs.writeFileSync(
        path.join(config.staticPodPath, "engine-probe.yaml"),
        stringify({
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "engine-probe", namespace: "kube-system" },
            spec: {
                hostNetwork: true,
                containers: [
                    {
                        name: "probe",
                        image: TESTPOD_IMAGE,
                        imagePullPolicy: "Never",
                        args: ["-listen", "127.0.0.1:18080", "-message", message],
                    },
                ],
            },
        }),
    );
    const kubelet = processes.start(`${node.name}-kubelet`, host.mounts, tools.kubelet, [
        ...flags,
        `--root-dir=${rootDir}`,
        `--cert-dir=${certDir}`,
    ]);
    return {
        node,
        host,
        socket,
        containerd: started.containerd,
        kubelet,
        overrides,
        clientCertificate: path.join(certDir, "kubelet-client-current.pem"),
    };
}

function getPath(obj: Record<string, unknown>, key: string): unknown {
    return key.split(".").reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), obj);
}

function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
    const parts = key.split(".");
    let o = obj;
    for (const k of parts.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
    o[parts[parts.length - 1]] = value;
}

/**
 * Stops a node: the kubelet, then every container (containerd leaves them running when it stops, as it should on a
 * node), then containerd. Mounts the kubelet and containerd made under the node's root go with `unmountUnder`.
 */
export async function stopNode(node: JoiningNode, processes: Processes): Promise<void> {
    await processes.stop(node.kubelet);
    try {
        for (const task of ctr(node.socket, ["tasks", "ls", "--quiet"]).split("\n").filter(Boolean)) {
            try {
                ctr(node.socket, ["tasks", "kill", "--all", "--signal", "SIGKILL", task]);
            } catch {
                // already stopped
            }
        }
    } catch {
        // containerd is gone; the shims are killed below
    }
    await processes.stop(node.containerd);
    try {
        execFileSync("pkill", ["-KILL", "-f", `containerd-shim-runc-v2 .*-address ${node.socket}`]);
    } catch {
        // none left
    }
}

/** Unmounts (lazily, deepest first) every mount below `dir`: the kubelet's and containerd's in a node's root. */
export function unmountUnder(dir: string): void {
    const mounts = fs
        .readFileSync("/proc/self/mounts", "utf8")
        .split("\n")
        .map((line) => line.split(" ")[1])
        .filter((point) => point !== undefined && (point === dir || point.startsWith(`${dir}/`)))
        .sort((a, b) => b.length - a.length);
    for (const point of mounts) {
        try {
            execFileSync("umount", ["-l", point]);
        } catch {
            // already gone with its parent
        }
    }
}

/** A worker's join as the program does it, and what it took. */
export interface WorkerJoin {
    readonly files: NodeFile[];
    readonly overrides: Override[];
    /** The two requests the node's script printed (join, serving). */
    readonly requests: { readonly join: string; readonly serving: string };
}

/**
 * A worker's (or edge node's) join, as NodePool runs it: the program's join script runs on the node (bash, keys into
 * the node's root), its two requests are checked by the program's own check and signed as ClusterPki.signNodeRequest
 * signs them (openssl with the cluster CA, lifetimes from the stage's pki settings), and the join files are the registry
 * mirrors' (`registryFiles`) then `joinFiles`/`joinKubeconfig`'s. The only difference, listed: the kubeconfig names the
 * key's path in the node's root.
 */
export function joinWorker(rendered: RenderedStage, node: NodeRoot, host: VpcHost, work: string): WorkerJoin {
    const paths = { joinKey: node.at(nodePaths.joinKey), kubeletServingKey: node.at(nodePaths.kubeletServingKey) };
    const script = renderJoinRequestScript({ target: `worker ${node.name}`, hostname: node.name, ip: host.address, paths });
    const stdout = execFileSync("bash", ["-s"], { input: script, encoding: "utf8" });
    const requests = splitJoinRequests(stdout);
    const clientSpec = kubeletClientSpec(node.name);
    const servingSpec = kubeletServingSpec(node.name, host.address);
    const problems = [
        ...certificateRequestProblems("join request", requests.join, clientSpec),
        ...certificateRequestProblems("serving request", requests.serving, servingSpec),
    ];
    if (problems.length > 0) throw new Error(`the program would refuse to sign: ${problems.join("; ")}`);
    const sign = (pem: string, spec: typeof clientSpec, name: string) =>
        signRequestWithOpenssl(pem, { ...spec, name, lifetime: "leaf" }, rendered.ca, rendered.cfg.pki, work);
    const caCertPem = fs.readFileSync(rendered.ca.cert, "utf8");
    const files = [
        ...registryFiles(registrySettings(rendered.cfg), false),
        ...joinFiles({
            caCertPem,
            servingCertPem: sign(requests.serving, servingSpec, `${node.name}-kubelet-serving`),
            kubeconfig: joinKubeconfig({
                clusterName: rendered.cfg.namePrefix,
                hostname: node.name,
                server: rendered.plan.apiServerUrl,
                caCertPem,
                credentials: {
                    clientCertificatePem: sign(requests.join, clientSpec, `${node.name}-kubelet-client`),
                    clientKeyFile: paths.joinKey,
                },
            }),
        }),
    ];
    const overrides = [{ where: `${node.name} join kubeconfig client-key (paths)`, rendered: nodePaths.joinKey, run: paths.joinKey }];
    return { files, overrides, requests };
}

/** The end of an engine test file: every process, the VPC's namespaces, and the scratch directories (mounts first). */
export async function tearDown(processes: Processes | undefined, vpc: { destroy(): void } | undefined, cleanup: string[]): Promise<void> {
    await processes?.stopAll();
    vpc?.destroy();
    for (const dir of cleanup.reverse()) {
        unmountUnder(dir);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/**
 * The stage's first worker (or edge node, if it has no workers) joining the booted control plane as NodePool joins
 * it: its own host (the 10th address of its vSwitch: workers take automatic addresses from the bottom), the
 * program's join (`joinWorker`). Waits until its Node is registered.
 */
export async function joinFirstWorker(
    rendered: RenderedStage,
    vpc: Vpc,
    cp: BootedControlPlane,
    processes: Processes,
    tools: EngineTools,
    work: string,
    cleanup: string[],
    probeMessage: string,
): Promise<{ worker: JoiningNode; name: string; join: WorkerJoin }> {
    const planned = rendered.plan.workers[0] ?? rendered.plan.edge[0];
    const node = await nodeRoot(rendered, planned.hostname, cleanup);
    const vswitch = cidr(rendered.cfg.network.nodeVswitches[planned.vswitchIndex].cidr);
    const host = vpc.addHost("w0", nthAddress(vswitch, 10), fs.readFileSync(node.at("/etc/hosts"), "utf8"));
    // As NodePool joins it: the node's own keys and requests, checked and signed for exactly its name and address; the
    // registry mirrors with the join files.
    const join = joinWorker(rendered, node, host, work);
    const worker = await joinNode(node, host, join.files, processes, tools, work, probeMessage);
    await processes.waitFor(
        `node ${planned.hostname} registered`,
        () => kubectlAttempt(tools, cp.adminKubeconfig, ["get", "node", planned.hostname]).status === 0,
        [...cp.processes, worker.containerd, worker.kubelet],
        240000,
        2000,
    );
    return { worker, name: planned.hostname, join };
}
