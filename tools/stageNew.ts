/**
 * `npm run stage:new -- --from staging --to perf [--set key=value ...]`: writes `Pulumi.perf.yaml`, a copy of
 * the source stage's config with what must be unique per stage chosen anew:
 *
 *   - vpcCidr, podCidr and serviceCidr: the next free block of the same size after the source's, overlapping no
 *     network of any existing stage file (nor each other, nor Alibaba's 100.64.0.0/10);
 *   - the vSwitches need nothing: they derive from vpcCidr (config/vswitches.ts), so they move with it;
 *   - names need nothing: every physical name derives from the stage name; the stage-scoped names in `mirrors`
 *     (the registry namespace, the files bucket) are renamed after the new stage.
 *
 * Secure values (`secure: v1:...`) are encrypted with the source stack's key and cannot be copied: they are left
 * out and listed with the command that sets each one again. So are the source's `encryptionsalt` and secrets
 * provider (the new stack gets its own from `pulumi stack init`). The result goes through the same loader as
 * `pulumi up` (as it will be once the secrets are set) before anything is written; an existing target is refused.
 *
 * Compare `pulumi stack init perf --copy-config-from staging` (docs/operations.md): that copies everything,
 * secrets re-encrypted, networks included, so the new stage would overlap the old one.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { Cidr, cidr, contains, overlaps, parseCidr, shiftCidr } from "../config/cidr";
import { KEYS, PROJECT } from "../config/schema";
import { stageConfigFromFiles } from "./stageFiles";
import { StageConfigError } from "../config/problems";
import { PROJECT_DIR, listStages, readStageFile, stageFilePath } from "./stageFiles";

/** What to clone, and how. */
export interface StageNewOptions {
    /** The existing stage to copy. */
    readonly from: string;
    /** The new stage's name (also the Pulumi stack name). */
    readonly to: string;
    /** `key=value` assignments laid over the copy: `eipQuota=4`, `edge.count=1`, `alicloud:region=...`. */
    readonly set?: readonly string[];
    /** The project directory (Pulumi.yaml and the stage files). Defaults to the repository root. */
    readonly dir?: string;
}

/** What `cloneStage` wrote and what the operator must do next. */
export interface StageNewResult {
    /** The path of the new stage file. */
    readonly file: string;
    /** Its text. */
    readonly text: string;
    /** The networks chosen for the new stage, by key. */
    readonly networks: Readonly<Record<string, string>>;
    /** Paths of the secure values left out (`ingressTlsKey`, `appSecrets.orders.DB_PASSWORD`). */
    readonly droppedSecrets: readonly string[];
    /** Top-level stack settings not copied (`encryptionsalt`, `secretsprovider`, ...). */
    readonly droppedSettings: readonly string[];
}

/** A refusal: the message says why and what to do instead. */
export class StageNewError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StageNewError";
    }
}

const NETWORK_KEYS = ["vpcCidr", "podCidr", "serviceCidr"] as const;
/** The private ranges a VPC may use (the loader's rule), searched in this order after the source's own range. */
const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map(cidr);
/** Alibaba's own services (metadata, DNS) live here; nothing of a stage may overlap it. */
const ALIBABA_SERVICE_NETWORK = cidr("100.64.0.0/10");

const fullKey = (key: string) => (key.includes(":") ? key : `${PROJECT}:${key}`);

/** Every network any stage file sets, with where it comes from (for messages). */
export function stageNetworks(dir = PROJECT_DIR): { stage: string; key: string; network: Cidr }[] {
    const out: { stage: string; key: string; network: Cidr }[] = [];
    for (const stage of listStages(dir)) {
        const config = readStageFile(stage, dir);
        for (const key of NETWORK_KEYS) {
            const value = config[fullKey(key)];
            const parsed = value === undefined ? undefined : parseCidr(String(value));
            if (parsed && !("error" in parsed)) {
                out.push({ stage, key, network: parsed });
            }
        }
    }
    return out;
}

/**
 * The first block of `like`'s size after `like` (wrapping around) that overlaps nothing in `taken`: first in the
 * private range that holds `like`, then in the others. Deterministic, and a clone of `staging` (10.20.0.0/16)
 * lands next to it (10.21.0.0/16) when that is free.
 */
export function nextFreeBlock(like: Cidr, taken: readonly Cidr[]): Cidr {
    const size = like.last - like.first + 1n;
    const home = PRIVATE_RANGES.find((r) => contains(r, like));
    const ranges = home ? [home, ...PRIVATE_RANGES.filter((r) => r !== home)] : PRIVATE_RANGES;
    for (const range of ranges) {
        if (like.prefix < range.prefix) {
            continue;
        }
        const first = cidr(`${range.text.split("/")[0]}/${like.prefix}`);
        const blocks = (range.last - range.first + 1n) / size;
        const start = range === home ? (like.first - range.first) / size + 1n : 0n;
        for (let k = 0n; k < blocks; k++) {
            const candidate = shiftCidr(first, ((start + k) % blocks) * size);
            if (!taken.some((t) => overlaps(t, candidate))) {
                return candidate;
            }
        }
    }
    throw new StageNewError(`no free /${like.prefix} is left in the private ranges; set the network with --set`);
}

/** Parses `key=value` (value as YAML: `4`, `true`, `[a, b]`); the key may be a dotted path into an object. */
export function parseAssignment(text: string): { path: string[]; value: unknown } {
    const eq = text.indexOf("=");
    if (eq <= 0) {
        throw new StageNewError(`--set ${text}: expected key=value (for example eipQuota=4 or edge.count=1)`);
    }
    // Namespaces (coreos-platform:, alicloud:) hold no dots, so the first dot ends the config key.
    const [first, ...rest] = text.slice(0, eq).split(".");
    const bare = first.startsWith(`${PROJECT}:`) ? first.slice(PROJECT.length + 1) : first;
    if ((!first.includes(":") || first.startsWith(`${PROJECT}:`)) && !(bare in KEYS)) {
        throw new StageNewError(`--set ${text}: ${bare} is not a key of this project (the keys are listed in Pulumi.yaml)`);
    }
    return { path: [fullKey(first), ...rest], value: YAML.parse(text.slice(eq + 1)) };
}

/** Paths (under `config`) of every `{secure: ...}` value in a parsed config. */
function securePaths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
    if (value && typeof value === "object" && !Array.isArray(value)) {
        const entries = Object.entries(value as Record<string, unknown>);
        if (entries.length === 1 && entries[0][0] === "secure") {
            return [at];
        }
        return entries.flatMap(([k, v]) => securePaths(v, [...at, k]));
    }
    if (Array.isArray(value)) {
        return value.flatMap((v, i) => securePaths(v, [...at, i]));
    }
    return [];
}

/** `coreos-platform:appSecrets`, `orders`, `DB_PASSWORD` -> `appSecrets.orders.DB_PASSWORD`. */
function displayPath(p: (string | number)[]): string {
    const [key, ...rest] = p.map(String);
    const bare = key.startsWith(`${PROJECT}:`) ? key.slice(PROJECT.length + 1) : key;
    return [bare, ...rest].join(".");
}

function validate(stage: string, text: string, dir: string): void {
    // The real loader reads files: give it Pulumi.yaml and the new file in a scratch directory.
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "stage-new-"));
    try {
        fs.copyFileSync(path.join(dir, "Pulumi.yaml"), path.join(scratch, "Pulumi.yaml"));
        fs.writeFileSync(stageFilePath(stage, scratch), text);
        stageConfigFromFiles(stage, {}, scratch);
    } catch (err) {
        if (err instanceof StageConfigError) {
            throw new StageNewError(`the new stage would not load, so nothing was written:\n${err.message}`);
        }
        throw err;
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
    }
}

/** Builds the new stage file, validates it and writes it. Throws `StageNewError` (nothing written) on refusal. */
export function cloneStage(options: StageNewOptions): StageNewResult {
    const dir = options.dir ?? PROJECT_DIR;
    const { from, to } = options;
    const target = stageFilePath(to, dir);
    if (fs.existsSync(target)) {
        throw new StageNewError(
            `${path.basename(target)} already exists; choose another name, or edit that file (stage:new never overwrites a stage)`,
        );
    }
    if (!fs.existsSync(stageFilePath(from, dir))) {
        throw new StageNewError(
            `there is no ${path.basename(stageFilePath(from, dir))} to clone; stages here: ${listStages(dir).join(", ") || "none"}`,
        );
    }
    const sets = (options.set ?? []).map(parseAssignment);
    const doc = YAML.parseDocument(fs.readFileSync(stageFilePath(from, dir), "utf8"));
    const source = readStageFile(from, dir);

    // Stack settings tied to the source stack's secrets (its salt, its provider): the new stack makes its own.
    const droppedSettings: string[] = [];
    for (const item of [...(YAML.isMap(doc.contents) ? doc.contents.items : [])]) {
        const key = String(YAML.isScalar(item.key) ? item.key.value : item.key);
        if (key !== "config") {
            droppedSettings.push(key);
            doc.delete(key);
        }
    }

    // Networks: what --set gives is kept; the rest is chosen to overlap no stage and nothing chosen before it.
    const given = new Map(sets.filter((s) => s.path.length === 1).map((s) => [s.path[0], s.value]));
    const taken: Cidr[] = [...stageNetworks(dir).map((n) => n.network), ALIBABA_SERVICE_NETWORK];
    const pick = (key: "vpcCidr" | "podCidr" | "serviceCidr"): Cidr => {
        const explicit = given.get(fullKey(key));
        const chosen = explicit !== undefined ? parseCidr(String(explicit)) : nextFreeBlock(cidr(String(source[fullKey(key)])), taken);
        if ("error" in chosen) {
            throw new StageNewError(`--set ${key}=${explicit}: ${chosen.error}`);
        }
        const clash = stageNetworks(dir).find((n) => overlaps(n.network, chosen));
        if (clash) {
            throw new StageNewError(`--set ${key}=${chosen.text} overlaps ${clash.key} ${clash.network.text} of stage ${clash.stage}`);
        }
        taken.push(chosen);
        return chosen;
    };
    const networks: Record<string, string> = {
        vpcCidr: pick("vpcCidr").text,
        podCidr: pick("podCidr").text,
        serviceCidr: pick("serviceCidr").text,
    };
    for (const [key, value] of Object.entries(networks)) {
        doc.setIn(["config", fullKey(key)], value);
    }
    // Mirrors are stage-scoped by name (the registry namespace, the files bucket): the new stage gets its own.
    const mirrors = doc.getIn(["config", fullKey("mirrors")], true);
    if (YAML.isNode(mirrors)) {
        YAML.visit(mirrors, {
            Scalar(_, node) {
                if (typeof node.value === "string") node.value = node.value.split(`${PROJECT}-${from}`).join(`${PROJECT}-${to}`);
            },
        });
    }
    for (const s of sets) {
        doc.setIn(["config", ...s.path], s.value);
    }

    // Validate as it will be once the secrets are set again (the loader stands in for secure values).
    validate(to, doc.toString(), dir);

    const dropped = securePaths(YAML.parse(doc.toString())?.config ?? {});
    for (const p of dropped) {
        doc.deleteIn(["config", ...p]);
        // An object left empty by the removal goes too (appSecrets.orders with no variable left).
        for (let n = p.length - 1; n >= 1; n--) {
            const parent = doc.getIn(["config", ...p.slice(0, n)]);
            if (YAML.isMap(parent) && parent.items.length === 0) {
                doc.deleteIn(["config", ...p.slice(0, n)]);
            }
        }
    }
    const droppedSecrets = dropped.map(displayPath);

    // The source's header describes the source: keep it, quoted as such, under the new one.
    // (`yaml` attaches a leading comment to the document, the map or the first key, depending on blank lines.)
    const holders: { commentBefore?: string | null }[] = [
        doc,
        ...(YAML.isMap(doc.contents) ? [doc.contents, doc.contents.items[0]?.key as YAML.Node] : []),
    ];
    const sourceHeader = holders
        .flatMap((h) => (h?.commentBefore ?? "").split("\n"))
        .map((l) => l.trim())
        .filter(Boolean);
    for (const h of holders) {
        if (h) {
            h.commentBefore = undefined;
        }
    }
    doc.commentBefore = [
        ` Stage ${to}: cloned from Pulumi.${from}.yaml by npm run stage:new (docs/operations.md, "New stages").`,
        ` Chosen so that no two stages overlap: ${Object.keys(networks).join(", ")}.`,
        ...(sets.length ? [` Set on the command line: ${(options.set ?? []).join(", ")}.`] : []),
        ...(droppedSecrets.length
            ? [` Secrets not copied (encrypted with ${from}'s key), set them again: ${droppedSecrets.join(", ")}.`]
            : []),
        ...(sourceHeader.length ? [` The source's header:`, ...sourceHeader.map((l) => `   ${l}`)] : []),
    ].join("\n");
    const text = doc.toString({ lineWidth: 0 });

    fs.writeFileSync(target, text, { flag: "wx" });
    return { file: target, text, networks, droppedSecrets, droppedSettings };
}

/** The operator's next steps, printed after the file is written. */
export function nextSteps(options: StageNewOptions, result: StageNewResult): string {
    const s = options.to;
    const lines = [
        `Wrote ${path.relative(process.cwd(), result.file) || result.file} (cloned from ${options.from}).`,
        "Networks chosen so that no two stages overlap:",
        ...Object.entries(result.networks).map(([k, v]) => `  ${k}: ${v}`),
    ];
    if (result.droppedSettings.length) {
        lines.push(`Not copied (they belong to ${options.from}'s stack): ${result.droppedSettings.join(", ")}.`);
    }
    lines.push(
        "",
        "Next steps:",
        `  pulumi stack init ${s}            # creates the stack (and its encryption salt) in the logged-in backend`,
    );
    for (const secret of result.droppedSecrets) {
        lines.push(
            `  pulumi config set --stack ${s} --secret --path '${secret}' <value>   # not copied: encrypted with ${options.from}'s key`,
        );
    }
    lines.push(
        `  review adminCidrs, sshAuthorizedKeys and the apps' route hosts (copied from ${options.from})`,
        `  npm run render -- --stack ${s}      # offline: what pulumi up would build`,
        `  pulumi preview --stack ${s} --diff --policy-pack policy`,
        `  git add Pulumi.${s}.yaml`,
    );
    return lines.join("\n");
}

function parseArgs(argv: string[]): StageNewOptions {
    const set: string[] = [];
    const named: Record<string, string> = {};
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const m = /^--(from|to|set|dir)(?:=(.*))?$/.exec(arg);
        if (!m) {
            throw new StageNewError(`unknown argument ${arg}`);
        }
        const value = m[2] ?? argv[++i];
        if (value === undefined) {
            throw new StageNewError(`--${m[1]} needs a value`);
        }
        if (m[1] === "set") {
            set.push(value);
        } else {
            named[m[1]] = value;
        }
    }
    if (!named.from || !named.to) {
        throw new StageNewError("usage: npm run stage:new -- --from <stage> --to <new stage> [--set key=value ...]");
    }
    return { from: named.from, to: named.to, set, dir: named.dir ? path.resolve(named.dir) : undefined };
}

function main(): void {
    try {
        const options = parseArgs(process.argv.slice(2));
        console.log(nextSteps(options, cloneStage(options)));
    } catch (err) {
        if (err instanceof StageNewError) {
            console.error(`stage:new: ${err.message}`);
            process.exit(1);
        }
        throw err;
    }
}

if (require.main === module) {
    main();
}
