/**
 * A node's Ignition config as plain text, for review (what `npm run render` writes to out/<stage>/ignition/<node>/):
 * every file at its path on the node, decoded (gzip too); every unit and drop-in where Ignition writes it; and
 * `index.txt`, which lists everything in the config's order with its mode, owner, overwrite flag or unit state,
 * and the users, links and directories. Read with the one Ignition reader (ignition/reader.ts).
 */
import * as path from "path";
import { displayContents, ignitionContents } from "../ignition/reader";

/** Where Ignition writes a unit's contents and drop-ins. */
const UNIT_DIR = "etc/systemd/system";

/** Relative path (under the node's directory) -> text. */
export function ignitionTree(json: string): Map<string, string> {
    const contents = ignitionContents(json);
    const tree = new Map<string, string>();
    const put = (nodePath: string, text: string) => {
        const relative = path.posix.normalize(nodePath).replace(/^\/+/, "");
        if (relative === "" || relative.startsWith("..") || relative === "index.txt") {
            throw new Error(`Ignition config writes ${nodePath}, which has no place in the review tree`);
        }
        if (tree.has(relative)) {
            throw new Error(`Ignition config writes /${relative} twice`);
        }
        tree.set(relative, text);
    };
    const index: string[] = [];
    for (const f of contents.files) {
        put(f.path, displayContents(f.contents));
        index.push(`file  ${f.path}  ${f.attributes}`);
    }
    for (const u of contents.units) {
        if (u.contents) {
            put(`${UNIT_DIR}/${u.name}`, u.contents);
        }
        for (const d of u.dropins) {
            put(`${UNIT_DIR}/${u.name}.d/${d.name}`, d.contents);
        }
        const what = [u.contents ? "" : "no contents (the image's unit)", ...u.dropins.map((d) => `drop-in ${d.name}`)].filter(Boolean);
        index.push(`unit  ${u.name}  ${u.state || "state left to presets"}${what.length ? `; ${what.join(", ")}` : ""}`);
    }
    for (const [key, entry] of contents.other) {
        index.push(`${key}  ${JSON.stringify(JSON.parse(entry))}`);
    }
    tree.set("index.txt", index.join("\n") + "\n");
    return tree;
}
