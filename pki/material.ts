/**
 * The generated PKI as plain strings: what the control plane's files and kubeconfigs are rendered from.
 * In the program it only ever exists inside a secret `pulumi.Output`; tests build one with openssl.
 */
/** One key of the API server's Secret encryption (EncryptionConfiguration `secretbox`), by its name. */
export interface EncryptionKey {
    /** The name in the EncryptionConfiguration, which every ciphertext carries (`k8s:enc:secretbox:v1:<name>:`). */
    readonly name: string;
    /** 32 random bytes, base64. */
    readonly secret: string;
}

/** Every certificate and key of the cluster. */
export interface PkiMaterial {
    /** PEM certificate of every spec, by spec name ("ca", "apiserver", "etcd-peer-0", ...). */
    readonly certs: Readonly<Record<string, string>>;
    /** PEM private key of every spec, by spec name. */
    readonly keys: Readonly<Record<string, string>>;
    /** The service-account token signing key pair (PEM). */
    readonly serviceAccount: { readonly publicKeyPem: string; readonly privateKeyPem: string };
    /** The keys Secrets are encrypted with in etcd, the one that encrypts first (config key secretsEncryptionKeys). */
    readonly encryptionKeys: readonly EncryptionKey[];
}

/** The PEM certificate of a spec; throws naming the spec when the material lacks it. */
export function certOf(material: PkiMaterial, name: string): string {
    const pem = material.certs[name];
    if (pem === undefined) {
        throw new Error(`PKI material has no certificate "${name}" (has: ${Object.keys(material.certs).join(", ")})`);
    }
    return pem;
}

/** The PEM private key of a spec; throws naming the spec (never the key) when the material lacks it. */
export function keyOf(material: PkiMaterial, name: string): string {
    const pem = material.keys[name];
    if (pem === undefined) {
        throw new Error(`PKI material has no private key "${name}"`);
    }
    return pem;
}
