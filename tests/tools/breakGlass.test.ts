/**
 * Admins and break-glass: the stack's outputs hold only the RBAC-bound admin kubeconfig; the system:masters one is read
 * from the state by `npm run break-glass`, which needs the stack's secrets to be decrypted.
 */
import { parse } from "yaml";
import { revealSecrets, runProgram } from "../../tools/mockRuntime";
import { breakGlassKubeconfigFromState } from "../../tools/breakGlass";

const SECRET = "4dabf18193072939515e22adb298388d";
const secret = (value: string) => ({ [SECRET]: "1b47061264138c4ac30d75fd1eb44270", plaintext: JSON.stringify(value) });
const stackUrn = "urn:pulumi:dev::coreos-platform::pulumi:pulumi:Stack::coreos-platform-dev";
const urn = (type: string, name: string) => `urn:pulumi:dev::coreos-platform::platform:index:ClusterPki$${type}::${name}`;

/** A deployment as `pulumi stack export --show-secrets` writes it (only what the tool reads). */
function exported(keyValue: unknown) {
    return {
        resources: [
            {
                urn: stackUrn,
                type: "pulumi:pulumi:Stack",
                outputs: { apiEndpoint: "https://198.51.100.7:6443", kubeconfig: secret("admin") },
            },
            {
                urn: urn("tls:index/selfSignedCert:SelfSignedCert", "pki-ca"),
                type: "tls:index/selfSignedCert:SelfSignedCert",
                outputs: { certPem: "CA PEM" },
            },
            {
                urn: urn("tls:index/locallySignedCert:LocallySignedCert", "pki-break-glass"),
                type: "tls:index/locallySignedCert:LocallySignedCert",
                outputs: { certPem: "BREAK-GLASS CERT" },
            },
            {
                urn: urn("tls:index/privateKey:PrivateKey", "pki-break-glass-key"),
                type: "tls:index/privateKey:PrivateKey",
                outputs: { privateKeyPem: keyValue },
            },
        ],
    };
}

test("npm run break-glass renders the system:masters kubeconfig from the decrypted state, for the API endpoint", () => {
    const kubeconfig = parse(breakGlassKubeconfigFromState(exported(secret("BREAK-GLASS KEY"))));
    expect(kubeconfig.clusters[0].cluster.server).toBe("https://198.51.100.7:6443");
    expect(Buffer.from(kubeconfig.clusters[0].cluster["certificate-authority-data"], "base64").toString()).toBe("CA PEM");
    expect(kubeconfig.users[0].name).toBe("break-glass");
    expect(Buffer.from(kubeconfig.users[0].user["client-certificate-data"], "base64").toString()).toBe("BREAK-GLASS CERT");
    expect(Buffer.from(kubeconfig.users[0].user["client-key-data"], "base64").toString()).toBe("BREAK-GLASS KEY");
    expect(kubeconfig["current-context"]).toBe("break-glass@coreos-platform-dev");
});

test("a state whose secrets are still encrypted, or without the break-glass certificate, is refused with what to do", () => {
    expect(() => breakGlassKubeconfigFromState(exported({ [SECRET]: "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:..." }))).toThrow(
        "export with --show-secrets",
    );
    expect(() => breakGlassKubeconfigFromState({ resources: exported("k").resources.slice(0, 2) })).toThrow(
        "the state has no LocallySignedCert pki-break-glass",
    );
});

test("the stack's outputs hold the admin kubeconfig (RBAC-bound group), never the break-glass credential", async () => {
    const run = await runProgram("dev");
    const outputs = revealSecrets(run.outputs) as Record<string, unknown>;
    const kubeconfig = parse(String(outputs.kubeconfig));
    // Under the mocks a certificate is named after its resource: the admin's, not break-glass's.
    expect(Buffer.from(kubeconfig.users[0].user["client-certificate-data"], "base64").toString()).toBe("mock certificate of pki-admin");
    expect(JSON.stringify(outputs)).not.toMatch(/break-glass/);
}, 120000);
