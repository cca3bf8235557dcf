/**
 * Ignition configs of the platform's nodes, rendered from plain data (`NodeIgnitionInput`) to the exact bytes
 * that become ECS user data. One renderer per role, in ./roles; the pieces they share are in ./pieces.
 */
import { NodeIgnitionInput, NodeRole } from "./input";
import { renderBastionIgnition } from "./roles/bastion";
import { renderControllerIgnition } from "./roles/controller";
import { renderNfsServerIgnition } from "./roles/nfsServer";
import { renderWorkerIgnition } from "./roles/worker";

export type { HostEntry, NodeIgnitionInput, NodeRole } from "./input";
export { USER_DATA_LIMIT } from "./input";
export { ALIBABA_NTP_SERVERS } from "./pieces/timeSync";
export { renderBastionIgnition, renderControllerIgnition, renderNfsServerIgnition, renderWorkerIgnition };

const RENDERERS: Readonly<Record<NodeRole, (input: NodeIgnitionInput) => string>> = {
    bastion: renderBastionIgnition,
    controller: renderControllerIgnition,
    worker: renderWorkerIgnition,
    edge: renderWorkerIgnition,
    "nfs-server": renderNfsServerIgnition,
};

/**
 * The Ignition config (user data) of one node, by its role. Same input, same bytes. It holds no secret: keys
 * and tokens reach nodes over SSH. The size is the caller's to check against `USER_DATA_LIMIT`
 * (components/userData.ts does, naming the pool).
 */
export function renderNodeIgnition(input: NodeIgnitionInput): string {
    return RENDERERS[input.role](input);
}
