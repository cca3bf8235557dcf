/**
 * Reads what an Ignition (spec 3.x) config would put on a node: every file's decoded contents, every unit and
 * drop-in, links, directories and users. Plain data in, plain data out, so that the policy pack can look inside
 * gzip-compressed `data:` URLs for private keys, and `npm run render:diff` can show a change to a file as a
 * diff of its text rather than of a base64 blob.
 */
import * as crypto from "crypto";
import * as zlib from "zlib";

/** One file Ignition writes. */
export interface IgnitionFile {
    readonly path: string;
    /** Mode, owner and overwrite flag, as one line for a reviewer ("mode=0644 user=root group=root"). */
    readonly attributes: string;
    /**
     * The decoded contents: the bytes a `data:` URL holds (gunzipped when `compression: gzip`), or, for a
     * remote source that cannot be read offline, a line naming the URL and its verification hash.
     * Appended fragments follow, each after a marker line.
     */
    readonly contents: Buffer;
}

/** One systemd unit (and its drop-ins) Ignition writes or enables. */
export interface IgnitionUnit {
    readonly name: string;
    /** enabled / disabled / masked, as set in the config ("" when left to presets). */
    readonly state: string;
    readonly contents: string;
    readonly dropins: readonly { readonly name: string; readonly contents: string }[];
}

/** What a config contains, by kind. */
export interface IgnitionContents {
    readonly files: readonly IgnitionFile[];
    readonly units: readonly IgnitionUnit[];
    /** Other entries (directories, links, users, groups, kernel arguments, disks...) as path -> JSON. */
    readonly other: ReadonlyMap<string, string>;
}

/**
 * Decodes an RFC 2397 `data:` URL into its bytes. Ignition accepts both the base64 and the percent-encoded
 * form, so both are read; anything else is refused with the reason.
 */
export function decodeDataUrl(url: string): Buffer {
    if (!url.startsWith("data:")) {
        throw new Error(`not a data: URL: ${url.slice(0, 40)}`);
    }
    const comma = url.indexOf(",");
    if (comma < 0) {
        throw new Error("a data: URL needs a ',' between its media type and its data");
    }
    const header = url.slice(5, comma);
    const data = url.slice(comma + 1);
    if (header.split(";").includes("base64")) {
        return Buffer.from(data, "base64");
    }
    // Percent-decoding byte by byte: decodeURIComponent would reject bytes that are not UTF-8.
    const bytes: number[] = [];
    for (let i = 0; i < data.length; i++) {
        if (data[i] === "%" && /^[0-9A-Fa-f]{2}$/.test(data.slice(i + 1, i + 3))) {
            bytes.push(parseInt(data.slice(i + 1, i + 3), 16));
            i += 2;
        } else {
            bytes.push(...Buffer.from(data[i], "utf8"));
        }
    }
    return Buffer.from(bytes);
}

/** A JSON object as parsed; fields are checked where they are read. */
type Json = Record<string, unknown>;

/** The value as an object (a missing or malformed entry reads as an empty one). */
function asObject(value: unknown): Json {
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
}

/** The value as a list of objects (missing: none). */
function asList(value: unknown): Json[] {
    return Array.isArray(value) ? value.map(asObject) : [];
}

/** The bytes of one Ignition resource (file contents or an append fragment). */
function resourceBytes(resource: Json): Buffer {
    if (typeof resource.source !== "string") {
        return Buffer.alloc(0);
    }
    if (!resource.source.startsWith("data:")) {
        const hash = asObject(resource.verification).hash;
        const verified = typeof hash === "string" && hash !== "" ? ` (verified by ${hash})` : " (not verified)";
        return Buffer.from(`<fetched at boot from ${resource.source}${verified}>\n`);
    }
    const raw = decodeDataUrl(resource.source);
    return resource.compression === "gzip" ? zlib.gunzipSync(raw) : raw;
}

function owner(o: Json): string {
    return typeof o.name === "string" ? o.name : o.id !== undefined ? String(o.id) : "root";
}

/** Parses an Ignition config (the raw JSON a node receives) into what it writes. Throws on invalid JSON. */
export function ignitionContents(json: string): IgnitionContents {
    const config = asObject(JSON.parse(json));
    const storage = asObject(config.storage);
    const passwd = asObject(config.passwd);
    const files: IgnitionFile[] = asList(storage.files).map((f) => {
        const mode = typeof f.mode === "number" ? `0${f.mode.toString(8)}` : "default";
        const attributes = `mode=${mode} user=${owner(asObject(f.user))} group=${owner(asObject(f.group))}${f.overwrite ? " overwrite" : ""}`;
        const parts = [resourceBytes(asObject(f.contents))];
        for (const [i, fragment] of asList(f.append).entries()) {
            parts.push(Buffer.from(`\n<append ${i}>\n`), resourceBytes(fragment));
        }
        return { path: String(f.path), attributes, contents: Buffer.concat(parts) };
    });
    const text = (value: unknown) => (typeof value === "string" ? value : "");
    const units: IgnitionUnit[] = asList(asObject(config.systemd).units).map((u) => ({
        name: String(u.name),
        state: u.mask ? "masked" : u.enabled === true ? "enabled" : u.enabled === false ? "disabled" : "",
        contents: text(u.contents),
        dropins: asList(u.dropins).map((d) => ({ name: String(d.name), contents: text(d.contents) })),
    }));
    const other = new Map<string, string>();
    const keyed = (kind: string, list: unknown, key: (e: Json) => string) => {
        for (const entry of asList(list)) {
            other.set(`${kind} ${key(entry)}`, JSON.stringify(entry, null, 2));
        }
    };
    keyed("directory", storage.directories, (e) => String(e.path));
    keyed("link", storage.links, (e) => String(e.path));
    keyed("disk", storage.disks, (e) => String(e.device));
    keyed("filesystem", storage.filesystems, (e) => String(e.path ?? e.device));
    keyed("raid", storage.raid, (e) => String(e.name));
    keyed("user", passwd.users, (e) => String(e.name));
    keyed("group", passwd.groups, (e) => String(e.name));
    for (const key of ["ignition", "kernelArguments", "boot"]) {
        if (config[key] !== undefined) {
            other.set(key, JSON.stringify(config[key], null, 2));
        }
    }
    return { files, units, other };
}

/** Text for a reviewer: UTF-8 text as is, anything binary as its size and SHA-256. */
export function displayContents(bytes: Buffer): string {
    const text = bytes.toString("utf8");
    if (!bytes.includes(0) && Buffer.from(text, "utf8").equals(bytes)) {
        return text;
    }
    const digest = crypto.createHash("sha256").update(bytes).digest("hex");
    return `<binary, ${bytes.length} bytes, sha256 ${digest}>\n`;
}
