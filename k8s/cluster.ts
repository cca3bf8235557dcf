/**
 * Every Kubernetes object a stage creates, from its config alone, with plain stand-ins for what only the cloud
 * knows and placeholders for secrets: for the schema tests, the consistency checks and reviewers.
 * The program itself renders the same objects through the components, with the real values.
 */
import { API_SERVER_PORT } from "../layout/cluster";
import { nodePaths } from "../layout/node";
import { planCluster } from "../config/plan";
import type { StageConfig } from "../config/stageConfig";
import { appsSettings, renderAppObjects } from "./apps";
import { INGRESS_CLASS } from "./ingress";
import { KubeObject } from "./objects";
import { platformSettings, renderPlatformObjects } from "./platform";

/** Shown instead of a secret's value. */
export const SECRET_PLACEHOLDER = "[secret]";

/** The values the cloud side provides, as plain data. */
export interface LateValues {
    /** The edge nodes' private addresses. */
    readonly edgeNodeIps: readonly string[];
    /** The NFS export behind the default StorageClass. */
    readonly nfs: { readonly server: string; readonly path: string };
}

/**
 * Recognisable stand-ins: edge addresses from TEST-NET-1 (RFC 5737, never a real host) and an NFS server named
 * after what it stands for. The path is what the cloud side uses: NAS exports "/", the NFS node its data dir.
 */
export function standInLateValues(cfg: StageConfig): LateValues {
    return {
        edgeNodeIps: Array.from({ length: cfg.edge.count }, (_, i) => `192.0.2.${10 + i}`),
        nfs:
            cfg.storage.kind === "nas"
                ? { server: "nas-mount-target.stand-in.nas.aliyuncs.com", path: "/" }
                : { server: "192.0.2.100", path: nodePaths.nfsExportDir },
    };
}

/** Every object of the stage (platform, then apps), secrets replaced by SECRET_PLACEHOLDER. */
export function renderClusterObjects(cfg: StageConfig, late: LateValues = standInLateValues(cfg)): KubeObject[] {
    const platform = platformSettings(cfg);
    const apps = appsSettings(cfg);
    const hidden = (values: Readonly<Record<string, unknown>>) => Object.fromEntries(Object.keys(values).map((k) => [k, SECRET_PLACEHOLDER]));
    return [
        ...renderPlatformObjects({
            ...platform,
            ingress: { ...platform.ingress, ...(platform.ingress.tls ? { tls: { certificate: platform.ingress.tls.certificate, key: SECRET_PLACEHOLDER } } : {}) },
            apiServer: { host: planCluster(cfg).apiServerInternalAddress, port: API_SERVER_PORT },
            nfs: late.nfs,
            edgeNodeIps: [...late.edgeNodeIps],
        }),
        ...renderAppObjects({
            ...apps,
            appSecrets: Object.fromEntries(Object.entries(apps.appSecrets).map(([app, vars]) => [app, hidden(vars)])),
            ingressClassName: INGRESS_CLASS,
        }),
    ];
}
