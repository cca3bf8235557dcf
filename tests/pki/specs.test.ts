/** The pure PKI data: input checks, validity arithmetic, kubeconfig rendering (checked with kubectl itself). */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import {
    bootstrapTokenString,
    clusterCertificateSpecs,
    etcdTlsEnvironment,
    pkiInputProblems,
    renderBootstrapKubeconfig,
    renderKubeconfig,
    validityOf,
} from "../../pki";
import { attempt, requireTools, removeScratchDirs, scratchDir } from "./helpers/tools";

const input = {
    clusterName: "coreos-platform-dev",
    apiServiceIp: "10.96.0.1",
    apiServerInternalAddress: "10.10.31.251",
    controllers: [{ hostname: "coreos-platform-dev-controller-0", ip: "10.10.31.250" }],
};
const validity = { caValidityDays: 3650, certValidityDays: 365, renewBeforeDays: 30 };

describe("input checks", () => {
    test("a valid input has no problems", () => {
        expect(pkiInputProblems(input, validity)).toEqual([]);
    });

    test("each problem names the property and the rule", () => {
        const problems = pkiInputProblems(
            {
                ...input,
                apiServiceIp: "10.96.0.0/16",
                controllers: [
                    { hostname: "c-0", ip: "10.0.0.5" },
                    { hostname: "c-0", ip: "10.0.0.5" },
                    { hostname: "C 2", ip: "10.0.0.256" },
                ],
            },
            { caValidityDays: 365, certValidityDays: 365, renewBeforeDays: 400 },
        );
        expect(problems).toEqual([
            'apiServiceIp "10.96.0.0/16" must be an IPv4 address',
            'controllers[1].hostname "c-0" is used twice',
            'controllers[1].ip "10.0.0.5" is used twice',
            'controllers[2].hostname "C 2" must be a lower-case DNS label (it is the etcd member and node name)',
            'controllers[2].ip "10.0.0.256" must be an IPv4 address (controllers have fixed private addresses)',
            "validity.certValidityDays (365) must be shorter than validity.caValidityDays (365): no certificate may outlive its CA",
            "validity.renewBeforeDays (400) must be shorter than validity.certValidityDays (365)",
        ]);
        expect(pkiInputProblems({ ...input, controllers: [] }, validity)).toEqual([
            "controllers must list at least one controller (etcd needs a member)",
        ]);
    });
});

describe("specs", () => {
    test("signers come before what they sign, and names are unique", () => {
        const specs = clusterCertificateSpecs({ ...input, apiServerPublicAddress: "203.0.113.50" });
        const seen = new Set<string>();
        for (const spec of specs) {
            expect({ spec: spec.name, signerSeen: spec.signer === "self" || seen.has(spec.signer) }).toEqual({
                spec: spec.name,
                signerSeen: true,
            });
            expect(seen.has(spec.name)).toBe(false);
            seen.add(spec.name);
        }
    });

    test("validity in hours: CAs are never renewed early, leaves in their last renewBeforeDays", () => {
        expect(validityOf({ lifetime: "ca" }, validity)).toEqual({ validityPeriodHours: 87600, earlyRenewalHours: 0 });
        expect(validityOf({ lifetime: "leaf" }, { caValidityDays: 1000, certValidityDays: 100, renewBeforeDays: 10 })).toEqual({
            validityPeriodHours: 2400,
            earlyRenewalHours: 240,
        });
    });

    test("etcd reads its TLS files from the etcd PKI directory, and demands client certificates on both ports", () => {
        expect(etcdTlsEnvironment()).toEqual({
            ETCD_TRUSTED_CA_FILE: "/etc/ssl/etcd/ca.crt",
            ETCD_CERT_FILE: "/etc/ssl/etcd/server.crt",
            ETCD_KEY_FILE: "/etc/ssl/etcd/server.key",
            ETCD_CLIENT_CERT_AUTH: "true",
            ETCD_PEER_TRUSTED_CA_FILE: "/etc/ssl/etcd/ca.crt",
            ETCD_PEER_CERT_FILE: "/etc/ssl/etcd/peer.crt",
            ETCD_PEER_KEY_FILE: "/etc/ssl/etcd/peer.key",
            ETCD_PEER_CLIENT_CERT_AUTH: "true",
        });
    });
});

describe("kubeconfigs", () => {
    const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    test("the bootstrap kubeconfig carries the token and the CA, and kubectl reads it as such", () => {
        requireTools("kubectl");
        const text = renderBootstrapKubeconfig({
            server: "https://10.10.31.251:6443",
            caCertPem: ca,
            tokenId: "k3x9qa",
            tokenSecret: "0f1e2d3c4b5a6978",
        });
        const file = path.join(scratchDir("kubeconfig"), "bootstrap.conf");
        fs.writeFileSync(file, text);
        const view = attempt("kubectl", [
            "config",
            "view",
            "--raw",
            "--kubeconfig",
            file,
            "-o",
            "jsonpath={.users[0].user.token} {.clusters[0].cluster.server} {.current-context}",
        ]);
        expect(view.stderr).toBe("");
        expect(view.stdout).toBe("k3x9qa.0f1e2d3c4b5a6978 https://10.10.31.251:6443 kubelet-bootstrap@kubernetes");
        const minified = attempt("kubectl", [
            "config",
            "view",
            "--raw",
            "--minify",
            "--kubeconfig",
            file,
            "-o",
            "jsonpath={.clusters[0].cluster.certificate-authority-data}",
        ]);
        expect(Buffer.from(minified.stdout, "base64").toString()).toBe(ca);
    });

    test("a malformed token or a plain-http server is refused before anything is written", () => {
        expect(() =>
            renderBootstrapKubeconfig({
                server: "https://10.0.0.1:6443",
                caCertPem: ca,
                tokenId: "ABCDEF",
                tokenSecret: "0123456789abcdef",
            }),
        ).toThrow("bootstrap token must match [a-z0-9]{6}.[a-z0-9]{16}");
        expect(() => bootstrapTokenString({ id: "abcdef", secret: "short" })).toThrow("secret of 5");
        expect(() =>
            renderKubeconfig({
                clusterName: "c",
                userName: "admin",
                server: "http://10.0.0.1:6443",
                caCertPem: ca,
                credentials: { token: "x" },
            }),
        ).toThrow('kubeconfig for admin: server "http://10.0.0.1:6443" must be https://<host>:<port>');
    });

    test("client-certificate kubeconfigs embed the certificate and key, not file paths", () => {
        const doc = parse(
            renderKubeconfig({
                clusterName: "c",
                userName: "admin",
                server: "https://1.2.3.4:6443",
                caCertPem: ca,
                credentials: { clientCertificatePem: "CERT", clientKeyPem: "KEY" },
            }),
        );
        expect(doc.users[0]).toEqual({
            name: "admin",
            user: {
                "client-certificate-data": Buffer.from("CERT").toString("base64"),
                "client-key-data": Buffer.from("KEY").toString("base64"),
            },
        });
        expect(doc["current-context"]).toBe("admin@c");
    });
});

afterAll(removeScratchDirs);
