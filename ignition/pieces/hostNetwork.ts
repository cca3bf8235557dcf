/**
 * What every Kubernetes node's kernel and network stack need before pods run: the bridge netfilter and
 * conntrack modules, forwarding and filter sysctls, and a link rule that leaves flannel's MAC address alone.
 * Plus the unit that waits for networking and DNS before the kubelet and etcd start.
 */
import { NODE_SETUP, NodeConfigPart } from "../builder";
import { unitFile } from "../systemd";

/** Kernel modules, sysctls and the flannel link rule of a Kubernetes node. */
export function kubernetesHostNetwork(): NodeConfigPart {
    const sysctls = [
        "net.ipv4.ip_forward = 1",
        // Bridged pod traffic must pass iptables, or kube-proxy's Service rules never see it.
        "net.bridge.bridge-nf-call-iptables = 1",
        "net.bridge.bridge-nf-call-ip6tables = 1",
        // As Typhoon does: Fedora's reverse-path filter drops pod traffic that returns over another interface.
        "net.ipv4.conf.default.rp_filter = 0",
        "net.ipv4.conf.*.rp_filter = 0",
        // Typhoon's 16184 is below what current kernels default to; many pods each watching files need more.
        "fs.inotify.max_user_watches = 524288",
        "fs.inotify.max_user_instances = 8192",
    ];
    return {
        files: [
            // br_netfilter must be loaded before systemd-sysctl can set bridge-nf-call-*.
            { path: "/etc/modules-load.d/kubernetes.conf", contents: "br_netfilter\nnf_conntrack\n" },
            // 80 sorts after Fedora's 50-default.conf, whose rp_filter it overrides.
            { path: "/etc/sysctl.d/80-kubernetes.conf", contents: sysctls.join("\n") + "\n" },
            // udev would replace the MAC flannel gives flannel.1, and peers' VXLAN forwarding entries keep the old one.
            {
                path: "/etc/systemd/network/50-flannel.link",
                contents: unitFile({ Match: { OriginalName: "flannel*" }, Link: { MACAddressPolicy: "none" } }),
            },
        ],
    };
}

/**
 * The name the network wait looks up: the API server's host if it is a name, else the first NTP server that is
 * one. Names from /etc/hosts are skipped (they resolve without DNS), and so are IP addresses.
 */
export function dnsProbeHost(candidates: readonly string[], hostsFileNames: readonly string[]): string {
    const probe = candidates.find((c) => !/^[0-9.]+$/.test(c) && !c.includes(":") && !hostsFileNames.includes(c));
    if (!probe) throw new Error(`Ignition input: none of ${candidates.join(", ")} is a DNS name to check the network with`);
    return probe;
}

/** How long the network wait tries before it fails (and with it what it guards): 60 x 5 s. */
const NETWORK_WAIT_ATTEMPTS = 60;
const NETWORK_WAIT_INTERVAL_SECONDS = 5;

/**
 * `wait-for-network.service`: waits until systemd-resolved has upstream servers and a real lookup of
 * `probeHost` succeeds, then lets `guardedUnits` start. The write-up's lesson: after an OS upgrade the network did
 * not come back, and services that started anyway failed in confusing ways; here they wait, visibly and bounded.
 * /etc/resolv.conf is not checked: on Fedora CoreOS it always names the local stub 127.0.0.53.
 */
export function waitForNetwork(probeHost: string, guardedUnits: readonly string[]): NodeConfigPart {
    const step = {
        name: "wait-for-network",
        usage: "HOST",
        body: [
            `for _ in $(seq ${NETWORK_WAIT_ATTEMPTS}); do`,
            `  if grep -qs '^nameserver' /run/systemd/resolve/resolv.conf && getent ahosts "$1" >/dev/null; then return 0; fi`,
            `  sleep ${NETWORK_WAIT_INTERVAL_SECONDS}`,
            "done",
            `echo "no network: $1 did not resolve within ${NETWORK_WAIT_ATTEMPTS * NETWORK_WAIT_INTERVAL_SECONDS} seconds" >&2`,
            "return 1",
        ],
    };
    const unit = unitFile({
        Unit: {
            Description: "Wait for networking and DNS",
            Wants: "network-online.target",
            After: "network-online.target",
            Before: guardedUnits.join(" "),
        },
        Service: { Type: "oneshot", RemainAfterExit: "yes", ExecStart: `${NODE_SETUP} ${step.name} ${probeHost}` },
        Install: { RequiredBy: guardedUnits.join(" ") },
    });
    return { steps: [step], units: [{ name: "wait-for-network.service", contents: unit, enabled: true }] };
}
