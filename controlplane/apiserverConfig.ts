/**
 * kube-apiserver's policy files, rendered from plain data: Secret encryption at rest, the audit policy and the
 * admission configuration (Pod Security defaults). Each controller receives them over SSH (`controllerFiles`);
 * docs/security.md says what each one does and how to rotate the encryption key.
 */
import { stringify } from "yaml";
import { EncryptionKey } from "../pki/material";
import { NO_ALIASES } from "../pki/kubeconfig";

/** File names inside `nodePaths.apiserverConfigDir`. */
export const APISERVER_CONFIG_FILES = {
    encryption: "encryption-config.yaml",
    audit: "audit-policy.yaml",
    admission: "admission.yaml",
} as const;

/** The provider of Secret encryption: XSalsa20-Poly1305, the strongest of the local providers upstream documents. */
export const ENCRYPTION_PROVIDER = "secretbox";

/** The prefix of a Secret encrypted with key `name` in etcd (what the engine suite reads there). */
export function encryptedPrefix(keyName: string): string {
    return `k8s:enc:${ENCRYPTION_PROVIDER}:v1:${keyName}:`;
}

/**
 * The EncryptionConfiguration: Secrets are written with the first key and read with any of them; `identity` last, so
 * Secrets written before encryption was on (a stage older than this) stay readable until they are rewritten
 * (docs/security.md, "Encryption at rest").
 */
export function renderEncryptionConfig(keys: readonly EncryptionKey[]): string {
    if (keys.length === 0) {
        throw new Error("secretsEncryptionKeys: at least one key is needed to encrypt Secrets");
    }
    return stringify(
        {
            apiVersion: "apiserver.config.k8s.io/v1",
            kind: "EncryptionConfiguration",
            resources: [
                {
                    resources: ["secrets"],
                    providers: [
                        { [ENCRYPTION_PROVIDER]: { keys: keys.map((k) => ({ name: k.name, secret: k.secret })) } },
                        { identity: {} },
                    ],
                },
            ],
        },
        NO_ALIASES,
    );
}

/** How long and how much audit log a controller keeps (kube-apiserver rotates it itself). */
export const AUDIT_LOG_RETENTION = { maxAgeDays: 30, maxBackups: 10, maxSizeMb: 100 } as const;

const WRITES = ["create", "update", "patch", "delete", "deletecollection"];

/**
 * Who changed what: request bodies of writes (what was changed, and by whom), metadata of reads, and only metadata for
 * anything whose body is a secret (Secrets, token reviews and requests, which carry tokens). Left out: health and
 * version probes, the nodes' and control plane's own heartbeats (Leases, Events), which would drown the rest.
 */
export function renderAuditPolicy(): string {
    return stringify(
        {
            apiVersion: "audit.k8s.io/v1",
            kind: "Policy",
            // One event per request, when the response is known (who, what, the verdict).
            omitStages: ["RequestReceived"],
            rules: [
                { level: "None", nonResourceURLs: ["/healthz*", "/readyz*", "/livez*", "/version", "/metrics"] },
                { level: "None", verbs: ["get", "update"], resources: [{ group: "coordination.k8s.io", resources: ["leases"] }] },
                {
                    level: "None",
                    resources: [
                        { group: "", resources: ["events"] },
                        { group: "events.k8s.io", resources: ["events"] },
                    ],
                },
                {
                    level: "Metadata",
                    resources: [
                        { group: "", resources: ["secrets", "serviceaccounts/token"] },
                        { group: "authentication.k8s.io", resources: ["tokenreviews"] },
                    ],
                },
                { level: "Request", verbs: WRITES },
                { level: "Metadata" },
            ],
        },
        NO_ALIASES,
    );
}

/**
 * The admission configuration: Pod Security for every namespace without its own labels, `baseline` enforced and
 * `restricted` warned and audited; kube-system is exempt (flannel, kube-proxy and the control plane's mirror pods
 * need the host). Namespaces the program creates carry their own level (docs/kubernetes.md).
 */
export function renderAdmissionConfig(): string {
    return stringify(
        {
            apiVersion: "apiserver.config.k8s.io/v1",
            kind: "AdmissionConfiguration",
            plugins: [
                {
                    name: "PodSecurity",
                    configuration: {
                        apiVersion: "pod-security.admission.config.k8s.io/v1",
                        kind: "PodSecurityConfiguration",
                        defaults: {
                            enforce: "baseline",
                            "enforce-version": "latest",
                            warn: "restricted",
                            "warn-version": "latest",
                            audit: "restricted",
                            "audit-version": "latest",
                        },
                        exemptions: { usernames: [], runtimeClasses: [], namespaces: ["kube-system"] },
                    },
                },
            ],
        },
        NO_ALIASES,
    );
}
