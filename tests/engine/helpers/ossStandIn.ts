/**
 * A stand-in for what an etcd backup talks to outside the cluster: Alibaba's ECS metadata service (a RAM role's
 * short-lived credentials) and the stage's OSS bucket through its S3-compatible endpoint. The contract it holds the
 * program's scripts to, which is the part of OSS they use:
 *
 * - `GET /latest/meta-data/ram/security-credentials/<role>` answers the role's credentials as the metadata service
 *   does: `{Code, AccessKeyId, AccessKeySecret, SecurityToken, Expiration}`;
 * - every bucket request is signed with AWS Signature V4 for service `s3` in the stage's region (checked here from the
 *   spec, independently of curl, which computes it), with the STS token in `x-amz-security-token` when the key is
 *   the role's; an unsigned, wrongly signed or token-less request gets 403;
 * - `PUT /<key>` stores an object; the role may put only under its prefix, and may not read (its policy);
 * - `GET /<key>` returns an object and `GET /?list-type=2&prefix=<p>` lists keys (ListObjectsV2 XML), for an
 *   operator's key only.
 *
 * Nothing else of OSS (versioning, lifecycle, encryption, the VPC condition) is exercised here: those are bucket
 * settings the program declares and the mock runtime checks.
 */
import * as crypto from "crypto";
import * as http from "http";
import { AddressInfo } from "net";

/** A key pair and, for a role, its session token. */
interface Credentials {
    readonly accessKeyId: string;
    readonly secret: string;
    readonly token?: string;
}

/** One request the stand-in answered, for the test to read. */
export interface OssRequest {
    readonly method: string;
    readonly path: string;
    readonly status: number;
    /** Who signed it: `role` or `operator`, or why it was refused. */
    readonly who: string;
}

const sha256 = (data: Buffer | string) => crypto.createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string) => crypto.createHmac("sha256", key).update(data).digest();
/** RFC 3986 encoding as Signature V4 wants it (unreserved characters kept, everything else %XX, upper case). */
const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export class OssStandIn {
    /** Objects by key. */
    public readonly objects = new Map<string, Buffer>();
    public readonly requests: OssRequest[] = [];
    /** An operator's key, with read access (what `etcd-restore fetch` is given). */
    public readonly operator: Credentials = { accessKeyId: "LTAI-operator", secret: crypto.randomBytes(18).toString("hex") };
    private readonly role: Credentials = {
        accessKeyId: "STS.role",
        secret: crypto.randomBytes(18).toString("hex"),
        token: crypto.randomBytes(24).toString("base64"),
    };
    private server?: http.Server;

    constructor(
        /** The role's name: the only one the metadata path answers for. */
        private readonly roleName: string,
        /** Signature V4's region. */
        private readonly region: string,
        /** What the role may put under. */
        private readonly prefix: string,
    ) {}

    /** Listens on `address` (an address of this machine the nodes can reach); returns `http://address:port`. */
    async listen(address: string): Promise<string> {
        this.server = http.createServer((req, res) => {
            const chunks: Buffer[] = [];
            req.on("data", (c: Buffer) => chunks.push(c));
            req.on("end", () => this.answer(req, Buffer.concat(chunks), res));
        });
        await new Promise<void>((resolve) => this.server!.listen(0, address, resolve));
        return `http://${address}:${(this.server.address() as AddressInfo).port}`;
    }

    async close(): Promise<void> {
        await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    }

    private answer(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
        const url = new URL(req.url ?? "/", "http://stand-in");
        const done = (status: number, who: string, payload: string | Buffer = "", type = "application/xml") => {
            this.requests.push({ method: req.method ?? "", path: url.pathname + url.search, status, who });
            res.writeHead(status, { "content-type": type });
            res.end(payload);
        };
        if (req.method === "GET" && url.pathname.startsWith("/latest/meta-data/ram/security-credentials/")) {
            const role = url.pathname.split("/").pop();
            if (role !== this.roleName) return done(404, `metadata: no role ${role}`);
            return done(
                200,
                "metadata",
                JSON.stringify({
                    Code: "Success",
                    AccessKeyId: this.role.accessKeyId,
                    AccessKeySecret: this.role.secret,
                    SecurityToken: this.role.token,
                    Expiration: new Date(Date.now() + 3600000).toISOString().replace(/\.\d+Z$/, "Z"),
                }),
                "application/json",
            );
        }
        const signer = this.verify(req, url, body);
        if (signer !== "role" && signer !== "operator") {
            return done(403, signer, `<Error><Code>AccessDenied</Code><Message>${signer}</Message></Error>`);
        }
        const key = decodeURIComponent(url.pathname.slice(1));
        if (req.method === "PUT" && key) {
            if (signer === "role" && !key.startsWith(this.prefix)) return done(403, `role may not put ${key}`);
            this.objects.set(key, body);
            return done(200, signer);
        }
        if (signer === "role") return done(403, "role may only put objects");
        if (req.method === "GET" && !key && url.searchParams.get("list-type") === "2") {
            const prefix = url.searchParams.get("prefix") ?? "";
            const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
            return done(
                200,
                signer,
                `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Prefix>${prefix}</Prefix>${keys
                    .map((k) => `<Contents><Key>${k}</Key><Size>${this.objects.get(k)!.length}</Size></Contents>`)
                    .join("")}</ListBucketResult>`,
            );
        }
        if (req.method === "GET" && this.objects.has(key)) return done(200, signer, this.objects.get(key)!, "application/octet-stream");
        return done(404, signer, "<Error><Code>NoSuchKey</Code></Error>");
    }

    /** Signature V4 of the request, computed from the spec: who signed it, or why it is refused. */
    private verify(req: http.IncomingMessage, url: URL, body: Buffer): string {
        const auth = req.headers.authorization ?? "";
        const m =
            /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
                auth,
            );
        if (!m) return `not signed with AWS4-HMAC-SHA256 for s3: ${auth || "(no Authorization)"}`;
        const [, accessKeyId, date, region, signedHeaders, signature] = m;
        const who = accessKeyId === this.role.accessKeyId ? "role" : accessKeyId === this.operator.accessKeyId ? "operator" : undefined;
        if (!who) return `unknown key ${accessKeyId}`;
        const credentials = who === "role" ? this.role : this.operator;
        if (region !== this.region) return `signed for region ${region}, not ${this.region}`;
        if (credentials.token !== undefined && req.headers["x-amz-security-token"] !== credentials.token)
            return "missing or wrong security token";
        const names = signedHeaders.split(";");
        if (!names.includes("host") || (credentials.token !== undefined && !names.includes("x-amz-security-token"))) {
            return `signed headers ${signedHeaders} leave out host or the token`;
        }
        const payload = String(req.headers["x-amz-content-sha256"] ?? "");
        if (payload !== "UNSIGNED-PAYLOAD" && payload !== sha256(body)) return "x-amz-content-sha256 does not match the body";
        const amzDate = String(req.headers["x-amz-date"] ?? "");
        if (!amzDate.startsWith(date)) return "x-amz-date does not match the credential scope";
        const query = [...url.searchParams]
            .map(([k, v]) => [encode(k), encode(v)])
            .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
            .map(([k, v]) => `${k}=${v}`)
            .join("&");
        const headers = names
            .map(
                (n) =>
                    `${n}:${String(req.headers[n] ?? "")
                        .trim()
                        .replace(/\s+/g, " ")}\n`,
            )
            .join("");
        const canonical = [req.method, url.pathname, query, headers, signedHeaders, payload].join("\n");
        const scope = `${date}/${region}/s3/aws4_request`;
        const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
        const key = ["s3", "aws4_request"].reduce((k, part) => hmac(k, part), hmac(hmac(`AWS4${credentials.secret}`, date), region));
        const expected = crypto.createHmac("sha256", key).update(toSign).digest("hex");
        return expected === signature ? who : "signature does not match";
    }
}
