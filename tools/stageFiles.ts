/**
 * Reading `Pulumi.yaml` and `Pulumi.<stage>.yaml` the way the Pulumi CLI does, for everything that runs
 * without the CLI: the offline render, the tests, `stage:new`, `config:sync` and the CI's list of stages. The
 * program itself never reads these files: the engine hands it the config (config/load.ts).
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { decodeConfigValue } from "../config/load";
import { parseStageConfig } from "../config/parse";
import { PROJECT, REGION_KEY } from "../config/schema";
import { StageConfig } from "../config/types";

/** The repository root (where Pulumi.yaml lives). */
export const PROJECT_DIR = path.resolve(__dirname, "..");

/** The stage names that have a `Pulumi.<stage>.yaml` in the project directory, sorted. */
export function listStages(dir = PROJECT_DIR): string[] {
    return fs
        .readdirSync(dir)
        .map((f) => /^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** The file of one stage. */
export function stageFilePath(stage: string, dir = PROJECT_DIR): string {
    return path.join(dir, `Pulumi.${stage}.yaml`);
}

/** The `config:` map of a stage file, keys as written (`coreos-platform:zones`, `alicloud:region`). */
export function readStageFile(stage: string, dir = PROJECT_DIR): Record<string, unknown> {
    const file = stageFilePath(stage, dir);
    if (!fs.existsSync(file)) {
        throw new Error(`There is no ${path.basename(file)}; stages here: ${listStages(dir).join(", ") || "none"}`);
    }
    const doc = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
    return (doc.config ?? {}) as Record<string, unknown>;
}

/** The defaults `Pulumi.yaml` declares, by full key. */
export function readProjectDefaults(dir = PROJECT_DIR): Record<string, unknown> {
    const doc = YAML.parse(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"));
    const out: Record<string, unknown> = {};
    for (const [key, decl] of Object.entries((doc.config ?? {}) as Record<string, { default?: unknown; value?: unknown }>)) {
        const full = key.includes(":") ? key : `${doc.name}:${key}`;
        const value = decl && typeof decl === "object" && !Array.isArray(decl) ? (decl.default ?? decl.value) : decl;
        if (value !== undefined) {
            out[full] = value;
        }
    }
    return out;
}

/** What the Pulumi CLI would hand the program: every config value as a string, and which keys are secret. */
export interface EngineConfig {
    readonly values: Record<string, string>;
    readonly secretKeys: string[];
}

/**
 * Builds the engine's view of a stage's config: `Pulumi.yaml` defaults overlaid with the stage file, then
 * `overrides` (full keys, for tests). `secure:` values cannot be decrypted without the stage's passphrase,
 * so they are replaced by a placeholder and marked secret, as the engine would mark them.
 */
export function engineConfigFor(stage: string, overrides: Record<string, unknown> = {}, dir = PROJECT_DIR): EngineConfig {
    const merged: Record<string, unknown> = { ...readProjectDefaults(dir), ...readStageFile(stage, dir), ...overrides };
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(merged)) {
        if (value === undefined) {
            continue;
        }
        const { plain, secret } = replaceSecure(key, value);
        values[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
        if (secret) {
            secretKeys.push(key);
        }
    }
    return { values, secretKeys };
}

/** A stand-in for a value that only the Pulumi CLI can decrypt; shaped so that the key's schema accepts it. */
export function secretPlaceholder(key: string): string {
    if (key === `${PROJECT}:ingressTlsKey`) {
        return "-----BEGIN PRIVATE KEY-----\nplaceholder for a secure value\n-----END PRIVATE KEY-----\n";
    }
    return `placeholder-for-secure-${key.replace(/[^A-Za-z0-9]+/g, "-")}`;
}

function replaceSecure(key: string, value: unknown): { plain: unknown; secret: boolean } {
    if (value && typeof value === "object" && !Array.isArray(value)) {
        const obj = value as Record<string, unknown>;
        if (Object.keys(obj).length === 1 && typeof obj.secure === "string") {
            return { plain: secretPlaceholder(key), secret: true };
        }
        let secret = false;
        const out: Record<string, unknown> = {};
        for (const [k, inner] of Object.entries(obj)) {
            const r = replaceSecure(`${key}.${k}`, inner);
            out[k] = r.plain;
            secret ||= r.secret;
        }
        return { plain: out, secret };
    }
    if (Array.isArray(value)) {
        const parts = value.map((inner, i) => replaceSecure(`${key}[${i}]`, inner));
        return { plain: parts.map((p) => p.plain), secret: parts.some((p) => p.secret) };
    }
    return { plain: value, secret: false };
}

/**
 * `Pulumi.yaml` + `Pulumi.<stage>.yaml` (+ overrides by full key) as the program would see them, without the
 * engine: the same decoding and the same parser as `loadStageConfig`.
 */
export function stageConfigFromFiles(stage: string, overrides: Record<string, unknown> = {}, dir?: string): StageConfig {
    const engine = engineConfigFor(stage, overrides, dir);
    const prefix = `${PROJECT}:`;
    const values: Record<string, unknown> = {};
    const secretKeys = new Set<string>();
    for (const [key, text] of Object.entries(engine.values)) {
        if (key.startsWith(prefix)) {
            const name = key.slice(prefix.length);
            values[name] = decodeConfigValue(name, text);
            if (engine.secretKeys.includes(key)) {
                secretKeys.add(name);
            }
        }
    }
    return parseStageConfig({ stage, region: engine.values[REGION_KEY], values, secretKeys });
}
