/** The control plane as pure renderers: static pods, controller files, bootstrap objects, SSH scripts, review render. */
export * from "./settings";
export * from "./staticPods";
export * from "./files";
export * from "./rbac";
export * from "./scripts";
export * from "./access";
export * from "./registries";
export * from "./apiserverConfig";
export * from "./etcdBackup";
