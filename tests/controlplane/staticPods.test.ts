/**
 * The static pods and the files a controller receives, from the real stage configs: the flags the issue asks for,
 * schema validity (kubernetes-models), every file a flag names is delivered and mounted, and the review render
 * holds no secret.
 */
import { Pod } from "kubernetes-models/v1/Pod";
import { parse, parseAllDocuments } from "yaml";
import { planCluster } from "../../config";
import { stageConfigFromFiles } from "../../tools/stageFiles";
import {
    PKI_REVISION_ANNOTATION,
    STATIC_POD_FILES,
    controlPlaneSettings,
    controllerFiles,
    renderBootstrapManifests,
    renderStaticPods,
} from "../../controlplane";
import { placeholderMaterial, renderControlPlaneArtifacts, stageCertificateSpecs } from "../../tools/controlPlaneFiles";
import { nodePaths } from "../../layout/node";
import { PkiMaterial } from "../../pki";
import { versions } from "../../versions";

const cfg = stageConfigFromFiles("prod");
const plan = planCluster(cfg);
const settings = controlPlaneSettings(cfg, plan);
const specs = stageCertificateSpecs(cfg, "203.0.113.50");
const material: PkiMaterial = placeholderMaterial(specs);

type PodDoc = {
    metadata: { annotations: Record<string, string> };
    spec: {
        containers: { image: string; command: string[]; volumeMounts: { mountPath: string; readOnly?: boolean }[] }[];
        volumes: { hostPath: { path: string } }[];
    };
};
const pods = (i: number) =>
    Object.fromEntries(Object.entries(renderStaticPods(settings, i, "rev")).map(([f, y]) => [f, parse(y) as PodDoc]));
const flagsOf = (pod: PodDoc) =>
    Object.fromEntries(pod.spec.containers[0].command.slice(1).map((a) => a.slice(2).split(/=(.*)/s).slice(0, 2) as [string, string]));

describe("kube-apiserver", () => {
    const flags = flagsOf(pods(1)[STATIC_POD_FILES.apiserver]);

    test("authorizes with Node and RBAC, admits with NodeRestriction and DenyServiceExternalIPs, refuses anonymous users and bootstrap tokens", () => {
        expect(flags).toMatchObject({
            "authorization-mode": "Node,RBAC",
            "enable-admission-plugins": "NodeRestriction,DenyServiceExternalIPs",
            "anonymous-auth": "false",
            "admission-control-config-file": "/etc/kubernetes/apiserver/admission.yaml",
        });
        expect(flags["enable-bootstrap-token-auth"]).toBeUndefined();
    });

    test("verifies kubelets' serving certificates, encrypts Secrets (reloading new keys) and writes a rotated audit log", () => {
        expect(flags).toMatchObject({
            "kubelet-certificate-authority": "/etc/kubernetes/pki/ca.crt",
            "encryption-provider-config": "/etc/kubernetes/apiserver/encryption-config.yaml",
            "encryption-provider-config-automatic-reload": "true",
            "audit-policy-file": "/etc/kubernetes/apiserver/audit-policy.yaml",
            "audit-log-path": "/var/log/kube-apiserver/audit.log",
            "audit-log-maxage": "30",
            "audit-log-maxbackup": "10",
            "audit-log-maxsize": "100",
        });
        const pod = pods(1)[STATIC_POD_FILES.apiserver];
        // Only the audit log is writable.
        expect(pod.spec.containers[0].volumeMounts.filter((m) => !m.readOnly).map((m) => m.mountPath)).toEqual(["/var/log/kube-apiserver"]);
    });

    test("talks to every etcd member over TLS and advertises its own controller's address", () => {
        expect(flags["etcd-servers"]).toBe("https://10.30.31.250:2379,https://10.30.47.250:2379,https://10.30.63.250:2379");
        expect(flags["etcd-cafile"]).toBe("/etc/kubernetes/pki/etcd-ca.crt");
        expect(flags["advertise-address"]).toBe("10.30.47.250");
    });

    test("issues service-account tokens for the in-cluster issuer and serves the stage's service CIDR", () => {
        expect(flags["service-account-issuer"]).toBe("https://kubernetes.default.svc.cluster.local");
        expect(flags["service-cluster-ip-range"]).toBe("10.98.0.0/16");
        expect(flags["service-account-signing-key-file"]).toBe("/etc/kubernetes/pki/service-account.key");
    });
});

describe("kube-controller-manager and kube-scheduler", () => {
    test("the controller manager signs only kubelet client CSRs with the cluster CA and gives each node a /24 of the pod CIDR", () => {
        const flags = flagsOf(pods(0)[STATIC_POD_FILES.controllerManager]);
        expect(Object.keys(flags).filter((f) => f.startsWith("cluster-signing"))).toEqual([
            "cluster-signing-kubelet-client-cert-file",
            "cluster-signing-kubelet-client-key-file",
        ]);
        expect(flags).toMatchObject({
            "cluster-signing-kubelet-client-cert-file": "/etc/kubernetes/pki/ca.crt",
            "cluster-signing-kubelet-client-key-file": "/etc/kubernetes/pki/ca.key",
            "allocate-node-cidrs": "true",
            "cluster-cidr": "10.246.0.0/16",
            "node-cidr-mask-size": "24",
            "use-service-account-credentials": "true",
            kubeconfig: "/etc/kubernetes/controller-manager.conf",
        });
    });

    test("images come from versions.ts", () => {
        const p = pods(0);
        expect(p[STATIC_POD_FILES.apiserver].spec.containers[0].image).toBe(versions.images.kubeApiserver);
        expect(p[STATIC_POD_FILES.controllerManager].spec.containers[0].image).toBe(versions.images.kubeControllerManager);
        expect(p[STATIC_POD_FILES.scheduler].spec.containers[0].image).toBe(versions.images.kubeScheduler);
    });
});

describe("the static pods as Kubernetes objects", () => {
    test("are plain YAML without anchors or aliases (every value written out where the kubelet reads it)", () => {
        for (const [file, yaml] of Object.entries(renderStaticPods(settings, 0, "rev"))) {
            expect({ file, anchors: yaml.match(/[&*][A-Za-z]\w*$/gm) ?? [] }).toEqual({ file, anchors: [] });
        }
    });

    test("validate against the Pod schema", () => {
        for (const [file, pod] of Object.entries(pods(0))) {
            expect({
                file,
                errors: (() => {
                    try {
                        new Pod(pod as any).validate();
                        return [];
                    } catch (e) {
                        return [String(e)];
                    }
                })(),
            }).toEqual({ file, errors: [] });
        }
    });

    test("every file a flag names is delivered to the controller (or written into a directory made for it) and mounted into the pod", () => {
        const { files, directories } = controllerFiles(material, settings, 0);
        const delivered = new Set(files.map((f) => f.path));
        const written = (value: string) => directories.some((d) => d.containerWritable && value.startsWith(`${d.path}/`));
        for (const [file, pod] of Object.entries(pods(0))) {
            const mounts = pod.spec.containers[0].volumeMounts.map((m) => m.mountPath);
            const hostPaths = pod.spec.volumes.map((v) => v.hostPath.path);
            for (const [flag, value] of Object.entries(flagsOf(pod))) {
                if (!value.startsWith("/")) {
                    continue;
                }
                const mounted =
                    mounts.some((m) => value === m || value.startsWith(`${m}/`)) &&
                    hostPaths.some((h) => value === h || value.startsWith(`${h}/`));
                expect({ file, flag, value, delivered: delivered.has(value) || written(value), mounted }).toEqual({
                    file,
                    flag,
                    value,
                    delivered: true,
                    mounted: true,
                });
            }
        }
    });

    test("new certificates give new pods (the kubelet restarts a static pod whose manifest changed)", () => {
        const pod = (m: PkiMaterial) =>
            controllerFiles(m, settings, 0).files.find((f) => f.path.endsWith(STATIC_POD_FILES.scheduler))!.content;
        const renewed = { ...material, certs: { ...material.certs, scheduler: "<renewed certificate>" } };
        const revision = (text: string) => (parse(text) as PodDoc).metadata.annotations[PKI_REVISION_ANNOTATION];
        expect(revision(pod(renewed))).not.toBe(revision(pod(material)));
        // A new encryption key is not a reason to restart the control plane: kube-apiserver reloads the keys itself.
        const newKey = { ...material, encryptionKeys: [{ name: "key-2", secret: "x" }, ...material.encryptionKeys] };
        expect(revision(pod(newKey))).toBe(revision(pod(material)));
    });
});

describe("the files of a controller", () => {
    const { files, directories } = controllerFiles(material, settings, 2);
    const index = (path: string) => files.findIndex((f) => f.path === path);

    test("keys and credential-bearing kubeconfigs are 0600; nothing secret is world-readable", () => {
        for (const f of files) {
            // The placeholder material marks every secret "<secret: ...>"; kubeconfigs carry keys or a token.
            const secret = f.content.includes("<secret:") || /client-key-data:|^\s*token: /m.test(f.content);
            if (secret) {
                expect({ path: f.path, mode: f.mode }).toEqual({ path: f.path, mode: "0600" });
            }
        }
        expect(files.find((f) => f.path === "/etc/kubernetes/pki/ca.key")!.mode).toBe("0600");
        expect(files.find((f) => f.path === "/etc/kubernetes/apiserver/encryption-config.yaml")!.mode).toBe("0600");
        // The audit log's directory is root's alone, and labelled for the container that writes it.
        expect(directories).toEqual([{ path: "/var/log/kube-apiserver", mode: "0700", owner: "root:root", containerWritable: true }]);
    });

    test("no admin credential rests on a controller; its kubelet joins as exactly its own node", () => {
        expect(files.filter((f) => /O=|system:masters|cluster-admins/.test(f.content))).toEqual([]);
        expect(files.map((f) => f.path)).not.toContain("/etc/kubernetes/admin.conf");
        const join = parse(files.find((f) => f.path === nodePaths.bootstrapKubeconfig)!.content);
        expect(join.users[0].name).toBe(`system:node:${settings.controllers[2].hostname}`);
        expect(files.find((f) => f.path === nodePaths.kubeletServingCert)!.content).toBe("<certificate kubelet-serving-2>");
    });

    test("etcd's serving certificate comes after its key and CA; the bootstrap kubeconfig comes last of all", () => {
        expect(index(`${nodePaths.etcdPkiDir}/server.crt`)).toBeGreaterThan(index(`${nodePaths.etcdPkiDir}/server.key`));
        expect(index(`${nodePaths.etcdPkiDir}/server.crt`)).toBeGreaterThan(index(`${nodePaths.etcdPkiDir}/ca.crt`));
        expect(index(nodePaths.bootstrapKubeconfig)).toBe(files.length - 1);
        expect(index(nodePaths.clusterCaCert)).toBeLessThan(index(nodePaths.bootstrapKubeconfig));
        expect(index(`${nodePaths.staticPodDir}/${STATIC_POD_FILES.apiserver}`)).toBeLessThan(index(nodePaths.bootstrapKubeconfig));
    });

    test("controller 2 gets its own etcd pair and the components reach the local apiserver", () => {
        expect(files.find((f) => f.path === `${nodePaths.etcdPkiDir}/peer.key`)!.content).toBe("<secret: private key of etcd-peer-2>");
        for (const path of [nodePaths.controllerManagerKubeconfig, nodePaths.schedulerKubeconfig, nodePaths.bootstrapKubeconfig]) {
            expect(parse(files.find((f) => f.path === path)!.content).clusters[0].cluster.server).toBe("https://127.0.0.1:6443");
        }
    });
});

describe("bootstrap objects", () => {
    test("no token: kubelets renew only their own names, the apiserver reaches kubelets, the admin group is cluster-admin", () => {
        const docs = parseAllDocuments(renderBootstrapManifests()).map((d) => d.toJS());
        expect(docs.filter((d) => d.kind !== "ClusterRoleBinding")).toEqual([]);
        const bindings = docs.map((d) => `${d.subjects[0].kind}:${d.subjects[0].name} -> ${d.roleRef.name}`);
        expect(bindings.sort()).toEqual(
            [
                "Group:system:nodes -> system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
                "User:kube-apiserver-kubelet-client -> system:kubelet-api-admin",
                "Group:platform:cluster-admins -> cluster-admin",
            ].sort(),
        );
    });
});

describe("the review render (out/<stage>/controlplane/)", () => {
    const out = renderControlPlaneArtifacts(stageConfigFromFiles("dev"));

    test("lays out every controller file at its node path, with the static pods and kubeconfig templates", () => {
        const prefix = "controllers/coreos-platform-dev-controller-0";
        expect(Object.keys(out)).toEqual(
            expect.arrayContaining([
                "certificates.yaml",
                "bootstrap-rbac.yaml",
                "etcd-tls.env",
                "kubeconfig/admin.conf",
                `${prefix}/files.txt`,
                `${prefix}/etc/kubernetes/manifests/kube-apiserver.yaml`,
                `${prefix}/etc/kubernetes/controller-manager.conf`,
                `${prefix}${nodePaths.bootstrapKubeconfig}`,
            ]),
        );
        expect(out[`${prefix}/files.txt`]).toContain("0600 /etc/kubernetes/pki/ca.key (secret)");
        expect(parse(out["kubeconfig/admin.conf"]).clusters[0].cluster.server).toBe("https://<apiserver-EIP>:6443");
    });

    test("contains no key material, no token and no base64 credential", () => {
        const all = Object.values(out).join("\n");
        expect(all).not.toMatch(/BEGIN [A-Z ]*PRIVATE KEY/);
        expect(all).not.toContain("0123456789abcdef");
        for (const [file, text] of Object.entries(out).filter(
            ([f]) => (f.endsWith(".conf") && !f.includes("registries.conf.d")) || f.endsWith("kubeconfig"),
        )) {
            const doc = parse(text);
            const user = doc.users[0].user;
            for (const value of Object.values(user) as string[]) {
                expect({ file, value }).toEqual({ file, value: expect.stringMatching(/^<.*>$/) });
            }
        }
    });
});
