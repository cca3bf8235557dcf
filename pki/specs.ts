/**
 * The cluster's certificates as plain data: who each one is for (subject), who signs it, which names and
 * addresses it is valid for, and what it may be used for. `components/clusterPki.ts` turns these specs into
 * `@pulumi/tls` resources; the tests turn the very same specs into real certificates with openssl and check
 * chains, SANs and usages. So what the tests prove about a certificate is true of the one the cluster gets.
 *
 * The specs are generic over the type of the one value that is only known late (the `apiserver` EIP):
 * a `pulumi.Output<string>` in the component, a plain string in tests.
 */
import { isIpv4Address } from "../config/cidr";
import { CLUSTER_DOMAIN } from "../layout/cluster";

/** What a certificate may be used for, in `@pulumi/tls`'s `allowedUses` vocabulary. */
export type KeyUsage = "digital_signature" | "key_encipherment" | "cert_signing" | "crl_signing" | "server_auth" | "client_auth";

/** A private key's algorithm. */
export type KeyAlgorithm = { readonly algorithm: "ECDSA"; readonly curve: "P256" } | { readonly algorithm: "RSA"; readonly bits: 2048 };

/** ECDSA P-256 for every certificate: small, fast, and accepted by Go's TLS (Kubernetes and etcd). */
export const CERTIFICATE_KEY: KeyAlgorithm = { algorithm: "ECDSA", curve: "P256" };

/**
 * RSA for the service-account signing key: tokens are then RS256 JWTs, the one algorithm every OIDC consumer
 * of service-account tokens (cloud workload identity, Vault) is required to support.
 */
export const SERVICE_ACCOUNT_KEY: KeyAlgorithm = { algorithm: "RSA", bits: 2048 };

/** The certificate authorities, by spec name. Each signs only its own leaves. */
export type CaName = "ca" | "front-proxy-ca" | "etcd-ca";

/** One certificate, as data. */
export interface CertificateSpec<L = never> {
    /** Unique name, also the stem of the Pulumi resource names ("apiserver", "etcd-peer-0"). */
    readonly name: string;
    /** One line for people: what the certificate is for. */
    readonly purpose: string;
    readonly commonName: string;
    /** Subject organization: Kubernetes reads it as the client's group. */
    readonly organization?: string;
    /** "self" for a CA's self-signed certificate, otherwise the CA that signs it. */
    readonly signer: "self" | CaName;
    readonly isCa: boolean;
    readonly dnsNames: readonly string[];
    readonly ipAddresses: readonly (string | L)[];
    readonly usages: readonly KeyUsage[];
    readonly key: KeyAlgorithm;
    /** Which validity applies: `caValidityDays` or `certValidityDays` (see `validityOf`). */
    readonly lifetime: "ca" | "leaf";
}

/** A controller, as the PKI sees it: its predictable name (= etcd member name) and fixed private address. */
export interface ControllerAddress {
    readonly hostname: string;
    readonly ip: string;
}

/** Certificate lifetimes in days (StageConfig.pki). */
export interface PkiValidity {
    /** Lifetime of the three CAs (config key pki.caValidityDays). */
    readonly caValidityDays: number;
    /** Lifetime of every leaf certificate (pki.certValidityDays). */
    readonly certValidityDays: number;
    /** A `pulumi up` this many days (or fewer) before a leaf expires re-issues it (pki.renewBeforeDays). */
    readonly renewBeforeDays: number;
}

/** What the cluster's certificates are derived from. */
export interface PkiInput<L = never> {
    /** Goes into the CAs' names, so `openssl x509 -subject` tells which stage a CA belongs to. */
    readonly clusterName: string;
    /** The `kubernetes` Service's address (first address of the service CIDR). */
    readonly apiServiceIp: string;
    /** The internal API load balancer's fixed address. */
    readonly apiServerInternalAddress: string;
    /** The `apiserver` EIP, known only once it exists. */
    readonly apiServerPublicAddress: L;
    readonly controllers: readonly ControllerAddress[];
    /** Whether Prometheus scrapes etcd (observability on): it then gets its own etcd client certificate. */
    readonly etcdMetricsClient?: boolean;
}

/** Spec name of Prometheus's client certificate towards etcd's metrics listener. */
export const ETCD_METRICS_CLIENT = "etcd-metrics-client";

/** The kube-apiserver's client identity towards kubelets; bound to `system:kubelet-api-admin` at bootstrap. */
export const APISERVER_KUBELET_CLIENT_USER = "kube-apiserver-kubelet-client";
/** The front proxy's identity, which the apiserver's `--requestheader-allowed-names` accepts. */
export const FRONT_PROXY_CLIENT_CN = "front-proxy-client";
/** The identity of the readiness check: authenticated, so it may read /healthz, and nothing more. */
export const HEALTHCHECK_USER = "platform-healthcheck";
/**
 * The group of the team's admin kubeconfig (the stack output): bound to `cluster-admin` by a ClusterRoleBinding, so
 * deleting that binding revokes it, which `system:masters` (a group no authorizer is asked about) never allows.
 */
export const CLUSTER_ADMINS_GROUP = "platform:cluster-admins";
/** The break-glass identity: `system:masters`, only in the state, never an output (docs/security.md). */
export const BREAK_GLASS_USER = "break-glass";
/** Kubernetes' group of every kubelet, which the Node authorizer and NodeRestriction recognise. */
export const NODES_GROUP = "system:nodes";
/** metrics-server's Service, whose name its serving certificate carries (the aggregation layer dials it). */
export const METRICS_SERVER_SERVICE = { name: "metrics-server", namespace: "kube-system" } as const;

/** The user a kubelet is to the API server: `system:node:<node name>`, which the Node authorizer scopes to that node. */
export function nodeUser(hostname: string): string {
    return `system:node:${hostname}`;
}

const CA_USAGES: readonly KeyUsage[] = ["cert_signing", "crl_signing", "digital_signature"];
// RFC 5480: an ECDSA key never does key encipherment, so leaves carry digital_signature only.
const SERVER: readonly KeyUsage[] = ["digital_signature", "server_auth"];
const CLIENT: readonly KeyUsage[] = ["digital_signature", "client_auth"];
const SERVER_AND_CLIENT: readonly KeyUsage[] = ["digital_signature", "server_auth", "client_auth"];

/** The names under which the apiserver is reached inside the cluster (its Service). */
export const KUBERNETES_SERVICE_NAMES: readonly string[] = [
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    `kubernetes.default.svc.${CLUSTER_DOMAIN}`,
];

/**
 * Every certificate of the cluster, CAs first (a signer always comes before what it signs).
 * etcd's server and peer certificates are one per controller, so adding a controller adds its own two
 * certificates and re-issues nothing else.
 */
export function clusterCertificateSpecs<L>(input: PkiInput<L>): CertificateSpec<L>[] {
    const leaf = (
        spec: Omit<CertificateSpec<L>, "isCa" | "key" | "lifetime" | "dnsNames" | "ipAddresses"> &
            Partial<Pick<CertificateSpec<L>, "dnsNames" | "ipAddresses">>,
    ): CertificateSpec<L> => ({
        dnsNames: [],
        ipAddresses: [],
        ...spec,
        isCa: false,
        key: CERTIFICATE_KEY,
        lifetime: "leaf",
    });
    const ca = (name: CaName, purpose: string, commonName: string): CertificateSpec<L> => ({
        name,
        purpose,
        commonName,
        signer: "self",
        isCa: true,
        dnsNames: [],
        ipAddresses: [],
        usages: CA_USAGES,
        key: CERTIFICATE_KEY,
        lifetime: "ca",
    });
    const controllerIps = input.controllers.map((c) => c.ip);
    return [
        ca(
            "ca",
            "signs every Kubernetes certificate; kube-controller-manager uses it only for kubelet client certificates",
            `${input.clusterName}-kubernetes-ca`,
        ),
        ca("front-proxy-ca", "signs the front proxy's client certificate (API aggregation)", `${input.clusterName}-front-proxy-ca`),
        ca(
            "etcd-ca",
            "signs etcd's server, peer and client certificates; trusted only by etcd and its clients",
            `${input.clusterName}-etcd-ca`,
        ),
        leaf({
            name: "apiserver",
            purpose: "kube-apiserver's serving certificate",
            commonName: "kube-apiserver",
            signer: "ca",
            // localhost/127.0.0.1 and the controllers' own addresses: controllers talk to their local apiserver,
            // because Alibaba's layer-4 load balancer drops a backend's connections to itself.
            dnsNames: [...KUBERNETES_SERVICE_NAMES, "localhost"],
            ipAddresses: [input.apiServerPublicAddress, input.apiServerInternalAddress, input.apiServiceIp, "127.0.0.1", ...controllerIps],
            usages: SERVER,
        }),
        leaf({
            name: "apiserver-kubelet-client",
            purpose: "kube-apiserver's client certificate towards kubelets (logs, exec, port-forward)",
            commonName: APISERVER_KUBELET_CLIENT_USER,
            signer: "ca",
            usages: CLIENT,
        }),
        leaf({
            name: "controller-manager",
            purpose: "kube-controller-manager's client certificate",
            commonName: "system:kube-controller-manager",
            signer: "ca",
            usages: CLIENT,
        }),
        leaf({
            name: "scheduler",
            purpose: "kube-scheduler's client certificate",
            commonName: "system:kube-scheduler",
            signer: "ca",
            usages: CLIENT,
        }),
        leaf({
            name: "admin",
            purpose: "the team's admin client certificate (the admin kubeconfig): cluster-admin through an RBAC binding of its group",
            commonName: "admin",
            organization: CLUSTER_ADMINS_GROUP,
            signer: "ca",
            usages: CLIENT,
        }),
        leaf({
            name: "break-glass",
            purpose: "the break-glass cluster-admin (system:masters): only in the stack state, never an output (docs/security.md)",
            commonName: BREAK_GLASS_USER,
            organization: "system:masters",
            signer: "ca",
            usages: CLIENT,
        }),
        leaf({
            name: "metrics-server",
            purpose: "metrics-server's serving certificate, which the aggregation layer verifies against its APIService's CA bundle",
            commonName: METRICS_SERVER_SERVICE.name,
            signer: "ca",
            dnsNames: serviceNames(METRICS_SERVER_SERVICE.name, METRICS_SERVER_SERVICE.namespace),
            usages: SERVER,
        }),
        leaf({
            name: "healthcheck",
            purpose: "the readiness check's client certificate (anonymous auth is off, so /healthz needs a user)",
            commonName: HEALTHCHECK_USER,
            signer: "ca",
            usages: CLIENT,
        }),
        leaf({
            name: "front-proxy-client",
            purpose: "kube-apiserver's client certificate towards aggregated API servers",
            commonName: FRONT_PROXY_CLIENT_CN,
            signer: "front-proxy-ca",
            usages: CLIENT,
        }),
        leaf({
            name: "etcd-client",
            purpose: "kube-apiserver's client certificate towards etcd",
            commonName: "kube-apiserver-etcd-client",
            signer: "etcd-ca",
            usages: CLIENT,
        }),
        ...(input.etcdMetricsClient
            ? [
                  leaf({
                      name: ETCD_METRICS_CLIENT,
                      purpose: "Prometheus's client certificate towards etcd's metrics listener (port 2381)",
                      commonName: "prometheus-etcd-metrics",
                      signer: "etcd-ca",
                      usages: CLIENT,
                  }),
              ]
            : []),
        ...input.controllers.flatMap((controller, i) => [
            leaf({
                name: etcdServerCertName(i),
                purpose: `etcd's serving certificate on ${controller.hostname}`,
                commonName: controller.hostname,
                signer: "etcd-ca",
                dnsNames: [controller.hostname, "localhost"],
                ipAddresses: [controller.ip, "127.0.0.1"],
                // Client use too: etcd dials its own client URL with this certificate (grpc gateway).
                usages: SERVER_AND_CLIENT,
            }),
            leaf({ name: kubeletClientCertName(i), ...kubeletClientSpec(controller.hostname) }),
            leaf({ name: kubeletServingCertName(i), ...kubeletServingSpec(controller.hostname, controller.ip) }),
            leaf({
                name: etcdPeerCertName(i),
                purpose: `etcd's peer certificate on ${controller.hostname}`,
                commonName: controller.hostname,
                signer: "etcd-ca",
                dnsNames: [controller.hostname],
                ipAddresses: [controller.ip],
                // A peer is a server to the members that dial it and a client to those it dials.
                usages: SERVER_AND_CLIENT,
            }),
        ]),
    ];
}

/** The DNS names of a Service, as its clients dial it. */
function serviceNames(name: string, namespace: string): string[] {
    return [`${name}.${namespace}.svc`, `${name}.${namespace}.svc.${CLUSTER_DOMAIN}`];
}

/** What makes a certificate a node's, apart from its name, key and lifetime. */
export type NodeCertificateSpec = Omit<CertificateSpec<string>, "name" | "isCa" | "key" | "lifetime">;

/**
 * A kubelet's client certificate: exactly `system:node:<hostname>` in `system:nodes`. The kubelet joins with it (its
 * bootstrap kubeconfig) and then asks the API for a certificate of its own key, which kube-controller-manager approves
 * only for the name that asks (`selfnodeclient`), and so only for this node.
 */
export function kubeletClientSpec(hostname: string): NodeCertificateSpec {
    return {
        purpose: `the kubelet of ${hostname} joins with it (client certificate for exactly its node name)`,
        commonName: nodeUser(hostname),
        organization: NODES_GROUP,
        signer: "ca",
        dnsNames: [],
        ipAddresses: [],
        usages: CLIENT,
    };
}

/**
 * A kubelet's serving certificate, for exactly the node's name and private address: kube-apiserver
 * (`--kubelet-certificate-authority`) and metrics-server verify it when they call the kubelet on that address.
 */
export function kubeletServingSpec(hostname: string, ip: string): NodeCertificateSpec {
    return {
        purpose: `the kubelet's serving certificate on ${hostname} (its name and private address)`,
        commonName: nodeUser(hostname),
        organization: NODES_GROUP,
        signer: "ca",
        dnsNames: [hostname],
        ipAddresses: [ip],
        usages: SERVER,
    };
}

/** Spec name of controller `index`'s kubelet client (join) certificate. */
export function kubeletClientCertName(index: number): string {
    return `kubelet-client-${index}`;
}

/** Spec name of controller `index`'s kubelet serving certificate. */
export function kubeletServingCertName(index: number): string {
    return `kubelet-serving-${index}`;
}

/** Spec name of controller `index`'s etcd serving certificate. */
export function etcdServerCertName(index: number): string {
    return `etcd-server-${index}`;
}

/** Spec name of controller `index`'s etcd peer certificate. */
export function etcdPeerCertName(index: number): string {
    return `etcd-peer-${index}`;
}

/** The lifetime of a certificate in hours, and how early before its end a `pulumi up` re-issues it. */
export interface Validity {
    readonly validityPeriodHours: number;
    /** 0 for CAs: a new CA breaks every kubelet's trust, so it is never renewed silently (docs/pki.md). */
    readonly earlyRenewalHours: number;
}

/** The validity of a spec under the stage's settings. */
export function validityOf(spec: Pick<CertificateSpec<unknown>, "lifetime">, validity: PkiValidity): Validity {
    return spec.lifetime === "ca"
        ? { validityPeriodHours: validity.caValidityDays * 24, earlyRenewalHours: 0 }
        : { validityPeriodHours: validity.certValidityDays * 24, earlyRenewalHours: validity.renewBeforeDays * 24 };
}

/**
 * Checks a `PkiInput` (without the late value) and the validity; returns one message per problem, naming the
 * property and the rule, so the component can fail before creating anything.
 */
export function pkiInputProblems(input: Omit<PkiInput<unknown>, "apiServerPublicAddress">, validity: PkiValidity): string[] {
    const problems: string[] = [];
    for (const key of ["apiServiceIp", "apiServerInternalAddress"] as const) {
        if (!isIpv4Address(input[key])) {
            problems.push(`${key} "${input[key]}" must be an IPv4 address`);
        }
    }
    if (input.controllers.length === 0) {
        problems.push("controllers must list at least one controller (etcd needs a member)");
    }
    const names = new Set<string>();
    const ips = new Set<string>();
    input.controllers.forEach((c, i) => {
        if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(c.hostname)) {
            problems.push(
                `controllers[${i}].hostname "${c.hostname}" must be a lower-case DNS label (it is the etcd member and node name)`,
            );
        }
        if (!isIpv4Address(c.ip)) {
            problems.push(`controllers[${i}].ip "${c.ip}" must be an IPv4 address (controllers have fixed private addresses)`);
        }
        if (names.has(c.hostname)) {
            problems.push(`controllers[${i}].hostname "${c.hostname}" is used twice`);
        }
        if (ips.has(c.ip)) {
            problems.push(`controllers[${i}].ip "${c.ip}" is used twice`);
        }
        names.add(c.hostname);
        ips.add(c.ip);
    });
    const positive = (key: keyof PkiValidity) => {
        if (!Number.isInteger(validity[key]) || validity[key] <= 0) {
            problems.push(`validity.${key} (${validity[key]}) must be a positive whole number of days`);
        }
    };
    positive("caValidityDays");
    positive("certValidityDays");
    positive("renewBeforeDays");
    if (validity.certValidityDays >= validity.caValidityDays) {
        problems.push(
            `validity.certValidityDays (${validity.certValidityDays}) must be shorter than validity.caValidityDays (${validity.caValidityDays}): no certificate may outlive its CA`,
        );
    }
    if (validity.renewBeforeDays >= validity.certValidityDays) {
        problems.push(
            `validity.renewBeforeDays (${validity.renewBeforeDays}) must be shorter than validity.certValidityDays (${validity.certValidityDays})`,
        );
    }
    return problems;
}
