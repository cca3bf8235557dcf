/**
 * The static pods of a controller: kube-apiserver, kube-controller-manager and kube-scheduler, rendered as YAML
 * from plain data with the images of versions.ts. The kubelet runs them from `nodePaths.staticPodDir`.
 */
import { stringify } from "yaml";
import { nodePaths, pkiFiles } from "../layout/node";
import { NO_ALIASES } from "../pki/kubeconfig";
import { FRONT_PROXY_CLIENT_CN, ControllerAddress } from "../pki/specs";
import { versions } from "../versions";
import { API_SERVER_PORT, ETCD_CLIENT_PORT, NODE_POD_PREFIX } from "../layout/cluster";
import { ControlPlaneSettings, SERVICE_ACCOUNT_ISSUER } from "./settings";
import { APISERVER_CONFIG_FILES, AUDIT_LOG_RETENTION } from "./apiserverConfig";

/** The audit log's file name in `nodePaths.auditLogDir`. */
export const AUDIT_LOG_FILE = "audit.log";

/** Annotation that carries the hash of the certificates a pod reads: new certificates, new pod. */
export const PKI_REVISION_ANNOTATION = "coreos-platform/pki-revision";

/** File names of the static pods in `nodePaths.staticPodDir`. */
export const STATIC_POD_FILES = {
    apiserver: "kube-apiserver.yaml",
    controllerManager: "kube-controller-manager.yaml",
    scheduler: "kube-scheduler.yaml",
} as const;

const pki = (file: string) => `${nodePaths.pkiDir}/${file}`;

/** Flags as a sorted list, so a diff of two renders shows exactly the flag that changed. */
function flags(values: Record<string, string | number | boolean>): string[] {
    return Object.keys(values)
        .sort()
        .map((name) => `--${name}=${values[name]}`);
}

interface HostMount {
    readonly name: string;
    readonly path: string;
    /** "File" for a single file (a kubeconfig); directories must exist, except one the pod writes to. */
    readonly type: "File" | "Directory" | "DirectoryOrCreate";
    /** Only the audit log is written; everything else is mounted read-only. */
    readonly writable?: boolean;
}

const PKI_DIR: HostMount = { name: "pki", path: nodePaths.pkiDir, type: "Directory" };
const APISERVER_CONFIG_DIR: HostMount = { name: "config", path: nodePaths.apiserverConfigDir, type: "Directory" };
// Made over SSH with the container label (controllerFiles), so that SELinux lets the container write it.
const AUDIT_LOG_DIR: HostMount = { name: "audit-log", path: nodePaths.auditLogDir, type: "DirectoryOrCreate", writable: true };
const apiserverConfig = (file: string) => `${nodePaths.apiserverConfigDir}/${file}`;

interface PodInput {
    readonly name: string;
    readonly image: string;
    readonly command: string[];
    readonly cpu: string;
    readonly mounts: readonly HostMount[];
    readonly probes: Record<string, unknown>;
    readonly pkiRevision: string;
}

function staticPod(input: PodInput): string {
    const pod = {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
            name: input.name,
            namespace: "kube-system",
            labels: { component: input.name, tier: "control-plane" },
            annotations: { [PKI_REVISION_ANNOTATION]: input.pkiRevision },
        },
        spec: {
            hostNetwork: true,
            // The kubelet admits these before anything else; they are the node's reason to exist.
            priorityClassName: "system-node-critical",
            // Keys are root-owned 0600 files: the control plane runs as root, as kubeadm's does.
            securityContext: { seccompProfile: { type: "RuntimeDefault" } },
            containers: [
                {
                    name: input.name,
                    image: input.image,
                    command: input.command,
                    resources: { requests: { cpu: input.cpu } },
                    ...input.probes,
                    volumeMounts: input.mounts.map((m) => ({ name: m.name, mountPath: m.path, readOnly: !m.writable })),
                },
            ],
            volumes: input.mounts.map((m) => ({ name: m.name, hostPath: { path: m.path, type: m.type } })),
        },
    };
    return stringify(pod, NO_ALIASES);
}

/** Liveness over HTTPS on 127.0.0.1 (the component's own /healthz, which it serves to anyone). */
function httpsProbes(port: number): Record<string, unknown> {
    const get = { httpGet: { scheme: "HTTPS", host: "127.0.0.1", port, path: "/healthz" } };
    return {
        startupProbe: { ...get, periodSeconds: 10, timeoutSeconds: 15, failureThreshold: 24 },
        livenessProbe: { ...get, periodSeconds: 10, timeoutSeconds: 15, failureThreshold: 8 },
    };
}

/**
 * kube-apiserver of one controller. Anonymous auth is off, so the kubelet's (unauthenticated) HTTP probes would
 * get 401: its probes only check that the port accepts connections. The readiness wait checks /healthz with a
 * client certificate instead.
 */
export function renderKubeApiserverPod(settings: ControlPlaneSettings, controller: ControllerAddress, pkiRevision: string): string {
    const tcp = { tcpSocket: { host: "127.0.0.1", port: API_SERVER_PORT } };
    return staticPod({
        name: "kube-apiserver",
        image: versions.images.kubeApiserver,
        cpu: "250m",
        pkiRevision,
        // No host trust store: the image carries its own CA bundle, and SELinux would not let the container read
        // the host's (cert_t; container-selinux's container_read_certs is off by default).
        mounts: [PKI_DIR, APISERVER_CONFIG_DIR, AUDIT_LOG_DIR],
        probes: {
            startupProbe: { ...tcp, periodSeconds: 10, failureThreshold: 24 },
            livenessProbe: { ...tcp, periodSeconds: 10, failureThreshold: 8 },
        },
        command: [
            "kube-apiserver",
            ...flags({
                // Pod Security defaults for namespaces without labels (baseline enforced, restricted warned).
                "admission-control-config-file": apiserverConfig(APISERVER_CONFIG_FILES.admission),
                "advertise-address": controller.ip,
                "allow-privileged": true,
                "anonymous-auth": false,
                "audit-log-maxage": AUDIT_LOG_RETENTION.maxAgeDays,
                "audit-log-maxbackup": AUDIT_LOG_RETENTION.maxBackups,
                "audit-log-maxsize": AUDIT_LOG_RETENTION.maxSizeMb,
                "audit-log-path": `${nodePaths.auditLogDir}/${AUDIT_LOG_FILE}`,
                "audit-policy-file": apiserverConfig(APISERVER_CONFIG_FILES.audit),
                "authorization-mode": "Node,RBAC",
                "client-ca-file": pki(pkiFiles.ca),
                // DenyServiceExternalIPs (CVE-2020-8554): ingress binds the edge nodes' host network and needs none.
                "enable-admission-plugins": "NodeRestriction,DenyServiceExternalIPs",
                "encryption-provider-config": apiserverConfig(APISERVER_CONFIG_FILES.encryption),
                // A new key list (rotation, docs/security.md) takes effect without restarting the API server.
                "encryption-provider-config-automatic-reload": true,
                "etcd-cafile": pki(pkiFiles.etcdCa),
                "etcd-certfile": pki(pkiFiles.etcdClient),
                "etcd-keyfile": pki(pkiFiles.etcdClientKey),
                "etcd-servers": settings.controllers.map((c) => `https://${c.ip}:${ETCD_CLIENT_PORT}`).join(","),
                // Kubelets serve certificates the program signed for their name and address: verify them.
                "kubelet-certificate-authority": pki(pkiFiles.ca),
                "kubelet-client-certificate": pki(pkiFiles.apiserverKubeletClient),
                "kubelet-client-key": pki(pkiFiles.apiserverKubeletClientKey),
                "kubelet-preferred-address-types": "InternalIP,Hostname,ExternalIP",
                "proxy-client-cert-file": pki(pkiFiles.frontProxyClient),
                "proxy-client-key-file": pki(pkiFiles.frontProxyClientKey),
                "requestheader-allowed-names": FRONT_PROXY_CLIENT_CN,
                "requestheader-client-ca-file": pki(pkiFiles.frontProxyCa),
                "requestheader-extra-headers-prefix": "X-Remote-Extra-",
                "requestheader-group-headers": "X-Remote-Group",
                "requestheader-username-headers": "X-Remote-User",
                "secure-port": API_SERVER_PORT,
                "service-account-issuer": SERVICE_ACCOUNT_ISSUER,
                "service-account-key-file": pki(pkiFiles.serviceAccountPublic),
                "service-account-signing-key-file": pki(pkiFiles.serviceAccountKey),
                "service-cluster-ip-range": settings.serviceCidr,
                "tls-cert-file": pki(pkiFiles.apiserver),
                "tls-private-key-file": pki(pkiFiles.apiserverKey),
            }),
        ],
    });
}

/**
 * kube-controller-manager: signs the kubelets' client certificates with the cluster CA (for their own names only: it
 * approves a kubelet's request for the name it already holds) and gives every node a /24 of the pod network, which
 * flannel routes. It signs nothing else: the other signers (kubelet serving, API clients, legacy) have no key.
 */
export function renderKubeControllerManagerPod(settings: ControlPlaneSettings, pkiRevision: string): string {
    const kubeconfig = nodePaths.controllerManagerKubeconfig;
    return staticPod({
        name: "kube-controller-manager",
        image: versions.images.kubeControllerManager,
        cpu: "200m",
        pkiRevision,
        mounts: [PKI_DIR, { name: "kubeconfig", path: kubeconfig, type: "File" }],
        probes: httpsProbes(10257),
        command: [
            "kube-controller-manager",
            ...flags({
                "allocate-node-cidrs": true,
                "authentication-kubeconfig": kubeconfig,
                "authorization-kubeconfig": kubeconfig,
                // Every address, so Prometheus on a node can scrape /metrics (authenticated and authorized through the API
                // server; the controllers' security group admits the port from the nodes only when observability is on).
                "bind-address": "0.0.0.0",
                "client-ca-file": pki(pkiFiles.ca),
                "cluster-cidr": settings.podCidr,
                "cluster-name": settings.clusterName,
                "cluster-signing-kubelet-client-cert-file": pki(pkiFiles.ca),
                "cluster-signing-kubelet-client-key-file": pki(pkiFiles.caKey),
                kubeconfig,
                "leader-elect": true,
                // Each node's pod network (flannel reads the node's podCIDR): the same /24 the stage config checks against.
                "node-cidr-mask-size": NODE_POD_PREFIX,
                "root-ca-file": pki(pkiFiles.ca),
                "service-account-private-key-file": pki(pkiFiles.serviceAccountKey),
                "service-cluster-ip-range": settings.serviceCidr,
                "use-service-account-credentials": true,
            }),
        ],
    });
}

/** kube-scheduler: needs nothing but its kubeconfig. */
export function renderKubeSchedulerPod(pkiRevision: string): string {
    const kubeconfig = nodePaths.schedulerKubeconfig;
    return staticPod({
        name: "kube-scheduler",
        image: versions.images.kubeScheduler,
        cpu: "100m",
        pkiRevision,
        mounts: [{ name: "kubeconfig", path: kubeconfig, type: "File" }],
        probes: httpsProbes(10259),
        command: [
            "kube-scheduler",
            ...flags({
                "authentication-kubeconfig": kubeconfig,
                "authorization-kubeconfig": kubeconfig,
                // Every address, so Prometheus on a node can scrape /metrics (authenticated and authorized through the API
                // server; the controllers' security group admits the port from the nodes only when observability is on).
                "bind-address": "0.0.0.0",
                kubeconfig,
                "leader-elect": true,
            }),
        ],
    });
}

/** The three static pods of one controller, by file name. */
export function renderStaticPods(settings: ControlPlaneSettings, controllerIndex: number, pkiRevision: string): Record<string, string> {
    const controller = settings.controllers[controllerIndex];
    if (!controller) {
        throw new Error(`controller index ${controllerIndex} is out of range (${settings.controllers.length} controllers)`);
    }
    return {
        [STATIC_POD_FILES.apiserver]: renderKubeApiserverPod(settings, controller, pkiRevision),
        [STATIC_POD_FILES.controllerManager]: renderKubeControllerManagerPod(settings, pkiRevision),
        [STATIC_POD_FILES.scheduler]: renderKubeSchedulerPod(pkiRevision),
    };
}
