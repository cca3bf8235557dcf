/**
 * Certificate requests for the mock runtime: what a node's join script would print (controlplane/scripts.ts
 * renderJoinRequestScript), for the render and the tests. Deterministic, so two runs give identical inputs: the key is
 * derived from the node's name and the signature is left empty (nothing verifies it under the mocks; the real
 * `@pulumi/tls` does).
 */
import * as crypto from "crypto";
import { Attributes, CertificationRequest, CertificationRequestInfo } from "@peculiar/asn1-csr";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import {
    AlgorithmIdentifier,
    Attribute,
    AttributeTypeAndValue,
    AttributeValue,
    Extension,
    Extensions,
    GeneralName,
    Name,
    RelativeDistinguishedName,
    SubjectAlternativeName,
    SubjectPublicKeyInfo,
    id_ce_subjectAltName,
} from "@peculiar/asn1-x509";
import { kubeletClientSpec, kubeletServingSpec, NodeCertificateSpec } from "../pki/specs";

function der(value: unknown): ArrayBuffer {
    return AsnConvert.serialize(value);
}

function arrayBuffer(bytes: Buffer): ArrayBuffer {
    return new Uint8Array(bytes).buffer;
}

/** A PEM request for `spec`, with a P-256 public key derived from `seed`. */
export function mockCertificateRequest(spec: NodeCertificateSpec, seed: string): string {
    const ecdh = crypto.createECDH("prime256v1");
    ecdh.setPrivateKey(crypto.createHash("sha256").update(seed).digest());
    const subject = new Name([
        ...(spec.organization
            ? [
                  new RelativeDistinguishedName([
                      new AttributeTypeAndValue({ type: "2.5.4.10", value: new AttributeValue({ utf8String: spec.organization }) }),
                  ]),
              ]
            : []),
        new RelativeDistinguishedName([
            new AttributeTypeAndValue({ type: "2.5.4.3", value: new AttributeValue({ utf8String: spec.commonName }) }),
        ]),
    ]);
    const names = [
        ...spec.dnsNames.map((dNSName) => new GeneralName({ dNSName })),
        ...spec.ipAddresses.map((iPAddress) => new GeneralName({ iPAddress })),
    ];
    const attributes =
        names.length === 0
            ? []
            : [
                  new Attribute({
                      type: "1.2.840.113549.1.9.14",
                      values: [
                          der(
                              new Extensions([
                                  new Extension({
                                      extnID: id_ce_subjectAltName,
                                      critical: false,
                                      extnValue: new OctetString(der(new SubjectAlternativeName(names))),
                                  }),
                              ]),
                          ),
                      ],
                  }),
              ];
    const request = new CertificationRequest({
        certificationRequestInfo: new CertificationRequestInfo({
            version: 0,
            subject,
            subjectPKInfo: new SubjectPublicKeyInfo({
                algorithm: new AlgorithmIdentifier({
                    algorithm: "1.2.840.10045.2.1",
                    parameters: arrayBuffer(Buffer.from("06082a8648ce3d030107", "hex")),
                }),
                subjectPublicKey: arrayBuffer(ecdh.getPublicKey()),
            }),
            attributes: new Attributes(attributes),
        }),
        signatureAlgorithm: new AlgorithmIdentifier({ algorithm: "1.2.840.10045.4.3.2" }),
        signature: new ArrayBuffer(0),
    });
    const body = Buffer.from(der(request)).toString("base64");
    return `-----BEGIN CERTIFICATE REQUEST-----\n${body.replace(/(.{64})/g, "$1\n").trim()}\n-----END CERTIFICATE REQUEST-----\n`;
}

/** What the join script of `stdin` (renderJoinRequestScript) prints on the node it names, or undefined for another script. */
export function mockJoinRequestOutput(stdin: unknown): string | undefined {
    const match = typeof stdin === "string" ? /^# Join requests of (\S+) at (\S+):/m.exec(stdin) : null;
    if (!match) return undefined;
    const [, hostname, ip] = match;
    return (
        mockCertificateRequest(kubeletClientSpec(hostname), `${hostname} join`) +
        mockCertificateRequest(kubeletServingSpec(hostname, ip), `${hostname} serving`)
    );
}
