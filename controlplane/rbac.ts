/**
 * What the one-shot bootstrap applies once the API answers: the bootstrap token and the RBAC that lets kubelets
 * join by TLS bootstrapping (Kubernetes docs, "TLS bootstrapping"), and lets the apiserver reach kubelets.
 */
import { stringify } from "yaml";
import { NO_ALIASES } from "../pki/kubeconfig";
import { APISERVER_KUBELET_CLIENT_USER } from "../pki/specs";

/** The bootstrap token, as the Secret that makes the apiserver accept it. */
export interface BootstrapTokenInput {
    readonly tokenId: string;
    readonly tokenSecret: string;
}

function binding(name: string, clusterRole: string, subject: { kind: "Group" | "User"; name: string }): Record<string, unknown> {
    return {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", ...subject }],
    };
}

/** The bootstrap objects (a multi-document YAML); contains the token secret. */
export function renderBootstrapManifests(token: BootstrapTokenInput): string {
    const objects: Record<string, unknown>[] = [
        {
            apiVersion: "v1",
            kind: "Secret",
            // The name and type are how the apiserver's bootstrap-token authenticator finds the token.
            metadata: { name: `bootstrap-token-${token.tokenId}`, namespace: "kube-system" },
            type: "bootstrap.kubernetes.io/token",
            // No expiration: workers and edge nodes join whenever a pool grows (docs/pki.md: rotating the token).
            stringData: {
                description: "Kubelet TLS bootstrapping of this cluster's nodes (managed by Pulumi)",
                "token-id": token.tokenId,
                "token-secret": token.tokenSecret,
                "usage-bootstrap-authentication": "true",
            },
        },
        // A bootstrapping kubelet may create a CSR for its client certificate...
        binding("kubelet-bootstrap", "system:node-bootstrapper", { kind: "Group", name: "system:bootstrappers" }),
        // ...which kube-controller-manager approves (first certificate, bootstrap token)...
        binding("node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient", {
            kind: "Group",
            name: "system:bootstrappers",
        }),
        // ...and so are the renewals a node asks for with its current certificate.
        binding("node-autoapprove-certificate-rotation", "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", {
            kind: "Group",
            name: "system:nodes",
        }),
        // The apiserver's client certificate towards kubelets (logs, exec, port-forward).
        binding("kube-apiserver-kubelet-api-admin", "system:kubelet-api-admin", { kind: "User", name: APISERVER_KUBELET_CLIENT_USER }),
    ];
    return objects.map((o) => stringify(o, NO_ALIASES)).join("---\n");
}
