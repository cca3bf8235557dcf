/**
 * The numbers and names the cluster is built around that more than one layer needs: ports the security groups
 * open and the renderers configure, the pod network's per-node size, the cluster's DNS domain, and the addresses
 * derived from them. Like layout/node.ts, this module imports nothing.
 */

/** The API server's port: on the controllers, on the internal load balancer and on its EIP. */
export const API_SERVER_PORT = 6443;

/**
 * How a controller reaches its own kube-apiserver. Controllers never go through the API load balancer:
 * Alibaba's layer-4 CLB drops connections from a backend server that it forwards back to the same server.
 */
export const LOCAL_API_SERVER_URL = `https://127.0.0.1:${API_SERVER_PORT}`;

/** etcd's client and peer ports (controllers only). */
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;

/** The kubelet's API, which kube-apiserver calls for logs, exec and port-forward. */
export const KUBELET_PORT = 10250;

/** The VXLAN port flannel uses and the node security group opens. */
export const FLANNEL_VXLAN_PORT = 8472;

/** Flannel (through kube-controller-manager's node CIDR allocator) gives each node a /24 of the pod network. */
export const NODE_POD_PREFIX = 24;

/**
 * The cluster's DNS domain. Fixed (no stage differs in it): Services are `<name>.<namespace>.svc.cluster.local`,
 * the apiserver certificate names `kubernetes.default.svc.cluster.local`, and the kubelets search it.
 */
export const CLUSTER_DOMAIN = "cluster.local";

/** The URL Zincati's fleet_lock strategy is rendered with: FleetLock's Service at its fixed ClusterIP, port 80. */
export function fleetlockUrl(serviceIp: string): string {
    return `http://${serviceIp}/`;
}

/**
 * The identity every client of the shared storage is squashed to (`all_squash` on the NFS node, on NAS): nobody, whose
 * uid and gid are 65534 on Fedora CoreOS and in the provisioner's image. Nothing that mounts the export is root on it.
 */
export const NFS_SQUASH_ID = 65534;

/** On NAS, the directory the provisioner carves volumes from: made once, owned by `NFS_SQUASH_ID` (the root is root's). */
export const NAS_VOLUMES_DIR = "/volumes";

/** Metrics ports that Prometheus scrapes and the security groups open to the nodes (observability on). */
export const METRICS_PORTS = {
    /** node_exporter on every node, the bastion and the NFS node included. */
    nodeExporter: 9100,
    /** etcd's metrics listener (HTTPS, client certificates from the etcd CA), apart from its client port. */
    etcd: 2381,
    /** kube-controller-manager's and kube-scheduler's secure ports (authenticated, authorized by the API server). */
    controllerManager: 10257,
    scheduler: 10259,
    /** ingress-nginx's metrics and health port on the edge nodes' host network. */
    ingressNginx: 10254,
} as const;
