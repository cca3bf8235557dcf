/**
 * Kubeconfig files, rendered from plain strings. The same functions render the real (secret) kubeconfigs in
 * the program and the templates the offline render writes with placeholders in place of secrets.
 */
import { stringify } from "yaml";
/**
 * How a kubeconfig's user proves who it is: a certificate and its key, embedded; or a certificate whose key stays in a
 * file on the node that made it (a kubelet's join: the key never leaves the node).
 */
export type KubeconfigCredentials =
    | { readonly clientCertificatePem: string; readonly clientKeyPem: string }
    | { readonly clientCertificatePem: string; readonly clientKeyFile: string };

/** One cluster, one user, one context. */
export interface KubeconfigInput {
    /** Name of the cluster entry (the stage's name prefix). */
    readonly clusterName: string;
    /** The user entry's name ("admin", "system:kube-scheduler", "kubelet-bootstrap"). */
    readonly userName: string;
    /** https://host:port of the API server. */
    readonly server: string;
    readonly caCertPem: string;
    readonly credentials: KubeconfigCredentials;
}

const base64 = (text: string) => Buffer.from(text).toString("base64");

/** YAML for machines that may not resolve anchors (the kubelet's static pod reader, kubectl): every value written out. */
export const NO_ALIASES = { aliasDuplicateObjects: false } as const;

/** Checks the server URL: https, a host, a port (an http:// URL would send credentials in clear). */
export function serverUrlProblem(server: string): string | undefined {
    return /^https:\/\/[^/:\s]+:\d{1,5}$/.test(server) ? undefined : `server "${server}" must be https://<host>:<port>`;
}

/** A kubeconfig with everything embedded (no file references), so one file is all a client needs. */
export function renderKubeconfig(input: KubeconfigInput): string {
    const problem = serverUrlProblem(input.server);
    if (problem) {
        throw new Error(`kubeconfig for ${input.userName}: ${problem}`);
    }
    const context = `${input.userName}@${input.clusterName}`;
    const c = input.credentials;
    const user = {
        "client-certificate-data": base64(c.clientCertificatePem),
        ...("clientKeyFile" in c ? { "client-key": c.clientKeyFile } : { "client-key-data": base64(c.clientKeyPem) }),
    };
    const kubeconfig = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: input.clusterName, cluster: { server: input.server, "certificate-authority-data": base64(input.caCertPem) } }],
        users: [{ name: input.userName, user }],
        contexts: [{ name: context, context: { cluster: input.clusterName, user: input.userName } }],
        "current-context": context,
    };
    return stringify(kubeconfig, NO_ALIASES);
}
