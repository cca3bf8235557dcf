// The TypeScript lint of `npm test` (tools/test.sh): typescript-eslint's recommended rules plus the project's own.
import js from "@eslint/js";
import comments from "@eslint-community/eslint-plugin-eslint-comments/configs";
import tseslint from "typescript-eslint";

export default tseslint.config(
    {
        ignores: ["node_modules/", "out/", "coverage/", "engine/"],
    },
    {
        linterOptions: { reportUnusedDisableDirectives: "error" },
    },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    comments.recommended,
    {
        files: ["**/*.ts"],
        // Type-aware: the rules below need the types (tsconfig.json).
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        rules: {
            // A promise nobody awaits loses its error: in a Pulumi program that is a resource that silently fails.
            "@typescript-eslint/no-floating-promises": "error",
            "@typescript-eslint/no-misused-promises": "error",
            "@typescript-eslint/await-thenable": "error",
            // A disable comment says why, on its own line: `// eslint-disable-next-line rule -- reason`.
            "@eslint-community/eslint-comments/require-description": ["error", { ignore: [] }],
            "@eslint-community/eslint-comments/disable-enable-pair": ["error", { allowWholeFile: false }],
            // Planned data is typed so that nothing is ever `undefined` by surprise: no `!` to tell the compiler otherwise.
            "@typescript-eslint/no-non-null-assertion": "error",
            "@typescript-eslint/no-unused-vars": [
                "error",
                { varsIgnorePattern: "^_", argsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
            ],
            eqeqeq: ["error", "always"],
            "prefer-const": "error",
            "no-var": "error",
            // The program and its renderers report through errors and outputs; only the CLIs in tools/ print.
            "no-console": "error",
        },
    },
    {
        // Command-line tools print, as they should.
        files: ["tools/**/*.ts"],
        rules: { "no-console": "off" },
    },
    {
        // Tests look inside rendered data (`as any`) and name what they found (`!` after a lookup they assert on).
        files: ["tests/**/*.ts"],
        rules: {
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-non-null-assertion": "off",
        },
    },
    {
        files: ["**/*.js", "**/*.mjs"],
        languageOptions: { globals: { module: "readonly", require: "readonly", __dirname: "readonly", process: "readonly" } },
    },
);
