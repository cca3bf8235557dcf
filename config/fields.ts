/**
 * The schemas of the config keys' fields, shared by several keys (config/schema.ts): what a CIDR, an instance type,
 * a label, a taint, an app or a storage choice must look like, each with the message a stage file's author reads.
 */
import { z } from "zod";

export const cidrText = z.string({ error: "must be a string like 10.0.0.0/16" });

export const instanceType = z.string().regex(/^ecs\.[a-z0-9-]+\.[a-z0-9]+$/, { error: "must be an ECS instance type like ecs.g7.large" });

/**
 * Every disk category of a pool (and of the NFS node) is also its nodes' system disk category, and the program always
 * encrypts system disks. Alibaba encrypts a system disk at instance creation only on ESSDs ("Disks that can be encrypted
 * during ECS instance creation: enhanced SSDs (ESSDs)"; the other categories only when a custom image is copied), so
 * ECS would refuse the instance: the loader says so first, naming the categories.
 */
const NOT_ENCRYPTABLE_AS_SYSTEM_DISK = ["cloud_essd_entry", "cloud_auto", "cloud_ssd", "cloud_efficiency"] as const;
const diskCategory = z
    .enum(["cloud_essd", ...NOT_ENCRYPTABLE_AS_SYSTEM_DISK], {
        error: "must be one of cloud_essd, cloud_essd_entry, cloud_auto, cloud_ssd, cloud_efficiency",
    })
    .refine((category) => category === "cloud_essd", {
        error:
            `must be cloud_essd: it is also the nodes' system disk category, system disks are always encrypted, and Alibaba encrypts ` +
            `a system disk at instance creation only on ESSDs (${NOT_ENCRYPTABLE_AS_SYSTEM_DISK.join(", ")} cannot be)`,
    });

const systemDiskGb = (dflt: number) =>
    z
        .int({ error: "must be a whole number of GiB" })
        .min(20, { error: "must be at least 20 GiB (Alibaba's minimum system disk)" })
        .max(2048, { error: "must be at most 2048 GiB" })
        .default(dflt);

/** Kubernetes label keys a kubelet may set on its own Node (NodeRestriction refuses other kubernetes.io keys). */
export const labelKey = z
    .string()
    .regex(/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, {
        error: "must be a Kubernetes label key (optional DNS prefix/, then up to 63 alphanumerics, '-', '_', '.')",
    })
    .refine(
        (key) => {
            const prefix = key.includes("/") ? key.split("/")[0] : "";
            const restricted = /(^|\.)(kubernetes\.io|k8s\.io)$/.test(prefix);
            return !restricted || /(^|\.)(node\.kubernetes\.io|kubelet\.kubernetes\.io)$/.test(prefix);
        },
        {
            error:
                "uses a kubernetes.io/k8s.io prefix other than node.kubernetes.io/ or kubelet.kubernetes.io/; " +
                "the NodeRestriction admission plugin would refuse the kubelet's registration",
        },
    );

export const labelValue = z
    .string()
    .regex(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/, {
        error: "must be a Kubernetes label value (up to 63 alphanumerics, '-', '_', '.')",
    })
    .max(63, { error: "must be at most 63 characters" });

export const taint = z.strictObject({
    key: labelKey,
    value: labelValue.optional(),
    effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"], {
        error: "must be NoSchedule, PreferNoSchedule or NoExecute",
    }),
});

export function poolSchema(
    defaults: { count: number; min: number; max: number; instanceType: string; systemDiskGb: number },
    countRule?: { values: number[]; why: string },
) {
    let count = z
        .int({ error: "must be a whole number" })
        .min(defaults.min, { error: `must be between ${defaults.min} and ${defaults.max}` })
        .max(defaults.max, { error: `must be between ${defaults.min} and ${defaults.max}` });
    if (countRule) {
        count = count.refine((n) => countRule.values.includes(n), { error: countRule.why }) as unknown as typeof count;
    }
    return {
        count: count.default(defaults.count),
        instanceType: instanceType.default(defaults.instanceType),
        systemDiskGb: systemDiskGb(defaults.systemDiskGb),
        diskCategory: diskCategory.default("cloud_essd"),
    };
}

/**
 * How a pool whose nodes are replaced when their config changes (workers, edge) is rolled: `rollBatch` nodes at a
 * time, each one drained (PodDisruptionBudgets respected) within `drainTimeoutMinutes` before its instance goes.
 */
export function rollingSchema(defaultBatch: number) {
    return {
        rollBatch: z
            .int({ error: "must be a whole number of nodes" })
            .min(1, { error: "must be between 1 and 100 nodes" })
            .max(100, { error: "must be between 1 and 100 nodes" })
            .default(defaultBatch),
        drainTimeoutMinutes: z
            .int({ error: "must be a whole number of minutes" })
            .min(1, { error: "must be between 1 and 120 minutes" })
            .max(120, { error: "must be between 1 and 120 minutes" })
            .default(15),
    };
}

export const dnsName = z.string().regex(/^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/, {
    error: "must be a lower-case DNS name",
});

/** Names that become Kubernetes object names with suffixes ("-canary", "-config"). */
export const appName = z.string().regex(/^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/, {
    error: "must be a DNS-1035 label of at most 40 characters (lower-case letters, digits, '-', starting with a letter)",
});

const image = z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9._/]*[a-z0-9])?(:[0-9]+)?(\/[-a-z0-9._]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/, {
        error: "must be a container image reference like registry.example.com/team/app:1.2.3",
    })
    .refine((ref) => /@sha256:/.test(ref) || /:[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(ref.split("/").pop() ?? ""), {
        error: "must pin a tag or a digest (a re-run has to deploy the same image)",
    })
    .refine((ref) => !/:latest$/.test(ref), { error: "must not use the tag 'latest' (a re-run has to deploy the same image)" });

const cpuQuantity = z.string().regex(/^([0-9]+m|[0-9]+(\.[0-9]+)?)$/, { error: "must be a CPU quantity like 500m or 2" });
const memoryQuantity = z.string().regex(/^[0-9]+(Ki|Mi|Gi|Ti)$/, { error: "must be a memory quantity like 512Mi or 2Gi" });
const port = z
    .int({ error: "must be a port number" })
    .min(1, { error: "must be between 1 and 65535" })
    .max(65535, { error: "must be between 1 and 65535" });

const route = z.strictObject({
    host: dnsName,
    path: z
        .string()
        .regex(/^\/[A-Za-z0-9._~\-/]*$/, { error: "must be a URL path starting with /" })
        .default("/"),
});

/**
 * What the restricted Pod Security level leaves an app to choose: the (non-root) uid its container runs as, and whether
 * its root filesystem is read-only (a writable emptyDir is always mounted where the runtime writes: /tmp, and nginx's
 * cache and pid directories). docs/kubernetes.md, "Apps", says what an image must do to run so.
 */
const podSecurity = (uid: number) => ({
    runAsUser: z
        .int({ error: "must be a whole number" })
        .min(1, { error: "must be a non-root uid between 1 and 2147483647 (the apps namespace enforces the restricted level)" })
        .max(2147483647, { error: "must be a non-root uid between 1 and 2147483647" })
        .default(uid),
    readOnlyRootFilesystem: z.boolean({ error: "must be true or false" }).default(true),
});

const springBootApp = z.strictObject({
    kind: z.literal("spring-boot"),
    // 1000: the uid of the Paketo/Cloud Native Buildpacks images Spring Boot's own build (bootBuildImage) makes.
    ...podSecurity(1000),
    name: appName,
    image,
    replicas: z.int().min(1, { error: "must be between 1 and 100" }).max(100, { error: "must be between 1 and 100" }).default(2),
    port: port.default(8080),
    managementPort: port.default(8081),
    cpu: cpuQuantity.default("500m"),
    memory: memoryQuantity.default("1Gi"),
    maxRamPercentage: z
        .number()
        .min(25, { error: "must be between 25 and 90 (percent of the container memory limit)" })
        .max(90, { error: "must be between 25 and 90 (percent of the container memory limit)" })
        .default(75),
    config: z.record(z.string(), z.unknown()).default({}),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be an environment variable name" }), z.string()).default({}),
    route: route.optional(),
    autoscale: z
        .strictObject({
            minReplicas: z.int().min(1, { error: "must be at least 1" }),
            maxReplicas: z.int().max(100, { error: "must be at most 100" }),
            cpuUtilization: z
                .int()
                .min(10, { error: "must be between 10 and 100 (percent)" })
                .max(100, { error: "must be between 10 and 100 (percent)" })
                .default(70),
        })
        .optional(),
    canary: z
        .strictObject({
            image,
            weight: z
                .int({ error: "must be a whole number" })
                .min(0, { error: "must be between 0 and 100 (percent of requests)" })
                .max(100, { error: "must be between 0 and 100 (percent of requests)" }),
        })
        .optional(),
});

const reactApp = z.strictObject({
    kind: z.literal("react"),
    // 101: the nginx user of the official nginx and nginx-unprivileged images.
    ...podSecurity(101),
    name: appName,
    image,
    replicas: z.int().min(1, { error: "must be between 1 and 100" }).max(100, { error: "must be between 1 and 100" }).default(2),
    cpu: cpuQuantity.default("100m"),
    memory: memoryQuantity.default("128Mi"),
    route,
    apiServices: z.array(appName).default([]),
});

export const app = z.discriminatedUnion("kind", [springBootApp, reactApp], {
    error: "must have kind spring-boot or react",
});

export const storage = z.discriminatedUnion(
    "kind",
    [
        z.strictObject({
            kind: z.literal("nas"),
            nasStorageType: z
                .enum(["Capacity", "Performance", "Premium"], { error: "must be Capacity, Performance or Premium" })
                .default("Capacity"),
            reclaimPolicy: z.enum(["Retain", "Delete"], { error: "must be Retain or Delete" }).default("Retain"),
        }),
        z.strictObject({
            kind: z.literal("nfs-server"),
            instanceType: instanceType.default("ecs.g7.large"),
            diskGb: z
                .int()
                .min(20, { error: "must be between 20 and 32768 GiB" })
                .max(32768, { error: "must be between 20 and 32768 GiB" })
                .default(100),
            diskCategory: diskCategory.default("cloud_essd"),
            reclaimPolicy: z.enum(["Retain", "Delete"], { error: "must be Retain or Delete" }).default("Retain"),
        }),
    ],
    { error: "must have kind nas or nfs-server" },
);

/** An optional string: "" (or nothing) is absent, anything else must pass `schema` (whose own messages are kept). */
export function emptyOr<T extends z.ZodType<string | undefined>>(schema: T) {
    return z.preprocess((v) => (v === "" ? undefined : v), schema.optional());
}

/** An upstream registry as image references name it: a host with a dot or a port (or localhost). */
export const registryHost = z
    .string()
    .regex(/^(localhost|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+)(:[0-9]{1,5})?$|^localhost(:[0-9]{1,5})?$/, {
        error: "must be a registry host as image references name it (registry.k8s.io, quay.io, host:port)",
    });

/**
 * A mirror's URL: http(s), no credentials (it is written into user data and node files, readable on every node), no
 * query or fragment; a trailing slash is dropped.
 */
export const mirrorUrl = z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL like https://mirror.example.com/path" })
    .refine((u) => !/^[a-z]+:\/\/[^/]*@/.test(u), {
        error: "must not carry credentials: the URL is written into every node's files, readable by every process there",
    })
    .refine((u) => !u.includes("?") && !u.includes("#"), { error: "must not have a query or a fragment" })
    .transform((u) => u.replace(/\/+$/, ""));

const alertMatcher = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*(=|!=|=~|!~)"?[^"]*"?$/, {
    error: 'must be an Alertmanager matcher like severity="critical" or namespace=~"apps|shop"',
});

const alertReceiver = z.union(
    [
        z.strictObject({
            name: appName,
            /** WeChat Work (企业微信) through its application message API; the secret is alertSecrets.<name>.apiSecret. */
            wechat: z.strictObject({
                corpId: z.string().regex(/^[A-Za-z0-9]+$/, { error: "must be the WeChat Work corp id (ww...)" }),
                agentId: z.string().regex(/^[0-9]+$/, { error: "must be the numeric agent id of the WeChat Work application" }),
                toParty: z.string().default(""),
                toUser: z.string().default(""),
                toTag: z.string().default(""),
            }),
        }),
        /** Any HTTP endpoint that takes Alertmanager's webhook JSON; the URL is alertSecrets.<name>.url. */
        z.strictObject({ name: appName, webhook: z.strictObject({ sendResolved: z.boolean().default(true) }) }),
        z.strictObject({
            name: appName,
            email: z.strictObject({
                to: z.email({ error: "must be an email address" }),
                from: z.email({ error: "must be an email address" }),
                smarthost: z.string().regex(/^[a-z0-9.-]+:[0-9]+$/, { error: "must be host:port of an SMTP server" }),
                authUsername: z.string().default(""),
            }),
        }),
    ],
    { error: "must be {name, wechat: {...}}, {name, webhook: {...}} or {name, email: {...}}" },
);

const diskGb = (dflt: number) =>
    z
        .int({ error: "must be a whole number of GiB" })
        .min(20, { error: "must be between 20 and 32768 GiB (an ESSD disk holds at least 20 GiB)" })
        .max(32768, { error: "must be between 20 and 32768 GiB (an ESSD disk holds at least 20 GiB)" })
        .default(dflt);

const days = (dflt: number, max: number) =>
    z
        .int({ error: "must be a whole number of days" })
        .min(1, { error: `must be between 1 and ${max} days` })
        .max(max, { error: `must be between 1 and ${max} days` })
        .default(dflt);

/** The observability stack of a stage (config key `observability`). */
export const observability = z.strictObject({
    enabled: z.boolean({ error: "must be true or false" }).default(true),
    metrics: z
        .strictObject({
            retentionDays: days(15, 365),
            diskGb: diskGb(50),
            memory: memoryQuantity.default("2Gi"),
        })
        .default({ retentionDays: 15, diskGb: 50, memory: "2Gi" }),
    logs: z
        .strictObject({
            backend: z.enum(["loki", "sls"], { error: "must be loki (in the cluster) or sls (Alibaba Log Service)" }).default("loki"),
            retentionDays: days(7, 3650),
            diskGb: diskGb(50),
            /** sls: the Log Service project (names are unique per region across accounts); "" for <project>-<stage>-logs. */
            slsProject: z
                .union([
                    z.literal(""),
                    z.string().regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, { error: "must be a Log Service project name" }),
                ])
                .default(""),
        })
        .default({ backend: "loki", retentionDays: 7, diskGb: 50, slsProject: "" }),
    grafana: z.strictObject({ host: z.union([z.literal(""), dnsName]).default("") }).default({ host: "" }),
    alerts: z
        .strictObject({
            receivers: z.array(alertReceiver).default([]),
            routes: z
                .array(
                    z.strictObject({
                        receiver: appName,
                        matchers: z.array(alertMatcher).default([]),
                        continue: z.boolean().default(false),
                    }),
                )
                .default([]),
            defaultReceiver: z.union([z.literal(""), appName]).default(""),
        })
        .default({ receivers: [], routes: [], defaultReceiver: "" }),
});
