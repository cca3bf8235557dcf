/**
 * What the role renderers share about their input: the guard that refuses a node whose role-specific section is
 * missing (the types already refuse it; this names the node for a caller that built its input from untyped data,
 * instead of failing somewhere inside a unit), and the host the network wait resolves.
 */
import { NodeIgnitionInput } from "../input";
import { dnsProbeHost } from "../pieces/hostNetwork";

/** The sections each role needs, beyond what every node has. */
const REQUIRED_SECTIONS: Readonly<Record<NodeIgnitionInput["role"], readonly ("kubernetes" | "etcd" | "nfsServer")[]>> = {
    bastion: [],
    controller: ["kubernetes", "etcd"],
    worker: ["kubernetes"],
    edge: ["kubernetes"],
    "nfs-server": ["nfsServer"],
};

/** Throws, naming the node, its role and the section, when the input lacks what its role needs. */
export function checkRoleSections(input: NodeIgnitionInput): void {
    const sections = REQUIRED_SECTIONS[input.role];
    const where = `Ignition input of ${input.hostname} (role ${input.role})`;
    for (const section of sections) {
        if (input[section] === undefined) {
            throw new Error(`${where}: ${section} is required`);
        }
    }
    if (sections.includes("kubernetes") && !(input.osUpdates as { fleetlockUrl?: string }).fleetlockUrl) {
        throw new Error(`${where}: osUpdates.fleetlockUrl is required on Kubernetes nodes`);
    }
}

/** The name the network wait resolves: the API server's host if it is a DNS name, else an NTP server. */
export function networkProbeHost(input: NodeIgnitionInput): string {
    const apiHost = input.kubernetes ? [new URL(input.kubernetes.apiServerUrl).hostname] : [];
    return dnsProbeHost(
        [...apiHost, ...input.ntpServers],
        input.hosts.map((h) => h.name),
    );
}
