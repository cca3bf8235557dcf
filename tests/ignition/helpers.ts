/**
 * Test-side readers of what the renderers produce, written independently of ignition/ so that a test does not
 * check the code with itself: a decoder of data URLs (Node's zlib for gzip), and parsers of unit files,
 * env files and sysctl files.
 */
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";

/** Every file a config writes, decoded: storage.files and the units and drop-ins with inline contents. */
export function decodeConfigFiles(json: string): Map<string, { contents: Buffer; mode?: number }> {
    const config = JSON.parse(json);
    const files = new Map<string, { contents: Buffer; mode?: number }>();
    for (const file of config.storage?.files ?? []) {
        const source: string = file.contents.source;
        const comma = source.indexOf(",");
        const header = source.slice("data:".length, comma);
        const payload = source.slice(comma + 1);
        let data = header.endsWith(";base64") ? Buffer.from(payload, "base64") : Buffer.from(percentDecodeBytes(payload));
        if (file.contents.compression === "gzip") data = zlib.gunzipSync(data);
        files.set(file.path, { contents: data, mode: file.mode });
    }
    for (const unit of config.systemd?.units ?? []) {
        if (unit.contents !== undefined) files.set(`/etc/systemd/system/${unit.name}`, { contents: Buffer.from(unit.contents) });
        for (const dropin of unit.dropins ?? []) {
            if (dropin.contents !== undefined) {
                files.set(`/etc/systemd/system/${unit.name}.d/${dropin.name}`, { contents: Buffer.from(dropin.contents) });
            }
        }
    }
    return files;
}

function percentDecodeBytes(text: string): number[] {
    const bytes: number[] = [];
    for (let i = 0; i < text.length; i++) {
        if (text[i] === "%") {
            bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
            i += 2;
        } else {
            bytes.push(text.charCodeAt(i));
        }
    }
    return bytes;
}

/** A unit file as section -> key -> values (repeated keys keep every value; continuation lines are joined). */
export function parseUnit(text: string): Record<string, Record<string, string[]>> {
    const sections: Record<string, Record<string, string[]>> = {};
    let current: Record<string, string[]> = {};
    for (const line of text.replace(/\\\n\s*/g, " ").split("\n")) {
        const header = /^\[(.+)\]$/.exec(line);
        if (header) {
            current = sections[header[1]] = {};
        } else if (line.includes("=") && !line.startsWith("#")) {
            const key = line.slice(0, line.indexOf("="));
            (current[key] ??= []).push(line.slice(line.indexOf("=") + 1));
        }
    }
    return sections;
}

/** The words of a space-separated unit setting, e.g. all units named in `Before=`. */
export function unitList(unit: Record<string, Record<string, string[]>>, section: string, key: string): string[] {
    return (unit[section]?.[key] ?? []).flatMap((v) => v.split(/\s+/)).filter((w) => w !== "");
}

/** `KEY=value` or `key = value` lines as a map (env files, sysctl.d). */
export function parseAssignments(text: string): Map<string, string> {
    const values = new Map<string, string>();
    for (const line of text.split("\n")) {
        const m = /^\s*([^#=\s][^=]*?)\s*=\s*(.*?)\s*$/.exec(line);
        if (m) values.set(m[1], m[2]);
    }
    return values;
}

/** A file in an applied root, as text (following the root's own symlinks, e.g. /usr/local -> ../var/usrlocal). */
export function readRootFile(root: string, file: string): string {
    return fs.readFileSync(path.join(root, file), "utf8");
}

/** The permission bits of a file in an applied root. */
export function rootFileMode(root: string, file: string): number {
    return fs.statSync(path.join(root, file)).mode & 0o7777;
}

/**
 * Whether Ignition asked for `file` to be relabelled for SELinux: it lists the top-most path it created, so a
 * file is covered by itself or by a directory above it. `file` is resolved through the root's symlinks first.
 */
export function relabelCovers(root: string, relabeled: readonly string[], file: string): boolean {
    const real = fs.realpathSync(path.join(root, file)).slice(fs.realpathSync(root).length);
    return relabeled.some((entry) => real === entry || real.startsWith(`${entry}/`));
}
