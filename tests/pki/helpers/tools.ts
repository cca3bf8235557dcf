/** Outside tools the real-tool tests need: they fail (never skip) when one is missing, naming how to get it. */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Where each tool comes from, for the failure message. */
const SOURCES: Record<string, string> = {
    openssl: "apt-get install -y openssl",
    etcd: "apt-get install -y etcd-server",
    etcdctl: "apt-get install -y etcd-client",
    curl: "apt-get install -y curl",
    skopeo: "apt-get install -y skopeo",
    "docker-registry": "apt-get install -y docker-registry",
    podman: "apt-get install -y podman",
    containerd: "apt-get install -y containerd",
    ctr: "apt-get install -y containerd",
    unshare: "apt-get install -y util-linux",
    bash: "apt-get install -y bash",
    kubectl: "install kubectl (https://kubernetes.io/docs/tasks/tools/; apt-get install -y kubectl from pkgs.k8s.io)",
};

/** Throws (so the test fails) if a tool is not on PATH. */
export function requireTools(...tools: string[]): void {
    const missing = tools.filter((tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0);
    if (missing.length > 0) {
        throw new Error(`missing tools: ${missing.map((t) => `${t} (${SOURCES[t] ?? "install it"})`).join(", ")}`);
    }
}

/** Runs a command; returns its stdout, throws with its stderr on failure. */
export function run(cmd: string, args: readonly string[], options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): string {
    return execFileSync(cmd, args as string[], {
        cwd: options.cwd,
        input: options.input,
        env: options.env,
        encoding: "utf8",
        stdio: ["pipe", "pipe", "pipe"],
    });
}

/** Runs a command that may fail; returns its status and output. */
export function attempt(
    cmd: string,
    args: readonly string[],
    options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
) {
    const r = spawnSync(cmd, args as string[], {
        cwd: options.cwd,
        input: options.input,
        env: options.env,
        encoding: "utf8",
        timeout: options.timeoutMs ?? 60000,
    });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

const scratchDirs: string[] = [];

/** A fresh scratch directory, removed by `removeScratchDirs` (test keys are not left lying around). */
export function scratchDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    scratchDirs.push(dir);
    return dir;
}

/** Removes every scratch directory of this test file; call from afterAll. */
export function removeScratchDirs(): void {
    for (const dir of scratchDirs.splice(0)) {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
