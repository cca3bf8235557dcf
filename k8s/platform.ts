/**
 * Everything the cluster runs for itself, as plain objects: pod network (flannel, kube-proxy), cluster DNS,
 * FleetLock, resource metrics (metrics-server, for the autoscalers), NFS storage, block storage (Alibaba's disk CSI
 * driver) and the ingress gateway. `components/kubernetesPlatform.ts` creates them.
 */
import { contains, isIpv4Address, parseCidr } from "../config/cidr";
import type { StageConfig } from "../config/types";
import { BlockStorageSettings, diskCsiRoleName, renderBlockStorage } from "./blockStorage";
import { renderClusterDns } from "./clusterDns";
import { FLEETLOCK_NAMESPACE, renderFleetlock } from "./fleetlock";
import { MetricsServerTls, renderMetricsServer } from "./metricsServer";
import { INGRESS_NAMESPACE, INGRESS_POD_LABELS, IngressSettings, renderIngress } from "./ingress";
import { ClusterNetworks, renderNetworkPolicyEnforcer, renderPlatformNetworkPolicies } from "./networkPolicies";
import { ApiServerEndpoint, renderFlannel, renderKubeProxy } from "./nodeNetwork";
import { KubeObject } from "./objects";
import { NfsExport, STORAGE_NAMESPACE, renderStorage } from "./storage";

/** The parts of the stage config the platform needs (build it with `platformSettings`). */
export interface PlatformSettings {
    /** The pod network flannel manages and kube-proxy treats as cluster-internal. */
    readonly podCidr: string;
    /** The Service network; the fixed Service IPs below lie inside it. */
    readonly serviceCidr: string;
    /** The VPC (the controllers' API servers, the NFS server and the kubelets, as network policies see them). */
    readonly vpcCidr: string;
    /** The `kubernetes` Service's address (the first of the service CIDR). */
    readonly apiServiceIp: string;
    /** kube-dns's ClusterIP (the 10th service address, = kubelet clusterDNS). */
    readonly dnsServiceIp: string;
    /** FleetLock's ClusterIP (Zincati's fleet_lock base_url). */
    readonly fleetlockServiceIp: string;
    /** Upstream resolvers and stub domains of cluster DNS. */
    readonly dns: { readonly upstreams: readonly string[]; readonly stubDomains: Readonly<Record<string, readonly string[]>> };
    /** What happens to a volume's data when its claim is deleted. */
    readonly reclaimPolicy: "Retain" | "Delete";
    /** Ingress: rate limit, default certificate and the edge pool. */
    readonly ingress: IngressSettings;
    /** The disk CSI driver and the `disk` StorageClass. */
    readonly blockStorage: BlockStorageSettings;
}

/** Everything the platform is rendered from: the stage's settings and what the cloud side provides. */
export interface PlatformInput extends PlatformSettings {
    /** The API server's real address, for the agents that run before Service IPs work. */
    readonly apiServer: ApiServerEndpoint;
    /** The NFS export behind the default StorageClass. */
    readonly nfs: NfsExport;
    /** metrics-server's serving certificate, key and the CA bundle of its APIService. */
    readonly metricsServerTls: MetricsServerTls;
}

/** Picks the platform's settings out of a stage config. */
export function platformSettings(cfg: StageConfig): PlatformSettings {
    return {
        podCidr: cfg.network.podCidr,
        serviceCidr: cfg.network.serviceCidr,
        vpcCidr: cfg.network.vpcCidr,
        apiServiceIp: cfg.cluster.apiServiceIp,
        dnsServiceIp: cfg.cluster.dnsServiceIp,
        fleetlockServiceIp: cfg.cluster.fleetlockServiceIp,
        dns: cfg.dns,
        reclaimPolicy: cfg.storage.reclaimPolicy,
        blockStorage: {
            ramRoleName: diskCsiRoleName(cfg.namePrefix),
            controllerCount: cfg.controllers.count,
            reclaimPolicy: cfg.storage.reclaimPolicy,
        },
        ingress: {
            tlsSecretName: cfg.ingress.tlsSecretName,
            ...(cfg.ingress.tls ? { tls: cfg.ingress.tls } : {}),
            edge: { count: cfg.edge.count, labels: cfg.edge.labels, taints: cfg.edge.taints },
        },
    };
}

/**
 * The rules the platform's own arguments must meet, as "<property> = <value>: <rule>" lines (empty when fine).
 * Stage config is validated by its loader; this guards what the cloud side and the composition pass in.
 */
export function platformInputProblems(input: PlatformInput): string[] {
    const problems: string[] = [];
    const report = (key: string, value: unknown, rule: string) => problems.push(`${key} = ${JSON.stringify(value)}: ${rule}`);
    const { host, port } = input.apiServer;
    if (!isIpv4Address(host) && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(host)) {
        report("apiServer.host", host, "must be an IPv4 address or DNS name (the API load balancer's internal address)");
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
        report("apiServer.port", port, "must be a port number between 1 and 65535");
    }
    if (!input.nfs.path.startsWith("/")) {
        report("nfs.path", input.nfs.path, 'must be an absolute path on the NFS server ("/" for Alibaba NAS)');
    }
    if (typeof input.nfs.server === "string" && input.nfs.server.trim() === "") {
        report("nfs.server", input.nfs.server, "must name the NFS server (NAS mount-target domain or the NFS node's address)");
    }
    const services = parseCidr(input.serviceCidr);
    for (const key of ["dnsServiceIp", "fleetlockServiceIp"] as const) {
        const ip = input[key];
        const address = parseCidr(`${ip}/32`);
        if ("error" in address) {
            report(key, ip, "must be an IPv4 address");
        } else if (!("error" in services) && !contains(services, address)) {
            report(key, ip, `must lie inside serviceCidr ${input.serviceCidr} (a ClusterIP outside it is refused)`);
        }
    }
    if (input.dnsServiceIp === input.fleetlockServiceIp) {
        report("fleetlockServiceIp", input.fleetlockServiceIp, "must differ from dnsServiceIp");
    }
    return problems;
}

/** The networks the policies name, from the platform's or the apps' settings. */
export function clusterNetworks(s: Pick<PlatformSettings, "podCidr" | "vpcCidr" | "apiServiceIp">): ClusterNetworks {
    return { podCidr: s.podCidr, vpcCidr: s.vpcCidr, apiServiceIp: s.apiServiceIp };
}

/** Every object of the platform, in a stable order. */
export function renderPlatformObjects(input: PlatformInput): KubeObject[] {
    return [
        ...renderFlannel(input.podCidr, input.apiServer),
        ...renderKubeProxy(input.podCidr, input.apiServer),
        ...renderClusterDns({ serviceIp: input.dnsServiceIp, ...input.dns }),
        ...renderFleetlock(input.fleetlockServiceIp),
        ...renderMetricsServer(input.metricsServerTls),
        ...renderStorage(input.nfs, input.reclaimPolicy),
        ...renderBlockStorage(input.blockStorage),
        ...renderIngress(input.ingress),
        ...renderNetworkPolicyEnforcer(input.apiServer),
        ...renderPlatformNetworkPolicies(clusterNetworks(input), STORAGE_NAMESPACE, FLEETLOCK_NAMESPACE, {
            namespace: INGRESS_NAMESPACE,
            labels: INGRESS_POD_LABELS,
        }),
    ];
}
