/**
 * Registry mirrors on a node, without renaming a single image: containerd's hosts directory (one
 * `<registry>/hosts.toml` per registry the cluster pulls from, for everything the kubelet pulls, the pause image
 * included) and podman's registries.conf.d (etcd and the bootstrap's kubectl on controllers). Both are read on every
 * pull, so they arrive over SSH before the kubelet and etcd start, and a changed mirror needs no restart and no new
 * node (controllers included, whose user data never changes).
 */
import { MirrorsConfig, isLoopbackRegistry, registriesInUse, registryMirror, stageImages } from "../config/mirrors";
import { StageConfig } from "../config/types";
import { nodePaths } from "../layout/node";
import { NodeFile } from "./files";

/** What a node's registry configuration is rendered from. */
export interface RegistrySettings {
    /** Every registry the stage pulls from (platform and apps). */
    readonly registries: readonly string[];
    /** Upstream registry -> mirror URL (config key mirrors.registries). */
    readonly mirrors: MirrorsConfig["registries"];
    /** Whether a pull that fails at the mirror goes on to the upstream. */
    readonly fallbackToUpstream: boolean;
}

/** The registry settings of a stage. */
export function registrySettings(cfg: StageConfig): RegistrySettings {
    return {
        registries: registriesInUse(stageImages(cfg.apps)),
        mirrors: cfg.mirrors.registries,
        fallbackToUpstream: cfg.mirrors.fallbackToUpstream,
    };
}

const toml = (s: string) => JSON.stringify(s); // a JSON string without control characters is a TOML basic string

/** Where containerd finds a registry itself: Docker Hub's API lives at registry-1.docker.io; loopback speaks HTTP. */
function upstreamServer(registry: string): string {
    if (isLoopbackRegistry(registry)) return `http://${registry}`;
    return `https://${registry === "docker.io" ? "registry-1.docker.io" : registry}`;
}

/**
 * A registry's hosts.toml. With a mirror, containerd asks it first (repositories under its path: `override_path`
 * makes the path the whole API prefix, `/v2` included), then the `server`: the upstream if falling back is allowed,
 * else the mirror's own root, so the upstream is never asked (containerd 1.6 takes no path in `server`). Without a
 * mirror the file names the upstream only: the same as no file, and it replaces the mirror of a node whose stage
 * dropped it.
 */
export function containerdHostsToml(registry: string, mirrorUrl: string | undefined, fallbackToUpstream: boolean): string {
    if (!mirrorUrl) return `server = ${toml(upstreamServer(registry))}\n`;
    const mirror = registryMirror(mirrorUrl);
    const root = `${mirror.secure ? "https" : "http"}://${mirror.host}`;
    const server = `server = ${toml(fallbackToUpstream ? upstreamServer(registry) : root)}`;
    if (!mirror.path && !fallbackToUpstream) return `${server}\n`;
    const host = mirror.path
        ? [`[host.${toml(`${root}/v2/${mirror.path}`)}]`, '  capabilities = ["pull", "resolve"]', "  override_path = true"]
        : [`[host.${toml(root)}]`, '  capabilities = ["pull", "resolve"]'];
    return [server, "", ...host].join("\n") + "\n";
}

/**
 * podman's drop-in: one `[[registry]]` per mirrored registry. With fallback the mirror is a `[[registry.mirror]]`
 * tried before the upstream; without it the mirror is the registry's location, so podman never asks the upstream.
 */
export function podmanMirrorsConf(settings: RegistrySettings): string {
    const lines = ["# Registry mirrors of the stage (config key mirrors.registries); podman reads this on every pull."];
    for (const [registry, url] of Object.entries(settings.mirrors)) {
        const mirror = registryMirror(url);
        const location = mirror.path ? `${mirror.host}/${mirror.path}` : mirror.host;
        const insecure = mirror.secure ? [] : ["insecure = true"];
        lines.push("", "[[registry]]", `prefix = ${toml(registry)}`);
        if (settings.fallbackToUpstream) {
            // A loopback upstream speaks plain HTTP, as containerd's hosts.toml assumes too.
            const upstreamInsecure = isLoopbackRegistry(registry) ? ["insecure = true"] : [];
            lines.push(
                `location = ${toml(registry)}`,
                ...upstreamInsecure,
                "[[registry.mirror]]",
                `location = ${toml(location)}`,
                ...insecure,
            );
        } else {
            lines.push(`location = ${toml(location)}`, ...insecure);
        }
    }
    return lines.join("\n") + "\n";
}

/**
 * The registry files of a Kubernetes node: a hosts.toml for every registry in use, and on controllers (which run
 * podman) the podman drop-in. Installed before the kubelet's join files, so the first pull already uses them.
 */
export function registryFiles(settings: RegistrySettings, withPodman: boolean): NodeFile[] {
    const files: NodeFile[] = settings.registries.map((registry) => ({
        path: `${nodePaths.containerdHostsDir}/${registry}/hosts.toml`,
        mode: "0644",
        content: containerdHostsToml(registry, settings.mirrors[registry], settings.fallbackToUpstream),
        containerReadable: false,
    }));
    if (withPodman) {
        files.push(podmanMirrorsFile(settings));
    }
    return files;
}

/** podman's registry drop-in as a node file (controllers; the bastion and the NFS node with node_exporter). */
export function podmanMirrorsFile(settings: RegistrySettings): NodeFile {
    return { path: nodePaths.podmanMirrorsFile, mode: "0644", content: podmanMirrorsConf(settings), containerReadable: false };
}
