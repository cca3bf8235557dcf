/**
 * The policy pack's entry as the Pulumi CLI runs it: policy/ type-checks on its own tsconfig, Pulumi's own
 * policy-pack runner (`@pulumi/pulumi/cmd/run-policy-pack`, found from policy/ as the CLI's analyzer script
 * finds it) loads and serves it, and the served analyzer answers over gRPC like it will to `pulumi preview
 * --policy-pack policy`: its policies, their config schema, a violation and the `eip-quota` config.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { POLICY_PACK_NAME, policies } from "../../policy/policies";

const ROOT = path.resolve(__dirname, "../..");
const POLICY_DIR = path.join(ROOT, "policy");

/** Modules resolved the way the pack resolves them (from policy/ upwards), so gRPC classes match the server's. */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the module is found from policy/, as the pack finds it
const fromPack = (id: string, base = POLICY_DIR) => require(require.resolve(id, { paths: [base] }));
const policySdkDir = path.dirname(require.resolve("@pulumi/policy", { paths: [POLICY_DIR] }));
const pulumiSdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [POLICY_DIR] }));
const grpc = fromPack("@grpc/grpc-js", policySdkDir);
const analyzerProto = fromPack("@pulumi/pulumi/proto/analyzer_pb");
const analyzerRpc = fromPack("@pulumi/pulumi/proto/analyzer_grpc_pb");
const { Struct } = fromPack("google-protobuf/google/protobuf/struct_pb", path.join(pulumiSdkDir, "proto"));
const { Empty } = fromPack("google-protobuf/google/protobuf/empty_pb", path.join(pulumiSdkDir, "proto"));

test("policy/ has what the CLI needs: PulumiPolicy.yaml (nodejs), a package.json with a version, its entry file", () => {
    const manifest = YAML.parse(fs.readFileSync(path.join(POLICY_DIR, "PulumiPolicy.yaml"), "utf8"));
    expect(manifest.runtime).toBe("nodejs");
    const pkg = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "package.json"), "utf8"));
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(fs.existsSync(path.join(POLICY_DIR, pkg.main))).toBe(true);
    // Dependencies come from the root's node_modules; a pack-local install would float @pulumi/pulumi.
    expect(pkg.dependencies).toBeUndefined();
    const root = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect({ ...root.dependencies, ...root.devDependencies }).toHaveProperty("@pulumi/policy");
});

test("policy/ type-checks with its own tsconfig (the CLI compiles it with ts-node, type checking on)", () => {
    const tsc = require.resolve("typescript/bin/tsc");
    expect(() =>
        execFileSync(process.execPath, [tsc, "--noEmit", "-p", path.join(POLICY_DIR, "tsconfig.json")], { stdio: "pipe" }),
    ).not.toThrow();
});

describe("the pack served by Pulumi's policy-pack runner", () => {
    let child: ChildProcess;
    let client: any;
    let stderr = "";

    beforeAll(async () => {
        const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [POLICY_DIR] });
        // The engine address is only used for logging; nothing listens there.
        child = spawn(process.execPath, [runner, "127.0.0.1:1", POLICY_DIR], { cwd: POLICY_DIR, stdio: ["ignore", "pipe", "pipe"] });
        child.stderr!.on("data", (d) => (stderr += d));
        const port = await new Promise<number>((resolve, reject) => {
            let out = "";
            child.stdout!.on("data", (d) => {
                out += d;
                const m = /^(\d+)\s*$/m.exec(out);
                if (m) {
                    resolve(Number(m[1]));
                }
            });
            child.on("exit", (code) => reject(new Error(`the policy pack exited with ${code} before serving:\n${stderr}`)));
        });
        client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    }, 120000);

    afterAll(() => {
        client?.close();
        if (child && child.exitCode === null) {
            child.kill();
        }
    });

    const call = <T>(method: string, request: unknown): Promise<T> =>
        new Promise((resolve, reject) => client[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));

    test("it reports its name and every policy of policies.ts, mandatory, with the eip-quota schema", async () => {
        const info: any = await call("getAnalyzerInfo", new Empty());
        expect(info.getName()).toBe(POLICY_PACK_NAME);
        const served = info.getPoliciesList().map((p: any) => p.getName());
        expect(served).toEqual(policies.map((p) => p.name));
        const mandatory = analyzerProto.EnforcementLevel.MANDATORY;
        for (const p of info.getPoliciesList()) {
            expect([p.getName(), p.getEnforcementlevel()]).toEqual([p.getName(), mandatory]);
        }
        const quota = info.getPoliciesList().find((p: any) => p.getName() === "eip-quota");
        const schema = quota.getConfigschema().getProperties().toJavaScript();
        expect(schema.quota).toMatchObject({ type: "integer", default: 20 });
    });

    function analyzeRequest(type: string, name: string, props: Record<string, unknown>) {
        const options = new analyzerProto.AnalyzerResourceOptions();
        options.setProtect(false);
        return new analyzerProto.AnalyzeRequest()
            .setType(type)
            .setName(name)
            .setUrn(`urn:pulumi:dev::coreos-platform::${type}::${name}`)
            .setProperties(Struct.fromJavaScript(props))
            .setOptions(options);
    }

    test("SSH from 0.0.0.0/0 is a mandatory violation; SSH from a team network is not", async () => {
        const rule = { type: "ingress", ipProtocol: "tcp", portRange: "22/22", policy: "accept", securityGroupId: "sg-1" };
        const open: any = await call(
            "analyze",
            analyzeRequest("alicloud:ecs/securityGroupRule:SecurityGroupRule", "ssh", { ...rule, cidrIp: "0.0.0.0/0" }),
        );
        const diagnostics = open.getDiagnosticsList().map((d: any) => [d.getPolicyname(), d.getEnforcementlevel()]);
        expect(diagnostics).toEqual([["no-admin-ports-from-internet", analyzerProto.EnforcementLevel.MANDATORY]]);
        const closed: any = await call(
            "analyze",
            analyzeRequest("alicloud:ecs/securityGroupRule:SecurityGroupRule", "ssh", { ...rule, cidrIp: "203.0.113.0/24" }),
        );
        expect(closed.getDiagnosticsList()).toEqual([]);
    });

    test("the eip-quota policy takes its quota from the pack config (--policy-pack-config)", async () => {
        const eips = ["a", "b", "c"].map((n) => {
            const options = new analyzerProto.AnalyzerResourceOptions();
            return new analyzerProto.AnalyzerResource()
                .setType("alicloud:ecs/eipAddress:EipAddress")
                .setName(n)
                .setUrn(`urn:pulumi:dev::coreos-platform::alicloud:ecs/eipAddress:EipAddress::${n}`)
                .setProperties(Struct.fromJavaScript({ bandwidth: "5" }))
                .setOptions(options);
        });
        const stack = new analyzerProto.AnalyzeStackRequest().setResourcesList(eips);
        const configure = (quota: number) => {
            const request = new analyzerProto.ConfigureAnalyzerRequest();
            request
                .getPolicyconfigMap()
                .set(
                    "eip-quota",
                    new analyzerProto.PolicyConfig()
                        .setEnforcementlevel(analyzerProto.EnforcementLevel.MANDATORY)
                        .setProperties(Struct.fromJavaScript({ quota })),
                );
            return call("configure", request);
        };
        const quotaViolations = async () =>
            ((await call<any>("analyzeStack", stack)).getDiagnosticsList() as any[])
                .filter((d) => d.getPolicyname() === "eip-quota")
                .map((d) => d.getMessage());

        await configure(2);
        expect(await quotaViolations()).toEqual([expect.stringContaining("quota is 2")]);
        await configure(3);
        expect(await quotaViolations()).toEqual([]);
    });
});
