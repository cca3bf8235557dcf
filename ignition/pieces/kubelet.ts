/**
 * The kubelet as a plain binary under systemd: a first-boot install unit that downloads the pinned kubelet and
 * CNI plugins and checks their sha256 before installing them, the KubeletConfiguration, and a `.path` unit that
 * starts the kubelet once its join kubeconfig has arrived over SSH (no credential travels in user data).
 */
import * as YAML from "yaml";
import { NODE_SETUP, NodeConfigPart, SetupStep } from "../builder";
import { NodeTaint } from "../../layout/roles";
import { KubeletInput } from "../input";
import { CLUSTER_DOMAIN } from "../../layout/cluster";
import { nodePaths } from "../../layout/node";
import { unitFile } from "../systemd";
import type { DownloadSources } from "../../config/mirrors";
import { CONTAINERD_SOCKET } from "./containerRuntime";

/** The units the kubelet needs before it starts (the network wait guards them). */
export const KUBELET_UNITS = ["kubelet-install.service", "kubelet.service"] as const;

/** Graceful node shutdown: pods get 45 s, of which the last 30 s are kept for critical pods. */
const SHUTDOWN_GRACE_SECONDS = 45;
const SHUTDOWN_GRACE_CRITICAL_SECONDS = 30;

/** Where the install unit records the sha256 of the CNI plugin archive it unpacked. */
const CNI_INSTALLED_MARKER = "/opt/cni/plugins.sha256";

/** What a node's kubelet is rendered from. */
export interface KubeletSettings {
    /** Node name (= hostname). */
    readonly hostname: string;
    readonly kubernetes: KubeletInput;
    /** Labels and taints of the role, added to the pool's (controllers' label and taint). */
    readonly roleLabels?: Readonly<Record<string, string>>;
    readonly roleTaints?: readonly NodeTaint[];
}

/** Install unit, KubeletConfiguration, logind's shutdown delay, kubelet.service and kubelet.path. */
export function kubelet(settings: KubeletSettings): NodeConfigPart {
    const labels = { ...settings.kubernetes.nodeLabels, ...settings.roleLabels };
    // One taint per key and effect: the kubelet refuses to start on a duplicate.
    const taints = [
        ...new Map([...settings.kubernetes.nodeTaints, ...(settings.roleTaints ?? [])].map((t) => [`${t.key}:${t.effect}`, t])).values(),
    ];
    const flags = [
        `--bootstrap-kubeconfig=${nodePaths.bootstrapKubeconfig}`,
        `--kubeconfig=${nodePaths.kubeletKubeconfig}`,
        `--config=${nodePaths.kubeletConfig}`,
        `--hostname-override=${settings.hostname}`,
        ...(Object.keys(labels).length > 0 ? [`--node-labels=${formatLabels(labels)}`] : []),
    ];

    const install = installStep(settings.kubernetes.downloads);
    return {
        steps: [install],
        files: [
            { path: nodePaths.kubeletConfig, contents: kubeletConfiguration(settings.kubernetes, taints) },
            // Lets the kubelet's shutdown inhibitor hold the shutdown for the whole grace period.
            {
                path: "/etc/systemd/logind.conf.d/50-kubelet-shutdown.conf",
                contents: unitFile({ Login: { InhibitDelayMaxSec: `${SHUTDOWN_GRACE_SECONDS}s` } }),
            },
        ],
        units: [
            {
                name: "kubelet-install.service",
                enabled: true,
                contents: unitFile({
                    // Never give up: on first boot the NAT gateway may still be coming up. A oneshot's default start
                    // timeout (90 s) is too short for the downloads on a thin link.
                    Unit: { Description: "Install kubelet and CNI plugins", StartLimitIntervalSec: "0" },
                    Service: {
                        Type: "oneshot",
                        RemainAfterExit: "yes",
                        ExecStart: `${NODE_SETUP} ${install.name}`,
                        TimeoutStartSec: "15min",
                        Restart: "on-failure",
                        RestartSec: "30s",
                    },
                    Install: { WantedBy: "multi-user.target" },
                }),
            },
            {
                name: "kubelet.service",
                contents: unitFile({
                    Unit: {
                        Description: "Kubelet",
                        Requires: "kubelet-install.service",
                        // Wants, not Requires: containerd is the image's unit, and the kubelet retries the CRI.
                        Wants: "containerd.service rpc-statd.service",
                        After: "kubelet-install.service containerd.service",
                    },
                    Service: {
                        ExecStartPre: `/usr/bin/mkdir -p ${nodePaths.staticPodDir} ${nodePaths.cniConfDir} /var/lib/kubelet/volumeplugins`,
                        ExecStart: [nodePaths.kubeletBinary, ...flags].join(" \\\n  "),
                        Restart: "always",
                        RestartSec: "10",
                    },
                }),
            },
            {
                name: "kubelet.path",
                enabled: true,
                contents: unitFile({
                    // The join kubeconfig when the node joins; the kubelet's own kubeconfig on every later boot
                    // (the join files live on tmpfs, and the program removes them once the kubelet has joined).
                    Unit: { Description: "Start kubelet when it has credentials" },
                    Path: { PathExists: [nodePaths.bootstrapKubeconfig, nodePaths.kubeletKubeconfig] },
                    Install: { WantedBy: "multi-user.target" },
                }),
            },
        ],
    };
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
    return Object.keys(labels)
        .sort()
        .map((key) => `${key}=${labels[key]}`)
        .join(",");
}

/**
 * The install script: each archive is downloaded with retries, from each of its sources in turn (the file mirror,
 * then the upstream when falling back is allowed), checked with `sha256sum -c` and only then installed; a source
 * whose file does not match is skipped. A pinned version that is already installed is left alone, so the unit is a
 * no-op on later boots.
 */
function installStep(sources: KubeletInput["downloads"]): SetupStep {
    const download = (what: DownloadSources, file: string) => {
        if (what.urls.length === 0) throw new Error("Ignition input: kubernetes.downloads lists no source for a download");
        return `download ${what.sha256} "$work/${file}" ${what.urls.join(" ")}`;
    };
    const { kubelet, cniPlugins } = sources;
    return {
        name: "install-kubelet",
        usage: "",
        body: [
            // Not local: the EXIT trap runs after the function has returned.
            "work=$(mktemp -d)",
            "trap 'rm -rf \"$work\"' EXIT",
            "download() { # SHA256 FILE URL...",
            "  local sha=$1 file=$2",
            "  shift 2",
            '  for url in "$@"; do',
            '    if curl --fail --silent --show-error --location --retry 10 --retry-delay 5 --retry-all-errors --output "$file" "$url" &&',
            '      echo "$sha  $file" | sha256sum --check --quiet; then return 0; fi',
            '    echo "$url: no file with sha256 $sha" >&2',
            "  done",
            "  return 1",
            "}",
            `if ! echo "${kubelet.sha256}  ${nodePaths.kubeletBinary}" | sha256sum --check --status 2>/dev/null; then`,
            `  ${download(kubelet, "kubelet")}`,
            `  install -D -m 0755 "$work/kubelet" ${nodePaths.kubeletBinary}`,
            "fi",
            `if [ "$(cat ${CNI_INSTALLED_MARKER} 2>/dev/null)" != ${cniPlugins.sha256} ]; then`,
            `  ${download(cniPlugins, "cni.tgz")}`,
            `  mkdir -p ${nodePaths.cniBinDir}`,
            `  tar -xzf "$work/cni.tgz" --no-same-owner -C ${nodePaths.cniBinDir}`,
            `  echo ${cniPlugins.sha256} > ${CNI_INSTALLED_MARKER}`,
            "fi",
            // Files a unit creates under /opt inherit /opt's label; give them the policy's, as an RPM install would.
            `restorecon -R ${dirname(nodePaths.kubeletBinary)} ${nodePaths.cniBinDir}`,
        ],
    };
}

function dirname(path: string): string {
    return path.slice(0, path.lastIndexOf("/"));
}

/** KubeletConfiguration: webhook authn/authz, client CA over SSH, rotating certificates, graceful shutdown. */
function kubeletConfiguration(kubernetes: KubeletSettings["kubernetes"], taints: readonly NodeTaint[]): string {
    return YAML.stringify({
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        kind: "KubeletConfiguration",
        authentication: {
            anonymous: { enabled: false },
            webhook: { enabled: true },
            x509: { clientCAFile: nodePaths.clusterCaCert },
        },
        authorization: { mode: "Webhook" },
        cgroupDriver: "systemd",
        clusterDNS: [kubernetes.clusterDnsIp],
        clusterDomain: CLUSTER_DOMAIN,
        containerRuntimeEndpoint: `unix://${CONTAINERD_SOCKET}`,
        readOnlyPort: 0,
        // The replacement of the deprecated --register-with-taints flag.
        ...(taints.length > 0
            ? {
                  registerWithTaints: taints.map((t) => ({
                      key: t.key,
                      ...(t.value === undefined ? {} : { value: t.value }),
                      effect: t.effect,
                  })),
              }
            : {}),
        // systemd-resolved's upstream list; /etc/resolv.conf names its stub, which is unreachable from pods.
        resolvConf: "/run/systemd/resolve/resolv.conf",
        // The client certificate: the kubelet renews it itself (a request for its own name, which kube-controller-manager
        // approves). The serving certificate is the one the program signed for the node's name and address.
        rotateCertificates: true,
        shutdownGracePeriod: `${SHUTDOWN_GRACE_SECONDS}s`,
        shutdownGracePeriodCriticalPods: `${SHUTDOWN_GRACE_CRITICAL_SECONDS}s`,
        staticPodPath: nodePaths.staticPodDir,
        tlsCertFile: nodePaths.kubeletServingCert,
        tlsPrivateKeyFile: nodePaths.kubeletServingKey,
        // The default is under /usr, which is read-only on Fedora CoreOS.
        volumePluginDir: "/var/lib/kubelet/volumeplugins",
    });
}
