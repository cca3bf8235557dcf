/**
 * The typed, validated configuration of one stage, and the pure parser that builds it.
 *
 * `parseStageConfig` takes already-decoded values (key -> JSON value), applies defaults, runs every schema and
 * every cross-key rule, and throws one `StageConfigError` that lists all problems at once.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { Cidr, cidr, contains, isIpv4Address, nthAddress, overlaps, parseCidr, subnetCount } from "./cidr";
import { NODE_POD_PREFIX } from "../layout/cluster";
import { KEYS, KeyName, PROJECT, REGION_KEY, keyDefault } from "./keys";

type Parsed<K extends KeyName> = z.output<(typeof KEYS)[K]["schema"]>;

export type PoolConfig = Parsed<"workers">;
export type ControllerPoolConfig = Parsed<"controllers">;
export type AppConfig = Parsed<"apps">[number];
export type SpringBootAppConfig = Extract<AppConfig, { kind: "spring-boot" }>;
export type ReactAppConfig = Extract<AppConfig, { kind: "react" }>;
export type StorageConfig = Parsed<"storage">;
export type ImageConfig = Parsed<"image">;

/** One EIP the stage holds, by name; `group` is what the quota message counts by. */
export interface EipClaim {
    readonly name: string;
    readonly group: "bastion" | "nat" | "apiserver" | "edge";
}

/** A vSwitch to create: its zone and CIDR. */
export interface VswitchPlan {
    readonly zone: string;
    readonly cidr: string;
}

/** Everything the program needs to know about a stage, validated and frozen. */
export interface StageConfig {
    readonly project: string;
    readonly stage: string;
    readonly region: string;
    /** `<project>-<stage>`: the start of every physical name, so stages can share an account and region. */
    readonly namePrefix: string;
    readonly zones: readonly string[];
    readonly network: {
        readonly vpcCidr: string;
        readonly publicVswitch: VswitchPlan;
        readonly nodeVswitches: readonly VswitchPlan[];
        readonly podCidr: string;
        readonly serviceCidr: string;
        readonly adminCidrs: readonly string[];
    };
    readonly cluster: {
        readonly domain: string;
        /** The `kubernetes` Service: the first address of the service CIDR. */
        readonly apiServiceIp: string;
        /** Cluster DNS: the 10th address of the service CIDR, as kubelets are rendered with. */
        readonly dnsServiceIp: string;
        /** FleetLock (one node reboots at a time): the 15th address of the service CIDR. */
        readonly fleetlockServiceIp: string;
    };
    readonly eip: {
        readonly quota: number;
        readonly bandwidthMbps: number;
        readonly claims: readonly EipClaim[];
    };
    readonly sshAuthorizedKeys: readonly string[];
    readonly image: ImageConfig;
    readonly bastion: { readonly instanceType: string };
    readonly controllers: ControllerPoolConfig;
    readonly workers: PoolConfig;
    readonly edge: PoolConfig;
    readonly dns: Parsed<"dns">;
    readonly osUpdates: { readonly updateServerUrl?: string };
    readonly pki: Parsed<"pki">;
    readonly storage: StorageConfig;
    readonly ingress: Parsed<"ingress"> & {
        /** A certificate from config, turned into the ingress default-certificate Secret. */
        readonly tls?: { readonly certificate: string; readonly key: pulumi.Output<string> };
    };
    readonly apps: readonly AppConfig[];
    /** Secret environment variables per app, as Pulumi secrets. */
    readonly appSecrets: Readonly<Record<string, Readonly<Record<string, pulumi.Output<string>>>>>;
}

/** One problem with the stage config: the key path, the value found and the rule it breaks. */
export interface ConfigProblem {
    readonly key: string;
    readonly value: unknown;
    readonly rule: string;
}

/** Thrown when a stage config is invalid; `problems` lists every one, the message prints them all. */
export class StageConfigError extends Error {
    constructor(
        public readonly stage: string,
        public readonly problems: readonly ConfigProblem[],
    ) {
        super(
            `Stage config of "${stage}" is invalid (${problems.length} problem${problems.length === 1 ? "" : "s"}; ` +
                `keys are in Pulumi.${stage}.yaml under ${PROJECT}:):\n` +
                problems.map((p) => `  - ${formatProblem(p)}`).join("\n"),
        );
        this.name = "StageConfigError";
    }
}

export function formatProblem(p: ConfigProblem): string {
    const shown = p.value === undefined ? "(not set)" : JSON.stringify(p.value);
    return `${p.key} = ${shown}: ${p.rule}`;
}

/** Input of the parser: the decoded values of the stage, by bare key name, plus the region. */
export interface RawStageConfig {
    readonly stage: string;
    /** `alicloud:region`. */
    readonly region: unknown;
    /** Project keys without the `<project>:` prefix; values already JSON-decoded. */
    readonly values: Readonly<Record<string, unknown>>;
    /** Bare names of keys whose values are Pulumi secrets. */
    readonly secretKeys: ReadonlySet<string>;
}

/** Alibaba's own services live in 100.64.0.0/10 (metadata 100.100.100.200, DNS 100.100.2.136). */
const ALIBABA_SERVICE_NETWORK = cidr("100.64.0.0/10");
const PRIVATE_NETWORKS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map(cidr);
const FIXED_CLAIMS: readonly EipClaim[] = [
    { name: "bastion", group: "bastion" },
    { name: "nat", group: "nat" },
    { name: "apiserver", group: "apiserver" },
];

/** Parses and validates a stage's config. Throws `StageConfigError` listing every problem. */
export function parseStageConfig(raw: RawStageConfig): StageConfig {
    const problems: ConfigProblem[] = [];
    const report = (key: string, value: unknown, rule: string) => problems.push({ key, value, rule });

    if (!/^[a-z][a-z0-9-]{0,18}[a-z0-9]$/.test(raw.stage)) {
        report("(stack name)", raw.stage, "must be 2-20 lower-case letters, digits or '-', starting with a letter (it goes into every physical name and hostname)");
    }
    if (typeof raw.region !== "string" || !/^[a-z]{2}-[a-z0-9-]+$/.test(raw.region)) {
        report(REGION_KEY, raw.region, "must be set to an Alibaba region id like cn-hangzhou");
    }

    // Unknown keys: almost always a typo, which would otherwise silently fall back to a default.
    for (const key of Object.keys(raw.values)) {
        if (!(key in KEYS)) {
            const near = closestKey(key);
            report(key, raw.values[key], `is not a key of this project${near ? ` (did you mean ${near}?)` : ""}; the keys are listed in Pulumi.yaml`);
        }
    }

    // Schemas, key by key.
    const v: Partial<Record<KeyName, unknown>> = {};
    for (const name of Object.keys(KEYS) as KeyName[]) {
        const spec = KEYS[name] as { schema: z.ZodType; required?: boolean; secret?: boolean };
        const given = raw.values[name];
        if (given === undefined) {
            if (spec.required) {
                report(name, undefined, `is required: set it in Pulumi.${raw.stage}.yaml (pulumi config set ${name} ...)`);
            } else {
                v[name] = keyDefault(name);
            }
            continue;
        }
        const result = spec.schema.safeParse(given);
        if (!result.success) {
            for (const issue of result.error.issues) {
                for (const p of zodProblems(name, given, issue)) {
                    problems.push(p);
                }
            }
            continue;
        }
        if (spec.secret && !raw.secretKeys.has(name) && !isEmpty(result.data)) {
            report(name, "[value hidden]", `must be a secret: set it with pulumi config set --secret ${name} (it would otherwise sit in Pulumi.${raw.stage}.yaml in plain text)`);
            continue;
        }
        v[name] = result.data;
    }

    const region = typeof raw.region === "string" ? raw.region : "";

    // Zones.
    const zones = v.zones as string[] | undefined;
    if (zones) {
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
    }

    // Networks.
    const parsed = new Map<string, Cidr>();
    const network = (key: string, text: unknown): Cidr | undefined => {
        if (typeof text !== "string") {
            return undefined;
        }
        const c = parseCidr(text);
        if ("error" in c) {
            report(key, text, c.error);
            return undefined;
        }
        parsed.set(key, c);
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
    const vswitches: { key: string; cidr: Cidr }[] = [];
    const publicVswitch = network("publicVswitchCidr", v.publicVswitchCidr);
    if (publicVswitch) {
        vswitches.push({ key: "publicVswitchCidr", cidr: publicVswitch });
    }
    const nodeCidrs = (v.nodeVswitchCidrs as string[] | undefined) ?? [];
    nodeCidrs.forEach((text, i) => {
        const c = network(`nodeVswitchCidrs[${i}]`, text);
        if (c) {
            vswitches.push({ key: `nodeVswitchCidrs[${i}]`, cidr: c });
        }
    });
    if (zones && v.nodeVswitchCidrs && nodeCidrs.length !== zones.length) {
        report("nodeVswitchCidrs", nodeCidrs, `must have one CIDR per zone: zones lists ${zones.length}, this lists ${nodeCidrs.length}`);
    }
    for (const [i, s] of vswitches.entries()) {
        if (s.cidr.prefix < 16 || s.cidr.prefix > 29) {
            report(s.key, s.cidr.text, "must have a prefix between /16 and /29 (Alibaba's vSwitch limits)");
        }
        if (vpc && !contains(vpc, s.cidr)) {
            report(s.key, s.cidr.text, `is outside vpcCidr ${vpc.text} (a vSwitch must lie inside its VPC)`);
        }
        for (const other of vswitches.slice(i + 1)) {
            if (overlaps(s.cidr, other.cidr)) {
                report(other.key, other.cidr.text, `overlaps ${s.key} ${s.cidr.text} (vSwitches of a VPC must not overlap)`);
            }
        }
    }
    const pods = network("podCidr", v.podCidr);
    const services = network("serviceCidr", v.serviceCidr);
    for (const [key, c] of [["podCidr", pods], ["serviceCidr", services]] as const) {
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
        report("serviceCidr", services.text, "must have a prefix between /12 and /24 (kube-apiserver's limit, and room for the fixed Service IPs)");
    }
    const counts = {
        controllers: (v.controllers as ControllerPoolConfig | undefined)?.count,
        workers: (v.workers as PoolConfig | undefined)?.count,
        edge: (v.edge as PoolConfig | undefined)?.count,
    };
    const nodeTotal = (counts.controllers ?? 0) + (counts.workers ?? 0) + (counts.edge ?? 0);
    if (pods) {
        const capacity = subnetCount(pods, NODE_POD_PREFIX);
        if (pods.prefix > NODE_POD_PREFIX - 1 || capacity < nodeTotal) {
            report("podCidr", pods.text, `must hold a /24 per node: ${nodeTotal} nodes need ${nodeTotal} /24s (at least a /23), it holds ${capacity}`);
        }
    }
    ((v.adminCidrs as string[] | undefined) ?? []).forEach((text, i) => {
        const c = network(`adminCidrs[${i}]`, text);
        if (c && c.prefix < 8) {
            report(`adminCidrs[${i}]`, c.text, "is too wide: SSH and the Kubernetes API must never be open to the internet (use the team's office or VPN networks)");
        }
    });

    // Controllers change only when rolled, one at a time (etcd keeps its quorum).
    const controllers = v.controllers as ControllerPoolConfig | undefined;
    if (controllers) {
        const roll = controllers.roll;
        roll.forEach((index, i) => {
            if (index >= controllers.count) {
                report(`controllers.roll[${i}]`, index, `is not a controller: controllers.count is ${controllers.count} (indices 0 to ${controllers.count - 1})`);
            }
        });
        if (new Set(roll).size > 1) {
            report("controllers.roll", roll, "must name one controller at a time: replacing two members at once can lose etcd's quorum");
        }
    }

    // Pools and EIPs.
    if (counts.workers === 0 && counts.edge === 0) {
        report("workers.count", 0, "workers.count and edge.count are both 0: controllers are tainted, so nothing could run the platform's pods");
    }
    const claims: EipClaim[] = [...FIXED_CLAIMS];
    for (let i = 0; i < (counts.edge ?? 0); i++) {
        claims.push({ name: `edge-${i}`, group: "edge" });
    }
    const quota = v.eipQuota as number | undefined;
    const quotaProblem = quota === undefined ? undefined : eipQuotaProblem(claims, quota);
    if (quotaProblem) {
        report("eipQuota", quota, `${quotaProblem}: lower edge.count or raise the quota with Alibaba first`);
    }

    // Cluster DNS.
    const dns = v.dns as Parsed<"dns"> | undefined;
    if (dns) {
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

    // PKI.
    const pki = v.pki as Parsed<"pki"> | undefined;
    if (pki) {
        if (pki.certValidityDays >= pki.caValidityDays) {
            report("pki.certValidityDays", pki.certValidityDays, `must be shorter than pki.caValidityDays (${pki.caValidityDays}): no certificate may outlive its CA`);
        }
        if (pki.renewBeforeDays >= pki.certValidityDays) {
            report("pki.renewBeforeDays", pki.renewBeforeDays, `must be shorter than pki.certValidityDays (${pki.certValidityDays})`);
        }
    }

    // Ingress TLS.
    const ingress = v.ingress as Parsed<"ingress"> | undefined;
    const tlsCert = v.ingressTlsCertificate as string | undefined;
    const tlsKey = v.ingressTlsKey as string | undefined;
    if (tlsCert !== undefined && tlsKey !== undefined && (tlsCert === "") !== (tlsKey === "")) {
        report(tlsCert === "" ? "ingressTlsCertificate" : "ingressTlsKey", "", "ingressTlsCertificate and ingressTlsKey must be set together");
    }
    if (ingress && ingress.tlsSecretName !== "" && tlsCert) {
        report("ingress.tlsSecretName", ingress.tlsSecretName, "set either ingress.tlsSecretName or ingressTlsCertificate/ingressTlsKey, not both");
    }

    // Applications.
    const apps = v.apps as AppConfig[] | undefined;
    if (apps) {
        checkApps(apps, counts.edge, report);
        const appSecrets = v.appSecrets as Record<string, Record<string, string>> | undefined;
        for (const [appName, vars] of Object.entries(appSecrets ?? {})) {
            const target = apps.find((a) => a.name === appName);
            if (!target || target.kind !== "spring-boot") {
                report(`appSecrets.${appName}`, "[value hidden]", "names no spring-boot app in apps");
                continue;
            }
            for (const name of Object.keys(vars)) {
                if (name in target.env) {
                    report(`appSecrets.${appName}.${name}`, "[value hidden]", `is also set in apps[${apps.indexOf(target)}].env; keep one`);
                }
            }
        }
    }

    if (problems.length > 0) {
        throw new StageConfigError(raw.stage, problems);
    }

    // Everything below only runs on a valid config.
    const serviceNet = cidr(v.serviceCidr as string);
    const secretValue = (value: string) => pulumi.secret(value);
    const stageConfig: StageConfig = {
        project: PROJECT,
        stage: raw.stage,
        region,
        namePrefix: `${PROJECT}-${raw.stage}`,
        zones: zones!,
        network: {
            vpcCidr: vpc!.text,
            publicVswitch: { zone: zones![0], cidr: publicVswitch!.text },
            nodeVswitches: zones!.map((zone, i) => ({ zone, cidr: parsed.get(`nodeVswitchCidrs[${i}]`)!.text })),
            podCidr: pods!.text,
            serviceCidr: serviceNet.text,
            adminCidrs: (v.adminCidrs as string[]).map((_, i) => parsed.get(`adminCidrs[${i}]`)!.text),
        },
        cluster: {
            domain: v.clusterDomain as string,
            apiServiceIp: nthAddress(serviceNet, 1),
            dnsServiceIp: nthAddress(serviceNet, 10),
            fleetlockServiceIp: nthAddress(serviceNet, 15),
        },
        eip: { quota: quota!, bandwidthMbps: v.eipBandwidthMbps as number, claims },
        sshAuthorizedKeys: v.sshAuthorizedKeys as string[],
        image: v.image as ImageConfig,
        bastion: { instanceType: v.bastionInstanceType as string },
        controllers: v.controllers as ControllerPoolConfig,
        workers: v.workers as PoolConfig,
        edge: v.edge as PoolConfig,
        dns: dns!,
        osUpdates: v.osUpdateServerUrl ? { updateServerUrl: v.osUpdateServerUrl as string } : {},
        pki: pki!,
        storage: v.storage as StorageConfig,
        ingress: { ...ingress!, ...(tlsCert ? { tls: { certificate: tlsCert, key: secretValue(tlsKey!) } } : {}) },
        apps: apps!,
        appSecrets: Object.fromEntries(
            Object.entries((v.appSecrets ?? {}) as Record<string, Record<string, string>>).map(([app, vars]) => [
                app,
                Object.fromEntries(Object.entries(vars).map(([k, value]) => [k, secretValue(value)])),
            ]),
        ),
    };
    return deepFreeze(stageConfig);
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

function checkApps(apps: AppConfig[], edgeCount: number | undefined, report: (key: string, value: unknown, rule: string) => void): void {
    const seenNames = new Map<string, number>();
    const seenRoutes = new Map<string, number>();
    apps.forEach((app, i) => {
        const at = `apps[${i}]`;
        const first = seenNames.get(app.name);
        if (first !== undefined) {
            report(`${at}.name`, app.name, `is already the name of apps[${first}]; app names must be unique`);
        } else {
            seenNames.set(app.name, i);
        }
        if (app.route) {
            const routeKey = `${app.route.host}${app.route.path}`;
            const owner = seenRoutes.get(routeKey);
            if (owner !== undefined) {
                report(`${at}.route`, app.route, `app ${app.name}: the route ${routeKey} is already served by apps[${owner}] (${apps[owner].name})`);
            } else {
                seenRoutes.set(routeKey, i);
            }
            if (edgeCount === 0) {
                report(`${at}.route`, app.route, `app ${app.name} has a public route but edge.count is 0, so no node runs ingress`);
            }
        }
        if (app.kind === "spring-boot") {
            if (app.port === app.managementPort) {
                report(`${at}.managementPort`, app.managementPort, `app ${app.name}: must differ from port (actuator probes get their own port)`);
            }
            if (app.autoscale && app.autoscale.minReplicas > app.autoscale.maxReplicas) {
                report(`${at}.autoscale.minReplicas`, app.autoscale.minReplicas, `app ${app.name}: must not exceed autoscale.maxReplicas (${app.autoscale.maxReplicas})`);
            }
            if (app.canary && !app.route) {
                report(`${at}.canary`, app.canary, `app ${app.name}: a canary is served through the ingress, so the app needs a route`);
            }
        }
    });
    apps.forEach((app, i) => {
        if (app.kind !== "react") {
            return;
        }
        app.apiServices.forEach((service, j) => {
            const target = apps.find((a) => a.name === service);
            if (!target) {
                report(`apps[${i}].apiServices[${j}]`, service, `app ${app.name}: /api/${service} proxies to an app that does not exist`);
            } else if (target.kind !== "spring-boot") {
                report(`apps[${i}].apiServices[${j}]`, service, `app ${app.name}: /api/${service} must proxy to a spring-boot app, ${service} is ${target.kind}`);
            }
        });
    });
}

function zodProblems(key: string, given: unknown, issue: z.core.$ZodIssue): ConfigProblem[] {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    const where = key + path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("");
    if (issue.code === "unrecognized_keys") {
        return issue.keys.map((k) => ({
            key: `${where}.${k}`,
            value: valueAt(given, [...path, k]),
            rule: "is not a field of this object (a typo?)",
        }));
    }
    if (issue.code === "invalid_union" && issue.errors.length > 0 && issue.errors.every((branch) => branch.length > 0)) {
        // A union (e.g. storage kinds): report the branch that got furthest, not a vague "invalid input".
        const best = issue.errors.reduce((a, b) => (a.length <= b.length ? a : b));
        if (best.every((sub) => sub.code !== "invalid_union")) {
            return best.flatMap((sub) => zodProblems(key, given, { ...sub, path: [...path, ...sub.path] } as z.core.$ZodIssue));
        }
    }
    if (issue.code === "invalid_key" && issue.issues.length > 0) {
        // A bad key of a record (a label key, an app name in appSecrets): report the key's own rule.
        return [{ key: where, value: issue.input, rule: `the key ${JSON.stringify(issue.input)} ${issue.issues[0].message}` }];
    }
    const value = valueAt(given, path);
    const rule = value === undefined && issue.code === "invalid_type" ? "is required" : issue.message;
    return [{ key: where, value, rule }];
}

function valueAt(value: unknown, path: (string | number)[]): unknown {
    let current = value;
    for (const p of path) {
        if (current === null || typeof current !== "object") {
            return undefined;
        }
        current = (current as Record<string | number, unknown>)[p];
    }
    return current;
}

function isResolver(text: string): boolean {
    const [address, port, ...rest] = text.split(":");
    return rest.length === 0 && isIpv4Address(address) && (port === undefined || /^[1-9][0-9]{0,4}$/.test(port));
}

function isEmpty(value: unknown): boolean {
    return value === "" || (typeof value === "object" && value !== null && Object.keys(value).length === 0);
}

function closestKey(key: string): string | undefined {
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const candidate of Object.keys(KEYS)) {
        const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
        if (d < bestDistance) {
            best = candidate;
            bestDistance = d;
        }
    }
    return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        previous = current;
    }
    return previous[b.length];
}

function deepFreeze<T>(value: T): T {
    if (value && typeof value === "object" && !pulumi.Output.isInstance(value) && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const inner of Object.values(value)) {
            deepFreeze(inner);
        }
    }
    return value;
}
