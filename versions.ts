/**
 * Every version, image and download the platform runs, in one place. Upgrading is a one-line change here plus a
 * CHANGELOG entry; node configs, static pods and cluster add-ons all read from this file.
 *
 * Sources (checked 2026-11): kubelet and CNI plugin hashes from kubespray's checksums.yml (the sha256 that
 * dl.k8s.io and the GitHub release publish); image digests where the upstream manifest pins one (ingress-nginx).
 * Images without a published digest are pinned by tag; see README "Versions" for how to add digests.
 */

/** A file fetched on the node and checked before use. */
export interface VerifiedDownload {
    readonly url: string;
    readonly sha256: string;
}

export const KUBERNETES_VERSION = "v1.36.4";

export const versions = {
    kubernetes: KUBERNETES_VERSION,
    /** The kubelet binary, fetched on first boot and checked against its sha256 before it is installed. */
    kubelet: {
        url: `https://dl.k8s.io/release/${KUBERNETES_VERSION}/bin/linux/amd64/kubelet`,
        sha256: "cf2562db46c48ab84cc3791540778ee7fb1a0a008529adbb434723dd02ed8b4b",
    } satisfies VerifiedDownload,
    /** CNI plugins (bridge, host-local, portmap, loopback): Fedora CoreOS no longer ships them (since FCOS 40). */
    cniPlugins: {
        url: "https://github.com/containernetworking/plugins/releases/download/v1.9.1/cni-plugins-linux-amd64-v1.9.1.tgz",
        sha256: "b98f74a0f8522f0a83867178729c1aa70f2158f90c45a2ca8fa791db1c76b303",
    } satisfies VerifiedDownload,
    images: {
        kubeApiserver: `registry.k8s.io/kube-apiserver:${KUBERNETES_VERSION}`,
        kubeControllerManager: `registry.k8s.io/kube-controller-manager:${KUBERNETES_VERSION}`,
        kubeScheduler: `registry.k8s.io/kube-scheduler:${KUBERNETES_VERSION}`,
        kubeProxy: `registry.k8s.io/kube-proxy:${KUBERNETES_VERSION}`,
        /** The sandbox image kubespray pairs with Kubernetes 1.36. */
        pause: "registry.k8s.io/pause:3.10.2",
        /** etcd 3.6 is the line kubespray pairs with Kubernetes 1.35 and 1.36. */
        etcd: "quay.io/coreos/etcd:v3.6.14",
        /** CoreDNS, SkyDNS's maintained successor (the write-up's lesson: run the current release). */
        coredns: "registry.k8s.io/coredns/coredns:v1.14.7",
        flannel: "ghcr.io/flannel-io/flannel:v0.28.9",
        flannelCniPlugin: "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3",
        /** ingress-nginx's final release (the project was retired in March 2026; see README "Versions"). */
        ingressNginx:
            "registry.k8s.io/ingress-nginx/controller:v1.15.1@sha256:594ceea76b01c592858f803f9ff4d2cb40542cae2060410b2c95f75907d659e1",
        nfsProvisioner: "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2",
        fleetlock: "quay.io/poseidon/fleetlock:v0.4.0",
        /** Resource metrics for the apps' HorizontalPodAutoscalers. */
        metricsServer: "registry.k8s.io/metrics-server/metrics-server:v0.8.1",
        /** NetworkPolicy beside flannel (Kubernetes SIG Network; docs/security.md). */
        networkPolicies: "registry.k8s.io/networking/kube-network-policies:v1.1.1",
        /** kubectl for the one-shot bootstrap on a controller (Fedora CoreOS ships no kubectl). */
        kubectl: `registry.k8s.io/kubectl:${KUBERNETES_VERSION}`,

        /** Alibaba's disk CSI driver (kubernetes-sigs/alibaba-cloud-csi-driver, chart values of v1.34.3) and its sidecars. */
        diskCsiPlugin: "registry.cn-hangzhou.aliyuncs.com/acs/csi-plugin:v1.34.3",
        diskCsiProvisioner: "registry.cn-hangzhou.aliyuncs.com/acs/csi-provisioner:v5.3.2-aliyun",
        diskCsiAttacher: "registry.cn-hangzhou.aliyuncs.com/acs/csi-attacher:v4.9.0-aliyun",
        diskCsiResizer: "registry.cn-hangzhou.aliyuncs.com/acs/csi-resizer:v1.14.0-aliyun",
        diskCsiRegistrar: "registry.cn-hangzhou.aliyuncs.com/acs/csi-node-driver-registrar:v2.14.0-aliyun",

        /** Observability (docs/observability.md): the versions the tests' promtool/amtool and otelcol builds check against. */
        prometheus: "quay.io/prometheus/prometheus:v3.16.0",
        alertmanager: "quay.io/prometheus/alertmanager:v0.35.0",
        nodeExporter: "quay.io/prometheus/node-exporter:v1.12.1",
        kubeStateMetrics: "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.16.0",
        grafana: "docker.io/grafana/grafana:12.2.0",
        loki: "docker.io/grafana/loki:3.5.0",
        /** The log shipper: the contrib release whose components engine/go/otelcol builds and validates. */
        otelCollector: "docker.io/otel/opentelemetry-collector-contrib:0.160.0",
    },
} as const;
