/**
 * The engine suite proves what it runs: the Go modules under engine/go/ must pin the versions the program deploys
 * (versions.ts, package.json), or differ only where the module proxy does not serve the version, said here.
 */
import * as fs from "fs";
import * as path from "path";
import { PROJECT_DIR } from "../../tools/stageFiles";
import { versions } from "../../versions";

const read = (file: string) => fs.readFileSync(path.join(PROJECT_DIR, file), "utf8");

/** The version a go.mod requires of `module`. */
function required(goMod: string, module: string): string {
    const m = new RegExp(`^\\s*(?:require\\s+)?${module.replace(/[.]/g, "\\.")} (v\\S+)`, "m").exec(goMod);
    if (!m) throw new Error(`go.mod does not require ${module}`);
    return m[1];
}

/** A `NAME=value` constant of engine/build.sh. */
function buildConstant(name: string): string {
    const m = new RegExp(`^${name}=(\\S+)$`, "m").exec(read("engine/build.sh"));
    if (!m) throw new Error(`engine/build.sh has no ${name}`);
    return m[1];
}

/** Versions the program runs that the Go module proxy does not serve, with the version the suite runs instead. */
const NOT_SERVED: Record<string, string> = {
    // k8s.io/kubernetes v1.36.4 is not served; the suite's control plane and kubelet are the previous patch release.
    [versions.kubernetes]: "v1.36.3",
};

test("the control plane and kubelet are the Kubernetes release versions.ts runs, or the nearest served patch", () => {
    const goMod = read("engine/go/kubernetes/go.mod");
    const built = required(goMod, "k8s.io/kubernetes");
    expect(built).toBe(NOT_SERVED[versions.kubernetes] ?? versions.kubernetes);
    expect(built.split(".").slice(0, 2)).toEqual(versions.kubernetes.split(".").slice(0, 2));
    expect(buildConstant("KUBERNETES_VERSION")).toBe(built);
    // Every staging module at the matching v0 release.
    const staging = [...goMod.matchAll(/^\s*(k8s\.io\/\S+) => \1 (v\S+)$/gm)];
    expect(staging.length).toBeGreaterThan(30);
    expect([...new Set(staging.map((m) => m[2]))]).toEqual([built.replace(/^v1\./, "v0.")]);
});

test("etcd is the release the controllers run", () => {
    const tag = versions.images.etcd.split(":").pop();
    expect(required(read("engine/go/etcd/go.mod"), "go.etcd.io/etcd/server/v3")).toBe(tag);
});

test("the Kubernetes provider is the release of the @pulumi/kubernetes SDK the program pins", () => {
    const pinned = JSON.parse(read("package.json")).dependencies["@pulumi/kubernetes"];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(buildConstant("PROVIDER_VERSION")).toBe(pinned);
});

test("the Pulumi CLI is at least the version the README asks users for", () => {
    const minimum = /Install the Pulumi CLI \((\d+\.\d+) or newer/.exec(read("README.md"))?.[1];
    expect(minimum).toBeDefined();
    const built = buildConstant("PULUMI_VERSION").replace(/^v/, "").split(".").map(Number);
    const [major, minor] = minimum!.split(".").map(Number);
    expect(built[0] > major || (built[0] === major && built[1] >= minor)).toBe(true);
    expect(required(read("engine/go/cli/go.mod"), "github.com/pulumi/pulumi/pkg/v3")).toBe(buildConstant("PULUMI_VERSION"));
    expect(required(read("engine/go/cli/go.mod"), "github.com/pulumi/pulumi/sdk/v3")).toBe(buildConstant("PULUMI_VERSION"));
});
