/**
 * Where each node goes and what it is called, decided from the config alone (Typhoon's "predictable names"),
 * so that certificates, etcd's member list and every Ignition config can be rendered before any instance exists.
 */
import { API_SERVER_PORT } from "../layout/cluster";
import { cidr, nthAddress } from "./cidr";
import { StageConfig } from "./types";

export type PoolName = "controllers" | "workers" | "edge";

/** What every planned node has. */
interface PlannedNodeBase {
    readonly index: number;
    /** Hostname = ECS instance name = Kubernetes node name = etcd member name ("coreos-platform-dev-controller-0"). */
    readonly hostname: string;
    /** Zone and node vSwitch (index into `network.nodeVswitches`): round-robin over the zones. */
    readonly zone: string;
    readonly vswitchIndex: number;
}

/** A controller: an etcd member at a fixed private address, so certificates and peers can name it in advance. */
export interface PlannedController extends PlannedNodeBase {
    readonly pool: "controllers";
    /** Its fixed private address. */
    readonly ip: string;
}

/** A worker: takes an address from its vSwitch. */
export interface PlannedWorker extends PlannedNodeBase {
    readonly pool: "workers";
}

/** An edge node: a worker that holds an EIP claim and runs ingress. */
export interface PlannedEdgeNode extends PlannedNodeBase {
    readonly pool: "edge";
    /** The EIP claim it holds ("edge-0", ...). */
    readonly eipClaim: string;
}

/** One node of a pool, by pool. */
export type PlannedNode = PlannedController | PlannedWorker | PlannedEdgeNode;

/** The stage's node layout and the addresses that must be known before anything exists. */
export interface ClusterPlan {
    readonly controllers: readonly PlannedController[];
    readonly workers: readonly PlannedWorker[];
    readonly edge: readonly PlannedEdgeNode[];
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

/** The hostname (= Node name) of node `index` of a pool: `<project>-<stage>-<role>-<index>`. */
export function nodeHostname(namePrefix: string, pool: PoolName, index: number): string {
    return `${namePrefix}-${SINGULAR[pool]}-${index}`;
}

/**
 * Plans every node. Fixed addresses sit at the top of their vSwitch, below the three addresses Alibaba
 * reserves at its end, because ECS hands out automatic addresses from the bottom.
 */
export function planCluster(cfg: StageConfig): ClusterPlan {
    const vswitches = cfg.network.nodeVswitches.map((v) => cidr(v.cidr));
    const lastUsable = (i: number) => Number(vswitches[i].last - vswitches[i].first) - 4;
    const zoneCount = cfg.network.nodeVswitches.length;
    const base = (pool: PoolName, i: number): PlannedNodeBase => {
        const vswitchIndex = i % zoneCount;
        return {
            index: i,
            hostname: nodeHostname(cfg.namePrefix, pool, i),
            zone: cfg.network.nodeVswitches[vswitchIndex].zone,
            vswitchIndex,
        };
    };
    const indices = (count: number) => Array.from({ length: count }, (_, i) => i);
    const apiServerInternalAddress = nthAddress(vswitches[0], lastUsable(0));
    return {
        // Controller k sits in zone k mod Z, one address below the previous controller of that zone
        // (the load balancer holds the top address of the first vSwitch).
        controllers: indices(cfg.controllers.count).map((i): PlannedController => {
            const node = base("controllers", i);
            return {
                ...node,
                pool: "controllers",
                ip: nthAddress(vswitches[node.vswitchIndex], lastUsable(node.vswitchIndex) - 1 - Math.floor(i / zoneCount)),
            };
        }),
        workers: indices(cfg.workers.count).map((i): PlannedWorker => ({ ...base("workers", i), pool: "workers" })),
        edge: indices(cfg.edge.count).map((i): PlannedEdgeNode => ({ ...base("edge", i), pool: "edge", eipClaim: `edge-${i}` })),
        apiServerInternalAddress,
        apiServerUrl: `https://${apiServerInternalAddress}:${API_SERVER_PORT}`,
        // Below the first vSwitch's controllers (at most 3 of the 5 sit there, since there are at least 2 zones).
        nfsServerAddress: nthAddress(vswitches[0], lastUsable(0) - 8),
    };
}
