/**
 * What the mirror tests run on, all on loopback and offline: Debian's docker-registry (filesystem storage), an image
 * made here as an OCI layout (blobs and index.json written by hand, one or several platforms), and a waiting helper
 * for the servers they start.
 */
import { ChildProcess, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
    });
}

/** Resolves once something accepts connections on 127.0.0.1:port; rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 20000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const open = await new Promise<boolean>((resolve) => {
            const socket = net.connect(port, "127.0.0.1");
            socket.once("connect", () => {
                socket.destroy();
                resolve(true);
            });
            socket.once("error", () => resolve(false));
        });
        if (open) return;
        if (Date.now() > deadline) throw new Error(`nothing answered on 127.0.0.1:${port} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200));
    }
}

/** A server process the test started; `stop` ends it (and only it). */
export interface Started {
    readonly process: ChildProcess;
    readonly log: () => string;
    stop(): Promise<void>;
}

/** Starts `command` with its output kept for failure messages. */
export function start(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Started {
    const child = spawn(command, args as string[], { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.on("data", (d) => (output += d));
    child.stderr!.on("data", (d) => (output += d));
    return {
        process: child,
        log: () => output,
        stop: () =>
            new Promise((resolve) => {
                if (child.exitCode !== null || child.signalCode !== null) return resolve();
                child.once("exit", () => resolve());
                child.kill("SIGTERM");
            }),
    };
}

/** Runs a command without blocking the event loop (the servers the test runs in-process must keep answering). */
export function runAsync(
    command: string,
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(command, args as string[], { env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (d) => (stdout += d));
        child.stderr!.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60000);
        child.on("close", (status) => {
            clearTimeout(timer);
            resolve({ status, stdout, stderr });
        });
    });
}

/** Debian's docker-registry on 127.0.0.1:port, storing under `dir`. */
export async function startRegistry(dir: string): Promise<Started & { port: number }> {
    const port = await freePort();
    fs.mkdirSync(dir, { recursive: true });
    const config = path.join(dir, "registry.yml");
    fs.writeFileSync(
        config,
        [
            "version: 0.1",
            "log: { level: warn }",
            `storage: { filesystem: { rootdirectory: ${JSON.stringify(path.join(dir, "data"))} }, delete: { enabled: true } }`,
            `http: { addr: 127.0.0.1:${port} }`,
            "",
        ].join("\n"),
    );
    const registry = start("docker-registry", ["serve", config]);
    await waitForPort(port);
    return { ...registry, port };
}

function sha256(data: Buffer | string): string {
    return crypto.createHash("sha256").update(data).digest("hex");
}

/**
 * An OCI layout at `dir` holding one image under `tag`: one layer with `/message` = `message`, for each of
 * `platforms` (an index of them). Returns the index's digest, which is what a registry serves for the tag.
 */
export function writeOciLayout(dir: string, tag: string, message: string, platforms: readonly string[] = ["linux/amd64"]): string {
    const blobs = path.join(dir, "blobs", "sha256");
    fs.mkdirSync(blobs, { recursive: true });
    const blob = (data: Buffer, mediaType: string) => {
        const digest = sha256(data);
        fs.writeFileSync(path.join(blobs, digest), data);
        return { mediaType, digest: `sha256:${digest}`, size: data.length };
    };
    // A tar with one file, written by hand (512-byte header, content, padding, two zero blocks): no tar flags differ.
    const content = Buffer.from(message);
    const header = Buffer.alloc(512);
    header.write("message", 0);
    header.write("0000644\0", 100);
    header.write("0000000\0", 108);
    header.write("0000000\0", 116);
    header.write(content.length.toString(8).padStart(11, "0") + "\0", 124);
    header.write("00000000000\0", 136);
    header.write("        ", 148);
    header.write("0", 156);
    header.write("ustar\0", 257);
    header.write("00", 263);
    const checksum = header.reduce((sum, byte) => sum + byte, 0);
    header.write(checksum.toString(8).padStart(6, "0") + "\0 ", 148);
    const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
    const layer = blob(Buffer.concat([header, content, padding, Buffer.alloc(1024)]), "application/vnd.oci.image.layer.v1.tar");
    const manifests = platforms.map((platform) => {
        const [os, architecture] = platform.split("/");
        const config = blob(
            Buffer.from(JSON.stringify({ architecture, os, config: {}, rootfs: { type: "layers", diff_ids: [layer.digest] } })),
            "application/vnd.oci.image.config.v1+json",
        );
        const manifest = blob(
            Buffer.from(
                JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config, layers: [layer] }),
            ),
            "application/vnd.oci.image.manifest.v1+json",
        );
        return { ...manifest, platform: { architecture, os } };
    });
    const index = blob(
        Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests })),
        "application/vnd.oci.image.index.v1+json",
    );
    fs.writeFileSync(path.join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    fs.writeFileSync(
        path.join(dir, "index.json"),
        JSON.stringify({ schemaVersion: 2, manifests: [{ ...index, annotations: { "org.opencontainers.image.ref.name": tag } }] }),
    );
    return index.digest;
}
