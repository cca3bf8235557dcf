/**
 * The policy pack against crafted violations built from the real components and resource classes: each one is
 * reported, by the policy it breaks and by no other. (program.test.ts runs it against every real stage.)
 */
import * as zlib from "zlib";
import * as alicloud from "@pulumi/alicloud";
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { stageIdentity } from "../../components/common";
import { EipPool } from "../../components/eipPool";
import { Network } from "../../components/network";
import { PROJECT } from "../../config/schema";
import { renderInstallScript } from "../../controlplane";
import { ALIBABA_DEFAULT_EIP_QUOTA } from "../../config/schema";
import { appsDefaultDeny, eipQuota, policies, privateKeyLocations } from "../../policy/policies";
import { limitStackCapture } from "../../stackCapture";
import { RecordedResource, runProgram } from "../../tools/mockRuntime";
import { PolicyRun, runPolicies } from "./adapter";

const policyNames = policies.map((p) => p.name);

// ---- crafted violations ----------------------------------------------------------------------------------

const identity = stageIdentity(PROJECT, "dev");
const KEY_TEXT = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAcrafted0nly4test\n-----END OPENSSH PRIVATE KEY-----\n";

/** A small Ignition config (spec 3.3) with the given files and units, as ECS user data (base64 of the JSON). */
function userData(files: object[] = [], units: object[] = []): string {
    const config = {
        ignition: { version: "3.3.0" },
        storage: { files: [{ path: "/etc/hostname", mode: 420, contents: { source: "data:,node-0" } }, ...files] },
        systemd: { units },
    };
    return Buffer.from(JSON.stringify(config)).toString("base64");
}

function gzipDataUrl(text: string): string {
    return `data:;base64,${zlib.gzipSync(Buffer.from(text)).toString("base64")}`;
}

/** The metrics APIService's spec without its TLS settings, which the crafted cases vary. */
const METRICS_API_SERVICE = {
    group: "metrics.k8s.io",
    version: "v1beta1",
    groupPriorityMinimum: 100,
    versionPriority: 100,
    service: { name: "metrics-server", namespace: "kube-system", port: 443 },
};

/** An Ignition file holding a private key, gzip-compressed (as the program's Ignition writes files), mode 0600. */
function gzippedKeyFile(path: string): object {
    return { path, mode: 384, contents: { source: gzipDataUrl(KEY_TEXT), compression: "gzip" } };
}

/** Stands in for a component of the program, with its type token (the policies recognise components by type). */
class Component extends pulumi.ComponentResource {
    constructor(type: string, name: string) {
        super(type, name, {}, {});
    }
}

type Alicloud = typeof alicloud;

/** A compliant instance's arguments; each crafted violation changes one thing. */
function instanceArgs(vswitchId: pulumi.Input<string>, extra: Partial<alicloud.ecs.InstanceArgs> = {}): alicloud.ecs.InstanceArgs {
    return {
        instanceName: "node",
        imageId: "m-test",
        instanceType: "ecs.g7.large",
        vswitchId,
        internetMaxBandwidthOut: 0,
        systemDiskEncrypted: true,
        userData: userData(),
        ...extra,
    };
}

/**
 * A compliant stage in miniature built from the real EipPool and Network components, plus the resources of
 * `violations` (each named after the policy it must trip).
 */
function craftedProgram(
    violations: (ctx: { ali: Alicloud; network: Network; eips: EipPool; pool: Component }) => void,
): () => Record<string, unknown> {
    return () => {
        limitStackCapture(); // as index.ts does
        const eips = new EipPool("eips", {
            identity,
            claims: [
                { name: "bastion", group: "bastion" },
                { name: "nat", group: "nat" },
                { name: "edge-0", group: "edge" },
            ],
            // The component's own check is not what is tested here; the policy's is.
            quota: 100,
            bandwidthMbps: 10,
            bandwidthByClaim: {},
        });
        const network = new Network("network", {
            identity,
            vpcCidr: "10.10.0.0/16",
            publicVswitch: { zone: "cn-hangzhou-i", cidr: "10.10.0.0/24" },
            nodeVswitches: [
                { zone: "cn-hangzhou-i", cidr: "10.10.16.0/20" },
                { zone: "cn-hangzhou-j", cidr: "10.10.32.0/20" },
            ],
            adminCidrs: ["203.0.113.0/24"],
            // With the metrics rules: none of them may open anything to the internet either.
            observability: true,
            natEip: eips.claim("nat"),
        });
        const vswitch = network.nodeVswitchIds[0];
        const pool = new Component("platform:index:NodePool", "controllers");
        const node = new alicloud.ecs.Instance("compliant-node", instanceArgs(vswitch), { parent: pool });
        new alicloud.ecs.EipAssociation("compliant-eip", {
            allocationId: eips.claim("edge-0").allocationId,
            instanceId: node.id,
            instanceType: "EcsInstance",
        });
        new alicloud.ecs.EcsDisk(
            "compliant-etcd",
            { zoneId: "cn-hangzhou-i", size: 20, encrypted: true, tags: { data: "etcd" } },
            { parent: pool, protect: true },
        );
        new alicloud.ecs.EcsDisk("compliant-scratch", { zoneId: "cn-hangzhou-i", size: 20, encrypted: true, tags: { data: "scratch" } });
        new alicloud.nas.FileSystem(
            "compliant-nas",
            { protocolType: "NFS", storageType: "Capacity", encryptType: 1 },
            { protect: true, retainOnDelete: true },
        );
        // The bastion keeps its own SSH host key in its user data (it runs no pods).
        const hostKeyFile = gzippedKeyFile("/etc/ssh/ssh_host_ed25519_key");
        new alicloud.ecs.Instance(
            "compliant-bastion",
            instanceArgs(vswitch, { userData: userData([hostKeyFile]), tags: { role: "bastion" } }),
        );
        const exportsFile = { path: "/etc/exports", contents: { source: "data:,/var/srv/nfs%2010.10.16.0%2F20(rw,all_squash)%0A" } };
        new alicloud.ecs.Instance("compliant-nfs-node", instanceArgs(vswitch, { userData: userData([exportsFile]) }));
        const rule = { accessGroupName: "nodes", rwAccessType: "RDWR", fileSystemType: "standard" };
        new alicloud.nas.AccessRule("compliant-nas-nodes", {
            ...rule,
            sourceCidrIp: "10.10.16.0/20",
            userAccessType: "all_squash",
            priority: 1,
        });
        new alicloud.nas.AccessRule("compliant-nas-bastion", {
            ...rule,
            sourceCidrIp: "10.10.0.5/32",
            userAccessType: "no_squash",
            priority: 2,
        });
        const bastion = { host: "198.18.0.1", user: "core", hostKey: "ssh-ed25519 AAAAbastion", privateKey: "k" };
        new command.remote.Command("compliant-command", {
            connection: { host: "10.10.16.7", user: "core", hostKey: "ssh-ed25519 AAAAnode", privateKey: "k", proxy: bastion },
            create: "true",
        });
        new tls.CertRequest("pki-break-glass-csr", {
            privateKeyPem: "k",
            subject: { commonName: "break-glass", organization: "system:masters" },
        });
        new tls.CertRequest("pki-admin-csr", {
            privateKeyPem: "k",
            subject: { commonName: "admin", organization: "platform:cluster-admins" },
        });
        new k8s.apiregistration.v1.APIService("compliant-apiservice", { spec: { ...METRICS_API_SERVICE, caBundle: "Q0E=" } });
        new k8s.networking.v1.NetworkPolicy("compliant-apps-default-deny", {
            metadata: { name: "default-deny", namespace: "apps" },
            spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
        });
        new k8s.core.v1.Namespace("compliant-apps", {
            metadata: { name: "apps", labels: { "pod-security.kubernetes.io/enforce": "restricted" } },
        });
        const workload = (args: string[]) => ({
            selector: { matchLabels: { app: "m" } },
            template: { metadata: { labels: { app: "m" } }, spec: { containers: [{ name: "m", image: "m", args }] } },
        });
        new k8s.apps.v1.Deployment("compliant-metrics-server", { spec: workload(["--kubelet-certificate-authority=/ca.crt"]) });
        new k8s.Provider("compliant-provider", { kubeconfig: "apiVersion: v1\nkind: Config\n" });
        new alicloud.ecs.SecurityGroupRule("compliant-http-from-internet", {
            securityGroupId: network.securityGroupIds.edge,
            type: "ingress",
            ipProtocol: "tcp",
            portRange: "80/80",
            cidrIp: "0.0.0.0/0",
        });
        violations({ ali: alicloud, network, eips, pool });
        return {};
    };
}

/** Which policies reported each URN (and the stack-level reports under "stack"). */
function reportsByUrn(result: PolicyRun): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const v of result.violations) {
        const key = v.urn ?? "stack";
        out.set(key, new Set([...(out.get(key) ?? []), v.policy]));
    }
    return out;
}

describe("crafted violations", () => {
    let baseline: RecordedResource[];
    let crafted: RecordedResource[];
    let result: PolicyRun;

    beforeAll(async () => {
        baseline = (await runProgram("dev", { program: craftedProgram(() => undefined) })).resources;
        crafted = (
            await runProgram("dev", {
                program: craftedProgram(({ ali, network, pool }) => {
                    const vswitch = network.nodeVswitchIds[0];
                    const sg = network.securityGroupIds.bastion;
                    const rule = (name: string, args: Partial<alicloud.ecs.SecurityGroupRuleArgs>) =>
                        new ali.ecs.SecurityGroupRule(name, {
                            securityGroupId: sg,
                            type: "ingress",
                            ipProtocol: "tcp",
                            portRange: "22/22",
                            cidrIp: "0.0.0.0/0",
                            ...args,
                        });
                    rule("no-admin-ports-from-internet--ssh", {});
                    rule("no-admin-ports-from-internet--api-all-protocols", { ipProtocol: "all", portRange: "-1/-1" });
                    rule("no-admin-ports-from-internet--api-in-a-range", { portRange: "1/65535" });
                    rule("no-admin-ports-from-internet--half-the-internet", { cidrIp: "128.0.0.0/1", portRange: "6443/6443" });
                    rule("no-admin-ports-from-internet--ipv6", { cidrIp: undefined, ipv6CidrIp: "::/0" });

                    new ali.ecs.Instance("no-fixed-public-ip--bandwidth", instanceArgs(vswitch, { internetMaxBandwidthOut: 10 }));
                    new ali.slb.ApplicationLoadBalancer("no-fixed-public-ip--internet-slb", {
                        loadBalancerName: "x",
                        addressType: "internet",
                        vswitchId: vswitch,
                    });

                    const stray = new ali.ecs.EipAddress("eip-only-from-pool--stray-eip", { bandwidth: "5" });
                    const node = new ali.ecs.Instance("crafted-node", instanceArgs(vswitch));
                    new ali.ecs.EipAssociation("eip-only-from-pool--literal-allocation", {
                        allocationId: "eip-bp1existing",
                        instanceId: node.id,
                    });
                    new ali.ecs.EipAssociation("eip-only-from-pool--stray-allocation", { allocationId: stray.id, instanceId: node.id });

                    new ali.ecs.Instance("disks-encrypted--system", instanceArgs(vswitch, { systemDiskEncrypted: false }));
                    new ali.ecs.Instance(
                        "disks-encrypted--data-disk",
                        instanceArgs(vswitch, { dataDisks: [{ size: 20, encrypted: false }] }),
                    );
                    new ali.ecs.EcsDisk("disks-encrypted--cloud-disk", {
                        zoneId: "cn-hangzhou-i",
                        size: 20,
                        encrypted: false,
                        tags: { data: "scratch" },
                    });

                    new ali.ecs.EcsDisk("data-stores-protected--etcd-tag", {
                        zoneId: "cn-hangzhou-i",
                        size: 20,
                        encrypted: true,
                        tags: { data: "etcd" },
                    });
                    new ali.ecs.EcsDisk("data-stores-protected--nfs-tag", {
                        zoneId: "cn-hangzhou-i",
                        size: 20,
                        encrypted: true,
                        tags: { data: "nfs" },
                    });
                    new ali.ecs.EcsDisk(
                        "data-stores-protected--controllers-disk-untagged",
                        { zoneId: "cn-hangzhou-i", size: 20, encrypted: true },
                        { parent: pool },
                    );
                    new ali.nas.FileSystem("data-stores-protected--nas", { protocolType: "NFS", storageType: "Capacity", encryptType: 1 });

                    const big = { path: "/etc/big", mode: 420, contents: { source: `data:,${"x".repeat(17000)}` } };
                    new ali.ecs.Instance("user-data-within-budget--17k", instanceArgs(vswitch, { userData: userData([big]) }));

                    const keyFile = gzippedKeyFile("/etc/ssh/leaked");
                    new ali.ecs.Instance(
                        "user-data-without-private-keys--gzip-file",
                        instanceArgs(vswitch, { userData: userData([keyFile]) }),
                    );
                    const unit = {
                        name: "leak.service",
                        enabled: true,
                        contents: `[Service]\nExecStart=/bin/sh -c 'echo "${KEY_TEXT.replace(/\n/g, "\\\\n")}"'\n`,
                    };
                    new ali.ecs.Instance("user-data-without-private-keys--unit", instanceArgs(vswitch, { userData: userData([], [unit]) }));
                    const percent = {
                        path: "/etc/pki/key.pem",
                        mode: 384,
                        contents: { source: `data:,${encodeURIComponent(KEY_TEXT.replace("OPENSSH ", "RSA "))}` },
                    };
                    new ali.ecs.Instance(
                        "user-data-without-private-keys--percent-encoded",
                        instanceArgs(vswitch, { userData: userData([percent]) }),
                    );
                    // The host key file is allowed on the bastion only.
                    const hostKey = gzippedKeyFile("/etc/ssh/ssh_host_ed25519_key");
                    new ali.ecs.Instance(
                        "user-data-without-private-keys--worker-host-key",
                        instanceArgs(vswitch, { userData: userData([hostKey]) }),
                    );

                    const bastionHop = { host: "198.18.0.1", user: "core", hostKey: "ssh-ed25519 AAAAbastion", privateKey: "k" };
                    new command.remote.Command("ssh-host-keys-verified--no-host-key", {
                        connection: { host: "10.10.16.7", user: "core", privateKey: "k", proxy: bastionHop },
                        create: "true",
                    });
                    new command.remote.Command("ssh-host-keys-verified--unverified-bastion", {
                        connection: {
                            host: "10.10.16.7",
                            user: "core",
                            hostKey: "ssh-ed25519 AAAAnode",
                            privateKey: "k",
                            proxy: { ...bastionHop, hostKey: undefined },
                        },
                        create: "true",
                    });

                    new tls.CertRequest("system-masters-only-break-glass--admin-csr", {
                        privateKeyPem: "k",
                        subject: { commonName: "admin", organization: "system:masters" },
                    });

                    const apiService = METRICS_API_SERVICE;
                    new k8s.apiregistration.v1.APIService("kubernetes-tls-verified--skip", {
                        spec: { ...apiService, insecureSkipTLSVerify: true },
                    });
                    new k8s.apiregistration.v1.APIService("kubernetes-tls-verified--no-ca-bundle", { spec: apiService });
                    new k8s.apps.v1.Deployment("kubernetes-tls-verified--insecure-kubelet", {
                        spec: {
                            selector: { matchLabels: { app: "m" } },
                            template: {
                                metadata: { labels: { app: "m" } },
                                spec: { containers: [{ name: "m", image: "m", args: ["--kubelet-insecure-tls"] }] },
                            },
                        },
                    });
                    new k8s.Provider("kubernetes-tls-verified--provider", {
                        kubeconfig: "clusters:\n- cluster:\n    insecure-skip-tls-verify: true\n",
                    });

                    new ali.nas.AccessRule("shared-storage-squashes-clients--nas-no-squash", {
                        accessGroupName: "nodes",
                        sourceCidrIp: "10.10.16.0/20",
                        rwAccessType: "RDWR",
                        userAccessType: "no_squash",
                        priority: 3,
                        fileSystemType: "standard",
                    });
                    const exportsFile = {
                        path: "/etc/exports",
                        contents: { source: "data:,/var/srv/nfs%2010.10.16.0%2F20(rw,no_root_squash)%0A" },
                    };
                    // The export list as it reaches the NFS node today: over SSH, by the one install script.
                    new command.remote.Command("shared-storage-squashes-clients--exports-over-ssh", {
                        connection: {
                            host: "10.10.16.9",
                            user: "core",
                            hostKey: "ssh-ed25519 AAAAnfs",
                            privateKey: "k",
                            proxy: bastionHop,
                        },
                        create: "sudo bash -s",
                        stdin: renderInstallScript({
                            target: "NFS server crafted",
                            files: [
                                {
                                    path: "/etc/exports",
                                    mode: "0644",
                                    content: "/var/srv/nfs 10.10.16.0/20(rw,no_root_squash)\n",
                                    containerReadable: false,
                                },
                            ],
                        }),
                    });
                    new ali.ecs.Instance(
                        "shared-storage-squashes-clients--exports",
                        instanceArgs(vswitch, { userData: userData([exportsFile]) }),
                    );

                    new k8s.core.v1.Namespace("apps-namespace-restricted--baseline", {
                        metadata: { name: "apps", labels: { "pod-security.kubernetes.io/enforce": "baseline" } },
                    });
                }),
            })
        ).resources;
        result = await runPolicies(crafted, policies);
    });

    test("the compliant baseline, built from the real components, violates nothing", async () => {
        const clean = await runPolicies(baseline, policies);
        expect(clean.violations).toEqual([]);
        for (const name of policyNames) {
            expect(clean.inspected.get(name) ?? 0).toBeGreaterThan(0);
        }
    });

    test("every crafted resource is reported by exactly the policy it breaks", () => {
        const reports = reportsByUrn(result);
        const craftedResources = crafted.filter((r) => r.name.includes("--"));
        expect(craftedResources.length).toBeGreaterThanOrEqual(20);
        for (const r of craftedResources) {
            const expected = r.name.split("--")[0];
            expect(policyNames).toContain(expected);
            expect([r.name, [...(reports.get(r.urn) ?? [])]]).toEqual([r.name, [expected]]);
        }
        // Nothing else is reported, except the stack-wide EIP count (the stray EIP is a 4th: still within 20).
        const reported = new Set(craftedResources.map((r) => r.urn));
        expect([...reports.keys()].filter((urn) => !reported.has(urn))).toEqual([]);
    });

    test("messages name the resource and never print key material", () => {
        for (const v of result.violations) {
            expect(v.message).not.toContain("b3BlbnNzaC1rZXktdjEAAAAAcrafted0nly4test");
            const resource = crafted.find((r) => r.urn === v.urn);
            expect(v.message).toContain(resource!.name);
        }
        const leak = result.violations.find((v) => v.urn?.endsWith("--gzip-file"));
        expect(leak?.message).toContain("/etc/ssh/leaked");
    });

    test("eip-quota: more EIPs than the configured quota is reported; the default quota is 20", async () => {
        const eipCount = baseline.filter((r) => r.type === "alicloud:ecs/eipAddress:EipAddress").length;
        expect(eipCount).toBe(3);
        expect((await runPolicies(baseline, [eipQuota], { "eip-quota": { quota: 3 } })).violations).toEqual([]);
        const over = await runPolicies(baseline, [eipQuota], { "eip-quota": { quota: 2 } });
        expect(over.violations.map((v) => v.policy)).toEqual(["eip-quota"]);

        // 21 pool EIPs against no config at all: the policy's own default applies.
        const many = await runProgram("dev", {
            program: () => {
                new EipPool("eips", {
                    identity,
                    claims: Array.from({ length: ALIBABA_DEFAULT_EIP_QUOTA + 1 }, (_, i) => ({ name: `edge-${i}`, group: "edge" })),
                    quota: 100,
                    bandwidthMbps: 10,
                    bandwidthByClaim: {},
                });
                return {};
            },
        });
        const defaulted = await runPolicies(many.resources, [eipQuota]);
        expect(defaulted.violations).toHaveLength(1);
        expect(defaulted.violations[0].message).toContain("quota is 20");
    });
});

test("apps-default-deny: an apps namespace whose policies only allow is reported, naming the namespace", async () => {
    const run = await runProgram("dev", {
        program: () => {
            new k8s.core.v1.Namespace("apps-namespace", {
                metadata: { name: "apps", labels: { "pod-security.kubernetes.io/enforce": "restricted" } },
            });
            // Selects every pod but allows everything in: no default deny.
            new k8s.networking.v1.NetworkPolicy("allow-all", {
                metadata: { name: "allow-all", namespace: "apps" },
                spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [{}], egress: [{}] },
            });
            return {};
        },
    });
    const result = await runPolicies(run.resources, [appsDefaultDeny]);
    expect(result.violations.map((v) => [v.policy, v.message])).toEqual([
        [
            "apps-default-deny",
            "namespace apps (apps-namespace) has no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)",
        ],
    ]);
});

describe("privateKeyLocations", () => {
    test("finds a key in a gzip-compressed file and names the file, not the key", () => {
        const config = JSON.stringify({
            ignition: { version: "3.3.0" },
            storage: { files: [{ path: "/k", contents: { source: gzipDataUrl(KEY_TEXT), compression: "gzip" } }] },
        });
        expect(config).not.toContain("PRIVATE KEY");
        expect(privateKeyLocations(config)).toEqual(["file /k"]);
    });

    test("public keys and certificates are not private keys", () => {
        const config = JSON.stringify({
            ignition: { version: "3.3.0" },
            passwd: { users: [{ name: "core", sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGhN core"] }] },
            storage: { files: [{ path: "/ca.crt", contents: { source: "data:,-----BEGIN%20CERTIFICATE-----%0A" } }] },
        });
        expect(privateKeyLocations(config)).toEqual([]);
    });

    test("text that is not JSON is still searched", () => {
        expect(privateKeyLocations(`#!/bin/sh\n${KEY_TEXT}`)).toEqual(["the config text"]);
    });
});
