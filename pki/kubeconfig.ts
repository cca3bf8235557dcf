/**
 * Kubeconfig files, rendered from plain strings. The same functions render the real (secret) kubeconfigs in
 * the program and the templates the offline render writes with placeholders in place of secrets.
 */
import { stringify } from "yaml";
import { bootstrapTokenString } from "./material";

/** How a kubeconfig's user proves who it is. */
export type KubeconfigCredentials = { readonly clientCertificatePem: string; readonly clientKeyPem: string } | { readonly token: string };

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
    const user =
        "token" in input.credentials
            ? { token: input.credentials.token }
            : {
                  "client-certificate-data": base64(input.credentials.clientCertificatePem),
                  "client-key-data": base64(input.credentials.clientKeyPem),
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

/** What a kubelet joins with: the API server, the CA that signed its certificate, and the bootstrap token. */
export interface BootstrapKubeconfigInput {
    readonly server: string;
    readonly caCertPem: string;
    readonly tokenId: string;
    readonly tokenSecret: string;
    /** Name of the cluster entry. Defaults to "kubernetes". */
    readonly clusterName?: string;
}

/**
 * The kubelet's bootstrap kubeconfig: the kubelet authenticates with the token (group system:bootstrappers),
 * asks for a client certificate through a CSR, and writes its own kubeconfig once the CSR is approved.
 */
export function renderBootstrapKubeconfig(input: BootstrapKubeconfigInput): string {
    return renderKubeconfig({
        clusterName: input.clusterName ?? "kubernetes",
        userName: "kubelet-bootstrap",
        server: input.server,
        caCertPem: input.caCertPem,
        credentials: { token: bootstrapTokenString({ id: input.tokenId, secret: input.tokenSecret }) },
    });
}
