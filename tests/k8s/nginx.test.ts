/**
 * The React apps' server block, run by a real nginx (Debian package nginx-light) on loopback: SPA fallback,
 * caching of hashed assets and index.html, and the /api/<service> proxies. Only three things are changed so that
 * it runs here: the listen port, the html root, and the upstream host (cluster DNS does not exist here).
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { NGINX_HTML_DIR, REACT_CONTAINER_PORT, renderNginxConf } from "../../k8s/reactApp";

const NGINX = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => fs.existsSync(p));
if (!NGINX) {
    // Never skipped: `npm test` installs it with apt-get when it runs as root.
    throw new Error("nginx is not installed: apt-get install -y nginx-light");
}
const describeWithNginx = describe;

const INDEX = "<!doctype html><title>shop</title><script src=/static/js/main.3f2a1b9c.js></script>";
const BUNDLE = "console.log('bundle')";

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
        server.on("error", reject);
    });
}

function get(port: number, urlPath: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
        http.get({ host: "127.0.0.1", port, path: urlPath, headers: { Host: "shop.example.com", "X-Forwarded-Proto": "https" } }, (res) => {
            let body = "";
            res.on("data", (chunk) => (body += chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        }).on("error", reject);
    });
}

/** Starts nginx with the rendered server block for a React app at `routePath`; returns its port and a stop function. */
async function startNginx(dir: string, routePath: string, upstreamPort: number): Promise<{ port: number; stop: () => void }> {
    const port = await freePort();
    const html = path.join(dir, "html");
    fs.mkdirSync(path.join(html, "static", "js"), { recursive: true });
    fs.writeFileSync(path.join(html, "index.html"), INDEX);
    fs.writeFileSync(path.join(html, "static", "js", "main.3f2a1b9c.js"), BUNDLE);
    fs.writeFileSync(path.join(html, "favicon.ico"), "icon");

    const rendered = renderNginxConf(
        { name: "web", route: { host: "shop.example.com", path: routePath } },
        [{ name: "orders", port: 8080 }],
        {
            namespace: "apps",
        },
    );
    const serverBlock = rendered
        .replace(`listen ${REACT_CONTAINER_PORT};`, `listen 127.0.0.1:${port};`)
        .replace(`root ${NGINX_HTML_DIR};`, `root ${html};`)
        .replace("http://orders.apps.svc.cluster.local:8080/", `http://127.0.0.1:${upstreamPort}/`);
    expect(serverBlock).not.toBe(rendered);
    fs.writeFileSync(path.join(dir, "app.conf"), serverBlock);
    const main = [
        "daemon off;",
        "master_process off;",
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/error.log warn;`,
        "events {}",
        "http {",
        "    include /etc/nginx/mime.types;",
        "    access_log off;",
        ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `    ${t}_temp_path ${dir}/${t};`),
        `    include ${dir}/app.conf;`,
        "}",
    ].join("\n");
    fs.writeFileSync(path.join(dir, "nginx.conf"), main);
    execFileSync(NGINX!, ["-t", "-q", "-p", dir, "-c", path.join(dir, "nginx.conf")], { stdio: "pipe" });

    const child: ChildProcess = spawn(NGINX!, ["-p", dir, "-c", path.join(dir, "nginx.conf")], { stdio: "ignore" });
    for (let i = 0; i < 50; i++) {
        try {
            await get(port, "/healthz");
            break;
        } catch {
            await new Promise((r) => setTimeout(r, 100));
        }
    }
    return { port, stop: () => child.kill("SIGTERM") };
}

describeWithNginx("React app server block under a real nginx", () => {
    const upstreamPaths: string[] = [];
    let upstream: http.Server;
    let upstreamPort: number;
    const dirs: string[] = [];
    const stops: (() => void)[] = [];

    beforeAll(async () => {
        upstream = http.createServer((req, res) => {
            upstreamPaths.push(`${req.url} proto=${req.headers["x-forwarded-proto"]}`);
            res.setHeader("Content-Type", "application/json");
            res.end('{"from":"orders"}');
        });
        await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
        upstreamPort = (upstream.address() as net.AddressInfo).port;
    });

    afterAll(async () => {
        stops.forEach((stop) => stop());
        await new Promise((r) => upstream.close(r));
        dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
    });

    const start = async (routePath: string) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "k8s-nginx-"));
        dirs.push(dir);
        const nginx = await startNginx(dir, routePath, upstreamPort);
        stops.push(nginx.stop);
        return nginx.port;
    };

    describe("at the root path", () => {
        let port: number;
        beforeAll(async () => {
            port = await start("/");
        });

        it("answers client-side routes with index.html, never cached", async () => {
            const res = await get(port, "/orders/42/edit");
            expect(res.status).toBe(200);
            expect(res.body).toBe(INDEX);
            expect(res.headers["cache-control"]).toBe("no-cache");
        });

        it("never caches index.html itself", async () => {
            for (const p of ["/", "/index.html"]) {
                const res = await get(port, p);
                expect(res.body).toBe(INDEX);
                expect(res.headers["cache-control"]).toBe("no-cache");
            }
        });

        it("caches hashed assets for a year", async () => {
            const res = await get(port, "/static/js/main.3f2a1b9c.js");
            expect(res.status).toBe(200);
            expect(res.body).toBe(BUNDLE);
            expect(res.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
        });

        it("answers a missing asset with 404, not with index.html", async () => {
            const res = await get(port, "/static/js/main.00000000.js");
            expect(res.status).toBe(404);
            expect(res.headers["cache-control"]).toBeUndefined();
        });

        it("proxies /api/orders/ to the orders service without the prefix", async () => {
            const res = await get(port, "/api/orders/items/7?expand=true");
            expect(res.status).toBe(200);
            expect(JSON.parse(res.body)).toEqual({ from: "orders" });
            expect(upstreamPaths).toContain("/items/7?expand=true proto=https");
        });

        it("answers its health check", async () => {
            const res = await get(port, "/healthz");
            expect(res.status).toBe(200);
            expect(res.body).toBe("ok\n");
        });
    });

    describe("under a path prefix (route path /shop)", () => {
        let port: number;
        beforeAll(async () => {
            port = await start("/shop");
        });

        it("serves assets, routes and proxies below the prefix", async () => {
            expect((await get(port, "/shop/static/js/main.3f2a1b9c.js")).body).toBe(BUNDLE);
            expect((await get(port, "/shop/cart")).body).toBe(INDEX);
            expect((await get(port, "/shop")).body).toBe(INDEX);
            await get(port, "/shop/api/orders/stock");
            expect(upstreamPaths).toContain("/stock proto=https");
        });
    });
});
