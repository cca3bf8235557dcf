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
     * Over SSH: the kubelet's join kubeconfig, a client certificate for exactly this node's name; its appearance starts
     * the kubelet (kubelet.path). The kubelet then asks for a certificate of a key of its own, and the program removes
     * the join files (`<pool>-<i>-joined`); on tmpfs, so they never outlive the boot in which the node joins.
     */
    bootstrapKubeconfig: "/run/coreos-platform/bootstrap-kubeconfig",
    /** Workers and edge nodes: the join certificate's key, made on the node (never leaves it); tmpfs, gone once joined. */
    joinKey: "/run/coreos-platform/join.key",
    /** The kubelet's serving certificate, signed by the cluster CA for the node's name and private address, over SSH. */
    kubeletServingCert: "/var/lib/kubelet/pki/kubelet-serving.crt",
    /** Its key: made on the node (workers, edge nodes) or over SSH (controllers). */
    kubeletServingKey: "/var/lib/kubelet/pki/kubelet-serving.key",
    /** Written by the kubelet after TLS bootstrapping. */
    kubeletKubeconfig: "/var/lib/kubelet/kubeconfig",
    staticPodDir: "/etc/kubernetes/manifests",
    /** Controllers, over SSH: control-plane keys and certificates. */
    pkiDir: "/etc/kubernetes/pki",
    /** Controllers, over SSH: kubeconfigs of controller-manager and scheduler (no admin credential rests on a node). */
    controllerManagerKubeconfig: "/etc/kubernetes/controller-manager.conf",
    schedulerKubeconfig: "/etc/kubernetes/scheduler.conf",
    /** Controllers, over SSH: kube-apiserver's Secret encryption, audit policy and admission configuration. */
    apiserverConfigDir: "/etc/kubernetes/apiserver",
    /** Controllers: kube-apiserver's audit log, rotated by kube-apiserver itself (docs/security.md). */
    auditLogDir: "/var/log/kube-apiserver",
    /** Controllers, over SSH: etcd's CA, server and peer certificates; server.crt's appearance starts etcd. */
    etcdPkiDir: "/etc/ssl/etcd",
    etcdDataDir: "/var/lib/etcd",
    /** Over SSH: the backup and restore scripts (on Fedora CoreOS /usr/local is writable: /var/usrlocal). */
    etcdBackupScript: "/usr/local/bin/etcd-backup",
    etcdRestoreScript: "/usr/local/bin/etcd-restore",
    /** Where a snapshot is written and checked before its upload (the root disk; removed after each run). */
    etcdBackupWorkDir: "/var/lib/etcd-backup",
    /** The NFS server's export. */
    nfsExportDir: "/var/srv/nfs",
    /** Marker of the one-shot control-plane bootstrap (RBAC applied). */
    bootstrapDoneMarker: "/var/lib/coreos-platform/bootstrap.done",
    /** Over SSH: the team's SSH keys (Fedora CoreOS's sshd reads every file of authorized_keys.d). */
    teamKeysFile: "/home/core/.ssh/authorized_keys.d/platform-team",
    /**
     * Controllers, over SSH: etcd's settings (podman's --env-file), before etcd's certificates start it; the restore
     * script reads them too.
     */
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
    /** Starts etcd once its certificates exist; stopped with etcd before a restore. */
    etcdPath: "etcd-member.path",
    /** The scheduled etcd backup (controlplane/etcdBackup.ts), and its timer. */
    etcdBackup: "etcd-backup.service",
    etcdBackupTimer: "etcd-backup.timer",
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

/**
 * The etcd backup's record for monitoring: the Unix time of the last backup written and uploaded completely, which the
 * leader's `etcd-backup` writes (atomically) into its textfile file and the `EtcdBackupTooOld` alert reads.
 */
export const ETCD_BACKUP_SUCCESS_METRIC = "coreos_platform_etcd_backup_last_success_timestamp_seconds";
export const ETCD_BACKUP_METRICS_FILE = `${NODE_EXPORTER_TEXTFILE_DIR}/etcd-backup.prom`;
