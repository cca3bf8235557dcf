/**
 * Every committed stage on the real engine and real Kubernetes binaries (engine/build.sh):
 * - its control plane booted from the program's render (etcd and the static pods' commands, as processes, each
 *   controller a network namespace with its planned address), the program's bootstrap and readiness scripts;
 * - a worker joining for real: the rendered containerd and kubelet settings, the program's join files, TLS
 *   bootstrapping approved and signed by the real kube-controller-manager, NodeRestriction and the Node authorizer;
 * - the cluster layer (KubernetesPlatform and Apps) deployed by `pulumi up` through the Automation API, the
 *   Go-built CLI and the Go-built Kubernetes provider, then re-previewed, changed, interrupted, and destroyed.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigMap, EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { cidr, nthAddress } from "../../config/cidr";
import { FIELD_MANAGER } from "../../components/k8sObjects";
import { PROJECT } from "../../config/schema";
import { joinFiles, registryFiles, registrySettings } from "../../controlplane";
import { AppConfig } from "../../config/types";
import { nodePaths } from "../../layout/node";
import { CONTROLLER_TAINT_KEY, NODE_ROLE_LABELS, NodeTaint } from "../../layout/roles";
import { engineConfigFor, listStages } from "../../tools/stageFiles";
import { certOf, keyOf, renderBootstrapKubeconfig, renderKubeconfig } from "../../pki";
import { METRICS_PORTS } from "../../layout/cluster";
import { ENGINE_CHECKED, dashboardQueries, metricNames, namesOfExposition, ruleQueries } from "../observability/helpers";
import { versions } from "../../versions";
import { BootedControlPlane, Override, bootControlPlane, kubectl, kubectlAttempt } from "./helpers/controlPlane";
import { JoiningNode, joinNode, stopNode, unmountUnder } from "./helpers/node";
import { Processes } from "./helpers/processes";
import { clusterLayerProgram } from "./helpers/program";
import { RenderedStage, nodeRoot, renderStage } from "./helpers/render";
import { EngineWorkspace, cliProcesses, engineStack, engineWorkspace, stateFileText, stopStrayPlugins } from "./helpers/stack";
import { EngineTools, engineTools, requireMachine } from "./helpers/tools";
import { Vpc } from "./helpers/vpc";

/** The machine-forced settings a test may override besides paths (helpers/node.ts explains each). */
const MACHINE_OVERRIDES = [
    /cgroupDriver \(no systemd here\)$/,
    /failCgroupV1 \(this VM has cgroup v1\)$/,
    /\(cgroup v1, no systemd\)$/,
    /\(no CAP_SYS_RESOURCE\)$/,
    /--config \(the rendered KubeletConfiguration with the settings above\)$/,
];

/** A path override moves a node path into the node's scratch root and changes nothing else. */
function isPathOverride(o: Override): boolean {
    if (o.where.includes("(paths)")) return true;
    const parts = o.rendered.split(",");
    const run = o.run.split(",");
    return (
        parts.length === run.length &&
        parts.every((p, i) => (p.startsWith("/") ? run[i].endsWith(p) && run[i].startsWith("/") : run[i] === p))
    );
}

type ChangeOp = "create" | "update" | "delete" | "replace" | "same" | string;

/** Every resource step of an operation, by URN, from its engine events. */
function recordSteps(): { onEvent: (e: EngineEvent) => void; steps: Map<string, ChangeOp> } {
    const steps = new Map<string, ChangeOp>();
    return {
        steps,
        onEvent: (e) => {
            const m = e.resourcePreEvent?.metadata;
            if (m && m.type.startsWith("kubernetes:") && !m.type.startsWith("pulumi:providers")) steps.set(m.urn, m.op);
        },
    };
}

/** Steps that change something. */
function changes(steps: Map<string, ChangeOp>): Map<string, ChangeOp> {
    return new Map([...steps].filter(([, op]) => op !== "same" && op !== "read"));
}

/** A resource URN's type and logical name (`urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>`). */
function objectOf(urn: string): { type: string; name: string } {
    const [, , qualifiedType, name] = urn.split("::");
    return { type: qualifiedType.split("$").pop()!, name };
}

/** The Kubernetes objects in a stack's state: kind, namespace and name of each, from the resources' outputs. */
function stateObjects(deployment: { resources?: { type: string; urn: string; outputs?: Record<string, any> }[] }): string[] {
    return (deployment.resources ?? [])
        .filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:providers"))
        .map((r) => `${r.outputs?.kind}/${r.outputs?.metadata?.namespace ?? ""}/${r.outputs?.metadata?.name}`);
}

/** Every committed stage; ENGINE_STAGES=dev,prod narrows a run (the default and CI take all). */
/** `kubectl get` arguments for an object named as `stateObjects` names it (kind/namespace/name). */
function getObject(object: string, ...output: string[]): string[] {
    const [kind, namespace, name] = object.split("/");
    return ["get", kind, name, ...(namespace ? ["-n", namespace] : []), ...output];
}

const STAGES = process.env.ENGINE_STAGES ? process.env.ENGINE_STAGES.split(",") : listStages();
let tools: EngineTools;

beforeAll(() => {
    requireMachine();
    tools = engineTools();
});

describe.each(STAGES)("stage %s, on the real engine", (stage: string) => {
    const cleanup: string[] = [];
    let work: string;
    let processes: Processes;
    let vpc: Vpc;
    let rendered: RenderedStage;
    let cp: BootedControlPlane;
    let worker: JoiningNode;
    let workerName: string;
    let controller: JoiningNode;
    let ws: EngineWorkspace;
    let stack: Stack;
    let config: ConfigMap;
    const probeMessage = `probe-${crypto.randomBytes(6).toString("hex")}`;
    /** Secret values set in this stack's config: none may appear in its state in plain text. */
    const secrets: string[] = [];

    beforeAll(async () => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), `engine-${stage}-`));
        cleanup.push(work);
        processes = new Processes(path.join(work, "logs"));
        rendered = renderStage(stage, work);
        const vpcPrefix = cidr(rendered.cfg.network.vpcCidr).prefix;
        vpc = new Vpc(`e${stage.slice(0, 3)}${process.pid % 1000}`, vpcPrefix);
        cp = await bootControlPlane(rendered, vpc, processes, tools, work, cleanup);

        // The first worker (or edge node) joins with the program's join material.
        const planned = rendered.plan.workers[0] ?? rendered.plan.edge[0];
        workerName = planned.hostname;
        const node = await nodeRoot(rendered, workerName, cleanup);
        const vswitch = cidr(rendered.cfg.network.nodeVswitches[planned.vswitchIndex].cidr);
        // Workers take an automatic address from the bottom of their vSwitch; this one takes the 10th.
        const host = vpc.addHost("w0", nthAddress(vswitch, 10), fs.readFileSync(node.at("/etc/hosts"), "utf8"));
        const caCertPem = certOf(rendered.material, "ca");
        worker = await joinNode(
            node,
            host,
            // The registry mirrors, then what ClusterPki.bootstrapKubeconfig(plan.apiServerUrl) renders, delivered as
            // NodePool delivers them.
            [
                ...registryFiles(registrySettings(rendered.cfg), false),
                ...joinFiles(
                    caCertPem,
                    renderBootstrapKubeconfig({
                        clusterName: rendered.cfg.namePrefix,
                        server: rendered.plan.apiServerUrl,
                        caCertPem,
                        tokenId: rendered.material.bootstrapToken.id,
                        tokenSecret: rendered.material.bootstrapToken.secret,
                    }),
                ),
            ],
            processes,
            tools,
            work,
            probeMessage,
        );
        await processes.waitFor(
            `node ${workerName} registered`,
            () => kubectlAttempt(tools, cp.adminKubeconfig, ["get", "node", workerName]).status === 0,
            [...cp.processes, worker.containerd, worker.kubelet],
            240000,
            2000,
        );

        // The first controller's kubelet joins too, with the files the control plane copied to it.
        controller = await joinNode(
            cp.controllers[0].node,
            cp.controllers[0].host,
            undefined,
            processes,
            tools,
            work,
            `${probeMessage}-controller`,
        );
        await processes.waitFor(
            `node ${cp.controllers[0].hostname} registered`,
            () => kubectlAttempt(tools, cp.adminKubeconfig, ["get", "node", cp.controllers[0].hostname]).status === 0,
            [...cp.processes, controller.containerd, controller.kubelet],
            240000,
            2000,
        );

        // The stack: the stage's config as the CLI would hold it, plus secrets only this run knows.
        ws = await engineWorkspace(tools, work);
        const engine = engineConfigFor(stage);
        config = Object.fromEntries(
            Object.entries(engine.values).map(([k, v]) => [k, { value: v, secret: engine.secretKeys.includes(k) }]),
        ) as ConfigMap;
        const appSecret = `s3cret-${crypto.randomBytes(8).toString("hex")}`;
        secrets.push(appSecret);
        const firstSpringBoot = (JSON.parse(config[`${PROJECT}:apps`].value) as AppConfig[]).find((a) => a.kind === "spring-boot");
        if (firstSpringBoot) {
            config[`${PROJECT}:appSecrets`] = {
                value: JSON.stringify({ [firstSpringBoot.name]: { ENGINE_TEST_PASSWORD: appSecret } }),
                secret: true,
            };
        }
        const grafanaPassword = `grafana-${crypto.randomBytes(8).toString("hex")}`;
        secrets.push(grafanaPassword);
        const tlsDir = path.join(work, "ingress-tls");
        fs.mkdirSync(tlsDir);
        execFileSync(
            "openssl",
            [
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-subj",
                "/CN=engine.example.com",
                "-days",
                "2",
                "-keyout",
                path.join(tlsDir, "tls.key"),
                "-out",
                path.join(tlsDir, "tls.crt"),
            ],
            { stdio: "ignore" },
        );
        const tlsKey = fs.readFileSync(path.join(tlsDir, "tls.key"), "utf8");
        secrets.push(tlsKey.split("\n")[1]);
        config[`${PROJECT}:ingressTlsCertificate`] = { value: fs.readFileSync(path.join(tlsDir, "tls.crt"), "utf8") };
        config[`${PROJECT}:ingressTlsKey`] = { value: tlsKey, secret: true };
        const program = clusterLayerProgram({
            kubeconfig: fs.readFileSync(cp.adminKubeconfig, "utf8"),
            // What the PKI, the bastion and the cloud would give observability (tls, random and Alibaba resources).
            observability: {
                etcdClient: {
                    ca: certOf(rendered.material, "etcd-ca"),
                    certificate: certOf(rendered.material, "etcd-client"),
                    key: keyOf(rendered.material, "etcd-client"),
                },
                certificates: [{ name: "apiserver", purpose: "kube-apiserver's serving certificate", notAfter: "2030-01-01T00:00:00Z" }],
                outsideNodes: [{ hostname: `${rendered.cfg.namePrefix}-bastion`, ip: "192.0.2.10" }],
                grafanaAdminPassword: grafanaPassword,
            },
            nfs:
                rendered.cfg.storage.kind === "nfs-server"
                    ? { server: rendered.plan.nfsServerAddress, path: nodePaths.nfsExportDir }
                    : { server: `engine-stand-in.${rendered.cfg.region}.nas.aliyuncs.com`, path: "/" },
        });
        stack = await engineStack(ws, stage, program, config);
    }, 1800000);

    afterAll(async () => {
        if (ws) stopStrayPlugins(ws);
        for (const node of [worker, controller]) if (node) await stopNode(node, processes);
        await processes?.stopAll();
        vpc?.destroy();
        for (const dir of cleanup.reverse()) {
            unmountUnder(dir);
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }, 120000);

    test("the control plane runs the rendered flags and files; only node paths and listed machine settings differ", () => {
        const other = cp.overrides.filter((o) => !isPathOverride(o));
        expect(other).toEqual([]);
        // etcd, kube-apiserver, kube-controller-manager and kube-scheduler of every controller are still running.
        expect(cp.processes.filter((p) => p.exit !== undefined).map((p) => `${p.name}: ${p.exit}`)).toEqual([]);
        const members = kubectl(tools, cp.adminKubeconfig, ["get", "--raw", "/readyz?verbose"]);
        expect(members).toContain("[+]etcd ok");
        expect(cp.processes).toHaveLength(rendered.plan.controllers.length * 4);
    });

    test("the bootstrap applies the program's token and RBAC with the pinned kubectl once, and is a no-op the second time", () => {
        expect([...new Set(cp.podmanImages)]).toEqual([versions.images.kubectl]);
        expect(cp.bootstrapOutput).toMatch(/bootstrap RBAC applied/);
        expect(cp.bootstrapOutput.split("--- second run ---")[1]).toMatch(/bootstrap already done/);
        const secret = JSON.parse(
            kubectl(tools, cp.adminKubeconfig, [
                "-n",
                "kube-system",
                "get",
                "secret",
                `bootstrap-token-${rendered.material.bootstrapToken.id}`,
                "-o",
                "json",
            ]),
        );
        expect(secret.type).toBe("bootstrap.kubernetes.io/token");
        for (const binding of [
            "kubelet-bootstrap",
            "node-autoapprove-bootstrap",
            "node-autoapprove-certificate-rotation",
            "kube-apiserver-kubelet-api-admin",
        ]) {
            expect(kubectl(tools, cp.adminKubeconfig, ["get", "clusterrolebinding", binding, "-o", "name"]).trim()).toBe(
                `clusterrolebinding.rbac.authorization.k8s.io/${binding}`,
            );
        }
    });

    test("a worker joins through TLS bootstrapping: its CSR is approved and signed by kube-controller-manager", () => {
        expect(
            worker.overrides.filter((o) => !isPathOverride(o) && !MACHINE_OVERRIDES.some((r) => r.test(o.where))).map((o) => o.where),
        ).toEqual([]);
        const csrs = JSON.parse(kubectl(tools, cp.adminKubeconfig, ["get", "csr", "-o", "json"])).items as any[];
        const mine = csrs.filter((c) => c.spec.username === `system:bootstrap:${rendered.material.bootstrapToken.id}`);
        expect(mine.length).toBeGreaterThan(0);
        for (const csr of mine) {
            expect(csr.spec.signerName).toBe("kubernetes.io/kube-apiserver-client-kubelet");
            expect(csr.status.conditions.map((c: { type: string }) => c.type)).toContain("Approved");
            expect(csr.status.certificate).toBeTruthy();
        }
        // The issued certificate names the node and is signed by the cluster CA.
        const subject = execFileSync("openssl", ["x509", "-noout", "-subject", "-in", worker.clientCertificate], { encoding: "utf8" });
        expect(subject).toMatch(new RegExp(`CN\\s*=\\s*system:node:${workerName}`));
        const caFile = path.join(work, "cluster-ca.crt");
        fs.writeFileSync(caFile, certOf(rendered.material, "ca"));
        expect(execFileSync("openssl", ["verify", "-CAfile", caFile, worker.clientCertificate], { encoding: "utf8" })).toContain(": OK");
    });

    test("the node registers with its planned name, labels and taints (NodeRestriction admits them)", () => {
        const node = JSON.parse(kubectl(tools, cp.adminKubeconfig, ["get", "node", workerName, "-o", "json"]));
        const role = rendered.plan.workers[0] ? "worker" : "edge";
        const pool = role === "worker" ? rendered.cfg.workers : rendered.cfg.edge;
        expect(node.metadata.labels).toEqual(
            expect.objectContaining({ [NODE_ROLE_LABELS[role]]: "true", ...pool.labels, "kubernetes.io/hostname": workerName }),
        );
        const taints = (node.spec.taints ?? []).filter((t: { key: string }) => !t.key.startsWith("node.kubernetes.io/"));
        expect(taints).toEqual(
            pool.taints.map((t: NodeTaint) => ({ key: t.key, effect: t.effect, ...(t.value === undefined ? {} : { value: t.value }) })),
        );
        expect(node.status.addresses).toContainEqual({ type: "InternalIP", address: worker.host.address });
    });

    test("the node runs a static pod: its mirror pod is Running and the container answers", async () => {
        await processes.waitFor(
            "the probe pod answers on the node",
            () => {
                try {
                    return (
                        execFileSync(
                            "ip",
                            ["netns", "exec", worker.host.netns, "curl", "-sf", "--max-time", "2", "http://127.0.0.1:18080/"],
                            { encoding: "utf8" },
                        ).trim() === probeMessage
                    );
                } catch {
                    return false;
                }
            },
            [worker.containerd, worker.kubelet],
            180000,
            2000,
        );
        const pod = JSON.parse(
            kubectl(tools, cp.adminKubeconfig, ["-n", "kube-system", "get", "pod", `engine-probe-${workerName}`, "-o", "json"]),
        );
        expect(pod.status.phase).toBe("Running");
        expect(pod.metadata.annotations["kubernetes.io/config.mirror"]).toBeTruthy();
    });

    test("the node's certificate can do what the Node authorizer allows, and no more", () => {
        const kubeconfig = path.join(work, "node.kubeconfig");
        const pem = fs.readFileSync(worker.clientCertificate, "utf8");
        const cert = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/)![0];
        const key = pem.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----\n/)![0];
        fs.writeFileSync(
            kubeconfig,
            renderKubeconfig({
                clusterName: rendered.cfg.namePrefix,
                userName: workerName,
                server: `https://${rendered.apiServerPublicAddress}:6443`,
                caCertPem: certOf(rendered.material, "ca"),
                credentials: { clientCertificatePem: cert, clientKeyPem: key },
            }),
            { mode: 0o600 },
        );
        expect(kubectl(tools, kubeconfig, ["get", "node", workerName, "-o", "name"]).trim()).toBe(`node/${workerName}`);
        const secrets = kubectlAttempt(tools, kubeconfig, ["get", "secrets", "--all-namespaces"]);
        expect(secrets.status).not.toBe(0);
        expect(secrets.stderr).toMatch(/forbidden/i);
        const other = kubectlAttempt(tools, kubeconfig, ["label", "node", workerName, "node-role.kubernetes.io/controller=true"]);
        expect(other.status).not.toBe(0);
        expect(other.stderr).toMatch(/forbidden|not allowed|is not allowed to modify labels/i);
    });

    test("a controller's kubelet joins with the files the control plane copied: controller label and taint, mirror pods of the static pods", async () => {
        const name = cp.controllers[0].hostname;
        expect(
            controller.overrides.filter((o) => !isPathOverride(o) && !MACHINE_OVERRIDES.some((r) => r.test(o.where))).map((o) => o.where),
        ).toEqual([]);
        const node = JSON.parse(kubectl(tools, cp.adminKubeconfig, ["get", "node", name, "-o", "json"]));
        expect(node.metadata.labels).toEqual(expect.objectContaining({ [NODE_ROLE_LABELS.controller]: "true" }));
        expect(node.spec.taints).toContainEqual({ key: CONTROLLER_TAINT_KEY, effect: "NoSchedule" });
        // The kubelet posts a mirror pod for each rendered static pod: the real API server admits all three.
        await processes.waitFor(
            "mirror pods of the control plane's static pods",
            () => {
                const pods = kubectlAttempt(tools, cp.adminKubeconfig, ["-n", "kube-system", "get", "pods", "-o", "name"]).stdout;
                return ["kube-apiserver", "kube-controller-manager", "kube-scheduler"].every((c) => pods.includes(`pod/${c}-${name}`));
            },
            [controller.kubelet],
            120000,
            2000,
        );
        const apiserver = JSON.parse(
            kubectl(tools, cp.adminKubeconfig, ["-n", "kube-system", "get", "pod", `kube-apiserver-${name}`, "-o", "json"]),
        );
        expect(apiserver.spec.priorityClassName).toBe("system-node-critical");
        expect(apiserver.spec.containers[0].image).toBe(versions.images.kubeApiserver);
    });

    test("the control plane, etcd and the kubelet export every metric the dashboards and alerts name from them", () => {
        const names = new Set<string>();
        const add = (text: string) => namesOfExposition(text).forEach((n) => names.add(n));
        // Expositions run to megabytes (cAdvisor's): read them with a large buffer.
        const raw = (url: string) =>
            execFileSync(tools.kubectl, [`--kubeconfig=${cp.adminKubeconfig}`, "--request-timeout=20s", "get", "--raw", url], {
                encoding: "utf8",
                maxBuffer: 256 * 1024 * 1024,
            });
        add(raw("/metrics"));
        add(raw(`/api/v1/nodes/${workerName}/proxy/metrics`));
        add(raw(`/api/v1/nodes/${workerName}/proxy/metrics/cadvisor`));
        const pki = path.join(work, "metrics-pki");
        fs.mkdirSync(pki, { recursive: true });
        const write = (file: string, content: string) => {
            fs.writeFileSync(path.join(pki, file), content, { mode: 0o600 });
            return path.join(pki, file);
        };
        const etcdCa = write("etcd-ca.crt", certOf(rendered.material, "etcd-ca"));
        const etcdCert = write("etcd-client.crt", certOf(rendered.material, "etcd-client"));
        const etcdKey = write("etcd-client.key", keyOf(rendered.material, "etcd-client"));
        const adminCert = write("admin.crt", certOf(rendered.material, "admin"));
        const adminKey = write("admin.key", keyOf(rendered.material, "admin"));
        const controller = cp.controllers[0];
        const ip = rendered.plan.controllers[0].ip;
        const curl = (args: string[]) =>
            execFileSync("ip", ["netns", "exec", controller.host.netns, "curl", "-sS", "--fail", "--max-time", "10", ...args], {
                encoding: "utf8",
                maxBuffer: 256 * 1024 * 1024,
                stdio: ["ignore", "pipe", "pipe"],
            });
        // etcd's metrics listener (ETCD_LISTEN_METRICS_URLS of the rendered etcd.env) takes a client certificate of the etcd CA, and only that.
        add(curl(["--cacert", etcdCa, "--cert", etcdCert, "--key", etcdKey, `https://${ip}:${METRICS_PORTS.etcd}/metrics`]));
        expect(() => curl(["--cacert", etcdCa, `https://${ip}:${METRICS_PORTS.etcd}/metrics`])).toThrow();
        // The controller-manager and the scheduler now listen on the controller's address; /metrics is authorized.
        for (const port of [METRICS_PORTS.controllerManager, METRICS_PORTS.scheduler]) {
            add(curl(["-k", "--cert", adminCert, "--key", adminKey, `https://${ip}:${port}/metrics`]));
        }
        // Series that exist only with a mounted persistent volume: the suite runs no CSI driver, so no pod has one.
        const conditional = new Set([
            "kubelet_volume_stats_available_bytes",
            "kubelet_volume_stats_capacity_bytes",
            "kubelet_volume_stats_used_bytes",
        ]);
        const used = [...dashboardQueries(), ...ruleQueries()].flatMap((q) =>
            metricNames(q.expr).map((name) => ({ where: q.where, name })),
        );
        const checked = used.filter((u) => ENGINE_CHECKED.test(u.name) && !conditional.has(u.name));
        expect(checked.length).toBeGreaterThan(15);
        expect(checked.filter((u) => !names.has(u.name))).toEqual([]);
    });

    let firstUp: Map<string, ChangeOp>;
    let objectsAfterUp: string[];

    test("`pulumi up` deploys the cluster layer; `pulumi preview` right after shows no change", async () => {
        const rec = recordSteps();
        const warnings: string[] = [];
        const up = await stack.up({
            onEvent: (e) => {
                rec.onEvent(e);
                if (e.diagnosticEvent && e.diagnosticEvent.severity === "warning") warnings.push(e.diagnosticEvent.message.trim());
            },
        });
        expect(up.summary.result).toBe("succeeded");
        firstUp = rec.steps;
        // The real API server's warnings (deprecations, unknown fields) reach the engine as diagnostics: none. Except
        // one that is not about an object at all: kube-apiserver's ClusterIP repair loop, racing with a Service created
        // between its two lists, reports the Service's fresh address as "not allocated; repairing" (it then is).
        expect(
            warnings.filter((w) => !/^ClusterIPNotAllocated: Cluster IP \[IPv4\]: [0-9.]+ is not allocated; repairing$/.test(w)),
        ).toEqual([]);
        expect([...changes(rec.steps).values()].every((op) => op === "create")).toBe(true);
        objectsAfterUp = stateObjects((await stack.exportStack()).deployment).sort();
        expect(objectsAfterUp.length).toBe(firstUp.size);
        // Each object is in the cluster.
        for (const object of objectsAfterUp) {
            const got = kubectlAttempt(tools, cp.adminKubeconfig, getObject(object, "-o", "name"));
            expect({ object, status: got.status, stderr: got.stderr }).toEqual({ object, status: 0, stderr: "" });
        }
        const preview = await stack.preview();
        expect(Object.keys(preview.changeSummary).filter((op) => op !== "same")).toEqual([]);
    });

    test("the state holds no secret in plain text (app secrets, the ingress TLS key, the admin credentials)", () => {
        const state = stateFileText(ws, stage);
        const adminKey = fs.readFileSync(cp.adminKubeconfig, "utf8").match(/client-key-data: (\S+)/)![1];
        for (const secret of [...secrets, adminKey]) {
            expect(state.includes(secret)).toBe(false);
            expect(state.includes(Buffer.from(secret).toString("base64"))).toBe(false);
        }
        expect(state).toContain("ciphertext");
    });

    test("objects an interrupted `up` created but did not record are adopted by the next `up`, without field conflicts", async () => {
        // The worst case of an interrupted update, made deterministic: every object exists (applied by the previous
        // run's field managers) and none is in the state. The next `up` creates each again by server-side apply.
        const exported = await stack.exportStack();
        type StateResource = {
            urn: string;
            type: string;
            custom?: boolean;
            dependencies?: string[];
            propertyDependencies?: Record<string, string[]>;
        };
        const resources = exported.deployment.resources as StateResource[];
        const forgotten = new Set(
            resources
                .filter((r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:providers"))
                .map((r) => r.urn),
        );
        expect(forgotten.size).toBe(objectsAfterUp.length);
        const known = (urns: string[] | undefined) => urns?.filter((u) => !forgotten.has(u));
        const kept = resources
            .filter((r) => !forgotten.has(r.urn))
            .map((r) => ({
                ...r,
                dependencies: known(r.dependencies),
                propertyDependencies:
                    r.propertyDependencies && Object.fromEntries(Object.entries(r.propertyDependencies).map(([k, v]) => [k, known(v)!])),
            }));
        await stack.importStack({ ...exported, deployment: { ...exported.deployment, resources: kept } });
        const rec = recordSteps();
        const up = await stack.up({ onEvent: rec.onEvent });
        expect(up.summary.result).toBe("succeeded");
        expect([...new Set(changes(rec.steps).values())]).toEqual(["create"]);
        expect(stateObjects((await stack.exportStack()).deployment).sort()).toEqual(objectsAfterUp);
        const preview = await stack.preview();
        expect(Object.keys(preview.changeSummary).filter((op) => op !== "same")).toEqual([]);
        // Each object has one applier, the program's field manager: no dead run's manager keeps a share of its
        // fields (which would make the next change of any of them a conflict).
        for (const object of objectsAfterUp) {
            const live = JSON.parse(kubectl(tools, cp.adminKubeconfig, getObject(object, "-o", "json", "--show-managed-fields")));
            const appliers = (live.metadata.managedFields as { manager: string; operation: string }[])
                .filter((f) => f.operation === "Apply")
                .map((f) => f.manager);
            expect({ object, appliers }).toEqual({ object, appliers: [FIELD_MANAGER] });
        }
    });

    test("changing one app's image previews an update of exactly that app's workloads", async () => {
        const apps = JSON.parse(config[`${PROJECT}:apps`].value) as AppConfig[];
        const target = apps[0];
        const changed = apps.map((a) => (a === target ? { ...a, image: `${a.image.replace(/:[^:/]+$/, "")}:engine-test` } : a));
        await stack.setConfig(`${PROJECT}:apps`, { value: JSON.stringify(changed) });
        try {
            const rec = recordSteps();
            await stack.preview({ onEvent: rec.onEvent });
            const changed = changes(rec.steps);
            expect([...changed.values()]).toEqual(expect.arrayContaining(["update"]));
            for (const [urn, op] of changed) {
                const { type, name } = objectOf(urn);
                expect({ urn, op, type }).toEqual({ urn, op: "update", type: "kubernetes:apps/v1:Deployment" });
                expect(name).toMatch(new RegExp(`^apps-apps/${target.name}(-canary)?$`));
            }
        } finally {
            await stack.setConfig(`${PROJECT}:apps`, config[`${PROJECT}:apps`]);
        }
    });

    test("adding an app creates only its objects; removing it deletes only them", async () => {
        const apps = JSON.parse(config[`${PROJECT}:apps`].value) as AppConfig[];
        const extra = {
            kind: "react",
            name: "engine-extra",
            image: "registry.example.com/engine/extra:1.0.0",
            replicas: 1,
            route: { host: "engine-extra.example.com" },
        };
        await stack.setConfig(`${PROJECT}:apps`, { value: JSON.stringify([...apps, extra]) });
        const added = recordSteps();
        expect((await stack.up({ onEvent: added.onEvent })).summary.result).toBe("succeeded");
        const created = changes(added.steps);
        expect(created.size).toBeGreaterThan(0);
        for (const [urn, op] of created) {
            expect({ urn, op }).toEqual({ urn, op: "create" });
            expect(objectOf(urn).name).toMatch(/engine-extra/);
        }
        expect(kubectl(tools, cp.adminKubeconfig, ["-n", "apps", "get", "deployment", "engine-extra", "-o", "name"]).trim()).toBe(
            "deployment.apps/engine-extra",
        );

        await stack.setConfig(`${PROJECT}:apps`, config[`${PROJECT}:apps`]);
        const removed = recordSteps();
        expect((await stack.up({ onEvent: removed.onEvent })).summary.result).toBe("succeeded");
        const deleted = changes(removed.steps);
        expect(new Set(deleted.keys())).toEqual(new Set(created.keys()));
        expect([...new Set(deleted.values())]).toEqual(["delete"]);
        expect(kubectlAttempt(tools, cp.adminKubeconfig, ["-n", "apps", "get", "deployment", "engine-extra"]).status).not.toBe(0);
        expect(stateObjects((await stack.exportStack()).deployment).sort()).toEqual(objectsAfterUp);
    });

    /** Waits until none of `objects` (kind/namespace/name) exists in the cluster. */
    async function waitGone(objects: string[]): Promise<void> {
        await processes.waitFor(
            "every object deleted from the cluster",
            () =>
                objects.every((object) => {
                    const got = kubectlAttempt(tools, cp.adminKubeconfig, getObject(object, "-o", "name"));
                    return got.status !== 0 && /NotFound|not found/.test(got.stderr);
                }),
            cp.processes,
            300000,
            3000,
        );
    }

    test("`pulumi destroy` removes every object it created", async () => {
        const destroy = await stack.destroy();
        expect(destroy.summary.result).toBe("succeeded");
        expect(stateObjects((await stack.exportStack()).deployment)).toEqual([]);
        await waitGone(objectsAfterUp);
    });

    test("an `up` killed mid-deploy is recovered by the next `up`: nothing duplicated, lost or left out of the state", async () => {
        const expected = firstUp.size;
        let creates = 0;
        let killed: number[] = [];
        const interrupted = stack
            .up({
                onEvent: (e) => {
                    if (e.resourcePreEvent?.metadata.op === "create" && e.resourcePreEvent.metadata.type.startsWith("kubernetes:")) {
                        creates += 1;
                        if (creates === Math.floor(expected / 2) && killed.length === 0) {
                            killed = cliProcesses();
                            for (const pid of killed) process.kill(pid, "SIGKILL");
                        }
                    }
                },
            })
            .then(
                () => "finished",
                (err: Error) => `failed: ${err.message.split("\n")[0]}`,
            );
        const outcome = await interrupted;
        expect(killed.length).toBe(1);
        expect(outcome).toMatch(/^failed/);
        const partial = (await stack.exportStack()).deployment;
        expect(stateObjects(partial).length).toBeLessThan(expected);

        // README "Recovering an interrupted pulumi up": the killed CLI left its lock; nothing else runs, so cancel it.
        await stack.cancel();
        const again = await stack.up();
        expect(again.summary.result).toBe("succeeded");
        let deployment = (await stack.exportStack()).deployment;
        if ((deployment.pending_operations ?? []).length > 0) {
            // README "Recovering an interrupted pulumi up": the CLI keeps interrupted creates as pending until cleared.
            await stack.refresh({ clearPendingCreates: true });
            deployment = (await stack.exportStack()).deployment;
        }
        expect(deployment.pending_operations ?? []).toEqual([]);
        const objects = stateObjects(deployment).sort();
        expect(objects).toEqual(objectsAfterUp);
        expect(new Set(objects).size).toBe(objects.length);
        const preview = await stack.preview();
        expect(Object.keys(preview.changeSummary).filter((op) => op !== "same")).toEqual([]);

        expect((await stack.destroy()).summary.result).toBe("succeeded");
        await waitGone(objectsAfterUp);
    });
});
