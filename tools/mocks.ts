/**
 * Deterministic stand-ins for what the cloud would compute (ids, addresses, generated keys), for the mock
 * runtime. Values derive from the resource's name only, so two runs give identical results.
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { mockJoinRequestOutput } from "./mockCertificateRequest";

function digest(text: string): Buffer {
    return crypto.createHash("sha256").update(text).digest();
}

/** A fake public address in 198.18.0.0/15 (RFC 2544's benchmarking range: never a real host). */
export function fakePublicIp(name: string): string {
    const d = digest(name);
    return `198.${18 + (d[0] & 1)}.${d[1]}.${(d[2] % 254) + 1}`;
}

function computedState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    switch (type) {
        case "alicloud:ecs/eipAddress:EipAddress":
            return { ipAddress: fakePublicIp(name) };
        case "alicloud:ecs/instance:Instance":
            return { privateIp: inputs.privateIp ?? `10.255.${digest(name)[0]}.${(digest(name)[1] % 254) + 1}`, publicIp: "" };
        case "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer":
            return { address: inputs.address ?? "10.255.255.1" };
        case "alicloud:vpc/natGateway:NatGateway":
            return {
                snatTableIds: `stb-${digest(name).toString("hex").slice(0, 20)}`,
                forwardTableIds: `ftb-${digest(name).toString("hex").slice(0, 20)}`,
            };
        case "alicloud:nas/mountTarget:MountTarget":
            return { mountTargetDomain: `${name}.nas.aliyuncs.com` };
        case "tls:index/privateKey:PrivateKey":
            return {
                privateKeyPem: `mock private key of ${name}`,
                privateKeyPemPkcs8: `mock pkcs8 private key of ${name}`,
                privateKeyOpenssh: `mock openssh private key of ${name}`,
                publicKeyPem: `mock public key of ${name}`,
                publicKeyOpenssh: `ssh-ed25519 ${digest(name).toString("base64")} ${name}`,
            };
        case "tls:index/certRequest:CertRequest":
            return { certRequestPem: `mock certificate request of ${name}` };
        case "tls:index/selfSignedCert:SelfSignedCert":
        case "tls:index/locallySignedCert:LocallySignedCert":
            return { certPem: `mock certificate of ${name}` };
        case "random:index/randomString:RandomString":
        case "random:index/randomPassword:RandomPassword": {
            const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
            const bytes = digest(name);
            const length = Number(inputs.length ?? 16);
            return { result: Array.from({ length }, (_, i) => alphabet[bytes[i % bytes.length] % alphabet.length]).join("") };
        }
        case "random:index/randomBytes:RandomBytes": {
            const bytes = Buffer.concat([digest(name), digest(`${name}/2`)]).subarray(0, Number(inputs.length ?? 32));
            return { base64: bytes.toString("base64"), hex: bytes.toString("hex") };
        }
        case "command:remote:Command":
            // A node's join script prints its certificate requests, a host key scan the node's key; others nothing to read.
            return { stdout: mockJoinRequestOutput(inputs.stdin) ?? mockHostKeyScan(inputs.stdin) ?? "", stderr: "" };
        case "command:local:Command":
            return { stdout: "", stderr: "" };
        default:
            return {};
    }
}

/** What the host key scan of `stdin` (renderHostKeyScanScript) prints: an ED25519 key derived from the address. */
function mockHostKeyScan(stdin: unknown): string | undefined {
    const match = typeof stdin === "string" ? /^# Host key of (\S+), read from the bastion\.$/m.exec(stdin) : null;
    if (!match) return undefined;
    const field = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
    const blob = Buffer.concat([field(Buffer.from("ssh-ed25519")), field(digest(`host key of ${match[1]}`))]);
    return `ssh-ed25519 ${blob.toString("base64")}\n`;
}

/** The mocks every offline run uses. */
export const platformMocks: pulumi.runtime.Mocks = {
    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        return { id: mockId(args.type, args.name), state: { ...args.inputs, ...computedState(args.type, args.name, args.inputs) } };
    },
    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        // The account the provider's credentials belong to: a stand-in of Alibaba's 16-digit form.
        if (args.token === "alicloud:index/getCallerIdentity:getCallerIdentity") {
            return { accountId: "1234567890123456", arn: "acs:ram::1234567890123456:root", identityType: "Account" };
        }
        return args.inputs;
    },
};

/** The id a resource gets: shaped like Alibaba's where something reads it (disk ids reach Ignition, d-...). */
export function mockId(type: string, name: string): string {
    const hex = digest(name).toString("hex");
    switch (type) {
        case "alicloud:ecs/imageImport:ImageImport":
            return `m-mock${hex.slice(0, 16)}`;
        case "alicloud:ecs/ecsDisk:EcsDisk":
            return `d-${hex.slice(0, 20)}`;
        default:
            return `${name}-id`;
    }
}
