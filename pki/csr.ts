/**
 * Certificate requests that nodes make with keys of their own: what they ask for, and whether it is exactly what
 * the program means to sign. `@pulumi/tls`'s LocallySignedCert copies a request's subject and names into the
 * certificate, so the program reads each request first and refuses to sign one that asks for anything else (another
 * node's name, an extra address, a group). A node can therefore never be signed into another node's identity.
 */
import { CertificationRequest } from "@peculiar/asn1-csr";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Extensions, GeneralNames, Name, SubjectAlternativeName, id_ce_subjectAltName } from "@peculiar/asn1-x509";
import { NodeCertificateSpec } from "./specs";

/** What a certificate request asks for. */
export interface CertificateRequestContent {
    readonly commonNames: readonly string[];
    readonly organizations: readonly string[];
    /** Subject attributes other than CN and O, as "OID=value". */
    readonly otherSubject: readonly string[];
    readonly dnsNames: readonly string[];
    readonly ipAddresses: readonly string[];
    /** Subject alternative names of other kinds (URIs, e-mail addresses), and requested extensions other than SANs. */
    readonly otherRequests: readonly string[];
    /** "ECDSA P-256", or the key algorithm's OID. */
    readonly key: string;
}

const OID = {
    commonName: "2.5.4.3",
    organization: "2.5.4.10",
    extensionRequest: "1.2.840.113549.1.9.14",
    ecPublicKey: "1.2.840.10045.2.1",
    prime256v1: "1.2.840.10045.3.1.7",
} as const;

/** The DER of one PEM block of `label` ("CERTIFICATE REQUEST"); throws naming what is missing. */
function pemBody(pem: string, label: string): Buffer {
    const match = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(pem);
    if (!match) {
        throw new Error(`not a PEM ${label.toLowerCase()}`);
    }
    return Buffer.from(match[1].replace(/\s+/g, ""), "base64");
}

/** Reads a PEM certificate request (PKCS #10). Throws on anything that is not one. */
export function readCertificateRequest(pem: string): CertificateRequestContent {
    const request = AsnConvert.parse(pemBody(pem, "CERTIFICATE REQUEST"), CertificationRequest);
    const info = request.certificationRequestInfo;
    const attributes = Array.from(info.subject as Name).flatMap((rdn) =>
        Array.from(rdn, (a) => ({ type: a.type, value: a.value.toString() })),
    );
    const pick = (oid: string) => attributes.filter((a) => a.type === oid).map((a) => a.value);
    const dnsNames: string[] = [];
    const ipAddresses: string[] = [];
    const otherRequests: string[] = [];
    for (const attribute of info.attributes) {
        if (attribute.type !== OID.extensionRequest) {
            otherRequests.push(`attribute ${attribute.type}`);
            continue;
        }
        for (const value of attribute.values) {
            for (const extension of AsnConvert.parse(value, Extensions)) {
                if (extension.extnID !== id_ce_subjectAltName) {
                    otherRequests.push(`extension ${extension.extnID}`);
                    continue;
                }
                for (const name of AsnConvert.parse(extension.extnValue, SubjectAlternativeName) as GeneralNames) {
                    if (name.dNSName !== undefined) dnsNames.push(name.dNSName);
                    else if (name.iPAddress !== undefined) ipAddresses.push(name.iPAddress);
                    else otherRequests.push("a subject alternative name that is neither a DNS name nor an IP address");
                }
            }
        }
    }
    const algorithm = info.subjectPKInfo.algorithm;
    const curve = algorithm.parameters ? Buffer.from(algorithm.parameters).toString("hex") : "";
    // 06 08 <OID of prime256v1>: the named-curve parameter of a P-256 key.
    const isP256 = algorithm.algorithm === OID.ecPublicKey && curve === "06082a8648ce3d030107";
    return {
        commonNames: pick(OID.commonName),
        organizations: pick(OID.organization),
        otherSubject: attributes.filter((a) => a.type !== OID.commonName && a.type !== OID.organization).map((a) => `${a.type}=${a.value}`),
        dnsNames,
        ipAddresses,
        otherRequests,
        key: isP256 ? "ECDSA P-256" : algorithm.algorithm,
    };
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");

/**
 * Why a node's certificate request must not be signed as `spec`, one message per difference (empty when it asks for
 * exactly the spec's subject and names, with a P-256 key). `what` names the request in messages.
 */
export function certificateRequestProblems(what: string, pem: string, spec: NodeCertificateSpec): string[] {
    let request: CertificateRequestContent;
    try {
        request = readCertificateRequest(pem);
    } catch (err) {
        return [`${what}: ${(err as Error).message}: ${JSON.stringify(pem.slice(0, 80))}`];
    }
    const problems: string[] = [];
    const expect = (field: string, got: readonly string[], want: readonly string[]) => {
        if (!same(got, want)) {
            problems.push(`${what} asks for ${field} ${JSON.stringify(got)}, but only ${JSON.stringify(want)} may be signed`);
        }
    };
    expect("common name", request.commonNames, [spec.commonName]);
    expect("organization", request.organizations, spec.organization ? [spec.organization] : []);
    expect("other subject attributes", request.otherSubject, []);
    expect("DNS names", request.dnsNames, spec.dnsNames);
    expect("IP addresses", request.ipAddresses, spec.ipAddresses);
    expect("other extensions", request.otherRequests, []);
    if (request.key !== "ECDSA P-256") {
        problems.push(`${what} has a key of algorithm ${request.key}; nodes make ECDSA P-256 keys`);
    }
    return problems;
}
