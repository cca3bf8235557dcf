import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterPlan } from "../config/plan";
import { StageConfig } from "../config/types";
import { appsSettings, platformSettings } from "../k8s";
import { API_SERVER_PORT } from "../layout/cluster";
import { Apps } from "./apps";
import { KubernetesPlatform, ServingTls } from "./kubernetesPlatform";

/** What the cluster layer takes from the layers below it. */
export interface ClusterLayerArgs {
    /** The control plane's provider: every object is applied through it. */
    readonly provider: k8s.Provider;
    /** The NFS export behind the default StorageClass (SharedStorage's server and path). */
    readonly nfs: { readonly server: pulumi.Input<string>; readonly path: string };
    /** metrics-server's serving certificate (`ClusterPki.metricsServerTls`). */
    readonly metricsServerTls: ServingTls;
    /** What must exist before any object is applied (the node pools). Defaults to nothing. */
    readonly dependsOn?: pulumi.Resource[];
}

/**
 * Everything inside the cluster, as index.ts composes it: the platform (`KubernetesPlatform`), then the stage's apps
 * (`Apps`) once the platform's ingress class exists. The real-engine suite deploys exactly this.
 */
export function createClusterLayer(
    cfg: StageConfig,
    plan: ClusterPlan,
    args: ClusterLayerArgs,
): { platform: KubernetesPlatform; apps: Apps } {
    const platform = new KubernetesPlatform(
        "cluster",
        {
            provider: args.provider,
            settings: platformSettings(cfg),
            apiServer: { host: plan.apiServerInternalAddress, port: API_SERVER_PORT },
            nfs: args.nfs,
            metricsServerTls: args.metricsServerTls,
        },
        { dependsOn: args.dependsOn ?? [] },
    );
    const apps = new Apps(
        "apps",
        { provider: args.provider, settings: appsSettings(cfg), ingressClassName: platform.ingressClassName },
        { dependsOn: [platform] },
    );
    return { platform, apps };
}
