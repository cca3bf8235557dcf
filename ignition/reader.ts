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

interface Resource {
    source?: string | null;
    compression?: string | null;
    verification?: { hash?: string | null } | null;
}

/** The bytes of one Ignition resource (file contents or an append fragment). */
function resourceBytes(resource: Resource | undefined | null): Buffer {
    if (!resource || resource.source === undefined || resource.source === null) {
        return Buffer.alloc(0);
    }
    if (!resource.source.startsWith("data:")) {
        const hash = resource.verification?.hash ? ` (verified by ${resource.verification.hash})` : " (not verified)";
        return Buffer.from(`<fetched at boot from ${resource.source}${hash}>\n`);
    }
    const raw = decodeDataUrl(resource.source);
    return resource.compression === "gzip" ? zlib.gunzipSync(raw) : raw;
}

function owner(o: { name?: string; id?: number } | undefined | null): string {
    return o?.name ?? (o?.id !== undefined ? String(o.id) : "root");
}

/** Parses an Ignition config (the raw JSON a node receives) into what it writes. Throws on invalid JSON. */
export function ignitionContents(json: string): IgnitionContents {
    const config = JSON.parse(json) as Record<string, any>;
    const storage = (config.storage ?? {}) as Record<string, any>;
    const files: IgnitionFile[] = ((storage.files ?? []) as Record<string, any>[]).map((f) => {
        const mode = typeof f.mode === "number" ? `0${f.mode.toString(8)}` : "default";
        const attributes = `mode=${mode} user=${owner(f.user)} group=${owner(f.group)}${f.overwrite ? " overwrite" : ""}`;
        const parts = [resourceBytes(f.contents)];
        for (const [i, fragment] of ((f.append ?? []) as Resource[]).entries()) {
            parts.push(Buffer.from(`\n<append ${i}>\n`), resourceBytes(fragment));
        }
        return { path: String(f.path), attributes, contents: Buffer.concat(parts) };
    });
    const units: IgnitionUnit[] = (((config.systemd ?? {}).units ?? []) as Record<string, any>[]).map((u) => ({
        name: String(u.name),
        state: u.mask ? "masked" : u.enabled === true ? "enabled" : u.enabled === false ? "disabled" : "",
        contents: typeof u.contents === "string" ? u.contents : "",
        dropins: ((u.dropins ?? []) as Record<string, any>[]).map((d) => ({ name: String(d.name), contents: typeof d.contents === "string" ? d.contents : "" })),
    }));
    const other = new Map<string, string>();
    const keyed = (kind: string, list: unknown, key: (e: Record<string, any>, i: number) => string) => {
        for (const [i, entry] of ((Array.isArray(list) ? list : []) as Record<string, any>[]).entries()) {
            other.set(`${kind} ${key(entry, i)}`, JSON.stringify(entry, null, 2));
        }
    };
    keyed("directory", storage.directories, (e) => String(e.path));
    keyed("link", storage.links, (e) => String(e.path));
    keyed("disk", storage.disks, (e) => String(e.device));
    keyed("filesystem", storage.filesystems, (e) => String(e.path ?? e.device));
    keyed("raid", storage.raid, (e) => String(e.name));
    keyed("user", (config.passwd ?? {}).users, (e) => String(e.name));
    keyed("group", (config.passwd ?? {}).groups, (e) => String(e.name));
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
