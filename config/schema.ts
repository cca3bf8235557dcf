/**
 * Every project config key, declared once: its Pulumi type, description, default and schema.
 *
 * `Pulumi.yaml`'s `config:` block and the README's config reference are generated from this list
 * (`npm run config:sync`), and a test fails when they drift. Nothing else declares a key.
 */
import { z } from "zod";
import {
    app,
    appName,
    cidrText,
    dnsName,
    emptyOr,
    instanceType,
    labelKey,
    labelValue,
    mirrorUrl,
    observability,
    poolSchema,
    registryHost,
    rollingSchema,
    storage,
    taint,
} from "./fields";

/** The Pulumi project name: the namespace of every key below and the first part of every physical name. */
export const PROJECT = "coreos-platform";

/** Alibaba's EIP quota per account and region unless raised: the default of a stage's budget and of the policy pack's. */
export const ALIBABA_DEFAULT_EIP_QUOTA = 20;

/** The one provider key the program reads; each stage file sets it. */
export const REGION_KEY = "alicloud:region";

/** Pulumi's project-config types (`Pulumi.yaml` `config.<key>.type`). */
export type PulumiConfigType = "string" | "integer" | "boolean" | "array" | "object";

/** The declaration of one key. */
export interface KeySpec {
    /** The type the Pulumi CLI checks stack values against. */
    readonly type: PulumiConfigType;
    /** For arrays: the element type. */
    readonly items?: PulumiConfigType;
    /** One or two sentences for `Pulumi.yaml` and the README. */
    readonly description: string;
    /** The schema the loader parses the value with. Fields of objects carry their own defaults. */
    readonly schema: z.ZodType;
    /** Whether the key has a default. Keys without one must be set in every stage file. */
    readonly required?: boolean;
    /** Whether a non-empty value must be a Pulumi secret (`pulumi config set --secret`). */
    readonly secret?: boolean;
    /** The default as written; the declared default is this (or `{}`) parsed by the schema, so fields fill in. */
    readonly default?: unknown;
}

export const KEYS = {
    zones: {
        type: "array",
        items: "string",
        description:
            "Alibaba zones for the node vSwitches, at least two and at most 15 (nodes are spread over them round-robin). The first zone also holds the public vSwitch.",
        required: true,
        schema: z.array(z.string().regex(/^[a-z]{2}-[a-z0-9-]+$/, { error: "must be an Alibaba zone id like cn-hangzhou-i" })),
    },
    vpcCidr: {
        type: "string",
        description:
            "The VPC's CIDR (private range, /8 to /24). Unique per stage so that stages can be peered. The vSwitches are derived from it: cut into 16 blocks, block 0 starts with the public vSwitch (bastion, NAT gateway) and block k+1 is the node vSwitch of zone k; for 10.10.0.0/16: 10.10.0.0/24, then 10.10.16.0/20, 10.10.32.0/20, ...",
        required: true,
        schema: cidrText,
    },
    podCidr: {
        type: "string",
        description: "The pod network (flannel); each node gets a /24 of it. Must not overlap the VPC or serviceCidr.",
        required: true,
        schema: cidrText,
    },
    serviceCidr: {
        type: "string",
        description: "The Service network (/12 to /24). Its 1st address is the kubernetes Service, its 10th the cluster DNS.",
        required: true,
        schema: cidrText,
    },
    adminCidrs: {
        type: "array",
        items: "string",
        description: "Networks allowed to reach the bastion (SSH) and the Kubernetes API (6443). Never 0.0.0.0/0.",
        required: true,
        schema: z.array(cidrText).min(1, { error: "must name at least one network (the team's office or VPN)" }),
    },
    sshAuthorizedKeys: {
        type: "array",
        items: "string",
        description: "SSH public keys of the user core on every node (keys only; password login is off).",
        required: true,
        schema: z
            .array(
                z
                    .string()
                    .regex(
                        /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\n]*)?$/,
                        {
                            error: "must be one OpenSSH public key line (ssh-ed25519 AAAA... comment)",
                        },
                    ),
            )
            .min(1, { error: "must hold at least one key (there is no other way in)" }),
    },
    eipQuota: {
        type: "integer",
        description: "EIPs this stage may hold (Alibaba's default quota is 20 per account and region).",
        default: ALIBABA_DEFAULT_EIP_QUOTA,
        schema: z.int().min(3, { error: "must be at least 3 (bastion, nat and apiserver)" }).max(500, { error: "must be at most 500" }),
    },
    eipBandwidthMbps: {
        type: "integer",
        description: "Peak bandwidth of each EIP in Mbit/s (pay by traffic).",
        default: 10,
        // Pay-by-traffic EIPs take 1 to 200 Mbit/s.
        schema: z
            .int()
            .min(1, { error: "must be between 1 and 200 Mbit/s (pay-by-traffic EIPs)" })
            .max(200, { error: "must be between 1 and 200 Mbit/s (pay-by-traffic EIPs)" }),
    },
    natBandwidthMbps: {
        type: "integer",
        description:
            "Peak bandwidth in Mbit/s of the NAT gateway's EIP: the outbound traffic of every node without an EIP (first-boot downloads, image pulls, OS updates). Pay by traffic: the cap costs nothing by itself; each GB does.",
        default: 100,
        schema: z
            .int()
            .min(1, { error: "must be between 1 and 200 Mbit/s (pay-by-traffic EIPs)" })
            .max(200, { error: "must be between 1 and 200 Mbit/s (pay-by-traffic EIPs)" }),
    },
    image: {
        type: "object",
        description:
            "The Fedora CoreOS image: {id: m-...} for an image already in the region, or {ossBucket, ossObject} to import the aliyun qcow2 uploaded to OSS in the same region.",
        required: true,
        schema: z.union(
            [
                z.strictObject({ id: z.string().regex(/^m-[a-z0-9]+$/, { error: "must be an ECS image id like m-bp1..." }) }),
                z.strictObject({
                    ossBucket: z.string().regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, { error: "must be an OSS bucket name" }),
                    ossObject: z
                        .string()
                        .regex(/^[^/].*\.qcow2$/, { error: "must be the OSS object key of the Fedora CoreOS aliyun .qcow2" }),
                }),
            ],
            { error: "must be {id: m-...} or {ossBucket, ossObject}" },
        ),
    },
    bastionInstanceType: {
        type: "string",
        description: "Instance type of the bastion.",
        default: "ecs.t6-c1m1.large",
        schema: instanceType,
    },
    controllers: {
        type: "object",
        description:
            "The control-plane pool: {count (1, 3 or 5), instanceType, systemDiskGb, diskCategory, etcdDiskGb, roll}. Each controller runs an etcd member on its own protected disk. Controllers keep their image, Ignition config, instance type and system disk until listed in roll (one index per pulumi up), which replaces that one with the current settings.",
        schema: z.strictObject({
            ...poolSchema(
                { count: 1, min: 1, max: 5, instanceType: "ecs.g7.large", systemDiskGb: 50 },
                {
                    values: [1, 3, 5],
                    why: "must be 1, 3 or 5 (etcd needs an odd number of members for a quorum)",
                },
            ),
            etcdDiskGb: z
                .int()
                .min(20, { error: "must be between 20 and 1024 GiB" })
                .max(1024, { error: "must be between 20 and 1024 GiB" })
                .default(20),
            roll: z
                .array(z.int({ error: "must be a controller index" }).min(0, { error: "must be a controller index (0, 1, ...)" }))
                .default([]),
        }),
    },
    workers: {
        type: "object",
        description:
            "The worker pool: {count (0-1000), instanceType, systemDiskGb, diskCategory, labels, taints, rollBatch, drainTimeoutMinutes}. Workers are replaced when their Ignition config or image changes: rollBatch at a time (default 2) in one pulumi up, each drained first (PodDisruptionBudgets respected, at most drainTimeoutMinutes, default 15).",
        schema: z.strictObject({
            ...poolSchema({ count: 2, min: 0, max: 1000, instanceType: "ecs.g7.xlarge", systemDiskGb: 100 }),
            ...rollingSchema(2),
            labels: z.record(labelKey, labelValue).default({}),
            taints: z.array(taint).default([]),
        }),
    },
    edge: {
        type: "object",
        description:
            "The edge pool that runs ingress and holds one EIP per node (claims edge-0, edge-1, ...): {count, instanceType, systemDiskGb, diskCategory, labels, taints, rollBatch, drainTimeoutMinutes}. Replaced like workers, rollBatch at a time (default 1; fewer than count, so that ingress keeps serving).",
        schema: z.strictObject({
            ...poolSchema({ count: 1, min: 0, max: 100, instanceType: "ecs.c7.large", systemDiskGb: 50 }),
            ...rollingSchema(1),
            labels: z.record(labelKey, labelValue).default({}),
            taints: z.array(taint).default([]),
        }),
    },
    dns: {
        type: "object",
        description:
            "Cluster DNS (CoreDNS): {upstreams: resolvers for names outside the cluster (default: Alibaba's VPC resolvers), stubDomains: {domain: [resolver, ...]}}.",
        schema: z.strictObject({
            upstreams: z.array(z.string()).min(1, { error: "must name at least one resolver" }).default(["100.100.2.136", "100.100.2.138"]),
            stubDomains: z.record(dnsName, z.array(z.string()).min(1, { error: "must name at least one resolver" })).default({}),
        }),
    },
    osUpdateServerUrl: {
        type: "string",
        description:
            "Zincati's update server (Cincinnati base URL), e.g. one inside the VPC to avoid paying for external traffic. Empty: Fedora's public server.",
        default: "",
        schema: z.union([z.literal(""), z.url({ protocol: /^https?$/, error: "must be an http(s) URL or empty" })]),
    },
    mirrors: {
        type: "object",
        description:
            "Where nodes get images and downloads instead of their upstreams (mainland China; docs/mirrors.md): {registries: {<upstream registry>: <URL holding its repositories under the same paths>}, files: <base URL holding every download>, fedora: <base URL of a Fedora mirror for the NFS node's packages>, fallbackToUpstream (default true), create: {filesBucket, registryNamespace: {instanceId}}}. Unset: every artifact from its upstream. npm run mirror -- --stack <stage> fills them.",
        schema: z.strictObject({
            registries: z.record(registryHost, mirrorUrl).default({}),
            files: emptyOr(mirrorUrl),
            fedora: emptyOr(mirrorUrl),
            fallbackToUpstream: z.boolean({ error: "must be true or false" }).default(true),
            create: z
                .strictObject({
                    filesBucket: z.boolean({ error: "must be true or false" }).default(false),
                    registryNamespace: z
                        .strictObject({
                            instanceId: z.string().regex(/^cri-[a-z0-9]+$/, {
                                error: "must be the id of a Container Registry Enterprise Edition instance (cri-...)",
                            }),
                        })
                        .optional(),
                })
                .default({ filesBucket: false }),
        }),
    },
    pki: {
        type: "object",
        description:
            "Certificate lifetimes in days: {caValidityDays, certValidityDays, renewBeforeDays}. A pulumi up inside the renewal window re-issues the leaf certificates and copies them to the controllers.",
        schema: z.strictObject({
            caValidityDays: z
                .int()
                .min(365, { error: "must be between 365 and 7300 days" })
                .max(7300, { error: "must be between 365 and 7300 days" })
                .default(3650),
            certValidityDays: z
                .int()
                .min(30, { error: "must be between 30 and 1825 days" })
                .max(1825, { error: "must be between 30 and 1825 days" })
                .default(365),
            renewBeforeDays: z
                .int()
                .min(7, { error: "must be between 7 and 180 days" })
                .max(180, { error: "must be between 7 and 180 days" })
                .default(30),
        }),
    },
    secretsEncryptionKeys: {
        type: "array",
        items: "string",
        description:
            "Names of the keys that encrypt Secrets in etcd (each 32 random bytes the program generates and keeps as a secret). The first encrypts, all decrypt. Rotate by adding a new name second, then moving it first, then dropping the old one, one pulumi up each (docs/security.md).",
        default: ["key-1"],
        schema: z
            .array(
                z.string().regex(/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/, {
                    error: "must be a lower-case name of 1 to 32 letters, digits and dashes",
                }),
            )
            .min(1, { error: "must name at least one key (Secrets are always encrypted)" })
            .max(4, { error: "must name at most 4 keys (a rotation needs two)" })
            .refine((names) => new Set(names).size === names.length, { error: "must not name a key twice" }),
    },
    storage: {
        type: "object",
        description:
            "The NFS server behind the default StorageClass: {kind: nas, nasStorageType} (Alibaba NAS) or {kind: nfs-server, instanceType, diskGb, diskCategory} (an ECS node with its own disk); both take reclaimPolicy (default Retain).",
        default: { kind: "nas" },
        schema: storage,
    },
    keepDataOnDestroy: {
        type: "boolean",
        description:
            "Whether pulumi destroy (after pulumi state unprotect) leaves the stage's data in the account: the NFS data disk or NAS file system, the disks' automatic snapshots and the etcd backup bucket. Default true; false only for throwaway stages (pull-request stacks), whose destroy then deletes all of it.",
        default: true,
        schema: z.boolean({ error: "must be true or false" }),
    },
    etcdBackup: {
        type: "object",
        description:
            "etcd backups to an OSS bucket the stage creates (versioned, encrypted, reachable only from the stage's VPC): {intervalHours (default 6: a snapshot every 6 hours, from the etcd leader), retentionDays (default 30: older snapshots and versions expire)}.",
        schema: z.strictObject({
            intervalHours: z
                .int({ error: "must be a whole number of hours" })
                .refine((h) => [1, 2, 3, 4, 6, 8, 12, 24].includes(h), {
                    error: "must divide a day: 1, 2, 3, 4, 6, 8, 12 or 24 hours (the timer fires at the same hours every day)",
                })
                .default(6),
            retentionDays: z
                .int({ error: "must be a whole number of days" })
                .min(1, { error: "must be between 1 and 3650 days" })
                .max(3650, { error: "must be between 1 and 3650 days" })
                .default(30),
        }),
    },
    ingress: {
        type: "object",
        description:
            "Ingress on the edge pool (ingress-nginx on ports 80/443 of every edge node): {rateLimitRps (per client IP), tlsSecretName (an existing Secret for the default certificate)}.",
        schema: z.strictObject({
            rateLimitRps: z
                .int()
                .min(1, { error: "must be between 1 and 10000" })
                .max(10000, { error: "must be between 1 and 10000" })
                .default(20),
            tlsSecretName: z.union([z.literal(""), dnsName]).default(""),
        }),
    },
    ingressTlsCertificate: {
        type: "string",
        description: "PEM certificate chain for the ingress default certificate; set together with ingressTlsKey.",
        default: "",
        schema: z.union([z.literal(""), z.string().regex(/^-----BEGIN CERTIFICATE-----/, { error: "must be a PEM certificate" })]),
    },
    ingressTlsKey: {
        type: "string",
        description: "PEM private key of ingressTlsCertificate. A secret: pulumi config set --secret ingressTlsKey < key.pem",
        default: "",
        secret: true,
        schema: z.union([z.literal(""), z.string().regex(/^-----BEGIN [A-Z ]*PRIVATE KEY-----/, { error: "must be a PEM private key" })]),
    },
    apps: {
        type: "array",
        items: "object",
        description:
            "Business services: spring-boot services {kind, name, image, replicas, port, managementPort, cpu, memory, maxRamPercentage, config, env, route, autoscale, canary, runAsUser, readOnlyRootFilesystem} and react apps {kind, name, image, replicas, route, apiServices, runAsUser, readOnlyRootFilesystem}. Apps run non-root under the restricted Pod Security level (docs/kubernetes.md).",
        default: [],
        schema: z.array(app),
    },
    appSecrets: {
        type: "object",
        description:
            "Secret environment variables per app: {<app>: {<NAME>: value}}. A secret: pulumi config set --secret --path appSecrets.orders.DB_PASSWORD ...",
        default: {},
        secret: true,
        schema: z.record(
            appName,
            z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be an environment variable name" }), z.string()),
        ),
    },
    observability: {
        type: "object",
        description:
            "Metrics, logs, dashboards and alerts (docs/observability.md): {enabled, metrics: {retentionDays, diskGb, memory}, logs: {backend: loki (in the cluster, on disk volumes) or sls (Alibaba Log Service), retentionDays, diskGb, slsProject}, grafana: {host}, alerts: {receivers: [{name, wechat | webhook | email}], routes: [{receiver, matchers}], defaultReceiver}}. Needs at least one worker or edge node with room for about 3 GiB of requests.",
        schema: observability,
    },
    alertSecrets: {
        type: "object",
        description:
            "Secrets of the alert receivers, by receiver name: {<receiver>: {apiSecret (wechat), url (webhook, often holding a token), authPassword (email)}}. A secret: pulumi config set --secret --path alertSecrets.oncall.url https://...",
        default: {},
        secret: true,
        schema: z.record(
            appName,
            z.strictObject({
                apiSecret: z.string().optional(),
                url: z.string().optional(),
                authPassword: z.string().optional(),
            }),
        ),
    },
} satisfies Record<string, KeySpec>;

export type KeyName = keyof typeof KEYS;

/**
 * Keys and fields that existed once, with what a stage file that still sets one must do (CHANGES.md), so that the
 * loader says so instead of suggesting a similar key.
 */
export const REMOVED_KEYS: Readonly<Record<string, string>> = {
    publicVswitchCidr: "was removed: the vSwitches are derived from vpcCidr (CHANGES.md); delete it from the stage file",
    nodeVswitchCidrs: "was removed: the vSwitches are derived from vpcCidr (CHANGES.md); delete it from the stage file",
    clusterDomain: "was removed: the cluster domain is always cluster.local (CHANGES.md); delete it from the stage file",
    "ingress.mode": "was removed: ingress always runs on the edge nodes' host network (CHANGES.md); delete it from the stage file",
    "storage.keepDataOnDestroy":
        "was moved: it covers all of the stage's data (snapshots and etcd backups too), so it is the top-level key keepDataOnDestroy (CHANGES.md)",
};

/** The default of a key as Pulumi.yaml declares it (object keys: their schema applied to `{}`). */
export function keyDefault(name: KeyName): unknown {
    const spec: KeySpec = KEYS[name];
    if (spec.required) {
        return undefined;
    }
    return spec.schema.parse(spec.default ?? {});
}
