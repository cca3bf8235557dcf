/**
 * The real tools the engine suite runs: the binaries `engine/build.sh` builds from Go modules (cached outside the
 * work tree), and what this machine must provide (root, network namespaces, Debian's containerd and runc). A missing
 * piece fails the suite with what to install; nothing is skipped.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_DIR } from "../../../tools/stageFiles";

/** The binaries `engine/build.sh core` builds, by name: what the suite runs. */
export interface EngineTools {
    readonly pulumi: string;
    readonly "pulumi-resource-kubernetes": string;
    readonly "kube-apiserver": string;
    readonly "kube-controller-manager": string;
    readonly "kube-scheduler": string;
    readonly kubelet: string;
    readonly kubectl: string;
    readonly etcd: string;
    /** etcd's client and its offline tool, of the server's release (the backup and restore scripts run them). */
    readonly etcdctl: string;
    readonly etcdutl: string;
    readonly testpod: string;
}

/** The binaries `engine/build.sh checkers` builds: what only checks configurations (observabilityTools.test.ts). */
export interface CheckerTools {
    /** The log shipper's components (engine/go/otelcol), for its own `validate`. */
    readonly otelcol: string;
    /** promtool and amtool at the pinned Prometheus and Alertmanager releases. */
    readonly promtool: string;
    readonly amtool: string;
}

const CORE: readonly (keyof EngineTools)[] = [
    "pulumi",
    "pulumi-resource-kubernetes",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kubectl",
    "etcd",
    "etcdctl",
    "etcdutl",
    "testpod",
];

const CHECKERS: readonly (keyof CheckerTools)[] = ["otelcol", "promtool", "amtool"];

/** `name=path` lines (engine/build.sh's stdout) as the named binaries; fails naming any that is missing. */
function binaries<K extends string>(listing: string, names: readonly K[], group: string): Record<K, string> {
    const found = new Map(
        listing
            .split("\n")
            .filter((line) => line.includes("="))
            .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
    );
    const missing = names.filter((name) => !found.has(name) || !fs.existsSync(found.get(name)!));
    if (missing.length > 0) {
        throw new Error(
            `engine/build.sh ${group} did not provide ${missing.join(", ")}; run \`bash engine/build.sh ${group}\` and read its log`,
        );
    }
    return Object.fromEntries(names.map((name) => [name, found.get(name)!])) as Record<K, string>;
}

/** engine/build.sh's listing of a group, built now (seconds once cached). */
function buildGroup(group: string): string {
    return execFileSync("bash", [path.join(PROJECT_DIR, "engine/build.sh"), group], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
    });
}

let cached: EngineTools | undefined;

/**
 * The built binaries. `npm run test:engine` builds them first and names them in ENGINE_TOOLS_FILE; run directly
 * (`npx jest -c jest.engine.config.js`), this runs engine/build.sh itself, which takes seconds once cached.
 */
export function engineTools(): EngineTools {
    if (cached) return cached;
    const listing = process.env.ENGINE_TOOLS_FILE ? fs.readFileSync(process.env.ENGINE_TOOLS_FILE, "utf8") : buildGroup("core");
    cached = binaries(listing, CORE, "core");
    return cached;
}

/**
 * The checkers. `npm run test:engine` builds them in the background while the suite runs (its sequencer runs their
 * test last) and writes the build's exit code to ENGINE_CHECKERS_FILE.status: this waits for it, up to `timeoutMs`,
 * and fails with the build's log if the build failed. Run directly, this runs engine/build.sh itself.
 */
export async function checkerTools(timeoutMs: number): Promise<CheckerTools> {
    const file = process.env.ENGINE_CHECKERS_FILE;
    if (!file) return binaries(buildGroup("checkers"), CHECKERS, "checkers");
    const deadline = Date.now() + timeoutMs;
    while (!fs.existsSync(`${file}.status`)) {
        if (Date.now() > deadline) {
            throw new Error(
                `engine/build.sh checkers did not end within ${timeoutMs / 60000} minutes; its log so far:\n${tail(`${file}.log`)}`,
            );
        }
        await new Promise((resolve) => setTimeout(resolve, 5000));
    }
    const status = fs.readFileSync(`${file}.status`, "utf8").trim();
    if (status !== "0") throw new Error(`engine/build.sh checkers failed (exit ${status}):\n${tail(`${file}.log`)}`);
    return binaries(fs.readFileSync(file, "utf8"), CHECKERS, "checkers");
}

/** The last lines of a log file, or a word that it is missing. */
function tail(file: string): string {
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").slice(-40).join("\n") : `(no log at ${file})`;
}

/** Debian packages the suite drives, by command. */
const MACHINE_TOOLS: Record<string, string> = {
    ip: "iproute2",
    containerd: "containerd",
    ctr: "containerd",
    runc: "runc",
    curl: "curl",
    openssl: "openssl",
    // Reads Secrets' raw values from etcd (3.4's etcdctl speaks etcd 3.6's v3 API).
    etcdctl: "etcd-client",
    tar: "tar",
    bash: "bash",
    jq: "jq",
    sha256sum: "coreutils",
};

/**
 * Fails unless the suite can run here: root (the kubelet, containerd and network namespaces need it) and the
 * Debian tools. `npm run test:engine` installs the tools with apt-get when it runs as root.
 */
export function requireMachine(): void {
    const problems: string[] = [];
    if (process.getuid?.() !== 0) {
        problems.push("the engine suite must run as root (kubelet, containerd and network namespaces need it)");
    }
    const missing = Object.keys(MACHINE_TOOLS).filter((tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0);
    if (missing.length > 0) {
        const packages = [...new Set(missing.map((t) => MACHINE_TOOLS[t]))].join(" ");
        problems.push(`missing ${missing.join(", ")}: apt-get install -y ${packages}`);
    }
    if (problems.length > 0) {
        throw new Error(`the engine suite cannot run on this machine: ${problems.join("; ")}`);
    }
}
