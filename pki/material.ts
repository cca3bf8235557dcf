/**
 * The generated PKI as plain strings: what the control plane's files and kubeconfigs are rendered from.
 * In the program it only ever exists inside a secret `pulumi.Output`; tests build one with openssl.
 */
import { BOOTSTRAP_TOKEN } from "./specs";

/** Every certificate, key and token of the cluster. */
export interface PkiMaterial {
    /** PEM certificate of every spec, by spec name ("ca", "apiserver", "etcd-peer-0", ...). */
    readonly certs: Readonly<Record<string, string>>;
    /** PEM private key of every spec, by spec name. */
    readonly keys: Readonly<Record<string, string>>;
    /** The service-account token signing key pair (PEM). */
    readonly serviceAccount: { readonly publicKeyPem: string; readonly privateKeyPem: string };
    /** The kubelet bootstrap token (`<id>.<secret>`). */
    readonly bootstrapToken: { readonly id: string; readonly secret: string };
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

/** `<id>.<secret>`, checked against Kubernetes' token format (a bad token would only fail at node join). */
export function bootstrapTokenString(token: { readonly id: string; readonly secret: string }): string {
    const text = `${token.id}.${token.secret}`;
    if (!BOOTSTRAP_TOKEN.pattern.test(text)) {
        throw new Error(
            `bootstrap token must match [a-z0-9]{6}.[a-z0-9]{16} (id of ${token.id.length} characters, secret of ${token.secret.length})`,
        );
    }
    return text;
}
