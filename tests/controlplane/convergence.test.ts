/**
 * What the SSH deliveries of issue 11 carry, and their scripts run for real with bash and stand-ins (as the other
 * script tests do): the NFS readiness wait (a stand-in `mount` that answers after a few tries), the switch that turns
 * OS updates on (a stand-in `systemctl`), and the files a controller and a worker receive before their kubelet and
 * etcd start (registry mirrors, etcd's settings).
 */
import * as fs from "fs";
import * as path from "path";
import {
    ControlPlaneSettings,
    NODE_EXPORTER_UNIT,
    containerdHostsToml,
    controllerFiles,
    etcdEnvironment,
    nodeExporterFiles,
    osUpdatesOnFiles,
    podmanMirrorsConf,
    registryFiles,
    renderInstallScript,
    renderNfsReadyScript,
} from "../../controlplane";
import { nodePaths, nodeUnits, pkiFiles } from "../../layout/node";
import { versions } from "../../versions";
import { placeholderClusterMaterial } from "./helpers/material";
import { attempt, removeScratchDirs, requireTools, scratchDir } from "../pki/helpers/tools";

afterAll(removeScratchDirs);

/** A stand-in command that records its arguments in `<dir>/calls`, then runs `body`. */
function standIn(dir: string, name: string, body: string): void {
    fs.writeFileSync(path.join(dir, name), `#!/bin/bash\necho "${name} $*" >> '${dir}/calls'\n${body}\n`, { mode: 0o755 });
}
const calls = (dir: string) => (fs.existsSync(`${dir}/calls`) ? fs.readFileSync(`${dir}/calls`, "utf8").trim().split("\n") : []);

describe("the NFS readiness wait (run on a controller through the bastion)", () => {
    /** Runs the script in a private mount namespace (its scratch mount point goes under a tmpfs /run). */
    function runWait(failures: number, attempts: number) {
        requireTools("bash", "unshare");
        const bin = scratchDir("nfs-wait");
        standIn(bin, "mount", `n=$(grep -c '^mount ' '${bin}/calls'); [ "$n" -gt ${failures} ]`);
        standIn(bin, "umount", "exit 0");
        const script = renderNfsReadyScript({
            target: "controller c-0",
            server: "10.10.31.243",
            path: nodePaths.nfsExportDir,
            attempts,
            delaySeconds: 0,
        });
        const r = attempt("unshare", ["--mount", "bash", "-c", `/bin/mount -t tmpfs tmpfs /run && bash -s`], {
            input: script,
            env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
        });
        return { ...r, calls: calls(bin) };
    }

    test("mounts the export read-only with NFSv4 until it answers, then unmounts it", () => {
        const r = runWait(2, 5);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        const mounts = r.calls.filter((c) => c.startsWith("mount "));
        expect(mounts).toHaveLength(3);
        expect(mounts[2]).toMatch(
            new RegExp(`^mount -t nfs4 -o ro,soft,timeo=50,retrans=1 -- 10\\.10\\.31\\.243:${nodePaths.nfsExportDir} /run/nfs-ready\\.`),
        );
        expect(r.calls.filter((c) => c.startsWith("umount ")).length).toBeGreaterThanOrEqual(1);
        expect(r.stdout).toContain(`NFS ready: 10.10.31.243:${nodePaths.nfsExportDir} mounted from controller c-0`);
    });

    test("gives up after its attempts, naming the node, the step and where to look", () => {
        const r = runWait(99, 3);
        expect(r.status).toBe(1);
        expect(r.calls.filter((c) => c.startsWith("mount "))).toHaveLength(3);
        expect(r.stderr).toContain(
            `controller c-0: step "mount 10.10.31.243:${nodePaths.nfsExportDir}": the export did not answer within 0 s`,
        );
        expect(r.stderr).toContain("layer-nfs-utils.service");
    });
});

describe("turning OS updates on (every node, once the stage has converged)", () => {
    test("writes Zincati's drop-in and restarts Zincati once; a second run changes and restarts nothing", () => {
        requireTools("bash");
        const root = scratchDir("os-updates");
        standIn(root, "systemctl", "exit 0");
        const files = osUpdatesOnFiles().files.map((f) => ({ ...f, path: `${root}${f.path}` }));
        const script = renderInstallScript({ target: "worker w-0", files });
        const env = { ...process.env, PATH: `${root}:${process.env.PATH}` };
        const first = attempt("bash", ["-s"], { input: script, env });
        expect(first.status).toBe(0);
        expect(fs.readFileSync(`${root}${nodePaths.osUpdatesOnFile}`, "utf8")).toMatch(/^\[updates\]\nenabled = true\n$/m);
        // Sorts after the first boot's 55-updates.toml, whose `enabled = false` it overrides (Zincati merges by name).
        expect(path.basename(nodePaths.osUpdatesOnFile) > "55-updates.toml").toBe(true);
        expect(first.stdout).toContain(`restarted ${nodeUnits.zincati}`);
        const second = attempt("bash", ["-s"], { input: script, env });
        expect(second.stdout).toContain("0 of 1 files changed");
        expect(calls(root)).toEqual([`systemctl try-restart ${nodeUnits.zincati}`]);
    });
});

describe("what a node receives over SSH before its kubelet and etcd start", () => {
    const settings: ControlPlaneSettings = {
        clusterName: "c",
        serviceCidr: "10.96.0.0/16",
        podCidr: "10.244.0.0/16",
        controllers: [
            { hostname: "c-0", ip: "10.0.0.10" },
            { hostname: "c-1", ip: "10.0.16.10" },
            { hostname: "c-2", ip: "10.0.32.10" },
        ],
        registries: {
            registries: ["registry.k8s.io", "quay.io", "ghcr.io"],
            mirrors: { "registry.k8s.io": "https://m.example.com/ns/registry.k8s.io", "quay.io": "https://m.example.com/ns/quay.io" },
            fallbackToUpstream: true,
        },
    };
    const material = placeholderClusterMaterial(settings);

    test("a controller: registry files first, etcd's settings before its certificates (restarting etcd when they change)", () => {
        const { files } = controllerFiles(material, settings, 1);
        const paths = files.map((f) => f.path);
        expect(paths.slice(0, 4)).toEqual([
            `${nodePaths.containerdHostsDir}/registry.k8s.io/hosts.toml`,
            `${nodePaths.containerdHostsDir}/quay.io/hosts.toml`,
            `${nodePaths.containerdHostsDir}/ghcr.io/hosts.toml`,
            nodePaths.podmanMirrorsFile,
        ]);
        const env = paths.indexOf(nodePaths.etcdEnvFile);
        expect(env).toBeGreaterThan(3);
        expect(env).toBeLessThan(paths.indexOf(`${nodePaths.etcdPkiDir}/${pkiFiles.etcdServer}`));
        expect(files[env]).toMatchObject({ mode: "0644", restarts: nodeUnits.etcd });
    });

    test("etcd's settings: its name, mutual TLS, the initial cluster by name", () => {
        const env = new Map(
            etcdEnvironment(settings, 1)
                .trim()
                .split("\n")
                .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as [string, string]),
        );
        const pki = (f: string) => `${nodePaths.etcdPkiDir}/${f}`;
        expect(env.get("ETCD_NAME")).toBe("c-1");
        expect(env.get("ETCD_DATA_DIR")).toBe(nodePaths.etcdDataDir);
        expect(env.get("ETCD_ADVERTISE_CLIENT_URLS")).toBe("https://10.0.16.10:2379");
        expect(env.get("ETCD_LISTEN_CLIENT_URLS")?.split(",")).toEqual(["https://10.0.16.10:2379", "https://127.0.0.1:2379"]);
        expect(env.get("ETCD_LISTEN_PEER_URLS")).toBe("https://10.0.16.10:2380");
        // Prometheus's listener (issue 13): /metrics and /health on the member's own address, with the client port's TLS.
        expect(env.get("ETCD_LISTEN_METRICS_URLS")).toBe("https://10.0.16.10:2381");
        expect(env.get("ETCD_INITIAL_CLUSTER")).toBe("c-0=https://c-0:2380,c-1=https://c-1:2380,c-2=https://c-2:2380");
        expect(env.get("ETCD_INITIAL_CLUSTER")?.split(",")).toContain(`c-1=${env.get("ETCD_INITIAL_ADVERTISE_PEER_URLS")}`);
        expect(env.get("ETCD_CLIENT_CERT_AUTH")).toBe("true");
        expect(env.get("ETCD_PEER_CLIENT_CERT_AUTH")).toBe("true");
        expect(env.get("ETCD_CERT_FILE")).toBe(pki(pkiFiles.etcdServer));
        expect(env.get("ETCD_PEER_TRUSTED_CA_FILE")).toBe(pki(pkiFiles.etcdTrustedCa));
    });

    test("a worker: hosts.toml for every registry, no podman file (it runs none)", () => {
        expect(registryFiles(settings.registries, false).map((f) => f.path)).toEqual([
            `${nodePaths.containerdHostsDir}/registry.k8s.io/hosts.toml`,
            `${nodePaths.containerdHostsDir}/quay.io/hosts.toml`,
            `${nodePaths.containerdHostsDir}/ghcr.io/hosts.toml`,
        ]);
    });

    test("node_exporter on the bastion or the NFS node (podman, no kubelet) comes with podman's mirror file, before its unit", () => {
        const files = nodeExporterFiles(settings.registries);
        expect(files.files.map((f) => f.path)).toEqual([nodePaths.podmanMirrorsFile, `/etc/systemd/system/${NODE_EXPORTER_UNIT}`]);
        expect(files.files[0].content).toBe(podmanMirrorsConf(settings.registries));
        expect(files.files[0].content).toContain('prefix = "quay.io"');
        expect(files.files[1].content).toContain(versions.images.nodeExporter);
        expect(files.enable).toEqual([NODE_EXPORTER_UNIT]);
    });

    test("the rendered hosts.toml and podman entries, with and without fallback", () => {
        expect(containerdHostsToml("quay.io", "https://m.example.com/ns/quay.io", true)).toBe(
            'server = "https://quay.io"\n\n[host."https://m.example.com/v2/ns/quay.io"]\n  capabilities = ["pull", "resolve"]\n  override_path = true\n',
        );
        expect(containerdHostsToml("quay.io", "https://m.example.com/ns/quay.io", false)).toBe(
            'server = "https://m.example.com"\n\n[host."https://m.example.com/v2/ns/quay.io"]\n  capabilities = ["pull", "resolve"]\n  override_path = true\n',
        );
        expect(containerdHostsToml("docker.io", "https://dockerhub-mirror.example.com", true)).toBe(
            'server = "https://registry-1.docker.io"\n\n[host."https://dockerhub-mirror.example.com"]\n  capabilities = ["pull", "resolve"]\n',
        );
        expect(podmanMirrorsConf({ ...settings.registries, fallbackToUpstream: false })).toContain(
            '[[registry]]\nprefix = "quay.io"\nlocation = "m.example.com/ns/quay.io"\n',
        );
        expect(podmanMirrorsConf(settings.registries)).toContain(
            '[[registry]]\nprefix = "quay.io"\nlocation = "quay.io"\n[[registry.mirror]]\nlocation = "m.example.com/ns/quay.io"\n',
        );
    });
});
