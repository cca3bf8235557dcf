/** The pure PKI data: input checks, validity arithmetic, kubeconfig rendering (checked with kubectl itself). */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { joinKubeconfig } from "../../controlplane";
import {
    certificateRequestProblems,
    clusterCertificateSpecs,
    etcdTlsEnvironment,
    kubeletClientSpec,
    kubeletServingSpec,
    pkiInputProblems,
    readCertificateRequest,
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
    const cert = "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n";

    test("a worker's join kubeconfig names its node, embeds the certificate and CA, and points at the key on the node", () => {
        requireTools("kubectl");
        const text = joinKubeconfig({
            clusterName: "coreos-platform-dev",
            hostname: "coreos-platform-dev-worker-0",
            server: "https://10.10.31.251:6443",
            caCertPem: ca,
            credentials: { clientCertificatePem: cert, clientKeyFile: "/run/coreos-platform/join.key" },
        });
        const file = path.join(scratchDir("kubeconfig"), "join.conf");
        fs.writeFileSync(file, text);
        const view = attempt("kubectl", [
            "config",
            "view",
            "--raw",
            "--kubeconfig",
            file,
            "-o",
            "jsonpath={.users[0].user.client-key} {.clusters[0].cluster.server} {.current-context}",
        ]);
        expect(view.stderr).toBe("");
        expect(view.stdout).toBe(
            "/run/coreos-platform/join.key https://10.10.31.251:6443 system:node:coreos-platform-dev-worker-0@coreos-platform-dev",
        );
        const data = attempt("kubectl", [
            "config",
            "view",
            "--raw",
            "--kubeconfig",
            file,
            "-o",
            "jsonpath={.users[0].user.client-certificate-data}",
        ]);
        expect(Buffer.from(data.stdout, "base64").toString()).toBe(cert);
        // No key material in it: the key never leaves the node.
        expect(text).not.toContain("client-key-data");
    });

    test("a plain-http server is refused before anything is written", () => {
        expect(() =>
            renderKubeconfig({
                clusterName: "c",
                userName: "admin",
                server: "http://10.0.0.1:6443",
                caCertPem: ca,
                credentials: { clientCertificatePem: cert, clientKeyPem: "k" },
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

    test("the admin kubeconfig's group is bound by RBAC; only the break-glass certificate is system:masters", () => {
        const specs = clusterCertificateSpecs({ ...input, apiServerPublicAddress: "203.0.113.50" });
        expect(specs.find((s) => s.name === "admin")?.organization).toBe("platform:cluster-admins");
        expect(specs.filter((s) => s.organization === "system:masters").map((s) => s.name)).toEqual(["break-glass"]);
    });
});

describe("certificate requests of nodes (what the program signs)", () => {
    const dir = () => scratchDir("csr");
    /** A request made with openssl, as a node's join script makes it. */
    function request(subject: string, san?: string, key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]): string {
        const d = dir();
        const r = attempt("openssl", [
            "req",
            "-new",
            ...key,
            "-nodes",
            "-keyout",
            path.join(d, "k.pem"),
            "-subj",
            subject,
            ...(san ? ["-addext", `subjectAltName=${san}`] : []),
            "-out",
            path.join(d, "r.pem"),
        ]);
        expect(r.status).toBe(0);
        return fs.readFileSync(path.join(d, "r.pem"), "utf8");
    }
    const node = "coreos-platform-dev-worker-0";

    test("the node's own join and serving requests are signed", () => {
        requireTools("openssl");
        expect(certificateRequestProblems("join", request(`/O=system:nodes/CN=system:node:${node}`), kubeletClientSpec(node))).toEqual([]);
        const serving = request(`/O=system:nodes/CN=system:node:${node}`, `DNS:${node},IP:10.10.16.7`);
        expect(readCertificateRequest(serving)).toEqual(
            expect.objectContaining({ dnsNames: [node], ipAddresses: ["10.10.16.7"], key: "ECDSA P-256" }),
        );
        expect(certificateRequestProblems("serving", serving, kubeletServingSpec(node, "10.10.16.7"))).toEqual([]);
    });

    test("a request for another node, a controller, an extra group, address or name is refused, naming what it asked for", () => {
        requireTools("openssl");
        const spec = kubeletClientSpec(node);
        expect(certificateRequestProblems("r", request("/O=system:nodes/CN=system:node:coreos-platform-dev-controller-0"), spec)).toEqual([
            'r asks for common name ["system:node:coreos-platform-dev-controller-0"], but only ["system:node:coreos-platform-dev-worker-0"] may be signed',
        ]);
        expect(certificateRequestProblems("r", request(`/O=system:nodes/O=system:masters/CN=system:node:${node}`), spec)).toEqual([
            'r asks for organization ["system:nodes","system:masters"], but only ["system:nodes"] may be signed',
        ]);
        expect(
            certificateRequestProblems(
                "r",
                request(`/O=system:nodes/CN=system:node:${node}`, `DNS:${node},IP:10.10.16.7,IP:10.10.31.250`),
                kubeletServingSpec(node, "10.10.16.7"),
            ),
        ).toEqual(['r asks for IP addresses ["10.10.16.7","10.10.31.250"], but only ["10.10.16.7"] may be signed']);
        expect(
            certificateRequestProblems(
                "r",
                request(`/O=system:nodes/CN=system:node:${node}`, `DNS:${node},DNS:kubernetes.default`),
                kubeletServingSpec(node, "10.10.16.7"),
            ),
        ).toEqual([
            `r asks for DNS names ["${node}","kubernetes.default"], but only ["${node}"] may be signed`,
            'r asks for IP addresses [], but only ["10.10.16.7"] may be signed',
        ]);
        expect(certificateRequestProblems("r", request(`/O=system:nodes/CN=system:node:${node}`, "URI:spiffe://x"), spec)).toEqual([
            'r asks for other extensions ["a subject alternative name that is neither a DNS name nor an IP address"], but only [] may be signed',
        ]);
    });

    test("a key other than P-256, or no request at all, is refused", () => {
        requireTools("openssl");
        const rsa = request(`/O=system:nodes/CN=system:node:${node}`, undefined, ["-newkey", "rsa:2048"]);
        expect(certificateRequestProblems("r", rsa, kubeletClientSpec(node))).toEqual([
            "r has a key of algorithm 1.2.840.113549.1.1.1; nodes make ECDSA P-256 keys",
        ]);
        expect(certificateRequestProblems("r", "", kubeletClientSpec(node))[0]).toMatch(/^r: not a PEM certificate request/);
    });
});

afterAll(removeScratchDirs);
