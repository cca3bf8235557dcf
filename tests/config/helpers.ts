/** Laying bad values over a real stage file and reading the loader's problems. */
import { PROJECT, StageConfigError } from "../../config";
import { stageConfigFromFiles } from "../../tools/stageFiles";

export const key = (name: string) => `${PROJECT}:${name}`;

/** The problems reported for dev with `overrides` laid over it (fails the test if the config loads). */
export function problemsOf(overrides: Record<string, unknown>, stage = "dev"): string[] {
    try {
        stageConfigFromFiles(stage, overrides);
    } catch (err) {
        if (err instanceof StageConfigError) {
            return err.problems.map((p) => err.message.split("\n").find((line) => line.includes(p.key) && line.includes(p.rule)) ?? "");
        }
        throw err;
    }
    throw new Error(`the config loaded although ${JSON.stringify(overrides)} should be refused`);
}

export function expectProblem(overrides: Record<string, unknown>, ...fragments: string[]): void {
    const problems = problemsOf(overrides);
    const match = problems.find((p) => fragments.every((f) => p.includes(f)));
    if (!match) {
        throw new Error(`no problem mentions ${JSON.stringify(fragments)}; got:\n${problems.join("\n")}`);
    }
}
