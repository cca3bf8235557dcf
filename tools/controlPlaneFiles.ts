/**
 * The control plane's files for review, without secrets: what `npm run render` writes under
 * `out/<stage>/controlplane/`. Every file a controller receives appears at its path on the node, rendered by the
 * same functions as the real ones, from placeholder key material; kubeconfigs show placeholders instead of data.
 */
import { parse, stringify } from "yaml";
import { planCluster } from "../config/plan";
import { StageConfig } from "../config/types";
import { NodeFile, controlPlaneSettings, controllerFiles, renderBootstrapManifests } from "../controlplane";
import { API_SERVER_PORT } from "../layout/cluster";
import {
    CertificateSpec,
    NO_ALIASES,
    PkiMaterial,
    clusterCertificateSpecs,
    etcdTlsEnvironment,
    renderKubeconfig,
    validityOf,
} from "../pki";

/** Stand-in for the `apiserver` EIP, which only exists after `pulumi up`. */
export const PUBLIC_ADDRESS_PLACEHOLDER = "<apiserver-EIP>";

/** Key material made of labels: renders every file's shape with nothing secret in it. */
export function placeholderMaterial(
    specs: readonly CertificateSpec<unknown>[],
    encryptionKeyNames: readonly string[] = ["key-1"],
): PkiMaterial {
    return {
        certs: Object.fromEntries(specs.map((s) => [s.name, `<certificate ${s.name}>`])),
        keys: Object.fromEntries(specs.map((s) => [s.name, `<secret: private key of ${s.name}>`])),
        serviceAccount: { publicKeyPem: "<service-account public key>", privateKeyPem: "<secret: service-account private key>" },
        encryptionKeys: encryptionKeyNames.map((name) => ({ name, secret: `<secret: 32 random bytes of ${name}, base64>` })),
    };
}

const MASKS: Record<string, string> = {
    "certificate-authority-data": "<base64 of the cluster CA certificate>",
    "client-certificate-data": "<base64 of the client certificate>",
    "client-key-data": "<secret: base64 of the client key>",
};

/** A kubeconfig with its credentials and embedded certificates replaced by labels. */
export function kubeconfigTemplate(kubeconfig: string): string {
    const doc = parse(kubeconfig) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
    for (const entry of [...doc.clusters.map((c) => c.cluster), ...doc.users.map((u) => u.user)]) {
        for (const key of Object.keys(entry)) {
            if (key in MASKS) {
                entry[key] = MASKS[key];
            }
        }
    }
    return stringify(doc, NO_ALIASES);
}

function reviewable(file: NodeFile): string {
    return /^kind: Config$/m.test(file.content) ? kubeconfigTemplate(file.content) : file.content;
}

/** The certificate specs as a table for review: subject, signer, SANs, usages, lifetime. */
function certificateTable(specs: readonly CertificateSpec<string>[], cfg: StageConfig): string {
    return stringify(
        specs.map((s) => {
            const v = validityOf(s, cfg.pki);
            return {
                name: s.name,
                purpose: s.purpose,
                subject: { CN: s.commonName, ...(s.organization ? { O: s.organization } : {}) },
                signer: s.signer,
                isCa: s.isCa,
                ...(s.dnsNames.length ? { dnsNames: s.dnsNames } : {}),
                ...(s.ipAddresses.length ? { ipAddresses: s.ipAddresses } : {}),
                usages: s.usages,
                key: s.key,
                validityDays: v.validityPeriodHours / 24,
                renewedWithinDaysOfExpiry: v.earlyRenewalHours / 24,
            };
        }),
        NO_ALIASES,
    );
}

/** A stage's certificate specs, as `ClusterPki` makes them, with `apiServerPublicAddress` standing in for the EIP. */
export function stageCertificateSpecs(cfg: StageConfig, apiServerPublicAddress: string): CertificateSpec<string>[] {
    const plan = planCluster(cfg);
    return clusterCertificateSpecs<string>({
        clusterName: cfg.namePrefix,
        apiServiceIp: cfg.cluster.apiServiceIp,
        apiServerInternalAddress: plan.apiServerInternalAddress,
        apiServerPublicAddress,
        controllers: plan.controllers,
    });
}

/** Relative path (under out/<stage>/controlplane/) -> content. */
export function renderControlPlaneArtifacts(cfg: StageConfig): Record<string, string> {
    const settings = controlPlaneSettings(cfg, planCluster(cfg));
    const specs = stageCertificateSpecs(cfg, PUBLIC_ADDRESS_PLACEHOLDER);
    const material = placeholderMaterial(specs, cfg.secretsEncryptionKeys);
    const out: Record<string, string> = {
        "certificates.yaml": certificateTable(specs, cfg),
        "bootstrap-rbac.yaml": renderBootstrapManifests(),
        "etcd-tls.env":
            Object.entries(etcdTlsEnvironment())
                .map(([k, v]) => `${k}=${v}`)
                .join("\n") + "\n",
        "kubeconfig/admin.conf": kubeconfigTemplate(
            renderKubeconfig({
                clusterName: cfg.namePrefix,
                userName: "admin",
                server: `https://${PUBLIC_ADDRESS_PLACEHOLDER}:${API_SERVER_PORT}`,
                caCertPem: "-",
                credentials: { clientCertificatePem: "-", clientKeyPem: "-" },
            }),
        ),
    };
    settings.controllers.forEach((controller, i) => {
        const { files } = controllerFiles(material, settings, i);
        out[`controllers/${controller.hostname}/files.txt`] =
            files.map((f) => `${f.mode} ${f.path}${f.mode === "0600" ? " (secret)" : ""}`).join("\n") + "\n";
        for (const file of files) {
            out[`controllers/${controller.hostname}${file.path}`] = reviewable(file);
        }
    });
    return out;
}
