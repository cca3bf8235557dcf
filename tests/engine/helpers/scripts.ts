/**
 * Running a script the program renders on a node, as its SSH command or systemd unit would: `bash -s` in the
 * node's network namespace (its addresses, its /etc/hosts), with stand-ins first on PATH. Asynchronous, so that
 * stand-in servers in the test's own process (the OSS stand-in) keep answering while the script runs.
 */
import { spawn } from "child_process";
import { VpcHost } from "./vpc";

/** What a script did. */
export interface ScriptRun {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs `script` with `args` as `bash -s` on `host`, with `path` before the machine's PATH and `env` added. */
export function runOnHost(
    host: VpcHost,
    script: string,
    args: readonly string[],
    options: { path?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ScriptRun> {
    return new Promise((resolve) => {
        const child = spawn("ip", ["netns", "exec", host.netns, "bash", "-s", "--", ...args], {
            env: {
                ...process.env,
                ...(options.env ?? {}),
                PATH: options.path ? `${options.path}:${process.env.PATH}` : (process.env.PATH ?? ""),
            },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300000);
        child.on("close", (status) => {
            clearTimeout(timer);
            resolve({ status, stdout, stderr });
        });
        child.stdin.end(script);
    });
}
