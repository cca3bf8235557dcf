import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { NodeConfigPart, encodeFileContents, renderIgnitionConfig } from "../../ignition/builder";
import { mountUnitName } from "../../ignition/systemd";
import { applyIgnition, requireTool, validateIgnition, verifyUnits } from "../../tools/ignitionTools";
import { decodeConfigFiles, relabelCovers } from "./helpers";

/** A long unit: gzip makes it much smaller than inline JSON. */
const LONG_UNIT = ["[Unit]", "Description=A unit long enough to be worth compressing", "[Service]", "Type=oneshot"]
    .concat(Array.from({ length: 30 }, (_, i) => `ExecStart=/usr/bin/echo step ${i} of the same long repetitive unit`))
    .join("\n");
const SHORT_UNIT = "[Unit]\nDescription=short\n[Service]\nExecStart=/usr/bin/true\n[Install]\nWantedBy=multi-user.target\n";
const PRINTABLE_ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("") + "\n\t%41 not an escape\n";
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

const parts: NodeConfigPart[] = [
    {
        users: [
            { name: "core", sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH71sqoLXafALEbN5om6iR0nXvwoUEbX2sK1HjACrTgF a@b"] },
        ],
    },
    {
        files: [
            { path: "/etc/printable", contents: PRINTABLE_ASCII },
            { path: "/etc/utf8", contents: "时间同步 ✓\n" },
            { path: "/etc/binary", contents: ALL_BYTES, mode: 0o600 },
            { path: "/etc/long", contents: "a long, repetitive line of text\n".repeat(50), mode: 0o755 },
            { path: "/etc/hosts", contents: "127.0.0.1 localhost\n", overwrite: true },
        ],
        directories: [{ path: "/var/lib/example", mode: 0o700 }],
        links: [{ path: "/etc/example-link", target: "/etc/long" }],
    },
    {
        units: [
            { name: "long.service", contents: LONG_UNIT, enabled: true },
            { name: "short.service", contents: SHORT_UNIT, enabled: true },
            { name: "docker.service", mask: true },
            { name: "existing.service", dropins: [{ name: "10-more.conf", contents: "[Service]\nEnvironment=A=1\n" }] },
        ],
        steps: [{ name: "say-hello", usage: "NAME", body: ['echo "hello $1"'] }],
    },
];

/** Keys of every object in order, depth first: canonical JSON has each object's keys sorted. */
function objectKeyOrders(value: unknown): string[][] {
    if (Array.isArray(value)) return value.flatMap(objectKeyOrders);
    if (value !== null && typeof value === "object") {
        return [Object.keys(value), ...Object.values(value).flatMap(objectKeyOrders)];
    }
    return [];
}

describe("the Ignition config builder", () => {
    const json = renderIgnitionConfig(parts);

    it("emits canonical JSON: sorted keys, no insignificant whitespace", () => {
        expect(JSON.stringify(JSON.parse(json))).toBe(json);
        for (const keys of objectKeyOrders(JSON.parse(json))) expect(keys).toEqual([...keys].sort());
        expect(JSON.parse(json).ignition.version).toBe("3.3.0");
    });

    it("gives the same bytes for the same input, whatever order object keys were written in", () => {
        const reordered: NodeConfigPart[] = parts.map((p) => Object.fromEntries(Object.entries(p).reverse()));
        expect(renderIgnitionConfig(reordered)).toBe(json);
        expect(renderIgnitionConfig(parts)).toBe(json);
    });

    it("compresses a file only when gzip makes the config smaller than plain or base64 data", () => {
        const files = JSON.parse(json).storage.files as { path: string; contents: { compression?: string; source: string } }[];
        const byPath = new Map(files.map((f) => [f.path, f.contents]));
        expect(byPath.get("/etc/long")?.compression).toBe("gzip");
        expect(byPath.get("/etc/hosts")?.compression).toBeUndefined();
        expect(byPath.get("/etc/hosts")?.source.startsWith("data:,")).toBe(true);
        expect(byPath.get("/etc/binary")?.compression).toBeUndefined(); // 256 distinct bytes do not compress
        for (const [file, contents] of byPath) {
            if (contents.compression !== "gzip") continue;
            const text = decodeConfigFiles(json).get(file)!.contents;
            const base64Entry = JSON.stringify({ source: `data:;base64,${text.toString("base64")}` });
            expect(JSON.stringify(contents).length).toBeLessThan(base64Entry.length);
        }
        // A short text stays readable in the JSON.
        expect(encodeFileContents("br_netfilter\n")).toEqual({ source: "data:,br_netfilter%0A" });
    });

    it("puts a long unit in a compressed file and keeps a short one inline, both enabled", () => {
        const config = JSON.parse(json);
        const units = new Map((config.systemd.units as { name: string }[]).map((u) => [u.name, u]));
        expect(units.get("long.service")).toEqual({ name: "long.service", enabled: true });
        expect(units.get("short.service")).toEqual({ name: "short.service", enabled: true, contents: SHORT_UNIT });
        const longFile = config.storage.files.find((f: { path: string }) => f.path === "/etc/systemd/system/long.service");
        expect(longFile.contents.compression).toBe("gzip");
    });

    it("refuses two parts that write the same path or the same unit", () => {
        const hosts = { files: [{ path: "/etc/hosts", contents: "x" }] };
        expect(() => renderIgnitionConfig([hosts, hosts])).toThrow(/\/etc\/hosts is written twice/);
        const unit = { units: [{ name: "a.service", enabled: true }] };
        expect(() => renderIgnitionConfig([unit, unit])).toThrow(/unit a.service is written twice/);
        // A unit's contents placed as a file may not collide with a file either.
        const clash = { files: [{ path: "/etc/systemd/system/long.service", contents: "x" }] };
        expect(() => renderIgnitionConfig([clash, { units: [{ name: "long.service", contents: LONG_UNIT }] }])).toThrow(/written twice/);
    });

    it("passes ignition-validate without warnings", async () => {
        expect(await validateIgnition(json)).toEqual({ valid: true, report: "" });
    });

    it("is applied by the real Ignition byte for byte: every encoding, modes, links, units, drop-ins, masks", async () => {
        const applied = await applyIgnition(json);
        try {
            const read = (file: string) => fs.readFileSync(path.join(applied.root, file));
            const mode = (file: string) => fs.statSync(path.join(applied.root, file)).mode & 0o7777;
            expect(read("/etc/printable").toString()).toBe(PRINTABLE_ASCII);
            expect(read("/etc/utf8").toString()).toBe("时间同步 ✓\n");
            expect(read("/etc/binary").equals(ALL_BYTES)).toBe(true);
            expect(read("/etc/long").toString()).toBe("a long, repetitive line of text\n".repeat(50));
            expect(read("/etc/hosts").toString()).toBe("127.0.0.1 localhost\n");
            expect([mode("/etc/printable"), mode("/etc/binary"), mode("/etc/long")]).toEqual([0o644, 0o600, 0o755]);
            expect(mode("/var/lib/example")).toBe(0o700);
            expect(fs.readlinkSync(path.join(applied.root, "/etc/example-link"))).toBe("/etc/long");
            expect(read("/etc/systemd/system/long.service").toString()).toBe(LONG_UNIT);
            expect(read("/etc/systemd/system/short.service").toString()).toBe(SHORT_UNIT);
            expect(read("/etc/systemd/system/existing.service.d/10-more.conf").toString()).toBe("[Service]\nEnvironment=A=1\n");
            expect(fs.readlinkSync(path.join(applied.root, "/etc/systemd/system/docker.service"))).toBe("/dev/null");
            const presets = read("/etc/systemd/system-preset/20-ignition.preset").toString().split("\n").filter(Boolean);
            expect(presets.sort()).toEqual(["enable long.service", "enable short.service"]);
            // SELinux labels cannot be checked here; that Ignition asks for every written file to be labelled can.
            for (const file of decodeConfigFiles(json).keys())
                expect([file, relabelCovers(applied.root, applied.relabeled, file)]).toEqual([file, true]);

            // The helper script holds each step as a function and runs the one named by its first argument.
            const script = path.join(applied.root, "/usr/local/bin/node-setup");
            expect(mode("/usr/local/bin/node-setup")).toBe(0o755);
            expect(execFileSync("bash", [script, "say-hello", "node"]).toString()).toBe("hello node\n");
            expect(() => execFileSync("bash", [script, "rm", "-rf", "/nonexistent"], { stdio: "pipe" })).toThrow(/no step rm/);
        } finally {
            fs.rmSync(applied.scratch, { recursive: true, force: true });
        }
    });
});

describe("the real-tool checks", () => {
    it("fail like a node would on a file the image already has, written without overwrite", async () => {
        const json = renderIgnitionConfig([{ files: [{ path: "/etc/chrony.conf", contents: "server ntp.cloud.aliyuncs.com iburst\n" }] }]);
        const failure = await applyIgnition(json).then(
            () => new Error("applied"),
            (error: Error) => error,
        );
        expect(failure.message).toMatch(/files stage failed[\s\S]*chrony\.conf/);
        const scratch = /\/ignition-apply-[^/]+/.exec(failure.message)![0];
        expect(fs.existsSync(path.join(os.tmpdir(), scratch))).toBe(false); // cleaned up
    });

    it("let through only the executables Fedora CoreOS alone has, and report everything else systemd finds", async () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "verify-units-"));
        try {
            const dir = path.join(root, "etc/systemd/system");
            fs.mkdirSync(dir, { recursive: true });
            fs.writeFileSync(path.join(dir, "fcos.service"), "[Service]\nExecStart=/usr/bin/podman run example\n");
            fs.writeFileSync(
                path.join(dir, "bad.service"),
                "[Unit]\nRequires=missing.service\n[Service]\nBogusKey=1\nExecStart=/usr/bin/not-on-fcos\n",
            );
            expect(await verifyUnits(root, ["fcos.service"])).toEqual([]);
            const problems = await verifyUnits(root, ["bad.service"]);
            expect(problems).toEqual(
                expect.arrayContaining([
                    expect.stringContaining("BogusKey"),
                    expect.stringContaining("missing.service"),
                    expect.stringContaining("/usr/bin/not-on-fcos"),
                ]),
            );
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    it("fail, naming the Debian package to install, when a tool is missing", () => {
        expect(() => requireTool({ command: "ignition-validate-not-here", debianPackage: "ignition" })).toThrow(
            /ignition-validate-not-here is not installed.*apt-get install -y ignition/,
        );
    });
});

describe("mountUnitName", () => {
    it.each(["/var/lib/etcd", "/var/srv/nfs", "/var/lib/my data.d/x-y", "/.hidden/ünïcode"])(
        "names %s's mount unit as systemd-escape does",
        (mountPoint) => {
            const escape = requireTool({ command: "systemd-escape", debianPackage: "systemd" });
            const expected = execFileSync(escape, ["--path", "--suffix=mount", mountPoint]).toString().trim();
            expect(mountUnitName(mountPoint)).toBe(expected);
        },
    );
});
