/** The cluster's PKI as pure data and renderers (no Pulumi resources; `components/clusterPki.ts` makes those). */
export * from "./specs";
export * from "./material";
export * from "./kubeconfig";
export * from "./etcd";
export * from "./csr";
