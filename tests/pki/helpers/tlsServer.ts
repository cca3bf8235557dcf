/**
 * A stand-in for kube-apiserver's TLS front: `openssl s_server` serving /healthz ("ok") with a given serving
 * certificate, and requiring a client certificate signed by a given CA (as the apiserver's --client-ca-file does).
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { scratchDir } from "./tools";

export interface TlsServer {
    readonly port: number;
    stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ host: "127.0.0.1", port }, () => {
            socket.destroy();
            resolve(true);
        });
        socket.on("error", () => resolve(false));
    });
}

export async function startHealthzServer(files: { cert: string; key: string; clientCa: string }): Promise<TlsServer> {
    const root = scratchDir("healthz");
    fs.writeFileSync(path.join(root, "healthz"), "ok");
    const port = 30000 + (process.pid % 10000) + Math.floor(Math.random() * 5000);
    const server: ChildProcess = spawn(
        "openssl",
        [
            "s_server",
            "-quiet",
            "-accept",
            `127.0.0.1:${port}`,
            "-cert",
            files.cert,
            "-key",
            files.key,
            "-CAfile",
            files.clientCa,
            "-Verify",
            "1",
            "-verify_return_error",
            "-WWW",
        ],
        { cwd: root, stdio: ["ignore", "ignore", "ignore"] },
    );
    for (let i = 0; !(await canConnect(port)); i++) {
        if (i === 50 || server.exitCode !== null) {
            server.kill();
            throw new Error(`openssl s_server did not listen on 127.0.0.1:${port}`);
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    return {
        port,
        stop: () =>
            new Promise<void>((resolve) => {
                if (server.exitCode !== null) {
                    return resolve();
                }
                server.once("exit", () => resolve());
                server.kill();
            }),
    };
}
