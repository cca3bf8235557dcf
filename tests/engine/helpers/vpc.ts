/**
 * A stage's VPC on one machine: every node is a network namespace holding the node's planned private address on
 * an `eth0` bridged to the others (one layer-2 segment standing for the VPC's vSwitches), with the node's rendered
 * /etc/hosts (`ip netns exec` shows /etc/netns/<ns>/hosts as /etc/hosts). So etcd, the control plane and the
 * kubelet run with the addresses and names the program rendered, not loopback stand-ins.
 *
 * The machine running the suite stands for the team's machine and the bastion: it gets routes to exactly the
 * addresses it may reach (the API's EIP and internal load-balancer address), through one veth into the bridge.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import { Where } from "./processes";

function ip(...args: string[]): void {
    execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

function tryIp(...args: string[]): void {
    try {
        ip(...args);
    } catch {
        // cleanup of something that may not exist
    }
}

/** A host of the VPC. */
export interface VpcHost {
    /** Its network namespace (`ip netns exec <netns>`). */
    readonly netns: string;
    readonly address: string;
    /** Where a process runs as on this host with its /etc (hosts, resolv.conf). */
    readonly etc: Where;
    /** Where a process runs as on this host with the machine's mounts (cgroups; for containerd and the kubelet). */
    readonly mounts: Where;
}

/**
 * Where each namespace of this suite is recorded with the pid of the run that made it (not in /etc/netns/<ns>/,
 * whose every file `ip netns exec` mounts over /etc).
 */
const OWNERS = "/run/coreos-platform-engine/netns";

/** Deletes namespace `ns` with its hosts files and its owner record (whatever of them exists). */
function removeNamespace(ns: string): void {
    tryIp("netns", "del", ns);
    fs.rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    fs.rmSync(`${OWNERS}/${ns}`, { force: true });
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
}

/**
 * Removes what a run that died without its cleanup (killed, out of memory, machine stopped) left behind: its
 * namespaces, their processes and, with them, its veths and the routes through them. Only namespaces marked as
 * this suite's by a process that is gone are touched.
 */
export function sweepStaleVpcs(): void {
    let names: string[];
    try {
        names = fs.readdirSync(OWNERS);
    } catch {
        return;
    }
    for (const ns of names) {
        let owner: number;
        try {
            owner = Number(fs.readFileSync(`${OWNERS}/${ns}`, "utf8").trim());
        } catch {
            continue;
        }
        if (!Number.isInteger(owner) || owner === process.pid || alive(owner)) continue;
        try {
            const pids = execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
            for (const pid of pids.split(/\s+/).filter(Boolean)) {
                try {
                    process.kill(Number(pid), "SIGKILL");
                } catch {
                    // already gone
                }
            }
        } catch {
            // the namespace itself is gone; its directory is removed below
        }
        removeNamespace(ns);
    }
}

export class Vpc {
    private readonly namespaces: string[] = [];
    private readonly hostLinks: string[] = [];
    private readonly bridgeNs: string;
    private hosts = 0;

    /**
     * @param id short and unique on this machine (interface names are limited to 15 characters)
     * @param prefixLength of the VPC CIDR: every host is on one segment
     */
    constructor(
        private readonly id: string,
        private readonly prefixLength: number,
    ) {
        sweepStaleVpcs();
        this.bridgeNs = this.addNamespace("vpc");
        ip("-n", this.bridgeNs, "link", "add", "br0", "type", "bridge");
        ip("-n", this.bridgeNs, "link", "set", "br0", "up");
    }

    private addNamespace(role: string): string {
        const ns = `${this.id}-${role}`;
        tryIp("netns", "del", ns);
        ip("netns", "add", ns);
        this.namespaces.push(ns);
        fs.mkdirSync(OWNERS, { recursive: true });
        fs.writeFileSync(`${OWNERS}/${ns}`, `${process.pid}\n`);
        return ns;
    }

    /** A veth whose one end is on the bridge; returns the other end's name (in this machine's namespace). */
    private plug(): string {
        const n = this.hosts++;
        const outside = `${this.id}v${n}`;
        const onBridge = `${this.id}b${n}`;
        ip("link", "add", outside, "type", "veth", "peer", "name", onBridge);
        ip("link", "set", onBridge, "netns", this.bridgeNs);
        ip("-n", this.bridgeNs, "link", "set", onBridge, "master", "br0", "up");
        return outside;
    }

    /**
     * A node: namespace `<id>-<role>` with `address` (and `extraAddresses` as /32, e.g. a load balancer's), a
     * default route out of eth0, `hosts` as its /etc/hosts and a resolv.conf that fails fast (no DNS here).
     */
    addHost(role: string, address: string, hosts: string, extraAddresses: readonly string[] = []): VpcHost {
        const ns = this.addNamespace(role);
        const link = this.plug();
        ip("link", "set", link, "netns", ns);
        ip("-n", ns, "link", "set", link, "name", "eth0");
        ip("-n", ns, "addr", "add", `${address}/${this.prefixLength}`, "dev", "eth0");
        for (const extra of extraAddresses) ip("-n", ns, "addr", "add", `${extra}/32`, "dev", "eth0");
        ip("-n", ns, "link", "set", "eth0", "up");
        ip("-n", ns, "link", "set", "lo", "up");
        ip("-n", ns, "route", "add", "default", "dev", "eth0");
        // This machine's resolvers cannot be reached from the stand-in VPC (nothing routes back), and containerd and the
        // kubelet (`nsenter --net`) read this machine's resolv.conf: every image pull waited for the lookup's timeouts,
        // 20 s per image, one image at a time, and a deleted pod waited for its node's queue. Unreachable fails at once.
        for (const server of machineNameservers()) ip("-n", ns, "route", "add", "unreachable", `${server}/32`);
        fs.mkdirSync(`/etc/netns/${ns}`, { recursive: true });
        fs.writeFileSync(`/etc/netns/${ns}/hosts`, hosts);
        fs.writeFileSync(`/etc/netns/${ns}/resolv.conf`, "nameserver 127.0.0.1\n");
        return { netns: ns, address, etc: { netns: ns, mounts: "node-etc" }, mounts: { netns: ns, mounts: "host" } };
    }

    /** Routes from this machine (as `runnerAddress`) to `targets` (addresses some node holds) through the bridge. */
    connectRunner(runnerAddress: string, targets: readonly string[]): void {
        const link = this.plug();
        this.hostLinks.push(link);
        ip("addr", "add", `${runnerAddress}/32`, "dev", link);
        ip("link", "set", link, "up");
        // `replace`: a route to the same address through a link of a run that was killed is taken over
        for (const target of targets) ip("route", "replace", `${target}/32`, "dev", link);
    }

    /** Removes every namespace, link and hosts file. */
    destroy(): void {
        for (const link of this.hostLinks) tryIp("link", "del", link);
        for (const ns of this.namespaces.reverse()) removeNamespace(ns);
    }
}

let nameservers: string[] | undefined;

/** The IPv4 nameservers of this machine's /etc/resolv.conf, except loopback ones (refused at once in a namespace). */
function machineNameservers(): string[] {
    if (nameservers) return nameservers;
    const text = fs.existsSync("/etc/resolv.conf") ? fs.readFileSync("/etc/resolv.conf", "utf8") : "";
    nameservers = [...text.matchAll(/^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/gm)].map((m) => m[1]).filter((a) => !a.startsWith("127."));
    return nameservers;
}
