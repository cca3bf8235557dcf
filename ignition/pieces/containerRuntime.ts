/**
 * The container runtime of Kubernetes nodes: the containerd that Fedora CoreOS ships (as Typhoon uses it), with
 * its CRI plugin on systemd cgroups, the pinned pause image and registry mirrors from a hosts directory; Docker,
 * which the image also ships, is masked.
 */
import { NodeConfigPart } from "../builder";
import { nodePaths } from "../../layout/node";
import { versions } from "../../versions";

/** The CRI socket the kubelet talks to. */
export const CONTAINERD_SOCKET = "/run/containerd/containerd.sock";

/**
 * containerd's config in format version 2: containerd 1.6/1.7 read it and 2.x migrates it on load, so it holds
 * whichever major the Fedora CoreOS stream ships. The image's own config disables the CRI plugin, so it is
 * replaced as a whole.
 */
function containerdConfig(): string {
    const cri = '[plugins."io.containerd.grpc.v1.cri"]';
    return (
        [
            "version = 2",
            "[grpc]",
            `address = "${CONTAINERD_SOCKET}"`,
            cri,
            `sandbox_image = "${versions.images.pause}"`,
            "enable_selinux = true",
            `${cri.slice(0, -1)}.containerd.runtimes.runc]`,
            'runtime_type = "io.containerd.runc.v2"',
            `${cri.slice(0, -1)}.containerd.runtimes.runc.options]`,
            // The kubelet's cgroupDriver is systemd too; two drivers on one host fight over the cgroup tree.
            "SystemdCgroup = true",
            `${cri.slice(0, -1)}.cni]`,
            `bin_dir = "${nodePaths.cniBinDir}"`,
            `conf_dir = "${nodePaths.cniConfDir}"`,
            // Registry mirrors without renaming images: <registry>/hosts.toml files, which arrive over SSH before the
            // kubelet starts and are read on every pull (controlplane/registries.ts).
            `${cri.slice(0, -1)}.registry]`,
            `config_path = "${nodePaths.containerdHostsDir}"`,
        ].join("\n") + "\n"
    );
}

/** containerd configured and enabled; docker.service masked so only one runtime manages containers. */
export function containerRuntime(): NodeConfigPart {
    return {
        files: [{ path: "/etc/containerd/config.toml", contents: containerdConfig(), overwrite: true }],
        units: [
            { name: "containerd.service", enabled: true },
            { name: "docker.service", mask: true },
        ],
    };
}
