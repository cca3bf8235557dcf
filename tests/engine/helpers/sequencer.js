/**
 * The engine suite's order: jest's own (failed first, then slowest first), except that files checking
 * configurations with the checker tools (CHECKERS_LAST) run last. `npm run test:engine` builds those tools in the
 * background while the other files run, so running them last takes their build off the suite's critical path.
 */
const Sequencer = require("@jest/test-sequencer").default; // eslint-disable-line @typescript-eslint/no-require-imports -- jest loads this file as CommonJS

const CHECKERS_LAST = [/observabilityTools\.test\.ts$/];

class EngineSequencer extends Sequencer {
    sort(tests) {
        const last = (test) => CHECKERS_LAST.some((pattern) => pattern.test(test.path));
        const sorted = super.sort(tests);
        return [...sorted.filter((test) => !last(test)), ...sorted.filter(last)];
    }
}

module.exports = EngineSequencer;
