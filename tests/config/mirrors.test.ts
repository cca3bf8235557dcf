/**
 * The `mirrors` and `natBandwidthMbps` keys: every bad value is refused with the key path, the value and the rule;
 * unset means every artifact from its upstream; the committed stages (all in cn-hangzhou) set their mirrors.
 */
import { listStages, stageConfigFromFiles } from "../../tools/stageFiles";
import { stageImages, registriesInUse } from "../../config/mirrors";
import { expectProblem, key, problemsOf } from "./helpers";

/** dev's mirrors with `change` laid over them. */
function mirrors(change: Record<string, unknown>): Record<string, unknown> {
    return { [key("mirrors")]: { ...stageConfigFromFiles("dev").mirrors, create: {}, ...change } };
}

describe("mirrors: bad values", () => {
    test("a mirror that is not a URL, or not http(s)", () => {
        expectProblem(mirrors({ files: "oss://bucket/files" }), "mirrors.files", '"oss://bucket/files"', "must be an http(s) URL");
        expectProblem(mirrors({ files: "mirror.example.com/files" }), "mirrors.files", "must be an http(s) URL");
        expectProblem(mirrors({ fedora: "ftp://mirror.example.com/fedora" }), "mirrors.fedora", "must be an http(s) URL");
        expectProblem(
            mirrors({ registries: { "quay.io": "registry.example.com/quay.io" } }),
            "mirrors.registries.quay.io",
            '"registry.example.com/quay.io"',
            "must be an http(s) URL",
        );
    });

    test("a mirror URL with credentials (it would sit in every node's files), a query or a fragment", () => {
        expectProblem(mirrors({ files: "https://user:secret@mirror.example.com/files" }), "mirrors.files", "must not carry credentials");
        expectProblem(
            mirrors({ files: "https://mirror.example.com/files?token=x" }),
            "mirrors.files",
            "must not have a query or a fragment",
        );
        expectProblem(mirrors({ fedora: "https://mirror.example.com/fedora#x" }), "mirrors.fedora", "must not have a query or a fragment");
    });

    test("a registry the stage does not pull from, naming the ones it does", () => {
        const problems = problemsOf(mirrors({ registries: { "gcr.io": "https://mirror.example.com/gcr.io" } }));
        expect(problems).toEqual([
            expect.stringContaining(
                'mirrors.registries.gcr.io = "https://mirror.example.com/gcr.io": is not a registry this stage pulls from (it pulls from registry.k8s.io, quay.io, ghcr.io, registry.cn-hangzhou.aliyuncs.com, docker.io); remove it',
            ),
        ]);
    });

    test("a key that is not a registry host", () => {
        expectProblem(
            mirrors({ registries: { quay: "https://mirror.example.com/quay" } }),
            "mirrors.registries",
            '"quay"',
            "must be a registry host",
        );
    });

    test("a mirror that is the upstream itself", () => {
        expectProblem(
            mirrors({ registries: { "quay.io": "https://quay.io/coreos" } }),
            "mirrors.registries.quay.io",
            "points at the upstream registry itself",
        );
    });

    test("an Alibaba endpoint of another region (internal endpoints answer only inside their region)", () => {
        expectProblem(
            mirrors({ files: "https://coreos-platform-dev-mirror.oss-cn-shanghai-internal.aliyuncs.com" }),
            "mirrors.files",
            "is an endpoint of region cn-shanghai, but the stage is in cn-hangzhou",
        );
        expectProblem(
            mirrors({ registries: { "quay.io": "https://registry-vpc.cn-beijing.aliyuncs.com/team/quay.io" } }),
            "mirrors.registries.quay.io",
            "is an endpoint of region cn-beijing",
        );
        expectProblem(
            mirrors({ registries: { "ghcr.io": "https://acme-registry-vpc.cn-shenzhen.cr.aliyuncs.com/ns/ghcr.io" } }),
            "mirrors.registries.ghcr.io",
            "is an endpoint of region cn-shenzhen",
        );
        // Where the name tells no region (a mirror run by the team), nothing is said.
        expect(() => stageConfigFromFiles("dev", mirrors({ files: "http://10.10.0.9:8080/files" }))).not.toThrow();
    });

    test("fallbackToUpstream and create take booleans and known fields only", () => {
        expectProblem(mirrors({ fallbackToUpstream: "no" }), "mirrors.fallbackToUpstream", "must be true or false");
        expectProblem(mirrors({ create: { bucket: true } }), "mirrors.create.bucket", "is not a field of this object");
        expectProblem(
            mirrors({ create: { registryNamespace: { instanceId: "i-123" } } }),
            "mirrors.create.registryNamespace.instanceId",
            "cri-",
        );
        expectProblem(mirrors({ upstreamFallback: true }), "mirrors.upstreamFallback", "is not a field of this object");
    });

    test("create.filesBucket needs files to be that bucket's internal endpoint, and says which", () => {
        expectProblem(
            mirrors({ files: "https://elsewhere.oss-cn-hangzhou-internal.aliyuncs.com", create: { filesBucket: true } }),
            "mirrors.files",
            "must be https://coreos-platform-dev-mirror.oss-cn-hangzhou-internal.aliyuncs.com when mirrors.create.filesBucket is true",
        );
        expectProblem(mirrors({ files: "", create: { filesBucket: true } }), "mirrors.files", "when mirrors.create.filesBucket is true");
    });

    test("create.registryNamespace needs every registry mirror inside the stage's namespace", () => {
        expectProblem(
            mirrors({
                registries: { "quay.io": "https://acme-registry-vpc.cn-hangzhou.cr.aliyuncs.com/other/quay.io" },
                create: { registryNamespace: { instanceId: "cri-abc123" } },
            }),
            "mirrors.registries.quay.io",
            "must lie in the namespace coreos-platform-dev",
        );
        expectProblem(
            mirrors({ registries: {}, create: { registryNamespace: { instanceId: "cri-abc123" } } }),
            "mirrors.registries",
            "must name at least one mirror",
        );
    });

    test("every problem of the key at once (its rules across keys run once it parses)", () => {
        const problems = problemsOf(
            mirrors({ files: "nope", fedora: "nope", registries: { "docker.io": "https://m.example.com/d", "quay.io": "x" } }),
        );
        expect(problems.map((p) => p.split(" = ")[0].trim()).sort()).toEqual([
            "- mirrors.fedora",
            "- mirrors.files",
            "- mirrors.registries.quay.io",
        ]);
    });
});

describe("natBandwidthMbps", () => {
    test("takes 1 to 200 Mbit/s (pay-by-traffic EIPs), named with its value", () => {
        expectProblem({ [key("natBandwidthMbps")]: 0 }, "natBandwidthMbps = 0", "must be between 1 and 200 Mbit/s");
        expectProblem({ [key("natBandwidthMbps")]: 500 }, "natBandwidthMbps = 500", "must be between 1 and 200 Mbit/s");
    });

    test("defaults to 100, apart from the per-EIP bandwidth", () => {
        const dev = stageConfigFromFiles("dev");
        expect(dev.eip.natBandwidthMbps).toBe(100);
        expect(dev.eip.bandwidthMbps).toBe(5);
    });
});

describe("mirrors: what a stage means by them", () => {
    test("unset means every artifact from its upstream", () => {
        const cfg = stageConfigFromFiles("dev", { [key("mirrors")]: {} });
        expect(cfg.mirrors).toEqual({ registries: {}, fallbackToUpstream: true, create: { filesBucket: false } });
        expect(stageConfigFromFiles("dev", { [key("mirrors")]: { files: "" } }).mirrors.files).toBeUndefined();
    });

    test.each(listStages())("%s, in cn-hangzhou, mirrors every upstream registry the platform pulls from, and its files", (stage) => {
        const cfg = stageConfigFromFiles(stage);
        expect(cfg.region).toBe("cn-hangzhou");
        const platformRegistries = registriesInUse(stageImages([]));
        expect(Object.keys(cfg.mirrors.registries).sort()).toEqual([...platformRegistries].sort());
        // Stage-scoped names: the namespace and the bucket carry the stage.
        for (const url of Object.values(cfg.mirrors.registries)) expect(url).toContain(`/coreos-platform-${stage}/`);
        expect(cfg.mirrors.files).toBe(`https://coreos-platform-${stage}-mirror.oss-cn-hangzhou-internal.aliyuncs.com`);
    });
});
