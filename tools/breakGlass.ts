/**
 * `npm run break-glass -- --stack <stage> [--out <file>]`: the break-glass kubeconfig (system:masters), read from the
 * stack's state, for when the admin kubeconfig no longer works (its RBAC binding was deleted or broken). It is never
 * a stack output: getting it needs the state backend and the stack's secrets passphrase, and every use shows in the
 * API server's audit log as user `break-glass` (docs/security.md, "Admins and break-glass").
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import { renderKubeconfig } from "../pki/kubeconfig";
import { BREAK_GLASS_USER } from "../pki/specs";

/** What `pulumi stack export` holds of one resource. */
interface StateResource {
    readonly urn: string;
    readonly type: string;
    readonly outputs?: Record<string, unknown>;
}

/** The secret envelope `pulumi stack export --show-secrets` writes: the value, JSON-encoded, in `plaintext`. */
const SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d";

function plain(value: unknown): unknown {
    if (value && typeof value === "object" && SECRET_SIGNATURE in value) {
        const text = (value as { plaintext?: string }).plaintext;
        if (text === undefined) throw new Error("a secret in the state is still encrypted: export with --show-secrets");
        return JSON.parse(text);
    }
    return value;
}

/** The break-glass kubeconfig from an exported deployment (`pulumi stack export --show-secrets`). */
export function breakGlassKubeconfigFromState(deployment: { resources?: StateResource[] }): string {
    const resources = deployment.resources ?? [];
    const find = (type: string, name: string) => {
        const found = resources.find((r) => r.type === type && r.urn.endsWith(`::${name}`));
        if (!found?.outputs)
            throw new Error(
                `the state has no ${type.split(":").pop()} ${name} (is this a stack of this program, after its first pulumi up?)`,
            );
        return found.outputs;
    };
    const text = (type: string, name: string, field: string) => {
        const value = plain(find(type, name)[field]);
        if (typeof value !== "string") throw new Error(`${name}.${field} is not in the state`);
        return value;
    };
    const stack = resources.find((r) => r.type === "pulumi:pulumi:Stack");
    const server = plain(stack?.outputs?.apiEndpoint);
    if (typeof server !== "string") throw new Error("the stack has no apiEndpoint output (run pulumi up first)");
    // The kubeconfigs' cluster name is the stage's name prefix, <project>-<stack> (urn:pulumi:<stack>::<project>::...).
    const [, stackName, project] = /^urn:pulumi:([^:]+)::([^:]+)::/.exec(stack?.urn ?? "") ?? [];
    const clusterName = stackName && project ? `${project}-${stackName}` : "cluster";
    return renderKubeconfig({
        clusterName,
        userName: BREAK_GLASS_USER,
        server,
        caCertPem: text("tls:index/selfSignedCert:SelfSignedCert", "pki-ca", "certPem"),
        credentials: {
            clientCertificatePem: text("tls:index/locallySignedCert:LocallySignedCert", "pki-break-glass", "certPem"),
            clientKeyPem: text("tls:index/privateKey:PrivateKey", "pki-break-glass-key", "privateKeyPem"),
        },
    });
}

function main(argv: string[]): void {
    const arg = (name: string) => {
        const i = argv.indexOf(name);
        return i >= 0 ? argv[i + 1] : undefined;
    };
    const stack = arg("--stack");
    if (!stack) {
        console.error("usage: npm run break-glass -- --stack <stage> [--out <file>]");
        process.exit(2);
    }
    const exported = JSON.parse(
        execFileSync("pulumi", ["stack", "export", "--show-secrets", "--stack", stack], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 }),
    );
    const kubeconfig = breakGlassKubeconfigFromState(exported.deployment);
    const out = arg("--out");
    if (out) {
        fs.writeFileSync(out, kubeconfig, { mode: 0o600 });
        console.error(`wrote the break-glass kubeconfig of ${stack} to ${out} (mode 0600); delete it when done`);
    } else {
        process.stdout.write(kubeconfig);
    }
}

if (require.main === module) {
    main(process.argv.slice(2));
}
