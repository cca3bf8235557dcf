/**
 * The spine under the mock runtime with the real stage files: every stage builds, names never collide between
 * stages, the security policy is exactly docs/design.md's table, and runs are deterministic and stable.
 */
import { listStages, stageConfigFromFiles } from "../../tools/stageFiles";
import { ALIBABA_HEALTH_CHECK_CIDR } from "../../components/network";
import { cidr, contains } from "../../config/cidr";
import { ProgramRun, isSecretValue, revealSecrets } from "../../tools/mockRuntime";
import { renderResources } from "../../tools/render";
import { diffRuns, ofType, runStage } from "./helpers";

const runs = new Map<string, ProgramRun>();
beforeAll(async () => {
    for (const stage of listStages()) {
        runs.set(stage, await runStage(stage));
    }
});

/** Input keys that hold a resource's own physical name. */
const OWN_NAME_KEYS: Record<string, string[]> = {
    "alicloud:vpc/network:Network": ["vpcName"],
    "alicloud:vpc/switch:Switch": ["vswitchName"],
    "alicloud:vpc/natGateway:NatGateway": ["natGatewayName"],
    "alicloud:vpc/snatEntry:SnatEntry": ["snatEntryName"],
    "alicloud:ecs/securityGroup:SecurityGroup": ["securityGroupName"],
    "alicloud:ecs/eipAddress:EipAddress": ["addressName"],
    "alicloud:ecs/instance:Instance": ["instanceName", "hostName"],
    "alicloud:ecs/ecsDisk:EcsDisk": ["diskName"],
    "alicloud:ecs/imageImport:ImageImport": ["imageName"],
    "alicloud:ecs/autoSnapshotPolicy:AutoSnapshotPolicy": ["autoSnapshotPolicyName"],
    "alicloud:nas/accessGroup:AccessGroup": ["accessGroupName"],
    "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer": ["loadBalancerName"],
    "alicloud:slb/acl:Acl": ["name", "aclName"],
    "alicloud:oss/bucket:Bucket": ["bucket"],
};

function physicalNames(run: ProgramRun): string[] {
    return run.resources.flatMap((r) =>
        (OWN_NAME_KEYS[r.type] ?? []).map((k) => r.inputs[k]).filter((v): v is string => typeof v === "string"),
    );
}

test("every stage builds, and every named resource carries the project and the stage in its name", () => {
    expect([...runs.keys()]).toEqual(expect.arrayContaining(["dev", "staging", "prod"]));
    for (const [stage, run] of runs) {
        const names = physicalNames(run);
        expect(names.length).toBeGreaterThan(20);
        for (const name of names) {
            expect(name.startsWith(`coreos-platform-${stage}-`)).toBe(true);
        }
    }
});

test("no physical name is shared between two stages", () => {
    const owner = new Map<string, string>();
    for (const [stage, run] of runs) {
        for (const name of new Set(physicalNames(run))) {
            expect(owner.get(name) ?? stage).toBe(stage);
            owner.set(name, stage);
        }
    }
});

describe("security groups", () => {
    /** Turns a recorded rule into "group proto ports <- source". */
    function describeRules(run: ProgramRun): string[] {
        const groupOf = new Map(
            ofType(run, "alicloud:ecs/securityGroup:SecurityGroup").map((g) => [
                `${g.name}-id`,
                String(g.inputs.securityGroupName).replace(/^coreos-platform-[a-z0-9-]+?-(bastion|nodes|controllers|edge|nfs)$/, "$1"),
            ]),
        );
        return ofType(run, "alicloud:ecs/securityGroupRule:SecurityGroupRule")
            .map((r) => {
                const i = r.inputs as Record<string, string>;
                const source = i.cidrIp ?? `group:${groupOf.get(i.sourceSecurityGroupId)}`;
                expect(i.type).toBe("ingress");
                expect(i.policy).toBe("accept");
                return `${groupOf.get(i.securityGroupId)} ${i.ipProtocol} ${i.portRange} <- ${source}`;
            })
            .sort();
    }

    test.each(["dev", "staging", "prod"])("%s has exactly the rules of docs/design.md", (stage) => {
        const cfg = stageConfigFromFiles(stage);
        const admins = cfg.network.adminCidrs;
        const expected = [
            ...admins.map((c) => `bastion tcp 22/22 <- ${c}`),
            "nodes tcp 22/22 <- group:bastion",
            ...admins.map((c) => `controllers tcp 6443/6443 <- ${c}`),
            "controllers tcp 6443/6443 <- group:nodes",
            "controllers tcp 6443/6443 <- group:bastion",
            `controllers tcp 6443/6443 <- ${ALIBABA_HEALTH_CHECK_CIDR}`,
            "controllers tcp 2379/2380 <- group:controllers",
            "nodes tcp 10250/10250 <- group:controllers",
            "nodes udp 8472/8472 <- group:nodes",
            "edge tcp 80/80 <- 0.0.0.0/0",
            "edge tcp 443/443 <- 0.0.0.0/0",
            ...(cfg.storage.kind === "nfs-server" ? ["nfs tcp 2049/2049 <- group:nodes", "nfs tcp 22/22 <- group:bastion"] : []),
            // Observability (on in staging and prod): Prometheus on a node scrapes these, from the nodes only.
            ...(cfg.observability.enabled
                ? [
                      "nodes tcp 10250/10250 <- group:nodes",
                      "nodes tcp 9100/9100 <- group:nodes",
                      "controllers tcp 2381/2381 <- group:nodes",
                      "controllers tcp 10257/10257 <- group:nodes",
                      "controllers tcp 10259/10259 <- group:nodes",
                      "edge tcp 10254/10254 <- group:nodes",
                      "bastion tcp 9100/9100 <- group:nodes",
                      ...(cfg.storage.kind === "nfs-server" ? ["nfs tcp 9100/9100 <- group:nodes"] : []),
                  ]
                : []),
        ].sort();
        expect(describeRules(runs.get(stage)!)).toEqual(expected);
    });

    test.each(["dev", "staging", "prod"])(
        "%s: from outside the VPC, only edge 80/443 and bastion SSH / API from admin networks",
        (stage) => {
            const cfg = stageConfigFromFiles(stage);
            const vpc = cidr(cfg.network.vpcCidr);
            const inside = (c: string) => contains(vpc, cidr(c)) || c === ALIBABA_HEALTH_CHECK_CIDR;
            for (const rule of describeRules(runs.get(stage)!)) {
                const [group, , ports, , source] = rule.split(" ");
                if (source.startsWith("group:") || inside(source)) {
                    continue;
                }
                const allowed =
                    (group === "edge" && (ports === "80/80" || ports === "443/443")) ||
                    (cfg.network.adminCidrs.includes(source) &&
                        ((group === "bastion" && ports === "22/22") || (group === "controllers" && ports === "6443/6443")));
                expect({ rule, allowed }).toEqual({ rule, allowed: true });
            }
        },
    );

    test("instances get public addresses only from pool EIPs", () => {
        for (const run of runs.values()) {
            for (const instance of ofType(run, "alicloud:ecs/instance:Instance")) {
                expect(instance.inputs.internetMaxBandwidthOut).toBe(0);
            }
        }
    });
});

describe("determinism and stability", () => {
    test("two runs give identical resources, byte for byte", async () => {
        const again = await runStage("staging");
        expect(JSON.stringify(renderResources(again))).toBe(JSON.stringify(renderResources(runs.get("staging")!)));
    });

    test("adding one edge node adds its EIP, association, instance, host key, join and OS-updates switch, and changes nothing else", async () => {
        const before = await runStage("dev", { edge: { count: 1 } });
        const after = await runStage("dev", { edge: { count: 2 } });
        const diff = diffRuns(before, after);
        expect(diff.removed).toEqual([]);
        expect(diff.changed).toEqual([]);
        expect(diff.added).toEqual(
            [
                "alicloud:ecs/eipAddress:EipAddress::eips-edge-1",
                "alicloud:ecs/eipAssociation:EipAssociation::edge-1-eip",
                "alicloud:ecs/instance:Instance::edge-1",
                "command:remote:Command::edge-1-host-key",
                "command:remote:Command::edge-1-join-request",
                "tls:index/locallySignedCert:LocallySignedCert::edge-1-kubelet-client",
                "tls:index/locallySignedCert:LocallySignedCert::edge-1-kubelet-serving",
                "command:remote:Command::edge-1-join",
                "command:remote:Command::edge-1-joined",
                "command:remote:Command::edge-1-ssh-keys",
                "command:remote:Command::os-updates-edge-1",
            ].sort(),
        );
    });

    test("removing the last edge node removes only its own resources", async () => {
        const before = await runStage("prod");
        const after = await runStage("prod", { edge: { count: 3, instanceType: "ecs.c7.xlarge" } });
        const diff = diffRuns(before, after);
        expect(diff.changed).toEqual([]);
        expect(diff.added).toEqual([]);
        expect(diff.removed.every((k) => /edge-3/.test(k))).toBe(true);
        expect(diff.removed).toContain("alicloud:ecs/eipAddress:EipAddress::eips-edge-3");
    });

    test("scaling workers 3 -> 4 adds exactly one instance, its host key, its join (requests, two certificates for its name, delivery, cleanup), team keys and OS updates on, nothing else changes", async () => {
        const before = await runStage("staging");
        const after = await runStage("staging", { workers: { count: 4 } });
        const diff = diffRuns(before, after);
        expect(diff).toEqual({
            added: [
                "alicloud:ecs/instance:Instance::workers-3",
                "command:remote:Command::os-updates-worker-3",
                "command:remote:Command::workers-3-host-key",
                "command:remote:Command::workers-3-join",
                "command:remote:Command::workers-3-join-request",
                "command:remote:Command::workers-3-joined",
                "command:remote:Command::workers-3-ssh-keys",
                "tls:index/locallySignedCert:LocallySignedCert::workers-3-kubelet-client",
                "tls:index/locallySignedCert:LocallySignedCert::workers-3-kubelet-serving",
            ],
            removed: [],
            changed: [],
        });
    });

    test("a new team key changes the key files in place on every node and replaces no instance", async () => {
        const before = await runStage("dev");
        const keys = [
            ...stageConfigFromFiles("dev").sshAuthorizedKeys,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMPkJ8R3vP6qD1pQv2b3Pq8Zt4uLwYx0aBcDeFgHiJkL new@example.com",
        ];
        const after = await runStage("dev", { sshAuthorizedKeys: keys });
        const diff = diffRuns(before, after);
        expect(diff.added).toEqual([]);
        expect(diff.removed).toEqual([]);
        expect(diff.changed.length).toBeGreaterThan(0);
        expect(diff.changed.every((k) => k.startsWith("command:remote:Command::") && k.endsWith("-ssh-keys"))).toBe(true);
        expect(diff.changed).toHaveLength(ofType(after, "alicloud:ecs/instance:Instance").length);
    });

    test("rolling one controller lifts its guard alone; the others keep what they were created with", async () => {
        const run = await runStage("prod", { controllers: { count: 3, instanceType: "ecs.g7.xlarge", etcdDiskGb: 50, roll: [1] } });
        const controllers = ofType(run, "alicloud:ecs/instance:Instance").filter((r) => r.parent === "controllers");
        for (const c of controllers) {
            const rolling = c.name === "controllers-1";
            expect({ name: c.name, ignoreChanges: c.ignoreChanges.length > 0, replaceOnChanges: c.replaceOnChanges }).toEqual({
                name: c.name,
                ignoreChanges: !rolling,
                replaceOnChanges: rolling ? ["userData", "imageId"] : [],
            });
            expect(c.deleteBeforeReplace).toBe(true);
        }
    });

    test("a worker setting changes worker user data but no controller input", async () => {
        const before = await runStage("staging");
        const after = await runStage("staging", { workers: { count: 3, labels: { "node.kubernetes.io/pool": "general" } } });
        const diff = diffRuns(before, after);
        expect(diff.added).toEqual([]);
        expect(diff.removed).toEqual([]);
        expect(diff.changed).toEqual([
            "alicloud:ecs/instance:Instance::workers-0",
            "alicloud:ecs/instance:Instance::workers-1",
            "alicloud:ecs/instance:Instance::workers-2",
        ]);
    });
});

describe("what protects state", () => {
    test("controllers are never replaced by a routine update; etcd disks are protected; workers are replaced", () => {
        const run = runs.get("prod")!;
        const instances = ofType(run, "alicloud:ecs/instance:Instance");
        for (const c of instances.filter((r) => r.parent === "controllers")) {
            expect(c.ignoreChanges.sort()).toEqual(["imageId", "instanceType", "systemDiskCategory", "systemDiskSize", "userData"]);
            expect(c.replaceOnChanges).toEqual([]);
        }
        for (const w of instances.filter((r) => r.parent === "workers" || r.parent === "edge")) {
            expect(w.replaceOnChanges).toEqual(["userData", "imageId"]);
        }
        const etcdDisks = ofType(run, "alicloud:ecs/ecsDisk:EcsDisk").filter((d) => d.parent === "controllers");
        expect(etcdDisks).toHaveLength(3);
        for (const d of etcdDisks) {
            expect(d.protect).toBe(true);
            expect(d.inputs.encrypted).toBe(true);
        }
        expect(ofType(run, "alicloud:ecs/ecsAutoSnapshotPolicyAttachment:EcsAutoSnapshotPolicyAttachment")).toHaveLength(3);
    });

    test("a replaced node gets its files again: every delivery over SSH is triggered by its instance's id", () => {
        const run = runs.get("prod")!;
        const commands = ofType(run, "command:remote:Command");
        for (const c of commands.filter((r) => /-files-\d+$/.test(r.name))) {
            const i = /-files-(\d+)$/.exec(c.name)![1];
            expect(c.inputs.triggers).toEqual([`controllers-${i}-id`]);
        }
        for (const c of commands.filter((r) => r.name.endsWith("-join"))) {
            expect(c.inputs.triggers).toEqual([`${c.name.replace(/-join$/, "")}-id`]);
        }
        // Per controller its control-plane files and its etcd backup scripts; per worker and edge node its join.
        expect(commands.filter((r) => /-files-\d+$|-join$/.test(r.name))).toHaveLength(3 + 3 + 6 + 4);
    });

    test("every file a node receives over SSH goes through the one install script; what carries a secret stays secret", () => {
        for (const [stage, run] of runs) {
            const deliveries = ofType(run, "command:remote:Command").filter((c) => /-files-\d+$|-join$|-ssh-keys$|-exports$/.test(c.name));
            const cfg = stageConfigFromFiles(stage);
            const nfs = cfg.storage.kind === "nfs-server" ? 1 : 0;
            const nodes = 1 + cfg.controllers.count + cfg.workers.count + cfg.edge.count + nfs;
            // Team keys on every node; per controller its control-plane files and backup scripts; joins; the NFS exports.
            expect(deliveries).toHaveLength(nodes + 2 * cfg.controllers.count + cfg.workers.count + cfg.edge.count + nfs);
            for (const c of deliveries) {
                // Controllers' files carry their keys; a join carries only certificates (the node made its own keys).
                const secret = c.name.startsWith("control-plane-files-");
                const stdin = String(revealSecrets(c.inputs.stdin));
                if (!secret)
                    expect({ command: c.name, key: /private key|PRIVATE KEY/.test(stdin) }).toEqual({ command: c.name, key: false });
                expect({
                    command: c.name,
                    create: c.inputs.create,
                    script: stdin.split("\n").slice(0, 2).join(" "),
                    secret: isSecretValue(c.inputs.stdin),
                }).toEqual({
                    command: c.name,
                    create: "sudo bash -s",
                    script: expect.stringMatching(
                        /^#!\/bin\/bash # Installs \d+ files on (controller|worker|edge|bastion|NFS server) coreos-platform-/,
                    ),
                    secret,
                });
                expect(stdin).toContain("set -Eeuo pipefail");
            }
        }
    });

    test("shared storage holding data is protected and retained", () => {
        const nas = ofType(runs.get("prod")!, "alicloud:nas/fileSystem:FileSystem");
        expect(nas).toHaveLength(1);
        expect(nas[0].protect && nas[0].retainOnDelete).toBe(true);
        const nfsDisk = ofType(runs.get("dev")!, "alicloud:ecs/ecsDisk:EcsDisk").filter((d) => d.parent === "storage");
        expect(nfsDisk).toHaveLength(1);
        expect(nfsDisk[0].protect).toBe(true);
    });
});
