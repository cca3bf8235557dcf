/**
 * An offline container image: no registry is reachable here, so the suite packs the static `testpod` binary into
 * an OCI image archive (one layer, config, manifest, index) that `ctr image import` takes.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

function sha256(data: Buffer): string {
    return crypto.createHash("sha256").update(data).digest("hex");
}

/**
 * Writes `<dir>/image.tar`: an OCI archive whose one layer holds `binary` as `/entrypoint`, run as the image's
 * entrypoint, named `reference` (the index's ref-name annotation). Returns the archive's path.
 */
export function ociArchive(binary: string, reference: string, dir: string): string {
    const layout = path.join(dir, "layout");
    const blobs = path.join(layout, "blobs", "sha256");
    fs.mkdirSync(blobs, { recursive: true });
    const staging = path.join(dir, "rootfs");
    fs.mkdirSync(staging, { recursive: true });
    fs.copyFileSync(binary, path.join(staging, "entrypoint"));
    fs.chmodSync(path.join(staging, "entrypoint"), 0o755);
    const layerFile = path.join(dir, "layer.tar");
    execFileSync("tar", ["--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-C", staging, "-cf", layerFile, "entrypoint"]);

    const blob = (data: Buffer, mediaType: string) => {
        const digest = sha256(data);
        fs.writeFileSync(path.join(blobs, digest), data);
        return { mediaType, digest: `sha256:${digest}`, size: data.length };
    };
    const layer = fs.readFileSync(layerFile);
    const layerDescriptor = blob(layer, "application/vnd.oci.image.layer.v1.tar");
    const config = blob(
        Buffer.from(
            JSON.stringify({
                architecture: "amd64",
                os: "linux",
                config: { Entrypoint: ["/entrypoint"] },
                rootfs: { type: "layers", diff_ids: [layerDescriptor.digest] },
            }),
        ),
        "application/vnd.oci.image.config.v1+json",
    );
    const manifest = blob(
        Buffer.from(
            JSON.stringify({
                schemaVersion: 2,
                mediaType: "application/vnd.oci.image.manifest.v1+json",
                config,
                layers: [layerDescriptor],
            }),
        ),
        "application/vnd.oci.image.manifest.v1+json",
    );
    fs.writeFileSync(path.join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    fs.writeFileSync(
        path.join(layout, "index.json"),
        JSON.stringify({
            schemaVersion: 2,
            manifests: [
                {
                    ...manifest,
                    annotations: { "org.opencontainers.image.ref.name": reference },
                    platform: { architecture: "amd64", os: "linux" },
                },
            ],
        }),
    );
    const archive = path.join(dir, "image.tar");
    execFileSync("tar", ["-C", layout, "-cf", archive, "."]);
    return archive;
}
