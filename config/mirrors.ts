/**
 * Mirrors: what a stage pulls and downloads, and where its mirrors are. Nodes in mainland China reach
 * registry.k8s.io, quay.io, ghcr.io, dl.k8s.io and github.com slowly or not at all, so a stage may name, per
 * upstream registry, a registry that holds the same repositories under the same names (an Alibaba Container
 * Registry namespace in the stage's region), and one base URL that holds every download (an OSS bucket reached
 * through its internal endpoint). Nothing is renamed: nodes still pull `registry.k8s.io/pause:3.10.2` and the
 * container runtimes resolve it through the mirror; downloads keep their sha256 and images their digests.
 *
 * The node renderers, the SSH deliveries and `npm run mirror` all take their names from here, so the mirror command
 * copies exactly what nodes will ask the mirrors for.
 */
import { VerifiedDownload, versions } from "../versions";
import { Report } from "./problems";

/** The registry of an image reference, as container runtimes read it (`docker.io` when the first part is no host). */
export function imageRegistry(ref: string): string {
    const first = ref.split("/")[0];
    return ref.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost") ? first : "docker.io";
}

/** An image reference taken apart: registry, repository path, tag and digest (either may be absent, not both). */
export interface ImageParts {
    readonly registry: string;
    readonly repository: string;
    readonly tag?: string;
    readonly digest?: string;
}

export function imageParts(ref: string): ImageParts {
    const registry = imageRegistry(ref);
    const [name, digest] = ref.split("@");
    const rest = name.startsWith(`${registry}/`) ? name.slice(registry.length + 1) : name;
    const colon = rest.lastIndexOf(":");
    const hasTag = colon > rest.lastIndexOf("/");
    const repository = hasTag ? rest.slice(0, colon) : rest;
    return {
        registry,
        repository: registry === "docker.io" && !repository.includes("/") ? `library/${repository}` : repository,
        ...(hasTag ? { tag: rest.slice(colon + 1) } : {}),
        ...(digest ? { digest } : {}),
    };
}

/** Every image the platform itself runs (versions.ts): static pods, add-ons, etcd, the bootstrap's kubectl, pause. */
export function platformImages(): string[] {
    return Object.values(versions.images);
}

/** Every image a stage's nodes pull: the platform's, then each app's (and its canary's), once each. */
export function stageImages(apps: readonly { readonly image: string; readonly canary?: { readonly image: string } }[]): string[] {
    const appImages = apps.flatMap((a) => [a.image, ...(a.canary ? [a.canary.image] : [])]);
    return [...new Set([...platformImages(), ...appImages])];
}

/** The registries a stage pulls from, in the order of first use. */
export function registriesInUse(images: readonly string[]): string[] {
    return [...new Set(images.map(imageRegistry))];
}

/** Every file a node downloads on first boot (each checked against its sha256), by name. */
export const NODE_DOWNLOADS: Readonly<Record<string, VerifiedDownload>> = {
    kubelet: versions.kubelet,
    "cni-plugins": versions.cniPlugins,
};

/**
 * Where the file mirror keeps a download: under the base URL, the upstream's host and path
 * (`<base>/dl.k8s.io/release/v1.36.4/bin/linux/amd64/kubelet`), so two upstreams never collide and a reader sees
 * where each file came from.
 */
export function fileMirrorUrl(base: string, upstreamUrl: string): string {
    const upstream = new URL(upstreamUrl);
    return `${base}/${upstream.host}${upstream.pathname}`;
}

/**
 * Registries on a loopback address speak plain HTTP, as Docker and containerd assume for them (a registry on the
 * node itself, or a test's); every other registry speaks HTTPS.
 */
export function isLoopbackRegistry(host: string): boolean {
    return /^(localhost|127\.\d+\.\d+\.\d+)(:\d+)?$/.test(host);
}

/** A registry mirror as the container runtimes need it: scheme, host[:port] and the path its repositories live under. */
export interface RegistryMirror {
    readonly url: string;
    readonly secure: boolean;
    /** host[:port] */
    readonly host: string;
    /** Without leading or trailing slash; "" when repositories sit at the registry's root. */
    readonly path: string;
}

export function registryMirror(url: string): RegistryMirror {
    const u = new URL(url);
    return { url, secure: u.protocol === "https:", host: u.host, path: u.pathname.replace(/^\/+|\/+$/g, "") };
}

/** The mirrors of a stage, validated (config key `mirrors`). */
export interface MirrorsConfig {
    /** Upstream registry host -> the URL under which the mirror holds its repositories, same paths. */
    readonly registries: Readonly<Record<string, string>>;
    /** Base URL of the file mirror; absent: downloads come from their upstreams. */
    readonly files?: string;
    /** Base URL of a Fedora mirror for package layering (the NFS node's nfs-utils); absent: Fedora's metalink. */
    readonly fedora?: string;
    /** Whether nodes try the upstream when a mirror fails or lacks an artifact. */
    readonly fallbackToUpstream: boolean;
    /** What the program creates itself. */
    readonly create: { readonly filesBucket: boolean; readonly registryNamespace?: { readonly instanceId: string } };
}

/** The bucket the program creates for files (`mirrors.create.filesBucket`): stage-scoped. */
export function filesBucketName(namePrefix: string): string {
    return `${namePrefix}-mirror`;
}

/** The file mirror URL of that bucket: its internal endpoint, reachable from the stage's VPC without the NAT. */
export function filesBucketUrl(namePrefix: string, region: string): string {
    return `https://${filesBucketName(namePrefix)}.oss-${region}-internal.aliyuncs.com`;
}

/** The registry namespace the program creates (`mirrors.create.registryNamespace`): the stage's name prefix. */
export function registryNamespaceName(namePrefix: string): string {
    return namePrefix;
}

/**
 * The region of an Alibaba endpoint, where its name tells (ACR personal and enterprise registries, OSS), else
 * undefined. Internal and VPC endpoints answer only inside their region, and a public one would be reached through
 * the NAT gateway, which is what a mirror is meant to avoid.
 */
export function alibabaEndpointRegion(host: string): string | undefined {
    const patterns = [
        /^registry(?:-vpc|-intl|-intl-vpc)?\.([a-z]{2}-[a-z0-9-]+?)\.aliyuncs\.com$/,
        /^[a-z0-9-]+-registry(?:-vpc)?\.([a-z]{2}-[a-z0-9-]+?)\.cr\.aliyuncs\.com$/,
        /^(?:[a-z0-9-]+\.)?oss-([a-z]{2}-[a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com$/,
    ];
    for (const pattern of patterns) {
        const m = pattern.exec(host.replace(/:\d+$/, ""));
        if (m) return m[1];
    }
    return undefined;
}

/** What the mirror rules need to know about the stage. */
export interface MirrorRuleContext {
    readonly region: string;
    readonly namePrefix: string;
    /** Every image the stage pulls (`stageImages`); undefined when the apps did not parse. */
    readonly images?: readonly string[];
}

/** The rules of `mirrors` beyond its schema: registries in use, endpoints of the stage's region, what create implies. */
export function checkMirrors(mirrors: MirrorsConfig | undefined, ctx: MirrorRuleContext, report: Report): void {
    if (!mirrors) return;
    const inUse = ctx.images ? registriesInUse(ctx.images) : undefined;
    const inRegion = (key: string, url: string) => {
        const region = alibabaEndpointRegion(new URL(url).host);
        if (ctx.region && region && region !== ctx.region) {
            report(
                key,
                url,
                `is an endpoint of region ${region}, but the stage is in ${ctx.region} (alicloud:region): use the mirror's endpoint in ${ctx.region} (internal endpoints answer only inside their region, public ones cost NAT traffic)`,
            );
        }
    };
    for (const [registry, url] of Object.entries(mirrors.registries)) {
        const key = `mirrors.registries.${registry}`;
        if (inUse && !inUse.includes(registry)) {
            report(key, url, `is not a registry this stage pulls from (it pulls from ${inUse.join(", ")}); remove it`);
        }
        if (registryMirror(url).host === registry) {
            report(key, url, "points at the upstream registry itself");
        }
        inRegion(key, url);
    }
    if (mirrors.files) inRegion("mirrors.files", mirrors.files);
    if (mirrors.fedora) inRegion("mirrors.fedora", mirrors.fedora);

    if (mirrors.create.filesBucket) {
        const expected = filesBucketUrl(ctx.namePrefix, ctx.region);
        if (mirrors.files !== expected) {
            report(
                "mirrors.files",
                mirrors.files ?? "",
                `must be ${expected} when mirrors.create.filesBucket is true (the bucket the program creates, through its internal endpoint)`,
            );
        }
    }
    if (mirrors.create.registryNamespace) {
        const namespace = registryNamespaceName(ctx.namePrefix);
        if (Object.keys(mirrors.registries).length === 0) {
            report("mirrors.registries", {}, "must name at least one mirror when mirrors.create.registryNamespace is set");
        }
        for (const [registry, url] of Object.entries(mirrors.registries)) {
            const path = registryMirror(url).path;
            if (path !== namespace && !path.startsWith(`${namespace}/`)) {
                report(
                    `mirrors.registries.${registry}`,
                    url,
                    `must lie in the namespace ${namespace} that mirrors.create.registryNamespace creates (https://<instance>-registry-vpc.${ctx.region}.cr.aliyuncs.com/${namespace}/${registry})`,
                );
            }
        }
    }
}

/** One download as a node fetches it: the sha256 it must have, and the URLs to try in order. */
export interface DownloadSources {
    readonly sha256: string;
    readonly urls: readonly string[];
}

/** Where a node fetches one download, in the order tried: the file mirror, then the upstream unless that is off. */
export function downloadSources(mirrors: MirrorsConfig, download: VerifiedDownload): DownloadSources {
    if (!mirrors.files) return { sha256: download.sha256, urls: [download.url] };
    const mirror = fileMirrorUrl(mirrors.files, download.url);
    return { sha256: download.sha256, urls: mirrors.fallbackToUpstream ? [mirror, download.url] : [mirror] };
}

/** Fedora's own download server, the fallback of a Fedora mirror (the image's repositories use its metalink). */
export const FEDORA_UPSTREAM = "https://dl.fedoraproject.org/pub/fedora/linux";

/** Base URLs of Fedora repositories for package layering, in the order tried; undefined: the image's repositories. */
export function fedoraSources(mirrors: MirrorsConfig): string[] | undefined {
    if (!mirrors.fedora) return undefined;
    return mirrors.fallbackToUpstream ? [mirrors.fedora, FEDORA_UPSTREAM] : [mirrors.fedora];
}
