/**
 * KubernetesPlatform and Apps under Pulumi's mock runtime, with the real stage files: one typed resource per
 * object, all through the control plane's provider, with stable names, the same objects the pure renderers give,
 * secrets kept secret, and the render of out/<stage>/k8s/*.yaml.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { Apps } from "../../components/apps";
import { KubernetesPlatform } from "../../components/kubernetesPlatform";
import { loadStageConfig } from "../../config/load";
import { planCluster } from "../../config/plan";
import { PROJECT } from "../../config/schema";
import { appsSettings } from "../../k8s/apps";
import { CloudStandIns, cloudStandIns, manifestFiles, objectsFromRecords, renderClusterObjects } from "../../tools/kubernetesObjects";
import { KubeObject, objectKey } from "../../k8s/objects";
import { platformSettings } from "../../k8s/platform";
import { limitStackCapture } from "../../stackCapture";
import { ProgramRun, RecordedResource, isSecretValue, maskSecrets, revealSecrets, runProgram } from "../../tools/mockRuntime";
import { stageConfig, stageValue } from "./helpers";

const key = (name: string) => `${PROJECT}:${name}`;
const CERT = "-----BEGIN CERTIFICATE-----\nMIIBstand-in\n-----END CERTIFICATE-----\n";
/** Secret config as a stage file holds it; the loader substitutes a placeholder and marks it secret. */
const SECRET_OVERRIDES = {
    [key("ingressTlsCertificate")]: CERT,
    [key("ingressTlsKey")]: { secure: "v1:stand-in" },
    [key("appSecrets")]: { orders: { DB_PASSWORD: { secure: "v1:stand-in" } } },
};
/** What the placeholders of those secrets contain (tools/stageFiles.ts secretPlaceholder). */
const SECRET_TEXTS = ["placeholder for a secure value", "placeholder-for-secure"];

interface ProgramOptions {
    readonly late?: CloudStandIns;
    readonly apiServerPort?: number;
    readonly nfsPath?: string;
}

/** The composition as index.ts would do it, with the cloud's values as Outputs (and, like it, stack capture off). */
function program(options: ProgramOptions = {}) {
    return () => {
        limitStackCapture();
        const cfg = loadStageConfig();
        const late = options.late ?? cloudStandIns(cfg);
        const provider = new k8s.Provider("k8s", { kubeconfig: "stand-in" });
        const platform = new KubernetesPlatform("cluster", {
            provider,
            settings: platformSettings(cfg),
            apiServer: { host: planCluster(cfg).apiServerInternalAddress, port: options.apiServerPort ?? 6443 },
            nfs: { server: pulumi.output(late.nfs.server), path: options.nfsPath ?? late.nfs.path },
            // As ClusterPki gives them: the key a secret.
            metricsServerTls: {
                certPem: pulumi.output("<certificate metrics-server>"),
                keyPem: pulumi.secret("metrics-server key stand-in"),
                caCertPem: pulumi.output("<the cluster CA certificate>"),
            },
        });
        const apps = new Apps("apps", { provider, settings: appsSettings(cfg), ingressClassName: platform.ingressClassName });
        return {
            storageClass: platform.storageClassName,
            ingressClass: platform.ingressClassName,
            clusterDns: platform.clusterDnsIp,
            workloads: apps.workloads,
        };
    };
}

function run(stage: string, overrides: Record<string, unknown> = {}, options: ProgramOptions = {}): Promise<ProgramRun> {
    return runProgram(stage, { overrides, preview: false, program: program(options) });
}

const kubernetesResources = (r: ProgramRun) =>
    r.resources.filter((x) => x.type.startsWith("kubernetes:") && !x.type.startsWith("pulumi:providers"));

/** Canonical JSON (sorted keys), so objects compare equal whatever order the engine kept keys in. */
function canonical(value: unknown): string {
    const sort = (v: unknown): unknown =>
        Array.isArray(v)
            ? v.map(sort)
            : v && typeof v === "object"
              ? Object.fromEntries(
                    Object.entries(v)
                        .sort(([a], [b]) => (a < b ? -1 : 1))
                        .map(([k, x]) => [k, sort(x)]),
                )
              : v;
    return JSON.stringify(sort(value));
}
const byObjectKey = (objects: readonly KubeObject[]) => new Map(objects.map((o) => [objectKey(o), canonical(o)]));

describe("KubernetesPlatform and Apps in the program (dev)", () => {
    let dev: ProgramRun;
    beforeAll(async () => {
        dev = await run("dev");
    });

    it("creates one typed resource per rendered object, all through the control plane's provider", () => {
        const resources = kubernetesResources(dev);
        expect(resources).toHaveLength(renderClusterObjects(stageConfig("dev")).length);
        for (const r of resources) {
            expect({ name: r.name, provider: r.provider }).toEqual({ name: r.name, provider: "k8s" });
            expect(["cluster", "apps"]).toContain(r.parent);
        }
        const types = new Set(resources.map((r) => r.type));
        expect(types).toEqual(
            new Set([
                "kubernetes:core/v1:Namespace",
                "kubernetes:core/v1:Secret",
                "kubernetes:core/v1:ServiceAccount",
                "kubernetes:core/v1:ConfigMap",
                "kubernetes:core/v1:Service",
                "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
                "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
                "kubernetes:rbac.authorization.k8s.io/v1:Role",
                "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
                "kubernetes:apps/v1:DaemonSet",
                "kubernetes:apps/v1:Deployment",
                "kubernetes:storage.k8s.io/v1:StorageClass",
                "kubernetes:storage.k8s.io/v1:CSIDriver",
                "kubernetes:networking.k8s.io/v1:IngressClass",
                "kubernetes:networking.k8s.io/v1:NetworkPolicy",
                "kubernetes:networking.k8s.io/v1:Ingress",
                "kubernetes:policy/v1:PodDisruptionBudget",
                "kubernetes:apiregistration.k8s.io/v1:APIService",
            ]),
        );
    });

    it("registers the components with their type tokens", () => {
        const components = dev.resources.filter((r) => r.type.startsWith("platform:index:"));
        expect(components.map((c) => `${c.type} ${c.name}`).sort()).toEqual([
            "platform:index:Apps apps",
            "platform:index:KubernetesPlatform cluster",
        ]);
    });

    it("names each resource after its object, so a preview shows a per-object diff", () => {
        const names = kubernetesResources(dev).map((r) => `${r.type.split(":").pop()} ${r.name}`);
        expect(names).toEqual(
            expect.arrayContaining([
                "Deployment cluster-kube-system/coredns",
                "Service cluster-kube-system/kube-dns",
                "DaemonSet cluster-kube-system/flannel",
                "StorageClass cluster-nfs",
                "Namespace apps-apps",
                "Deployment apps-apps/orders",
                "Ingress apps-apps/web",
            ]),
        );
        expect(new Set(names).size).toBe(names.length);
    });

    it("creates exactly the objects the pure renderer gives for the same values, each applied by the program's one field manager", () => {
        const late = cloudStandIns(stageConfig("dev"));
        const recorded = byObjectKey(objectsFromRecords(kubernetesResources(dev), isSecretValue));
        const withFieldManager = renderClusterObjects(stageConfig("dev"), late).map((o) => ({
            ...o,
            metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, "pulumi.com/patchFieldManager": "coreos-platform" } },
        }));
        const rendered = byObjectKey(withFieldManager);
        expect([...recorded.keys()].sort()).toEqual([...rendered.keys()].sort());
        for (const [k, text] of rendered) {
            expect({ object: k, text: recorded.get(k) }).toEqual({ object: k, text });
        }
    });

    it("makes each workload wait for its namespace and config, and each route for the ingress class", () => {
        const find = (type: string, name: string) => dev.resources.find((r) => r.type === type && r.name === name)!;
        expect(find("kubernetes:apps/v1:Deployment", "apps-apps/orders").dependencies).toEqual(
            expect.arrayContaining(["apps-apps", "apps-apps/orders-config"]),
        );
        expect(find("kubernetes:networking.k8s.io/v1:Ingress", "apps-apps/web").dependencies).toEqual(
            expect.arrayContaining(["cluster-nginx", "apps-apps/web"]),
        );
        expect(find("kubernetes:apps/v1:Deployment", "cluster-nfs-provisioner/nfs-provisioner").dependencies).toContain(
            "cluster-nfs-provisioner",
        );
    });

    it("publishes the storage class, the ingress class and the DNS address", () => {
        expect(dev.outputs).toMatchObject({
            storageClass: "nfs",
            ingressClass: "nginx",
            clusterDns: "10.96.0.10",
            workloads: ["orders", "inventory", "web"],
        });
    });
});

describe("secrets", () => {
    let staging: ProgramRun;
    beforeAll(async () => {
        staging = await run("staging", SECRET_OVERRIDES);
    });

    it("sends app secrets and the TLS key only as Pulumi secrets", () => {
        const secrets = staging.resources.filter((r) => r.type === "kubernetes:core/v1:Secret");
        expect(secrets.map((s) => s.name).sort()).toEqual([
            "apps-apps/orders-env",
            "cluster-ingress-nginx/ingress-default-tls",
            "cluster-kube-system/metrics-server-tls",
        ]);
        for (const s of secrets) {
            expect(isSecretValue(s.inputs.stringData)).toBe(true);
        }
        // The values are there, but only inside secrets.
        const revealed = JSON.stringify(revealSecrets(staging.resources.map((r) => r.inputs)));
        expect(SECRET_TEXTS.some((t) => revealed.includes(t))).toBe(true);
        const masked = JSON.stringify(maskSecrets(staging.resources.map((r) => r.inputs)));
        for (const text of SECRET_TEXTS) {
            expect(masked).not.toContain(text);
        }
        expect(JSON.stringify(maskSecrets(staging.outputs))).not.toMatch(/placeholder/);
    });

    it("keeps the certificate itself readable (it is public)", () => {
        const tls = staging.resources.find((r) => r.name === "cluster-ingress-nginx/ingress-default-tls")!;
        expect((revealSecrets(tls.inputs.stringData) as Record<string, string>)["tls.crt"]).toBe(CERT);
    });

    it("writes out/<stage>/k8s/*.yaml with every object, secrets masked, keys kept", () => {
        const objects = objectsFromRecords(kubernetesResources(staging), isSecretValue);
        const files = manifestFiles(objects);
        expect([...files.keys()]).toEqual([
            "apps-default-deny.yaml",
            "apps-dns-and-outside.yaml",
            "apps-inventory.yaml",
            "apps-namespace.yaml",
            "apps-orders.yaml",
            "apps-web.yaml",
            "platform-coredns.yaml",
            "platform-default-deny.yaml",
            "platform-disk-csi.yaml",
            "platform-flannel.yaml",
            "platform-fleetlock.yaml",
            "platform-ingress-nginx.yaml",
            "platform-kube-network-policies.yaml",
            "platform-kube-proxy.yaml",
            "platform-metrics-server.yaml",
            "platform-nfs-provisioner.yaml",
        ]);
        const parsed = [...files.values()].flatMap((text) => YAML.parseAllDocuments(text).map((d) => d.toJS()));
        expect(parsed).toHaveLength(kubernetesResources(staging).length);
        const all = [...files.values()].join("\n");
        for (const text of SECRET_TEXTS) {
            expect(all).not.toContain(text);
        }
        const appSecret = parsed.find((o) => o.kind === "Secret" && o.metadata.name === "orders-env");
        expect(appSecret.stringData).toEqual({ DB_PASSWORD: "[secret]" });
        // The NAS mount target's address as the program computed it.
        const provisioner = parsed.find((o) => o.kind === "Deployment" && o.metadata.name === "nfs-provisioner");
        expect(provisioner.spec.template.spec.volumes[0].nfs.server).toBe("nas-mount-target.stand-in.nas.aliyuncs.com");
    });
});

describe("stability in the program", () => {
    it("changing one app's image changes only that app's Deployment resource", async () => {
        const before = await run("prod");
        const apps = stageValue("prod", "apps") as any[];
        apps.find((a) => a.name === "orders").image = "registry.cn-hangzhou.aliyuncs.com/example-shop/orders:1.5.1";
        const after = await run("prod", { [key("apps")]: apps });
        const comparable = (r: RecordedResource) => JSON.stringify({ inputs: r.inputs, parent: r.parent, dependencies: r.dependencies });
        const a = new Map(before.resources.map((r) => [`${r.type}::${r.name}`, comparable(r)]));
        const b = new Map(after.resources.map((r) => [`${r.type}::${r.name}`, comparable(r)]));
        expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
        expect([...b.keys()].filter((k) => a.get(k) !== b.get(k))).toEqual(["kubernetes:apps/v1:Deployment::apps-apps/orders"]);
    });
});

describe("bad arguments", () => {
    it("fail at start-up naming the property and the rule", async () => {
        await expect(run("dev", {}, { apiServerPort: 0, nfsPath: "srv/nfs" })).rejects.toThrow(
            /KubernetesPlatform cluster: apiServer\.port = 0: must be a port number.*; nfs\.path = "srv\/nfs": must be an absolute path/,
        );
    });

    it("fail at start-up for an app that sets a platform variable", async () => {
        const apps = stageValue("dev", "apps") as any[];
        apps[1].env = { SERVER_PORT: "9999" };
        await expect(run("dev", { [key("apps")]: apps })).rejects.toThrow(/Apps apps: apps\[1\]\.env\.SERVER_PORT = "9999": app inventory/);
    });
});
