/** A throwaway git repository holding a copy of this project, for tests of tools that work on git refs. */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "../..");

/** What is never copied: dependencies (symlinked instead), renders, git's own data. */
const SKIP = new Set(["node_modules", "out", ".git", "coverage"]);

/** Runs git in `dir` with a fixed identity (the machine may have none). */
export function git(dir: string, ...args: string[]): string {
    return execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", ...args], {
        cwd: dir,
        encoding: "utf8",
    });
}

/**
 * Copies the project (or, with `replace`, the project with some files replaced) into a new repository,
 * commits it, and links this checkout's node_modules into it (ignored, as in a real checkout).
 */
export function scratchRepo(replace: Record<string, string> = {}): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "scratch-repo-"));
    for (const entry of fs.readdirSync(ROOT)) {
        if (!SKIP.has(entry)) {
            fs.cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
        }
    }
    for (const [file, text] of Object.entries(replace)) {
        fs.writeFileSync(path.join(dir, file), text);
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    git(dir, "init", "-q", "-b", "main");
    fs.appendFileSync(path.join(dir, ".git", "info", "exclude"), "node_modules\nout/\n");
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", "base");
    return dir;
}

/** Sets `workers.count` in a stage file of the working tree (the edit a reviewer would see in a pull request). */
export function setWorkerCount(dir: string, stage: string, count: number): void {
    const file = path.join(dir, `Pulumi.${stage}.yaml`);
    const text = fs.readFileSync(file, "utf8");
    const edited = text.replace(/(coreos-platform:workers:\n(?: {4}.*\n)*? {4}count: )\d+/, `$1${count}`);
    if (edited === text) {
        throw new Error(`no workers.count in ${file}`);
    }
    fs.writeFileSync(file, edited);
}
