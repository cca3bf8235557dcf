/**
 * The SSH scripts, run for real with bash (as `bash -s`, the way the commands feed them): the file installer in a
 * scratch directory, the bootstrap with a stand-in podman, the readiness wait against an openssl TLS server that
 * requires the health-check client certificate.
 */
import * as fs from "fs";
import * as path from "path";
import {
    NodeFile,
    controllerFiles,
    joinFiles,
    renderBootstrapManifests,
    renderBootstrapScript,
    renderHostKeyScanScript,
    renderInstallScript,
    renderJoinRequestScript,
    renderJoinedScript,
    renderReadinessScript,
    splitJoinRequests,
    teamKeysFiles,
} from "../../controlplane";
import { nodePaths } from "../../layout/node";
import { placeholderClusterMaterial } from "./helpers/material";
import { PkiMaterial, certificateRequestProblems, clusterCertificateSpecs, kubeletClientSpec, kubeletServingSpec } from "../../pki";
import { IssuedFiles, issueWithOpenssl, materialFromFiles } from "../pki/helpers/openssl";
import { TlsServer, startHealthzServer } from "../pki/helpers/tlsServer";
import { attempt, requireTools, removeScratchDirs, scratchDir } from "../pki/helpers/tools";

/** The control-plane settings of a one-controller cluster. */
const oneController = (clusterName: string) => ({
    clusterName,
    serviceCidr: "10.96.0.0/16",
    podCidr: "10.244.0.0/16",
    controllers: [{ hostname: "c-0", ip: "10.0.0.20" }],
    registries: { registries: ["registry.k8s.io", "quay.io"], mirrors: {}, fallbackToUpstream: true },
});

const bash = (script: string, env: NodeJS.ProcessEnv = {}) =>
    attempt("bash", ["-s"], { input: script, env: { ...process.env, ...env }, timeoutMs: 60000 });

describe("the file installer", () => {
    let root: string;
    let files: NodeFile[];
    beforeAll(() => {
        requireTools("bash");
        root = scratchDir("install");
        files = [
            {
                path: `${root}/etc/kubernetes/pki/ca.crt`,
                mode: "0644",
                content: "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n",
                containerReadable: true,
            },
            {
                path: `${root}/etc/kubernetes/pki/ca.key`,
                mode: "0600",
                content: "secret key's bytes, with 'quotes' and $dollars and `backticks`\nPLATFORM_EOF\n",
                containerReadable: true,
            },
            {
                path: `${root}/etc/kubernetes/manifests/kube-apiserver.yaml`,
                mode: "0644",
                content: "kind: Pod\n",
                containerReadable: false,
            },
            { path: `${root}/etc/kubernetes/no-trailing-newline`, mode: "0600", content: "exact", containerReadable: false },
        ];
    });

    test("installs every file with its exact content and mode, and says how many changed", () => {
        const r = bash(renderInstallScript({ target: "controller c-0", files }));
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        for (const f of files) {
            expect(fs.readFileSync(f.path, "utf8")).toBe(f.content);
            expect((fs.statSync(f.path).mode & 0o777).toString(8)).toBe(f.mode.slice(1));
        }
        expect(r.stdout).toContain("controller c-0: 4 of 4 files changed");
        // Directories it creates are private (umask 077).
        expect((fs.statSync(`${root}/etc/kubernetes/pki`).mode & 0o777).toString(8)).toBe("700");
    });

    test("a second run changes nothing (so no .path unit or static pod is disturbed) and leaves no temporary files", () => {
        const before = files.map((f) => fs.statSync(f.path).mtimeMs);
        const r = bash(renderInstallScript({ target: "controller c-0", files }));
        expect(r.status).toBe(0);
        expect(r.stdout).toContain("0 of 4 files changed");
        expect(files.map((f) => fs.statSync(f.path).mtimeMs)).toEqual(before);
        const leftovers = fs.readdirSync(`${root}/etc/kubernetes/pki`).filter((n) => n.startsWith("."));
        expect(leftovers).toEqual([]);
    });

    test("a changed file, or a wrong mode, is installed again; the others are left alone", () => {
        fs.chmodSync(files[0].path, 0o666);
        const changed = files.map((f, i) => (i === 2 ? { ...f, content: "kind: Pod\nmetadata: {}\n" } : f));
        const r = bash(renderInstallScript({ target: "controller c-0", files: changed }));
        expect(r.stdout).toContain("2 of 4 files changed");
        expect(r.stdout).toContain(`installed ${files[0].path}`);
        expect(r.stdout).toContain(`installed ${files[2].path}`);
        expect(fs.readFileSync(files[2].path, "utf8")).toBe("kind: Pod\nmetadata: {}\n");
        expect((fs.statSync(files[0].path).mode & 0o777).toString(8)).toBe("644");
    });

    test("restarts a unit whose file changed (etcd reads its trusted CAs only at start), and only then", () => {
        const bin = scratchDir("systemctl");
        const log = `${bin}/calls`;
        fs.writeFileSync(`${bin}/systemctl`, `#!/bin/sh\necho "$@" >> '${log}'\n`, { mode: 0o755 });
        const ca: NodeFile = {
            path: `${root}/etc/ssl/etcd/ca.crt`,
            mode: "0644",
            content: "old CA\n",
            containerReadable: false,
            restarts: "etcd-member.service",
        };
        const env = { PATH: `${bin}:${process.env.PATH}` };
        expect(bash(renderInstallScript({ target: "controller c-0", files: [ca] }), env).stdout).toContain("restarted etcd-member.service");
        expect(bash(renderInstallScript({ target: "controller c-0", files: [ca] }), env).stdout).not.toContain("restarted");
        bash(renderInstallScript({ target: "controller c-0", files: [{ ...ca, content: "new CA\n" }] }), env);
        expect(fs.readFileSync(log, "utf8").trim().split("\n")).toEqual([
            "try-restart etcd-member.service",
            "try-restart etcd-member.service",
        ]);
    });

    test("reloads a unit whose file changed (NFS exports: clients stay mounted), and enables the units it is told to", () => {
        const bin = scratchDir("systemctl-reload");
        const log = `${bin}/calls`;
        fs.writeFileSync(`${bin}/systemctl`, `#!/bin/sh\necho "$@" >> '${log}'\n`, { mode: 0o755 });
        const exports: NodeFile = {
            path: `${root}/etc/exports`,
            mode: "0644",
            content: "/var/srv/nfs 10.0.16.0/20(rw)\n",
            containerReadable: false,
            reloads: "nfs-server.service",
        };
        const timer: NodeFile = {
            path: `${root}/etc/systemd/system/x.timer`,
            mode: "0644",
            content: "[Timer]\n",
            containerReadable: false,
        };
        const env = { PATH: `${bin}:${process.env.PATH}` };
        const run = (files: NodeFile[]) => bash(renderInstallScript({ target: "NFS server n", files, enable: ["x.timer"] }), env);
        expect(run([exports, timer]).stdout).toContain("reloaded nfs-server.service");
        expect(run([exports, timer]).stdout).not.toContain("reloaded");
        run([{ ...exports, content: "/var/srv/nfs 10.0.16.0/20(rw) 10.0.32.0/20(rw)\n" }, timer]);
        expect(fs.readFileSync(log, "utf8").trim().split("\n")).toEqual([
            // First run: two files changed, so systemd re-reads its units before enabling the timer.
            "try-reload-or-restart nfs-server.service",
            "daemon-reload",
            "enable --now x.timer",
            // Nothing changed: the timer is enabled again (a no-op), nothing reloaded.
            "enable --now x.timer",
            // The exports changed: reloaded, and units re-read.
            "try-reload-or-restart nfs-server.service",
            "daemon-reload",
            "enable --now x.timer",
        ]);
    });

    test("a failure names the controller and the step, and prints no file content", () => {
        fs.writeFileSync(`${root}/blocker`, "a file where a directory should be");
        const bad: NodeFile = { path: `${root}/blocker/x.key`, mode: "0600", content: "TOPSECRET-KEY", containerReadable: false };
        const r = bash(renderInstallScript({ target: "controller c-0", files: [files[0], bad] }));
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain(`controller c-0: step "install ${root}/blocker/x.key" failed`);
        expect(r.stdout + r.stderr).not.toContain("TOPSECRET");
    });
});

describe("every node's files go through the same installer", () => {
    /** Another user than the one running the test, for ownership (as root: nobody; otherwise chown can only keep us). */
    const owner =
        process.getuid?.() === 0 ? "nobody:nogroup" : `${attempt("id", ["-un"]).stdout.trim()}:${attempt("id", ["-gn"]).stdout.trim()}`;
    const ownerOf = (p: string) => attempt("stat", ["-c", "%U:%G", p]).stdout.trim();

    test("the team's keys: their user owns the file and the directories, private to it; a re-run changes nothing; a removed key is gone", () => {
        const root = scratchDir("team-keys");
        const keys = [
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGhNEjJJ2b8u6wD6trIZPsojOnPIFbyDWl6/7Wn5aBqp a@example.com",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMPkJ8R3vP6qD1pQv2b3Pq8Zt4uLwYx0aBcDeFgHiJkL b@example.com",
        ];
        // The real paths, moved under a scratch root, and given an owner this machine has.
        const rooted = (k: readonly string[]) => {
            const delivery = teamKeysFiles(k);
            expect(delivery.files.map((f) => [f.path, f.mode, f.owner])).toEqual([[nodePaths.teamKeysFile, "0600", "core:core"]]);
            expect((delivery.directories ?? []).map((d) => [d.path, d.mode, d.owner])).toEqual([
                ["/home/core/.ssh", "0700", "core:core"],
                ["/home/core/.ssh/authorized_keys.d", "0700", "core:core"],
            ]);
            return {
                target: "worker w-0",
                directories: (delivery.directories ?? []).map((d) => ({ ...d, path: root + d.path, owner })),
                files: delivery.files.map((f) => ({ ...f, path: root + f.path, owner })),
            };
        };
        const file = root + nodePaths.teamKeysFile;
        const first = bash(renderInstallScript(rooted(keys)));
        expect(first.stderr).toBe("");
        expect(first.stdout).toContain("worker w-0: 1 of 1 files changed");
        expect(fs.readFileSync(file, "utf8")).toBe(keys.join("\n") + "\n");
        for (const p of [file, path.dirname(file), path.dirname(path.dirname(file))]) {
            expect({ p, owner: ownerOf(p), mode: (fs.statSync(p).mode & 0o777).toString(8) }).toEqual({
                p,
                owner,
                mode: p === file ? "600" : "700",
            });
        }
        expect(bash(renderInstallScript(rooted(keys))).stdout).toContain("0 of 1 files changed");
        bash(renderInstallScript(rooted(keys.slice(1))));
        expect(fs.readFileSync(file, "utf8")).toBe(`${keys[1]}\n`);
    });

    test("a file whose owner is wrong is installed again", () => {
        const root = scratchDir("owner");
        const f: NodeFile = { path: `${root}/keys`, mode: "0600", content: "k\n", containerReadable: false, owner };
        bash(renderInstallScript({ target: "node n-0", files: [f] }));
        fs.chownSync(f.path, 0, 0);
        const r = bash(renderInstallScript({ target: "node n-0", files: [f] }));
        expect(r.stdout).toContain(process.getuid?.() === 0 ? "1 of 1 files changed" : "0 of 1 files changed");
        expect(ownerOf(f.path)).toBe(owner);
    });

    test("a worker joins with the files a controller's kubelet joins with, last of them and in the same order", () => {
        const settings = oneController("c");
        const material = placeholderClusterMaterial(settings);
        const { files } = controllerFiles(material, settings, 0);
        const [ca, servingKey, servingCert, kubeconfig] = files.slice(-4);
        expect(files.slice(-4)).toEqual(
            joinFiles({
                caCertPem: ca.content,
                servingKeyPem: servingKey.content,
                servingCertPem: servingCert.content,
                kubeconfig: kubeconfig.content,
            }),
        );
        // A worker's join is the same, without the serving key (the node made it).
        expect(joinFiles({ caCertPem: "CA", servingCertPem: "CERT", kubeconfig: "KUBECONFIG" }).map((f) => [f.path, f.mode])).toEqual([
            [nodePaths.clusterCaCert, "0644"],
            [nodePaths.kubeletServingCert, "0644"],
            [nodePaths.bootstrapKubeconfig, "0600"],
        ]);
    });
});

describe("the one-shot bootstrap", () => {
    let dir: string;
    let podmanLog: string;
    const breakGlass = "apiVersion: v1\nkind: Config\nusers:\n- user:\n    client-key-data: QlJFQUstR0xBU1MtS0VZ\n";
    const timing = { pullAttempts: 2, apiAttempts: 3, applyAttempts: 2, delaySeconds: 0 };

    /** A podman that records its calls: pulls work, /healthz answers after `unhealthy` failures, apply saves stdin. */
    function fakePodman(unhealthy: number): NodeJS.ProcessEnv {
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin, { recursive: true });
        fs.writeFileSync(path.join(dir, "unhealthy"), String(unhealthy));
        fs.writeFileSync(
            path.join(bin, "podman"),
            `#!/bin/bash
echo "$*" >> ${podmanLog}
case "$*" in
  pull*) exit 0 ;;
  *get\\ --raw=/healthz*)
    n=$(cat ${dir}/unhealthy)
    if [ "$n" -gt 0 ]; then echo $((n - 1)) > ${dir}/unhealthy; exit 1; fi
    exit 0 ;;
  *apply*) cat > ${dir}/applied.yaml
    # The break-glass kubeconfig, as the mounted file holds it while the script runs.
    volume=$(echo "$*" | sed -n 's/.*-v \\([^:]*\\):\\/kubeconfig:ro.*/\\1/p')
    echo "$volume" > ${dir}/volume; cp "$volume" ${dir}/kubeconfig-seen; stat -c %a "$volume" > ${dir}/kubeconfig-mode
    exit 0 ;;
esac
exit 3
`,
            { mode: 0o755 },
        );
        return { PATH: `${bin}:${process.env.PATH}` };
    }
    const script = (manifests: string, t = timing) =>
        renderBootstrapScript({
            target: "controller c-0",
            manifests,
            markerPath: path.join(dir, "state/bootstrap.done"),
            breakGlassKubeconfig: breakGlass,
            kubectlImage: "registry.k8s.io/kubectl:v1.36.4",
            timing: t,
        });

    beforeEach(() => {
        dir = scratchDir("bootstrap");
        podmanLog = path.join(dir, "podman.log");
    });

    test("waits for the apiserver, applies the objects once, and a re-run is a no-op", () => {
        const env = fakePodman(2);
        const manifests = renderBootstrapManifests();
        const first = bash(script(manifests), env);
        expect(first.stderr).toBe("");
        expect(first.status).toBe(0);
        expect(fs.readFileSync(path.join(dir, "applied.yaml"), "utf8")).toBe(manifests);
        const calls = fs.readFileSync(podmanLog, "utf8").trim().split("\n");
        expect(calls.filter((c) => c.includes("--raw=/healthz"))).toHaveLength(3);
        expect(calls.filter((c) => c.includes(" apply "))).toHaveLength(1);
        // kubectl runs against the local apiserver with the break-glass kubeconfig, read-only, from a private file that
        // exists only while the script runs.
        expect(calls.find((c) => c.includes(" apply "))).toMatch(
            /-v \S+:\/kubeconfig:ro registry\.k8s\.io\/kubectl:v1\.36\.4 --kubeconfig=\/kubeconfig apply --server-side/,
        );
        expect(fs.readFileSync(path.join(dir, "kubeconfig-seen"), "utf8")).toBe(breakGlass);
        expect(fs.readFileSync(path.join(dir, "kubeconfig-mode"), "utf8").trim()).toBe("600");
        expect(fs.existsSync(fs.readFileSync(path.join(dir, "volume"), "utf8").trim())).toBe(false);

        const again = bash(script(manifests), env);
        expect(again.status).toBe(0);
        expect(again.stdout).toContain("controller c-0: bootstrap already done");
        expect(fs.readFileSync(podmanLog, "utf8").trim().split("\n")).toHaveLength(calls.length);
        // Nothing the command prints contains the break-glass key.
        expect(first.stdout + first.stderr + again.stdout).not.toContain("QlJFQUstR0xBU1MtS0VZ");
    });

    test("changed objects (a new version of the program's RBAC) are applied once more", () => {
        const env = fakePodman(0);
        expect(bash(script(renderBootstrapManifests()), env).status).toBe(0);
        const changed = `${renderBootstrapManifests()}---\nkind: ClusterRoleBinding\nmetadata:\n  name: added-later\n`;
        const r = bash(script(changed), env);
        expect(r.status).toBe(0);
        expect(r.stdout).toContain("bootstrap RBAC applied");
        expect(fs.readFileSync(path.join(dir, "applied.yaml"), "utf8")).toContain("added-later");
    });

    test("an apiserver that never answers fails within the bound, naming the controller and the step", () => {
        const env = fakePodman(1000);
        const r = bash(script(renderBootstrapManifests()), env);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(
            'controller c-0: step "wait for kube-apiserver": the local kube-apiserver did not answer /healthz within 0 s',
        );
        expect(fs.existsSync(path.join(dir, "state/bootstrap.done"))).toBe(false);
        expect(
            fs
                .readFileSync(podmanLog, "utf8")
                .split("\n")
                .filter((c) => c.includes("--raw=/healthz")),
        ).toHaveLength(3);
        expect(r.stdout + r.stderr).not.toContain("QlJFQUstR0xBU1MtS0VZ");
    });
});

describe("the readiness wait (curl with the health-check certificate against a TLS server)", () => {
    let pki: PkiMaterial;
    let issued: Map<string, IssuedFiles>;
    let server: TlsServer;
    beforeAll(async () => {
        requireTools("bash", "curl", "openssl");
        const dir = scratchDir("readiness");
        const specs = clusterCertificateSpecs<string>({
            clusterName: "readiness-test",
            apiServiceIp: "10.96.0.1",
            apiServerInternalAddress: "10.0.0.10",
            apiServerPublicAddress: "203.0.113.50",
            controllers: [{ hostname: "c-0", ip: "10.0.0.20" }],
        });
        issued = issueWithOpenssl(specs, { caValidityDays: 3650, certValidityDays: 365, renewBeforeDays: 30 }, dir);
        pki = materialFromFiles(issued, dir);
        // The apiserver's serving certificate, trusting client certificates of the cluster CA.
        server = await startHealthzServer({
            cert: issued.get("apiserver")!.cert,
            key: issued.get("apiserver")!.key,
            clientCa: issued.get("ca")!.cert,
        });
    });
    afterAll(() => server?.stop());

    test("answers once /healthz says ok over verified TLS with the health-check identity", () => {
        const r = bash(
            renderReadinessScript({
                url: `https://127.0.0.1:${server.port}/healthz`,
                caCertPem: pki.certs.ca,
                clientCertPem: pki.certs.healthcheck,
                clientKeyPem: pki.keys.healthcheck,
                attempts: 3,
                delaySeconds: 1,
            }),
        );
        expect(r.stderr).toBe("");
        expect(r.stdout.trim()).toBe(`API ready: https://127.0.0.1:${server.port}/healthz answered ok`);
    });

    test("a client certificate the server does not trust is refused; the failure names the step and leaks no key", () => {
        const r = bash(
            renderReadinessScript({
                url: `https://127.0.0.1:${server.port}/healthz`,
                caCertPem: pki.certs.ca,
                clientCertPem: pki.certs["front-proxy-client"],
                clientKeyPem: pki.keys["front-proxy-client"],
                attempts: 2,
                delaySeconds: 0,
            }),
        );
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(
            `readiness check on the bastion: step "GET https://127.0.0.1:${server.port}/healthz": no "ok" within 0 s`,
        );
        expect(r.stderr).not.toContain("PRIVATE KEY");
    });

    test("the controllers' kubeconfigs work with kubectl against the apiserver's certificate", () => {
        requireTools("kubectl");
        const settings = oneController("readiness-test");
        const { files } = controllerFiles(pki, settings, 0);
        const dir = scratchDir("kubeconfigs");
        for (const kubeconfig of [nodePaths.bootstrapKubeconfig, nodePaths.controllerManagerKubeconfig, nodePaths.schedulerKubeconfig]) {
            const file = path.join(dir, path.basename(kubeconfig));
            fs.writeFileSync(file, files.find((f) => f.path === kubeconfig)!.content);
            // Same address the components use (127.0.0.1, which the apiserver certificate names), the test's port.
            const r = attempt(
                "kubectl",
                ["--kubeconfig", file, "--server", `https://127.0.0.1:${server.port}`, "get", "--raw", "/healthz"],
                { timeoutMs: 20000 },
            );
            expect({ kubeconfig, out: r.stdout, err: r.stderr }).toEqual({ kubeconfig, out: "ok", err: "" });
        }
    });

    test("a server whose certificate the cluster CA did not sign is not trusted", () => {
        const r = bash(
            renderReadinessScript({
                url: `https://127.0.0.1:${server.port}/healthz`,
                caCertPem: pki.certs["etcd-ca"],
                clientCertPem: pki.certs.healthcheck,
                clientKeyPem: pki.keys.healthcheck,
                attempts: 1,
                delaySeconds: 0,
            }),
        );
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/last answer: curl: \(60\)/);
    });
});

afterAll(removeScratchDirs);

describe("a worker's join (the node's side)", () => {
    test("makes its keys once and prints exactly the requests the program will sign; a re-run asks for the same keys", () => {
        requireTools("bash", "openssl");
        const dir = scratchDir("join");
        const paths = { joinKey: path.join(dir, "run/join.key"), kubeletServingKey: path.join(dir, "lib/kubelet-serving.key") };
        const script = renderJoinRequestScript({ target: "worker w-0", hostname: "w-0", ip: "10.10.16.7", paths });
        const first = bash(script);
        expect({ status: first.status, stderr: first.stderr }).toEqual({ status: 0, stderr: "" });
        const requests = splitJoinRequests(first.stdout);
        expect(certificateRequestProblems("join", requests.join, kubeletClientSpec("w-0"))).toEqual([]);
        expect(certificateRequestProblems("serving", requests.serving, kubeletServingSpec("w-0", "10.10.16.7"))).toEqual([]);
        for (const key of Object.values(paths)) expect((fs.statSync(key).mode & 0o777).toString(8)).toBe("600");
        const keys = Object.values(paths).map((k) => fs.readFileSync(k, "utf8"));
        const again = splitJoinRequests(bash(script).stdout);
        expect(Object.values(paths).map((k) => fs.readFileSync(k, "utf8"))).toEqual(keys);
        const publicKey = (pem: string) => attempt("openssl", ["req", "-noout", "-pubkey"], { input: pem }).stdout;
        expect(publicKey(again.serving)).toBe(publicKey(requests.serving));
        // Nothing but the requests reaches the program.
        expect(first.stdout).not.toContain("PRIVATE KEY");
    });

    test("the end of the join waits for the kubelet's own kubeconfig, then removes the join credential; a node that never joins fails, named", () => {
        requireTools("bash");
        const dir = scratchDir("joined");
        const paths = {
            kubeletKubeconfig: path.join(dir, "var/lib/kubelet/kubeconfig"),
            bootstrapKubeconfig: path.join(dir, "run/bootstrap-kubeconfig"),
            joinKey: path.join(dir, "run/join.key"),
        };
        fs.mkdirSync(path.join(dir, "run"), { recursive: true });
        fs.writeFileSync(paths.bootstrapKubeconfig, "join");
        fs.writeFileSync(paths.joinKey, "key");
        const waiting = bash(renderJoinedScript({ target: "worker w-0", paths, attempts: 1 }));
        expect(waiting.status).toBe(1);
        expect(waiting.stderr).toContain(
            'worker w-0: step "wait for the kubelet to join": the kubelet has no certificate of its own after 10 s',
        );
        expect(fs.existsSync(paths.joinKey)).toBe(true);
        fs.mkdirSync(path.dirname(paths.kubeletKubeconfig), { recursive: true });
        fs.writeFileSync(paths.kubeletKubeconfig, "own");
        const done = bash(renderJoinedScript({ target: "worker w-0", paths, attempts: 1 }));
        expect(done.status).toBe(0);
        expect([paths.bootstrapKubeconfig, paths.joinKey].filter((f) => fs.existsSync(f))).toEqual([]);
    });
});

describe("a node's host key, read from the bastion", () => {
    test("prints the node's ED25519 key as ssh-ed25519 <key>, retrying while the node boots", () => {
        requireTools("bash");
        const bin = scratchDir("keyscan");
        const calls = path.join(bin, "calls");
        fs.writeFileSync(
            path.join(bin, "ssh-keyscan"),
            `#!/bin/bash\necho "$*" >> ${calls}\n[ "$(wc -l < ${calls})" -ge 2 ] && echo "10.10.16.7 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINode"\nexit 0\n`,
            { mode: 0o755 },
        );
        const script = renderHostKeyScanScript("10.10.16.7").replace("retry 90 10 scan", "retry 3 0 scan");
        const r = bash(script, { PATH: `${bin}:${process.env.PATH}` });
        expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINode\n" });
        expect(fs.readFileSync(calls, "utf8")).toContain("-t ed25519 -- 10.10.16.7");
    });
});
