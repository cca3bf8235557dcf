import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ApiServerEndpoint } from "../k8s/nodeNetwork";
import { objectKey } from "../k8s/objects";
import { PlatformSettings, platformInputProblems, renderPlatformObjects } from "../k8s/platform";
import { DEFAULT_STORAGE_CLASS } from "../k8s/storage";
import { INGRESS_CLASS } from "../k8s/ingress";
import { createKubernetesObjects, late } from "./k8sObjects";

/** Arguments of a `KubernetesPlatform`. */
export interface KubernetesPlatformArgs {
    /** The control plane's provider; every object is created through it. Required. */
    readonly provider: k8s.Provider;
    /** What the platform takes from the stage config: `platformSettings(cfg)` (k8s/platform.ts). Required. */
    readonly settings: PlatformSettings;
    /**
     * The API server's real address (`planCluster(cfg).apiServerInternalAddress`, port 6443). flannel and kube-proxy
     * use it because the `kubernetes` Service IP only routes once kube-proxy runs. Required.
     */
    readonly apiServer: ApiServerEndpoint;
    /** The NFS export behind the default StorageClass: NAS mount-target domain + "/", or the NFS node's address + export path. Required. */
    readonly nfs: { readonly server: pulumi.Input<string>; readonly path: string };
    /** metrics-server's serving certificate and key, and the CA that signed it (`ClusterPki.metricsServerTls`). Required. */
    readonly metricsServerTls: ServingTls;
}

/** A serving certificate, its key (a secret) and the CA certificate that signed it, all PEM. */
export interface ServingTls {
    readonly certPem: pulumi.Input<string>;
    readonly keyPem: pulumi.Input<string>;
    readonly caCertPem: pulumi.Input<string>;
}

/**
 * Everything the cluster runs for itself: flannel (VXLAN) and kube-proxy on every node, CoreDNS at the cluster DNS
 * address, FleetLock for one-at-a-time OS reboots, the NFS provisioner behind the one default StorageClass, and
 * ingress-nginx on the edge pool as the API gateway.
 */
export class KubernetesPlatform extends pulumi.ComponentResource {
    /** The default StorageClass (resolves once it exists). */
    public readonly storageClassName: pulumi.Output<string>;
    /** The IngressClass app routes use (resolves once it exists; pass it to `Apps` so routes wait for it). */
    public readonly ingressClassName: pulumi.Output<string>;
    /** The cluster DNS Service's address (= kubelet clusterDNS). */
    public readonly clusterDnsIp: pulumi.Output<string>;

    constructor(name: string, args: KubernetesPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:KubernetesPlatform", name, {}, opts);
        const input = {
            ...args.settings,
            apiServer: args.apiServer,
            nfs: { server: late(args.nfs.server), path: args.nfs.path },
            metricsServerTls: {
                certificate: late(args.metricsServerTls.certPem),
                key: pulumi.secret(args.metricsServerTls.keyPem),
                caBundle: pulumi.output(args.metricsServerTls.caCertPem).apply((pem) => Buffer.from(pem).toString("base64")),
            },
        };
        const problems = platformInputProblems(input);
        if (problems.length > 0) {
            throw new pulumi.ResourceError(`KubernetesPlatform ${name}: ${problems.join("; ")}`, this);
        }
        const objects = renderPlatformObjects(input);
        const created = createKubernetesObjects(this, name, objects, args.provider, opts?.dependsOn);
        const find = (apiVersion: string, kind: string, objectName: string, namespace?: string) =>
            created.get(objectKey({ apiVersion, kind, metadata: { name: objectName, namespace } })) as pulumi.CustomResource & {
                metadata: pulumi.Output<k8s.types.output.meta.v1.ObjectMeta>;
            };

        this.storageClassName = find("storage.k8s.io/v1", "StorageClass", DEFAULT_STORAGE_CLASS).metadata.name;
        this.ingressClassName = find("networking.k8s.io/v1", "IngressClass", INGRESS_CLASS).metadata.name;
        this.clusterDnsIp = (find("v1", "Service", "kube-dns", "kube-system") as unknown as k8s.core.v1.Service).spec.clusterIP;
        this.registerOutputs({
            storageClassName: this.storageClassName,
            ingressClassName: this.ingressClassName,
            clusterDnsIp: this.clusterDnsIp,
        });
    }
}
