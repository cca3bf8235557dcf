import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import {
    BOOTSTRAP_TOKEN,
    CertificateSpec,
    ControllerAddress,
    KeyAlgorithm,
    PkiMaterial,
    PkiValidity,
    SERVICE_ACCOUNT_KEY,
    clusterCertificateSpecs,
    pkiInputProblems,
    renderBootstrapKubeconfig,
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
 * The cluster's PKI: three CAs (Kubernetes, front proxy, etcd), every control-plane certificate, the
 * service-account key pair and the kubelet bootstrap token, all held in the stack state. Certificates come from
 * the specs of `pki/specs.ts`. Every private key and the token are secrets; the only plain output is the CA
 * certificate. A `pulumi up` within `renewBeforeDays` of a leaf's expiry re-issues it (docs/pki.md).
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
    private readonly token: { readonly id: pulumi.Output<string>; readonly secret: pulumi.Output<string> };

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

        const serviceAccount = privateKey(`${name}-service-account-key`, SERVICE_ACCOUNT_KEY, this);
        // Kubernetes' token format: [a-z0-9]{6}.[a-z0-9]{16}. RandomPassword keeps the secret half a secret in state.
        const tokenChars = { special: false, upper: false, lower: true, numeric: true };
        this.token = {
            id: new random.RandomString(`${name}-bootstrap-token-id`, { length: BOOTSTRAP_TOKEN.idLength, ...tokenChars }, { parent: this })
                .result,
            secret: pulumi.secret(
                new random.RandomPassword(
                    `${name}-bootstrap-token-secret`,
                    { length: BOOTSTRAP_TOKEN.secretLength, ...tokenChars },
                    { parent: this },
                ).result,
            ),
        };

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
                    this.token.id,
                    this.token.secret,
                ])
                .apply(([certs, keys, publicKeyPem, privateKeyPem, id, secret]): PkiMaterial => ({
                    certs,
                    keys,
                    serviceAccount: { publicKeyPem, privateKeyPem },
                    bootstrapToken: { id, secret },
                })),
        );
        this.registerOutputs({ caCertPem: this.caCertPem });
    }

    /** The kubelet bootstrap kubeconfig for an API server URL (https://host:6443). Secret. */
    public bootstrapKubeconfig(serverUrl: string): pulumi.Output<string> {
        this.checkServer("bootstrapKubeconfig", serverUrl);
        return pulumi.secret(
            pulumi
                .all([this.caCertPem, this.token.id, this.token.secret])
                .apply(([caCertPem, tokenId, tokenSecret]) =>
                    renderBootstrapKubeconfig({ clusterName: this.clusterName, server: serverUrl, caCertPem, tokenId, tokenSecret }),
                ),
        );
    }

    /** A cluster-admin kubeconfig (group system:masters) for an API server URL; accepts an Output URL. Secret. */
    public adminKubeconfig(serverUrl: pulumi.Input<string>): pulumi.Output<string> {
        const admin = this.issuedCert("admin");
        return pulumi.secret(
            pulumi
                .all([serverUrl, this.caCertPem, admin.certPem, admin.keyPem])
                .apply(([server, caCertPem, clientCertificatePem, clientKeyPem]) => {
                    this.checkServer("adminKubeconfig", server);
                    return renderKubeconfig({
                        clusterName: this.clusterName,
                        userName: "admin",
                        server,
                        caCertPem,
                        credentials: { clientCertificatePem, clientKeyPem },
                    });
                }),
        );
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
        const key = privateKey(`${name}-${spec.name}-key`, spec.key, this);
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
                { parent: this },
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

function privateKey(name: string, algorithm: KeyAlgorithm, parent: pulumi.Resource): tls.PrivateKey {
    return new tls.PrivateKey(
        name,
        algorithm.algorithm === "ECDSA" ? { algorithm: "ECDSA", ecdsaCurve: "P256" } : { algorithm: "RSA", rsaBits: algorithm.bits },
        { parent },
    );
}
