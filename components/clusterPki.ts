import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import {
    CertificateSpec,
    ControllerAddress,
    EncryptionKey,
    KeyAlgorithm,
    NodeCertificateSpec,
    PkiMaterial,
    PkiValidity,
    SERVICE_ACCOUNT_KEY,
    certificateRequestProblems,
    clusterCertificateSpecs,
    pkiInputProblems,
    renderKubeconfig,
    serverUrlProblem,
    validityOf,
} from "../pki";
import { StageIdentity } from "./common";

/** Arguments of a `ClusterPki`. */
export interface ClusterPkiArgs {
    /** Names and tags of the stage; the name prefix goes into the CAs' names. */
    readonly identity: StageIdentity;
    /** The `kubernetes` Service's address (first address of the service CIDR). */
    readonly apiServiceIp: string;
    /** The internal API load balancer's fixed address (`planCluster(cfg).apiServerInternalAddress`). */
    readonly apiServerInternalAddress: string;
    /** The `apiserver` EIP's address: the public API endpoint. */
    readonly apiServerPublicAddress: pulumi.Input<string>;
    /** The controllers' predictable names and fixed addresses (etcd's server and peer certificates name them). */
    readonly controllers: readonly ControllerAddress[];
    /** Certificate lifetimes (`StageConfig.pki`). */
    readonly validity: PkiValidity;
    /**
     * Names of the keys Secrets are encrypted with in etcd, the one that encrypts first (config key
     * `secretsEncryptionKeys`). Each name gets 32 random bytes, a secret; renaming a key makes a new one.
     */
    readonly encryptionKeyNames: readonly string[];
    /** Whether to issue Prometheus's etcd client certificate (observability on). Defaults to false. */
    readonly etcdMetricsClient?: boolean;
}

/** One issued certificate and its key. */
interface Issued {
    readonly certPem: pulumi.Output<string>;
    readonly keyPem: pulumi.Output<string>;
    /** The certificate's end (RFC 3339). */
    readonly notAfter: pulumi.Output<string>;
    readonly purpose: string;
}

/**
 * The cluster's PKI: three CAs (Kubernetes, front proxy, etcd), every control-plane certificate (the controllers'
 * kubelets' included), the service-account key pair and the keys that encrypt Secrets in etcd, all held in the stack
 * state. Certificates come from the specs of `pki/specs.ts`. Every private key is a secret; the only plain output is
 * the CA certificate. It also signs the requests of workers and edge nodes, whose keys never leave them
 * (`signNodeRequest`). A `pulumi up` within `renewBeforeDays` of a leaf's expiry re-issues it (docs/pki.md).
 */
export class ClusterPki extends pulumi.ComponentResource {
    /** The cluster CA certificate (PEM). Public. */
    public readonly caCertPem: pulumi.Output<string>;
    /** Every certificate, key and the token, for the control plane's files. Secret. */
    public readonly material: pulumi.Output<PkiMaterial>;
    /** The kubeconfigs' cluster name (the stage's name prefix). */
    public readonly clusterName: string;
    /** Every certificate's name, purpose and end, for the expiry alerts (k8s/alertRules.ts). Public. */
    public readonly certificateExpiries: pulumi.Output<{ name: string; purpose: string; notAfter: string }[]>;
    private readonly issued: ReadonlyMap<string, Issued>;
    private readonly validity: PkiValidity;

    constructor(name: string, args: ClusterPkiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:ClusterPki", name, {}, opts);
        const problems = pkiInputProblems({ ...args, clusterName: args.identity.namePrefix }, args.validity);
        if (problems.length > 0) {
            throw new pulumi.ResourceError(`ClusterPki ${name}: ${problems.join("; ")}`, this);
        }
        this.clusterName = args.identity.namePrefix;
        const specs = clusterCertificateSpecs<pulumi.Input<string>>({
            clusterName: args.identity.namePrefix,
            apiServiceIp: args.apiServiceIp,
            apiServerInternalAddress: args.apiServerInternalAddress,
            apiServerPublicAddress: args.apiServerPublicAddress,
            controllers: args.controllers,
            etcdMetricsClient: args.etcdMetricsClient ?? false,
        });

        const issued = new Map<string, Issued>();
        for (const spec of specs) {
            issued.set(spec.name, this.issue(name, spec, args.validity, issued));
        }
        this.issued = issued;
        this.validity = args.validity;

        // Every service-account token in the cluster is signed by it: a new one invalidates them all.
        const serviceAccount = privateKey(`${name}-service-account-key`, SERVICE_ACCOUNT_KEY, this, true);
        // secretbox takes a 32-byte key. Keyed by name, so adding a key for a rotation creates only that one.
        const encryptionKeys = pulumi.all(
            args.encryptionKeyNames.map((keyName) =>
                pulumi
                    // Protected: every Secret in etcd, and in its backups, is unreadable without it.
                    .secret(
                        new random.RandomBytes(`${name}-secrets-encryption-${keyName}`, { length: 32 }, { parent: this, protect: true })
                            .base64,
                    )
                    .apply((secret): EncryptionKey => ({ name: keyName, secret })),
            ),
        );

        const byName = (pick: (i: Issued) => pulumi.Output<string>): pulumi.Output<Record<string, string>> =>
            pulumi.all(Object.fromEntries([...issued].map(([spec, i]) => [spec, pick(i)])));
        this.caCertPem = this.issuedCert("ca").certPem;
        this.certificateExpiries = pulumi.all(
            [...issued].map(([spec, i]) => i.notAfter.apply((notAfter) => ({ name: spec, purpose: i.purpose, notAfter }))),
        );
        this.material = pulumi.secret(
            pulumi
                .all([
                    byName((i) => i.certPem),
                    byName((i) => i.keyPem),
                    serviceAccount.publicKeyPem,
                    serviceAccount.privateKeyPem,
                    encryptionKeys,
                ])
                .apply(([certs, keys, publicKeyPem, privateKeyPem, encryption]): PkiMaterial => ({
                    certs,
                    keys,
                    serviceAccount: { publicKeyPem, privateKeyPem },
                    encryptionKeys: encryption,
                })),
        );
        this.registerOutputs({ caCertPem: this.caCertPem });
    }

    /**
     * Signs a node's certificate request with the cluster CA, as `spec` (a kubelet's client or serving certificate),
     * after checking that the request asks for exactly that and nothing else: a node can never get a certificate for
     * another node's name or address, whatever it sends. Returns the certificate (PEM; public).
     */
    public signNodeRequest(
        name: string,
        requestPem: pulumi.Input<string>,
        spec: pulumi.Input<NodeCertificateSpec>,
        parent: pulumi.Resource,
    ): pulumi.Output<string> {
        const ca = this.issuedCert("ca");
        const checked = pulumi.all([requestPem, spec]).apply(([pem, s]) => {
            const problems = certificateRequestProblems(`the certificate request of ${name}`, pem, s);
            if (problems.length > 0) {
                throw new pulumi.ResourceError(`${problems.join("; ")}: refusing to sign it`, parent);
            }
            return pem;
        });
        const { validityPeriodHours, earlyRenewalHours } = validityOf({ lifetime: "leaf" }, this.validity);
        return new tls.LocallySignedCert(
            name,
            {
                certRequestPem: checked,
                caCertPem: ca.certPem,
                caPrivateKeyPem: ca.keyPem,
                isCaCertificate: false,
                allowedUses: pulumi.output(spec).apply((s) => [...s.usages]),
                validityPeriodHours,
                earlyRenewalHours,
                setSubjectKeyId: true,
            },
            { parent },
        ).certPem;
    }

    /**
     * The team's admin kubeconfig (group `CLUSTER_ADMINS_GROUP`, cluster-admin through RBAC, so revocable) for an API
     * server URL; accepts an Output URL. Secret.
     */
    public adminKubeconfig(serverUrl: pulumi.Input<string>): pulumi.Output<string> {
        return this.clientKubeconfig("admin", "admin", serverUrl);
    }

    /**
     * The break-glass kubeconfig (`system:masters`) for an API server URL. Secret, and never a stack output: the control
     * plane's bootstrap carries it for the time it runs, and `npm run break-glass` reads it from the state.
     */
    public breakGlassKubeconfig(serverUrl: pulumi.Input<string>): pulumi.Output<string> {
        return this.clientKubeconfig("break-glass", "break-glass", serverUrl);
    }

    private clientKubeconfig(specName: string, userName: string, serverUrl: pulumi.Input<string>): pulumi.Output<string> {
        const admin = this.issuedCert(specName);
        return pulumi.secret(
            pulumi
                .all([serverUrl, this.caCertPem, admin.certPem, admin.keyPem])
                .apply(([server, caCertPem, clientCertificatePem, clientKeyPem]) => {
                    this.checkServer(`kubeconfig of ${userName}`, server);
                    return renderKubeconfig({
                        clusterName: this.clusterName,
                        userName,
                        server,
                        caCertPem,
                        credentials: { clientCertificatePem, clientKeyPem },
                    });
                }),
        );
    }

    /** metrics-server's serving certificate (for its Service's names), its key (secret) and the cluster CA. */
    public get metricsServerTls(): { certPem: pulumi.Output<string>; keyPem: pulumi.Output<string>; caCertPem: pulumi.Output<string> } {
        const issued = this.issuedCert("metrics-server");
        return { certPem: issued.certPem, keyPem: issued.keyPem, caCertPem: this.caCertPem };
    }

    /** A certificate and its key by spec name (Prometheus's etcd client certificate, for the observability). Key secret. */
    public certificate(specName: string): { readonly certPem: pulumi.Output<string>; readonly keyPem: pulumi.Output<string> } {
        const { certPem, keyPem } = this.issuedCert(specName);
        return { certPem, keyPem };
    }

    /** A certificate the specs define (every spec is issued in the constructor). */
    private issuedCert(specName: string): Issued {
        const issued = this.issued.get(specName);
        if (!issued) {
            throw new pulumi.ResourceError(
                `ClusterPki: no certificate ${specName} among the specs (${[...this.issued.keys()].join(", ")})`,
                this,
            );
        }
        return issued;
    }

    private checkServer(method: string, serverUrl: string): void {
        const problem = serverUrlProblem(serverUrl);
        if (problem) {
            throw new pulumi.ResourceError(`ClusterPki.${method}: ${problem}`, this);
        }
    }

    /** One certificate from its spec: key, then self-signed (CA) or CSR + signature by its CA. */
    private issue(
        name: string,
        spec: CertificateSpec<pulumi.Input<string>>,
        validity: PkiValidity,
        issued: ReadonlyMap<string, Issued>,
    ): Issued {
        // A CA is a trust root (every kubeconfig, kubelet and etcd peer holds it): its key and certificate are replaced only
        // on purpose, after `pulumi state unprotect` (docs/pki.md, "Rotating a CA"). Leaves are re-issued routinely.
        const key = privateKey(`${name}-${spec.name}-key`, spec.key, this, spec.isCa);
        const keyPem = pulumi.secret(key.privateKeyPem);
        const subject = { commonName: spec.commonName, ...(spec.organization ? { organization: spec.organization } : {}) };
        const { validityPeriodHours, earlyRenewalHours } = validityOf(spec, validity);
        if (spec.signer === "self") {
            const cert = new tls.SelfSignedCert(
                `${name}-${spec.name}`,
                {
                    privateKeyPem: keyPem,
                    subject,
                    isCaCertificate: spec.isCa,
                    allowedUses: [...spec.usages],
                    validityPeriodHours,
                    earlyRenewalHours,
                    setSubjectKeyId: true,
                },
                { parent: this, protect: spec.isCa },
            );
            return { certPem: cert.certPem, keyPem, notAfter: cert.validityEndTime, purpose: spec.purpose };
        }
        const signer = issued.get(spec.signer);
        if (!signer) {
            throw new pulumi.ResourceError(
                `ClusterPki ${name}: ${spec.name} is signed by ${spec.signer}, which must come first in the specs`,
                this,
            );
        }
        const csr = new tls.CertRequest(
            `${name}-${spec.name}-csr`,
            { privateKeyPem: keyPem, subject, dnsNames: [...spec.dnsNames], ipAddresses: [...spec.ipAddresses] },
            { parent: this },
        );
        const cert = new tls.LocallySignedCert(
            `${name}-${spec.name}`,
            {
                certRequestPem: csr.certRequestPem,
                caCertPem: signer.certPem,
                caPrivateKeyPem: signer.keyPem,
                isCaCertificate: spec.isCa,
                allowedUses: [...spec.usages],
                validityPeriodHours,
                earlyRenewalHours,
                setSubjectKeyId: true,
            },
            { parent: this },
        );
        return { certPem: cert.certPem, keyPem, notAfter: cert.validityEndTime, purpose: spec.purpose };
    }
}

function privateKey(name: string, algorithm: KeyAlgorithm, parent: pulumi.Resource, protect = false): tls.PrivateKey {
    return new tls.PrivateKey(
        name,
        algorithm.algorithm === "ECDSA" ? { algorithm: "ECDSA", ecdsaCurve: "P256" } : { algorithm: "RSA", rsaBits: algorithm.bits },
        { parent, protect },
    );
}
