/**
 * What the one-shot bootstrap applies once the API answers: the RBAC that lets kubelets renew their own certificates,
 * lets the apiserver reach kubelets, and makes the team's admin group cluster-admin. There is no bootstrap token:
 * kubelets join with a certificate for their own name (docs/security.md, "Joining").
 */
import { stringify } from "yaml";
import { NO_ALIASES } from "../pki/kubeconfig";
import { APISERVER_KUBELET_CLIENT_USER, CLUSTER_ADMINS_GROUP, NODES_GROUP } from "../pki/specs";

/** The ClusterRoleBinding that makes the admin kubeconfig's group cluster-admin; deleting it revokes that kubeconfig. */
export const CLUSTER_ADMINS_BINDING = "platform-cluster-admins";

function binding(name: string, clusterRole: string, subject: { kind: "Group" | "User"; name: string }): Record<string, unknown> {
    return {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", ...subject }],
    };
}

/** The bootstrap objects (a multi-document YAML); nothing secret. */
export function renderBootstrapManifests(): string {
    const objects: Record<string, unknown>[] = [
        // A kubelet's request for a new certificate of the name it already holds is approved by kube-controller-manager
        // (its own renewal, `selfnodeclient`). Nothing approves a request for any other name: there is no `nodeclient`
        // binding, so a node's credential can never obtain another node's identity.
        binding("node-autoapprove-certificate-rotation", "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", {
            kind: "Group",
            name: NODES_GROUP,
        }),
        // The apiserver's client certificate towards kubelets (logs, exec, port-forward).
        binding("kube-apiserver-kubelet-api-admin", "system:kubelet-api-admin", { kind: "User", name: APISERVER_KUBELET_CLIENT_USER }),
        // The team's admin kubeconfig: cluster-admin through this binding, so deleting it revokes every copy.
        binding(CLUSTER_ADMINS_BINDING, "cluster-admin", { kind: "Group", name: CLUSTER_ADMINS_GROUP }),
    ];
    return objects.map((o) => stringify(o, NO_ALIASES)).join("---\n");
}
