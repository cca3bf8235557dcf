/**
 * Every committed stage on the real engine and real Kubernetes binaries (engine/build.sh):
 * - its control plane booted from the program's render (etcd and the static pods' commands, as processes, each
 *   controller a network namespace with its planned address), the program's bootstrap and readiness scripts;
 * - a worker joining for real: the rendered containerd and kubelet settings, the program's join files, TLS
 *   bootstrapping approved and signed by the real kube-controller-manager, NodeRestriction and the Node authorizer;
 * - the cluster layer (KubernetesPlatform and Apps) deployed by `pulumi up` through the Automation API, the
 *   Go-built CLI and the Go-built Kubernetes provider, then re-previewed, changed, interrupted, and destroyed.
 */
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ConfigMap, EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { cidr, nthAddress } from "../../config/cidr";
import { NAS_VOLUMES_DIR } from "../../layout/cluster";
import { FIELD_MANAGER } from "../../components/k8sObjects";
import { PROJECT } from "../../config/schema";
import { CLUSTER_ADMINS_BINDING, encryptedPrefix, renderJoinedScript } from "../../controlplane";
import { AppConfig } from "../../config/types";
import { nodePaths } from "../../layout/node";
import { CONTROLLER_TAINT_KEY, NODE_ROLE_LABELS, NodeTaint } from "../../layout/roles";
import { engineConfigFor, listStages } from "../../tools/stageFiles";
import { certOf, keyOf, kubeletServingSpec, renderKubeconfig } from "../../pki";
import { signRequestWithOpenssl } from "../pki/helpers/openssl";
import { METRICS_PORTS } from "../../layout/cluster";
import { ENGINE_CHECKED, dashboardQueries, metricNames, namesOfExposition, ruleQueries } from "../observability/helpers";
import { versions } from "../../versions";
import { BootedControlPlane, Override, bootControlPlane, etcdValue, kubectl, kubectlAttempt } from "./helpers/controlPlane";
import { JoiningNode, WorkerJoin, joinFirstWorker, joinNode, stopNode } from "./helpers/node";
import { Processes } from "./helpers/processes";
import { StageScratch, cleanUp, stageScratch } from "./helpers/scratch";
import { clusterLayerProgram } from "./helpers/program";
import { RenderedStage } from "./helpers/render";
import {
    EngineWorkspace,
    cliProcesses,
    engineStack,
    engineWorkspace,
    previewChanges,
    restoreCheckpointBackup,
    stateFileText,
    stopStrayPlugins,
} from "./helpers/stack";
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

/** The certificate and the key of a kubelet's `kubelet-client-current.pem` (both in one file). */
function certificateAndKey(pem: string): [string, string] {
    const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(pem);
    const key = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----\n/.exec(pem);
    if (!cert || !key) throw new Error("not a certificate and key in one PEM file");
    return [cert[0], key[0]];
}

/** A self-signed P-256 certificate `<stem>.crt` and key `<stem>.key` for `subject` (and `san`), valid 2 days. */
function selfSignedCertificate(stem: string, subject: string, san?: string): void {
    execFileSync(
        "openssl",
        [
            ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", subject],
            ...(san ? ["-addext", `subjectAltName=${san}`] : []),
            ...["-keyout", `${stem}.key`, "-out", `${stem}.crt`],
        ],
        { stdio: "ignore" },
    );
}

/** Every committed stage; ENGINE_STAGES=dev,prod narrows a run (the default and CI take all). */
const STAGES = process.env.ENGINE_STAGES ? process.env.ENGINE_STAGES.split(",") : listStages();
let tools: EngineTools;

beforeAll(() => {
    requireMachine();
    tools = engineTools();
});

describe.each(STAGES)("stage %s, on the real engine", (stage: string) => {
    let scratch: StageScratch;
    let cleanup: string[];
    let work: string;
    let processes: Processes;
    let vpc: Vpc;
    let rendered: RenderedStage;
    let cp: BootedControlPlane;
    let worker: JoiningNode;
    let workerJoin: WorkerJoin;
    let workerName: string;
    let controller: JoiningNode;
    let ws: EngineWorkspace;
    let stack: Stack;
    let config: ConfigMap;
    const probeMessage = `probe-${crypto.randomBytes(6).toString("hex")}`;
    /** Secret values set in this stack's config: none may appear in its state in plain text. */
    const secrets: string[] = [];

    beforeAll(async () => {
        scratch = stageScratch(stage, "stage", "e");
        ({ work, processes, rendered, vpc, cleanup } = scratch);
        cp = await bootControlPlane(rendered, vpc, processes, tools, work, cleanup);

        // The first worker (or edge node) joins as NodePool joins it: the node's own keys and requests, checked and signed for
        // exactly its name and address; the registry mirrors with the join files.
        ({
            worker,
            name: workerName,
            join: workerJoin,
        } = await joinFirstWorker(rendered, vpc, cp, processes, tools, work, cleanup, probeMessage));

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
        selfSignedCertificate(path.join(tlsDir, "tls"), "/CN=engine.example.com");
        const tlsKey = fs.readFileSync(path.join(tlsDir, "tls.key"), "utf8");
        secrets.push(tlsKey.split("\n")[1]);
        config[`${PROJECT}:ingressTlsCertificate`] = { value: fs.readFileSync(path.join(tlsDir, "tls.crt"), "utf8") };
        config[`${PROJECT}:ingressTlsKey`] = { value: tlsKey, secret: true };
        const program = clusterLayerProgram({
            kubeconfig: fs.readFileSync(cp.adminKubeconfig, "utf8"),
            metricsServerTls: {
                certPem: certOf(rendered.material, "metrics-server"),
                keyPem: keyOf(rendered.material, "metrics-server"),
                caCertPem: certOf(rendered.material, "ca"),
            },
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
                    : { server: `engine-stand-in.${rendered.cfg.region}.nas.aliyuncs.com`, path: NAS_VOLUMES_DIR },
        });
        stack = await engineStack(ws, stage, program, config);
    }, 1800000);

    afterAll(async () => {
        if (ws) stopStrayPlugins(ws);
        for (const node of [worker, controller]) if (node) await stopNode(node, processes);
        await cleanUp(scratch);
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

    test("the bootstrap applies the program's RBAC as break-glass with the pinned kubectl once, and is a no-op the second time", () => {
        expect([...new Set(cp.podmanImages)]).toEqual([versions.images.kubectl]);
        expect(cp.bootstrapOutput).toMatch(/bootstrap RBAC applied/);
        expect(cp.bootstrapOutput.split("--- second run ---")[1]).toMatch(/bootstrap already done/);
        for (const binding of ["node-autoapprove-certificate-rotation", "kube-apiserver-kubelet-api-admin", CLUSTER_ADMINS_BINDING]) {
            expect(kubectl(tools, cp.adminKubeconfig, ["get", "clusterrolebinding", binding, "-o", "name"]).trim()).toBe(
                `clusterrolebinding.rbac.authorization.k8s.io/${binding}`,
            );
        }
        // No bootstrap token exists, and the API server does not take them.
        expect(kubectl(tools, cp.adminKubeconfig, ["-n", "kube-system", "get", "secrets", "-o", "name"])).not.toMatch(/bootstrap-token-/);
        // No admin credential is left on the controller.
        expect(fs.existsSync(cp.controllers[0].node.at("/etc/kubernetes/admin.conf"))).toBe(false);
    });

    test("a worker joins with a certificate for its own name only; its kubelet then gets one of its own key, approved for that name", () => {
        expect(
            [...workerJoin.overrides, ...worker.overrides]
                .filter((o) => !isPathOverride(o) && !MACHINE_OVERRIDES.some((r) => r.test(o.where)))
                .map((o) => o.where),
        ).toEqual([]);
        const csrs = JSON.parse(kubectl(tools, cp.adminKubeconfig, ["get", "csr", "-o", "json"])).items as any[];
        // The kubelet asked as the identity of its join certificate, for its own name, and kube-controller-manager approved.
        const mine = csrs.filter((c) => c.spec.username === `system:node:${workerName}`);
        expect(mine.length).toBeGreaterThan(0);
        for (const csr of mine) {
            expect(csr.spec.signerName).toBe("kubernetes.io/kube-apiserver-client-kubelet");
            expect(csr.status.conditions.map((c: { type: string; reason: string }) => `${c.type} ${c.reason}`)).toContain(
                "Approved AutoApproved",
            );
            expect(csr.status.certificate).toBeTruthy();
        }
        // The issued certificate names the node, is signed by the cluster CA, and is of a key other than the join key.
        const subject = execFileSync("openssl", ["x509", "-noout", "-subject", "-in", worker.clientCertificate], { encoding: "utf8" });
        expect(subject).toMatch(new RegExp(`CN\\s*=\\s*system:node:${workerName}`));
        const caFile = path.join(work, "cluster-ca.crt");
        fs.writeFileSync(caFile, certOf(rendered.material, "ca"));
        expect(execFileSync("openssl", ["verify", "-CAfile", caFile, worker.clientCertificate], { encoding: "utf8" })).toContain(": OK");
        const publicKey = (args: string[]) => execFileSync("openssl", args, { encoding: "utf8" });
        expect(publicKey(["x509", "-noout", "-pubkey", "-in", worker.clientCertificate])).not.toBe(
            publicKey(["pkey", "-pubout", "-in", worker.node.at(nodePaths.joinKey)]),
        );
    });

    /** A kubeconfig for `cert` (PEM) and the key in `keyFile`, against the API's EIP. */
    function clientKubeconfig(name: string, certPem: string, keyPem: string): string {
        const file = path.join(work, `${name}.kubeconfig`);
        fs.writeFileSync(
            file,
            renderKubeconfig({
                clusterName: rendered.cfg.namePrefix,
                userName: name,
                server: `https://${rendered.apiServerPublicAddress}:6443`,
                caCertPem: certOf(rendered.material, "ca"),
                credentials: { clientCertificatePem: certPem, clientKeyPem: keyPem },
            }),
            { mode: 0o600 },
        );
        return file;
    }

    /**
     * Asks, with `kubeconfig`, for a kubelet client certificate for `nodeName` (a new key), as a kubelet does; returns
     * kubectl's status and error.
     */
    function requestNodeCertificate(kubeconfig: string, csrName: string, nodeName: string): { status: number | null; stderr: string } {
        const dir = fs.mkdtempSync(path.join(work, "csr-"));
        execFileSync(
            "openssl",
            [
                ...["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path.join(dir, "k.pem")],
                ...["-subj", `/O=system:nodes/CN=system:node:${nodeName}`, "-out", path.join(dir, "r.pem")],
            ],
            { stdio: "ignore" },
        );
        const request = fs.readFileSync(path.join(dir, "r.pem")).toString("base64");
        const r = spawnSync(tools.kubectl, [`--kubeconfig=${kubeconfig}`, "--request-timeout=20s", "create", "-f", "-"], {
            encoding: "utf8",
            input: JSON.stringify({
                apiVersion: "certificates.k8s.io/v1",
                kind: "CertificateSigningRequest",
                metadata: { name: csrName },
                spec: { request, signerName: "kubernetes.io/kube-apiserver-client-kubelet", usages: ["digital signature", "client auth"] },
            }),
        });
        return { status: r.status, stderr: r.stderr };
    }

    const csrState = (name: string) => {
        const csr = JSON.parse(kubectl(tools, cp.adminKubeconfig, ["get", "csr", name, "-o", "json"]));
        return {
            approved: (csr.status.conditions ?? []).some((c: { type: string }) => c.type === "Approved"),
            issued: !!csr.status.certificate,
        };
    };

    test("a join credential for one node cannot obtain another node's certificate; renewing its own name is approved (rotation)", async () => {
        const join = fs.readFileSync(worker.node.at(nodePaths.bootstrapKubeconfig), "utf8");
        const joinCert = Buffer.from(/client-certificate-data: (\S+)/.exec(join)![1], "base64").toString();
        const joinKubeconfig = clientKubeconfig("join", joinCert, fs.readFileSync(worker.node.at(nodePaths.joinKey), "utf8"));
        const suffix = crypto.randomBytes(3).toString("hex");
        // Another worker's name and a controller's: the API server refuses to take the request at all (a node may only
        // ask for its own name); and kube-controller-manager approves node names only for the node itself (no
        // `nodeclient` binding exists: only a cluster admin, who may do anything, could approve such a request).
        for (const [csr, other] of [
            [`steal-controller-${suffix}`, cp.controllers[0].hostname],
            [`steal-worker-${suffix}`, `${rendered.cfg.namePrefix}-worker-99`],
        ]) {
            const refused = requestNodeCertificate(joinKubeconfig, csr, other);
            expect({ csr, status: refused.status }).toEqual({ csr, status: 1 });
            expect(refused.stderr).toContain(`can only create a node CSR with CN=system:node:${workerName}`);
        }
        // What the kubelet does to rotate: a request for its own name with its current certificate.
        const kubeletKubeconfig = clientKubeconfig("kubelet", ...certificateAndKey(fs.readFileSync(worker.clientCertificate, "utf8")));
        expect(requestNodeCertificate(kubeletKubeconfig, `rotate-${suffix}`, workerName).status).toBe(0);
        await processes.waitFor(
            "kube-controller-manager approves the kubelet's renewal of its own name",
            () => csrState(`rotate-${suffix}`).issued,
            cp.processes,
            60000,
            1000,
        );
        expect(csrState(`rotate-${suffix}`)).toEqual({ approved: true, issued: true });
        // The end of the join, as NodePool runs it (`<pool>-<i>-joined`): the kubelet has joined, so the join key and
        // kubeconfig go; the join credential lives exactly as long as the join.
        const paths = {
            kubeletKubeconfig: worker.node.at(nodePaths.kubeletKubeconfig),
            bootstrapKubeconfig: worker.node.at(nodePaths.bootstrapKubeconfig),
            joinKey: worker.node.at(nodePaths.joinKey),
        };
        const joined = spawnSync("bash", ["-s"], {
            input: renderJoinedScript({ target: `worker ${workerName}`, paths, attempts: 3 }),
            encoding: "utf8",
        });
        expect({ status: joined.status, stderr: joined.stderr }).toEqual({ status: 0, stderr: "" });
        expect(joined.stdout).toContain("joined; join credential removed");
        expect([paths.bootstrapKubeconfig, paths.joinKey].filter((f) => fs.existsSync(f))).toEqual([]);
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
        const kubeconfig = clientKubeconfig(workerName, ...certificateAndKey(fs.readFileSync(worker.clientCertificate, "utf8")));
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

    test("kube-apiserver verifies kubelets' serving certificates: the program-signed one is accepted, others are refused", async () => {
        // Through the API server's node proxy, which dials the kubelet at its InternalIP with --kubelet-certificate-authority.
        expect(kubectl(tools, cp.adminKubeconfig, ["get", "--raw", `/api/v1/nodes/${workerName}/proxy/healthz`])).toBe("ok");
        // A "kubelet" at another address serving a self-signed certificate for its name and address, then one the cluster
        // CA signed for another address: the API server refuses both.
        const vswitch = cidr(rendered.cfg.network.nodeVswitches[0].cidr);
        const fake = { name: `${rendered.cfg.namePrefix}-fake-kubelet`, ip: nthAddress(vswitch, 11) };
        const host = vpc.addHost("fk", fake.ip, "127.0.0.1 localhost\n");
        const dir = fs.mkdtempSync(path.join(work, "fake-kubelet-"));
        selfSignedCertificate(path.join(dir, "self"), `/O=system:nodes/CN=system:node:${fake.name}`, `DNS:${fake.name},IP:${fake.ip}`);
        // Signed by the cluster CA, but for another address.
        execFileSync(
            "openssl",
            [
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                path.join(dir, "other.key"),
                "-subj",
                `/O=system:nodes/CN=system:node:${fake.name}`,
                "-out",
                path.join(dir, "other.csr"),
            ],
            { stdio: "ignore" },
        );
        fs.writeFileSync(
            path.join(dir, "other.crt"),
            signRequestWithOpenssl(
                fs.readFileSync(path.join(dir, "other.csr"), "utf8"),
                { ...kubeletServingSpec(fake.name, "10.255.0.1"), name: "fake-kubelet-other", lifetime: "leaf" },
                rendered.ca,
                rendered.cfg.pki,
                dir,
            ),
        );
        kubectl(
            tools,
            cp.adminKubeconfig,
            ["create", "-f", "-"],
            JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: fake.name } }),
        );
        try {
            kubectl(tools, cp.adminKubeconfig, [
                "patch",
                "node",
                fake.name,
                "--subresource=status",
                "--type=merge",
                "-p",
                JSON.stringify({
                    status: {
                        addresses: [{ type: "InternalIP", address: fake.ip }],
                        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
                    },
                }),
            ]);
            for (const [cert, refusal] of [
                ["self", /x509: certificate signed by unknown authority|failed to verify certificate/],
                ["other", /x509: certificate is valid for 10\.255\.0\.1, not/],
            ] as const) {
                const server = processes.start(`fake-kubelet-${cert}`, host.etc, "openssl", [
                    "s_server",
                    "-quiet",
                    "-www",
                    "-accept",
                    "10250",
                    "-cert",
                    path.join(dir, `${cert}.crt`),
                    "-key",
                    path.join(dir, `${cert}.key`),
                ]);
                try {
                    let last = "";
                    await processes
                        .waitFor(
                            `kube-apiserver refuses the ${cert} certificate`,
                            () => {
                                const r = kubectlAttempt(tools, cp.adminKubeconfig, [
                                    "get",
                                    "--raw",
                                    `/api/v1/nodes/${fake.name}/proxy/healthz`,
                                ]);
                                last = r.stderr;
                                return r.status !== 0 && refusal.test(r.stderr);
                            },
                            [server],
                            30000,
                            1000,
                        )
                        .catch((err: Error) => {
                            throw new Error(`${err.message}\nlast answer: ${last}`);
                        });
                } finally {
                    await processes.stop(server);
                }
            }
        } finally {
            kubectl(tools, cp.adminKubeconfig, ["delete", "node", fake.name]);
        }
    });

    test("Secrets are ciphertext in etcd (k8s:enc:secretbox:v1:<key>:) and plain through the API", () => {
        const value = `engine-${crypto.randomBytes(8).toString("hex")}`;
        kubectl(tools, cp.adminKubeconfig, [
            "-n",
            "default",
            "create",
            "secret",
            "generic",
            "engine-encrypted",
            `--from-literal=value=${value}`,
        ]);
        try {
            const got = kubectl(tools, cp.adminKubeconfig, [
                "-n",
                "default",
                "get",
                "secret",
                "engine-encrypted",
                "-o",
                "jsonpath={.data.value}",
            ]);
            expect(Buffer.from(got, "base64").toString()).toBe(value);
            const stored = etcdValue(cp, "/registry/secrets/default/engine-encrypted");
            expect(stored.subarray(0, encryptedPrefix(rendered.cfg.secretsEncryptionKeys[0]).length).toString()).toBe(
                encryptedPrefix(rendered.cfg.secretsEncryptionKeys[0]),
            );
            expect(stored.includes(Buffer.from(value))).toBe(false);
            // A ConfigMap is not encrypted (only Secrets are): the same read shows its value, so the check can fail.
            kubectl(tools, cp.adminKubeconfig, ["-n", "default", "create", "configmap", "engine-plain", `--from-literal=value=${value}`]);
            expect(etcdValue(cp, "/registry/configmaps/default/engine-plain").includes(Buffer.from(value))).toBe(true);
        } finally {
            kubectlAttempt(tools, cp.adminKubeconfig, ["-n", "default", "delete", "secret", "engine-encrypted"]);
            kubectlAttempt(tools, cp.adminKubeconfig, ["-n", "default", "delete", "configmap", "engine-plain"]);
        }
    });

    test("the audit log records who wrote what (request bodies), and only metadata of Secrets", async () => {
        const marker = `audit-${crypto.randomBytes(6).toString("hex")}`;
        kubectl(tools, cp.adminKubeconfig, ["-n", "default", "create", "configmap", marker, `--from-literal=marker=${marker}`]);
        kubectl(tools, cp.adminKubeconfig, [
            "-n",
            "default",
            "create",
            "secret",
            "generic",
            marker,
            `--from-literal=value=${marker}-secret`,
        ]);
        const log = cp.controllers.map((c) => c.node.at("/var/log/kube-apiserver/audit.log"));
        const events = () =>
            log
                .filter((f) => fs.existsSync(f))
                .flatMap((f) =>
                    fs
                        .readFileSync(f, "utf8")
                        .split("\n")
                        .filter((l) => l.includes(marker)),
                )
                .map((l) => JSON.parse(l));
        await processes.waitFor(
            "the writes in the audit log",
            () => events().filter((e) => e.verb === "create").length >= 2,
            cp.processes,
            30000,
            1000,
        );
        const created = events().filter((e) => e.verb === "create");
        const configMap = created.find((e) => e.objectRef.resource === "configmaps")!;
        expect(configMap).toMatchObject({
            level: "Request",
            user: { username: "admin", groups: expect.arrayContaining(["platform:cluster-admins"]) },
        });
        expect(configMap.requestObject.data).toEqual({ marker });
        const secret = created.find((e) => e.objectRef.resource === "secrets")!;
        expect(secret).toMatchObject({ level: "Metadata", objectRef: { name: marker, namespace: "default" } });
        expect(JSON.stringify(events())).not.toContain(Buffer.from(`${marker}-secret`).toString("base64"));
        expect(JSON.stringify(events())).not.toContain(`${marker}-secret`);
        kubectl(tools, cp.adminKubeconfig, ["-n", "default", "delete", "configmap,secret", marker]);
    });

    test("the admin kubeconfig is revocable: without its RBAC binding it is refused, while break-glass still works", () => {
        const binding = kubectl(tools, cp.breakGlassKubeconfig, ["get", "clusterrolebinding", CLUSTER_ADMINS_BINDING, "-o", "json"]);
        kubectl(tools, cp.breakGlassKubeconfig, ["delete", "clusterrolebinding", CLUSTER_ADMINS_BINDING]);
        try {
            const refused = kubectlAttempt(tools, cp.adminKubeconfig, ["get", "namespaces"]);
            expect(refused.status).not.toBe(0);
            expect(refused.stderr).toMatch(/forbidden/i);
            expect(kubectl(tools, cp.breakGlassKubeconfig, ["auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}"])).toContain(
                "system:masters",
            );
        } finally {
            const restored = JSON.parse(binding);
            delete restored.metadata.resourceVersion;
            delete restored.metadata.uid;
            delete restored.metadata.managedFields;
            kubectl(tools, cp.breakGlassKubeconfig, ["create", "-f", "-"], JSON.stringify(restored));
        }
        expect(kubectlAttempt(tools, cp.adminKubeconfig, ["get", "namespaces"]).status).toBe(0);
    });

    test("admission: Services with external IPs are refused (CVE-2020-8554), and a namespace without labels enforces baseline", () => {
        const service = {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "engine-external", namespace: "default" },
            spec: { ports: [{ port: 80 }], externalIPs: ["203.0.113.10"] },
        };
        const r = spawnKubectl(["create", "--dry-run=server", "-f", "-"], JSON.stringify(service));
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/externalIPs|ExternalIP/);
        const privileged = {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "engine-privileged", namespace: "default" },
            spec: { containers: [{ name: "c", image: "engine.local/testpod:1", securityContext: { privileged: true } }] },
        };
        const p = spawnKubectl(["create", "--dry-run=server", "-f", "-"], JSON.stringify(privileged));
        expect(p.status).not.toBe(0);
        expect(p.stderr).toMatch(/violates PodSecurity "baseline:latest"/);
    });

    /** kubectl with stdin, returning status and outputs. */
    function spawnKubectl(args: string[], input: string): { status: number | null; stdout: string; stderr: string } {
        const r = spawnSync(tools.kubectl, [`--kubeconfig=${cp.adminKubeconfig}`, "--request-timeout=20s", ...args], {
            input,
            encoding: "utf8",
        });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    }

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
        const live = liveObjects(objectsAfterUp);
        expect(objectsAfterUp.filter((object) => !live.has(object))).toEqual([]);
        expect(await previewChanges(stack)).toEqual([]);
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

    test("the apps namespace enforces restricted: the apps' own pods are admitted, an inline nfs volume or root is refused", () => {
        const ns = JSON.parse(kubectl(tools, cp.adminKubeconfig, ["get", "namespace", "apps", "-o", "json"]));
        expect(ns.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
        // Each app's pod template exactly as the program rendered it, as a pod: admitted.
        const deployments = JSON.parse(kubectl(tools, cp.adminKubeconfig, ["-n", "apps", "get", "deployments", "-o", "json"]))
            .items as any[];
        expect(deployments.length).toBeGreaterThan(0);
        const podOf = (d: any, name: string, change: (spec: any) => void = () => undefined) => {
            const spec = JSON.parse(JSON.stringify(d.spec.template.spec));
            change(spec);
            return JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "apps" }, spec });
        };
        for (const d of deployments) {
            const r = spawnKubectl(["create", "--dry-run=server", "-f", "-"], podOf(d, `${d.metadata.name}-check`));
            expect({ app: d.metadata.name, status: r.status, stderr: r.stderr }).toEqual({ app: d.metadata.name, status: 0, stderr: "" });
        }
        const nfs = spawnKubectl(
            ["create", "--dry-run=server", "-f", "-"],
            podOf(deployments[0], "engine-nfs", (spec) => {
                spec.volumes = [...(spec.volumes ?? []), { name: "export", nfs: { server: "192.0.2.100", path: "/" } }];
            }),
        );
        expect(nfs.status).not.toBe(0);
        expect(nfs.stderr).toMatch(
            /violates PodSecurity "restricted:latest": restricted volume types \(volume "export" uses restricted volume type "nfs"\)/,
        );
        const root = spawnKubectl(
            ["create", "--dry-run=server", "-f", "-"],
            podOf(deployments[0], "engine-root", (spec) => {
                spec.securityContext = { ...spec.securityContext, runAsNonRoot: false, runAsUser: 0 };
                for (const c of spec.containers) delete c.securityContext.runAsNonRoot;
            }),
        );
        expect(root.status).not.toBe(0);
        expect(root.stderr).toMatch(/violates PodSecurity "restricted:latest":.*(runAsNonRoot|runAsUser=0)/);
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
        expect(await previewChanges(stack)).toEqual([]);
        // Each object has one applier, the program's field manager: no dead run's manager keeps a share of its
        // fields (which would make the next change of any of them a conflict).
        const live = liveObjects(objectsAfterUp, "--show-managed-fields");
        expect([...live.keys()].sort()).toEqual(objectsAfterUp);
        for (const [object, item] of live) {
            const appliers = (item.metadata.managedFields as { manager: string; operation: string }[])
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
        await processes.waitFor("every object deleted from the cluster", () => liveObjects(objects).size === 0, cp.processes, 300000, 3000);
    }

    /**
     * Which of `objects` (kind/namespace/name, as `stateObjects` names them) exist in the cluster, each with its live
     * JSON: one kubectl call per namespace, not one per object (a few hundred calls per stage otherwise).
     */
    function liveObjects(objects: readonly string[], ...flags: string[]): Map<string, any> {
        const byNamespace = new Map<string, string[]>();
        for (const object of objects) {
            const [kind, namespace, name] = object.split("/");
            byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), `${kind}/${name}`]);
        }
        const live = new Map<string, any>();
        for (const [namespace, refs] of byNamespace) {
            const args = ["get", ...refs, ...(namespace ? ["-n", namespace] : []), "--ignore-not-found", "-o", "json", ...flags];
            const out = kubectl(tools, cp.adminKubeconfig, args);
            if (!out.trim()) continue;
            const parsed = JSON.parse(out);
            for (const item of parsed.kind === "List" ? parsed.items : [parsed]) {
                live.set(`${item.kind}/${item.metadata.namespace ?? ""}/${item.metadata.name}`, item);
            }
        }
        return live;
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
        // README "Recovering an interrupted pulumi up": a CLI killed while it wrote the checkpoint may leave it unreadable
        // ("failed to load checkpoint"); the previous one is kept beside it and goes back first.
        let partial: Parameters<typeof stateObjects>[0];
        try {
            partial = (await stack.exportStack()).deployment;
        } catch (e) {
            if (!/failed to load checkpoint/.test(String(e))) throw e;
            restoreCheckpointBackup(ws, stage);
            partial = (await stack.exportStack()).deployment;
        }
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
        expect(await previewChanges(stack)).toEqual([]);

        expect((await stack.destroy()).summary.result).toBe("succeeded");
        await waitGone(objectsAfterUp);
    });
});
