/**
 * What the control plane's files are rendered from: plain data taken from the stage config and the cluster plan.
 */
import { API_SERVER_PORT, ClusterPlan } from "../config/plan";
import { NODE_POD_PREFIX, StageConfig } from "../config/stageConfig";
import { ControllerAddress } from "../pki/specs";

export { API_SERVER_PORT };

/**
 * How a controller reaches its own kube-apiserver. Controllers never go through the API load balancer:
 * Alibaba's layer-4 CLB drops connections from a backend server that it forwards back to the same server.
 */
export const LOCAL_API_SERVER_URL = `https://127.0.0.1:${API_SERVER_PORT}`;

/** Each node's pod network (flannel reads the node's podCIDR); the same /24 the stage config checks against. */
export const NODE_CIDR_MASK_SIZE = NODE_POD_PREFIX;

/** The stage-wide settings of the control plane. */
export interface ControlPlaneSettings {
    /** The stage's name prefix: the kubeconfigs' cluster name and kube-controller-manager's --cluster-name. */
    readonly clusterName: string;
    readonly clusterDomain: string;
    readonly serviceCidr: string;
    readonly podCidr: string;
    /** Every controller (etcd member), in plan order. */
    readonly controllers: readonly ControllerAddress[];
}

/** The settings of a stage. */
export function controlPlaneSettings(cfg: StageConfig, plan: ClusterPlan): ControlPlaneSettings {
    return {
        clusterName: cfg.namePrefix,
        clusterDomain: cfg.cluster.domain,
        serviceCidr: cfg.network.serviceCidr,
        podCidr: cfg.network.podCidr,
        controllers: plan.controllers.map((c) => ({ hostname: c.hostname, ip: c.privateIp! })),
    };
}

/** The service-account token issuer (and audience): the in-cluster name of the API, as kubeadm uses. */
export function serviceAccountIssuer(clusterDomain: string): string {
    return `https://kubernetes.default.svc.${clusterDomain}`;
}
