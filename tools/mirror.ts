/**
 * `npm run mirror -- --stack <stage> [--dry-run]`: copies every image and every download the stage's nodes fetch into
 * the stage's mirrors (config key `mirrors`), skipping what is already there with the same digest or sha256, and
 * prints what it did. Run it from a machine that reaches the upstreams (a CI runner, a laptop), before the first
 * `pulumi up` and after every version change (docs/mirrors.md).
 *
 * Images: skopeo (Debian's), `copy --all --preserve-digests`: the whole index (every platform) under the same tag, so
 * the digest nodes resolve, and every pin in versions.ts, is the upstream's. (Copying only linux/amd64 out of an index
 * makes a new index with a new digest, and a registry refuses an index whose platforms it does not hold.)
 * Files: fetched from the upstream, checked against versions.ts's sha256, uploaded with the S3 API (OSS speaks it),
 * the sha256 kept as the object's metadata so the next run can tell it is there.
 *
 * Credentials: the mirror registries' from `skopeo login <host>` (the containers auth file, or $REGISTRY_AUTH_FILE);
 * OSS's from ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY (and ALICLOUD_SECURITY_TOKEN for an STS token), the
 * variables the Pulumi provider reads too.
 */
import { HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { execFile } from "child_process";
import * as crypto from "crypto";
import { promisify } from "util";
import {
    MirrorsConfig,
    NODE_DOWNLOADS,
    fileMirrorUrl,
    imageParts,
    isLoopbackRegistry,
    registryMirror,
    stageImages,
} from "../config/mirrors";
import { StageConfigError } from "../config/problems";
import type { VerifiedDownload } from "../versions";
import { stageConfigFromFiles } from "./stageFiles";

const run = promisify(execFile);

/** One image to copy: where from, where to, and the digest it must have if the reference pins one. */
export interface ImageCopy {
    readonly image: string;
    readonly source: string;
    readonly destination: string;
    readonly pinnedDigest?: string;
    /** Plain-HTTP registries (a loopback registry, an http:// mirror): skopeo must not insist on TLS. */
    readonly sourceInsecure: boolean;
    readonly destinationInsecure: boolean;
}

/** One file to upload. */
export interface FileCopy {
    readonly name: string;
    readonly download: VerifiedDownload;
    /** Where nodes will fetch it (`fileMirrorUrl`). */
    readonly mirrorUrl: string;
}

/**
 * The host this command pushes to: nodes read an Alibaba registry through its VPC endpoint, which answers only inside
 * the VPC, while this command runs outside it; the same registry's public endpoint takes the push.
 */
export function pushHost(host: string): string {
    return host
        .replace(/^registry(-intl)?-vpc\./, "registry$1.")
        .replace(/-registry-vpc\.([a-z0-9-]+)\.cr\.aliyuncs\.com$/, "-registry.$1.cr.aliyuncs.com");
}

/** The images of a stage that have a mirror, each with the reference it is pushed to (same path, same tag). */
export function imageCopies(images: readonly string[], mirrors: MirrorsConfig["registries"]): ImageCopy[] {
    return images.flatMap((image): ImageCopy[] => {
        const parts = imageParts(image);
        const url = mirrors[parts.registry];
        if (!url) return [];
        const mirror = registryMirror(url);
        // A reference pinned by digest alone still needs a tag to be pushed under; nodes resolve it by digest.
        const tag = parts.tag ?? `${parts.digest}`.replace(":", "-");
        const host = pushHost(mirror.host);
        const prefix = mirror.path ? `${host}/${mirror.path}` : host;
        return [
            {
                image,
                // skopeo takes a tag or a digest, not both: a pinned image is fetched by its digest.
                source: `docker://${parts.digest ? `${parts.registry}/${parts.repository}@${parts.digest}` : image}`,
                destination: `docker://${prefix}/${parts.repository}:${tag}`,
                ...(parts.digest ? { pinnedDigest: parts.digest } : {}),
                sourceInsecure: isLoopbackRegistry(parts.registry),
                destinationInsecure: !mirror.secure || isLoopbackRegistry(mirror.host),
            },
        ];
    });
}

/** The downloads of a stage, each with its place in the file mirror. */
export function fileCopies(filesBase: string, downloads: Readonly<Record<string, VerifiedDownload>>): FileCopy[] {
    return Object.entries(downloads).map(([name, download]) => ({ name, download, mirrorUrl: fileMirrorUrl(filesBase, download.url) }));
}

/** The digest of a manifest as a registry names it, or undefined when the reference is not there. */
async function manifestDigest(reference: string, insecure: boolean): Promise<string | undefined> {
    try {
        const { stdout } = await run("skopeo", ["inspect", "--raw", "--retry-times", "2", `--tls-verify=${!insecure}`, reference], {
            encoding: "buffer",
            maxBuffer: 1 << 24,
        });
        return `sha256:${crypto.createHash("sha256").update(stdout).digest("hex")}`;
    } catch (err) {
        const text = String((err as { stderr?: Buffer }).stderr ?? err);
        if (/manifest unknown|not found|name unknown|NAME_UNKNOWN|MANIFEST_UNKNOWN|404/i.test(text)) return undefined;
        throw new Error(`skopeo inspect ${reference}: ${text.trim()}`, { cause: err });
    }
}

/** What one copy did. */
export interface CopyResult {
    readonly what: string;
    readonly action: "copied" | "already there";
    readonly digest: string;
}

/** Copies each image unless the mirror holds the same digest; fails on a source that does not match its pin. */
export async function mirrorImages(copies: readonly ImageCopy[], log: (line: string) => void): Promise<CopyResult[]> {
    const results: CopyResult[] = [];
    for (const c of copies) {
        const source = await manifestDigest(c.source, c.sourceInsecure);
        if (!source) throw new Error(`${c.image}: not found at its upstream`);
        if (c.pinnedDigest && source !== c.pinnedDigest) {
            throw new Error(`${c.image}: the upstream serves ${source}, not the pinned ${c.pinnedDigest}; nothing copied`);
        }
        const there = await manifestDigest(c.destination, c.destinationInsecure);
        if (there === source) {
            results.push({ what: c.image, action: "already there", digest: source });
            log(`image ${c.image}: already there (${source})`);
            continue;
        }
        await run(
            "skopeo",
            [
                "copy",
                "--all",
                "--preserve-digests",
                "--retry-times",
                "3",
                `--src-tls-verify=${!c.sourceInsecure}`,
                `--dest-tls-verify=${!c.destinationInsecure}`,
                c.source,
                c.destination,
            ],
            { maxBuffer: 1 << 24 },
        );
        const copied = await manifestDigest(c.destination, c.destinationInsecure);
        if (copied !== source) throw new Error(`${c.image}: the mirror holds ${copied ?? "nothing"} after the copy, not ${source}`);
        results.push({ what: c.image, action: "copied", digest: source });
        log(`image ${c.image}: copied to ${c.destination.replace(/^docker:\/\//, "")} (${source})`);
    }
    return results;
}

/** Where the S3 API takes a file mirror's objects: its bucket, the key prefix, and the endpoint to send them to. */
export interface S3Target {
    readonly endpoint: string;
    readonly region: string;
    readonly bucket: string;
    readonly prefix: string;
    /** OSS takes virtual-hosted requests only; other S3 servers (MinIO, a test's) take bucket-in-path requests. */
    readonly forcePathStyle: boolean;
}

/**
 * The upload target of a file mirror URL: an OSS bucket's endpoint (internal or public, as nodes read it) is written
 * to through OSS's public S3 endpoint of the same region; any other URL is taken as `<S3 server>/<bucket>/<prefix>`.
 */
export function s3Target(filesBase: string): S3Target {
    const url = new URL(filesBase);
    const prefix = url.pathname.replace(/^\/+|\/+$/g, "");
    const oss = /^([a-z0-9][a-z0-9-]{1,61}[a-z0-9])\.oss-([a-z]{2}-[a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com$/.exec(url.hostname);
    if (oss) {
        return { endpoint: `https://s3.oss-${oss[2]}.aliyuncs.com`, region: oss[2], bucket: oss[1], prefix, forcePathStyle: false };
    }
    const [bucket, ...rest] = prefix.split("/");
    if (!bucket)
        throw new Error(
            `mirrors.files = ${filesBase}: names no bucket (expected <bucket>.oss-<region>-internal.aliyuncs.com or <server>/<bucket>)`,
        );
    return { endpoint: url.origin, region: "us-east-1", bucket, prefix: rest.join("/"), forcePathStyle: true };
}

function s3Client(target: S3Target, env: NodeJS.ProcessEnv): S3Client {
    const accessKeyId = env.ALICLOUD_ACCESS_KEY;
    const secretAccessKey = env.ALICLOUD_SECRET_KEY;
    if (!accessKeyId || !secretAccessKey) {
        throw new Error("uploading files needs ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY (a RAM key that may write the bucket)");
    }
    return new S3Client({
        endpoint: target.endpoint,
        region: target.region,
        forcePathStyle: target.forcePathStyle,
        credentials: {
            accessKeyId,
            secretAccessKey,
            ...(env.ALICLOUD_SECURITY_TOKEN ? { sessionToken: env.ALICLOUD_SECURITY_TOKEN } : {}),
        },
        // OSS refuses the SDK's default CRC32 checksums; send them only where the API demands one.
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
    });
}

const SHA256_METADATA = "sha256";

/** Uploads each file unless the mirror holds it with the same sha256; refuses an upstream file that does not match. */
export async function mirrorFiles(
    filesBase: string,
    copies: readonly FileCopy[],
    log: (line: string) => void,
    env: NodeJS.ProcessEnv = process.env,
): Promise<CopyResult[]> {
    const target = s3Target(filesBase);
    const client = s3Client(target, env);
    const results: CopyResult[] = [];
    try {
        for (const c of copies) {
            const key = [target.prefix, c.mirrorUrl.slice(filesBase.length + 1)].filter(Boolean).join("/");
            const there = await client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key })).then(
                (head) => head.Metadata?.[SHA256_METADATA],
                (err: { name?: string; $metadata?: { httpStatusCode?: number } }) => {
                    if (err.name === "NotFound" || err.$metadata?.httpStatusCode === 404) return undefined;
                    throw err;
                },
            );
            if (there === c.download.sha256) {
                results.push({ what: c.name, action: "already there", digest: c.download.sha256 });
                log(`file ${c.name}: already there (sha256 ${c.download.sha256})`);
                continue;
            }
            const response = await fetch(c.download.url);
            if (!response.ok) throw new Error(`${c.name}: ${c.download.url} answered ${response.status}`);
            const body = Buffer.from(await response.arrayBuffer());
            const sha256 = crypto.createHash("sha256").update(body).digest("hex");
            if (sha256 !== c.download.sha256) {
                throw new Error(`${c.name}: ${c.download.url} has sha256 ${sha256}, not the pinned ${c.download.sha256}; nothing uploaded`);
            }
            await client.send(
                new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body, Metadata: { [SHA256_METADATA]: sha256 } }),
            );
            results.push({ what: c.name, action: "copied", digest: sha256 });
            log(`file ${c.name}: uploaded to ${c.mirrorUrl} (sha256 ${sha256})`);
        }
    } finally {
        client.destroy();
    }
    return results;
}

async function main(argv: string[]): Promise<number> {
    const stageIndex = argv.indexOf("--stack");
    const stage = stageIndex >= 0 ? argv[stageIndex + 1] : undefined;
    if (!stage) {
        console.error("usage: npm run mirror -- --stack <stage> [--dry-run]");
        return 2;
    }
    const cfg = stageConfigFromFiles(stage);
    const images = imageCopies(stageImages(cfg.apps), cfg.mirrors.registries);
    const files = cfg.mirrors.files ? fileCopies(cfg.mirrors.files, NODE_DOWNLOADS) : [];
    const unmirrored = [...new Set(stageImages(cfg.apps).map((i) => imageParts(i).registry))].filter((r) => !cfg.mirrors.registries[r]);
    console.log(`Mirrors of stage ${stage}: ${images.length} images, ${files.length} files`);
    if (unmirrored.length > 0) console.log(`  registries without a mirror (nodes pull from them directly): ${unmirrored.join(", ")}`);
    if (!cfg.mirrors.files) console.log("  no file mirror (mirrors.files): nodes download from the upstreams");
    console.log("  credentials: registries from `skopeo login` ($REGISTRY_AUTH_FILE); OSS from ALICLOUD_ACCESS_KEY / ALICLOUD_SECRET_KEY");
    if (argv.includes("--dry-run")) {
        for (const c of images) console.log(`  image ${c.image} -> ${c.destination.replace(/^docker:\/\//, "")}`);
        for (const f of files) console.log(`  file ${f.name} ${f.download.url} -> ${f.mirrorUrl}`);
        return 0;
    }
    const log = (line: string) => console.log(`  ${line}`);
    const results = [...(await mirrorImages(images, log)), ...(cfg.mirrors.files ? await mirrorFiles(cfg.mirrors.files, files, log) : [])];
    const copied = results.filter((r) => r.action === "copied").length;
    console.log(`copied ${copied}, already there ${results.length - copied}`);
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (err) => {
            console.error(
                err instanceof StageConfigError ? err.message : `npm run mirror: ${err instanceof Error ? err.message : String(err)}`,
            );
            process.exit(1);
        },
    );
}
