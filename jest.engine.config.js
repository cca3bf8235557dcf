/**
 * Jest for the engine suite (`npm run test:engine`): the real Pulumi CLI, Kubernetes provider, control plane and
 * kubelet (engine/build.sh). One file at a time, long timeouts: each file boots clusters.
 */
module.exports = {
    // Node's environment, plus dropping the SDK's "Resource monitor is terminating" rejections as Pulumi's
    // language host does (tests/engine/helpers/environment.ts).
    testEnvironment: "<rootDir>/tests/engine/helpers/environment.ts",
    roots: ["<rootDir>/tests/engine"],
    testMatch: ["**/*.test.ts"],
    transform: { "^.+\\.ts$": ["ts-jest", { isolatedModules: true, diagnostics: false }] },
    testTimeout: 1200000,
    // observabilityTools.test.ts last: its tools build in the background meanwhile (engine/test.sh).
    testSequencer: "<rootDir>/tests/engine/helpers/sequencer.js",
    maxWorkers: 1,
};
