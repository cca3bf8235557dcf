/**
 * A worker (and an edge node, which is a worker whose pool adds ingress labels and taints): the host's network
 * settings, containerd and the kubelet. Everything else on it is scheduled by the cluster.
 */
import { renderIgnitionConfig } from "../builder";
import { WorkerIgnitionInput } from "../input";
import { containerRuntime } from "../pieces/containerRuntime";
import { kubernetesHostNetwork, waitForNetwork } from "../pieces/hostNetwork";
import { coreUser, hostIdentity } from "../pieces/identity";
import { KUBELET_UNITS, kubelet } from "../pieces/kubelet";
import { osUpdates } from "../pieces/osUpdates";
import { timeSync } from "../pieces/timeSync";
import { networkProbeHost } from "./inputSections";

/** A worker's (or edge node's) Ignition config. */
export function renderWorkerIgnition(input: WorkerIgnitionInput): string {
    const { kubernetes } = input;
    return renderIgnitionConfig([
        coreUser(input.sshAuthorizedKeys),
        hostIdentity(input.hostname, input.hosts),
        timeSync(input.ntpServers),
        kubernetesHostNetwork(),
        waitForNetwork(networkProbeHost(input), KUBELET_UNITS),
        containerRuntime(),
        kubelet({ hostname: input.hostname, kubernetes }),
        osUpdates({ kind: "fleet_lock", fleetlockUrl: input.osUpdates.fleetlockUrl }, input.osUpdates.updateServerUrl),
    ]);
}
