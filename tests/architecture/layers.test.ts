/**
 * The layer order of docs/design.md ("Layers"), checked on the source: every import points down, the renderers
 * (ignition/, controlplane/, k8s/) do not import each other, no folder takes part in an import cycle, and the pure
 * folders create no cloud resources. A new top-level folder must be placed in the order before it can be used.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "../..");

/**
 * Each top-level unit (a folder, or a file at the root) and its rank: a unit may import only units of a lower
 * rank (and itself). Units of one rank are siblings and must not import each other.
 */
const RANKS: Readonly<Record<string, number>> = {
    layout: 0,
    "versions.ts": 0,
    // Imports nothing; index.ts and the tools call it before they register resources.
    "stackCapture.ts": 0,
    config: 1,
    pki: 2,
    ignition: 3,
    controlplane: 3,
    k8s: 3,
    policy: 4,
    components: 5,
    "index.ts": 6,
    tools: 7,
    engine: 7,
};

/** The folders that only compute (no Pulumi resources): they may use a provider SDK's types, never its classes. */
const PURE = ["layout", "versions.ts", "stackCapture.ts", "config", "pki", "ignition", "controlplane", "k8s"];
const PROVIDER_SDKS = /^@pulumi\/(alicloud|command|tls|random|kubernetes)(\/|$)/;

/** What the tests may do (import anything) and what is not source. */
const NOT_LAYERED = new Set(["tests", "node_modules", "out", "coverage", ".git", "jest.config.js"]);

/** One import: from which file, of what, and whether only types are imported. */
interface ImportEdge {
    readonly from: string;
    readonly specifier: string;
    /** The imported file, relative to the root, when the specifier is relative. */
    readonly target?: string;
    readonly typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) {
            return NOT_LAYERED.has(path.relative(ROOT, full)) || e.name === "node_modules" ? [] : sourceFiles(full);
        }
        return /\.ts$/.test(e.name) && !/\.d\.ts$/.test(e.name) && !NOT_LAYERED.has(path.relative(ROOT, full)) ? [full] : [];
    });
}

function resolveRelative(fromFile: string, specifier: string): string {
    const base = path.resolve(path.dirname(fromFile), specifier);
    const candidates = [`${base}.ts`, path.join(base, "index.ts"), base];
    const found = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
    if (!found) {
        throw new Error(`${path.relative(ROOT, fromFile)} imports ${specifier}, which does not resolve to a file`);
    }
    return path.relative(ROOT, found);
}

/** Every import, export-from, require() and import() of a file. */
function importsOf(file: string): ImportEdge[] {
    const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
    const edges: ImportEdge[] = [];
    const add = (specifier: string, typeOnly: boolean) =>
        edges.push({
            from: path.relative(ROOT, file),
            specifier,
            typeOnly,
            ...(specifier.startsWith(".") ? { target: resolveRelative(file, specifier) } : {}),
        });
    const visit = (node: ts.Node) => {
        if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
            add(node.moduleSpecifier.text, node.importClause?.isTypeOnly ?? false);
        } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
            add(node.moduleSpecifier.text, node.isTypeOnly);
        } else if (ts.isCallExpression(node) && node.arguments.length > 0 && ts.isStringLiteral(node.arguments[0])) {
            const callee = node.expression;
            if ((ts.isIdentifier(callee) && callee.text === "require") || callee.kind === ts.SyntaxKind.ImportKeyword) {
                add(node.arguments[0].text, false);
            }
        }
        ts.forEachChild(node, visit);
    };
    visit(source);
    return edges;
}

/** The unit a file belongs to: its top-level folder, or the file itself at the root. */
function unitOf(file: string): string {
    return file.split(/[\\/]/)[0];
}

/** Imports that break the order, one message each, naming the file, the import and the rule. */
function layerViolations(edges: readonly ImportEdge[], ranks: Readonly<Record<string, number>> = RANKS): string[] {
    const problems: string[] = [];
    for (const e of edges) {
        const from = unitOf(e.from);
        if (!(from in ranks)) {
            problems.push(
                `${e.from}: ${from} is not in the layer order (tests/architecture/layers.test.ts RANKS, docs/design.md "Layers"); place it there`,
            );
            continue;
        }
        if (PURE.includes(from) && PROVIDER_SDKS.test(e.specifier) && !e.typeOnly) {
            problems.push(
                `${e.from} imports ${e.specifier}: ${from}/ is pure (plain data in, plain data out) and creates no resources; that belongs in components/`,
            );
        }
        if (e.target === undefined) {
            continue;
        }
        const to = unitOf(e.target);
        if (to === from) {
            continue;
        }
        if (!(to in ranks)) {
            problems.push(`${e.from} imports ${e.specifier}: ${to} is not in the layer order; place it there`);
        } else if (ranks[to] > ranks[from]) {
            problems.push(
                `${e.from} imports ${e.specifier}: ${from} (layer ${ranks[from]}) may not import ${to} (layer ${ranks[to]}), which is above it; move what both need down`,
            );
        } else if (ranks[to] === ranks[from]) {
            problems.push(
                `${e.from} imports ${e.specifier}: ${from} and ${to} are siblings (layer ${ranks[from]}) and must not import each other; move what both need down`,
            );
        }
    }
    return problems;
}

/** The import cycles between units, each as "a -> b -> a" (empty when the unit graph is acyclic). */
function unitCycles(edges: readonly ImportEdge[]): string[] {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) {
        if (e.target !== undefined && unitOf(e.target) !== unitOf(e.from)) {
            graph.set(unitOf(e.from), (graph.get(unitOf(e.from)) ?? new Set()).add(unitOf(e.target)));
        }
    }
    const cycles = new Set<string>();
    const walk = (unit: string, trail: string[]) => {
        const at = trail.indexOf(unit);
        if (at >= 0) {
            // Written from its alphabetically first unit, so one cycle is reported once.
            const loop = trail.slice(at);
            const start = loop.indexOf([...loop].sort()[0]);
            const rotated = [...loop.slice(start), ...loop.slice(0, start)];
            cycles.add([...rotated, rotated[0]].join(" -> "));
            return;
        }
        for (const next of [...(graph.get(unit) ?? [])].sort()) {
            walk(next, [...trail, unit]);
        }
    };
    for (const unit of [...graph.keys()].sort()) {
        walk(unit, []);
    }
    return [...cycles].sort();
}

const edges = sourceFiles(ROOT).flatMap(importsOf);

test("every import of the program's source points down the layer order", () => {
    expect(edges.length).toBeGreaterThan(200);
    expect(layerViolations(edges)).toEqual([]);
});

test("no folder takes part in an import cycle", () => {
    expect(unitCycles(edges)).toEqual([]);
});

test("every layer of the order has source, so the order describes the tree", () => {
    const units = new Set(sourceFiles(ROOT).map((f) => unitOf(path.relative(ROOT, f))));
    expect(Object.keys(RANKS).filter((u) => u !== "engine" && !units.has(u))).toEqual([]);
});

describe("the checks catch what they are for", () => {
    const edge = (from: string, target: string, typeOnly = false): ImportEdge => ({ from, specifier: `../${target}`, target, typeOnly });

    test("a renderer importing a component, the program or a tool", () => {
        expect(layerViolations([edge("k8s/nodeNetwork.ts", "components/network.ts")])).toEqual([
            "k8s/nodeNetwork.ts imports ../components/network.ts: k8s (layer 3) may not import components (layer 5), which is above it; move what both need down",
        ]);
        expect(layerViolations([edge("config/plan.ts", "index.ts"), edge("layout/node.ts", "tools/render.ts")])).toHaveLength(2);
    });

    test("siblings importing each other, and the cycle that makes", () => {
        const pair = [
            edge("pki/etcd.ts", "ignition/paths.ts"),
            edge("ignition/pieces/etcdMember.ts", "pki/etcd.ts"),
            edge("ignition/roles/controller.ts", "k8s/scheduling.ts"),
            edge("k8s/cluster.ts", "ignition/paths.ts"),
        ];
        expect(layerViolations(pair)).toEqual([
            "pki/etcd.ts imports ../ignition/paths.ts: pki (layer 2) may not import ignition (layer 3), which is above it; move what both need down",
            "ignition/roles/controller.ts imports ../k8s/scheduling.ts: ignition and k8s are siblings (layer 3) and must not import each other; move what both need down",
            "k8s/cluster.ts imports ../ignition/paths.ts: k8s and ignition are siblings (layer 3) and must not import each other; move what both need down",
        ]);
        expect(unitCycles(pair)).toEqual(["ignition -> k8s -> ignition", "ignition -> pki -> ignition"]);
    });

    test("a folder outside the order, and a pure folder creating resources", () => {
        expect(layerViolations([edge("helpers/x.ts", "layout/node.ts")])[0]).toMatch(/^helpers\/x\.ts: helpers is not in the layer order/);
        const sdk = (typeOnly: boolean): ImportEdge => ({ from: "k8s/objects.ts", specifier: "@pulumi/kubernetes", typeOnly });
        expect(layerViolations([sdk(false)])).toEqual([
            "k8s/objects.ts imports @pulumi/kubernetes: k8s/ is pure (plain data in, plain data out) and creates no resources; that belongs in components/",
        ]);
        expect(layerViolations([sdk(true)])).toEqual([]);
    });

    test("imports are read from import, export-from, require() and import()", () => {
        const kinds = new Set(edges.filter((e) => e.from === "tools/mockRuntime.ts").map((e) => e.specifier));
        expect([...kinds]).toEqual(expect.arrayContaining(["@pulumi/pulumi", "@pulumi/pulumi/runtime/mocks", "../index"]));
    });
});
