/**
 * Turns the cluster's certificate specs (pki/specs.ts) into real keys and certificates with openssl, so the
 * tests can check chains, SANs and usages with openssl itself, and run etcd and curl with them.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { CertificateSpec, KeyAlgorithm, KeyUsage, PkiMaterial, PkiValidity, validityOf } from "../../../pki";
import { run } from "./tools";

/** openssl's names for each usage: keyUsage or extendedKeyUsage. */
const OPENSSL_USAGE: Record<KeyUsage, { ext: "keyUsage" | "extendedKeyUsage"; name: string }> = {
    digital_signature: { ext: "keyUsage", name: "digitalSignature" },
    key_encipherment: { ext: "keyUsage", name: "keyEncipherment" },
    cert_signing: { ext: "keyUsage", name: "keyCertSign" },
    crl_signing: { ext: "keyUsage", name: "cRLSign" },
    server_auth: { ext: "extendedKeyUsage", name: "serverAuth" },
    client_auth: { ext: "extendedKeyUsage", name: "clientAuth" },
};

function generateKey(algorithm: KeyAlgorithm, file: string): void {
    const opts =
        algorithm.algorithm === "ECDSA"
            ? ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
            : ["-algorithm", "RSA", "-pkeyopt", `rsa_keygen_bits:${algorithm.bits}`];
    run("openssl", ["genpkey", ...opts, "-out", file]);
}

function extensions(spec: CertificateSpec<string>): string {
    const lines = [`basicConstraints = critical,CA:${spec.isCa ? "TRUE" : "FALSE"}`, "subjectKeyIdentifier = hash"];
    const of = (ext: string) => spec.usages.filter((u) => OPENSSL_USAGE[u].ext === ext).map((u) => OPENSSL_USAGE[u].name);
    if (of("keyUsage").length) {
        lines.push(`keyUsage = critical,${of("keyUsage").join(",")}`);
    }
    if (of("extendedKeyUsage").length) {
        lines.push(`extendedKeyUsage = ${of("extendedKeyUsage").join(",")}`);
    }
    const sans = [...spec.dnsNames.map((d) => `DNS:${d}`), ...spec.ipAddresses.map((ip) => `IP:${ip}`)];
    if (sans.length) {
        lines.push(`subjectAltName = ${sans.join(",")}`);
    }
    if (spec.signer !== "self") {
        lines.push("authorityKeyIdentifier = keyid:always");
    }
    return `[req]\ndistinguished_name = dn\n[dn]\n[v3]\n${lines.join("\n")}\n`;
}

function subject(spec: CertificateSpec<string>): string {
    return `/CN=${spec.commonName}${spec.organization ? `/O=${spec.organization}` : ""}`;
}

/** File paths of one issued certificate. */
export interface IssuedFiles {
    readonly cert: string;
    readonly key: string;
}

/** Issues every spec (signers first, as the specs are ordered) into `dir`; returns file paths by spec name. */
export function issueWithOpenssl(specs: readonly CertificateSpec<string>[], validity: PkiValidity, dir: string): Map<string, IssuedFiles> {
    const issued = new Map<string, IssuedFiles>();
    specs.forEach((spec, serial) => {
        const files = { cert: path.join(dir, `${spec.name}.crt`), key: path.join(dir, `${spec.name}.key`) };
        const conf = path.join(dir, `${spec.name}.cnf`);
        fs.writeFileSync(conf, extensions(spec));
        generateKey(spec.key, files.key);
        const days = String(validityOf(spec, validity).validityPeriodHours / 24);
        if (spec.signer === "self") {
            run("openssl", [
                "req",
                "-x509",
                "-new",
                "-key",
                files.key,
                "-subj",
                subject(spec),
                "-days",
                days,
                "-config",
                conf,
                "-extensions",
                "v3",
                "-out",
                files.cert,
            ]);
        } else {
            const ca = issued.get(spec.signer);
            if (!ca) {
                throw new Error(`${spec.name}: signer ${spec.signer} not issued yet`);
            }
            const csr = path.join(dir, `${spec.name}.csr`);
            run("openssl", ["req", "-new", "-key", files.key, "-subj", subject(spec), "-config", conf, "-out", csr]);
            run("openssl", [
                "x509",
                "-req",
                "-in",
                csr,
                "-CA",
                ca.cert,
                "-CAkey",
                ca.key,
                "-set_serial",
                String(1000 + serial),
                "-days",
                days,
                "-extfile",
                conf,
                "-extensions",
                "v3",
                "-out",
                files.cert,
            ]);
        }
        issued.set(spec.name, files);
    });
    return issued;
}

/**
 * Signs a node's certificate request (a PEM a node's join script printed) as `spec` with the CA of `caFiles`, as
 * `ClusterPki.signNodeRequest` does with @pulumi/tls: subject and names from the request (which the program checked
 * against the spec first), usages and lifetime from the spec. Returns the certificate's PEM.
 */
export function signRequestWithOpenssl(
    requestPem: string,
    spec: Omit<CertificateSpec<string>, "key" | "isCa">,
    caFiles: IssuedFiles,
    validity: PkiValidity,
    dir: string,
): string {
    const stem = path.join(dir, `${spec.name}-${crypto.randomBytes(4).toString("hex")}`);
    fs.writeFileSync(`${stem}.csr`, requestPem);
    fs.writeFileSync(`${stem}.cnf`, extensions({ ...spec, isCa: false, key: { algorithm: "ECDSA", curve: "P256" } }));
    const days = String(validityOf(spec, validity).validityPeriodHours / 24);
    run("openssl", [
        "x509",
        "-req",
        "-in",
        `${stem}.csr`,
        "-CA",
        caFiles.cert,
        "-CAkey",
        caFiles.key,
        "-set_serial",
        String(2000 + crypto.randomInt(1_000_000)),
        "-days",
        days,
        "-extfile",
        `${stem}.cnf`,
        "-extensions",
        "v3",
        "-out",
        `${stem}.crt`,
    ]);
    return fs.readFileSync(`${stem}.crt`, "utf8");
}

/**
 * The issued files plus a service-account key pair and Secret encryption keys (32 random bytes each), as the material
 * the control plane renders from.
 */
export function materialFromFiles(
    issued: Map<string, IssuedFiles>,
    dir: string,
    encryptionKeyNames: readonly string[] = ["key-1"],
): PkiMaterial {
    const saKey = path.join(dir, "service-account.key");
    generateKey({ algorithm: "RSA", bits: 2048 }, saKey);
    const read = (f: string) => fs.readFileSync(f, "utf8");
    return {
        certs: Object.fromEntries([...issued].map(([name, f]) => [name, read(f.cert)])),
        keys: Object.fromEntries([...issued].map(([name, f]) => [name, read(f.key)])),
        serviceAccount: { privateKeyPem: read(saKey), publicKeyPem: run("openssl", ["pkey", "-in", saKey, "-pubout"]) },
        encryptionKeys: encryptionKeyNames.map((name) => ({ name, secret: crypto.randomBytes(32).toString("base64") })),
    };
}
