/**
 * ClusterPki under the mock runtime with the real stage files: the @pulumi/tls resources it creates carry the
 * subjects, SANs, usages, signers and lifetimes the cluster needs; the token has Kubernetes' shape; adding a
 * controller adds only that controller's etcd certificates.
 */
import { fakePublicIp } from "../../tools/mocks";
import { ProgramRun, RecordedResource } from "../../tools/mockRuntime";
import { input, isSecretValue, named, ofType, revealSecrets, runControlPlane } from "../controlplane/helpers/program";

let dev: ProgramRun;
beforeAll(async () => {
    dev = await runControlPlane("dev");
});

const csr = (run: ProgramRun, spec: string) => named(run, `pki-${spec}-csr`);
const signed = (run: ProgramRun, spec: string) => named(run, `pki-${spec}`);

describe("certificates as @pulumi/tls resources (dev)", () => {
    test("the apiserver certificate names the EIP, the internal load balancer, the Service address and names", () => {
        const apiserver = csr(dev, "apiserver");
        expect(input(apiserver, "subject")).toEqual({ commonName: "kube-apiserver" });
        expect([...input(apiserver, "dnsNames")].sort()).toEqual(
            ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"].sort(),
        );
        expect([...input(apiserver, "ipAddresses")].sort()).toEqual(
            [fakePublicIp("eips-apiserver"), "10.10.31.251", "10.96.0.1", "127.0.0.1", "10.10.31.250"].sort(),
        );
        expect(input(signed(dev, "apiserver"), "allowedUses")).toEqual(["digital_signature", "server_auth"]);
    });

    test("client certificates carry the identities Kubernetes authorizes, and only client use", () => {
        const expected: Record<string, { commonName: string; organization?: string }> = {
            admin: { commonName: "admin", organization: "platform:cluster-admins" },
            "break-glass": { commonName: "break-glass", organization: "system:masters" },
            "kubelet-client-0": { commonName: "system:node:coreos-platform-dev-controller-0", organization: "system:nodes" },
            "controller-manager": { commonName: "system:kube-controller-manager" },
            scheduler: { commonName: "system:kube-scheduler" },
            "apiserver-kubelet-client": { commonName: "kube-apiserver-kubelet-client" },
            "front-proxy-client": { commonName: "front-proxy-client" },
            "etcd-client": { commonName: "kube-apiserver-etcd-client" },
            healthcheck: { commonName: "platform-healthcheck" },
        };
        for (const [spec, subject] of Object.entries(expected)) {
            expect({ spec, subject: input(csr(dev, spec), "subject") }).toEqual({ spec, subject });
            expect({ spec, uses: input(signed(dev, spec), "allowedUses") }).toEqual({ spec, uses: ["digital_signature", "client_auth"] });
            expect({ spec, sans: [...input(csr(dev, spec), "dnsNames"), ...input(csr(dev, spec), "ipAddresses")] }).toEqual({
                spec,
                sans: [],
            });
        }
    });

    test("etcd's server and peer certificates name the controller and serve both roles", () => {
        for (const kind of ["server", "peer"]) {
            const r = csr(dev, `etcd-${kind}-0`);
            expect(input(r, "dnsNames")).toContain("coreos-platform-dev-controller-0");
            expect(input(r, "ipAddresses")).toContain("10.10.31.250");
            expect(input(signed(dev, `etcd-${kind}-0`), "allowedUses")).toEqual(["digital_signature", "server_auth", "client_auth"]);
        }
    });

    test("each leaf is signed by its own CA: etcd's by the etcd CA, the front proxy's by the front-proxy CA", () => {
        const signerOf = (spec: string) => input(signed(dev, spec), "caCertPem");
        expect(signerOf("apiserver")).toBe("mock certificate of pki-ca");
        expect(signerOf("etcd-peer-0")).toBe("mock certificate of pki-etcd-ca");
        expect(signerOf("etcd-client")).toBe("mock certificate of pki-etcd-ca");
        expect(signerOf("front-proxy-client")).toBe("mock certificate of pki-front-proxy-ca");
        const caKey = signed(dev, "etcd-client").inputs.caPrivateKeyPem;
        expect(isSecretValue(caKey)).toBe(true);
        expect(revealSecrets(caKey)).toBe("mock private key of pki-etcd-ca-key");
    });

    test("CAs are self-signed CA certificates that may sign; no leaf may", () => {
        for (const ca of ["ca", "front-proxy-ca", "etcd-ca"]) {
            const r = named(dev, `pki-${ca}`);
            expect(r.type).toBe("tls:index/selfSignedCert:SelfSignedCert");
            expect(r.inputs).toMatchObject({ isCaCertificate: true, allowedUses: ["cert_signing", "crl_signing", "digital_signature"] });
        }
        for (const leaf of ofType(dev, "tls:index/locallySignedCert:LocallySignedCert")) {
            expect({
                leaf: leaf.name,
                isCa: leaf.inputs.isCaCertificate,
                signs: (leaf.inputs.allowedUses as string[]).includes("cert_signing"),
            }).toEqual({ leaf: leaf.name, isCa: false, signs: false });
        }
        // 10 cluster-wide leaves, plus etcd server and peer and kubelet client and serving of the one controller. (Workers'
        // and edge nodes' kubelet certificates are signed from their own requests, children of their pools.)
        expect(ofType(dev, "tls:index/locallySignedCert:LocallySignedCert").filter((r) => r.parent === "pki").length).toBe(14);
    });

    test("lifetimes: CAs 3650 days and never renewed silently; leaves 365 days, renewed in their last 30", () => {
        for (const ca of ["ca", "front-proxy-ca", "etcd-ca"]) {
            expect(named(dev, `pki-${ca}`).inputs).toMatchObject({ validityPeriodHours: 3650 * 24, earlyRenewalHours: 0 });
        }
        for (const leaf of ofType(dev, "tls:index/locallySignedCert:LocallySignedCert")) {
            expect({ leaf: leaf.name, v: leaf.inputs.validityPeriodHours, early: leaf.inputs.earlyRenewalHours }).toEqual({
                leaf: leaf.name,
                v: 365 * 24,
                early: 30 * 24,
            });
        }
    });

    test("keys: ECDSA P-256 for certificates, RSA 2048 for the service-account signer", () => {
        const keys = ofType(dev, "tls:index/privateKey:PrivateKey").filter((k) => k.parent === "pki");
        expect(keys).toHaveLength(18);
        for (const key of keys.filter((k) => k.name !== "pki-service-account-key")) {
            expect({ key: key.name, ...key.inputs }).toEqual({ key: key.name, algorithm: "ECDSA", ecdsaCurve: "P256" });
        }
        expect(named(dev, "pki-service-account-key").inputs).toEqual({ algorithm: "RSA", rsaBits: 2048 });
    });

    test("Secrets are encrypted with 32 random bytes per configured key name; there is no bootstrap token", () => {
        expect(ofType(dev, "random:index/randomBytes:RandomBytes").map((r) => [r.name, r.inputs])).toEqual([
            ["pki-secrets-encryption-key-1", { length: 32 }],
        ]);
        expect(dev.resources.filter((r) => r.name.includes("bootstrap-token"))).toEqual([]);
        expect(dev.outputs.caCertPem).toBe("mock certificate of pki-ca");
    });
});

describe("stage settings", () => {
    test("the stage's pki lifetimes reach every certificate", async () => {
        const run = await runControlPlane("dev", { pki: { caValidityDays: 1825, certValidityDays: 90, renewBeforeDays: 14 } });
        expect(named(run, "pki-etcd-ca").inputs).toMatchObject({ validityPeriodHours: 1825 * 24, earlyRenewalHours: 0 });
        expect(named(run, "pki-admin").inputs).toMatchObject({ validityPeriodHours: 90 * 24, earlyRenewalHours: 14 * 24 });
    });

    test("going from one controller to three adds their etcd certificates and re-issues only the apiserver's", async () => {
        const three = await runControlPlane("dev", { controllers: { count: 3 } });
        const pki = (run: ProgramRun) =>
            new Map(run.resources.filter((r) => r.parent === "pki").map((r) => [r.name, JSON.stringify(revealSecrets(r.inputs))]));
        const before = pki(dev);
        const after = pki(three);
        const added = [...after.keys()].filter((k) => !before.has(k)).sort();
        expect(added).toEqual(
            ["1", "2"]
                .flatMap((i) => [`kubelet-client-${i}`, `kubelet-serving-${i}`, `etcd-server-${i}`, `etcd-peer-${i}`])
                .flatMap((s) => [`pki-${s}`, `pki-${s}-csr`, `pki-${s}-key`])
                .sort(),
        );
        const changed = [...before.keys()].filter((k) => after.get(k) !== before.get(k));
        // The apiserver certificate lists every controller's address (controllers reach it directly).
        expect(changed).toEqual(["pki-apiserver-csr"]);
    });
});

test("every PKI resource is a child of the component", () => {
    const children = dev.resources.filter((r: RecordedResource) => r.type.startsWith("tls:") || r.type.startsWith("random:"));
    expect(children.filter((r) => !["bastion-deploy-key", "bastion-host-key"].includes(r.name)).every((r) => r.parent === "pki")).toBe(
        true,
    );
    expect(named(dev, "pki").type).toBe("platform:index:ClusterPki");
});
