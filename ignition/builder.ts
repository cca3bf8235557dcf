/**
 * From what a node needs (users, files, units, in boot order) to Ignition JSON: every file and unit encoded in
 * the fewest bytes Ignition accepts, then serialized canonically (keys sorted, no whitespace), so the same
 * input always gives the same bytes and a user-data diff shows only real changes.
 */
import { deterministicGzip } from "./gzip";
import {
    FileContents,
    IGNITION_SPEC_VERSION,
    IgnitionConfig,
    PasswdUser,
    StorageDirectory,
    StorageFile,
    StorageLink,
    SystemdDropin,
    SystemdUnit,
} from "./spec";

/** A file Ignition writes at first boot (the files copied over SSH later are controlplane/files.ts `NodeFile`s). */
export interface BootFile {
    readonly path: string;
    readonly contents: string | Uint8Array;
    /** Permission bits; defaults to 0o644 (which Ignition also defaults to, so it is then left out of the JSON). */
    readonly mode?: number;
    /** The image already has this file (e.g. /etc/hosts): replace it, where Ignition would otherwise fail. */
    readonly overwrite?: boolean;
}

/** A systemd unit: new contents and drop-ins, and whether Ignition enables (preset) or masks it. */
export interface NodeUnit {
    readonly name: string;
    readonly contents?: string;
    readonly enabled?: boolean;
    readonly mask?: boolean;
    readonly dropins?: readonly { readonly name: string; readonly contents: string }[];
}

/**
 * A shell step a unit runs (`ExecStart=${NODE_SETUP} <name> ARG...`): a bash function in the node's one helper
 * script. One script, not one per step, because each Ignition file costs ~150 bytes of JSON and gzip overhead,
 * and scripts in files (not in `ExecStart=/bin/sh -c`) spare the quoting of `$` and `%` that systemd expands.
 */
export interface SetupStep {
    /** The function's name, which units pass as the first argument. */
    readonly name: string;
    /** Its arguments, for the comment above it (e.g. `SERIAL LABEL`). */
    readonly usage: string;
    readonly body: readonly string[];
}

/** The helper script holding every `SetupStep`; /usr is read-only on Fedora CoreOS, /usr/local is not. */
export const NODE_SETUP = "/usr/local/bin/node-setup";

/** One piece of a node config (time sync, the kubelet, ...). A role's config is a list of these in boot order. */
export interface NodeConfigPart {
    readonly users?: readonly PasswdUser[];
    readonly files?: readonly BootFile[];
    readonly directories?: readonly StorageDirectory[];
    readonly links?: readonly StorageLink[];
    readonly units?: readonly NodeUnit[];
    readonly steps?: readonly SetupStep[];
}

const DEFAULT_FILE_MODE = 0o644;
const SYSTEMD_UNIT_DIR = "/etc/systemd/system";

/** The parts of a node config, merged in order into one Ignition config. Fails on two entries for one path or unit. */
export function buildIgnitionConfig(parts: readonly NodeConfigPart[]): IgnitionConfig {
    const users: PasswdUser[] = [];
    const files: StorageFile[] = [];
    const directories: StorageDirectory[] = [];
    const links: StorageLink[] = [];
    const units: SystemdUnit[] = [];
    const steps = parts.flatMap((part) => part.steps ?? []);
    const claimed = new Set<string>();
    const claim = (what: string) => {
        if (claimed.has(what)) throw new Error(`Ignition config: ${what} is written twice`);
        claimed.add(what);
    };

    for (const part of parts) {
        // The helper script goes where the first part that needs it is, so the JSON keeps the boot order.
        if (part === parts.find((p) => (p.steps ?? []).length > 0)) {
            claim(`path ${NODE_SETUP}`);
            files.push(storageFile(setupScript(steps)));
        }
        for (const user of part.users ?? []) {
            claim(`user ${user.name}`);
            users.push(user);
        }
        for (const file of part.files ?? []) {
            claim(`path ${file.path}`);
            files.push(storageFile(file));
        }
        for (const directory of part.directories ?? []) {
            claim(`path ${directory.path}`);
            directories.push(directory);
        }
        for (const link of part.links ?? []) {
            claim(`path ${link.path}`);
            links.push(link);
        }
        for (const unit of part.units ?? []) {
            claim(`unit ${unit.name}`);
            const placed = placeUnit(unit);
            for (const f of placed.files) claim(`path ${f.path}`);
            files.push(...placed.files);
            if (placed.unit) units.push(placed.unit);
        }
    }

    const nonEmpty = <T>(items: T[]) => (items.length > 0 ? items : undefined);
    const storage = { files: nonEmpty(files), directories: nonEmpty(directories), links: nonEmpty(links) };
    return {
        ignition: { version: IGNITION_SPEC_VERSION },
        passwd: users.length > 0 ? { users } : undefined,
        storage: Object.values(storage).some((v) => v !== undefined) ? storage : undefined,
        systemd: units.length > 0 ? { units } : undefined,
    };
}

/** The helper script: one bash function per step, then a call of the one the first argument names. */
function setupScript(steps: readonly SetupStep[]): BootFile {
    const names = steps.map((s) => s.name);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate) throw new Error(`Ignition config: setup step ${duplicate} is defined twice`);
    const lines = [
        "#!/bin/bash",
        "# node-setup STEP [ARG...]: the steps this node's systemd units run.",
        "set -euo pipefail",
        ...steps.flatMap((s) => [`${s.name}() {${s.usage ? ` # ${s.usage}` : ""}`, ...s.body.map((l) => `  ${l}`), "}"]),
        'if declare -F "${1:-}" >/dev/null; then "$@"; else echo "node-setup: no step ${1:-}" >&2; exit 2; fi',
    ];
    return { path: NODE_SETUP, mode: 0o755, contents: lines.join("\n") + "\n" };
}

/** Canonical JSON of a config: object keys in code-point order, no whitespace, absent fields left out. */
export function serializeIgnitionConfig(config: IgnitionConfig): string {
    return canonicalJson(config);
}

/** `buildIgnitionConfig` then `serializeIgnitionConfig`: the user data of a node. */
export function renderIgnitionConfig(parts: readonly NodeConfigPart[]): string {
    return serializeIgnitionConfig(buildIgnitionConfig(parts));
}

/** JSON with sorted keys and no insignificant whitespace (RFC 8785's shape for the strings and integers we emit). */
export function canonicalJson(value: unknown): string {
    return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(sortKeys);
    if (value !== null && typeof value === "object") {
        const entries = Object.entries(value as Record<string, unknown>)
            .filter(([, v]) => v !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
    }
    return value;
}

function storageFile(file: BootFile): StorageFile {
    const mode = file.mode ?? DEFAULT_FILE_MODE;
    return {
        path: file.path,
        mode: mode === DEFAULT_FILE_MODE ? undefined : mode,
        overwrite: file.overwrite ? true : undefined,
        contents: encodeFileContents(file.contents),
    };
}

/**
 * A unit's contents (and each drop-in's) go inline in `systemd.units`, or as a file in /etc/systemd/system when
 * that is fewer bytes (gzip makes long units much smaller; inline JSON is smaller for short ones). Ignition
 * writes the same file either way; `enabled` and `mask` always stay in `systemd.units`.
 */
function placeUnit(unit: NodeUnit): { unit?: SystemdUnit; files: StorageFile[] } {
    const files: StorageFile[] = [];
    const inlineOrFile = (path: string, contents: string | undefined): string | undefined => {
        if (contents === undefined) return undefined;
        const asFile = storageFile({ path, contents });
        if (canonicalJson(asFile).length < canonicalJson({ contents }).length) {
            files.push(asFile);
            return undefined;
        }
        return contents;
    };

    const contents = inlineOrFile(`${SYSTEMD_UNIT_DIR}/${unit.name}`, unit.contents);
    const dropins: SystemdDropin[] = (unit.dropins ?? [])
        .map((d) => ({ name: d.name, contents: inlineOrFile(`${SYSTEMD_UNIT_DIR}/${unit.name}.d/${d.name}`, d.contents) }))
        .filter((d) => d.contents !== undefined);
    const entry: SystemdUnit = {
        name: unit.name,
        contents,
        enabled: unit.enabled,
        mask: unit.mask,
        dropins: dropins.length > 0 ? dropins : undefined,
    };
    const needed = [entry.contents, entry.enabled, entry.mask, entry.dropins].some((v) => v !== undefined);
    return { unit: needed ? entry : undefined, files };
}

/**
 * Encoded text files, by their text. Most files are the same on every node of a pool (and in the preview-time
 * render with placeholders), and encoding, gzip at level 9 above all, was a third of what the program allocated
 * at 500 workers. Cleared when full, so a long-lived process (tests, the bench) does not grow with it.
 */
const encodedTexts = new Map<string, FileContents>();
const ENCODED_TEXTS_LIMIT = 4096;

/**
 * File contents as the shortest `data:` URL: percent-encoded text, base64, or base64 of the gzip. Gzip is used
 * only where it is strictly smaller than both plain forms, counting its `"compression":"gzip"` field.
 */
export function encodeFileContents(contents: string | Uint8Array): FileContents {
    if (typeof contents !== "string") {
        return encodeBytes(Buffer.from(contents));
    }
    let encoded = encodedTexts.get(contents);
    if (encoded === undefined) {
        if (encodedTexts.size >= ENCODED_TEXTS_LIMIT) {
            encodedTexts.clear();
        }
        // Frozen: one object may now sit in many configs.
        encoded = Object.freeze(encodeBytes(Buffer.from(contents, "utf8")));
        encodedTexts.set(contents, encoded);
    }
    return encoded;
}

function encodeBytes(bytes: Buffer): FileContents {
    const candidates: FileContents[] = [
        { source: `data:,${percentEncode(bytes)}` },
        { source: `data:;base64,${bytes.toString("base64")}` },
        { compression: "gzip", source: `data:;base64,${deterministicGzip(bytes).toString("base64")}` },
    ];
    // The first of the shortest wins, so plain text is kept on a tie.
    return candidates.reduce((best, c) => (canonicalJson(c).length < canonicalJson(best).length ? c : best));
}

/**
 * RFC 3986 leaves unreserved characters, sub-delimiters, ':', '@', '/' and '?' unescaped in a URL's path and
 * query; Ignition's data-URL parser accepts them all, and they need no JSON escaping. Everything else is %XX.
 */
const URL_SAFE = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?]$/;

function percentEncode(bytes: Uint8Array): string {
    let out = "";
    for (const byte of bytes) {
        const c = String.fromCharCode(byte);
        out += byte < 0x80 && URL_SAFE.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
    return out;
}
