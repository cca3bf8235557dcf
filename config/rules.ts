/**
 * The rules a stage config's infrastructure must meet beyond each key's schema: rules across keys (networks that must
 * not overlap, an EIP budget that must hold every claim, controllers rolled one at a time), each reporting the key
 * path, the value and the rule through `report`, so that the loader lists every problem at once. The apps' rules are
 * in config/appRules.ts.
 */
import { NODE_POD_PREFIX } from "../layout/cluster";
import { Cidr, cidr, contains, isIpv4Address, overlaps, parseCidr, subnetCount } from "./cidr";
import { Report } from "./problems";
import { REGION_KEY } from "./schema";
import { MAX_ZONES, VPC_BLOCKS } from "./vswitches";
import { ControllerPoolConfig, EipClaim, KeyValues, Parsed, PoolConfig } from "./types";

/** Alibaba's own services live in 100.64.0.0/10 (metadata 100.100.100.200, DNS 100.100.2.136). */
const ALIBABA_SERVICE_NETWORK = cidr("100.64.0.0/10");
const PRIVATE_NETWORKS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map(cidr);
const FIXED_CLAIMS: readonly EipClaim[] = [
    { name: "bastion", group: "bastion" },
    { name: "nat", group: "nat" },
    { name: "apiserver", group: "apiserver" },
];

/** The stack name (it goes into every physical name) and the region. */
export function checkStageAndRegion(stage: string, region: unknown, report: Report): void {
    if (!/^[a-z][a-z0-9-]{0,18}[a-z0-9]$/.test(stage)) {
        report(
            "(stack name)",
            stage,
            "must be 2-20 lower-case letters, digits or '-', starting with a letter (it goes into every physical name and hostname)",
        );
    }
    if (typeof region !== "string" || !/^[a-z]{2}-[a-z0-9-]+$/.test(region)) {
        report(REGION_KEY, region, "must be set to an Alibaba region id like cn-hangzhou");
    }
}

/** At least two different zones, all of the stage's region. */
export function checkZones(zones: readonly string[] | undefined, region: string, report: Report): void {
    if (!zones) {
        return;
    }
    if (new Set(zones).size < 2) {
        report("zones", zones, "must list at least two different zones (a zone outage must not take the cluster down)");
    }
    zones.forEach((zone, i) => {
        if (region && !zone.startsWith(`${region}-`)) {
            report(`zones[${i}]`, zone, `is not a zone of region ${region} (${REGION_KEY})`);
        }
    });
    if (new Set(zones).size !== zones.length) {
        report("zones", zones, "must not list a zone twice");
    }
    if (zones.length > MAX_ZONES) {
        report(
            "zones",
            zones,
            `must list at most ${MAX_ZONES} zones (the VPC is cut into ${VPC_BLOCKS} blocks: the public vSwitch's and one per zone)`,
        );
    }
}

/** The stage's networks, parsed; a network that is missing or malformed is absent. */
export interface StageNetworks {
    readonly vpc?: Cidr;
    readonly pods?: Cidr;
    readonly services?: Cidr;
}

/**
 * Every network rule: each CIDR well formed, the VPC private and of a size Alibaba allows, pods and Services
 * outside it and apart. The vSwitches are derived from the VPC (config/vswitches.ts), so they lie inside it and
 * apart by construction.
 */
export function checkNetworks(v: KeyValues, report: Report): StageNetworks {
    const network = (key: string, text: unknown): Cidr | undefined => {
        if (typeof text !== "string") {
            return undefined;
        }
        const c = parseCidr(text);
        if ("error" in c) {
            report(key, text, c.error);
            return undefined;
        }
        return c;
    };
    const vpc = network("vpcCidr", v.vpcCidr);
    if (vpc) {
        if (vpc.prefix < 8 || vpc.prefix > 24) {
            report("vpcCidr", vpc.text, "must have a prefix between /8 and /24 (Alibaba's VPC limits)");
        }
        if (!PRIVATE_NETWORKS.some((p) => contains(p, vpc))) {
            report("vpcCidr", vpc.text, "must lie inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16");
        }
    }
    const pods = network("podCidr", v.podCidr);
    const services = network("serviceCidr", v.serviceCidr);
    for (const [key, c] of [
        ["podCidr", pods],
        ["serviceCidr", services],
    ] as const) {
        if (!c) {
            continue;
        }
        if (vpc && overlaps(c, vpc)) {
            report(key, c.text, `overlaps vpcCidr ${vpc.text} (pod and Service addresses must not be routable inside the VPC)`);
        }
        if (overlaps(c, ALIBABA_SERVICE_NETWORK)) {
            report(key, c.text, "overlaps 100.64.0.0/10, where Alibaba's metadata service and DNS live");
        }
    }
    if (vpc && overlaps(vpc, ALIBABA_SERVICE_NETWORK)) {
        report("vpcCidr", vpc.text, "overlaps 100.64.0.0/10, where Alibaba's metadata service and DNS live");
    }
    if (pods && services && overlaps(pods, services)) {
        report("serviceCidr", services.text, `overlaps podCidr ${pods.text}`);
    }
    if (services && (services.prefix < 12 || services.prefix > 24)) {
        report(
            "serviceCidr",
            services.text,
            "must have a prefix between /12 and /24 (kube-apiserver's limit, and room for the fixed Service IPs)",
        );
    }
    return { vpc, pods, services };
}

/** The team's networks: each well formed, none so wide that it is the internet. */
export function checkAdminCidrs(adminCidrs: readonly string[] | undefined, report: Report): (Cidr | undefined)[] {
    return (adminCidrs ?? []).map((text, i) => {
        const c = parseCidr(text);
        if ("error" in c) {
            report(`adminCidrs[${i}]`, text, c.error);
            return undefined;
        }
        if (c.prefix < 8) {
            report(
                `adminCidrs[${i}]`,
                c.text,
                "is too wide: SSH and the Kubernetes API must never be open to the internet (use the team's office or VPN networks)",
            );
        }
        return c;
    });
}

/** Node counts of the pools that passed their schemas. */
export interface PoolCounts {
    readonly controllers?: number;
    readonly workers?: number;
    readonly edge?: number;
}

/** Room for every node in the pod network, controllers rolled one at a time, and somewhere to run pods. */
export function checkPools(v: KeyValues, pods: Cidr | undefined, report: Report): PoolCounts {
    const controllers: ControllerPoolConfig | undefined = v.controllers;
    const workers: PoolConfig | undefined = v.workers;
    const counts: PoolCounts = { controllers: controllers?.count, workers: workers?.count, edge: v.edge?.count };
    const nodeTotal = (counts.controllers ?? 0) + (counts.workers ?? 0) + (counts.edge ?? 0);
    if (pods) {
        const capacity = subnetCount(pods, NODE_POD_PREFIX);
        if (pods.prefix > NODE_POD_PREFIX - 1 || capacity < nodeTotal) {
            report(
                "podCidr",
                pods.text,
                `must hold a /24 per node: ${nodeTotal} nodes need ${nodeTotal} /24s (at least a /23), it holds ${capacity}`,
            );
        }
    }
    // Controllers change only when rolled, one at a time (etcd keeps its quorum).
    if (controllers) {
        controllers.roll.forEach((index, i) => {
            if (index >= controllers.count) {
                report(
                    `controllers.roll[${i}]`,
                    index,
                    `is not a controller: controllers.count is ${controllers.count} (indices 0 to ${controllers.count - 1})`,
                );
            }
        });
        if (new Set(controllers.roll).size > 1) {
            report(
                "controllers.roll",
                controllers.roll,
                "must name one controller at a time: replacing two members at once can lose etcd's quorum",
            );
        }
    }
    // Ingress runs on every edge node: a batch as large as the pool would take it down for the whole replacement.
    const edge: PoolConfig | undefined = v.edge;
    if (edge && edge.count >= 2 && edge.rollBatch >= edge.count) {
        report(
            "edge.rollBatch",
            edge.rollBatch,
            `must be less than edge.count (${edge.count}): ingress must keep at least one edge node serving while the others are replaced`,
        );
    }
    if (counts.workers === 0 && counts.edge === 0) {
        report(
            "workers.count",
            0,
            "workers.count and edge.count are both 0: controllers are tainted, so nothing could run the platform's pods",
        );
    }
    return counts;
}

/** The stage's EIP claims: bastion, nat, apiserver, then one per edge node. */
export function eipClaims(edgeCount: number): EipClaim[] {
    return [...FIXED_CLAIMS, ...Array.from({ length: edgeCount }, (_, i): EipClaim => ({ name: `edge-${i}`, group: "edge" }))];
}

/**
 * Checks claims against the quota; returns the message of the problem, if any. The claims are counted by
 * group so the message says where the addresses go.
 */
export function eipQuotaProblem(claims: readonly { name: string; group: string }[], quota: number): string | undefined {
    const names = new Set<string>();
    for (const claim of claims) {
        if (names.has(claim.name)) {
            return `EIP claim ${claim.name} is made twice`;
        }
        names.add(claim.name);
    }
    if (claims.length <= quota) {
        return undefined;
    }
    const byGroup = new Map<string, number>();
    for (const claim of claims) {
        byGroup.set(claim.group, (byGroup.get(claim.group) ?? 0) + 1);
    }
    return `EIP claims need ${claims.length} (${[...byGroup].map(([g, n]) => `${g} ${n}`).join(", ")}) but eipQuota is ${quota}`;
}

/** Every resolver of cluster DNS is an address (with an optional port). */
export function checkDns(dns: Parsed<"dns"> | undefined, report: Report): void {
    if (!dns) {
        return;
    }
    dns.upstreams.forEach((r, i) => {
        if (!isResolver(r)) {
            report(`dns.upstreams[${i}]`, r, "must be an IPv4 address, optionally with :port");
        }
    });
    for (const [domain, resolvers] of Object.entries(dns.stubDomains)) {
        resolvers.forEach((r, i) => {
            if (!isResolver(r)) {
                report(`dns.stubDomains.${domain}[${i}]`, r, "must be an IPv4 address, optionally with :port");
            }
        });
    }
}

/** No certificate outlives its CA, and renewal starts inside a certificate's life. */
export function checkPki(pki: Parsed<"pki"> | undefined, report: Report): void {
    if (!pki) {
        return;
    }
    if (pki.certValidityDays >= pki.caValidityDays) {
        report(
            "pki.certValidityDays",
            pki.certValidityDays,
            `must be shorter than pki.caValidityDays (${pki.caValidityDays}): no certificate may outlive its CA`,
        );
    }
    if (pki.renewBeforeDays >= pki.certValidityDays) {
        report("pki.renewBeforeDays", pki.renewBeforeDays, `must be shorter than pki.certValidityDays (${pki.certValidityDays})`);
    }
}

/** The ingress default certificate comes from one place: a certificate and key from config, or an existing Secret. */
export function checkIngressTls(v: KeyValues, report: Report): void {
    const tlsCert = v.ingressTlsCertificate;
    const tlsKey = v.ingressTlsKey;
    if (tlsCert !== undefined && tlsKey !== undefined && (tlsCert === "") !== (tlsKey === "")) {
        report(
            tlsCert === "" ? "ingressTlsCertificate" : "ingressTlsKey",
            "",
            "ingressTlsCertificate and ingressTlsKey must be set together",
        );
    }
    if (v.ingress && v.ingress.tlsSecretName !== "" && tlsCert) {
        report(
            "ingress.tlsSecretName",
            v.ingress.tlsSecretName,
            "set either ingress.tlsSecretName or ingressTlsCertificate/ingressTlsKey, not both",
        );
    }
}

function isResolver(text: string): boolean {
    const [address, port, ...rest] = text.split(":");
    return rest.length === 0 && isIpv4Address(address) && (port === undefined || /^[1-9][0-9]{0,4}$/.test(port));
}
