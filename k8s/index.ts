/**
 * Pure renderers of everything that runs inside the cluster: plain data in, plain Kubernetes objects out.
 * No Pulumi resources here; components/kubernetesPlatform.ts and components/apps.ts create them.
 */
export type { KubeObject, Late, ObjectMeta } from "./objects";
export { objectKey, objectDependencies, sortObjects } from "./objects";
export type { PlatformInput, PlatformSettings } from "./platform";
export { platformInputProblems, platformSettings, renderPlatformObjects } from "./platform";
export type { AppsInput, AppsSettings } from "./apps";
export { appsProblems, appsSettings, renderAppObjects } from "./apps";
export type { ApiServerEndpoint } from "./nodeNetwork";
export { DEFAULT_STORAGE_CLASS } from "./storage";
export { DISK_STORAGE_CLASS, diskCsiRoleName } from "./blockStorage";
export { INGRESS_CLASS } from "./ingress";
