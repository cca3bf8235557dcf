/**
 * Ignition configs of the platform's nodes, rendered from plain data (`NodeIgnitionInput`) to the exact bytes
 * that become ECS user data. One renderer per role, in ./roles; the pieces they share are in ./pieces.
 */
import { NodeIgnitionInput } from "./input";
import { renderBastionIgnition } from "./roles/bastion";
import { renderControllerIgnition } from "./roles/controller";
import { renderNfsServerIgnition } from "./roles/nfsServer";
import { renderWorkerIgnition } from "./roles/worker";
import { checkRoleSections } from "./roles/inputSections";

export type * from "./input";
export { USER_DATA_LIMIT } from "./input";
export { ALIBABA_NTP_SERVERS } from "./pieces/timeSync";
export {
    NodeSettings,
    nodeSettings,
    bastionIgnitionInput,
    controllerIgnitionInput,
    workerIgnitionInput,
    nfsServerIgnitionInput,
} from "./settings";
export { renderBastionIgnition, renderControllerIgnition, renderNfsServerIgnition, renderWorkerIgnition };

/**
 * The Ignition config (user data) of one node, by its role. Same input, same bytes. It holds no secret: keys
 * and tokens reach nodes over SSH. The size is the caller's to check against `USER_DATA_LIMIT`
 * (components/userData.ts does, naming the pool).
 */
export function renderNodeIgnition(input: NodeIgnitionInput): string {
    checkRoleSections(input);
    switch (input.role) {
        case "bastion":
            return renderBastionIgnition(input);
        case "controller":
            return renderControllerIgnition(input);
        case "worker":
        case "edge":
            return renderWorkerIgnition(input);
        case "nfs-server":
            return renderNfsServerIgnition(input);
    }
}
