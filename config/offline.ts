/**
 * The stage config as the program would see it, read straight from the files (no engine): for tests, the
 * render and `stage:new`. Same decoding and the same parser as `loadStageConfig`.
 */
import { PROJECT, REGION_KEY } from "./keys";
import { decodeConfigValue } from "./load";
import { engineConfigFor } from "./stageFiles";
import { StageConfig, parseStageConfig } from "./stageConfig";

/** Parses `Pulumi.yaml` + `Pulumi.<stage>.yaml` (+ overrides by full key) into a `StageConfig`. */
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
