/**
 * Where things live on a node, and the units that other layers name. Ignition units (ignition/), the files copied
 * over SSH (controlplane/files.ts), the static pods (controlplane/), the PKI's etcd settings (pki/) and the
 * real-engine tests all use these names, so they cannot drift apart. This module imports nothing: it is the bottom
 * of the layer order (docs/design.md, "Layers").
 *
 * Secrets never travel in user data: everything marked "over SSH" is copied through the bastion after boot, and
 * `.path` units start the services that need it once it is there.
 */
export const nodePaths = {
    /** Kubelet binary, downloaded and sha256-checked on first boot (/usr is read-only on Fedora CoreOS). */
    kubeletBinary: "/opt/bin/kubelet",
    /** CNI plugins from the containernetworking release (FCOS no longer ships them). */
    cniBinDir: "/opt/cni/bin",
    cniConfDir: "/etc/cni/net.d",
    kubeletConfig: "/etc/kubernetes/kubelet.yaml",
    /** Over SSH: the cluster CA certificate (public), written before the bootstrap kubeconfig. */
    clusterCaCert: "/etc/kubernetes/ca.crt",
    /**
     * Over SSH: the bootstrap-token kubeconfig; its appearance starts the kubelet (kubelet.path). On tmpfs: the
     * token could get a certificate for any node name, so it must not outlive the boot in which the node joins.
     */
    bootstrapKubeconfig: "/run/coreos-platform/bootstrap-kubeconfig",
    /** Written by the kubelet after TLS bootstrapping. */
    kubeletKubeconfig: "/var/lib/kubelet/kubeconfig",
    staticPodDir: "/etc/kubernetes/manifests",
    /** Controllers, over SSH: control-plane keys and certificates. */
    pkiDir: "/etc/kubernetes/pki",
    /** Controllers, over SSH: kubeconfigs of controller-manager, scheduler and admin. */
    controllerManagerKubeconfig: "/etc/kubernetes/controller-manager.conf",
    schedulerKubeconfig: "/etc/kubernetes/scheduler.conf",
    adminKubeconfig: "/etc/kubernetes/admin.conf",
    /** Controllers, over SSH: etcd's CA, server and peer certificates; server.crt's appearance starts etcd. */
    etcdPkiDir: "/etc/ssl/etcd",
    etcdDataDir: "/var/lib/etcd",
    /** The NFS server's export. */
    nfsExportDir: "/var/srv/nfs",
    /** Marker of the one-shot control-plane bootstrap (RBAC applied). */
    bootstrapDoneMarker: "/var/lib/coreos-platform/bootstrap.done",
    /** Over SSH: the team's SSH keys (Fedora CoreOS's sshd reads every file of authorized_keys.d). */
    teamKeysFile: "/home/core/.ssh/authorized_keys.d/platform-team",
    /** Controllers, over SSH: etcd's settings (podman's --env-file), before etcd's certificates start it. */
    etcdEnvFile: "/etc/etcd/etcd.env",
    /**
     * containerd's registry host configuration (its CRI's `config_path`): over SSH, one `<registry>/hosts.toml` per
     * registry the cluster pulls from, read on every pull (so a new mirror needs no restart).
     */
    containerdHostsDir: "/etc/containerd/certs.d",
    /** Over SSH: podman's registry mirrors (etcd on controllers, the bootstrap's kubectl), read on every pull. */
    podmanMirrorsFile: "/etc/containers/registries.conf.d/50-coreos-platform-mirrors.conf",
    /**
     * Over SSH, once the stage has converged: Zincati's drop-in that turns OS updates on. First boot turns them off
     * (ignition/pieces/osUpdates.ts) so that no node reboots while `pulumi up` is still building the stage.
     */
    osUpdatesOnFile: "/etc/zincati/config.d/90-updates-on.toml",
} as const;

/** Units that more than one layer names. */
export const nodeUnits = {
    /** The controller's etcd member (ignition/pieces/etcdMember.ts); restarted when its trusted CA changes. */
    etcd: "etcd-member.service",
    /** Fedora CoreOS's update agent; restarted when the program turns updates on. */
    zincati: "zincati.service",
} as const;

/** File names inside `nodePaths.pkiDir` and `nodePaths.etcdPkiDir`. */
export const pkiFiles = {
    ca: "ca.crt",
    caKey: "ca.key",
    apiserver: "apiserver.crt",
    apiserverKey: "apiserver.key",
    apiserverKubeletClient: "apiserver-kubelet-client.crt",
    apiserverKubeletClientKey: "apiserver-kubelet-client.key",
    serviceAccountPublic: "service-account.pub",
    serviceAccountKey: "service-account.key",
    frontProxyCa: "front-proxy-ca.crt",
    frontProxyClient: "front-proxy-client.crt",
    frontProxyClientKey: "front-proxy-client.key",
    etcdCa: "etcd-ca.crt",
    etcdClient: "etcd-client.crt",
    etcdClientKey: "etcd-client.key",
    /** In etcdPkiDir. */
    etcdServer: "server.crt",
    etcdServerKey: "server.key",
    etcdPeer: "peer.crt",
    etcdPeerKey: "peer.key",
    etcdTrustedCa: "ca.crt",
} as const;

/**
 * Where node_exporter's textfile collector reads `*.prom` files on every Kubernetes node: a job on a node that
 * wants Prometheus to see a number (the etcd backup's last success) writes it here (docs/observability.md).
 */
export const NODE_EXPORTER_TEXTFILE_DIR = "/var/lib/node-exporter/textfile";
