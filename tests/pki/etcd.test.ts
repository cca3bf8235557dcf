/**
 * A real three-member etcd cluster on loopback (127.0.0.1-3), with the files a controller receives
 * (controllerFiles) and the TLS settings of etcdTlsEnvironment, reached the way kube-apiserver's rendered flags
 * say. Certificates come from the cluster's specs via openssl. Checks: the members form a cluster over peer TLS;
 * the apiserver's client certificate can write and read; no certificate, or one from the Kubernetes CA, cannot.
 *
 * On loopback every member dials its peers from 127.0.0.1, so members 1 and 2 log "does not match" rejections of
 * their own outgoing peer connections (etcd checks a peer certificate's IP against the caller's address); on the
 * controllers the source address is the controller's own, which its peer certificate names. Raft still gets
 * through (member 0's connections are accepted), which is what the replication test relies on.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ControlPlaneSettings, STATIC_POD_FILES, controllerFiles } from "../../controlplane";
import { nodePaths } from "../../layout/node";
import { PkiMaterial, clusterCertificateSpecs, etcdTlsEnvironment } from "../../pki";
import { issueWithOpenssl, materialFromFiles } from "./helpers/openssl";
import { attempt, requireTools, removeScratchDirs, scratchDir } from "./helpers/tools";

const CONTROLLERS = [0, 1, 2].map((i) => ({ hostname: `etcd-test-${i}`, ip: `127.0.0.${i + 1}` }));
// Ports away from etcd's defaults, so a developer's own etcd does not get in the way.
const CLIENT_PORT = 20000 + (process.pid % 20000);
const PEER_PORT = CLIENT_PORT + 1;

const settings: ControlPlaneSettings = {
    clusterName: "etcd-test",
    serviceCidr: "10.96.0.0/16",
    podCidr: "10.244.0.0/16",
    controllers: CONTROLLERS,
    registries: { registries: ["quay.io"], mirrors: {}, fallbackToUpstream: true },
};

let work: string;
let material: PkiMaterial;
const members: ChildProcess[] = [];
/** The root of controller i's files (its "/"). */
const rootOf = (i: number) => path.join(work, `controller-${i}`);

/** kube-apiserver's flags, from the rendered static pod of controller 0. */
function apiserverFlags(): Record<string, string> {
    const { files } = controllerFiles(material, settings, 0);
    const pod = files.find((f) => f.path === `${nodePaths.staticPodDir}/${STATIC_POD_FILES.apiserver}`)!;
    const command: string[] = parse(pod.content).spec.containers[0].command;
    return Object.fromEntries(
        command.filter((a) => a.startsWith("--")).map((a) => a.slice(2).split(/=(.*)/s).slice(0, 2) as [string, string]),
    );
}

/** What member i logs from now on (a function to call after the action). */
function logAfter(i: number): () => string {
    const file = path.join(work, `etcd-${i}.log`);
    const start = fs.statSync(file).size;
    return () => fs.readFileSync(file, "utf8").slice(start);
}

function etcdctl(args: string[], tls: { cacert: string; cert?: string; key?: string }, endpoint: string, timeout = "5s") {
    return attempt(
        "etcdctl",
        [
            `--endpoints=${endpoint}`,
            `--cacert=${tls.cacert}`,
            ...(tls.cert ? [`--cert=${tls.cert}`, `--key=${tls.key}`] : []),
            "--dial-timeout=2s",
            `--command-timeout=${timeout}`,
            ...args,
        ],
        { env: { ...process.env, ETCDCTL_API: "3" }, timeoutMs: 20000 },
    );
}

beforeAll(async () => {
    requireTools("openssl", "etcd", "etcdctl");
    work = scratchDir("pki-etcd");
    const specs = clusterCertificateSpecs<string>({
        clusterName: "etcd-test",
        apiServiceIp: "10.96.0.1",
        apiServerInternalAddress: "10.0.0.10",
        apiServerPublicAddress: "203.0.113.50",
        controllers: CONTROLLERS,
    });
    fs.mkdirSync(path.join(work, "pki"));
    material = materialFromFiles(
        issueWithOpenssl(specs, { caValidityDays: 3650, certValidityDays: 365, renewBeforeDays: 30 }, path.join(work, "pki")),
        path.join(work, "pki"),
    );

    const initialCluster = CONTROLLERS.map((c) => `${c.hostname}=https://${c.ip}:${PEER_PORT}`).join(",");
    CONTROLLERS.forEach((controller, i) => {
        for (const file of controllerFiles(material, settings, i).files) {
            const target = path.join(rootOf(i), file.path);
            fs.mkdirSync(path.dirname(target), { recursive: true });
            fs.writeFileSync(target, file.content, { mode: parseInt(file.mode, 8) });
        }
        const env = {
            PATH: process.env.PATH,
            ETCD_NAME: controller.hostname,
            ETCD_DATA_DIR: path.join(rootOf(i), nodePaths.etcdDataDir),
            ETCD_LISTEN_CLIENT_URLS: `https://${controller.ip}:${CLIENT_PORT}`,
            ETCD_ADVERTISE_CLIENT_URLS: `https://${controller.ip}:${CLIENT_PORT}`,
            ETCD_LISTEN_PEER_URLS: `https://${controller.ip}:${PEER_PORT}`,
            ETCD_INITIAL_ADVERTISE_PEER_URLS: `https://${controller.ip}:${PEER_PORT}`,
            ETCD_INITIAL_CLUSTER: initialCluster,
            ETCD_INITIAL_CLUSTER_STATE: "new",
            ETCD_INITIAL_CLUSTER_TOKEN: `etcd-test-${process.pid}`,
            ...etcdTlsEnvironment(path.join(rootOf(i), nodePaths.etcdPkiDir)),
        };
        // Straight to a file: the tests block the event loop (spawnSync), so a pipe would not be drained.
        const log = fs.openSync(path.join(work, `etcd-${i}.log`), "a");
        members.push(spawn("etcd", [], { env, stdio: ["ignore", "ignore", log] }));
        fs.closeSync(log);
    });

    // Wait (bounded) until every member answers as healthy with the apiserver's client certificate.
    const flags = apiserverFlags();
    const tls = {
        cacert: path.join(rootOf(0), flags["etcd-cafile"]),
        cert: path.join(rootOf(0), flags["etcd-certfile"]),
        key: path.join(rootOf(0), flags["etcd-keyfile"]),
    };
    const endpoints = CONTROLLERS.map((c) => `https://${c.ip}:${CLIENT_PORT}`).join(",");
    for (let i = 0; ; i++) {
        if (etcdctl(["endpoint", "health"], tls, endpoints).status === 0) {
            break;
        }
        if (i === 40) {
            const logs = [0, 1, 2].map((n) =>
                fs
                    .readFileSync(path.join(work, `etcd-${n}.log`), "utf8")
                    .split("\n")
                    .slice(-8)
                    .join("\n"),
            );
            throw new Error(`etcd cluster did not become healthy in 20 s:\n${logs.join("\n---\n")}`);
        }
        await new Promise((r) => setTimeout(r, 500));
    }
}, 120000);

afterAll(async () => {
    await Promise.all(
        members.map(
            (member) =>
                new Promise<void>((resolve) => {
                    if (member.exitCode !== null) {
                        return resolve();
                    }
                    member.once("exit", () => resolve());
                    member.kill("SIGTERM");
                }),
        ),
    );
});

describe("etcd with the controllers' files and the rendered TLS settings", () => {
    test("the apiserver's etcd flags point at etcd's own CA and the etcd client pair", () => {
        const flags = apiserverFlags();
        expect(flags["etcd-servers"]).toBe("https://127.0.0.1:2379,https://127.0.0.2:2379,https://127.0.0.3:2379");
        expect(fs.readFileSync(path.join(rootOf(0), flags["etcd-cafile"]), "utf8")).toBe(material.certs["etcd-ca"]);
        expect(fs.readFileSync(path.join(rootOf(0), flags["etcd-certfile"]), "utf8")).toBe(material.certs["etcd-client"]);
    });

    test("a write through one member is read through another (peer TLS works), with the apiserver's client certificate", () => {
        const flags = apiserverFlags();
        const tls = {
            cacert: path.join(rootOf(0), flags["etcd-cafile"]),
            cert: path.join(rootOf(0), flags["etcd-certfile"]),
            key: path.join(rootOf(0), flags["etcd-keyfile"]),
        };
        // The endpoints the apiserver is told, on the test's port.
        const [first, , third] = flags["etcd-servers"].split(",").map((u) => u.replace(":2379", `:${CLIENT_PORT}`));
        const put = etcdctl(["put", "/registry/platform-test", "written-by-apiserver"], tls, first);
        expect(put.stderr).toBe("");
        expect(put.status).toBe(0);
        const get = etcdctl(["get", "/registry/platform-test", "--print-value-only"], tls, third);
        expect(get.stdout.trim()).toBe("written-by-apiserver");
        const list = etcdctl(["member", "list"], tls, first);
        expect(
            list.stdout
                .split("\n")
                .filter(Boolean)
                .map((l) => l.split(", ")[2])
                .sort(),
        ).toEqual(["etcd-test-0", "etcd-test-1", "etcd-test-2"]);
    });

    test("without a client certificate etcd refuses the request", () => {
        const cacert = path.join(rootOf(0), nodePaths.pkiDir, "etcd-ca.crt");
        const log = logAfter(0);
        const put = etcdctl(["put", "/registry/intruder", "x"], { cacert }, `https://127.0.0.1:${CLIENT_PORT}`, "2s");
        expect(put.status).not.toBe(0);
        // etcdctl only says "deadline exceeded"; the member says why.
        expect(log()).toContain("client didn't provide a certificate");
        const get = etcdctl(["get", "/registry/platform-test"], { cacert }, `https://127.0.0.2:${CLIENT_PORT}`, "2s");
        expect(get.status).not.toBe(0);
        expect(get.stdout).not.toContain("written-by-apiserver");
    });

    test("a Kubernetes client certificate (even cluster-admin's) is not an etcd client", () => {
        const dir = path.join(work, "pki");
        const log = logAfter(0);
        const put = etcdctl(
            ["put", "/registry/intruder", "x"],
            { cacert: path.join(dir, "etcd-ca.crt"), cert: path.join(dir, "admin.crt"), key: path.join(dir, "admin.key") },
            `https://127.0.0.1:${CLIENT_PORT}`,
            "2s",
        );
        expect(put.status).not.toBe(0);
        expect(log()).toContain("certificate signed by unknown authority");
    });
});

afterAll(removeScratchDirs);
