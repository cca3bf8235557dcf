/**
 * The rendered network policies admit exactly the declared paths: every connection between the stage's pods (and to
 * the metadata service, DNS, the outside) is checked against the NetworkPolicy semantics of ./networkPolicy.ts.
 */
import { cidr, nthAddress } from "../../config/cidr";
import { AppConfig } from "../../config/types";
import { KubeObject } from "../../k8s";
import { METADATA_ADDRESS } from "../../k8s/networkPolicies";
import { Endpoint, PodEndpoint, Policy, allowed } from "./networkPolicy";
import { STAGES, renderStage, stageConfig, stageValue } from "./helpers";

/** Every pod of the stage that is in the pod network (host-network pods are the node), with an address in podCidr. */
function podsOf(objects: readonly KubeObject[], podCidr: string): Map<string, PodEndpoint> {
    const pods = new Map<string, PodEndpoint>();
    const network = cidr(podCidr);
    for (const o of objects.filter((x) => x.kind === "Deployment" || x.kind === "DaemonSet") as any[]) {
        const spec = o.spec.template.spec;
        if (spec.hostNetwork) continue;
        pods.set(`${o.metadata.namespace}/${o.metadata.name}`, {
            namespace: o.metadata.namespace,
            labels: o.spec.template.metadata.labels,
            ip: nthAddress(network, 10 + pods.size),
            ports: spec.containers.flatMap((c: any) => c.ports ?? []),
        });
    }
    return pods;
}

describe.each(STAGES)("stage %s", (stage) => {
    const cfg = stageConfig(stage);
    const objects = renderStage(stage);
    const policies = objects.filter((o) => o.kind === "NetworkPolicy") as unknown as Policy[];
    const pods = podsOf(objects, cfg.network.podCidr);
    const pod = (key: string): Endpoint => {
        const found = pods.get(key);
        if (!found) throw new Error(`no pod ${key} (have ${[...pods.keys()].join(", ")})`);
        return { pod: found };
    };
    const apps = cfg.apps as readonly AppConfig[];
    const httpPort = (app: AppConfig) => (app.kind === "spring-boot" ? app.port : 8080);
    const portsOf = (app: AppConfig) => (app.kind === "spring-boot" ? [app.port, app.managementPort] : [8080]);
    const calls = (a: AppConfig, b: AppConfig) => a.kind === "react" && a.apiServices.includes(b.name);
    const gateway = pod("ingress-nginx/ingress-nginx-controller");
    const stranger: Endpoint = {
        pod: { namespace: "default", labels: { run: "stranger" }, ip: nthAddress(cidr(cfg.network.podCidr), 250), ports: [] },
    };

    it("an app reaches another app only on the port of a call it declares (apiServices), and nothing else", () => {
        for (const a of apps) {
            for (const b of apps.filter((x) => x !== a)) {
                for (const port of portsOf(b)) {
                    const expected = calls(a, b) && port === httpPort(b);
                    const got = allowed(policies, pod(`apps/${a.name}`), pod(`apps/${b.name}`), port);
                    expect({ from: a.name, to: b.name, port, allowed: got }).toEqual({ from: a.name, to: b.name, port, allowed: expected });
                }
            }
        }
        // A canary is the same app: it takes what its app takes.
        for (const a of apps.filter((x) => x.kind === "spring-boot" && x.canary)) {
            const canary = pod(`apps/${a.name}-canary`);
            expect(allowed(policies, gateway, canary, httpPort(a))).toBe(a.route !== undefined);
        }
    });

    it("each app's ingress alone admits exactly its declared callers (egress is a second, separate barrier)", () => {
        const ingressOnly = policies.map((p) => ({ ...p, spec: { ...p.spec, policyTypes: ["Ingress"], egress: undefined } }));
        for (const a of apps) {
            for (const b of apps.filter((x) => x !== a)) {
                const got = allowed(ingressOnly, pod(`apps/${a.name}`), pod(`apps/${b.name}`), httpPort(b));
                expect({ from: a.name, to: b.name, allowed: got }).toEqual({ from: a.name, to: b.name, allowed: calls(a, b) });
            }
        }
    });

    it("the gateway reaches each routed app on its http port only; unrouted apps and management ports not at all", () => {
        for (const b of apps) {
            const routed = b.kind === "react" || b.route !== undefined;
            for (const port of portsOf(b)) {
                expect({ to: b.name, port, allowed: allowed(policies, gateway, pod(`apps/${b.name}`), port) }).toEqual({
                    to: b.name,
                    port,
                    allowed: routed && port === httpPort(b),
                });
            }
        }
    });

    it("a pod of another namespace reaches no app, and app pods reach no pod outside apps but cluster DNS", () => {
        for (const b of apps) {
            for (const port of portsOf(b)) expect(allowed(policies, stranger, pod(`apps/${b.name}`), port)).toBe(false);
        }
        for (const a of apps) {
            const from = pod(`apps/${a.name}`);
            expect(allowed(policies, from, pod("kube-system/coredns"), 53, "UDP")).toBe(true);
            expect(allowed(policies, from, pod("kube-system/coredns"), 53, "TCP")).toBe(true);
            expect(allowed(policies, from, pod("kube-system/coredns"), 9153)).toBe(false);
            expect(allowed(policies, from, stranger, 8080)).toBe(false);
            expect(allowed(policies, from, pod("fleetlock/fleetlock"), 8080)).toBe(false);
            expect(allowed(policies, from, pod("nfs-provisioner/nfs-provisioner"), 8080)).toBe(false);
        }
    });

    it("no app pod reaches Alibaba's metadata service; the outside (databases, APIs) stays reachable", () => {
        for (const a of apps) {
            const from = pod(`apps/${a.name}`);
            for (const port of [80, 443]) expect(allowed(policies, from, { ip: METADATA_ADDRESS }, port)).toBe(false);
            expect(allowed(policies, from, { ip: "203.0.113.10" }, 443)).toBe(true);
            expect(allowed(policies, from, { ip: nthAddress(cidr(cfg.network.vpcCidr), 200) }, 3306)).toBe(true);
        }
    });

    it("platform pods keep their function and reach neither the metadata service nor the apps beyond it", () => {
        const vpcHost = { ip: nthAddress(cidr(cfg.network.vpcCidr), 200) };
        const provisioner = pod("nfs-provisioner/nfs-provisioner");
        expect(allowed(policies, provisioner, vpcHost, 2049)).toBe(true);
        expect(allowed(policies, provisioner, { ip: cfg.cluster.apiServiceIp }, 443)).toBe(true);
        expect(allowed(policies, pod("kube-system/coredns"), { ip: "100.100.2.136" }, 53, "UDP")).toBe(true);
        expect(allowed(policies, pod("kube-system/metrics-server"), vpcHost, 10250)).toBe(true);
        // Zincati (a node) takes its reboot lock.
        expect(allowed(policies, vpcHost, pod("fleetlock/fleetlock"), 8080)).toBe(true);
        for (const p of [
            "nfs-provisioner/nfs-provisioner",
            "fleetlock/fleetlock",
            "kube-system/coredns",
            "kube-system/metrics-server",
            "ingress-nginx/ingress-nginx-controller",
        ]) {
            expect({ p, allowed: allowed(policies, pod(p), { ip: METADATA_ADDRESS }, 80) }).toEqual({ p, allowed: false });
        }
        // The gateway reaches apps (their policies decide the port) but nothing else in the cluster.
        expect(allowed(policies, gateway, pod("fleetlock/fleetlock"), 8080)).toBe(false);
        expect(allowed(policies, stranger, provisioner, 8080)).toBe(false);
    });

    it("every platform namespace the program creates, and apps, deny by default", () => {
        const denying = new Set(
            policies
                .filter((p) => JSON.stringify(p.spec.podSelector) === "{}" && !p.spec.ingress && !p.spec.egress)
                .map((p) => p.metadata.namespace),
        );
        for (const ns of objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name)) {
            expect({ ns, denies: denying.has(ns) }).toEqual({ ns, denies: true });
        }
    });
});

/** Each stage as its file has it, and observability's other shapes: logs to Log Service, Grafana not published. */
const OBSERVABILITY_CASES: [string, string, Record<string, unknown>][] = [
    ...STAGES.map((stage): [string, string, Record<string, unknown>] => [stage, stage, {}]),
    ["staging, logs to sls", "staging", { observability: { ...stageValue("staging", "observability"), logs: { backend: "sls" } } }],
    ["staging, no Grafana host", "staging", { observability: { ...stageValue("staging", "observability"), grafana: { host: "" } } }],
];

describe.each(OBSERVABILITY_CASES)("observability's paths: %s", (_label, stage, overrides) => {
    const cfg = stageConfig(stage, overrides);
    const objects = renderStage(stage, overrides);
    const policies = objects.filter((o) => o.kind === "NetworkPolicy") as unknown as Policy[];
    const pods = podsOf(objects, cfg.network.podCidr);
    const obs = cfg.observability;
    const loki = obs.enabled && obs.logs.backend === "loki";
    const monitoring = (key: string) => key.startsWith("monitoring/") || key.startsWith("monitoring-agents/");
    const springBoot = cfg.apps.flatMap((a) => (a.kind === "spring-boot" ? [a] : []));
    const management = new Set(
        springBoot.flatMap((a) => [
            `apps/${a.name}:${a.managementPort}`,
            ...(a.canary ? [`apps/${a.name}-canary:${a.managementPort}`] : []),
        ]),
    );
    const pod = (key: string): Endpoint => {
        const found = pods.get(key);
        if (!found) throw new Error(`no pod ${key} (have ${[...pods.keys()].join(", ")})`);
        return { pod: found };
    };

    /** The paths written down from docs/observability.md's list of scrapes and data flows, not from the renderer. */
    function expectedPaths(): string[] {
        if (!obs.enabled) return [];
        const dns = (from: string) => [`${from} -> kube-system/coredns:53/UDP`, `${from} -> kube-system/coredns:53/TCP`];
        return [
            ...["monitoring/prometheus", "monitoring/alertmanager", "monitoring/grafana", "monitoring-agents/log-shipper"].flatMap(dns),
            "monitoring/prometheus -> monitoring/alertmanager:9093/TCP",
            "monitoring/prometheus -> monitoring/kube-state-metrics:8080/TCP",
            "monitoring/prometheus -> ingress-nginx/ingress-nginx-controller:10254/TCP",
            ...[...management].map((m) => `monitoring/prometheus -> ${m}/TCP`),
            "monitoring/grafana -> monitoring/prometheus:9090/TCP",
            ...(loki
                ? ["monitoring/grafana -> monitoring/loki:3100/TCP", "monitoring-agents/log-shipper -> monitoring/loki:3100/TCP"]
                : []),
            ...(obs.grafana.host ? ["ingress-nginx/ingress-nginx-controller -> monitoring/grafana:3000/TCP"] : []),
        ].sort();
    }

    it("between pods, exactly the declared paths touch the monitoring namespaces or an app's management port", () => {
        const stranger: PodEndpoint = {
            namespace: "default",
            labels: { run: "stranger" },
            ip: nthAddress(cidr(cfg.network.podCidr), 250),
            ports: [],
        };
        const sources = [...pods.entries(), ["default/stranger", stranger] as const];
        const got: string[] = [];
        for (const [fromKey, from] of sources) {
            for (const [toKey, to] of pods) {
                for (const p of to.ports) {
                    const protocol = p.protocol ?? "TCP";
                    const relevant = monitoring(fromKey) || monitoring(toKey) || management.has(`${toKey}:${p.containerPort}`);
                    if (fromKey !== toKey && relevant && allowed(policies, { pod: from }, { pod: to }, p.containerPort, protocol)) {
                        got.push(`${fromKey} -> ${toKey}:${p.containerPort}/${protocol}`);
                    }
                }
            }
        }
        expect([...new Set(got)].sort()).toEqual(expectedPaths());
    });

    if (!obs.enabled) return;
    const vpcHost = { ip: nthAddress(cidr(cfg.network.vpcCidr), 200) };
    const outside = { ip: "203.0.113.10" };

    it("Prometheus scrapes the nodes' metrics ports in the VPC and asks the API server; nothing else outside the pod network", () => {
        const prometheus = pod("monitoring/prometheus");
        for (const port of [9100, 10250, 2381, 10257, 10259, 6443]) {
            expect({ port, allowed: allowed(policies, prometheus, vpcHost, port) }).toEqual({ port, allowed: true });
        }
        expect(allowed(policies, prometheus, { ip: cfg.cluster.apiServiceIp }, 443)).toBe(true);
        expect(allowed(policies, prometheus, vpcHost, 22)).toBe(false);
        expect(allowed(policies, prometheus, vpcHost, 2379)).toBe(false);
        expect(allowed(policies, prometheus, outside, 443)).toBe(false);
    });

    it("Alertmanager reaches its receivers outside, the shipper its destination; none reaches the metadata service", () => {
        const alertmanager = pod("monitoring/alertmanager");
        expect(allowed(policies, alertmanager, outside, 443)).toBe(true);
        expect(allowed(policies, alertmanager, outside, 587)).toBe(true);
        expect(allowed(policies, pod("monitoring-agents/log-shipper"), outside, 10011)).toBe(!loki);
        expect(allowed(policies, pod("monitoring-agents/log-shipper"), outside, 443)).toBe(false);
        expect(allowed(policies, pod("monitoring/grafana"), outside, 443)).toBe(false);
        expect(allowed(policies, pod("monitoring/kube-state-metrics"), { ip: cfg.cluster.apiServiceIp }, 443)).toBe(true);
        expect(allowed(policies, pod("monitoring/kube-state-metrics"), outside, 443)).toBe(false);
        for (const key of [...pods.keys()].filter(monitoring)) {
            expect({ key, allowed: allowed(policies, pod(key), { ip: METADATA_ADDRESS }, 80) }).toEqual({ key, allowed: false });
        }
    });
});

describe("the enforcer beside flannel", () => {
    const objects = renderStage("dev");

    it("kube-network-policies runs on every node, controllers included, fail-closed, reading only pods, namespaces and policies", () => {
        const daemonSets = objects.filter((o) => o.kind === "DaemonSet" && o.metadata.name.startsWith("kube-network-policies")) as any[];
        expect(daemonSets.map((d) => d.metadata.name).sort()).toEqual(["kube-network-policies", "kube-network-policies-controllers"]);
        for (const d of daemonSets) {
            const c = d.spec.template.spec.containers[0];
            expect(c.command).toContain("--fail-open=false");
            expect(d.spec.template.spec.tolerations).toEqual([{ operator: "Exists" }]);
        }
        const role = objects.find((o) => o.kind === "ClusterRole" && o.metadata.name === "kube-network-policies") as any;
        expect(role.rules.flatMap((r: any) => r.verbs)).not.toEqual(expect.arrayContaining(["create"]));
        expect(role.rules.flatMap((r: any) => r.resources).sort()).toEqual(["namespaces", "networkpolicies", "pods"]);
    });
});
