/**
 * Real certificates from the cluster's specs (the same data the @pulumi/tls resources are made from), issued and
 * checked with openssl: chains, SANs, key usages, subjects, and that each CA trusts only its own leaves.
 */
import * as path from "path";
import { CertificateSpec } from "../../pki";
import { stageCertificateSpecs } from "../../tools/controlPlaneFiles";
import { stageConfigFromFiles } from "../../tools/stageFiles";
import { IssuedFiles, issueWithOpenssl } from "./helpers/openssl";
import { attempt, requireTools, run, removeScratchDirs, scratchDir } from "./helpers/tools";

const EIP = "203.0.113.50";
let specs: CertificateSpec<string>[];
let issued: Map<string, IssuedFiles>;

beforeAll(() => {
    requireTools("openssl");
    const cfg = stageConfigFromFiles("prod");
    specs = stageCertificateSpecs(cfg, EIP);
    issued = issueWithOpenssl(specs, cfg.pki, scratchDir("pki-openssl"));
});

const file = (name: string) => {
    const f = issued.get(name);
    if (!f) {
        throw new Error(`no certificate ${name}`);
    }
    return f;
};
const verify = (ca: string, leaf: string, purpose?: string) =>
    attempt("openssl", ["verify", "-CAfile", file(ca).cert, ...(purpose ? ["-purpose", purpose] : []), file(leaf).cert]);
const x509 = (name: string, ...args: string[]) => run("openssl", ["x509", "-in", file(name).cert, "-noout", ...args]);

/** The SANs as openssl prints them, as a sorted list ("DNS:kubernetes", "IP Address:10.98.0.1"). */
function sans(name: string): string[] {
    const text = attempt("openssl", ["x509", "-in", file(name).cert, "-noout", "-ext", "subjectAltName"]).stdout;
    const line = text.split("\n").slice(1).join(",").trim();
    return line === ""
        ? []
        : line
              .split(/,\s*/)
              .map((s) => s.trim())
              .filter(Boolean)
              .sort();
}

describe("certificates issued by openssl from the specs (prod: three controllers)", () => {
    test("every leaf chains to its own CA and to no other", () => {
        const signers: Record<string, string> = {
            apiserver: "ca",
            "apiserver-kubelet-client": "ca",
            "controller-manager": "ca",
            scheduler: "ca",
            admin: "ca",
            healthcheck: "ca",
            "front-proxy-client": "front-proxy-ca",
            "etcd-client": "etcd-ca",
            "etcd-server-0": "etcd-ca",
            "etcd-server-2": "etcd-ca",
            "etcd-peer-1": "etcd-ca",
        };
        for (const [leaf, ca] of Object.entries(signers)) {
            expect({ leaf, out: verify(ca, leaf).stdout.trim() }).toEqual({ leaf, out: `${file(leaf).cert}: OK` });
            for (const other of ["ca", "front-proxy-ca", "etcd-ca"].filter((c) => c !== ca)) {
                expect({ leaf, other, status: verify(other, leaf).status }).toEqual({ leaf, other, status: 2 });
            }
        }
    });

    test("the apiserver certificate names the public EIP, the internal load balancer, the Service and its DNS names", () => {
        expect(sans("apiserver")).toEqual(
            [
                "DNS:kubernetes",
                "DNS:kubernetes.default",
                "DNS:kubernetes.default.svc",
                "DNS:kubernetes.default.svc.cluster.local",
                "DNS:localhost",
                `IP Address:${EIP}`,
                "IP Address:10.30.31.251",
                "IP Address:10.98.0.1",
                "IP Address:127.0.0.1",
                "IP Address:10.30.31.250",
                "IP Address:10.30.47.250",
                "IP Address:10.30.63.250",
            ].sort(),
        );
        expect(x509("apiserver", "-checkhost", "kubernetes.default.svc.cluster.local")).toContain("does match");
        expect(x509("apiserver", "-checkip", EIP)).toContain("does match");
        expect(x509("apiserver", "-checkhost", "kubernetes.default.svc.cluster.example")).toContain("does NOT match");
    });

    test("etcd's server and peer certificates name their own controller only", () => {
        expect(sans("etcd-server-1")).toEqual(
            ["DNS:coreos-platform-prod-controller-1", "DNS:localhost", "IP Address:10.30.47.250", "IP Address:127.0.0.1"].sort(),
        );
        expect(sans("etcd-peer-2")).toEqual(["DNS:coreos-platform-prod-controller-2", "IP Address:10.30.63.250"].sort());
        expect(x509("etcd-peer-2", "-checkip", "10.30.31.250")).toContain("does NOT match");
    });

    test("servers verify as TLS servers, clients as TLS clients, and not the other way round", () => {
        const serverOnly = ["apiserver"];
        const clientOnly = [
            "apiserver-kubelet-client",
            "controller-manager",
            "scheduler",
            "admin",
            "healthcheck",
            "front-proxy-client",
            "etcd-client",
        ];
        const both = ["etcd-server-0", "etcd-peer-0"];
        const signerOf = (name: string) => specs.find((s) => s.name === name)!.signer;
        for (const name of [...serverOnly, ...both]) {
            expect({ name, status: verify(signerOf(name), name, "sslserver").status }).toEqual({ name, status: 0 });
        }
        for (const name of [...clientOnly, ...both]) {
            expect({ name, status: verify(signerOf(name), name, "sslclient").status }).toEqual({ name, status: 0 });
        }
        for (const name of clientOnly) {
            expect({ name, status: verify(signerOf(name), name, "sslserver").status }).toEqual({ name, status: 2 });
        }
        expect(verify("ca", "apiserver", "sslclient").status).toBe(2);
    });

    test("CAs may sign and nothing else may", () => {
        for (const ca of ["ca", "front-proxy-ca", "etcd-ca"]) {
            const text = x509(ca, "-ext", "basicConstraints,keyUsage");
            expect(text).toMatch(/CA:TRUE/);
            expect(text).toMatch(/Certificate Sign, CRL Sign/);
        }
        for (const leaf of ["apiserver", "admin", "etcd-peer-0"]) {
            const text = x509(leaf, "-ext", "basicConstraints,keyUsage");
            expect(text).toMatch(/CA:FALSE/);
            expect(text).not.toMatch(/Certificate Sign/);
            // ECDSA keys never encipher (RFC 5480): digital signature only.
            expect(text).not.toMatch(/Key Encipherment/);
        }
    });

    test("subjects carry the identities Kubernetes authorizes", () => {
        const subjectOf = (name: string) => x509(name, "-subject", "-nameopt", "RFC2253").trim();
        // The team's admin group is bound to cluster-admin by RBAC (revocable); only break-glass is system:masters.
        expect(subjectOf("admin")).toBe("subject=O=platform:cluster-admins,CN=admin");
        expect(subjectOf("break-glass")).toBe("subject=O=system:masters,CN=break-glass");
        expect(subjectOf("kubelet-serving-1")).toBe("subject=O=system:nodes,CN=system:node:coreos-platform-prod-controller-1");
        expect(subjectOf("controller-manager")).toBe("subject=CN=system:kube-controller-manager");
        expect(subjectOf("scheduler")).toBe("subject=CN=system:kube-scheduler");
        expect(subjectOf("front-proxy-client")).toBe("subject=CN=front-proxy-client");
        expect(subjectOf("ca")).toBe("subject=CN=coreos-platform-prod-kubernetes-ca");
        // The readiness check's identity belongs to no group: it can read /healthz and nothing else.
        expect(subjectOf("healthcheck")).toBe("subject=CN=platform-healthcheck");
    });

    test("lifetimes follow the stage's validity: 10 years for CAs, 1 year for leaves", () => {
        const days = (name: string) => {
            const [start, end] = x509(name, "-startdate", "-enddate")
                .trim()
                .split("\n")
                .map((l) => Date.parse(l.split("=")[1]));
            return Math.round((end - start) / 86400000);
        };
        expect(days("ca")).toBe(3650);
        expect(days("etcd-ca")).toBe(3650);
        expect(days("apiserver")).toBe(365);
        expect(days("etcd-peer-1")).toBe(365);
    });

    test("each leaf's key matches its certificate", () => {
        for (const name of ["apiserver", "etcd-client", "etcd-server-0"]) {
            const fromCert = run("openssl", ["x509", "-in", file(name).cert, "-noout", "-pubkey"]);
            const fromKey = run("openssl", ["pkey", "-in", file(name).key, "-pubout"]);
            expect({ name, same: fromCert === fromKey }).toEqual({ name, same: true });
        }
        expect(path.basename(file("ca").key)).toBe("ca.key");
    });
});

afterAll(removeScratchDirs);
