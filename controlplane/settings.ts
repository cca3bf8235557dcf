/**
 * What the control plane's files are rendered from: plain data taken from the stage config and the cluster plan.
 */
import { ClusterPlan } from "../config/plan";
import { CLUSTER_DOMAIN } from "../layout/cluster";
import { StageConfig } from "../config/types";
import { ControllerAddress } from "../pki/specs";
import { RegistrySettings, registrySettings } from "./registries";

/** The stage-wide settings of the control plane. */
export interface ControlPlaneSettings {
    /** The stage's name prefix: the kubeconfigs' cluster name and kube-controller-manager's --cluster-name. */
    readonly clusterName: string;
    readonly serviceCidr: string;
    readonly podCidr: string;
    /** Every controller (etcd member), in plan order. */
    readonly controllers: readonly ControllerAddress[];
    /** The registries the controllers pull from (static pods, etcd, kubectl) and their mirrors. */
    readonly registries: RegistrySettings;
}

/** The settings of a stage. */
export function controlPlaneSettings(cfg: StageConfig, plan: ClusterPlan): ControlPlaneSettings {
    return {
        clusterName: cfg.namePrefix,
        serviceCidr: cfg.network.serviceCidr,
        podCidr: cfg.network.podCidr,
        controllers: plan.controllers,
        registries: registrySettings(cfg),
    };
}

/** The service-account token issuer (and audience): the in-cluster name of the API, as kubeadm uses. */
export const SERVICE_ACCOUNT_ISSUER = `https://kubernetes.default.svc.${CLUSTER_DOMAIN}`;
