/**
 * Where each node goes and what it is called, decided from the config alone (Typhoon's "predictable names"),
 * so that certificates, etcd's member list and every Ignition config can be rendered before any instance exists.
 */
import { API_SERVER_PORT } from "../layout/cluster";
import { cidr, nthAddress } from "./cidr";
import { StageConfig } from "./types";

export type PoolName = "controllers" | "workers" | "edge";

/** One node of a pool. */
export interface PlannedNode {
    readonly pool: PoolName;
    readonly index: number;
    /** Hostname = ECS instance name = Kubernetes node name = etcd member name ("coreos-platform-dev-controller-0"). */
    readonly hostname: string;
    /** Zone and node vSwitch (index into `network.nodeVswitches`): round-robin over the zones. */
    readonly zone: string;
    readonly vswitchIndex: number;
    /** Fixed private address (controllers only; other nodes take one from the vSwitch). */
    readonly privateIp?: string;
    /** The EIP claim the node holds (edge only). */
    readonly eipClaim?: string;
}

/** The stage's node layout and the addresses that must be known before anything exists. */
export interface ClusterPlan {
    readonly controllers: readonly PlannedNode[];
    readonly workers: readonly PlannedNode[];
    readonly edge: readonly PlannedNode[];
    /** The internal API load balancer's fixed address (in the first node vSwitch). */
    readonly apiServerInternalAddress: string;
    /** https://<internal address>:6443, what kubelets and kube-proxy talk to. */
    readonly apiServerUrl: string;
    /**
     * The NFS node's fixed address (storage kind nfs-server), in the first node vSwitch: PersistentVolumes record
     * their server's address, so it must survive a replacement of the node.
     */
    readonly nfsServerAddress: string;
}

const SINGULAR: Record<PoolName, string> = { controllers: "controller", workers: "worker", edge: "edge" };

/**
 * Plans every node. Fixed addresses sit at the top of their vSwitch, below the three addresses Alibaba
 * reserves at its end, because ECS hands out automatic addresses from the bottom.
 */
export function planCluster(cfg: StageConfig): ClusterPlan {
    const vswitches = cfg.network.nodeVswitches.map((v) => cidr(v.cidr));
    const lastUsable = (i: number) => Number(vswitches[i].last - vswitches[i].first) - 4;
    const zoneCount = cfg.network.nodeVswitches.length;
    const pool = (name: PoolName, count: number, extra: (i: number, vswitchIndex: number) => Partial<PlannedNode>): PlannedNode[] =>
        Array.from({ length: count }, (_, i) => {
            const vswitchIndex = i % zoneCount;
            return {
                pool: name,
                index: i,
                hostname: `${cfg.namePrefix}-${SINGULAR[name]}-${i}`,
                zone: cfg.network.nodeVswitches[vswitchIndex].zone,
                vswitchIndex,
                ...extra(i, vswitchIndex),
            };
        });
    const apiServerInternalAddress = nthAddress(vswitches[0], lastUsable(0));
    return {
        // Controller k sits in zone k mod Z, one address below the previous controller of that zone
        // (the load balancer holds the top address of the first vSwitch).
        controllers: pool("controllers", cfg.controllers.count, (i, v) => ({
            privateIp: nthAddress(vswitches[v], lastUsable(v) - 1 - Math.floor(i / zoneCount)),
        })),
        workers: pool("workers", cfg.workers.count, () => ({})),
        edge: pool("edge", cfg.edge.count, (i) => ({ eipClaim: `edge-${i}` })),
        apiServerInternalAddress,
        apiServerUrl: `https://${apiServerInternalAddress}:${API_SERVER_PORT}`,
        // Below the first vSwitch's controllers (at most 3 of the 5 sit there, since there are at least 2 zones).
        nfsServerAddress: nthAddress(vswitches[0], lastUsable(0) - 8),
    };
}
