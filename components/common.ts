/**
 * What every component shares: the naming rule and the tags that mark a resource as this stage's.
 */

/** Names and tags of one stage, handed to every component instead of the whole config. */
export interface StageIdentity {
    /** `<project>-<stage>`: the start of every physical name. */
    readonly namePrefix: string;
    /** Tags every taggable resource carries. */
    readonly tags: Readonly<Record<string, string>>;
}

/** The identity of a stage (`coreos-platform`, `dev`). */
export function stageIdentity(project: string, stage: string): StageIdentity {
    return {
        namePrefix: `${project}-${stage}`,
        tags: { project, stage, "managed-by": "pulumi" },
    };
}

/** A physical name: project, stage, then the parts ("coreos-platform-dev-nodes-cn-hangzhou-i"). */
export function physicalName(id: StageIdentity, ...parts: (string | number)[]): string {
    return [id.namePrefix, ...parts].join("-");
}
