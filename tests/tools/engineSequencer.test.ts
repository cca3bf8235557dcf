/**
 * The engine suite's sequencer (tests/engine/helpers/sequencer.js) runs observabilityTools.test.ts after every other
 * file, whatever jest's own order (slowest and largest first), because its tools build in the background meanwhile.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the sequencer is CommonJS, as jest loads it
const EngineSequencer = require("../engine/helpers/sequencer.js");

interface FakeTest {
    path: string;
    duration?: number;
    context: { config: { cacheDirectory: string; id: string }; hasteFS: { getSize(p: string): number } };
}

describe("engine suite sequencer", () => {
    const cacheDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "sequencer-"));
    afterAll(() => fs.rmSync(cacheDirectory, { recursive: true, force: true }));

    function order(files: { name: string; size: number }[]): string[] {
        const sizes = new Map(files.map((f) => [`/suite/${f.name}`, f.size]));
        const context = { config: { cacheDirectory, id: "engine" }, hasteFS: { getSize: (p: string) => sizes.get(p) ?? 0 } };
        const tests: FakeTest[] = files.map((f) => ({ path: `/suite/${f.name}`, context }));
        const sequencer = new EngineSequencer({ contexts: [], globalConfig: {} });
        return (sequencer.sort(tests) as FakeTest[]).map((t) => path.basename(t.path));
    }

    it("runs observabilityTools.test.ts last, even when jest would run it first (the largest file)", () => {
        expect(
            order([
                { name: "observabilityTools.test.ts", size: 9000 },
                { name: "stage.test.ts", size: 5000 },
                { name: "vpc.test.ts", size: 100 },
            ]),
        ).toEqual(["stage.test.ts", "vpc.test.ts", "observabilityTools.test.ts"]);
    });

    it("keeps jest's order for the other files", () => {
        expect(
            order([
                { name: "vpc.test.ts", size: 100 },
                { name: "stage.test.ts", size: 5000 },
                { name: "refusals.test.ts", size: 800 },
            ]),
        ).toEqual(["stage.test.ts", "refusals.test.ts", "vpc.test.ts"]);
    });
});
