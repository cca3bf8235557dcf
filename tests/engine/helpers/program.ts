/**
 * The inline program the engine suite deploys: the program's cluster layer (`createClusterLayer`, exactly as
 * index.ts composes it) with the stage's config as the real engine hands it over (the real loader reads it), through
 * a Kubernetes provider pointed at the booted control plane. Alibaba and tls resources cannot be created here, so what
 * they would give the layer is passed in: the NFS export, and metrics-server's certificate (openssl, same spec).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createClusterLayer } from "../../../components/clusterLayer";
import type { ObservabilityExternals } from "../../../components/observability";
import { loadStageConfig, planCluster } from "../../../config";

/** The annotation that tells the Kubernetes provider not to wait for readiness. */
export const SKIP_AWAIT = "pulumi.com/skipAwait";

/** What the cloud side would give the cluster layer. */
export interface CloudStandIns {
    readonly kubeconfig: string;
    readonly nfs: { readonly server: string; readonly path: string };
    /** metrics-server's serving certificate and key, issued by openssl from the same spec, and the cluster CA. */
    readonly metricsServerTls: { readonly certPem: string; readonly keyPem: string; readonly caCertPem: string };
    /** What observability would take from the PKI, the bastion and the cloud (random, tls and Alibaba resources). */
    readonly observability?: ObservabilityExternals;
}

/**
 * The platform's images cannot be pulled here, so its workloads never become ready: in this suite only, every
 * Kubernetes object gets the provider's skip-await annotation (a stack transform; the program never sets it).
 */
function skipAwait(args: pulumi.ResourceTransformArgs): pulumi.ResourceTransformResult | undefined {
    if (!args.custom || !args.type.startsWith("kubernetes:")) return undefined;
    const metadata = (args.props.metadata ?? {}) as Record<string, unknown>;
    const annotations = (metadata.annotations ?? {}) as Record<string, string>;
    return { props: { ...args.props, metadata: { ...metadata, annotations: { ...annotations, [SKIP_AWAIT]: "true" } } }, opts: args.opts };
}

/** The inline program: the cluster layer of the stack's stage. */
export function clusterLayerProgram(standIns: CloudStandIns): () => Promise<void> {
    return async () => {
        pulumi.runtime.registerResourceTransform(skipAwait);
        const cfg = loadStageConfig();
        const provider = new k8s.Provider("cluster-provider", { kubeconfig: pulumi.secret(standIns.kubeconfig) });
        createClusterLayer(cfg, planCluster(cfg), {
            provider,
            nfs: standIns.nfs,
            metricsServerTls: { ...standIns.metricsServerTls, keyPem: pulumi.secret(standIns.metricsServerTls.keyPem) },
            ...(standIns.observability ? { observability: standIns.observability } : {}),
        });
    };
}
