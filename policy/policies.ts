/**
 * The platform's guard rails, as CrossGuard policies. This module only declares them: `policy/index.ts` serves
 * them as a policy pack (constructing a `PolicyPack` starts a gRPC server at once), and the tests call them
 * directly with the resources the real program registers under the mock runtime.
 *
 * Every policy looks at resource types by their type token rather than through `@pulumi/alicloud`'s classes,
 * so the pack loads without the provider SDK. Resource policies call `args.notApplicable()` for other types,
 * as `@pulumi/policy` (1.18 and later) expects.
 */
import type {
    PolicyResource,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
} from "@pulumi/policy";
import { parseCidr } from "../config/cidr";
import { ALIBABA_DEFAULT_EIP_QUOTA } from "../config/schema";
import { USER_DATA_LIMIT } from "../ignition/input";
import { API_SERVER_PORT } from "../layout/cluster";
import { ignitionContents } from "../ignition/reader";
import { installedFiles } from "../controlplane/scripts";

/** Resource type tokens the policies inspect. */
export const TYPES = {
    instance: "alicloud:ecs/instance:Instance",
    ecsDisk: "alicloud:ecs/ecsDisk:EcsDisk",
    /** The deprecated disk resource: same rules, in case someone reaches for it. */
    disk: "alicloud:ecs/disk:Disk",
    securityGroupRule: "alicloud:ecs/securityGroupRule:SecurityGroupRule",
    eipAddress: "alicloud:ecs/eipAddress:EipAddress",
    /** The deprecated EIP resource (ecs.EipAddress replaced it); still an EIP that counts against the quota. */
    eip: "alicloud:ecs/eip:Eip",
    /** A block of EIPs at once: never through the pool. */
    eipSegment: "alicloud:ecs/eipSegmentAddress:EipSegmentAddress",
    eipAssociation: "alicloud:ecs/eipAssociation:EipAssociation",
    loadBalancer: "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer",
    nasFileSystem: "alicloud:nas/fileSystem:FileSystem",
    /** The component that owns every EIP (components/eipPool.ts). */
    eipPool: "platform:index:EipPool",
    /** The component of the node pools (components/nodePool.ts); its `controllers` instance holds etcd. */
    nodePool: "platform:index:NodePool",
    nasAccessRule: "alicloud:nas/accessRule:AccessRule",
    remoteCommand: "command:remote:Command",
    copyToRemote: "command:remote:CopyToRemote",
    certRequest: "tls:index/certRequest:CertRequest",
    apiService: "kubernetes:apiregistration.k8s.io/v1:APIService",
    deployment: "kubernetes:apps/v1:Deployment",
    daemonSet: "kubernetes:apps/v1:DaemonSet",
    namespace: "kubernetes:core/v1:Namespace",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    kubernetesProvider: "pulumi:providers:kubernetes",
} as const;

/** The one private key allowed in user data: the bastion's SSH host key (it runs no pods; docs/security.md). */
const BASTION_HOST_KEY_FILE = "file /etc/ssh/ssh_host_ed25519_key";

/** Resource types that allocate EIPs; each one holds one address of the account's quota. */
const EIP_TYPES: readonly string[] = [TYPES.eipAddress, TYPES.eip];

/** Ports that must never be reachable from the internet: SSH and the Kubernetes API. */
export const ADMIN_PORTS: readonly number[] = [22, API_SERVER_PORT];

/**
 * A source network at least this wide (a shorter prefix) counts as "the internet". The stage loader refuses
 * admin CIDRs wider than /8 for the same reason: no team network is that large, and 0.0.0.0/1 + 128.0.0.0/1 is
 * 0.0.0.0/0 in two rules.
 */
const WIDEST_TEAM_PREFIX = 8;

/** What `data=` tag marks a disk whose loss loses data (components/nodePool.ts, components/storage.ts). */
const DATA_DISK_TAGS: readonly string[] = ["etcd", "nfs"];

/** An OpenSSH, PKCS#1, PKCS#8 or SEC1 private key in PEM form. */
const PRIVATE_KEY = /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----/;

/** Runs `validate` for resources of the given types only; other types are "not applicable". */
function forTypes(types: readonly string[], validate: ResourceValidation): ResourceValidation {
    return (args, reportViolation) => {
        if (!types.includes(args.type)) {
            args.notApplicable(`applies to ${types.join(", ")}`);
        }
        return validate(args, reportViolation);
    };
}

/** True when an Alibaba rule (`ipProtocol`, `portRange` "from/to", -1/-1 for all) admits `port` over TCP. */
export function admitsTcpPort(ipProtocol: unknown, portRange: unknown, port: number): boolean {
    const protocol = String(ipProtocol ?? "").toLowerCase();
    if (protocol === "all") {
        return true;
    }
    if (protocol !== "tcp") {
        return false;
    }
    const match = /^(-?\d+)\/(-?\d+)$/.exec(String(portRange ?? ""));
    if (!match) {
        // A range we cannot read is treated as open: a guard rail fails closed.
        return true;
    }
    const [from, to] = [Number(match[1]), Number(match[2])];
    return (from === -1 && to === -1) || (from <= port && port <= to);
}

/** Why a rule's source counts as the whole internet, or undefined if it does not. */
function internetSource(props: Record<string, unknown>): string | undefined {
    if (typeof props.cidrIp === "string" && props.cidrIp !== "") {
        const network = parseCidr(props.cidrIp);
        if ("error" in network) {
            return `${props.cidrIp} (not a CIDR this policy can read)`;
        }
        if (network.prefix < WIDEST_TEAM_PREFIX) {
            return network.text;
        }
    }
    if (typeof props.ipv6CidrIp === "string" && /\/0$/.test(props.ipv6CidrIp.trim())) {
        return props.ipv6CidrIp;
    }
    return undefined;
}

/** SSH (22) and the Kubernetes API (6443) are never open to 0.0.0.0/0 (or anything wider than /8, or ::/0). */
export const noAdminPortsFromInternet: ResourceValidationPolicy = {
    name: "no-admin-ports-from-internet",
    description:
        "No security-group rule opens SSH (22) or the Kubernetes API (6443) to the internet (0.0.0.0/0, anything wider than /8, or ::/0).",
    enforcementLevel: "mandatory",
    validateResource: forTypes([TYPES.securityGroupRule], (args, reportViolation) => {
        const p = args.props;
        if (p.type !== "ingress" || (p.policy !== undefined && p.policy !== "accept")) {
            return;
        }
        const source = internetSource(p);
        if (source === undefined) {
            return;
        }
        for (const port of ADMIN_PORTS) {
            if (admitsTcpPort(p.ipProtocol, p.portRange, port)) {
                reportViolation(
                    `rule ${args.name} opens port ${port} (${p.ipProtocol} ${p.portRange}) to ${source}; ` +
                        "SSH goes through the bastion from adminCidrs only, the API through its ACL'd load balancer",
                );
            }
        }
    }),
};

/** No ECS instance (or load balancer) gets a public address of its own; public addresses are pool EIPs. */
export const noFixedPublicIp: ResourceValidationPolicy = {
    name: "no-fixed-public-ip",
    description:
        "No ECS instance gets a fixed public IP (internetMaxBandwidthOut > 0) and no load balancer is internet-facing: public addresses come only from the EIP pool.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([TYPES.instance, TYPES.loadBalancer], (args, reportViolation) => {
        const p = args.props;
        if (args.type === TYPES.loadBalancer) {
            if (p.addressType === "internet") {
                reportViolation(`load balancer ${args.name} is internet-facing; make it intranet and associate a pool EIP (claim) with it`);
            }
            return;
        }
        if (Number(p.internetMaxBandwidthOut ?? 0) > 0) {
            reportViolation(
                `instance ${args.name} sets internetMaxBandwidthOut=${p.internetMaxBandwidthOut}, which gives it a fixed public IP outside the EIP quota ` +
                    "(and stops an EIP from attaching); set 0 and take an EIP claim from the pool",
            );
        }
        if (p.allocatePublicIp === true) {
            reportViolation(`instance ${args.name} sets allocatePublicIp; take an EIP claim from the pool instead`);
        }
    }),
};

/** True for an EIP resource that the stage's EIP pool owns. */
function isPoolEip(r: PolicyResource): boolean {
    return EIP_TYPES.includes(r.type) && r.parent?.type === TYPES.eipPool;
}

/** Every EIP is a named claim of the EIP pool, and every association attaches one of those. */
export const eipOnlyFromPool: StackValidationPolicy = {
    name: "eip-only-from-pool",
    description: "Every EIP is created by the EipPool component (one named claim each) and every EIP association attaches a pool EIP.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        // Only types, parents and dependencies are read: they are known at preview, unlike allocation ids.
        for (const r of args.resources) {
            if ((EIP_TYPES.includes(r.type) && !isPoolEip(r)) || r.type === TYPES.eipSegment) {
                reportViolation(
                    `${r.type.split(":").pop()} ${r.name} is not a claim of the EIP pool (${TYPES.eipPool}); add a named claim instead`,
                    r.urn,
                );
            }
            if (r.type === TYPES.eipAssociation && !r.dependencies.some(isPoolEip)) {
                reportViolation(
                    `EIP association ${r.name} does not attach an EIP of the pool; use EipPool.claim(<name>).allocationId`,
                    r.urn,
                );
            }
        }
    },
};

/** The stage's EIPs fit the account's quota (policy config `quota`, default 20). */
export const eipQuota: StackValidationPolicy = {
    name: "eip-quota",
    description: `The stack holds no more EIPs than the account's quota (policy config "quota", default ${ALIBABA_DEFAULT_EIP_QUOTA}).`,
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            quota: {
                type: "integer",
                minimum: 1,
                default: ALIBABA_DEFAULT_EIP_QUOTA,
                description: "EIPs the Alibaba account may hold in the stack's region (Alibaba's default quota is 20).",
            },
        },
    },
    validateStack: (args, reportViolation) => {
        // The CLI fills in the schema default; a direct call (tests, older CLIs) may pass no config at all.
        const quota = args.getConfig<{ quota?: number }>().quota ?? ALIBABA_DEFAULT_EIP_QUOTA;
        const eips = args.resources.filter((r) => EIP_TYPES.includes(r.type));
        if (eips.length > quota) {
            reportViolation(
                `the stack holds ${eips.length} EIPs (${eips
                    .map((r) => r.name)
                    .sort()
                    .join(", ")}) but the quota is ${quota}; ` +
                    "lower edge.count, or raise the quota with Alibaba first and then the policy config",
            );
        }
    },
};

/** System disks and cloud disks are encrypted. */
export const disksEncrypted: ResourceValidationPolicy = {
    name: "disks-encrypted",
    description: "Every ECS system disk and data disk (instance data disks and cloud disks) is encrypted.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([TYPES.instance, TYPES.ecsDisk, TYPES.disk], (args, reportViolation) => {
        const p = args.props;
        if (args.type !== TYPES.instance) {
            if (p.encrypted !== true) {
                reportViolation(`disk ${args.name} is not encrypted; set encrypted: true`);
            }
            return;
        }
        if (p.systemDiskEncrypted !== true) {
            reportViolation(`instance ${args.name}: the system disk is not encrypted; set systemDiskEncrypted: true`);
        }
        for (const [i, disk] of ((p.dataDisks ?? []) as Record<string, unknown>[]).entries()) {
            if (disk.encrypted !== true) {
                reportViolation(`instance ${args.name}: dataDisks[${i}] is not encrypted; set encrypted: true`);
            }
        }
    }),
};

/** True when a URN names the `controllers` node pool ("urn:pulumi:<stack>::<project>::<types>::controllers"). */
function isControllersPool(urn: string | undefined): boolean {
    const parts = (urn ?? "").split("::");
    return parts.length >= 4 && parts[parts.length - 1] === "controllers" && parts[parts.length - 2].split("$").pop() === TYPES.nodePool;
}

/** True for a disk that holds etcd's or the NFS server's data. */
function isDataDisk(args: ResourceValidationArgs): boolean {
    // A disk of the controllers pool is an etcd disk even if someone dropped its tag.
    return DATA_DISK_TAGS.includes(String((args.props.tags ?? {}).data)) || isControllersPool(args.opts.parent);
}

/** etcd data disks, the NFS data disk and NAS file systems are `protect`ed. */
export const dataStoresProtected: ResourceValidationPolicy = {
    name: "data-stores-protected",
    description:
        "etcd data disks (tag data=etcd, or any disk of the controllers pool), the NFS server's data disk (data=nfs) and NAS file systems are protected against deletion.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([TYPES.ecsDisk, TYPES.disk, TYPES.nasFileSystem], (args, reportViolation) => {
        if (args.type !== TYPES.nasFileSystem && !isDataDisk(args)) {
            return;
        }
        if (!args.opts.protect) {
            const what =
                args.type === TYPES.nasFileSystem ? "NAS file system" : `data disk (data=${(args.props.tags ?? {}).data ?? "etcd"})`;
            reportViolation(
                `${what} ${args.name} is not protected; create it with { protect: true } so that no pulumi up or destroy deletes it`,
            );
        }
    }),
};

/** The raw Ignition JSON of an instance's user data (ECS takes base64 of the raw bytes). */
function rawUserData(props: Record<string, unknown>): Buffer | undefined {
    return typeof props.userData === "string" && props.userData !== "" ? Buffer.from(props.userData, "base64") : undefined;
}

/** User data fits Alibaba's 16 KB budget (raw bytes, before base64). */
export const userDataWithinBudget: ResourceValidationPolicy = {
    name: "user-data-within-budget",
    description: `ECS user data is at most ${USER_DATA_LIMIT} bytes of raw Ignition JSON (Alibaba documents 16 KB before base64).`,
    enforcementLevel: "mandatory",
    validateResource: forTypes([TYPES.instance], (args, reportViolation) => {
        const raw = rawUserData(args.props);
        if (raw && raw.length > USER_DATA_LIMIT) {
            reportViolation(`instance ${args.name}: user data is ${raw.length} bytes, over the ${USER_DATA_LIMIT}-byte budget`);
        }
    }),
};

/** Where in an Ignition config a private key sits, if anywhere (never the key itself). */
export function privateKeyLocations(raw: string): string[] {
    const found: string[] = [];
    if (PRIVATE_KEY.test(raw)) {
        found.push("the config text");
    }
    let contents;
    try {
        contents = ignitionContents(raw);
    } catch {
        // Not JSON, or an unreadable data: URL: the text search above is all that can be done.
        return found;
    }
    for (const file of contents.files) {
        if (PRIVATE_KEY.test(file.contents.toString("latin1"))) {
            found.push(`file ${file.path}`);
        }
    }
    for (const unit of contents.units) {
        if (PRIVATE_KEY.test(unit.contents) || unit.dropins.some((d) => PRIVATE_KEY.test(d.contents))) {
            found.push(`unit ${unit.name}`);
        }
    }
    return found;
}

/** No private key in user data: it is readable by every process on the node and by anyone who may describe it. */
export const userDataWithoutPrivateKeys: ResourceValidationPolicy = {
    name: "user-data-without-private-keys",
    description:
        "ECS user data holds no private key (PEM or OpenSSH), not even inside compressed Ignition files: keys travel over SSH after boot. The one exception is the bastion's own SSH host key (tag role=bastion, at /etc/ssh/ssh_host_ed25519_key): it runs no pods.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([TYPES.instance], (args, reportViolation) => {
        const raw = rawUserData(args.props);
        if (!raw) {
            return;
        }
        const bastion = (args.props.tags ?? {}).role === "bastion";
        for (const where of privateKeyLocations(raw.toString("utf8")).filter((w) => !(bastion && w === BASTION_HOST_KEY_FILE))) {
            reportViolation(
                `instance ${args.name}: user data holds a private key in ${where}; copy keys over SSH through the bastion instead`,
            );
        }
    }),
};

/** Every SSH connection verifies its host: `@pulumi/command` accepts any host key when none is given. */
export const sshHostKeysVerified: ResourceValidationPolicy = {
    name: "ssh-host-keys-verified",
    description:
        "Every remote command's SSH connection, and its bastion hop, names the host key to verify (connection.hostKey, connection.proxy.hostKey): without one @pulumi/command accepts any host, and the commands carry the cluster's keys.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([TYPES.remoteCommand, TYPES.copyToRemote], (args, reportViolation) => {
        const connection = (args.props.connection ?? {}) as Record<string, unknown>;
        if (!connection.hostKey) {
            reportViolation(`command ${args.name}: its SSH connection does not verify the host key; set connection.hostKey`);
        }
        const proxy = connection.proxy as Record<string, unknown> | undefined;
        if (proxy && !proxy.hostKey) {
            reportViolation(`command ${args.name}: its bastion hop does not verify the bastion's host key; set connection.proxy.hostKey`);
        }
    }),
};

/** The only system:masters credential is the break-glass one, which is never an output (docs/security.md). */
export const systemMastersOnlyBreakGlass: ResourceValidationPolicy = {
    name: "system-masters-only-break-glass",
    description:
        "No certificate request asks for the system:masters group (which RBAC cannot revoke) except the break-glass one (a ClusterPki's `*-break-glass-csr`), which the program never exports.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([TYPES.certRequest], (args, reportViolation) => {
        const organization = (args.props.subject ?? {}).organization;
        const groups = Array.isArray(organization) ? organization : [organization];
        if (groups.includes("system:masters") && !args.name.endsWith("-break-glass-csr")) {
            reportViolation(
                `certificate request ${args.name} asks for system:masters, which no RBAC binding can revoke; use a group bound to cluster-admin`,
            );
        }
    }),
};

/** Every arg of every container of a workload's pod template. */
function containerArgs(props: Record<string, unknown>): string[] {
    const spec = props.spec as { template?: { spec?: { initContainers?: unknown[]; containers?: unknown[] } } } | undefined;
    const pod = spec?.template?.spec ?? {};
    return [...(pod.initContainers ?? []), ...(pod.containers ?? [])].flatMap((c) =>
        [...(((c as Record<string, unknown>).command as string[]) ?? []), ...(((c as Record<string, unknown>).args as string[]) ?? [])].map(
            String,
        ),
    );
}

/** Nothing talks to the API server or a kubelet without verifying its certificate. */
export const kubernetesTlsVerified: ResourceValidationPolicy = {
    name: "kubernetes-tls-verified",
    description:
        "No APIService skips TLS verification (insecureSkipTLSVerify) or lacks a CA bundle, no workload runs with --kubelet-insecure-tls or --insecure-skip-tls-verify, and no Kubernetes provider's kubeconfig sets insecure-skip-tls-verify.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([TYPES.apiService, TYPES.deployment, TYPES.daemonSet, TYPES.kubernetesProvider], (args, reportViolation) => {
        const p = args.props;
        if (args.type === TYPES.apiService) {
            if (p.spec?.insecureSkipTLSVerify === true) {
                reportViolation(`APIService ${args.name} skips TLS verification; give it the caBundle of its server's CA`);
            } else if (p.spec?.service && !p.spec?.caBundle) {
                reportViolation(`APIService ${args.name} has no caBundle: the aggregation layer could not verify its server`);
            }
            return;
        }
        if (args.type === TYPES.kubernetesProvider) {
            if (typeof p.kubeconfig === "string" && /insecure-skip-tls-verify:\s*true/.test(p.kubeconfig)) {
                reportViolation(`Kubernetes provider ${args.name}: its kubeconfig skips TLS verification of the API server`);
            }
            return;
        }
        for (const arg of containerArgs(p).filter((a) => /^--(kubelet-insecure-tls|insecure-skip-tls-verify)(=true)?$/.test(a))) {
            reportViolation(
                `${args.type.split(":").pop()} ${args.name} runs with ${arg}; verify the kubelets' certificates against the cluster CA`,
            );
        }
    }),
};

/** Nothing that mounts the shared storage acts as root on it (the NFS node's export, NAS's rules). */
export const sharedStorageSquashed: ResourceValidationPolicy = {
    name: "shared-storage-squashes-clients",
    description:
        "NAS access rules squash their clients (all_squash or root_squash); only a single address (the bastion, /32) may keep root. An NFS server's /etc/exports (delivered over SSH, or in user data) never says no_root_squash or no_all_squash.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([TYPES.nasAccessRule, TYPES.instance, TYPES.remoteCommand], (args, reportViolation) => {
        const p = args.props;
        const rootForClients = (exportsText: string | undefined) =>
            exportsText !== undefined && /no_root_squash|no_all_squash/.test(exportsText);
        if (args.type === TYPES.remoteCommand) {
            if (typeof p.stdin === "string" && rootForClients(installedFiles(p.stdin).get("/etc/exports"))) {
                reportViolation(
                    `command ${args.name}: the /etc/exports it installs gives root to its clients (no_root_squash); export with all_squash`,
                );
            }
            return;
        }
        if (args.type === TYPES.nasAccessRule) {
            if (p.userAccessType === "no_squash" && !/\/32$/.test(String(p.sourceCidrIp))) {
                reportViolation(
                    `NAS access rule ${args.name} gives root to everything in ${p.sourceCidrIp} (no_squash); use all_squash (only the bastion's /32 may keep root)`,
                );
            }
            return;
        }
        const raw = rawUserData(p);
        if (!raw) {
            return;
        }
        let exportsText: string | undefined;
        try {
            exportsText = ignitionContents(raw.toString("utf8"))
                .files.find((f) => f.path === "/etc/exports")
                ?.contents.toString("utf8");
        } catch {
            return;
        }
        if (rootForClients(exportsText)) {
            reportViolation(`instance ${args.name}: /etc/exports gives root to its clients (no_root_squash); export with all_squash`);
        }
    }),
};

/** The business apps' namespace enforces the restricted Pod Security level. */
export const appsNamespaceRestricted: ResourceValidationPolicy = {
    name: "apps-namespace-restricted",
    description:
        "The namespace `apps` enforces the restricted Pod Security level: no app pod runs as root, escalates privileges, keeps capabilities or mounts an NFS export or host path inline.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([TYPES.namespace], (args, reportViolation) => {
        const metadata = args.props.metadata ?? {};
        if (metadata.name !== "apps") {
            return;
        }
        const level = (metadata.labels ?? {})["pod-security.kubernetes.io/enforce"];
        if (level !== "restricted") {
            reportViolation(
                `namespace apps (${args.name}) enforces Pod Security "${level ?? "(the cluster default)"}"; it must enforce restricted`,
            );
        }
    }),
};

/** The apps namespace denies traffic by default: a NetworkPolicy selecting every pod, for ingress and egress. */
export const appsDefaultDeny: StackValidationPolicy = {
    name: "apps-default-deny",
    description:
        "When the namespace `apps` exists, a NetworkPolicy in it selects every pod for ingress and egress, so an app is reached only where a policy says so.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const named = (type: string, namespace: string | undefined) =>
            args.resources.filter((r) => r.type === type && (r.props.metadata ?? {}).namespace === namespace);
        const apps = args.resources.filter((r) => r.type === TYPES.namespace && (r.props.metadata ?? {}).name === "apps");
        if (apps.length === 0) {
            return;
        }
        const denies = named(TYPES.networkPolicy, "apps").some((p) => {
            const spec = p.props.spec ?? {};
            const selectsAll = Object.keys(spec.podSelector ?? {}).length === 0;
            const types: unknown[] = spec.policyTypes ?? [];
            return selectsAll && types.includes("Ingress") && types.includes("Egress") && !spec.ingress && !spec.egress;
        });
        if (!denies) {
            for (const ns of apps) {
                reportViolation(
                    `namespace apps (${ns.name}) has no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)`,
                    ns.urn,
                );
            }
        }
    },
};

/** Every policy of the pack, in the order the README lists them. */
export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
    noAdminPortsFromInternet,
    noFixedPublicIp,
    eipOnlyFromPool,
    eipQuota,
    disksEncrypted,
    dataStoresProtected,
    userDataWithinBudget,
    userDataWithoutPrivateKeys,
    sshHostKeysVerified,
    systemMastersOnlyBreakGlass,
    kubernetesTlsVerified,
    sharedStorageSquashed,
    appsNamespaceRestricted,
    appsDefaultDeny,
];

/** The pack's name (what `pulumi preview --policy-pack policy` reports violations under). */
export const POLICY_PACK_NAME = "coreos-platform-guard-rails";
