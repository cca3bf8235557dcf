/**
 * The Kubernetes side of the offline render and of the tests that check it:
 *   - every Kubernetes object a stage creates, from its config alone, with plain stand-ins for what only the cloud
 *     knows and placeholders for secrets (the schema tests, the consistency checks); the program renders the same
 *     objects through the components, with the real values;
 *   - `out/<stage>/k8s/*.yaml`: the objects a run of the program registered, one file per platform component or
 *     app, secrets masked.
 */
import * as YAML from "yaml";
import { planCluster } from "../config/plan";
import type { StageConfig } from "../config/types";
import { appsSettings, renderAppObjects } from "../k8s/apps";
import { INGRESS_CLASS } from "../k8s/ingress";
import { KubeObject, sortObjects } from "../k8s/objects";
import { platformSettings, renderPlatformObjects } from "../k8s/platform";
import { API_SERVER_PORT, NAS_VOLUMES_DIR } from "../layout/cluster";
import { nodePaths } from "../layout/node";
import { SECRET_MASK } from "./mockRuntime";
import { observabilitySettings, renderObservabilityObjects } from "../k8s/observability";
import { renderCertificateRules } from "../k8s/alertRules";
import { renderAlertmanagerConfig } from "../k8s/alertmanagerConfig";
import { renderOutsideTargets } from "../k8s/prometheusConfig";

/** Shown instead of a secret's value. */
const SECRET_PLACEHOLDER = SECRET_MASK;

/** The values the cloud side provides, as plain data. */
export interface CloudStandIns {
    /** The NFS export behind the default StorageClass. */
    readonly nfs: { readonly server: string; readonly path: string };
    /** The bastion's private address (Prometheus scrapes its node_exporter). */
    readonly bastionIp: string;
    /** When the certificates the program issues end (RFC 3339). */
    readonly certificatesNotAfter: string;
}

/**
 * Recognisable stand-ins: an NFS server named after what it stands for, or an address from TEST-NET-1 (RFC 5737,
 * never a real host). The path is what the cloud side uses: NAS exports "/", the NFS node its data dir.
 */
export function cloudStandIns(cfg: StageConfig): CloudStandIns {
    return {
        nfs:
            cfg.storage.kind === "nas"
                ? { server: "nas-mount-target.stand-in.nas.aliyuncs.com", path: NAS_VOLUMES_DIR }
                : { server: "192.0.2.100", path: nodePaths.nfsExportDir },
        bastionIp: "192.0.2.10",
        certificatesNotAfter: "2030-01-01T00:00:00Z",
    };
}

/** Every object of the stage (platform, then apps), secrets replaced by SECRET_PLACEHOLDER. */
export function renderClusterObjects(cfg: StageConfig, late: CloudStandIns = cloudStandIns(cfg)): KubeObject[] {
    const platform = platformSettings(cfg);
    const apps = appsSettings(cfg);
    const hidden = (values: Readonly<Record<string, unknown>>) =>
        Object.fromEntries(Object.keys(values).map((k) => [k, SECRET_PLACEHOLDER]));
    return [
        ...renderPlatformObjects({
            ...platform,
            ingress: {
                ...platform.ingress,
                ...(platform.ingress.tls ? { tls: { certificate: platform.ingress.tls.certificate, key: SECRET_PLACEHOLDER } } : {}),
            },
            apiServer: { host: planCluster(cfg).apiServerInternalAddress, port: API_SERVER_PORT },
            nfs: late.nfs,
            // Made by ClusterPki; a Secret's data is all secret to the provider, the CA bundle is base64 in the schema.
            metricsServerTls: {
                certificate: SECRET_PLACEHOLDER,
                key: SECRET_PLACEHOLDER,
                caBundle: Buffer.from("<the cluster CA certificate>").toString("base64"),
            },
        }),
        ...renderAppObjects({
            ...apps,
            appSecrets: Object.fromEntries(Object.entries(apps.appSecrets).map(([app, vars]) => [app, hidden(vars)])),
            ingressClassName: INGRESS_CLASS,
        }),
        ...(cfg.observability.enabled ? renderObservabilityStandIns(cfg, late) : []),
    ];
}

/** Observability's objects with stand-ins for the certificates, addresses and secrets only the program knows. */
function renderObservabilityStandIns(cfg: StageConfig, late: CloudStandIns): KubeObject[] {
    const hidden = (values: object) => Object.fromEntries(Object.keys(values).map((k) => [k, SECRET_PLACEHOLDER]));
    const outside = [
        { hostname: `${cfg.namePrefix}-bastion`, ip: late.bastionIp },
        ...(cfg.storage.kind === "nfs-server" ? [{ hostname: `${cfg.namePrefix}-nfs`, ip: planCluster(cfg).nfsServerAddress }] : []),
    ];
    return renderObservabilityObjects({
        ...observabilitySettings(cfg),
        etcdClient: { ca: "(the etcd CA)", certificate: "(Prometheus's etcd client certificate)", key: SECRET_PLACEHOLDER },
        certificateRules: renderCertificateRules([
            { name: "apiserver", purpose: "kube-apiserver's serving certificate", notAfter: late.certificatesNotAfter },
        ]),
        outsideTargets: renderOutsideTargets(outside),
        alertmanagerConfig: renderAlertmanagerConfig(
            cfg.observability.alerts,
            Object.fromEntries(Object.entries(cfg.alertSecrets).map(([receiver, values]) => [receiver, hidden(values)])),
        ),
        grafanaAdminPassword: SECRET_PLACEHOLDER,
        ...(cfg.observability.logs.backend === "sls" ? { slsKafkaPassword: SECRET_PLACEHOLDER } : {}),
    });
}

/** The file an object is written to: platform-<component>.yaml, apps-<app>.yaml, apps-namespace.yaml. */
export function manifestFileName(o: KubeObject): string {
    const labels = o.metadata.labels ?? {};
    const group = labels["app.kubernetes.io/part-of"] ?? "other";
    const name = o.kind === "Namespace" && group === "apps" ? "namespace" : (labels["app.kubernetes.io/name"] ?? o.metadata.name);
    return `${group}-${name}.yaml`;
}

/** File name -> multi-document YAML, objects in install order within each file; files sorted by name. */
export function manifestFiles(objects: readonly KubeObject[]): Map<string, string> {
    const byFile = new Map<string, KubeObject[]>();
    for (const o of sortObjects(objects)) {
        const file = manifestFileName(o);
        byFile.set(file, [...(byFile.get(file) ?? []), o]);
    }
    return new Map(
        [...byFile.entries()]
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([file, inFile]) => [
                file,
                inFile.map((o) => YAML.stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n"),
            ]),
    );
}

/** One registered resource, as the mock runtime records it (tools/mockRuntime.ts RecordedResource). */
export interface RecordedObject {
    readonly type: string;
    readonly inputs: Record<string, unknown>;
}

/**
 * The Kubernetes objects among a run's recorded resources, with the values the program really computed (mock
 * addresses included). A secret value becomes SECRET_PLACEHOLDER; a secret map (a Secret's stringData) keeps
 * its keys, so a reviewer still sees which variables an app gets.
 */
export function objectsFromRecords(records: readonly RecordedObject[], isSecret: (value: unknown) => boolean): KubeObject[] {
    const mask = (value: unknown): unknown => {
        if (isSecret(value)) {
            const inner = (value as { value?: unknown }).value;
            return inner && typeof inner === "object" && !Array.isArray(inner)
                ? Object.fromEntries(Object.keys(inner).map((k) => [k, SECRET_PLACEHOLDER]))
                : SECRET_PLACEHOLDER;
        }
        if (Array.isArray(value)) {
            return value.map(mask);
        }
        if (value && typeof value === "object") {
            return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mask(v)]));
        }
        return value;
    };
    return records
        .filter((r) => r.type.startsWith("kubernetes:") && typeof r.inputs.kind === "string" && typeof r.inputs.apiVersion === "string")
        .map((r) => mask(r.inputs) as KubeObject);
}
