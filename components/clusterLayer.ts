import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterPlan } from "../config/plan";
import { StageConfig } from "../config/types";
import { appsSettings, platformSettings } from "../k8s";
import { API_SERVER_PORT } from "../layout/cluster";
import { Apps } from "./apps";
import { KubernetesPlatform, ServingTls } from "./kubernetesPlatform";
import { Observability, ObservabilityExternals } from "./observability";
import { observabilitySettings } from "../k8s/observability";

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
    /** What observability takes from outside the cluster; required when the stage has observability on. */
    readonly observability?: ObservabilityExternals;
}

/**
 * Everything inside the cluster, as index.ts composes it: the platform (`KubernetesPlatform`), then the stage's apps
 * (`Apps`) once the platform's ingress class exists, and observability (`Observability`) once the platform's `disk`
 * StorageClass does. The real-engine suite deploys exactly this.
 */
export function createClusterLayer(
    cfg: StageConfig,
    plan: ClusterPlan,
    args: ClusterLayerArgs,
): { platform: KubernetesPlatform; apps: Apps; observability?: Observability } {
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
    if (!cfg.observability.enabled) {
        return { platform, apps };
    }
    if (!args.observability) {
        throw new Error(`createClusterLayer: stage ${cfg.stage} has observability on but no observability externals were given`);
    }
    const observability = new Observability(
        "observability",
        {
            provider: args.provider,
            settings: observabilitySettings(cfg),
            alerts: cfg.observability.alerts,
            alertSecrets: cfg.alertSecrets,
            ...args.observability,
        },
        { dependsOn: [platform] },
    );
    return { platform, apps, observability };
}
