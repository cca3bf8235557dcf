/**
 * A stage's control plane booted from the program's render, each controller a network namespace with its planned
 * address: Ignition's files, the files the program copies over SSH (`controllerFiles`), etcd from the rendered
 * environment file, and kube-apiserver, kube-controller-manager and kube-scheduler from the rendered static pods'
 * commands, run as plain processes. Then the bootstrap script the program runs on the first controller, and the
 * readiness script it runs on the bastion.
 *
 * What differs from a controller, and nothing else (each is an explicit, listed override):
 * - paths: every absolute path in a flag or in etcd's environment points into the node's scratch root;
 * - binaries: the images' commands run the binaries built by engine/build.sh (Kubernetes 1.36.3: 1.36.4 is not
 *   served as a Go module; etcd 3.6.14 as in versions.ts);
 * - containers: processes instead of the kubelet's static pods and podman's etcd (no images can be pulled here);
 *   the bootstrap's `podman run <kubectl image>` runs the built kubectl through a stand-in `podman`;
 * - the load balancer: its internal address and the EIP are extra addresses of the first controller.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import {
    controllerFiles,
    controlPlaneSettings,
    renderBootstrapManifests,
    renderBootstrapScript,
    renderReadinessScript,
} from "../../../controlplane";
import { API_SERVER_PORT, LOCAL_API_SERVER_URL } from "../../../layout/cluster";
import { nodePaths, pkiFiles } from "../../../layout/node";
import { certOf, keyOf, renderKubeconfig } from "../../../pki";
import { versions } from "../../../versions";
import { NodeRoot, RenderedStage, nodeRoot } from "./render";
import { Processes, Started } from "./processes";
import { EngineTools } from "./tools";
import { Vpc, VpcHost } from "./vpc";

/** The machine running the suite, as the VPC sees it (the team's machine and the bastion). */
export const RUNNER_ADDRESS = "198.18.0.1";

/** Every flag value or environment value that the suite changes, and why: the test prints and checks these. */
export interface Override {
    readonly where: string;
    readonly rendered: string;
    readonly run: string;
}

/** One controller's etcd member as booted. */
export interface BootedMember {
    readonly hostname: string;
    readonly host: VpcHost;
    readonly node: NodeRoot;
    /** The member's process; a test that stops and starts it again replaces it. */
    etcd: Started;
}

/** One controller as booted. */
export interface BootedController extends BootedMember {
    /** The control-plane processes, by static pod file name. */
    readonly pods: Map<string, Started>;
}

/** A booted control plane. */
export interface BootedControlPlane {
    readonly controllers: BootedController[];
    /** Admin kubeconfig (file) for https://<EIP>:6443: what the stack output gives the team (RBAC-bound group). */
    readonly adminKubeconfig: string;
    /** The break-glass kubeconfig (system:masters) for https://<EIP>:6443, as `npm run break-glass` prints it. */
    readonly breakGlassKubeconfig: string;
    /** Every rendered value changed to run here. */
    readonly overrides: Override[];
    /** Every process, for waits. */
    readonly processes: Started[];
    /** What the bootstrap script printed. */
    readonly bootstrapOutput: string;
    /** The images the stand-in podman was asked to run. */
    readonly podmanImages: string[];
}

/** `--name=value` flags of a command line, in order. */
export function parseFlags(args: readonly string[]): [string, string][] {
    return args.map((arg) => {
        const m = /^--([^=]+)=(.*)$/s.exec(arg);
        if (!m) throw new Error(`not a --flag=value argument: ${arg}`);
        return [m[1], m[2]];
    });
}

/**
 * A value with every absolute node path (also inside comma-separated lists and URLs' paths) moved into `root`; a
 * path already inside it stays as it is.
 */
export function rootPaths(value: string, root: string): string {
    return value
        .split(",")
        .map((part) => (part.startsWith("/") && !part.startsWith(`${root}/`) ? path.join(root, part) : part))
        .join(",");
}

/** Reads a systemd-style environment file (KEY=value lines). */
export function readEnvFile(file: string): Record<string, string> {
    return Object.fromEntries(
        fs
            .readFileSync(file, "utf8")
            .split("\n")
            .filter((line) => /^[A-Z0-9_]+=/.test(line))
            .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
    );
}

/**
 * Static pods restart when their container exits (restartPolicy Always), and etcd's unit has Restart=on-failure:
 * kube-controller-manager, for one, exits if it starts before the API server has its bootstrap RBAC. Restarted as
 * the kubelet would, with a shorter back-off; a process that keeps failing stops the boot with its log.
 */
export const RESTART_LIKE_THE_KUBELET = { attempts: 5, delaySeconds: 1 } as const;

const BINARY_OF: Record<string, keyof EngineTools> = {
    "kube-apiserver": "kube-apiserver",
    "kube-controller-manager": "kube-controller-manager",
    "kube-scheduler": "kube-scheduler",
};

/**
 * A stand-in podman for the scripts the program runs on a controller: `pull` succeeds; `run ... IMAGE ARGS` runs the
 * binary built by engine/build.sh that the image holds: the kubectl image's entrypoint (kubectl ARGS, its
 * /kubeconfig volume mapped back to the host file), or the etcd image's `etcdctl`/`etcdutl` named as the first
 * argument. Every other volume is mounted at its own path, so it is the host's path already. Images go to `imagesLog`.
 */
export function podmanShim(dir: string, tools: Pick<EngineTools, "kubectl" | "etcdctl" | "etcdutl">, imagesLog: string): string {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
        path.join(dir, "podman"),
        `#!/bin/bash
# Stands in for podman on a controller (engine suite): images run the binaries built by engine/build.sh.
set -euo pipefail
case "$1" in
pull) echo "\${@: -1}" >> '${imagesLog}'; exit 0 ;;
run) shift ;;
*) echo "stand-in podman: unexpected command $1" >&2; exit 2 ;;
esac
volume=
while [ $# -gt 0 ]; do
    case "$1" in
    --rm | -i) shift ;;
    --network | --security-opt) shift 2 ;;
    -v) volume=$2; shift 2 ;;
    -*) echo "stand-in podman: unexpected option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
image=$1
echo "$image" >> '${imagesLog}'
shift
case "$image" in
${versions.images.kubectl})
    args=()
    for a in "$@"; do
        if [ "$a" = --kubeconfig=/kubeconfig ]; then a="--kubeconfig=\${volume%%:*}"; fi
        args+=("$a")
    done
    exec '${tools.kubectl}' "\${args[@]}" ;;
${versions.images.etcd})
    command=$1
    shift
    case "$command" in
    etcdctl) exec '${tools.etcdctl}' "$@" ;;
    etcdutl) exec '${tools.etcdutl}' "$@" ;;
    *) echo "stand-in podman: the etcd image has no $command here" >&2; exit 2 ;;
    esac ;;
*) echo "stand-in podman: no binary for image $image" >&2; exit 2 ;;
esac
`,
        { mode: 0o755 },
    );
    return dir;
}

/** The member's environment as rendered (/etc/etcd/etcd.env of its root), every node path moved into the root. */
export function etcdMemberEnv(node: NodeRoot, hostname: string, overrides: Override[]): Record<string, string> {
    const env = readEnvFile(node.at(nodePaths.etcdEnvFile));
    const run: Record<string, string> = {};
    for (const [key, value] of Object.entries(env)) {
        run[key] = rootPaths(value, node.root);
        if (run[key] !== value) overrides.push({ where: `${hostname} etcd.env ${key}`, rendered: value, run: run[key] });
    }
    return run;
}

/** Starts (or starts again) a controller's etcd member from its rendered environment, restarted like a unit. */
export function startEtcd(
    stage: string,
    member: Pick<BootedMember, "hostname" | "host" | "node">,
    processes: Processes,
    tools: EngineTools,
    overrides: Override[] = [],
): Started {
    const env = etcdMemberEnv(member.node, member.hostname, overrides);
    fs.mkdirSync(member.node.at(nodePaths.etcdDataDir), { recursive: true, mode: 0o700 });
    return processes.start(`${stage}-${member.hostname}-etcd`, member.host.etc, tools.etcd, [], env, RESTART_LIKE_THE_KUBELET);
}

/**
 * Every controller of `rendered` as a host of `vpc` with its files (Ignition's and `controllerFiles`, certificates
 * from the program's specs) and its etcd member running from the rendered environment.
 */
export async function startEtcdMembers(
    rendered: RenderedStage,
    vpc: Vpc,
    processes: Processes,
    tools: EngineTools,
    cleanup: string[],
    overrides: Override[],
): Promise<BootedMember[]> {
    const { cfg, plan, material } = rendered;
    const settings = controlPlaneSettings(cfg, plan);
    const members: BootedMember[] = [];
    for (const [i, planned] of plan.controllers.entries()) {
        const node = await nodeRoot(rendered, planned.hostname, cleanup);
        const delivered = controllerFiles(material, settings, i);
        for (const dir of delivered.directories) fs.mkdirSync(node.at(dir.path), { recursive: true, mode: parseInt(dir.mode, 8) });
        for (const file of delivered.files) {
            node.write(file.path, file.content, file.mode);
        }
        const extra = i === 0 ? [plan.apiServerInternalAddress, rendered.apiServerPublicAddress] : [];
        const host = vpc.addHost(`c${i}`, planned.ip, fs.readFileSync(node.at("/etc/hosts"), "utf8"), extra);
        const member = { hostname: planned.hostname, host, node };
        members.push({ ...member, etcd: startEtcd(cfg.stage, member, processes, tools, overrides) });
    }
    return members;
}

/**
 * Boots the control plane of `rendered` in `vpc`: every controller's etcd member and static pods, then the
 * program's bootstrap on the first controller and its readiness check from the runner. Throws, with the logs,
 * if a process refuses its rendered flags or the API does not become ready.
 */
export async function bootControlPlane(
    rendered: RenderedStage,
    vpc: Vpc,
    processes: Processes,
    tools: EngineTools,
    work: string,
    cleanup: string[],
    options: { extraApiserverFlags?: string[] } = {},
): Promise<BootedControlPlane> {
    const { cfg, plan, material } = rendered;
    const overrides: Override[] = [];
    const started: Started[] = [];
    const controllers: BootedController[] = [];

    // etcd: the environment file the program copies to each controller (controllerFiles), paths into the root.
    const members = await startEtcdMembers(rendered, vpc, processes, tools, cleanup, overrides);
    for (const { hostname, host, node, etcd } of members) {
        started.push(etcd);

        // The static pods: their commands, as the kubelet would run them.
        const pods = new Map<string, Started>();
        const manifestDir = node.at(nodePaths.staticPodDir);
        for (const file of fs.readdirSync(manifestDir).sort()) {
            const pod = parse(fs.readFileSync(path.join(manifestDir, file), "utf8"));
            const [command, ...args] = pod.spec.containers[0].command as string[];
            const binary = BINARY_OF[command];
            if (!binary) throw new Error(`${file}: unknown command ${command}`);
            const flags = parseFlags(args).map(([name, value]) => {
                const run = rootPaths(value, node.root);
                if (run !== value) overrides.push({ where: `${hostname} ${file} --${name}`, rendered: value, run });
                return `--${name}=${run}`;
            });
            const extraFlags = command === "kube-apiserver" ? (options.extraApiserverFlags ?? []) : [];
            const proc = processes.start(
                `${cfg.stage}-${hostname}-${command}`,
                host.etc,
                tools[binary],
                [...flags, ...extraFlags],
                {},
                RESTART_LIKE_THE_KUBELET,
            );
            pods.set(file, proc);
            started.push(proc);
        }
        controllers.push({ hostname, host, node, etcd, pods });
    }
    vpc.connectRunner(RUNNER_ADDRESS, [plan.apiServerInternalAddress, rendered.apiServerPublicAddress]);

    // Every API server answers /readyz with the admin certificate (etcd reached over TLS with its client cert).
    const adminCert = path.join(work, "admin.crt");
    const adminKey = path.join(work, "admin.key");
    fs.writeFileSync(adminCert, certOf(material, "admin"));
    fs.writeFileSync(adminKey, keyOf(material, "admin"), { mode: 0o600 });
    for (const c of controllers) {
        await processes.waitFor(
            `kube-apiserver of ${c.hostname} /readyz`,
            () =>
                spawnSync("ip", [
                    "netns",
                    "exec",
                    c.host.netns,
                    "curl",
                    "-sf",
                    "--max-time",
                    "3",
                    "--cacert",
                    c.node.at(`${nodePaths.pkiDir}/ca.crt`),
                    "--cert",
                    adminCert,
                    "--key",
                    adminKey,
                    `https://127.0.0.1:${API_SERVER_PORT}/readyz`,
                ]).status === 0,
            started,
            180000,
        );
    }

    // The bootstrap, as the program runs it on the first controller (over SSH: `sudo bash -s` with the script on stdin).
    const first = controllers[0];
    const imagesLog = path.join(work, "podman-images.log");
    const shim = podmanShim(path.join(work, "podman-shim"), tools, imagesLog);
    // The break-glass kubeconfig the program puts into the script (ClusterPki.breakGlassKubeconfig(LOCAL_API_SERVER_URL)).
    const breakGlass = (server: string) =>
        renderKubeconfig({
            clusterName: cfg.namePrefix,
            userName: "break-glass",
            server,
            caCertPem: certOf(material, "ca"),
            credentials: { clientCertificatePem: certOf(material, "break-glass"), clientKeyPem: keyOf(material, "break-glass") },
        });
    const bootstrapScript = renderBootstrapScript({
        target: `controller ${first.hostname}`,
        manifests: renderBootstrapManifests(),
        markerPath: first.node.at(nodePaths.bootstrapDoneMarker),
        breakGlassKubeconfig: breakGlass(LOCAL_API_SERVER_URL),
        kubectlImage: versions.images.kubectl,
    });
    const runBootstrap = () =>
        spawnSync("ip", ["netns", "exec", first.host.netns, "bash", "-s"], {
            input: bootstrapScript,
            encoding: "utf8",
            env: { ...process.env, PATH: `${shim}:${process.env.PATH}` },
            timeout: 600000,
        });
    const bootstrap = runBootstrap();
    if (bootstrap.status !== 0) {
        throw new Error(`the bootstrap script failed (${bootstrap.status}):\n${bootstrap.stdout}${bootstrap.stderr}`);
    }

    // Readiness, as the program checks it from the bastion: /healthz through the load balancer's address.
    const readiness = spawnSync("bash", ["-s"], {
        input: renderReadinessScript({
            url: `https://${plan.apiServerInternalAddress}:${API_SERVER_PORT}/healthz`,
            caCertPem: certOf(material, "ca"),
            clientCertPem: certOf(material, "healthcheck"),
            clientKeyPem: keyOf(material, "healthcheck"),
            attempts: 30,
            delaySeconds: 2,
        }),
        encoding: "utf8",
        timeout: 120000,
    });
    if (readiness.status !== 0) {
        throw new Error(`the readiness script failed:\n${readiness.stdout}${readiness.stderr}`);
    }

    const adminKubeconfig = path.join(work, "admin.kubeconfig");
    fs.writeFileSync(
        adminKubeconfig,
        renderKubeconfig({
            clusterName: cfg.namePrefix,
            userName: "admin",
            server: `https://${rendered.apiServerPublicAddress}:${API_SERVER_PORT}`,
            caCertPem: certOf(material, "ca"),
            credentials: { clientCertificatePem: certOf(material, "admin"), clientKeyPem: keyOf(material, "admin") },
        }),
        { mode: 0o600 },
    );
    const breakGlassKubeconfig = path.join(work, "break-glass.kubeconfig");
    fs.writeFileSync(breakGlassKubeconfig, breakGlass(`https://${rendered.apiServerPublicAddress}:${API_SERVER_PORT}`), { mode: 0o600 });
    const podmanImages = fs.existsSync(imagesLog) ? fs.readFileSync(imagesLog, "utf8").split("\n").filter(Boolean) : [];
    // A second run is a no-op (the marker), as on a re-run of `pulumi up`.
    const again = runBootstrap();
    const bootstrapOutput = `${bootstrap.stdout}${bootstrap.stderr}\n--- second run ---\n${again.stdout}${again.stderr}`;
    return { controllers, adminKubeconfig, breakGlassKubeconfig, overrides, processes: started, bootstrapOutput, podmanImages };
}

/** Runs the built kubectl against the cluster with `kubeconfig`; returns stdout, throws with stderr. */
export function kubectl(tools: EngineTools, kubeconfig: string, args: readonly string[], input?: string): string {
    return execFileSync(tools.kubectl, [`--kubeconfig=${kubeconfig}`, "--request-timeout=20s", ...args], {
        encoding: "utf8",
        input,
        // The API server's /metrics is several megabytes.
        maxBuffer: 64 * 1024 * 1024,
        stdio: ["pipe", "pipe", "pipe"],
    });
}

/** Like `kubectl`, but returns the status and both outputs instead of throwing. */
export function kubectlAttempt(
    tools: EngineTools,
    kubeconfig: string,
    args: readonly string[],
): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(tools.kubectl, [`--kubeconfig=${kubeconfig}`, "--request-timeout=20s", ...args], { encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A key's raw value in etcd, read with etcdctl and kube-apiserver's own etcd client certificate on the first controller. */
export function etcdValue(cp: BootedControlPlane, key: string): Buffer {
    const c = cp.controllers[0];
    const pki = (file: string) => c.node.at(`${nodePaths.pkiDir}/${file}`);
    return execFileSync(
        "ip",
        [
            ...["netns", "exec", c.host.netns, "etcdctl", "--endpoints", "https://127.0.0.1:2379"],
            ...["--cacert", pki(pkiFiles.etcdCa), "--cert", pki(pkiFiles.etcdClient), "--key", pki(pkiFiles.etcdClientKey)],
            ...["get", key, "--print-value-only"],
        ],
        { env: { ...process.env, ETCDCTL_API: "3" } },
    );
}
