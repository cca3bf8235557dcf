/**
 * `npm run mirror`'s plan for the committed stages (its copies are shown with real tools in tests/mirrors/): every
 * platform image of a mirrored registry and every download, pushed to the registry's public endpoint (nodes read
 * its VPC endpoint), uploaded through OSS's S3 endpoint; usage and refusals on the command line.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { NODE_DOWNLOADS, platformImages, stageImages } from "../../config/mirrors";
import { imageCopies, pushHost, s3Target } from "../../tools/mirror";
import { stageConfigFromFiles } from "../../tools/stageFiles";

const cli = (...args: string[]) =>
    spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "../../tools/mirror.ts"), ...args], {
        encoding: "utf8",
        env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        timeout: 60000,
    });

test("--dry-run lists every platform image and every download of dev, with where each goes", () => {
    const r = cli("--stack", "dev", "--dry-run");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const cfg = stageConfigFromFiles("dev");
    expect(r.stdout).toContain(`Mirrors of stage dev: ${stageImages(cfg.apps).length} images, ${Object.keys(NODE_DOWNLOADS).length} files`);
    // dev mirrors every registry it pulls from (the apps' too), so no node pulls from outside the region.
    expect(r.stdout).not.toContain("registries without a mirror");
    // Every image the platform runs, those of an add-on the stage turns off included (dev's observability), and
    // every app image: a stage that turns an add-on on later finds its images in the mirror already.
    for (const image of stageImages(cfg.apps)) expect(r.stdout).toContain(`  image ${image} -> `);
    expect(r.stdout).toContain(
        "image quay.io/coreos/etcd:v3.6.14 -> coreos-platform-registry.cn-hangzhou.cr.aliyuncs.com/coreos-platform-dev/quay.io/coreos/etcd:v3.6.14",
    );
    expect(r.stdout).toContain(
        "file kubelet https://dl.k8s.io/release/v1.36.4/bin/linux/amd64/kubelet -> https://coreos-platform-dev-mirror.oss-cn-hangzhou-internal.aliyuncs.com/dl.k8s.io/release/v1.36.4/bin/linux/amd64/kubelet",
    );
    expect(r.stdout).toContain("ALICLOUD_ACCESS_KEY / ALICLOUD_SECRET_KEY");
});

test("a digest-pinned image is fetched by its digest and pushed under its tag", () => {
    const cfg = stageConfigFromFiles("dev");
    const ingress = imageCopies(platformImages(), cfg.mirrors.registries).find((c) => c.image.includes("ingress-nginx"))!;
    expect(ingress.source).toMatch(/^docker:\/\/registry\.k8s\.io\/ingress-nginx\/controller@sha256:[0-9a-f]{64}$/);
    expect(ingress.destination).toMatch(/\/registry\.k8s\.io\/ingress-nginx\/controller:v1\.15\.1$/);
    expect(ingress.pinnedDigest).toMatch(/^sha256:/);
});

test("pushes to an Alibaba registry's public endpoint and uploads through OSS's S3 endpoint of the region", () => {
    expect(pushHost("registry-vpc.cn-hangzhou.aliyuncs.com")).toBe("registry.cn-hangzhou.aliyuncs.com");
    expect(pushHost("acme-registry-vpc.cn-shanghai.cr.aliyuncs.com")).toBe("acme-registry.cn-shanghai.cr.aliyuncs.com");
    expect(pushHost("harbor.example.com")).toBe("harbor.example.com");
    expect(s3Target("https://coreos-platform-dev-mirror.oss-cn-hangzhou-internal.aliyuncs.com/k8s")).toEqual({
        endpoint: "https://s3.oss-cn-hangzhou.aliyuncs.com",
        region: "cn-hangzhou",
        bucket: "coreos-platform-dev-mirror",
        prefix: "k8s",
        forcePathStyle: false,
    });
    expect(s3Target("http://10.0.0.9:9000/mirror/files")).toMatchObject({
        endpoint: "http://10.0.0.9:9000",
        bucket: "mirror",
        prefix: "files",
        forcePathStyle: true,
    });
});

test("usage without a stage, and the loader's message for a stage that does not load", () => {
    const usage = cli();
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("usage: npm run mirror -- --stack <stage> [--dry-run]");
    const missing = cli("--stack", "nope", "--dry-run");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("There is no Pulumi.nope.yaml");
});
