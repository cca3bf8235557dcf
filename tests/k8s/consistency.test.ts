/**
 * The cluster's objects agree with each other and with the rest of the platform: DNS address = kubelet
 * clusterDNS, flannel network = pod CIDR, VXLAN port = the security group's, one default StorageClass, probes on
 * declared ports, Services that select real pods, Ingress backends that exist, node agents that reach the API.
 * Expected addresses are written out per stage, not recomputed the way the code computes them.
 */
import { ingressRules } from "../../components/network";
import { planCluster } from "../../config/plan";
import { CLUSTER_DOMAIN, fleetlockUrl } from "../../layout/cluster";
import { objectDependencies, objectKey, sortObjects } from "../../k8s/objects";
import { versions } from "../../versions";
import { STAGES, containersOf, envOf, find, ofKind, renderStage, selects, stageConfig, workloads } from "./helpers";

/** Written out from the stage files: serviceCidr .10 / .15 and podCidr. */
const EXPECTED: Record<string, { dns: string; fleetlock: string; pods: string; vswitch: RegExp }> = {
    dev: { dns: "10.96.0.10", fleetlock: "10.96.0.15", pods: "10.244.0.0/16", vswitch: /^10\.10\.(1[6-9]|2[0-9]|3[01])\./ },
    staging: { dns: "10.97.0.10", fleetlock: "10.97.0.15", pods: "10.245.0.0/16", vswitch: /^10\.20\.(1[6-9]|2[0-9]|3[01])\./ },
    prod: { dns: "10.98.0.10", fleetlock: "10.98.0.15", pods: "10.246.0.0/16", vswitch: /^10\.30\.(1[6-9]|2[0-9]|3[01])\./ },
};

describe.each(STAGES)("stage %s", (stage) => {
    const objects = renderStage(stage);
    const cfg = stageConfig(stage);
    const expected = EXPECTED[stage];

    it("serves cluster DNS at the address the kubelets are rendered with (the 10th of the service CIDR)", () => {
        const service = find(objects, "Service", "kube-dns", "kube-system") as any;
        expect(service.spec.clusterIP).toBe(expected.dns);
        // The kubelets' clusterDNS comes from this config value (ignition/settings.ts nodeSettings).
        expect(service.spec.clusterIP).toBe(cfg.cluster.dnsServiceIp);
        expect(service.spec.ports.map((p: any) => `${p.port}/${p.protocol}`)).toEqual(["53/UDP", "53/TCP", "9153/TCP"]);
    });

    it("runs at least two CoreDNS replicas on different nodes, from the pinned current release", () => {
        const coredns = find(objects, "Deployment", "coredns", "kube-system") as any;
        expect(coredns.spec.replicas).toBeGreaterThanOrEqual(2);
        const terms = coredns.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
        expect(terms).toHaveLength(1);
        expect(terms[0].topologyKey).toBe("kubernetes.io/hostname");
        expect(selects(terms[0].labelSelector.matchLabels, coredns.spec.template.metadata.labels)).toBe(true);
        expect(coredns.spec.template.spec.containers[0].image).toBe(versions.images.coredns);
        expect(coredns.spec.template.spec.containers[0].image).toMatch(/coredns:v1\.1[4-9]\./);
    });

    it("gives flannel the stage's pod CIDR and the VXLAN port the node security group opens", () => {
        const netConf = JSON.parse((find(objects, "ConfigMap", "kube-flannel-cfg") as any).data["net-conf.json"]);
        expect(netConf.Network).toBe(expected.pods);
        expect(netConf.Backend.Type).toBe("vxlan");
        const vxlanRules = ingressRules(["203.0.113.0/24"], false).filter((r) => r.protocol === "udp");
        expect(vxlanRules).toHaveLength(1);
        expect(vxlanRules[0].ports).toBe(`${netConf.Backend.Port}/${netConf.Backend.Port}`);
        expect(netConf.Backend.Port).toBe(8472);
        const cni = JSON.parse((find(objects, "ConfigMap", "kube-flannel-cfg") as any).data["cni-conf.json"]);
        expect(cni.plugins.map((p: any) => p.type)).toEqual(["flannel", "portmap"]);
    });

    it("runs flannel with the Kubernetes subnet manager and installs the flannel CNI plugin on every node", () => {
        const flannel = find(objects, "DaemonSet", "flannel", "kube-system") as any;
        const main = flannel.spec.template.spec.containers[0];
        expect(main.command).toEqual(expect.arrayContaining(["--kube-subnet-mgr", "--ip-masq"]));
        const install = flannel.spec.template.spec.initContainers.find((c: any) => c.name === "install-cni-plugin");
        expect(install.image).toBe(versions.images.flannelCniPlugin);
        expect(install.command).toContain("/opt/cni/bin/flannel");
        expect(flannel.spec.template.spec.hostNetwork).toBe(true);
        // Every node, controllers (tainted) included.
        expect(flannel.spec.template.spec.tolerations).toContainEqual({ operator: "Exists" });
    });

    it("runs kube-proxy on every node with the pod CIDR as cluster CIDR", () => {
        const proxy = find(objects, "DaemonSet", "kube-proxy", "kube-system") as any;
        expect(proxy.spec.template.spec.containers[0].command).toContain(`--cluster-cidr=${expected.pods}`);
        expect(proxy.spec.template.spec.containers[0].image).toBe(versions.images.kubeProxy);
        expect(proxy.spec.template.spec.tolerations).toContainEqual({ operator: "Exists" });
    });

    it("points flannel and kube-proxy at the API load balancer, not the Service IP that needs kube-proxy first", () => {
        // The contract: the internal API load balancer's address from the plan, inside the first node vSwitch.
        const apiServer = planCluster(cfg).apiServerInternalAddress;
        expect(apiServer).toMatch(expected.vswitch);
        for (const name of ["flannel", "kube-proxy"]) {
            const ds = find(objects, "DaemonSet", name, "kube-system") as any;
            const env = envOf(ds.spec.template.spec.containers[0]);
            expect(env.KUBERNETES_SERVICE_HOST).toBe(apiServer);
            expect(env.KUBERNETES_SERVICE_PORT).toBe("6443");
            // ... on every node but the controllers:
            const terms = ds.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
            expect(terms).toEqual([{ matchExpressions: [{ key: "node.kubernetes.io/controller", operator: "DoesNotExist" }] }]);
        }
    });

    it("runs a second flannel and kube-proxy on controllers that reach their own apiserver on loopback", () => {
        // Alibaba's layer-4 load balancer drops connections from a backend to its own listener.
        for (const name of ["flannel", "kube-proxy"]) {
            const ds = find(objects, "DaemonSet", `${name}-controllers`, "kube-system") as any;
            expect(ds.spec.template.spec.nodeSelector["node.kubernetes.io/controller"]).toBe("true");
            const env = envOf(ds.spec.template.spec.containers[0]);
            expect(env.KUBERNETES_SERVICE_HOST).toBe("127.0.0.1");
            expect(ds.spec.template.spec.tolerations).toContainEqual({ operator: "Exists" });
            const other = find(objects, "DaemonSet", name, "kube-system") as any;
            expect(ds.spec.selector.matchLabels).not.toEqual(other.spec.selector.matchLabels);
        }
    });

    it("serves FleetLock at the fixed address Zincati is rendered with", () => {
        const service = find(objects, "Service", "fleetlock", "fleetlock") as any;
        expect(service.spec.clusterIP).toBe(expected.fleetlock);
        expect(service.spec.ports[0].port).toBe(80);
        expect(fleetlockUrl(cfg.cluster.fleetlockServiceIp)).toBe(`http://${expected.fleetlock}/`);
        const role = find(objects, "ClusterRole", "fleetlock") as any;
        expect(role.rules).toContainEqual({ apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] });
    });

    it("serves the metrics API the autoscalers read, from controllers (the only group kubelets admit on 10250)", () => {
        const api = find(objects, "APIService", "v1beta1.metrics.k8s.io") as any;
        const service = find(objects, "Service", api.spec.service.name, api.spec.service.namespace) as any;
        const deployment = workloads(objects).find((w) => selects(service.spec.selector, w.spec.template.metadata.labels));
        expect(deployment?.metadata.name).toBe("metrics-server");
        expect(deployment.spec.template.spec.nodeSelector["node.kubernetes.io/controller"]).toBe("true");
        expect(deployment.spec.template.spec.hostNetwork).toBeUndefined();
        const kubeletRule = ingressRules(["203.0.113.0/24"], false).filter((r) => r.ports === "10250/10250");
        expect(kubeletRule.map((r) => r.source)).toEqual([{ group: "controllers" }]);
        if (ofKind(objects, "HorizontalPodAutoscaler").length > 0) {
            expect(deployment.spec.template.spec.containers[0].image).toBe(versions.images.metricsServer);
        }
    });

    it("has exactly one default StorageClass, NFS-provisioned, keeping data by default", () => {
        const defaults = ofKind(objects, "StorageClass").filter(
            (sc) => sc.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true",
        );
        expect(defaults).toHaveLength(1);
        expect(defaults[0].reclaimPolicy).toBe("Retain");
        const provisioner = find(objects, "Deployment", "nfs-provisioner") as any;
        const env = envOf(provisioner.spec.template.spec.containers[0]);
        expect(env.PROVISIONER_NAME).toBe(defaults[0].provisioner);
        expect(provisioner.spec.template.spec.volumes[0].nfs.server).toBe(env.NFS_SERVER);
        // On NAS, a directory the bastion made for the squashed identity (the file system's root is root's).
        expect(env.NFS_PATH).toBe(cfg.storage.kind === "nas" ? "/volumes" : "/var/srv/nfs");
    });

    it("has exactly one default IngressClass, the one every app route names", () => {
        const defaults = ofKind(objects, "IngressClass").filter(
            (c) => c.metadata.annotations?.["ingressclass.kubernetes.io/is-default-class"] === "true",
        );
        expect(defaults).toHaveLength(1);
        for (const ingress of ofKind(objects, "Ingress")) {
            expect(ingress.spec.ingressClassName).toBe(defaults[0].metadata.name);
        }
        // No admission webhook (and no Job to create its certificate).
        expect(objects.filter((o) => /Webhook|Job/.test(o.kind))).toEqual([]);
    });

    it("declares every probe's port as a port of its container", () => {
        let probes = 0;
        for (const w of workloads(objects)) {
            for (const c of containersOf(w)) {
                const ports = (c.ports ?? []).flatMap((p: any) => [p.name, p.containerPort]);
                for (const kind of ["startupProbe", "livenessProbe", "readinessProbe"]) {
                    const port = c[kind]?.httpGet?.port ?? c[kind]?.tcpSocket?.port;
                    if (c[kind]) {
                        probes++;
                        expect({
                            workload: w.metadata.name,
                            container: c.name,
                            probe: kind,
                            port,
                            declared: ports.includes(port),
                        }).toMatchObject({ declared: true });
                    }
                }
            }
        }
        expect(probes).toBeGreaterThan(10);
    });

    it("has every Service select the pods of some workload in its namespace, on ports those pods declare", () => {
        const services = ofKind(objects, "Service");
        expect(services.length).toBeGreaterThan(4);
        for (const service of services) {
            const targets = workloads(objects).filter(
                (w) =>
                    w.metadata.namespace === service.metadata.namespace && selects(service.spec.selector, w.spec.template.metadata.labels),
            );
            expect({ service: service.metadata.name, workloads: targets.length }).not.toMatchObject({ workloads: 0 });
            for (const port of service.spec.ports) {
                for (const w of targets) {
                    const declared = w.spec.template.spec.containers.flatMap((c: any) =>
                        (c.ports ?? []).map((p: any) => (typeof port.targetPort === "string" ? p.name : p.containerPort)),
                    );
                    expect({
                        service: service.metadata.name,
                        port: port.name,
                        found: declared.includes(port.targetPort ?? port.port),
                    }).toMatchObject({ found: true });
                }
            }
        }
    });

    it("has every workload's selector match its own pod template", () => {
        for (const w of workloads(objects)) {
            expect({
                workload: w.metadata.name,
                matches: selects(w.spec.selector.matchLabels, w.spec.template.metadata.labels),
            }).toMatchObject({ matches: true });
        }
    });

    it("has every Ingress backend exist as a Service port in the Ingress's namespace", () => {
        const ingresses = ofKind(objects, "Ingress");
        expect(ingresses.length).toBeGreaterThanOrEqual(2);
        for (const ingress of ingresses) {
            for (const rule of ingress.spec.rules) {
                for (const path of rule.http.paths) {
                    const backend = path.backend.service;
                    const service = find(objects, "Service", backend.name, ingress.metadata.namespace) as any;
                    expect(service.spec.ports.map((p: any) => p.name)).toContain(backend.port.name);
                }
            }
        }
    });

    it("rate-limits every app route per client at the stage's rate", () => {
        const rate = stage === "prod" ? "50" : "20"; // prod sets ingress.rateLimitRps: 50; the default is 20
        for (const ingress of ofKind(objects, "Ingress")) {
            expect(ingress.metadata.annotations["nginx.ingress.kubernetes.io/limit-rps"]).toBe(rate);
        }
    });

    it("refers only to config maps, secrets and service accounts that exist", () => {
        for (const w of workloads(objects)) {
            const spec = w.spec.template.spec;
            const ns = w.metadata.namespace;
            if (spec.serviceAccountName) {
                find(objects, "ServiceAccount", spec.serviceAccountName, ns);
            }
            for (const v of spec.volumes ?? []) {
                // kube-root-ca.crt is published in every namespace by kube-controller-manager, not by the program.
                if (v.configMap && v.configMap.name !== "kube-root-ca.crt") find(objects, "ConfigMap", v.configMap.name, ns);
                if (v.secret) find(objects, "Secret", v.secret.secretName, ns);
            }
            for (const c of containersOf(w)) {
                for (const e of c.envFrom ?? []) {
                    if (e.secretRef) find(objects, "Secret", e.secretRef.name, ns);
                }
            }
        }
    });

    it("binds every role to a service account that exists", () => {
        for (const binding of [...ofKind(objects, "ClusterRoleBinding"), ...ofKind(objects, "RoleBinding")]) {
            for (const subject of binding.subjects) {
                find(objects, "ServiceAccount", subject.name, subject.namespace);
            }
            // Roles every cluster has from its first start (kube-apiserver's bootstrap RBAC policy).
            const builtIn = ["system:node-proxier", "system:auth-delegator", "extension-apiserver-authentication-reader"];
            if (!builtIn.includes(binding.roleRef.name)) {
                find(
                    objects,
                    binding.roleRef.kind,
                    binding.roleRef.name,
                    binding.kind === "RoleBinding" ? binding.metadata.namespace : undefined,
                );
            }
        }
    });

    it("creates every namespace it uses, except the cluster's own kube-system", () => {
        const namespaces = new Set(ofKind(objects, "Namespace").map((n) => n.metadata.name));
        const used = new Set(objects.map((o) => o.metadata.namespace).filter((ns): ns is string => ns !== undefined));
        expect([...used].filter((ns) => !namespaces.has(ns)).sort()).toEqual(["kube-system"]);
    });

    it("orders objects so that everything an object waits for comes before it", () => {
        // With app secrets and a TLS Secret too, so that every kind the stage can have is in the graph.
        const all = renderStage(stage, {
            appSecrets: { orders: { DB_PASSWORD: { secure: "v1:stand-in" } } },
            ingressTlsCertificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            ingressTlsKey: { secure: "v1:stand-in" },
        });
        const order = sortObjects(all).map(objectKey);
        const deps = objectDependencies(all);
        let edges = 0;
        for (const [key, wanted] of deps) {
            for (const dep of wanted) {
                edges++;
                expect({ object: key, dependency: dep, before: order.indexOf(dep) < order.indexOf(key) }).toMatchObject({ before: true });
            }
        }
        expect(edges).toBeGreaterThan(20);
        // The Deployment of orders waits for its ConfigMap and namespace.
        expect(deps.get("apps/v1 Deployment apps/orders")).toEqual(
            expect.arrayContaining(["v1 Namespace /apps", "v1 ConfigMap apps/orders-config", "v1 Secret apps/orders-env"]),
        );
    });

    it("takes every platform image from versions.ts and every app image from the stage's apps", () => {
        const allowed = new Set<string>([
            ...Object.values(versions.images),
            ...cfg.apps.flatMap((a) => [a.image, ...(a.kind === "spring-boot" && a.canary ? [a.canary.image] : [])]),
        ]);
        for (const w of workloads(objects)) {
            for (const c of containersOf(w)) {
                expect({ workload: w.metadata.name, image: c.image, known: allowed.has(c.image) }).toMatchObject({ known: true });
            }
        }
    });
});

describe("ingress on the edge pool", () => {
    it("a DaemonSet binding 80 and 443 on the host network of the edge nodes only", () => {
        const objects = renderStage("prod");
        const ds = find(objects, "DaemonSet", "ingress-nginx-controller", "ingress-nginx") as any;
        const spec = ds.spec.template.spec;
        // In the pod network (so network policy knows the gateway's pods), bound to the edge node's 80 and 443 by hostPort.
        expect(spec.hostNetwork).toBeUndefined();
        expect(spec.nodeSelector).toEqual({ "node.kubernetes.io/edge": "true" });
        expect(spec.containers[0].ports.filter((p: any) => p.hostPort).map((p: any) => [p.containerPort, p.hostPort])).toEqual([
            [80, 80],
            [443, 443],
        ]);
        expect(spec.containers[0].image).toBe(versions.images.ingressNginx);
        expect(objects.filter((o) => o.kind === "Service" && o.metadata.namespace === "ingress-nginx")).toEqual([]);
        // hostNetwork is outside the baseline Pod Security level, so the namespace must admit privileged pods.
        expect((find(objects, "Namespace", "ingress-nginx") as any).metadata.labels["pod-security.kubernetes.io/enforce"]).toBe(
            "privileged",
        );
    });

    it("tolerates the stage's edge taints and selects its edge labels", () => {
        const objects = renderStage("dev", {
            edge: {
                count: 1,
                labels: { "node.kubernetes.io/zone-edge": "public" },
                taints: [
                    { key: "edge", value: "true", effect: "NoExecute" },
                    { key: "dedicated", effect: "NoSchedule" },
                ],
            },
        });
        const spec = (find(objects, "DaemonSet", "ingress-nginx-controller") as any).spec.template.spec;
        expect(spec.tolerations).toEqual([
            { key: "edge", operator: "Equal", value: "true", effect: "NoExecute" },
            { key: "dedicated", operator: "Exists", effect: "NoSchedule" },
        ]);
        expect(spec.nodeSelector).toEqual({ "node.kubernetes.io/zone-edge": "public", "node.kubernetes.io/edge": "true" });
    });

    it("uses a certificate from config as the default certificate, kept in a TLS Secret, and serves routes over HTTPS", () => {
        const cert = "-----BEGIN CERTIFICATE-----\nMIIBstand-in\n-----END CERTIFICATE-----\n";
        const objects = renderStage("dev", { ingressTlsCertificate: cert, ingressTlsKey: { secure: "v1:stand-in" } });
        const secret = find(objects, "Secret", "ingress-default-tls", "ingress-nginx") as any;
        expect(secret.type).toBe("kubernetes.io/tls");
        expect(secret.stringData["tls.crt"]).toBe(cert);
        expect(secret.stringData["tls.key"]).toBe("[secret]");
        const args = (find(objects, "DaemonSet", "ingress-nginx-controller") as any).spec.template.spec.containers[0].args;
        expect(args).toContain("--default-ssl-certificate=$(POD_NAMESPACE)/ingress-default-tls");
        expect((find(objects, "Ingress", "web", "apps") as any).spec.tls).toEqual([{ hosts: ["shop.dev.example.com"] }]);
    });

    it("uses an existing Secret named in config as the default certificate", () => {
        const objects = renderStage("dev", { ingress: { tlsSecretName: "shop-example-com" } });
        const args = (find(objects, "DaemonSet", "ingress-nginx-controller") as any).spec.template.spec.containers[0].args;
        expect(args).toContain("--default-ssl-certificate=$(POD_NAMESPACE)/shop-example-com");
        expect(objects.filter((o) => o.kind === "Secret" && o.metadata.namespace === "ingress-nginx")).toEqual([]);
        expect((find(objects, "Ingress", "orders", "apps") as any).spec.tls).toEqual([{ hosts: ["shop.dev.example.com"] }]);
    });

    it("runs no controller without edge nodes (nothing could serve it)", () => {
        const objects = renderStage("dev", { edge: { count: 0 }, apps: [] });
        expect(objects.filter((o) => o.metadata.name === "ingress-nginx-controller" && o.kind !== "ConfigMap")).toEqual([]);
        expect(ofKind(objects, "IngressClass")).toHaveLength(1);
    });

    it("without a certificate, sets no default certificate and no TLS on routes", () => {
        const objects = renderStage("dev");
        const args = (find(objects, "DaemonSet", "ingress-nginx-controller") as any).spec.template.spec.containers[0].args;
        expect(args.filter((a: string) => a.startsWith("--default-ssl-certificate"))).toEqual([]);
        expect((find(objects, "Ingress", "web", "apps") as any).spec.tls).toBeUndefined();
    });
});

/**
 * The Pod Security Standards (https://kubernetes.io/docs/concepts/security/pod-security-standards/) a namespace
 * enforces, checked on every pod template in it: a pod that breaks them would be refused at runtime, silently
 * leaving a Deployment at zero pods. The subset of rules that the rendered pods could break.
 */
function podSecurityViolations(level: string, pod: any): string[] {
    const out: string[] = [];
    const containers = [...(pod.initContainers ?? []), ...pod.containers];
    if (level === "privileged") {
        return out;
    }
    if (pod.hostNetwork || pod.hostPID || pod.hostIPC) out.push("host namespaces");
    if ((pod.volumes ?? []).some((v: any) => v.hostPath)) out.push("hostPath volume");
    const baselineCaps = [
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    ];
    for (const c of containers) {
        if (c.securityContext?.privileged) out.push(`${c.name}: privileged`);
        if ((c.ports ?? []).some((p: any) => p.hostPort)) out.push(`${c.name}: hostPort`);
        for (const cap of c.securityContext?.capabilities?.add ?? []) {
            if (!baselineCaps.includes(cap)) out.push(`${c.name}: adds ${cap}`);
        }
    }
    if (level === "restricted") {
        const allowedVolumes = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];
        for (const v of pod.volumes ?? []) {
            if (!Object.keys(v).some((k) => allowedVolumes.includes(k))) out.push(`volume ${v.name}: type not allowed`);
        }
        for (const c of containers) {
            const sc = c.securityContext ?? {};
            if (sc.allowPrivilegeEscalation !== false) out.push(`${c.name}: allowPrivilegeEscalation not false`);
            if (!(sc.capabilities?.drop ?? []).includes("ALL")) out.push(`${c.name}: does not drop ALL capabilities`);
            if ((sc.capabilities?.add ?? []).some((cap: string) => cap !== "NET_BIND_SERVICE"))
                out.push(`${c.name}: adds more than NET_BIND_SERVICE`);
            if ((sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true) out.push(`${c.name}: runAsNonRoot not true`);
            if ((sc.runAsUser ?? pod.securityContext?.runAsUser) === 0) out.push(`${c.name}: runs as uid 0`);
            const seccomp = sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
            if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") out.push(`${c.name}: no RuntimeDefault seccomp profile`);
        }
    }
    return out;
}

describe("Pod Security", () => {
    const cases: [string, Record<string, unknown>][] = [
        ["dev", {}],
        ["prod", {}],
    ];
    it.each(cases)("every pod in %s (%j) meets the level its namespace enforces", (stage, overrides) => {
        const objects = renderStage(stage, overrides);
        const levels = new Map(
            ofKind(objects, "Namespace").map((n) => [n.metadata.name, n.metadata.labels["pod-security.kubernetes.io/enforce"]]),
        );
        levels.set("kube-system", "privileged"); // kube-system carries no labels: the cluster default, privileged
        let checked = 0;
        for (const w of workloads(objects)) {
            const level = levels.get(w.metadata.namespace);
            expect({ workload: w.metadata.name, level }).toEqual({
                workload: w.metadata.name,
                level: expect.stringMatching(/^(privileged|baseline|restricted)$/),
            });
            expect({ workload: w.metadata.name, violations: podSecurityViolations(level!, w.spec.template.spec) }).toEqual({
                workload: w.metadata.name,
                violations: [],
            });
            checked++;
        }
        expect(checked).toBeGreaterThan(6);
        expect(levels.get("fleetlock")).toBe("restricted");
    });

    it("the check catches a pod that breaks its level", () => {
        const fleetlock = find(renderStage("dev"), "Deployment", "fleetlock") as any;
        const pod = fleetlock.spec.template.spec;
        pod.containers[0].securityContext.allowPrivilegeEscalation = true;
        pod.volumes = [{ name: "host", hostPath: { path: "/" } }];
        expect(podSecurityViolations("restricted", pod)).toEqual(
            expect.arrayContaining(["hostPath volume", "fleetlock: allowPrivilegeEscalation not false", "volume host: type not allowed"]),
        );
    });
});

describe("cluster DNS and storage from stage config", () => {
    it("forwards to the stage's upstream resolvers and stub domains", () => {
        const objects = renderStage("dev", {
            dns: { upstreams: ["10.10.0.2:5353"], stubDomains: { "corp.example": ["10.1.0.2", "10.1.0.3"] } },
        });
        const corefile: string = (find(objects, "ConfigMap", "coredns", "kube-system") as any).data.Corefile;
        expect(corefile).toContain("forward . 10.10.0.2:5353 {");
        expect(corefile).toMatch(/corp\.example:53 \{[^}]*forward \. 10\.1\.0\.2 10\.1\.0\.3\n\}/);
        expect(corefile).toContain("kubernetes cluster.local in-addr.arpa ip6.arpa {");
        expect(corefile).toContain("prometheus :9153");
    });

    it("uses Alibaba's VPC resolvers by default", () => {
        const corefile: string = (find(renderStage("staging"), "ConfigMap", "coredns") as any).data.Corefile;
        expect(corefile).toContain("forward . 100.100.2.136 100.100.2.138 {");
    });

    it("serves the cluster domain every kubelet searches, on every stage", () => {
        for (const stage of STAGES) {
            const corefile: string = (find(renderStage(stage), "ConfigMap", "coredns") as any).data.Corefile;
            expect(corefile).toContain(`kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {`);
        }
        expect(CLUSTER_DOMAIN).toBe("cluster.local");
    });

    it("takes the reclaim policy from config", () => {
        const objects = renderStage("dev", { storage: { kind: "nfs-server", reclaimPolicy: "Delete" } });
        expect((find(objects, "StorageClass", "nfs") as any).reclaimPolicy).toBe("Delete");
    });
});

/** Every `fieldRef` in a rendered object, with its path in the object. */
function fieldRefs(value: unknown, at = ""): { at: string; ref: Record<string, unknown> }[] {
    if (Array.isArray(value)) return value.flatMap((v, i) => fieldRefs(v, `${at}[${i}]`));
    if (!value || typeof value !== "object") return [];
    return Object.entries(value).flatMap(([k, v]) =>
        k === "fieldRef" && v && typeof v === "object"
            ? [{ at: `${at}.${k}`, ref: v as Record<string, unknown> }]
            : fieldRefs(v, `${at}.${k}`),
    );
}

describe.each(STAGES)("stage %s, under server-side apply", (stage) => {
    // Found by the engine suite: an `up` re-applying an object under a new field manager (after an interrupted
    // update) conflicts on an atomic struct whose defaulted field the object left out.
    it("sets apiVersion in every downward-API fieldRef, as the API server would default it", () => {
        const objects = renderStage(stage);
        const refs = objects.flatMap((o) => fieldRefs(o).map((r) => ({ object: objectKey(o), ...r })));
        expect(refs.length).toBeGreaterThan(0);
        expect(refs.filter((r) => r.ref.apiVersion !== "v1")).toEqual([]);
    });
});
