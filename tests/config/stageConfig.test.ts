/**
 * The stage-config loader: every rule, tested with a bad value laid over a real stage file, checking that the
 * message names the key, the value and the rule. The real stage files must load.
 */
import { parseStageConfig } from "../../config";
import { expectProblem, key, problemsOf } from "./helpers";
import { cidr, contains, overlaps } from "../../config/cidr";
import { vswitchLayout } from "../../config/vswitches";
import { listStages, stageConfigFromFiles } from "../../tools/stageFiles";

describe("the real stage files", () => {
    test.each(listStages())("%s loads and is frozen", (stage) => {
        const cfg = stageConfigFromFiles(stage);
        expect(cfg.stage).toBe(stage);
        expect(Object.isFrozen(cfg)).toBe(true);
        expect(Object.isFrozen(cfg.workers)).toBe(true);
        expect(() => ((cfg.workers as { count: number }).count = 99)).toThrow();
    });

    test("the three stages exist", () => {
        expect(listStages()).toEqual(expect.arrayContaining(["dev", "staging", "prod"]));
    });

    test("defaults fill the fields a stage file leaves out", () => {
        const cfg = stageConfigFromFiles("dev");
        // Pulumi.dev.yaml sets edge.count only implicitly and no controllers block at all.
        expect(cfg.controllers.count).toBe(1);
        expect(cfg.edge.instanceType).toMatch(/^ecs\./);
        expect(cfg.pki.caValidityDays).toBeGreaterThan(cfg.pki.certValidityDays);
    });

    test("the cluster DNS address is the 10th address of the service CIDR", () => {
        const cfg = stageConfigFromFiles("dev", { [key("serviceCidr")]: "172.20.0.0/16" });
        expect(cfg.cluster.dnsServiceIp).toBe("172.20.0.10");
        expect(cfg.cluster.apiServiceIp).toBe("172.20.0.1");
    });
});

describe("CIDR rules", () => {
    test("a malformed CIDR is named with its value", () => {
        expectProblem({ [key("vpcCidr")]: "10.10.0.0/33" }, "vpcCidr", '"10.10.0.0/33"', "valid IPv4 CIDR");
        expectProblem({ [key("podCidr")]: "ten.0.0.0/8" }, "podCidr", '"ten.0.0.0/8"', "not an IPv4 CIDR");
    });

    test("host bits set are refused with the network meant", () => {
        expectProblem({ [key("vpcCidr")]: "10.10.3.0/16" }, "vpcCidr", "host bits", "10.10.0.0/16");
    });

    // The vSwitch CIDRs were keys once (publicVswitchCidr, nodeVswitchCidrs); they derive from vpcCidr now, so
    // the rules "inside the VPC" and "no overlap" hold by construction and are checked here on the derivation.
    test("the vSwitches derive from the VPC: the committed stages keep the vSwitches they had", () => {
        const vswitches = (stage: string) => {
            const network = stageConfigFromFiles(stage).network;
            return [network.publicVswitch, ...network.nodeVswitches].map((v) => `${v.zone} ${v.cidr}`);
        };
        expect(vswitches("dev")).toEqual(["cn-hangzhou-i 10.10.0.0/24", "cn-hangzhou-i 10.10.16.0/20", "cn-hangzhou-j 10.10.32.0/20"]);
        expect(vswitches("staging")).toEqual([
            "cn-hangzhou-i 10.20.0.0/24",
            "cn-hangzhou-i 10.20.16.0/20",
            "cn-hangzhou-j 10.20.32.0/20",
            "cn-hangzhou-k 10.20.48.0/20",
        ]);
        expect(vswitches("prod")).toEqual([
            "cn-hangzhou-i 10.30.0.0/24",
            "cn-hangzhou-i 10.30.16.0/20",
            "cn-hangzhou-j 10.30.32.0/20",
            "cn-hangzhou-k 10.30.48.0/20",
        ]);
    });

    test.each([
        ["10.0.0.0/8", 15, "10.0.0.0/24", "10.16.0.0/16", "10.240.0.0/16"],
        ["172.16.0.0/12", 3, "172.16.0.0/24", "172.17.0.0/16", "172.19.0.0/16"],
        ["192.168.0.0/20", 2, "192.168.0.0/28", "192.168.1.0/24", "192.168.2.0/24"],
        ["192.168.7.0/24", 15, "192.168.7.0/29", "192.168.7.16/28", "192.168.7.240/28"],
    ])(
        "a %s VPC with %d zones gets vSwitches inside it, apart, within Alibaba's /16 to /29",
        (vpcText, zones, publicText, firstNode, lastNode) => {
            const vpc = cidr(vpcText);
            const layout = vswitchLayout(vpc, zones);
            const all = [layout.publicVswitch, ...layout.nodeVswitches];
            expect([layout.publicVswitch.text, layout.nodeVswitches[0].text, layout.nodeVswitches[zones - 1].text]).toEqual([
                publicText,
                firstNode,
                lastNode,
            ]);
            all.forEach((a, i) => {
                expect({ vswitch: a.text, inside: contains(vpc, a), prefixOk: a.prefix >= 16 && a.prefix <= 29 }).toEqual({
                    vswitch: a.text,
                    inside: true,
                    prefixOk: true,
                });
                for (const b of all.slice(i + 1)) {
                    expect({ a: a.text, b: b.text, overlap: overlaps(a, b) }).toEqual({ a: a.text, b: b.text, overlap: false });
                }
            });
        },
    );

    test("a stage file that still sets a removed key is told what to do", () => {
        expectProblem(
            { [key("nodeVswitchCidrs")]: ["10.10.16.0/20", "10.10.32.0/20"] },
            "nodeVswitchCidrs",
            "was removed: the vSwitches are derived from vpcCidr",
        );
        expectProblem({ [key("clusterDomain")]: "cluster.local" }, "clusterDomain", "always cluster.local");
        expectProblem({ [key("ingress")]: { mode: "hostNetwork" } }, "ingress.mode", "was removed");
        expectProblem(
            { [key("storage")]: { kind: "nfs-server", keepDataOnDestroy: false } },
            "storage.keepDataOnDestroy",
            "the top-level key keepDataOnDestroy",
        );
    });

    test("pod or service CIDR overlapping the VPC or each other", () => {
        expectProblem({ [key("podCidr")]: "10.10.128.0/17" }, "podCidr", "overlaps vpcCidr 10.10.0.0/16");
        expectProblem({ [key("serviceCidr")]: "10.244.128.0/24" }, "serviceCidr", "overlaps podCidr 10.244.0.0/16");
        expectProblem({ [key("serviceCidr")]: "100.100.0.0/16" }, "serviceCidr", "100.64.0.0/10");
    });

    test("the pod network must hold a /24 per node", () => {
        expectProblem({ [key("podCidr")]: "10.244.0.0/23", [key("workers")]: { count: 5 } }, "podCidr", "7 nodes need 7 /24s");
    });

    test("admin CIDRs never open SSH and the API to the internet", () => {
        expectProblem({ [key("adminCidrs")]: ["0.0.0.0/0"] }, "adminCidrs[0]", '"0.0.0.0/0"', "never be open to the internet");
    });
});

describe("zones and pools", () => {
    test("fewer than two zones", () => {
        expectProblem({ [key("zones")]: ["cn-hangzhou-i"] }, "zones", "at least two different zones");
    });

    test("a zone of another region", () => {
        expectProblem(
            { [key("zones")]: ["cn-hangzhou-i", "cn-beijing-a"] },
            "zones[1]",
            '"cn-beijing-a"',
            "not a zone of region cn-hangzhou",
        );
    });

    test("at most 15 zones, one vSwitch each beside the public one", () => {
        const zones = Array.from({ length: 16 }, (_, i) => `cn-hangzhou-z${i}`);
        expectProblem({ [key("zones")]: zones }, "zones", "at most 15 zones");
    });

    test("node counts out of range", () => {
        expectProblem({ [key("controllers")]: { count: 4 } }, "controllers.count", "4", "1, 3 or 5");
        expectProblem({ [key("workers")]: { count: 1001 } }, "workers.count", "1001", "between 0 and 1000");
        expectProblem({ [key("edge")]: { count: -1 } }, "edge.count", "-1", "between 0 and 100");
    });

    test("controllers roll one at a time, and only controllers that exist", () => {
        expectProblem({ [key("controllers")]: { count: 3, roll: [0, 2] } }, "controllers.roll", "one controller at a time", "quorum");
        expectProblem({ [key("controllers")]: { count: 3, roll: [3] } }, "controllers.roll[0]", "3", "is not a controller", "0 to 2");
        expect(stageConfigFromFiles("dev", { [key("controllers")]: { count: 3, roll: [2] } }).controllers.roll).toEqual([2]);
    });

    test("EIP bandwidth within what pay-by-traffic EIPs take", () => {
        expectProblem({ [key("eipBandwidthMbps")]: 300 }, "eipBandwidthMbps", "300", "1 and 200");
    });

    test("a disk category that cannot be an encrypted system disk is refused, naming those that cannot", () => {
        for (const [pool, value] of [
            ["workers", { diskCategory: "cloud_efficiency" }],
            ["edge", { diskCategory: "cloud_ssd" }],
            ["controllers", { diskCategory: "cloud_essd_entry" }],
            ["storage", { kind: "nfs-server", diskCategory: "cloud_auto" }],
        ] as const) {
            expectProblem(
                { [key(pool)]: value },
                `${pool}.diskCategory`,
                value.diskCategory,
                "must be cloud_essd",
                "Alibaba encrypts a system disk at instance creation only on ESSDs",
                "cloud_essd_entry, cloud_auto, cloud_ssd, cloud_efficiency cannot be",
            );
        }
        expectProblem({ [key("workers")]: { diskCategory: "cloud" } }, "workers.diskCategory", "must be one of cloud_essd");
    });

    test("replacement batches: at least one node; edge nodes fewer than the pool, so that ingress keeps serving", () => {
        expectProblem({ [key("workers")]: { rollBatch: 0 } }, "workers.rollBatch", "between 1 and 100");
        expectProblem({ [key("workers")]: { drainTimeoutMinutes: 0 } }, "workers.drainTimeoutMinutes", "between 1 and 120");
        expectProblem(
            { [key("edge")]: { count: 2, rollBatch: 2 }, [key("eipQuota")]: 20 },
            "edge.rollBatch",
            "2",
            "less than edge.count (2)",
            "ingress must keep at least one edge node serving",
        );
        // One edge node can only be replaced alone; the defaults: workers two at a time, edge nodes one.
        const dev = stageConfigFromFiles("dev");
        expect([dev.edge.count, dev.edge.rollBatch, dev.workers.rollBatch, dev.workers.drainTimeoutMinutes]).toEqual([1, 1, 2, 15]);
        expect(stageConfigFromFiles("dev", { [key("edge")]: { count: 3, rollBatch: 2 }, [key("eipQuota")]: 20 }).edge.rollBatch).toBe(2);
    });

    test("etcd backups: an interval that divides a day, a retention in days", () => {
        expectProblem({ [key("etcdBackup")]: { intervalHours: 5 } }, "etcdBackup.intervalHours", "5", "must divide a day");
        expectProblem({ [key("etcdBackup")]: { retentionDays: 0 } }, "etcdBackup.retentionDays", "between 1 and 3650");
        expect(stageConfigFromFiles("dev").etcdBackup).toEqual({ intervalHours: 6, retentionDays: 30 });
        expect(stageConfigFromFiles("dev").keepDataOnDestroy).toBe(true);
    });

    test("a label the NodeRestriction plugin would refuse", () => {
        expectProblem({ [key("workers")]: { labels: { "node-role.kubernetes.io/worker": "" } } }, "workers.labels", "NodeRestriction");
    });
});

describe("EIP quota", () => {
    test("claims over the quota list every claim group and its count", () => {
        expectProblem(
            { [key("edge")]: { count: 20 } },
            "eipQuota = 20",
            "EIP claims need 23 (bastion 1, nat 1, apiserver 1, edge 20) but eipQuota is 20",
        );
    });

    test("a raised quota admits them", () => {
        const cfg = stageConfigFromFiles("dev", { [key("edge")]: { count: 20 }, [key("eipQuota")]: 23 });
        expect(cfg.eip.claims.map((c) => c.name)).toEqual([
            "bastion",
            "nat",
            "apiserver",
            ...Array.from({ length: 20 }, (_, i) => `edge-${i}`),
        ]);
    });
});

describe("keys", () => {
    test("an unknown key in the stage file is a typo, with a suggestion", () => {
        expectProblem({ [key("workerz")]: { count: 3 } }, "workerz", "not a key of this project", "did you mean workers?");
    });

    test("an unknown field inside an object key", () => {
        expectProblem({ [key("workers")]: { cuont: 3 } }, "workers.cuont", "not a field");
    });

    test("a required key that is missing", () => {
        expectProblem({ [key("vpcCidr")]: undefined }, "vpcCidr", "(not set)", "is required");
    });

    test("a wrong type names the key", () => {
        expectProblem({ [key("eipQuota")]: "twenty" }, "eipQuota", '"twenty"');
    });

    test("a secret key set in plain text is refused without echoing it", () => {
        const problems = problemsOf({
            [key("ingressTlsKey")]: "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
            [key("ingressTlsCertificate")]: "-----BEGIN CERTIFICATE-----\nabc",
        });
        const line = problems.find((p) => p.includes("ingressTlsKey"));
        expect(line).toContain("must be a secret");
        expect(line).not.toContain("abc");
    });

    test("a secure value is a secret and loads", () => {
        const cfg = stageConfigFromFiles("dev", {
            [key("ingressTlsKey")]: { secure: "v1:AAAA" },
            [key("ingressTlsCertificate")]: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        });
        expect(cfg.ingress.tls).toBeDefined();
    });

    test("every failure is reported at once", () => {
        const problems = problemsOf({
            [key("vpcCidr")]: "10.10.0.0/33",
            [key("controllers")]: { count: 2 },
            [key("workerz")]: 1,
            [key("adminCidrs")]: ["0.0.0.0/0"],
        });
        for (const k of ["vpcCidr", "controllers.count", "workerz", "adminCidrs[0]"]) {
            expect(problems.some((p) => p.includes(k))).toBe(true);
        }
    });

    test("the stack name goes into names and must be short and lower-case", () => {
        const values = { zones: ["cn-hangzhou-i", "cn-hangzhou-j"] };
        let message = "";
        try {
            parseStageConfig({ stage: "Dev_Stage", region: "cn-hangzhou", values, secretKeys: new Set() });
        } catch (err) {
            message = String(err);
        }
        expect(message).toContain('(stack name) = "Dev_Stage": must be 2-20 lower-case letters');
    });
});

describe("applications", () => {
    const apps = (list: unknown[]) => ({ [key("apps")]: list });
    const api = { kind: "spring-boot", name: "orders", image: "registry.example.com/shop/orders:1.0.0" };

    test("an unknown service in a proxy rule", () => {
        expectProblem(
            apps([
                api,
                {
                    kind: "react",
                    name: "web",
                    image: "registry.example.com/shop/web:1.0.0",
                    route: { host: "shop.example.com" },
                    apiServices: ["billing"],
                },
            ]),
            "apps[1].apiServices[0]",
            "app web",
            "/api/billing",
            "does not exist",
        );
    });

    test("a canary weight out of range", () => {
        expectProblem(
            apps([
                { ...api, route: { host: "shop.example.com" }, canary: { image: "registry.example.com/shop/orders:1.1.0", weight: 120 } },
            ]),
            "apps[0].canary.weight",
            "120",
            "between 0 and 100",
        );
    });

    test("duplicate names and routes", () => {
        expectProblem(apps([api, { ...api }]), "apps[1].name", "already the name of apps[0]");
        expectProblem(
            apps([
                { ...api, route: { host: "a.example.com" } },
                { ...api, name: "billing", route: { host: "a.example.com" } },
            ]),
            "apps[1].route",
            "app billing",
            "already served by apps[0] (orders)",
        );
    });

    test("an unpinned image", () => {
        expectProblem(apps([{ ...api, image: "registry.example.com/shop/orders:latest" }]), "apps[0].image", "latest");
        expectProblem(apps([{ ...api, image: "registry.example.com/shop/orders" }]), "apps[0].image", "pin a tag or a digest");
    });

    test("secrets for an app that does not exist", () => {
        expectProblem(
            { [key("appSecrets")]: { billing: { DB_PASSWORD: { secure: "v1:x" } } } },
            "appSecrets.billing",
            "names no spring-boot app",
        );
    });
});
