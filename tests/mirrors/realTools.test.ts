/**
 * Mirrors with real tools and no network: Debian's docker-registry on loopback is both the upstream and the mirror
 * (repositories under /mirror), the mirror command copies an image made here with skopeo, a real containerd with the
 * rendered hosts.toml and a real podman with the rendered registries.conf.d pull images by their upstream names from
 * the mirror, and the rendered install unit fetches from a loopback file mirror and refuses a file whose sha256
 * differs. The file mirror is s3rver (npm), an S3 server on loopback: OSS speaks the S3 API the mirror command writes
 * with, and serves objects at plain URLs as s3rver does.
 */
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { fileMirrorUrl } from "../../config/mirrors";
import { RegistrySettings, containerdHostsToml, podmanMirrorsConf, registryFiles } from "../../controlplane";
import { renderNodeIgnition } from "../../ignition";
import { NODE_SETUP } from "../../ignition/builder";
import { nodePaths } from "../../layout/node";
import { versions } from "../../versions";
import { fileCopies, imageCopies, mirrorFiles, mirrorImages } from "../../tools/mirror";
import { workerInput } from "../ignition/fixtures";
import { decodeConfigFiles } from "../ignition/helpers";
import { attempt, removeScratchDirs, requireTools, scratchDir } from "../pki/helpers/tools";
import { Started, freePort, runAsync, start, startRegistry, waitForPort, writeOciLayout } from "./helpers";

jest.setTimeout(120000);

const sha256 = (data: Buffer | string) => crypto.createHash("sha256").update(data).digest("hex");
const digestOf = (raw: Buffer) => `sha256:${sha256(raw)}`;

let work: string;
let registry: Started & { port: number };
let upstream: string; // 127.0.0.1:<port>, the registry as an upstream
/** A second registry, upstream only: whether a pull falls back to the upstream can only be told apart from it. */
let otherRegistry: Started & { port: number };
let other: string;
let mirrorRoot: string; // http://127.0.0.1:<port>/mirror
let appDigest: string;
const quiet = () => undefined;

function skopeoCopy(layout: string, tag: string, destination: string): void {
    execFileSync(
        "skopeo",
        ["copy", "--all", "--preserve-digests", "--dest-tls-verify=false", `oci:${layout}:${tag}`, `docker://${destination}`],
        {
            stdio: "pipe",
        },
    );
}

function remoteDigest(reference: string): string {
    return digestOf(execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${reference}`]));
}

beforeAll(async () => {
    requireTools("docker-registry", "skopeo", "containerd", "ctr", "podman", "unshare", "curl", "sha256sum", "tar");
    work = scratchDir("mirrors");
    registry = await startRegistry(path.join(work, "registry"));
    upstream = `127.0.0.1:${registry.port}`;
    mirrorRoot = `http://${upstream}/mirror`;
    // The upstream's images: a two-platform app, and one that only the upstream holds.
    appDigest = writeOciLayout(path.join(work, "app"), "1.0", "app 1.0", ["linux/amd64", "linux/arm64"]);
    skopeoCopy(path.join(work, "app"), "1.0", `${upstream}/example/app:1.0`);
    writeOciLayout(path.join(work, "only-upstream"), "1", "upstream only");
    otherRegistry = await startRegistry(path.join(work, "other-registry"));
    other = `127.0.0.1:${otherRegistry.port}`;
    skopeoCopy(path.join(work, "only-upstream"), "1", `${other}/example/only-upstream:1`);
});

afterAll(async () => {
    await registry?.stop();
    await otherRegistry?.stop();
    removeScratchDirs();
});

describe("npm run mirror, images (skopeo against a real registry)", () => {
    test("copies an image made here with every platform, and its digest is unchanged", async () => {
        const lines: string[] = [];
        const copies = imageCopies([`${upstream}/example/app:1.0`], { [upstream]: mirrorRoot });
        expect(copies.map((c) => c.destination)).toEqual([`docker://${upstream}/mirror/example/app:1.0`]);
        const results = await mirrorImages(copies, (l) => lines.push(l));
        expect(results).toEqual([{ what: `${upstream}/example/app:1.0`, action: "copied", digest: appDigest }]);
        expect(remoteDigest(`${upstream}/mirror/example/app:1.0`)).toBe(appDigest);
        expect(lines.join("\n")).toContain(`copied to ${upstream}/mirror/example/app:1.0 (${appDigest})`);
        // Both platforms are there: the index names them and each resolves.
        const index = JSON.parse(
            execFileSync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${upstream}/mirror/example/app:1.0`], {
                encoding: "utf8",
            }),
        );
        expect(index.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(["amd64", "arm64"]);
    });

    test("a second run copies nothing and says what is already there", async () => {
        const lines: string[] = [];
        const results = await mirrorImages(
            imageCopies([`${upstream}/example/app:1.0`, `${upstream}/example/app:1.0@${appDigest}`], { [upstream]: mirrorRoot }),
            (l) => lines.push(l),
        );
        expect(results.map((r) => r.action)).toEqual(["already there", "already there"]);
        expect(lines.join("\n")).not.toContain("copied");
    });

    test("refuses an upstream that does not serve the pinned digest, and copies nothing", async () => {
        const wrong = `sha256:${"0".repeat(64)}`;
        // The pin is the reference's digest: skopeo resolves it, so a wrong pin is simply not there.
        await expect(
            mirrorImages(imageCopies([`${upstream}/example/app:1.0@${wrong}`], { [upstream]: `${mirrorRoot}/pinned` }), quiet),
        ).rejects.toThrow(/not found at its upstream|not the pinned/);
        expect(
            attempt("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${upstream}/mirror/pinned/example/app:1.0`]).status,
        ).not.toBe(0);
    });
});

/** The rendered registry files of a node, laid into `root` (their node paths under it). */
function layRegistryFiles(root: string, settings: RegistrySettings, withPodman: boolean): void {
    for (const f of registryFiles(settings, withPodman)) {
        fs.mkdirSync(path.dirname(path.join(root, f.path)), { recursive: true });
        fs.writeFileSync(path.join(root, f.path), f.content);
    }
}

describe("containerd with the rendered hosts.toml", () => {
    let containerd: Started;
    let socket: string;
    let pauseDigest: string;
    beforeAll(async () => {
        const dir = path.join(work, "containerd");
        socket = path.join(dir, "containerd.sock");
        fs.mkdirSync(dir, { recursive: true });
        // Its own root, state and socket in the scratch directory; the pulls below go through ctr's resolver, the one
        // the CRI plugin uses with config_path.
        fs.writeFileSync(
            path.join(dir, "config.toml"),
            `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\n[grpc]\naddress = "${socket}"\n`,
        );
        containerd = start("containerd", ["--config", path.join(dir, "config.toml")]);
        for (let i = 0; i < 100 && !fs.existsSync(socket); i++) await new Promise((r) => setTimeout(r, 200));
        // What the mirror command would have copied from registry.k8s.io, which is out of reach here.
        pauseDigest = writeOciLayout(path.join(work, "pause"), "3.10.2", "pause");
        skopeoCopy(path.join(work, "pause"), "3.10.2", `${upstream}/mirror/${versions.images.pause}`);
    });
    afterAll(async () => {
        await containerd?.stop();
        execFileSync("sh", ["-c", `umount -R ${path.join(work, "containerd")}/root/* 2>/dev/null || true`]);
    });

    const pull = (hostsDir: string, image: string) =>
        attempt("ctr", ["--address", socket, "images", "pull", "--hosts-dir", hostsDir, "--snapshotter", "native", image], {
            timeoutMs: 60000,
        });

    function hostsDir(name: string, fallbackToUpstream: boolean): string {
        const root = path.join(work, name);
        layRegistryFiles(
            root,
            {
                registries: ["registry.k8s.io", other],
                mirrors: { "registry.k8s.io": `${mirrorRoot}/registry.k8s.io`, [other]: `${mirrorRoot}/other` },
                fallbackToUpstream,
            },
            false,
        );
        return path.join(root, nodePaths.containerdHostsDir);
    }

    test("pulls the pause image by its upstream name from the loopback mirror, with the pushed digest", () => {
        const r = pull(hostsDir("hosts-fallback", true), versions.images.pause);
        // ctr may log its own cancelled content lookup after a pull that succeeded ("failed to get content info ...
        // context canceled", seen on a loaded machine): not about the registry; any other error or failure is.
        const output = (r.stderr + r.stdout)
            .split("\n")
            .filter((line) => !/failed to get content info.*context canceled/.test(line))
            .join("\n");
        expect(output).not.toMatch(/error|failed/i);
        expect(r.status).toBe(0);
        const list = execFileSync("ctr", ["--address", socket, "images", "ls"], { encoding: "utf8" });
        expect(list).toContain(versions.images.pause);
        expect(list).toContain(pauseDigest);
    });

    test("falls back to the upstream for what the mirror lacks when fallback is on, and never asks it when off", () => {
        expect(pull(hostsDir("hosts-fallback", true), `${other}/example/only-upstream:1`).status).toBe(0);
        execFileSync("ctr", ["--address", socket, "images", "rm", `${other}/example/only-upstream:1`]);
        const off = pull(hostsDir("hosts-no-fallback", false), `${other}/example/only-upstream:1`);
        expect(off.status).not.toBe(0);
        expect(off.stderr).toContain("not found");
        // registry.k8s.io itself is not asked either (no DNS lookup of it is attempted).
        const absent = pull(hostsDir("hosts-no-fallback", false), "registry.k8s.io/absent:1");
        expect(absent.status).not.toBe(0);
        expect(absent.stderr).not.toContain("lookup registry.k8s.io");
    });

    test("the hosts.toml of a registry without a mirror names only the upstream", () => {
        expect(containerdHostsToml("quay.io", undefined, true)).toBe('server = "https://quay.io"\n');
    });
});

describe("podman with the rendered registries.conf.d", () => {
    let etcdDigest: string;
    beforeAll(() => {
        etcdDigest = writeOciLayout(path.join(work, "etcd"), "v3.6.14", "etcd");
        skopeoCopy(path.join(work, "etcd"), "v3.6.14", `${upstream}/mirror/${versions.images.etcd}`);
    });

    /** podman reads drop-ins only under /etc/containers/registries.conf.d: the test hands it the rendered entries as its file. */
    function podmanPull(settings: RegistrySettings, image: string) {
        const dir = scratchDir("podman");
        fs.writeFileSync(path.join(dir, "registries.conf"), podmanMirrorsConf(settings));
        return attempt(
            "podman",
            ["--root", path.join(dir, "root"), "--runroot", path.join(dir, "run"), "--storage-driver", "vfs", "pull", image],
            { env: { ...process.env, CONTAINERS_REGISTRIES_CONF: path.join(dir, "registries.conf") }, timeoutMs: 60000 },
        );
    }

    test("pulls etcd by its upstream name from the loopback mirror", () => {
        const r = podmanPull(
            { registries: ["quay.io"], mirrors: { "quay.io": `${mirrorRoot}/quay.io` }, fallbackToUpstream: true },
            versions.images.etcd,
        );
        expect(r.stderr).not.toMatch(/error/i);
        expect(r.status).toBe(0);
        // podman prints the image id (the config's digest); the manifest it pulled is the mirror's.
        expect(remoteDigest(`${upstream}/mirror/${versions.images.etcd}`)).toBe(etcdDigest);
    });

    test("without fallback the mirror is the only place podman asks", () => {
        const settings = (fallbackToUpstream: boolean): RegistrySettings => ({
            registries: [other],
            mirrors: { [other]: `${mirrorRoot}/other` },
            fallbackToUpstream,
        });
        const image = `${other}/example/only-upstream:1`;
        expect(podmanPull(settings(true), image).status).toBe(0);
        const off = podmanPull(settings(false), image);
        expect(off.status).not.toBe(0);
        expect(off.stderr).toMatch(/mirror\/other\/example\/only-upstream/);
    });
});

describe("the file mirror", () => {
    let s3: { close(): Promise<void> };
    let s3Port: number;
    let upstreamServer: http.Server;
    let upstreamRequests: string[];
    let filesBase: string;
    const kubelet = Buffer.from("#!/bin/sh\necho kubelet stand-in\n");
    let cni: Buffer;
    let downloads: Record<string, { url: string; sha256: string }>;
    const env = { ...process.env, ALICLOUD_ACCESS_KEY: "S3RVER", ALICLOUD_SECRET_KEY: "S3RVER" };

    beforeAll(async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- s3rver ships no types
        const S3rver = require("s3rver");
        s3Port = await freePort();
        const server = new S3rver({
            port: s3Port,
            address: "127.0.0.1",
            directory: scratchDir("s3"),
            silent: true,
            configureBuckets: [{ name: "mirror" }],
        });
        await server.run();
        s3 = server;
        filesBase = `http://127.0.0.1:${s3Port}/mirror/files`;
        const staging = scratchDir("cni");
        fs.writeFileSync(path.join(staging, "bridge"), "#!/bin/sh\n");
        execFileSync("tar", ["-czf", path.join(staging, "cni.tgz"), "-C", staging, "bridge"]);
        cni = fs.readFileSync(path.join(staging, "cni.tgz"));
        // The "upstream" (dl.k8s.io, github.com), on loopback.
        upstreamRequests = [];
        upstreamServer = http.createServer((req, res) => {
            upstreamRequests.push(req.url ?? "");
            const body = req.url?.endsWith("/kubelet") ? kubelet : req.url?.endsWith(".tgz") ? cni : undefined;
            res.writeHead(body ? 200 : 404).end(body);
        });
        const port = await freePort();
        await new Promise<void>((r) => upstreamServer.listen(port, "127.0.0.1", r));
        await waitForPort(port);
        downloads = {
            kubelet: { url: `http://127.0.0.1:${port}/release/bin/linux/amd64/kubelet`, sha256: sha256(kubelet) },
            "cni-plugins": { url: `http://127.0.0.1:${port}/plugins/cni-plugins.tgz`, sha256: sha256(cni) },
        };
    });
    afterAll(async () => {
        await s3?.close();
        await new Promise((r) => upstreamServer?.close(r));
    });

    test("npm run mirror uploads each file with its sha256, and a second run uploads nothing", async () => {
        const lines: string[] = [];
        const first = await mirrorFiles(filesBase, fileCopies(filesBase, downloads), (l) => lines.push(l), env);
        expect(first.map((r) => r.action)).toEqual(["copied", "copied"]);
        const url = fileMirrorUrl(filesBase, downloads.kubelet.url);
        expect(Buffer.from(await (await fetch(url)).arrayBuffer())).toEqual(kubelet);
        expect(lines[0]).toBe(`file kubelet: uploaded to ${url} (sha256 ${downloads.kubelet.sha256})`);
        const requests = upstreamRequests.length;
        const second = await mirrorFiles(filesBase, fileCopies(filesBase, downloads), quiet, env);
        expect(second.map((r) => r.action)).toEqual(["already there", "already there"]);
        expect(upstreamRequests.length).toBe(requests);
    });

    test("refuses an upstream file whose sha256 is not the pin, and uploads nothing", async () => {
        const wrong = { kubelet: { ...downloads.kubelet, sha256: "f".repeat(64) } };
        await expect(mirrorFiles(`${filesBase}-2`, fileCopies(`${filesBase}-2`, wrong), quiet, env)).rejects.toThrow(/not the pinned/);
        expect((await fetch(fileMirrorUrl(`${filesBase}-2`, downloads.kubelet.url))).status).toBe(404);
    });

    test("names the variables it needs when OSS credentials are missing", async () => {
        await expect(mirrorFiles(filesBase, fileCopies(filesBase, downloads), quiet, {})).rejects.toThrow(
            /ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY/,
        );
    });

    /**
     * The worker's rendered node-setup, run as `node-setup install-kubelet` in a private mount namespace whose /opt is
     * a tmpfs (the script installs to /opt/bin and /opt/cni/bin, as on a node); restorecon is a stand-in (no SELinux
     * here). Prints what got installed.
     */
    function installFrom(sources: { kubelet: string[]; cniPlugins: string[] }) {
        const input = {
            ...workerInput,
            kubernetes: {
                ...workerInput.kubernetes,
                downloads: {
                    kubelet: { sha256: downloads.kubelet.sha256, urls: sources.kubelet },
                    cniPlugins: { sha256: downloads["cni-plugins"].sha256, urls: sources.cniPlugins },
                },
            },
        };
        const script = decodeConfigFiles(renderNodeIgnition(input)).get(NODE_SETUP)!.contents;
        const dir = scratchDir("install");
        fs.writeFileSync(path.join(dir, "node-setup"), script, { mode: 0o755 });
        fs.writeFileSync(path.join(dir, "restorecon"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        return runAsync(
            "unshare",
            [
                "--mount",
                "bash",
                "-c",
                `mount -t tmpfs tmpfs /opt && ${dir}/node-setup install-kubelet && sha256sum ${nodePaths.kubeletBinary} && ls ${nodePaths.cniBinDir} && cat /opt/cni/plugins.sha256`,
            ],
            { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, timeoutMs: 90000 },
        );
    }

    test("the rendered install unit fetches from the file mirror and checks each file's sha256", async () => {
        const before = upstreamRequests.length;
        const mirror = (name: string) => fileMirrorUrl(filesBase, downloads[name].url);
        const r = await installFrom({
            kubelet: [mirror("kubelet"), downloads.kubelet.url],
            cniPlugins: [mirror("cni-plugins"), downloads["cni-plugins"].url],
        });
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(r.stdout).toContain(`${downloads.kubelet.sha256}  ${nodePaths.kubeletBinary}`);
        expect(r.stdout).toContain("bridge");
        expect(r.stdout).toContain(downloads["cni-plugins"].sha256);
        expect(upstreamRequests.length).toBe(before); // nothing from the upstream
    });

    test("refuses a mirror file whose sha256 differs: falls back to the upstream if allowed, else fails installing nothing", async () => {
        const tampered = `${filesBase}-tampered`;
        const target = new URL(fileMirrorUrl(tampered, downloads.kubelet.url));
        const client = new S3Client({
            endpoint: `http://127.0.0.1:${s3Port}`,
            region: "us-east-1",
            forcePathStyle: true,
            credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
        });
        await client.send(
            new PutObjectCommand({ Bucket: "mirror", Key: target.pathname.replace(/^\/mirror\//, ""), Body: "not the kubelet\n" }),
        );
        client.destroy();
        expect((await fetch(target)).status).toBe(200);

        const before = upstreamRequests.length;
        const cniFromUpstream = [downloads["cni-plugins"].url];
        const withFallback = await installFrom({ kubelet: [target.href, downloads.kubelet.url], cniPlugins: cniFromUpstream });
        expect(withFallback.status).toBe(0);
        expect(withFallback.stderr).toContain(`${target.href}: no file with sha256 ${downloads.kubelet.sha256}`);
        expect(withFallback.stdout).toContain(`${downloads.kubelet.sha256}  ${nodePaths.kubeletBinary}`);
        expect(upstreamRequests.slice(before)).toContain(new URL(downloads.kubelet.url).pathname);

        const without = await installFrom({ kubelet: [target.href], cniPlugins: cniFromUpstream });
        expect(without.status).not.toBe(0);
        expect(without.stderr).toContain(`${target.href}: no file with sha256 ${downloads.kubelet.sha256}`);
        expect(without.stdout).not.toContain(nodePaths.kubeletBinary);
    });
});
