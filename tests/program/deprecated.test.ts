/**
 * No deprecated provider argument: every input the program gives any resource (nested objects and array elements
 * included) is looked up in the provider SDK's own declarations (`<Class>Args` of the .d.ts the type token is
 * declared in), and one marked `@deprecated` (or, in the Kubernetes SDK, which has no such tags, documented with the
 * API's "Deprecated: ..." convention) fails the test with the SDK's reason. The SDKs say what replaces each (e.g. `enableAutoSnapshot` of ecs.EcsDisk: apply an
 * automatic snapshot policy to the disk).
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { RecordedResource, revealSecrets } from "../../tools/mockRuntime";
import { PROJECT_DIR, listStages } from "../../tools/stageFiles";
import { runStage } from "./helpers";

const PACKAGES = ["alicloud", "command", "kubernetes", "random", "tls"];

/** Type token -> the .d.ts declaring its class, and the class name; from the SDKs' `__pulumiType` lines. */
function tokenIndex(): Map<string, { file: string; className: string }> {
    const index = new Map<string, { file: string; className: string }>();
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory() && entry.name !== "node_modules") walk(full);
            else if (entry.name.endsWith(".js")) {
                const text = fs.readFileSync(full, "utf8");
                const file = full.replace(/\.js$/, ".d.ts");
                // `X.__pulumiType = '...'` after the class (kubernetes, command), or a static field inside it (alicloud, tls).
                for (const m of text.matchAll(/^(\w+)\.__pulumiType = ['"]([^'"]+)['"];$/gm)) index.set(m[2], { file, className: m[1] });
                for (const m of text.matchAll(/^class (\w+) extends [\s\S]*?^\s+static __pulumiType = ['"]([^'"]+)['"];$/gm)) {
                    index.set(m[2], { file, className: m[1] });
                }
            }
        }
    };
    for (const pkg of PACKAGES) walk(path.join(PROJECT_DIR, "node_modules/@pulumi", pkg));
    for (const pkg of PACKAGES) {
        index.set(`pulumi:providers:${pkg}`, {
            file: path.join(PROJECT_DIR, "node_modules/@pulumi", pkg, "provider.d.ts"),
            className: "Provider",
        });
    }
    return index;
}

/** The object types a declared input can be, once `pulumi.Input`'s promise and output forms are set aside. */
function valueTypes(checker: ts.TypeChecker, type: ts.Type): ts.Type[] {
    if (type.isUnion()) return type.types.flatMap((t) => valueTypes(checker, t));
    const name = type.getSymbol()?.getName() ?? type.aliasSymbol?.getName();
    if (name === "Promise" || name === "OutputInstance") return [];
    if (type.isIntersection() && type.types.some((t) => t.getSymbol()?.getName() === "OutputInstance")) return [];
    if (
        type.flags &
        (ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike | ts.TypeFlags.BooleanLike | ts.TypeFlags.Undefined | ts.TypeFlags.Null)
    )
        return [];
    return [type];
}

/** `@deprecated` inputs in `value`, checked against `type`, as "path: reason". */
function deprecatedIn(checker: ts.TypeChecker, value: unknown, type: ts.Type, at: string): string[] {
    if (value === null || typeof value !== "object") return [];
    const candidates = valueTypes(checker, type);
    if (Array.isArray(value)) {
        const elements = candidates.filter((t) => checker.isArrayType(t)).map((t) => checker.getTypeArguments(t as ts.TypeReference)[0]);
        return value.flatMap((v, i) => elements.flatMap((e) => deprecatedIn(checker, v, e, `${at}[${i}]`)));
    }
    const found: string[] = [];
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
        for (const t of candidates) {
            const prop = t.getProperty(key);
            if (!prop) {
                const indexed = t.getStringIndexType();
                if (indexed) found.push(...deprecatedIn(checker, v, indexed, `${at}.${key}`));
                continue;
            }
            const tag = prop.getJsDocTags(checker).find((tg) => tg.name === "deprecated");
            // The Kubernetes SDK carries the API's own convention instead of the tag: "... Deprecated: use X instead."
            const prose = /\bDeprecated: .*$/m.exec(ts.displayPartsToString(prop.getDocumentationComment(checker)));
            if (tag) found.push(`${at}.${key}: ${ts.displayPartsToString(tag.text) || "deprecated"}`);
            else if (prose) found.push(`${at}.${key}: ${prose[0]}`);
            const declaration = prop.valueDeclaration ?? prop.declarations?.[0];
            if (declaration) found.push(...deprecatedIn(checker, v, checker.getTypeOfSymbolAtLocation(prop, declaration), `${at}.${key}`));
        }
    }
    return [...new Set(found)];
}

const STAGES = listStages();
const runs = new Map<string, RecordedResource[]>();
let index: Map<string, { file: string; className: string }>;
let program: ts.Program;

beforeAll(async () => {
    for (const stage of STAGES) runs.set(stage, (await runStage(stage)).resources);
    index = tokenIndex();
    const files = new Set<string>();
    for (const resources of runs.values()) for (const r of resources.filter((x) => x.custom)) files.add(index.get(r.type)?.file ?? "");
    files.delete("");
    program = ts.createProgram([...files], { noEmit: true, skipLibCheck: true, types: [] });
}, 600000);

test("every resource type the program creates is declared by a provider SDK (so its arguments can be checked)", () => {
    const types = new Set(
        [...runs.values()]
            .flat()
            .filter((r) => r.custom)
            .map((r) => r.type),
    );
    expect([...types].filter((t) => !index.has(t))).toEqual([]);
    expect(types.size).toBeGreaterThan(40);
});

test.each(STAGES)("%s: no argument the program sets is @deprecated in its provider SDK", (stage) => {
    const checker = program.getTypeChecker();
    const problems: string[] = [];
    let checked = 0;
    for (const r of runs.get(stage)!.filter((x) => x.custom)) {
        const { file, className } = index.get(r.type)!;
        const source = program.getSourceFile(file)!;
        const args = source.statements.find(
            (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === `${className}Args`,
        );
        if (!args) {
            problems.push(`${r.type}: no ${className}Args in ${path.relative(PROJECT_DIR, file)}`);
            continue;
        }
        checked += 1;
        const type = checker.getTypeAtLocation(args.name);
        problems.push(...deprecatedIn(checker, revealSecrets(r.inputs), type, `${r.type} ${r.name}`));
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(100);
});

test("the check finds a deprecated argument, top-level and nested (it would have caught ecs.EcsDisk's enableAutoSnapshot)", () => {
    const checker = program.getTypeChecker();
    const disk = runs.get("dev")!.find((r) => r.type === "alicloud:ecs/ecsDisk:EcsDisk")!;
    const { file, className } = index.get(disk.type)!;
    const args = program
        .getSourceFile(file)!
        .statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === `${className}Args`)!;
    const found = deprecatedIn(checker, { ...disk.inputs, enableAutoSnapshot: true }, checker.getTypeAtLocation(args.name), "disk");
    expect(found).toEqual([expect.stringMatching(/^disk\.enableAutoSnapshot: This field is deprecated\./)]);

    const deployment = runs.get("dev")!.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
    const dep = index.get(deployment.type)!;
    const depArgs = program
        .getSourceFile(dep.file)!
        .statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === `${dep.className}Args`)!;
    const inputs = revealSecrets(deployment.inputs) as { spec: { template: { spec: Record<string, unknown> } } };
    inputs.spec.template.spec.serviceAccount = "default";
    expect(deprecatedIn(checker, inputs, checker.getTypeAtLocation(depArgs.name), "deployment")).toEqual([
        expect.stringMatching(/^deployment\.spec\.template\.spec\.serviceAccount: /),
    ]);
});
