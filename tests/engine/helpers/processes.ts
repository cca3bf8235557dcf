/**
 * Long-running processes of the engine suite (etcd, the control plane, containerd, the kubelet), each in a
 * network namespace standing for one host, logging to a file; and bounded waits that fail with the logs of the
 * process that died or did not get there.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** One started process. */
export interface Started {
    readonly name: string;
    /** The running child (a new one after each restart). */
    child: ChildProcess;
    readonly log: string;
    /** How many times it was restarted after exiting. */
    restarts: number;
    /** Set once the process has exited for good: its last code or signal. */
    exit?: string;
}

/** What happens when a process exits: nothing (the default), or a restart, as the kubelet does for a static pod. */
export interface RestartPolicy {
    /** Restarts before giving up (the process then counts as stopped). */
    readonly attempts: number;
    /** Seconds before the first restart; doubled each time, as the kubelet's back-off. */
    readonly delaySeconds: number;
}

/**
 * Where a process runs: this host (`undefined`), or a node's network namespace, either with the node's own /etc
 * files (`ip netns exec`, which also mounts a fresh /sys and so hides the host's cgroup mounts) or with this host's
 * mounts (`nsenter --net`: what containerd and the kubelet need, which manage cgroups; their lookups, such as an
 * image's registry, use this host's resolv.conf, whose servers the node's namespace makes unreachable: see Vpc.addHost).
 */
export type Where = undefined | { readonly netns: string; readonly mounts: "node-etc" | "host" };

/** The argv that starts `command args` in `where`. */
export function launcherOf(where: Where, command: string, args: readonly string[]): string[] {
    if (!where) return [command, ...args];
    return where.mounts === "node-etc"
        ? ["ip", "netns", "exec", where.netns, command, ...args]
        : ["nsenter", `--net=/run/netns/${where.netns}`, command, ...args];
}

/** The processes of one test file; `stopAll` in afterAll. */
export class Processes {
    private readonly started: Started[] = [];
    private readonly stopping = new Set<Started>();

    constructor(private readonly logDir: string) {
        fs.mkdirSync(logDir, { recursive: true });
    }

    /**
     * Starts `command args` in `where` (see `Where`), with exactly `env` (plus PATH), stdout and stderr appended to
     * `<logDir>/<name>.log`, restarted on exit if `restart` says so.
     */
    start(
        name: string,
        where: Where,
        command: string,
        args: readonly string[],
        env: Record<string, string> = {},
        restart?: RestartPolicy,
    ): Started {
        const log = path.join(this.logDir, `${name}.log`);
        const [launcher, ...launch] = launcherOf(where, command, args);
        const spawnOnce = () => {
            const fd = fs.openSync(log, "a");
            const child = spawn(launcher, launch, {
                env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", ...env },
                stdio: ["ignore", fd, fd],
                detached: true,
            });
            fs.closeSync(fd);
            return child;
        };
        const started: Started = { name, child: spawnOnce(), log, restarts: 0 };
        const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
            const how = signal ? `signal ${signal}` : `exit code ${code}`;
            if (this.stopping.has(started) || !restart || started.restarts >= restart.attempts) {
                started.exit = how;
                return;
            }
            const delay = restart.delaySeconds * 2 ** started.restarts * 1000;
            started.restarts += 1;
            fs.appendFileSync(
                log,
                `--- engine suite: ${name} ended (${how}); restart ${started.restarts} of ${restart.attempts} in ${delay / 1000} s ---\n`,
            );
            setTimeout(() => {
                if (this.stopping.has(started)) {
                    started.exit = how;
                    return;
                }
                started.child = spawnOnce();
                started.child.on("exit", onExit);
            }, delay);
        };
        started.child.on("exit", onExit);
        this.started.push(started);
        return started;
    }

    /** The last lines of a process's log. */
    tail(started: Started, lines = 25): string {
        const text = fs.existsSync(started.log) ? fs.readFileSync(started.log, "utf8") : "";
        return text.split("\n").slice(-lines).join("\n");
    }

    /** Stops one process (SIGTERM, then SIGKILL after `graceMs`) and waits for it. */
    async stop(started: Started, graceMs = 10000): Promise<void> {
        this.stopping.add(started);
        const child = started.child;
        if (started.exit !== undefined || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
        const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        signalGroup(child.pid, "SIGTERM");
        const timer = setTimeout(() => signalGroup(child.pid!, "SIGKILL"), graceMs);
        await gone;
        clearTimeout(timer);
    }

    /** Stops every process, newest first. */
    async stopAll(): Promise<void> {
        for (const started of [...this.started].reverse()) {
            await this.stop(started);
        }
    }

    /**
     * Polls `check` every `intervalMs` until it returns true. Fails at once when one of `watched` exits, and after
     * `timeoutMs`, naming `what` and showing the watched processes' logs.
     */
    async waitFor(
        what: string,
        check: () => boolean | Promise<boolean>,
        watched: readonly Started[],
        timeoutMs = 120000,
        intervalMs = 1000,
    ): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const dead = watched.find((s) => s.exit !== undefined);
            if (dead) {
                const restarts = dead.restarts > 0 ? ` after ${dead.restarts} restarts` : "";
                throw new Error(`${what}: ${dead.name} stopped (${dead.exit}${restarts}) first; its log ends:\n${this.tail(dead)}`);
            }
            if (await check()) return;
            if (Date.now() > deadline) {
                const logs = watched.map((s) => `--- ${s.name} ---\n${this.tail(s, 12)}`).join("\n");
                throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s\n${logs}`);
            }
            await new Promise((resolve) => setTimeout(resolve, intervalMs));
        }
    }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
    try {
        process.kill(-pid, signal);
    } catch {
        // already gone
    }
}
