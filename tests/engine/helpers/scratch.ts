/**
 * What every engine test file starts with and cleans up: a scratch directory, its processes' logs, the stage's
 * render and a VPC of network namespaces for its nodes.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { cidr } from "../../../config/cidr";
import { tearDown } from "./node";
import { Processes } from "./processes";
import { RenderedStage, renderStage } from "./render";
import { Vpc } from "./vpc";

/** One test file's scratch space for a stage. */
export interface StageScratch {
    readonly work: string;
    readonly processes: Processes;
    readonly rendered: RenderedStage;
    readonly vpc: Vpc;
    /** Directories removed (after unmounting what is mounted below them) by `cleanUp`, newest first. */
    readonly cleanup: string[];
}

/**
 * Renders `stage` into a new scratch directory and makes its VPC. `tag` (a letter) keeps the namespace and link
 * names of two test files apart (interface names are limited to 15 characters).
 */
export function stageScratch(stage: string, purpose: string, tag: string): StageScratch {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `engine-${purpose}-${stage}-`));
    const cleanup = [work];
    const processes = new Processes(path.join(work, "logs"));
    const rendered = renderStage(stage, work);
    const vpc = new Vpc(`${tag}${stage.slice(0, 3)}${process.pid % 1000}`, cidr(rendered.cfg.network.vpcCidr).prefix);
    return { work, processes, rendered, vpc, cleanup };
}

/** Stops every process, removes the VPC and the scratch directories; what was never made is skipped. */
export async function cleanUp(scratch: StageScratch | undefined): Promise<void> {
    if (!scratch) return;
    await tearDown(scratch.processes, scratch.vpc, scratch.cleanup);
}
