/**
 * The node-setup steps run for real, as root in a private mount namespace (`unshare --mount`) so that what they
 * write to /opt or /dev stays invisible to this machine: the kubelet install with stand-in downloads, and the
 * data-disk preparation on loop devices. `curl`, `mkfs.xfs`, `udevadm` and `restorecon` are stand-ins that
 * record their arguments.
 */
import { execFileSync, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderNodeIgnition } from "../../ignition";
import { requireTool } from "../../tools/ignitionTools";
import { versions } from "../../versions";
import { fileMirrorUrl } from "../../config/mirrors";
import { ETCD_DISK_ID, FILE_MIRROR, controllerInput } from "./fixtures";
import { decodeConfigFiles } from "./helpers";

const unshare = () => requireTool({ command: "unshare", debianPackage: "util-linux" });
const losetup = () => requireTool({ command: "losetup", debianPackage: "mount" });

let scratch: string;
let script: string;
let fakeBin: string;
let calls: string;

/** Runs bash `commands` in a private mount namespace; returns the exit status and output. */
function inPrivateNamespace(commands: string): { status: number; output: string } {
    const result = spawnSync(unshare(), ["--mount", "--propagation", "private", "bash", "-c", commands], {
        env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH}` },
        encoding: "utf8",
    });
    if (result.error) throw result.error;
    return { status: result.status ?? -1, output: result.stdout + result.stderr };
}

function fake(name: string, body: string): void {
    fs.writeFileSync(path.join(fakeBin, name), `#!/bin/bash\necho "${name} $*" >> '${calls}'\n${body}\n`, { mode: 0o755 });
}

const recordedCalls = () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").split("\n").filter(Boolean) : []);

beforeEach(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "node-setup-"));
    fakeBin = path.join(scratch, "bin");
    fs.mkdirSync(fakeBin);
    calls = path.join(scratch, "calls");
    script = path.join(scratch, "node-setup");
    fs.writeFileSync(script, decodeConfigFiles(renderNodeIgnition(controllerInput)).get("/usr/local/bin/node-setup")!.contents);
    fake("restorecon", "");
    fake("udevadm", "");
    fake("mkfs.xfs", "");
});
afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe("node-setup install-kubelet", () => {
    /** A stand-in curl that writes `contents[url]` to the file after --output. */
    function fakeCurl(contents: Record<string, string>): void {
        const cases = Object.entries(contents).map(([url, file]) => `  ${url}) cp '${file}' "$out" ;;`);
        fake("curl", ['while [ $# -gt 1 ]; do [ "$1" = --output ] && out=$2; shift; done', 'case "$1" in', ...cases, "esac"].join("\n"));
    }

    const mirrored = (url: string) => fileMirrorUrl(FILE_MIRROR, url);

    it("installs nothing when a download matches its pinned sha256 neither at the mirror nor at the upstream", () => {
        const tampered = path.join(scratch, "tampered");
        fs.writeFileSync(tampered, "not the kubelet\n");
        fakeCurl({ [mirrored(versions.kubelet.url)]: tampered, [versions.kubelet.url]: tampered, [versions.cniPlugins.url]: tampered });
        const { status, output } = inPrivateNamespace(
            `mount -t tmpfs tmpfs /opt && bash '${script}' install-kubelet; status=$?; ls -A /opt; exit $status`,
        );
        expect(status).not.toBe(0);
        expect(output).toMatch(/FAILED/); // sha256sum's verdict
        expect(output.split("\n")).not.toContain("bin"); // /opt/bin was never created
        // The mirror first, then the upstream (the fixture allows falling back), each refused; the CNI plugins never.
        expect(recordedCalls().filter((c) => c.startsWith("curl "))).toEqual([
            expect.stringMatching(new RegExp(`--retry .* ${mirrored(versions.kubelet.url)}$`)),
            expect.stringMatching(new RegExp(`--retry .* ${versions.kubelet.url}$`)),
        ]);
    });

    it("installs downloads that match, and on the next boot downloads nothing", () => {
        // Stand-ins whose hashes the test pins in place of the real ones (it cannot produce the real kubelet).
        const kubelet = path.join(scratch, "kubelet");
        fs.writeFileSync(kubelet, "#!/bin/sh\necho stand-in kubelet\n");
        const cniDir = path.join(scratch, "cni");
        fs.mkdirSync(cniDir);
        fs.writeFileSync(path.join(cniDir, "bridge"), "stand-in bridge plugin\n");
        const tgz = path.join(scratch, "cni.tgz");
        execFileSync("tar", ["-czf", tgz, "-C", cniDir, "."]);
        const sha = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
        fs.writeFileSync(
            script,
            fs
                .readFileSync(script, "utf8")
                .replaceAll(versions.kubelet.sha256, sha(kubelet))
                .replaceAll(versions.cniPlugins.sha256, sha(tgz)),
        );
        fakeCurl({ [mirrored(versions.kubelet.url)]: kubelet, [mirrored(versions.cniPlugins.url)]: tgz });

        const { status, output } = inPrivateNamespace(
            [
                "set -e",
                "mount -t tmpfs tmpfs /opt",
                `bash '${script}' install-kubelet`,
                "stat -c '%a %n' /opt/bin/kubelet /opt/cni/bin/bridge",
                "/opt/bin/kubelet",
                "echo second boot",
                `bash '${script}' install-kubelet`,
            ].join("\n"),
        );
        expect([status, output]).toEqual([0, expect.stringContaining("755 /opt/bin/kubelet")]);
        expect(output).toContain("/opt/cni/bin/bridge");
        expect(output).toContain("stand-in kubelet");
        const curls = recordedCalls().filter((c) => c.startsWith("curl "));
        expect(curls).toHaveLength(2); // both on the first run, from the mirror; none on the second
        expect(recordedCalls().filter((c) => c.startsWith("restorecon "))).toHaveLength(2);
    });
});

describe("node-setup prepare-data-disk", () => {
    const serial = ETCD_DISK_ID.replace(/^d-/, "");

    /** Attaches `image` as a loop device and runs the step with the device at /dev/disk/by-id/virtio-<serial>. */
    function prepareOnLoopDevice(image: string): { status: number; output: string } {
        const device = execFileSync(losetup(), ["--find", "--show", image]).toString().trim();
        try {
            const node = path.basename(device);
            const realDev = path.join(scratch, "realdev");
            fs.mkdirSync(realDev);
            return inPrivateNamespace(
                [
                    "set -e",
                    // A private /dev holding only what the step needs, so /dev/disk/by-id exists here alone.
                    `mount --bind /dev '${realDev}'`,
                    "mount -t tmpfs tmpfs /dev",
                    `for n in null zero urandom ${node}; do touch /dev/$n; mount --bind '${realDev}'/$n /dev/$n; done`,
                    "mkdir -p /dev/disk/by-id",
                    `ln -s ../../${node} /dev/disk/by-id/virtio-${serial}`,
                    `bash '${script}' prepare-data-disk ${serial} etcd-data`,
                ].join("\n"),
            );
        } finally {
            execFileSync(losetup(), ["--detach", device]);
        }
    }

    it("formats a blank disk as xfs with the label the mount unit looks for", () => {
        const image = path.join(scratch, "blank.img");
        fs.writeFileSync(image, Buffer.alloc(16 * 1024 * 1024));
        const { status, output } = prepareOnLoopDevice(image);
        expect([status, output]).toEqual([0, expect.anything()]);
        expect(recordedCalls().filter((c) => c.startsWith("mkfs.xfs "))).toEqual([
            expect.stringMatching(/^mkfs\.xfs -L etcd-data \/dev\/loop\d+$/),
        ]);
    });

    it("never formats a disk that already holds a filesystem", () => {
        const image = path.join(scratch, "used.img");
        fs.writeFileSync(image, Buffer.alloc(16 * 1024 * 1024));
        execFileSync(requireTool({ command: "mkfs.ext4", debianPackage: "e2fsprogs" }), ["-q", "-F", "-L", "etcd-data", image]);
        const { status, output } = prepareOnLoopDevice(image);
        expect([status, output]).toEqual([0, expect.stringContaining("already holds data")]);
        expect(recordedCalls().filter((c) => c.startsWith("mkfs"))).toEqual([]);
    });
});
