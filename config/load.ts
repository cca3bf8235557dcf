/**
 * The only place that reads Pulumi config: turns the engine's config into a validated `StageConfig`.
 */
import * as pulumi from "@pulumi/pulumi";
// isConfigSecret is internal to the SDK (pinned exactly in package.json): it says which keys the engine marked secret.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an internal module of the pinned SDK, untyped
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };
import { KEYS, KeyName, PROJECT, REGION_KEY } from "./schema";
import { parseStageConfig } from "./parse";
import { StageConfig } from "./types";

/**
 * Decodes one config value as the engine passes it (always a string) by the key's declared type.
 * A value that does not decode is passed on as text, so the schema reports it with the key's rule.
 */
export function decodeConfigValue(name: string, text: string): unknown {
    const type = name in KEYS ? KEYS[name as KeyName].type : undefined;
    switch (type) {
        case "string":
            return text;
        case "integer":
            return /^-?[0-9]+$/.test(text) ? Number(text) : text;
        default:
            try {
                return JSON.parse(text);
            } catch {
                return text;
            }
    }
}

/** Reads this stack's config from the running Pulumi engine (or the mock runtime) and validates it. */
export function loadStageConfig(): StageConfig {
    const all = pulumi.runtime.allConfig();
    const values: Record<string, unknown> = {};
    const secretKeys = new Set<string>();
    const prefix = `${PROJECT}:`;
    for (const [fullKey, text] of Object.entries(all)) {
        if (!fullKey.startsWith(prefix)) {
            continue;
        }
        const name = fullKey.slice(prefix.length);
        values[name] = decodeConfigValue(name, text);
        if (isConfigSecret(fullKey)) {
            secretKeys.add(name);
        }
    }
    return parseStageConfig({ stage: pulumi.getStack(), region: all[REGION_KEY], values, secretKeys });
}
