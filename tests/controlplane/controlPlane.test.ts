/**
 * The control plane under the mock runtime with the real stage files: the API load balancer and its whitelist,
 * how secrets travel (only in remote commands through the bastion), the order of delivery, bootstrap, readiness
 * and provider, and that a second run would re-run no command.
 */
import * as crypto from "crypto";
import { parse } from "yaml";
import { fakePublicIp } from "../../tools/mocks";
import { ProgramRun, RecordedResource, maskSecrets } from "../../tools/mockRuntime";
import { controlPlaneArgsProblems } from "../../components/controlPlane";
import { apiAccessList } from "../../controlplane";
import { planCluster } from "../../config";
import { stageConfigFromFiles } from "../../tools/stageFiles";
import { versions } from "../../versions";
import { input, isSecretValue, named, ofType, revealSecrets, runControlPlane, stringsOf, withDecodedBase64 } from "./helpers/program";

const COMMAND = "command:remote:Command";
let dev: ProgramRun;
let prod: ProgramRun;

beforeAll(async () => {
    dev = await runControlPlane("dev");
    prod = await runControlPlane("prod");
});

describe("the API load balancer", () => {
    test("is intranet, at the plan's fixed address, with a TCP listener on 6443 and health checks", () => {
        const lb = named(dev, "control-plane-lb");
        expect(lb.inputs).toMatchObject({
            addressType: "intranet",
            address: "10.10.31.251",
            vswitchId: "vsw-0",
            loadBalancerName: "coreos-platform-dev-apiserver",
        });
        const listener = named(dev, "control-plane-listener");
        expect(listener.inputs).toMatchObject({
            loadBalancerId: "control-plane-lb-id",
            protocol: "tcp",
            frontendPort: 6443,
            backendPort: 6443,
            healthCheck: "on",
            healthCheckType: "tcp",
            healthCheckConnectPort: 6443,
        });
    });

    test("admits only the admin CIDRs and the VPC, as a whitelist on the listener", () => {
        const listener = named(prod, "control-plane-listener");
        expect(listener.inputs).toMatchObject({ aclStatus: "on", aclType: "white", aclIds: ["control-plane-acl-id"] });
        const entries = ofType(prod, "alicloud:slb/aclEntryAttachment:AclEntryAttachment").map((r) => ({
            acl: r.inputs.aclId,
            entry: r.inputs.entry,
        }));
        expect(entries.sort((a, b) => String(a.entry).localeCompare(String(b.entry)))).toEqual([
            { acl: "control-plane-acl-id", entry: "10.30.0.0/16" },
            { acl: "control-plane-acl-id", entry: "198.51.100.16/28" },
        ]);
        // The listener is switched on only once its whitelist has entries (an empty whitelist admits everyone).
        expect(listener.dependencies).toEqual(
            expect.arrayContaining(["control-plane-acl-10-30-0-0-16", "control-plane-acl-198-51-100-16-28"]),
        );
    });

    test("carries the apiserver EIP and every controller as a backend", () => {
        expect(named(prod, "control-plane-eip").inputs).toEqual({
            allocationId: "eips-apiserver-id",
            instanceId: "control-plane-lb-id",
            instanceType: "SlbInstance",
        });
        expect(input(named(prod, "control-plane-backends"), "backendServers")).toEqual(
            [0, 1, 2].map((i) => ({ serverId: `controllers-${i}-id`, weight: 100, type: "ecs" })),
        );
    });

    test("refuses an access list that is empty or open to the internet", () => {
        expect(apiAccessList([], "10.10.0.0/16")).toEqual({
            problems: [expect.stringContaining("adminCidrs must list at least one network")],
        });
        expect(apiAccessList(["0.0.0.0/0"], "10.10.0.0/16")).toEqual({
            problems: ['adminCidrs[0] "0.0.0.0/0" would open the Kubernetes API to the whole internet'],
        });
        expect(apiAccessList(["10.10.1.0/24", "10.10.0.0/16"], "10.10.0.0/16")).toEqual({
            entries: [
                { cidr: "10.10.0.0/16", comment: expect.any(String) },
                { cidr: "10.10.1.0/24", comment: expect.any(String) },
            ],
        });
    });
});

const sha256 = (text: string) => crypto.createHash("sha256").update(text).digest();

describe("secrets", () => {
    /** Every private key and Secret encryption key of a run. */
    function secretsOf(run: ProgramRun): string[] {
        const keys = ofType(run, "tls:index/privateKey:PrivateKey").map((k) => `mock private key of ${k.name}`);
        const encryption = ofType(run, "random:index/randomBytes:RandomBytes").map((r) =>
            Buffer.concat([sha256(r.name), sha256(`${r.name}/2`)]).toString("base64"),
        );
        return [...keys, ...encryption];
    }
    const containsAny = (text: string, secrets: string[]) => secrets.filter((s) => text.includes(s));

    test("no private key or encryption key appears anywhere in plain text: not in inputs, not in outputs", () => {
        // dev: 3 CAs, 10 leaves, a controller's etcd server and peer and kubelet client and serving certificates, the
        // service-account key, the bastion's deploy and host keys, one encryption key; prod adds two controllers' four.
        for (const [run, count] of [
            [dev, 21],
            [prod, 29],
        ] as const) {
            const secrets = secretsOf(run);
            expect(secrets).toHaveLength(count);
            for (const r of run.resources) {
                const visible = withDecodedBase64(stringsOf(maskSecrets(r.inputs)));
                expect({ resource: r.name, leaked: containsAny(visible, secrets) }).toEqual({ resource: r.name, leaked: [] });
            }
            expect(containsAny(withDecodedBase64(stringsOf(maskSecrets(run.outputs))), secrets)).toEqual([]);
            expect(isSecretValue(run.outputs.kubeconfig)).toBe(true);
            expect(isSecretValue(run.outputs.breakGlassKubeconfig)).toBe(true);
            expect(isSecretValue(run.outputs.caCertPem)).toBe(false);
        }
    });

    test("keys reach controllers only through remote commands that proxy through the bastion", () => {
        const bastionAddress = fakePublicIp("eips-bastion");
        const controllerIps = planCluster(stageConfigFromFiles("prod")).controllers.map((c) => c.ip);
        const secrets = secretsOf(prod);
        const carriers = prod.resources.filter(
            (r) => containsAny(withDecodedBase64(stringsOf(revealSecrets(r.inputs))), secrets).length > 0,
        );
        // Outside @pulumi/tls itself, only commands and the Kubernetes provider (its admin kubeconfig) hold keys.
        expect([...new Set(carriers.map((r) => r.type))].sort()).toEqual(
            [
                COMMAND,
                "pulumi:providers:kubernetes",
                "tls:index/certRequest:CertRequest",
                "tls:index/locallySignedCert:LocallySignedCert",
                "tls:index/selfSignedCert:SelfSignedCert",
            ].sort(),
        );
        for (const command of carriers.filter((r) => r.type === COMMAND)) {
            const connection = input(command, "connection");
            expect(isSecretValue(command.inputs.stdin)).toBe(true);
            if (command.name === "control-plane-readiness") {
                // The readiness check runs on the bastion itself and carries only the health-check identity.
                expect(connection).toMatchObject({ host: bastionAddress, user: "core" });
                expect(containsAny(withDecodedBase64(input(command, "stdin")), secrets)).toEqual([
                    "mock private key of pki-healthcheck-key",
                ]);
            } else {
                expect(controllerIps).toContain(connection.host);
                expect(connection.proxy).toMatchObject({ host: bastionAddress, user: "core" });
            }
            // Secrets travel on stdin only: the command line is fixed text.
            expect(["sudo bash -s", "bash -s"]).toContain(input(command, "create"));
        }
    });

    test("each controller gets its own etcd keys, and only its own", () => {
        const stdin = (i: number) => withDecodedBase64(input(named(prod, `control-plane-files-${i}`), "stdin"));
        for (const i of [0, 1, 2]) {
            const others = [0, 1, 2].filter((j) => j !== i);
            expect(stdin(i)).toContain(`mock private key of pki-etcd-peer-${i}-key`);
            expect(stdin(i)).toContain(`mock private key of pki-etcd-server-${i}-key`);
            for (const j of others) {
                expect(stdin(i)).not.toContain(`mock private key of pki-etcd-peer-${j}-key`);
            }
            // The health-check key is the bastion's, never a controller's; no admin key rests on a controller.
            expect(stdin(i)).not.toContain("mock private key of pki-healthcheck-key");
            expect(stdin(i)).not.toContain("mock private key of pki-admin-key");
            expect(stdin(i)).not.toContain("mock private key of pki-break-glass-key");
            expect(stdin(i)).toContain(`mock private key of pki-kubelet-serving-${i}-key`);
        }
        // Only the bootstrap carries the break-glass key, on the first controller, for the time it runs.
        expect(withDecodedBase64(input(named(prod, "control-plane-bootstrap"), "stdin"))).toContain(
            "mock private key of pki-break-glass-key",
        );
        for (const r of prod.resources.filter((r) => r.name !== "control-plane-bootstrap" && !r.type.startsWith("tls:"))) {
            expect({
                r: r.name,
                has: withDecodedBase64(stringsOf(revealSecrets(r.inputs))).includes("mock private key of pki-break-glass-key"),
            }).toEqual({
                r: r.name,
                has: false,
            });
        }
    });
});

describe("order: files, then bootstrap, then readiness, then the provider", () => {
    test("every file delivery waits for the bastion and its controller", () => {
        for (const i of [0, 1, 2]) {
            expect(named(prod, `control-plane-files-${i}`).dependencies).toEqual(
                expect.arrayContaining(["bastion-instance", `controllers-${i}`]),
            );
        }
    });

    test("the bootstrap runs on the first controller once every controller has its files", () => {
        const bootstrap = named(prod, "control-plane-bootstrap");
        expect(input(bootstrap, "connection").host).toBe("10.30.31.250");
        expect(input(bootstrap, "stdin")).toContain(`image='${versions.images.kubectl}'`);
        expect(input(bootstrap, "stdin")).toContain("marker='/var/lib/coreos-platform/bootstrap.done'");
        expect(bootstrap.dependencies).toEqual(
            expect.arrayContaining(["control-plane-files-0", "control-plane-files-1", "control-plane-files-2"]),
        );
    });

    test("readiness waits for the bootstrap and the load balancer; the provider waits for readiness", () => {
        expect(named(prod, "control-plane-readiness").dependencies).toEqual(
            expect.arrayContaining(["control-plane-bootstrap", "control-plane-listener", "control-plane-backends"]),
        );
        const provider = named(prod, "control-plane-provider");
        expect(provider.type).toBe("pulumi:providers:kubernetes");
        expect(provider.dependencies).toEqual(expect.arrayContaining(["control-plane-readiness", "control-plane-eip"]));
    });

    test("the provider and the kubeconfig output talk to https://<apiserver EIP>:6443 as admin", () => {
        const eip = fakePublicIp("eips-apiserver");
        expect(prod.outputs.apiEndpoint).toBe(`https://${eip}:6443`);
        for (const text of [input(named(prod, "control-plane-provider"), "kubeconfig"), revealSecrets(prod.outputs.kubeconfig)]) {
            const kubeconfig = parse(String(text));
            expect(kubeconfig.clusters[0].cluster.server).toBe(`https://${eip}:6443`);
            expect(Buffer.from(kubeconfig.users[0].user["client-key-data"], "base64").toString()).toBe("mock private key of pki-admin-key");
        }
    });
});

describe("re-runs", () => {
    const commandsOf = (run: ProgramRun) => new Map(ofType(run, COMMAND).map((c) => [c.name, JSON.stringify(revealSecrets(c.inputs))]));

    test("a second run with the same config gives every command identical inputs (so pulumi up re-runs none)", async () => {
        const again = await runControlPlane("prod");
        expect(commandsOf(again)).toEqual(commandsOf(prod));
        const comparable = (r: RecordedResource) => JSON.stringify([r.type, r.name, revealSecrets(r.inputs), r.dependencies]);
        expect(again.resources.map(comparable)).toEqual(prod.resources.map(comparable));
    });

    test("a changed pod CIDR re-delivers the controllers' files and nothing else runs again", async () => {
        const changed = await runControlPlane("dev", { podCidr: "10.245.0.0/16" });
        const before = commandsOf(dev);
        const after = commandsOf(changed);
        expect([...after.keys()].filter((k) => after.get(k) !== before.get(k))).toEqual(["control-plane-files-0"]);
    });

    test("another admin network adds one access-list entry and re-runs no command", async () => {
        const changed = await runControlPlane("dev", { adminCidrs: ["203.0.113.0/24", "192.0.2.0/24"] });
        expect(commandsOf(changed)).toEqual(commandsOf(dev));
        const names = (run: ProgramRun) => new Set(run.resources.map((r) => r.name));
        expect([...names(changed)].filter((n) => !names(dev).has(n))).toEqual(["control-plane-acl-192-0-2-0-24"]);
    });
});

describe("arguments", () => {
    // The controllers come as one list (the controller pool's nodes: plan and instance together), so they can no
    // longer disagree with a separate plan; what is left to check is that there is one.
    test("an empty controller list is refused, naming the property", () => {
        const plan = planCluster(stageConfigFromFiles("prod"));
        const controllers = plan.controllers.map((c) => ({ planned: c, instance: undefined as any, connection: { host: c.ip } }));
        expect(controlPlaneArgsProblems({ controllers })).toEqual([]);
        expect(controlPlaneArgsProblems({ controllers: [] })).toEqual(["controllers must list at least one controller"]);
    });
});
