/**
 * Who may reach the API load balancer: the team's networks (through the `apiserver` EIP) and the VPC itself
 * (kubelets, kube-proxy, the bastion's readiness check). The list is the whitelist ACL of the 6443 listener.
 */
import { parseCidr } from "../config/cidr";

/** One entry of the API's access list. */
export interface AccessEntry {
    readonly cidr: string;
    /** Why the network is admitted (the entry's comment in the console). */
    readonly comment: string;
}

/**
 * The API's whitelist, or the problems with the input (each names the property and the rule). Duplicates are
 * dropped, so an admin network inside the VPC is listed once.
 */
export function apiAccessList(adminCidrs: readonly string[], vpcCidr: string): { entries: AccessEntry[] } | { problems: string[] } {
    const problems: string[] = [];
    const entries: AccessEntry[] = [];
    const add = (key: string, text: string, comment: string) => {
        const parsed = parseCidr(text);
        if ("error" in parsed) {
            problems.push(`${key} "${text}" ${parsed.error}`);
            return;
        }
        if (parsed.prefix === 0) {
            problems.push(`${key} "${text}" would open the Kubernetes API to the whole internet`);
            return;
        }
        if (!entries.some((e) => e.cidr === parsed.text)) {
            entries.push({ cidr: parsed.text, comment });
        }
    };
    if (adminCidrs.length === 0) {
        problems.push("adminCidrs must list at least one network (nobody could reach the API through its EIP)");
    }
    add("vpcCidr", vpcCidr, "the VPC: kubelets, kube-proxy, the bastion");
    adminCidrs.forEach((c, i) => add(`adminCidrs[${i}]`, c, "the team's network"));
    return problems.length > 0 ? { problems } : { entries };
}

/** A resource-name-safe form of a CIDR ("10.10.0.0/16" -> "10-10-0-0-16"), so each entry is keyed by its network. */
export function cidrSlug(cidr: string): string {
    return cidr.replace(/[./]/g, "-");
}
