/**
 * The pure parser of a stage's config: takes already-decoded values (key -> JSON value), applies defaults, runs
 * every schema (config/schema.ts) and every rule across keys (config/rules.ts), and either returns the frozen
 * `StageConfig` or throws one `StageConfigError` that lists every problem at once.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { nthAddress } from "./cidr";
import { ConfigProblem, Report, StageConfigError, closestKey, zodProblems } from "./problems";
import { checkApps } from "./appRules";
import { MirrorsConfig, checkMirrors, stageImages } from "./mirrors";
import { checkObservability } from "./observabilityRules";
import {
    checkAdminCidrs,
    checkDns,
    checkIngressTls,
    checkNetworks,
    checkPki,
    checkPools,
    checkStageAndRegion,
    checkZones,
    eipClaims,
    eipQuotaProblem,
} from "./rules";
import { KEYS, KeyName, PROJECT, REMOVED_KEYS, keyDefault } from "./schema";
import { KeyValues, StageConfig } from "./types";
import { vswitchLayout } from "./vswitches";

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

/** Parses and validates a stage's config. Throws `StageConfigError` listing every problem. */
export function parseStageConfig(raw: RawStageConfig): StageConfig {
    const problems: ConfigProblem[] = [];
    const report: Report = (key, value, rule) => problems.push({ key, value, rule });

    checkStageAndRegion(raw.stage, raw.region, report);
    // Unknown keys: almost always a typo, which would otherwise silently fall back to a default.
    for (const key of Object.keys(raw.values)) {
        if (key in REMOVED_KEYS) {
            report(key, raw.values[key], REMOVED_KEYS[key]);
        } else if (!(key in KEYS)) {
            const near = closestKey(key);
            report(
                key,
                raw.values[key],
                `is not a key of this project${near ? ` (did you mean ${near}?)` : ""}; the keys are listed in Pulumi.yaml`,
            );
        }
    }
    const v = parseKeys(raw, report, problems);
    const region = typeof raw.region === "string" ? raw.region : "";

    checkZones(v.zones, region, report);
    const networks = checkNetworks(v, report);
    const counts = checkPools(v, networks.pods, report);
    const admins = checkAdminCidrs(v.adminCidrs, report);
    const claims = eipClaims(counts.edge ?? 0);
    const quotaProblem = v.eipQuota === undefined ? undefined : eipQuotaProblem(claims, v.eipQuota);
    if (quotaProblem) {
        report("eipQuota", v.eipQuota, `${quotaProblem}: lower edge.count or raise the quota with Alibaba first`);
    }
    checkDns(v.dns, report);
    checkPki(v.pki, report);
    checkIngressTls(v, report);
    checkApps(v.apps, v.appSecrets, counts.edge, report);
    const mirrors = v.mirrors ? mirrorsConfig(v.mirrors) : undefined;
    checkMirrors(mirrors, { region, namePrefix: `${PROJECT}-${raw.stage}`, images: v.apps ? stageImages(v.apps) : undefined }, report);
    checkObservability(v.observability, v.alertSecrets, counts.edge, report);

    if (problems.length > 0) {
        throw new StageConfigError(raw.stage, problems);
    }

    // Everything below only runs on a valid config: every value checked above is there.
    const zones = checked(v.zones, "zones");
    const vpc = checked(networks.vpc, "vpcCidr");
    const vswitches = vswitchLayout(vpc, zones.length);
    const serviceNet = checked(networks.services, "serviceCidr");
    const tlsCert = checked(v.ingressTlsCertificate, "ingressTlsCertificate");
    const stageConfig: StageConfig = {
        project: PROJECT,
        stage: raw.stage,
        region,
        namePrefix: `${PROJECT}-${raw.stage}`,
        zones,
        network: {
            vpcCidr: vpc.text,
            publicVswitch: { zone: zones[0], cidr: vswitches.publicVswitch.text },
            nodeVswitches: zones.map((zone, i) => ({ zone, cidr: vswitches.nodeVswitches[i].text })),
            podCidr: checked(networks.pods, "podCidr").text,
            serviceCidr: serviceNet.text,
            adminCidrs: admins.map((c, i) => checked(c, `adminCidrs[${i}]`).text),
        },
        cluster: {
            apiServiceIp: nthAddress(serviceNet, 1),
            dnsServiceIp: nthAddress(serviceNet, 10),
            fleetlockServiceIp: nthAddress(serviceNet, 15),
        },
        eip: {
            quota: checked(v.eipQuota, "eipQuota"),
            bandwidthMbps: checked(v.eipBandwidthMbps, "eipBandwidthMbps"),
            natBandwidthMbps: checked(v.natBandwidthMbps, "natBandwidthMbps"),
            claims,
        },
        sshAuthorizedKeys: checked(v.sshAuthorizedKeys, "sshAuthorizedKeys"),
        image: checked(v.image, "image"),
        bastion: { instanceType: checked(v.bastionInstanceType, "bastionInstanceType") },
        controllers: checked(v.controllers, "controllers"),
        workers: checked(v.workers, "workers"),
        edge: checked(v.edge, "edge"),
        dns: checked(v.dns, "dns"),
        osUpdates: v.osUpdateServerUrl ? { updateServerUrl: v.osUpdateServerUrl } : {},
        mirrors: checked(mirrors, "mirrors"),
        pki: checked(v.pki, "pki"),
        secretsEncryptionKeys: checked(v.secretsEncryptionKeys, "secretsEncryptionKeys"),
        storage: checked(v.storage, "storage"),
        keepDataOnDestroy: checked(v.keepDataOnDestroy, "keepDataOnDestroy"),
        etcdBackup: checked(v.etcdBackup, "etcdBackup"),
        ingress: {
            ...checked(v.ingress, "ingress"),
            ...(tlsCert ? { tls: { certificate: tlsCert, key: pulumi.secret(checked(v.ingressTlsKey, "ingressTlsKey")) } } : {}),
        },
        apps: checked(v.apps, "apps"),
        appSecrets: Object.fromEntries(
            Object.entries(checked(v.appSecrets, "appSecrets")).map(([app, vars]) => [
                app,
                Object.fromEntries(Object.entries(vars).map(([k, value]) => [k, pulumi.secret(value)])),
            ]),
        ),
        observability: checked(v.observability, "observability"),
        alertSecrets: Object.fromEntries(
            Object.entries(checked(v.alertSecrets, "alertSecrets")).map(([receiver, values]) => [
                receiver,
                Object.fromEntries(
                    Object.entries(values)
                        .filter(([, value]) => value !== undefined)
                        .map(([k, value]) => [k, pulumi.secret(value as string)]),
                ),
            ]),
        ),
    };
    return deepFreeze(stageConfig);
}

/** The parsed `mirrors` key with its empty strings as absent values. */
function mirrorsConfig(m: NonNullable<KeyValues["mirrors"]>): MirrorsConfig {
    return {
        registries: m.registries,
        ...(m.files ? { files: m.files } : {}),
        ...(m.fedora ? { fedora: m.fedora } : {}),
        fallbackToUpstream: m.fallbackToUpstream,
        create: m.create,
    };
}

/** Each key through its schema (or its default), reporting schema problems and secrets set in plain text. */
function parseKeys(raw: RawStageConfig, report: Report, problems: ConfigProblem[]): KeyValues {
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
                problems.push(...zodProblems(name, given, issue));
            }
            continue;
        }
        if (spec.secret && !raw.secretKeys.has(name) && !isEmpty(result.data)) {
            report(
                name,
                "[value hidden]",
                `must be a secret: set it with pulumi config set --secret ${name} (it would otherwise sit in Pulumi.${raw.stage}.yaml in plain text)`,
            );
            continue;
        }
        v[name] = result.data;
    }
    // Each value is its key's schema output (or its default, which is too).
    return v as KeyValues;
}

/** A value the rules have checked; its absence here would be a bug of this loader, not of the stage file. */
function checked<T>(value: T | undefined, key: string): T {
    if (value === undefined) {
        throw new Error(`config loader: ${key} passed every check but has no value (a bug in config/parse.ts)`);
    }
    return value;
}

function isEmpty(value: unknown): boolean {
    return value === "" || (typeof value === "object" && value !== null && Object.keys(value).length === 0);
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
