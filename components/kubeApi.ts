/**
 * The few Kubernetes API calls the node hooks make (cordon, evict, delete a Node, read Nodes, pods and
 * PodDisruptionBudgets), over HTTPS with the credentials of a kubeconfig the program rendered itself (one cluster,
 * one client certificate). No client library: the program already holds the admin kubeconfig, and these are six
 * plain REST calls.
 */
import * as https from "https";
import { parse } from "yaml";

/** An answer of the API server that is not a success. */
export class KubeApiError extends Error {
    constructor(
        public readonly status: number,
        public readonly method: string,
        public readonly path: string,
        body: string,
    ) {
        super(`${method} ${path}: HTTP ${status}: ${apiMessage(body)}`);
        this.name = "KubeApiError";
    }
}

function apiMessage(body: string): string {
    try {
        const status = JSON.parse(body) as { message?: string };
        return status.message ?? body.slice(0, 300);
    } catch {
        return body.slice(0, 300);
    }
}

/** Where and as whom to call the API: what a kubeconfig with embedded credentials holds. */
export interface KubeApiTarget {
    readonly server: string;
    readonly caCertPem: string;
    readonly clientCertPem: string;
    readonly clientKeyPem: string;
}

/** Reads the first cluster and user of a kubeconfig rendered by `renderKubeconfig` (embedded data only). */
export function kubeApiTarget(kubeconfig: string): KubeApiTarget {
    const config = parse(kubeconfig) as {
        clusters?: { cluster: { server: string; "certificate-authority-data"?: string } }[];
        users?: { user: { "client-certificate-data"?: string; "client-key-data"?: string } }[];
    };
    const cluster = config.clusters?.[0]?.cluster;
    const user = config.users?.[0]?.user;
    if (!cluster?.server || !cluster["certificate-authority-data"] || !user?.["client-certificate-data"] || !user["client-key-data"]) {
        throw new Error("kubeconfig: needs a cluster with server and certificate-authority-data and a user with client certificate data");
    }
    const decode = (data: string) => Buffer.from(data, "base64").toString("utf8");
    return {
        server: cluster.server,
        caCertPem: decode(cluster["certificate-authority-data"]),
        clientCertPem: decode(user["client-certificate-data"]),
        clientKeyPem: decode(user["client-key-data"]),
    };
}

/** A JSON call to the API server; `undefined` for 404 when `allowMissing`. */
export class KubeApi {
    private readonly agent: https.Agent;
    private readonly base: URL;

    constructor(target: KubeApiTarget) {
        this.base = new URL(target.server);
        this.agent = new https.Agent({
            ca: target.caCertPem,
            cert: target.clientCertPem,
            key: target.clientKeyPem,
            keepAlive: true,
        });
    }

    async get<T>(path: string): Promise<T | undefined> {
        return this.call<T>("GET", path, undefined, true);
    }

    /** A JSON merge patch (RFC 7386). */
    async mergePatch<T>(path: string, patch: unknown): Promise<T | undefined> {
        return this.call<T>("PATCH", path, patch, false, "application/merge-patch+json");
    }

    async post<T>(path: string, body: unknown): Promise<T | undefined> {
        return this.call<T>("POST", path, body, false);
    }

    /** Deletes; a missing object is not an error. */
    async delete(path: string): Promise<void> {
        await this.call("DELETE", path, undefined, true);
    }

    /** Closes idle connections (the program's process may exit). */
    close(): void {
        this.agent.destroy();
    }

    private call<T>(
        method: string,
        path: string,
        body: unknown,
        allowMissing: boolean,
        contentType = "application/json",
    ): Promise<T | undefined> {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        return new Promise((resolve, reject) => {
            const req = https.request(
                {
                    host: this.base.hostname,
                    port: this.base.port || 443,
                    path,
                    method,
                    agent: this.agent,
                    timeout: 20000,
                    headers: {
                        accept: "application/json",
                        ...(payload === undefined ? {} : { "content-type": contentType, "content-length": Buffer.byteLength(payload) }),
                    },
                },
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("end", () => {
                        const text = Buffer.concat(chunks).toString("utf8");
                        const status = res.statusCode ?? 0;
                        if (status === 404 && allowMissing) resolve(undefined);
                        else if (status < 200 || status >= 300) reject(new KubeApiError(status, method, path, text));
                        else resolve(text ? (JSON.parse(text) as T) : undefined);
                    });
                },
            );
            req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within 20 s`)));
            req.on("error", reject);
            if (payload !== undefined) req.write(payload);
            req.end();
        });
    }
}
