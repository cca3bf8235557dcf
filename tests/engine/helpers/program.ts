/**
 * The inline program the engine suite deploys: the program's cluster layer (`KubernetesPlatform` and `Apps`) with
 * the stage's config as the real engine hands it over (the real loader reads it), through a Kubernetes provider
 * pointed at the booted control plane. Alibaba resources cannot be created here, so what they would give the
 * layer is passed in: the NFS export and the edge nodes' addresses.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Apps } from "../../../components/apps";
import { KubernetesPlatform } from "../../../components/kubernetesPlatform";
import { loadStageConfig, planCluster } from "../../../config";
import { API_SERVER_PORT, appsSettings, platformSettings } from "../../../k8s";

/** The annotation that tells the Kubernetes provider not to wait for readiness. */
export const SKIP_AWAIT = "pulumi.com/skipAwait";

/** What the cloud side would give the cluster layer. */
export interface CloudStandIns {
    readonly kubeconfig: string;
    readonly nfs: { readonly server: string; readonly path: string };
    readonly edgeNodeIps: readonly string[];
}

/**
 * The platform's images cannot be pulled here, so its workloads never become ready: in this suite only, every
 * Kubernetes object gets the provider's skip-await annotation (a stack transform; the program never sets it).
 */
function skipAwait(args: pulumi.ResourceTransformArgs): pulumi.ResourceTransformResult | undefined {
    if (!args.custom || !args.type.startsWith("kubernetes:") || args.type.startsWith("pulumi:providers:")) return undefined;
    const metadata = (args.props.metadata ?? {}) as Record<string, unknown>;
    const annotations = (metadata.annotations ?? {}) as Record<string, string>;
    return { props: { ...args.props, metadata: { ...metadata, annotations: { ...annotations, [SKIP_AWAIT]: "true" } } }, opts: args.opts };
}

/** The inline program: the cluster layer of the stack's stage, as index.ts composes it. */
export function clusterLayerProgram(standIns: CloudStandIns): () => Promise<void> {
    return async () => {
        pulumi.runtime.registerResourceTransform(skipAwait);
        const cfg = loadStageConfig();
        const plan = planCluster(cfg);
        const provider = new k8s.Provider("cluster-provider", { kubeconfig: pulumi.secret(standIns.kubeconfig) });
        const cluster = new KubernetesPlatform("cluster", {
            provider,
            settings: platformSettings(cfg),
            apiServer: { host: plan.apiServerInternalAddress, port: API_SERVER_PORT },
            nfs: standIns.nfs,
            edgeNodeIps: [...standIns.edgeNodeIps],
        });
        new Apps("apps", { provider, settings: appsSettings(cfg), ingressClassName: cluster.ingressClassName }, { dependsOn: [cluster] });
    };
}
