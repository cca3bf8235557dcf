/** Jest: TypeScript through ts-jest (transpile only; `npm run typecheck` checks types), one runtime per file. */
module.exports = {
    testEnvironment: "node",
    roots: ["<rootDir>/tests"],
    testMatch: ["**/*.test.ts"],
    // The engine suite needs root and the Go-built tools: `npm run test:engine` (jest.engine.config.js).
    testPathIgnorePatterns: ["/node_modules/", "<rootDir>/tests/engine/"],
    transform: { "^.+\\.ts$": ["ts-jest", { isolatedModules: true, diagnostics: false }] },
    testTimeout: 300000,
    maxWorkers: 2,
};
