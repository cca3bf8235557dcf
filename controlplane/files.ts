/**
 * Every file a node receives over SSH, in the order it is installed (renderInstallScript, controlplane/scripts.ts):
 * a controller's keys, kubeconfigs and static pods; a worker's join; every node's team keys. The order matters
 * twice: etcd starts when its serving certificate appears (so it comes last of etcd's files) and the kubelet starts
 * when the bootstrap kubeconfig appears (so it comes last of all, after the static pods it will run).
 */
import * as crypto from "crypto";
import { ETCD_CLIENT_PORT, ETCD_PEER_PORT, LOCAL_API_SERVER_URL, METRICS_PORTS, NFS_SQUASH_ID } from "../layout/cluster";
import { versions } from "../versions";
import { nodePaths, nodeUnits, pkiFiles } from "../layout/node";
import { etcdTlsEnvironment } from "../pki/etcd";
import { KubeconfigCredentials, renderKubeconfig } from "../pki/kubeconfig";
import { PkiMaterial, certOf, keyOf } from "../pki/material";
import { etcdPeerCertName, etcdServerCertName, kubeletClientCertName, kubeletServingCertName, nodeUser } from "../pki/specs";
import { APISERVER_CONFIG_FILES, renderAdmissionConfig, renderAuditPolicy, renderEncryptionConfig } from "./apiserverConfig";
import { renderStaticPods } from "./staticPods";
import { RegistrySettings, podmanMirrorsFile, registryFiles } from "./registries";
import { ControlPlaneSettings } from "./settings";

/** One file on a node. */
export interface NodeFile {
    readonly path: string;
    /** 0600 for anything secret (keys, kubeconfigs with credentials), 0644 for certificates and manifests, 0700 for root's scripts. */
    readonly mode: "0600" | "0644" | "0700";
    readonly content: string;
    /** Read by a static pod through a hostPath: labelled container_file_t where SELinux is enforcing. */
    readonly containerReadable: boolean;
    /** A unit to restart when this file changes: one that reads it only when it starts. */
    readonly restarts?: string;
    /** A unit to reload when this file changes (one whose reload re-reads it without interrupting its clients). */
    readonly reloads?: string;
    /** "user:group" when the file is not root's (a user's SSH keys). Defaults to root. */
    readonly owner?: string;
}

/** A directory a file needs, made sure of (created, or given this owner and mode) before the files go in. */
export interface NodeDirectory {
    readonly path: string;
    readonly mode: "0700" | "0755";
    /** "user:group". */
    readonly owner: string;
    /** Written by a static pod through a hostPath: labelled container_file_t where SELinux is enforcing. */
    readonly containerWritable?: boolean;
}

/** Files of one delivery, and the directories they need beyond what `mkdir -p` (root, 0700) makes. */
export interface NodeFiles {
    readonly directories?: readonly NodeDirectory[];
    readonly files: readonly NodeFile[];
    /** Units (among the files) to enable and start: systemd re-reads its units first when any file changed. */
    readonly enable?: readonly string[];
}

/** The unit that runs node_exporter on the nodes without a kubelet (the bastion, the NFS node). */
export const NODE_EXPORTER_UNIT = "node-exporter.service";

/**
 * node_exporter on a node that runs no kubelet (the bastion, the NFS node), under podman with the pinned image, on
 * the host's network and port 9100 (the node's security group admits it from the Kubernetes nodes only). Delivered
 * over SSH, so an existing node gets it without a new instance and user data stays as small as it is. podman's
 * registry mirrors come with it (as on controllers), so the image is pulled through the stage's mirror.
 */
export function nodeExporterFiles(registries: RegistrySettings): NodeFiles {
    const unit = [
        "[Unit]",
        "Description=Prometheus node_exporter",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=exec",
        "ExecStartPre=-/usr/bin/podman rm --force node-exporter",
        // Read-only views of the host; spc_t because SELinux keeps containers out of the host's files otherwise.
        `ExecStart=/usr/bin/podman run --name node-exporter --network host --pid host --read-only --security-opt label=type:spc_t --volume /:/host/root:ro,rslave ${versions.images.nodeExporter} --path.rootfs=/host/root --web.listen-address=:${METRICS_PORTS.nodeExporter}`,
        "ExecStop=/usr/bin/podman stop node-exporter",
        "Restart=on-failure",
        "RestartSec=10s",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
    return {
        files: [
            podmanMirrorsFile(registries),
            {
                path: `/etc/systemd/system/${NODE_EXPORTER_UNIT}`,
                mode: "0644",
                content: unit,
                containerReadable: false,
                restarts: NODE_EXPORTER_UNIT,
            },
        ],
        enable: [NODE_EXPORTER_UNIT],
    };
}

/** What a kubelet joins the cluster with. */
export interface KubeletJoin {
    readonly caCertPem: string;
    /** Its serving certificate, signed by the cluster CA for the node's name and private address. */
    readonly servingCertPem: string;
    /** Its serving key, when the program made it (controllers); workers and edge nodes made their own. */
    readonly servingKeyPem?: string;
    /** The join kubeconfig: a client certificate for exactly this node (`joinKubeconfig`). */
    readonly kubeconfig: string;
}

/**
 * The files a kubelet joins with (workers, edge nodes, and controllers last of their files): the cluster CA, its
 * serving certificate (and key), then the join kubeconfig, whose appearance starts the kubelet (kubelet.path).
 */
export function joinFiles(join: KubeletJoin): NodeFile[] {
    return [
        { path: nodePaths.clusterCaCert, mode: "0644", content: join.caCertPem, containerReadable: false },
        ...(join.servingKeyPem === undefined
            ? []
            : [{ path: nodePaths.kubeletServingKey, mode: "0600" as const, content: join.servingKeyPem, containerReadable: false }]),
        { path: nodePaths.kubeletServingCert, mode: "0644", content: join.servingCertPem, containerReadable: false },
        { path: nodePaths.bootstrapKubeconfig, mode: "0600", content: join.kubeconfig, containerReadable: false },
    ];
}

/**
 * A kubelet's join kubeconfig: its client certificate for `system:node:<hostname>`, with the key embedded
 * (controllers, whose keys the program makes) or named by its path on the node (workers and edge nodes, whose join
 * key never leaves them).
 */
export function joinKubeconfig(input: {
    readonly clusterName: string;
    readonly hostname: string;
    readonly server: string;
    readonly caCertPem: string;
    readonly credentials: KubeconfigCredentials;
}): string {
    return renderKubeconfig({
        clusterName: input.clusterName,
        userName: nodeUser(input.hostname),
        server: input.server,
        caCertPem: input.caCertPem,
        credentials: input.credentials,
    });
}

/** The user that logs in to every node (Fedora CoreOS's), and who owns its SSH keys. */
const CORE_USER = "core:core";

/**
 * The team's SSH keys on a node, exactly `keys` (public keys: no secret), in a file of the core user's
 * authorized_keys.d, which sshd reads as that user: so the user owns it and its directories, private to it.
 */
export function teamKeysFiles(keys: readonly string[]): NodeFiles {
    const dir = nodePaths.teamKeysFile.slice(0, nodePaths.teamKeysFile.lastIndexOf("/"));
    return {
        directories: [dir.slice(0, dir.lastIndexOf("/")), dir].map((path) => ({ path, mode: "0700", owner: CORE_USER })),
        files: [
            {
                path: nodePaths.teamKeysFile,
                mode: "0600",
                content: keys.map((k) => k.trim()).join("\n") + "\n",
                containerReadable: false,
                owner: CORE_USER,
            },
        ],
    };
}

/** The drop-in that turns OS updates on, once the stage has converged (first boot turns them off). */
export function osUpdatesOnFiles(): NodeFiles {
    return {
        files: [
            {
                path: nodePaths.osUpdatesOnFile,
                mode: "0644",
                content:
                    "# Turned on by the program once the stage has converged (first boot turned updates off).\n[updates]\nenabled = true\n",
                containerReadable: false,
                restarts: nodeUnits.zincati,
            },
        ],
    };
}

/** The NFS server's export list, delivered over SSH so that it follows the config (a new zone, a new vSwitch). */
export function nfsExportFiles(exportDir: string, clientCidrs: readonly string[]): NodeFiles {
    if (clientCidrs.length === 0) throw new Error("NFS exports: no client network; no node could mount the export");
    // all_squash: whoever mounts the export (a node's root included) acts as nobody, which owns the export's root, so
    // the provisioner still creates and removes its directories, and nothing can plant a root-owned or setuid file.
    const squash = `all_squash,anonuid=${NFS_SQUASH_ID},anongid=${NFS_SQUASH_ID}`;
    const clients = clientCidrs.map((cidr) => `${cidr}(rw,sync,no_subtree_check,${squash})`);
    return {
        files: [
            {
                path: "/etc/exports",
                mode: "0644",
                content: `${exportDir} ${clients.join(" ")}\n`,
                containerReadable: false,
                // nfs-server's reload is `exportfs -r`: the new list applies without dropping mounted clients.
                reloads: "nfs-server.service",
            },
        ],
    };
}

/** A short content hash (hex), for revisions and markers that must change exactly when the content does. */
export function shortHash(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/**
 * The hash of everything public a controller's static pods trust or present: when a certificate is re-issued,
 * the pods' manifests change and the kubelet restarts them, so no component keeps serving an old certificate.
 */
export function pkiRevision(material: PkiMaterial, controllerIndex: number): string {
    // The audit policy and the admission configuration are read at start too; the encryption keys reload by themselves.
    const certs = [
        "ca",
        "apiserver",
        "apiserver-kubelet-client",
        "controller-manager",
        "scheduler",
        "front-proxy-ca",
        "front-proxy-client",
        "etcd-ca",
        "etcd-client",
    ];
    const parts = certs.map((name) => certOf(material, name));
    parts.push(certOf(material, etcdServerCertName(controllerIndex)), certOf(material, etcdPeerCertName(controllerIndex)));
    parts.push(material.serviceAccount.publicKeyPem, renderAuditPolicy(), renderAdmissionConfig());
    return shortHash(parts.join("\n"));
}

/** The peer URL of a member: by name, which /etc/hosts resolves on every controller (Typhoon's pattern). */
function etcdPeerUrl(memberName: string): string {
    return `https://${memberName}:${ETCD_PEER_PORT}`;
}

/**
 * etcd.env of controller `controllerIndex`: its name, its address for clients and peers, the initial cluster by name
 * and mutual TLS. podman hands it to etcd (ignition/pieces/etcdMember.ts); it arrives before etcd's certificates,
 * whose appearance starts etcd.
 */
export function etcdEnvironment(settings: Pick<ControlPlaneSettings, "controllers">, controllerIndex: number): string {
    const member = settings.controllers[controllerIndex];
    const env: Record<string, string> = {
        ETCD_NAME: member.hostname,
        ETCD_DATA_DIR: nodePaths.etcdDataDir,
        ETCD_ADVERTISE_CLIENT_URLS: `https://${member.ip}:${ETCD_CLIENT_PORT}`,
        // Loopback too, for the kube-apiserver and etcdctl on this controller.
        ETCD_LISTEN_CLIENT_URLS: `https://${member.ip}:${ETCD_CLIENT_PORT},https://127.0.0.1:${ETCD_CLIENT_PORT}`,
        // Must equal this member's entry in ETCD_INITIAL_CLUSTER, which names peers.
        ETCD_INITIAL_ADVERTISE_PEER_URLS: etcdPeerUrl(member.hostname),
        ETCD_LISTEN_PEER_URLS: `https://${member.ip}:${ETCD_PEER_PORT}`,
        // /metrics and /health only, with the client port's TLS (a client certificate of the etcd CA is required).
        ETCD_LISTEN_METRICS_URLS: `https://${member.ip}:${METRICS_PORTS.etcd}`,
        ETCD_INITIAL_CLUSTER: settings.controllers.map((m) => `${m.hostname}=${etcdPeerUrl(m.hostname)}`).join(","),
        // The same TLS settings the PKI tests run a real etcd with (pki/etcd.ts).
        ...etcdTlsEnvironment(),
    };
    return Object.entries(env)
        .map(([k, v]) => `${k}=${v}\n`)
        .join("");
}

/** Files of controller `controllerIndex` (index into `settings.controllers`), and the audit log's directory. */
export function controllerFiles(material: PkiMaterial, settings: ControlPlaneSettings, controllerIndex: number): Required<NodeFiles> {
    const controller = settings.controllers[controllerIndex];
    if (!controller) {
        throw new Error(`controller index ${controllerIndex} is out of range (${settings.controllers.length} controllers)`);
    }
    const caCertPem = certOf(material, "ca");
    const secret = (path: string, content: string, containerReadable = true): NodeFile => ({
        path,
        mode: "0600",
        content,
        containerReadable,
    });
    const open = (path: string, content: string, containerReadable = true): NodeFile => ({
        path,
        mode: "0644",
        content,
        containerReadable,
    });
    const inPki = (file: string) => `${nodePaths.pkiDir}/${file}`;
    const inEtcd = (file: string) => `${nodePaths.etcdPkiDir}/${file}`;
    const inConfig = (file: string) => `${nodePaths.apiserverConfigDir}/${file}`;
    const clientKubeconfig = (userName: string, spec: string) =>
        renderKubeconfig({
            clusterName: settings.clusterName,
            userName,
            server: LOCAL_API_SERVER_URL,
            caCertPem,
            credentials: { clientCertificatePem: certOf(material, spec), clientKeyPem: keyOf(material, spec) },
        });
    const pods = renderStaticPods(settings, controllerIndex, pkiRevision(material, controllerIndex));

    const files: NodeFile[] = [
        // Registry mirrors first: etcd's and the static pods' first pulls already go through them.
        ...registryFiles(settings.registries, true),
        // Control-plane PKI (each key before its certificate).
        open(inPki(pkiFiles.ca), caCertPem),
        // The CA key: kube-controller-manager signs the kubelets' client certificates with it (and nothing else).
        secret(inPki(pkiFiles.caKey), keyOf(material, "ca")),
        secret(inPki(pkiFiles.apiserverKey), keyOf(material, "apiserver")),
        open(inPki(pkiFiles.apiserver), certOf(material, "apiserver")),
        secret(inPki(pkiFiles.apiserverKubeletClientKey), keyOf(material, "apiserver-kubelet-client")),
        open(inPki(pkiFiles.apiserverKubeletClient), certOf(material, "apiserver-kubelet-client")),
        secret(inPki(pkiFiles.serviceAccountKey), material.serviceAccount.privateKeyPem),
        open(inPki(pkiFiles.serviceAccountPublic), material.serviceAccount.publicKeyPem),
        open(inPki(pkiFiles.frontProxyCa), certOf(material, "front-proxy-ca")),
        secret(inPki(pkiFiles.frontProxyClientKey), keyOf(material, "front-proxy-client")),
        open(inPki(pkiFiles.frontProxyClient), certOf(material, "front-proxy-client")),
        open(inPki(pkiFiles.etcdCa), certOf(material, "etcd-ca")),
        secret(inPki(pkiFiles.etcdClientKey), keyOf(material, "etcd-client")),
        open(inPki(pkiFiles.etcdClient), certOf(material, "etcd-client")),
        // kube-apiserver's Secret encryption keys (0600), audit policy and Pod Security defaults.
        secret(inConfig(APISERVER_CONFIG_FILES.encryption), renderEncryptionConfig(material.encryptionKeys)),
        open(inConfig(APISERVER_CONFIG_FILES.audit), renderAuditPolicy()),
        open(inConfig(APISERVER_CONFIG_FILES.admission), renderAdmissionConfig()),
        // Kubeconfigs of the components that talk to the local apiserver. No admin credential rests on a controller:
        // the bootstrap carries the break-glass one in its script, only for the time it runs.
        secret(nodePaths.controllerManagerKubeconfig, clientKubeconfig("system:kube-controller-manager", "controller-manager")),
        secret(nodePaths.schedulerKubeconfig, clientKubeconfig("system:kube-scheduler", "scheduler")),
        // etcd: its settings, CA, peer pair, then the serving pair; server.crt appearing starts etcd (etcd.path).
        // etcd reads its settings only when it starts.
        { ...open(nodePaths.etcdEnvFile, etcdEnvironment(settings, controllerIndex), false), restarts: nodeUnits.etcd },
        // etcd runs under podman, which labels its own volume, so these need no container label from us.
        // etcd re-reads its own certificate on every connection but its trusted CAs only at start.
        { ...open(inEtcd(pkiFiles.etcdTrustedCa), certOf(material, "etcd-ca"), false), restarts: nodeUnits.etcd },
        secret(inEtcd(pkiFiles.etcdPeerKey), keyOf(material, etcdPeerCertName(controllerIndex)), false),
        open(inEtcd(pkiFiles.etcdPeer), certOf(material, etcdPeerCertName(controllerIndex)), false),
        secret(inEtcd(pkiFiles.etcdServerKey), keyOf(material, etcdServerCertName(controllerIndex)), false),
        open(inEtcd(pkiFiles.etcdServer), certOf(material, etcdServerCertName(controllerIndex)), false),
        // Static pods: the kubelet runs them once it starts.
        ...Object.entries(pods).map(([file, yaml]) => open(`${nodePaths.staticPodDir}/${file}`, yaml, false)),
        // The kubelet's join, last: its appearance starts the kubelet, which then runs the static pods above.
        ...joinFiles({
            caCertPem,
            servingCertPem: certOf(material, kubeletServingCertName(controllerIndex)),
            servingKeyPem: keyOf(material, kubeletServingCertName(controllerIndex)),
            kubeconfig: joinKubeconfig({
                clusterName: settings.clusterName,
                hostname: controller.hostname,
                server: LOCAL_API_SERVER_URL,
                caCertPem,
                credentials: {
                    clientCertificatePem: certOf(material, kubeletClientCertName(controllerIndex)),
                    clientKeyPem: keyOf(material, kubeletClientCertName(controllerIndex)),
                },
            }),
        }),
    ];
    // kube-apiserver writes its audit log here (and rotates it); only root reads it.
    return { directories: [{ path: nodePaths.auditLogDir, mode: "0700", owner: "root:root", containerWritable: true }], files, enable: [] };
}
