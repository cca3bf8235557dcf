import * as crypto from "crypto";
import * as zlib from "zlib";
import { deterministicGzip } from "../../ignition/gzip";

/** A pseudo-random but fixed byte string (no Math.random: a failure must reproduce). */
function fixedRandomBytes(length: number, seed: string): Buffer {
    const chunks: Buffer[] = [];
    for (let i = 0; chunks.length * 32 < length; i++) chunks.push(crypto.createHash("sha256").update(`${seed}:${i}`).digest());
    return Buffer.concat(chunks).subarray(0, length);
}

const unitLikeText = Array.from(
    { length: 40 },
    (_, i) =>
        `[Unit]\nDescription=Service number ${i}\nAfter=network-online.target\n[Service]\nExecStart=/usr/bin/podman run --name s${i} quay.io/example/image:v${i}.0\n`,
).join("\n");

describe("deterministic gzip", () => {
    const inputs: Record<string, Buffer> = {
        empty: Buffer.alloc(0),
        "one byte": Buffer.from("x"),
        "a run longer than the longest match (258)": Buffer.alloc(5000, "a"),
        "every byte value": Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
        "unit-like text": Buffer.from(unitLikeText),
        "incompressible bytes": fixedRandomBytes(3000, "noise"),
        "repeats farther apart than the 32 KiB window": Buffer.concat([
            fixedRandomBytes(1000, "a"),
            fixedRandomBytes(40000, "b"),
            fixedRandomBytes(1000, "a"),
        ]),
        "UTF-8 text": Buffer.from("时间同步：阿里云 NTP 服务器\n".repeat(30)),
    };

    it.each(Object.entries(inputs))("round-trips %s through zlib's gunzip", (_, data) => {
        expect(zlib.gunzipSync(deterministicGzip(data)).equals(data)).toBe(true);
    });

    it("writes no file name and no timestamp, so the bytes depend on the input alone", () => {
        const header = deterministicGzip(Buffer.from(unitLikeText)).subarray(0, 10);
        expect(header[3]).toBe(0); // FLG: no name, no comment, no extra field
        expect(header.readUInt32LE(4)).toBe(0); // MTIME
    });

    it("compresses text about as well as zlib at level 9", () => {
        const ours = deterministicGzip(Buffer.from(unitLikeText)).length;
        const zlibs = zlib.gzipSync(unitLikeText, { level: 9 }).length;
        expect(ours).toBeLessThan(unitLikeText.length / 3);
        expect(ours).toBeLessThanOrEqual(Math.ceil(zlibs * 1.05));
    });

    it("gives the same bytes as when this test was written (a change would replace every worker)", () => {
        // Workers are replaced when their user data changes; a different compressor output is such a change.
        // If this fails on purpose, say so in the changelog: every worker of every stage will be replaced.
        const digest = crypto
            .createHash("sha256")
            .update(deterministicGzip(Buffer.from(unitLikeText)))
            .digest("hex");
        expect(digest).toBe(GOLDEN_UNIT_TEXT_GZIP_SHA256);
    });
});

/** Pinned with fflate 0.8.3 (package.json pins it exactly; Node's zlib plays no part in it). */
const GOLDEN_UNIT_TEXT_GZIP_SHA256 = "51caea7327aa11decdfda6bc4993fe252700f738d9e9d37a2a0901d4123c099d";
