/**
 * The role-specific sections of a node's input, checked once at the top of each renderer so that a missing
 * section fails with the node's name instead of somewhere inside a unit.
 */
import { NodeIgnitionInput } from "../input";
import { dnsProbeHost } from "../pieces/hostNetwork";
import { RebootStrategy } from "../pieces/osUpdates";

/** `input[section]`, or an error naming the node, its role and the missing section. */
export function requireSection<K extends "kubernetes" | "etcd" | "nfsServer">(
    input: NodeIgnitionInput,
    section: K,
): NonNullable<NodeIgnitionInput[K]> {
    const value = input[section];
    if (value === undefined) throw new Error(`Ignition input of ${input.hostname} (role ${input.role}): ${section} is required`);
    return value as NonNullable<NodeIgnitionInput[K]>;
}

/** Kubernetes nodes reboot one at a time, under a FleetLock lock. */
export function fleetLock(input: NodeIgnitionInput): RebootStrategy {
    const fleetlockUrl = input.osUpdates.fleetlockUrl;
    if (!fleetlockUrl) {
        throw new Error(`Ignition input of ${input.hostname} (role ${input.role}): osUpdates.fleetlockUrl is required on Kubernetes nodes`);
    }
    return { kind: "fleet_lock", fleetlockUrl };
}

/** The name the network wait resolves: the API server's host if it is a DNS name, else an NTP server. */
export function networkProbeHost(input: NodeIgnitionInput): string {
    const apiHost = input.kubernetes ? [new URL(input.kubernetes.apiServerUrl).hostname] : [];
    return dnsProbeHost([...apiHost, ...input.ntpServers], input.hosts.map((h) => h.name));
}
