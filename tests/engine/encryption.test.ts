/**
 * The Secret encryption key rotation of docs/security.md ("Rotating the encryption key"), on the dev stage's real
 * control plane: each step is the encryption configuration the program delivers (`controllerFiles`) for the key list
 * of that step's `secretsEncryptionKeys`, picked up by kube-apiserver's automatic reload, and etcd is read after each.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { cidr } from "../../config/cidr";
import { controlPlaneSettings, controllerFiles, encryptedPrefix } from "../../controlplane";
import { nodePaths } from "../../layout/node";
import { EncryptionKey } from "../../pki";
import { BootedControlPlane, bootControlPlane, etcdValue, kubectl } from "./helpers/controlPlane";
import { tearDown } from "./helpers/node";
import { Processes } from "./helpers/processes";
import { RenderedStage, renderStage } from "./helpers/render";
import { EngineTools, engineTools, requireMachine } from "./helpers/tools";
import { Vpc } from "./helpers/vpc";

const cleanup: string[] = [];
let tools: EngineTools;
let rendered: RenderedStage;
let processes: Processes;
let vpc: Vpc;
let cp: BootedControlPlane;

beforeAll(async () => {
    requireMachine();
    tools = engineTools();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "engine-encryption-"));
    cleanup.push(work);
    processes = new Processes(path.join(work, "logs"));
    rendered = renderStage("dev", work);
    vpc = new Vpc(`enc${process.pid % 1000}`, cidr(rendered.cfg.network.vpcCidr).prefix);
    cp = await bootControlPlane(rendered, vpc, processes, tools, work, cleanup);
}, 900000);

afterAll(() => tearDown(processes, vpc, cleanup), 120000);

/** Delivers the encryption configuration for `keys` to every controller, as a `pulumi up` with that key list would. */
function deliver(keys: readonly EncryptionKey[]): void {
    const settings = controlPlaneSettings(rendered.cfg, rendered.plan);
    cp.controllers.forEach((c, i) => {
        const file = controllerFiles({ ...rendered.material, encryptionKeys: keys }, settings, i).files.find((f) =>
            f.path.startsWith(`${nodePaths.apiserverConfigDir}/encryption`),
        )!;
        c.node.write(file.path, file.content, file.mode);
    });
}

/** Successful automatic reloads of the encryption configuration so far, summed over the API servers. */
function reloads(): number {
    const metrics = kubectl(tools, cp.adminKubeconfig, ["get", "--raw", "/metrics"]);
    return metrics
        .split("\n")
        .filter((l) => l.startsWith("apiserver_encryption_config_controller_automatic_reloads_total") && l.includes('status="success"'))
        .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
}

/** Delivers `keys` and waits until every API server has reloaded them (it polls its file once a minute). */
async function rotateTo(keys: readonly EncryptionKey[]): Promise<void> {
    const before = reloads();
    deliver(keys);
    await processes.waitFor(
        "kube-apiserver reloads the encryption keys",
        () => reloads() >= before + cp.controllers.length,
        cp.processes,
        180000,
        5000,
    );
}

const keyOfSecret = (name: string) =>
    /^k8s:enc:secretbox:v1:([^:]+):/.exec(etcdValue(cp, `/registry/secrets/default/${name}`).subarray(0, 64).toString("latin1"))?.[1];
const valueOf = (name: string) =>
    Buffer.from(
        kubectl(tools, cp.adminKubeconfig, ["-n", "default", "get", "secret", name, "-o", "jsonpath={.data.v}"]),
        "base64",
    ).toString();

test("rotating the key: add it second, move it first, rewrite every Secret, drop the old key; every Secret stays readable", async () => {
    const [oldKey] = rendered.material.encryptionKeys;
    const newKey: EncryptionKey = { name: "key-2", secret: crypto.randomBytes(32).toString("base64") };
    const create = (name: string) =>
        kubectl(tools, cp.adminKubeconfig, ["-n", "default", "create", "secret", "generic", name, `--from-literal=v=${name}-value`]);
    expect(encryptedPrefix(oldKey.name)).toBe(`k8s:enc:secretbox:v1:${oldKey.name}:`);

    create("before");
    expect(keyOfSecret("before")).toBe(oldKey.name);

    // 1. The new key second: every API server can read it before any writes with it (several controllers).
    await rotateTo([oldKey, newKey]);
    create("step-1");
    expect(keyOfSecret("step-1")).toBe(oldKey.name);

    // 2. The new key first: new writes use it; old Secrets are still read with the old key.
    await rotateTo([newKey, oldKey]);
    create("step-2");
    expect(keyOfSecret("step-2")).toBe(newKey.name);
    expect(keyOfSecret("before")).toBe(oldKey.name);
    expect(valueOf("before")).toBe("before-value");

    // 3. Rewrite every Secret (docs/security.md), so none is left under the old key.
    const all = kubectl(tools, cp.adminKubeconfig, ["get", "secrets", "--all-namespaces", "-o", "json"]);
    kubectl(tools, cp.adminKubeconfig, ["replace", "-f", "-"], all);
    for (const name of ["before", "step-1", "step-2"]) expect(keyOfSecret(name)).toBe(newKey.name);

    // 4. Drop the old key: everything is still readable.
    await rotateTo([newKey]);
    for (const name of ["before", "step-1", "step-2"]) expect(valueOf(name)).toBe(`${name}-value`);
    create("after");
    expect(keyOfSecret("after")).toBe(newKey.name);
});
