/**
 * A run of the suite that dies without its cleanup (killed, out of memory, the machine stopped) leaves its network
 * namespaces, veths and the runner's routes to the stage's fixed addresses behind. The next run must take them
 * over, not fail on "File exists" (as CI once did after a killed run on the same kernel).
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { Vpc } from "./helpers/vpc";
import { requireMachine } from "./helpers/tools";

const target = "10.251.0.5";
const hosts = `127.0.0.1 localhost\n${target} c0\n`;

function namespaces(): string[] {
    return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
        .split("\n")
        .map((line) => line.split(" ")[0])
        .filter(Boolean);
}

test("a VPC left by a killed run is swept, and its routes are taken over by the next run", () => {
    requireMachine();
    const stale = `stl${process.pid % 1000}`;
    const fresh = `fre${process.pid % 1000}`;
    // A run that builds a VPC with a runner route, then dies by SIGKILL before any cleanup.
    const killed = `
        const { Vpc } = require(${JSON.stringify(path.join(__dirname, "helpers", "vpc"))});
        const vpc = new Vpc(${JSON.stringify(stale)}, 24);
        vpc.addHost("c0", ${JSON.stringify(target)}, ${JSON.stringify(hosts)});
        vpc.connectRunner("198.51.100.251", [${JSON.stringify(target)}]);
        process.kill(process.pid, "SIGKILL");
    `;
    try {
        execFileSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", killed], { stdio: "pipe" });
    } catch {
        // killed, as intended
    }
    expect(namespaces()).toEqual(expect.arrayContaining([`${stale}-vpc`, `${stale}-c0`]));
    expect(execFileSync("ip", ["route", "get", target], { encoding: "utf8" })).toContain(`dev ${stale}v1`);

    const vpc = new Vpc(fresh, 24);
    try {
        vpc.addHost("c0", target, hosts);
        vpc.connectRunner("198.51.100.252", [target]);
        expect(namespaces()).not.toEqual(expect.arrayContaining([`${stale}-vpc`]));
        expect(namespaces()).not.toEqual(expect.arrayContaining([`${stale}-c0`]));
        expect(execFileSync("ip", ["route", "get", target], { encoding: "utf8" })).toContain(`dev ${fresh}v1`);
    } finally {
        vpc.destroy();
    }
    expect(namespaces().filter((ns) => ns.startsWith(fresh))).toEqual([]);
});
