/**
 * Checks of rendered Ignition configs with the real upstream tools: `ignition-validate`, the real Ignition
 * binary applying a config to a scratch root, and `systemd-analyze verify` on the units it wrote. The tests
 * use these on each role, and the lead on every node config of every stage. A missing tool is an error that
 * names the Debian package to install, never a silent skip.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";

const run = promisify(execFile);

/** Where Debian's `ignition` package puts the binary that the initramfs would run. */
export const IGNITION_BINARY = "/usr/lib/dracut/modules.d/30ignition/ignition";

/**
 * Executables that units run which exist only on Fedora CoreOS, not on the Debian machine that verifies them.
 * `systemd-analyze verify` reports these as "not executable"; anything else it reports is a real problem.
 */
export const FCOS_ONLY_EXECUTABLES: readonly string[] = ["/usr/bin/podman", "/usr/bin/rpm-ostree", "/opt/bin/kubelet"];

/** What a tool needs: its path or name, and the Debian package and command that install it. */
interface Tool {
    readonly command: string;
    readonly debianPackage: string;
}

const TOOLS = {
    ignitionValidate: { command: "ignition-validate", debianPackage: "ignition" },
    ignition: { command: IGNITION_BINARY, debianPackage: "ignition" },
    systemdAnalyze: { command: "systemd-analyze", debianPackage: "systemd" },
} satisfies Record<string, Tool>;

/** The absolute path of a tool, or an error naming the package that provides it. */
export function requireTool(tool: Tool): string {
    const candidates = tool.command.startsWith("/")
        ? [tool.command]
        : (process.env.PATH ?? "").split(path.delimiter).map((dir) => path.join(dir, tool.command));
    const found = candidates.find((candidate) => {
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            return true;
        } catch {
            return false;
        }
    });
    if (!found) {
        throw new Error(
            `${tool.command} is not installed; it comes with the Debian package "${tool.debianPackage}": ` +
                `apt-get install -y ${tool.debianPackage}`,
        );
    }
    return found;
}

/** The outcome of `ignition-validate`: `valid` is its exit status, `report` its warnings and errors. */
export interface IgnitionValidation {
    readonly valid: boolean;
    readonly report: string;
}

/** Runs `ignition-validate` (spec 3.3.0 and older) on a config. */
export async function validateIgnition(json: string): Promise<IgnitionValidation> {
    const validator = requireTool(TOOLS.ignitionValidate);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ignition-validate-"));
    try {
        const file = path.join(dir, "config.ign");
        fs.writeFileSync(file, json);
        try {
            const { stdout, stderr } = await run(validator, [file]);
            return { valid: true, report: (stdout + stderr).trim() };
        } catch (error) {
            const e = error as { code?: number; stdout?: string; stderr?: string };
            if (typeof e.code !== "number") throw error;
            return { valid: false, report: `${e.stdout ?? ""}${e.stderr ?? ""}`.trim() };
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** A config applied to a scratch root by the real Ignition. */
export interface AppliedIgnition {
    /** The scratch root that Ignition wrote into (as /sysroot on a real node). */
    readonly root: string;
    /** What Ignition asked `setfiles` to relabel for SELinux, as paths on the node (the root's prefix removed). */
    readonly relabeled: string[];
    /** Ignition's log of both stages. */
    readonly log: string;
    /** The directory holding `root` and Ignition's run files; remove it when done. */
    readonly scratch: string;
}

/**
 * What of the Fedora CoreOS image matters to Ignition's files stage, laid into the scratch root: the files that
 * node configs replace (a config that forgets `overwrite` then fails here as on a node; contents are
 * stand-ins) and the symlinks into /var through which Ignition writes /usr/local, /opt and /home.
 */
export const FCOS_IMAGE_LAYOUT = {
    files: {
        "/etc/hostname": "localhost\n",
        "/etc/hosts": "127.0.0.1   localhost localhost.localdomain localhost4 localhost4.localdomain4\n",
        "/etc/chrony.conf": "pool 2.fedora.pool.ntp.org iburst\n",
        "/etc/containerd/config.toml": 'disabled_plugins = ["cri"]\n',
        "/etc/exports": "",
    } as Readonly<Record<string, string>>,
    symlinks: {
        "/usr/local": "../var/usrlocal",
        "/opt": "var/opt",
        "/home": "var/home",
    } as Readonly<Record<string, string>>,
};

/**
 * Applies a config with the real Ignition binary, as the initramfs would: the `fetch-offline` stage reads it
 * through the `file` platform, the `files` stage writes files, units, presets and users into a scratch root.
 * Ignition creates users with `useradd --root <root>`, so the users land in the root's /etc/passwd; the root
 * starts with this machine's passwd/group/shadow files (Ignition needs them) and `FCOS_IMAGE_LAYOUT`.
 *
 * Ignition ends by relabelling what it wrote for SELinux with `setfiles`. A `setfiles` earlier on PATH records
 * the list instead; the labels themselves cannot be checked on a machine without SELinux.
 */
export async function applyIgnition(json: string): Promise<AppliedIgnition> {
    const ignition = requireTool(TOOLS.ignition);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "ignition-apply-"));
    try {
        const root = layScratchRoot(scratch);
        const runDir = path.join(scratch, "run");
        const shimDir = path.join(scratch, "bin");
        for (const dir of [runDir, shimDir]) fs.mkdirSync(dir);
        const relabelList = path.join(runDir, "relabel");
        fs.writeFileSync(path.join(shimDir, "setfiles"), `#!/bin/sh\ncat > '${relabelList}'\n`, { mode: 0o755 });
        const configFile = path.join(scratch, "config.ign");
        fs.writeFileSync(configFile, json);

        const common = [
            "-platform",
            "file",
            "-config-cache",
            path.join(runDir, "ign.json"),
            "-state-file",
            path.join(runDir, "state"),
            "-log-to-stdout",
        ];
        const env = { ...process.env, PATH: `${shimDir}${path.delimiter}${process.env.PATH ?? ""}`, IGNITION_CONFIG_FILE: configFile };
        let log = "";
        for (const stage of [
            ["-stage", "fetch-offline", "-neednet", path.join(runDir, "neednet")],
            ["-stage", "files", "-root", root],
        ]) {
            let output: string;
            try {
                const { stdout, stderr } = await run(ignition, [...common, ...stage], { env, maxBuffer: 16 * 1024 * 1024 });
                output = stdout + stderr;
            } catch (error) {
                const e = error as { stdout?: string; stderr?: string };
                output = `${e.stdout ?? ""}${e.stderr ?? ""}(exited with an error)`;
            }
            log += output;
            if (!output.includes("Ignition finished successfully")) throw new Error(`Ignition's ${stage[1]} stage failed:\n${log}`);
        }
        const relabeled = fs.existsSync(relabelList)
            ? fs
                  .readFileSync(relabelList, "utf8")
                  .split("\0")
                  .filter((p) => p !== "")
                  .map((p) => p.slice(root.length) || "/")
            : [];
        return { root, relabeled, log, scratch };
    } catch (error) {
        fs.rmSync(scratch, { recursive: true, force: true });
        throw error;
    }
}

/** Lays out `<scratch>/root` as Ignition's target: SELinux config, account files, `FCOS_IMAGE_LAYOUT`. */
function layScratchRoot(scratch: string): string {
    // Ignition writes authorized_keys as the user it created, who must be able to reach the root (mkdtemp: 0700).
    fs.chmodSync(scratch, 0o755);
    const root = path.join(scratch, "root");
    fs.mkdirSync(path.join(root, "etc/selinux"), { recursive: true });
    fs.writeFileSync(path.join(root, "etc/selinux/config"), "SELINUX=disabled\nSELINUXTYPE=targeted\n");
    for (const file of ["passwd", "group", "shadow", "gshadow"]) fs.copyFileSync(`/etc/${file}`, path.join(root, "etc", file));
    for (const [file, contents] of Object.entries(FCOS_IMAGE_LAYOUT.files)) {
        fs.mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
        fs.writeFileSync(path.join(root, file), contents);
    }
    for (const [link, target] of Object.entries(FCOS_IMAGE_LAYOUT.symlinks)) {
        const linkDir = path.join(root, path.dirname(link));
        for (const dir of [linkDir, path.resolve(linkDir, target)]) fs.mkdirSync(dir, { recursive: true });
        fs.symlinkSync(target, path.join(root, link));
    }
    return root;
}

/**
 * Runs `systemd-analyze verify` on units that Ignition wrote into `root` (drop-ins and the other units they
 * name are read from the same directory) and returns every problem it reports, except commands that are
 * missing here only because they exist only on Fedora CoreOS (`FCOS_ONLY_EXECUTABLES`) or because Ignition
 * wrote them into the root (scripts). An empty list means the units are sound.
 */
export async function verifyUnits(root: string, unitNames: readonly string[]): Promise<string[]> {
    const analyze = requireTool(TOOLS.systemdAnalyze);
    if (unitNames.length === 0) return [];
    const unitDir = path.join(root, "etc/systemd/system");
    const files = unitNames.map((name) => path.join(unitDir, name));
    for (const file of files) if (!fs.existsSync(file)) throw new Error(`no unit ${path.basename(file)} in ${unitDir}`);
    let output: string;
    try {
        const { stdout, stderr } = await run(analyze, ["verify", "--man=no", ...files], {
            env: { ...process.env, SYSTEMD_LOG_COLOR: "0" },
        });
        output = stdout + stderr;
    } catch (error) {
        const e = error as { code?: number; stdout?: string; stderr?: string };
        if (typeof e.code !== "number") throw error;
        output = `${e.stdout ?? ""}${e.stderr ?? ""}`;
    }
    const writtenByIgnition = (command: string) => {
        try {
            return (fs.statSync(path.join(root, command)).mode & 0o111) !== 0;
        } catch {
            return false;
        }
    };
    return output
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "")
        .filter((line) => {
            const missing = /Command (\S+) is not executable: No such file or directory$/.exec(line);
            return !(missing && (FCOS_ONLY_EXECUTABLES.includes(missing[1]) || writtenByIgnition(missing[1])));
        });
}
