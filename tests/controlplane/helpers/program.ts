/**
 * The slice of the platform this area owns, run under the mock runtime with a stage's real config: the EIP pool,
 * a stand-in bastion (the real one needs ignition/, built in parallel) and stand-in controller instances, then the
 * real ClusterPki and ControlPlane, wired as index.ts wires them.
 */
import * as alicloud from "@pulumi/alicloud";
import * as tls from "@pulumi/tls";
import { PROJECT } from "../../../config/schema";
import { planCluster } from "../../../config";
import { stageConfigFromFiles } from "../../../tools/stageFiles";
import { ClusterPki } from "../../../components/clusterPki";
import { stageIdentity } from "../../../components/common";
import { ControlPlane } from "../../../components/controlPlane";
import { EipPool } from "../../../components/eipPool";
import { registrySettings } from "../../../controlplane";
import { limitStackCapture } from "../../../stackCapture";
import { ProgramRun, RecordedResource, isSecretValue, revealSecrets, runProgram } from "../../../tools/mockRuntime";

/** Overrides by bare key name -> by full key. */
function fullKeys(overrides: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(overrides).map(([k, v]) => [`${PROJECT}:${k}`, v]));
}

/** Runs ClusterPki + ControlPlane for a stage as `pulumi up` would (not preview). */
export function runControlPlane(stage: string, overrides: Record<string, unknown> = {}): Promise<ProgramRun> {
    const full = fullKeys(overrides);
    return runProgram(stage, {
        overrides: full,
        preview: false,
        program: () => {
            limitStackCapture(); // as index.ts does
            const cfg = stageConfigFromFiles(stage, full);
            const plan = planCluster(cfg);
            const identity = stageIdentity(cfg.project, cfg.stage);
            const eips = new EipPool("eips", {
                identity,
                claims: cfg.eip.claims,
                quota: cfg.eip.quota,
                bandwidthMbps: cfg.eip.bandwidthMbps,
                bandwidthByClaim: { nat: cfg.eip.natBandwidthMbps },
            });

            // Stand-in bastion: the same connection shape as Bastion.connection / connectionTo.
            const deployKey = new tls.PrivateKey("bastion-deploy-key", { algorithm: "ED25519" });
            const bastionEip = eips.claim("bastion");
            const bastionInstance = new alicloud.ecs.Instance("bastion-instance", {
                instanceType: "ecs.t6-c1m1.large",
                imageId: "m-fcos",
                vswitchId: "vsw-public",
            });
            const hostKey = new tls.PrivateKey("bastion-host-key", { algorithm: "ED25519" });
            const connection = {
                host: bastionEip.address,
                user: "core",
                hostKey: hostKey.publicKeyOpenssh,
                privateKey: deployKey.privateKeyOpenssh,
            };
            const bastion = { connection, ready: [bastionInstance] };

            const apiserverEip = eips.claim("apiserver");
            const pki = new ClusterPki("pki", {
                identity,
                apiServiceIp: cfg.cluster.apiServiceIp,
                apiServerInternalAddress: plan.apiServerInternalAddress,
                apiServerPublicAddress: apiserverEip.address,
                controllers: plan.controllers,
                validity: cfg.pki,
                encryptionKeyNames: cfg.secretsEncryptionKeys,
            });
            const controllers = plan.controllers.map((c) => ({
                planned: c,
                instance: new alicloud.ecs.Instance(`controllers-${c.index}`, {
                    instanceType: "ecs.g7.large",
                    imageId: "m-fcos",
                    vswitchId: `vsw-${c.vswitchIndex}`,
                    privateIp: c.ip,
                }),
                // As the controller pool gives them: through the bastion, the node's scanned host key pinned.
                connection: {
                    host: c.ip,
                    user: "core",
                    hostKey: `ssh-ed25519 host-key-of-${c.hostname}`,
                    privateKey: deployKey.privateKeyOpenssh,
                    proxy: connection,
                },
            }));
            const controlPlane = new ControlPlane("control-plane", {
                identity,
                pki,
                apiServerInternalAddress: plan.apiServerInternalAddress,
                cluster: { serviceCidr: cfg.network.serviceCidr, podCidr: cfg.network.podCidr },
                vpcCidr: cfg.network.vpcCidr,
                adminCidrs: cfg.network.adminCidrs,
                vswitchId: "vsw-0",
                apiserverEip,
                controllers,
                bastion,
                registries: registrySettings(cfg),
            });
            return {
                kubeconfig: controlPlane.kubeconfig,
                apiEndpoint: controlPlane.apiEndpoint,
                caCertPem: pki.caCertPem,
                breakGlassKubeconfig: pki.breakGlassKubeconfig(plan.apiServerUrl),
            };
        },
    });
}

export function ofType(run: ProgramRun, type: string): RecordedResource[] {
    return run.resources.filter((r) => r.type === type);
}

export function named(run: ProgramRun, name: string): RecordedResource {
    const found = run.resources.find((r) => r.name === name);
    if (!found) {
        throw new Error(`no resource named ${name} (have: ${run.resources.map((r) => r.name).join(", ")})`);
    }
    return found;
}

/** An input as plain data, secrets unwrapped (for assertions only). */
export function input(resource: RecordedResource, key: string): any {
    return revealSecrets(resource.inputs[key]);
}

export { isSecretValue, revealSecrets };

/** Every string inside a value, one per line (JSON would escape newlines and glue base64 to its neighbours). */
export function stringsOf(value: unknown): string {
    if (typeof value === "string") {
        return value;
    }
    if (Array.isArray(value)) {
        return value.map(stringsOf).join("\n");
    }
    if (value && typeof value === "object") {
        return Object.entries(value)
            .map(([k, v]) => `${k}\n${stringsOf(v)}`)
            .join("\n");
    }
    return String(value);
}

/**
 * A text and everything base64-encoded inside it, decoded, recursively: scripts carry files as base64, and
 * kubeconfigs carry keys as base64, so a secret can hide two encodings deep.
 */
export function withDecodedBase64(text: string, depth = 3): string {
    if (depth === 0) {
        return text;
    }
    const decoded = (text.match(/[A-Za-z0-9+/]{24,}={0,2}/g) ?? []).map((token) => Buffer.from(token, "base64").toString("utf8"));
    return [text, ...decoded.map((d) => withDecodedBase64(d, depth - 1))].join("\n");
}
