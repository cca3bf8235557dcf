/**
 * gzip whose bytes depend only on the input (and the exactly pinned `fflate`). Node's own zlib is a Chromium fork
 * whose deflate output differs from upstream zlib's and changes between Node releases (checked: Node 20.20 and
 * Debian's zlib 1.2.13 give different bytes at levels 6 and 9). Worker user data must not change with the Node
 * version of whoever runs `pulumi up`, or every worker would be replaced; fflate is pure JavaScript, so its
 * output is the same on every machine. Upgrading fflate is such a change: the golden test says so.
 */
import { gzipSync } from "fflate";

/** The gzip (RFC 1952) of `data` at the best compression: no file name, mtime 0. */
export function deterministicGzip(data: Uint8Array): Buffer {
    return Buffer.from(gzipSync(data, { level: 9, mtime: 0 }));
}
