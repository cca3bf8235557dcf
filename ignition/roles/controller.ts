/**
 * A controller: a Kubernetes node that also holds an etcd member on its own disk and runs the control plane as
 * static pods (their manifests and keys arrive over SSH). Its kubelet registers with the controller label and
 * a NoSchedule taint, so ordinary pods stay off it.
 */
import { renderIgnitionConfig } from "../builder";
import { ControllerIgnitionInput } from "../input";
import { nodePaths, nodeUnits } from "../../layout/node";
import { containerRuntime } from "../pieces/containerRuntime";
import { dataDisk } from "../pieces/dataDisk";
import { etcdMember } from "../pieces/etcdMember";
import { kubernetesHostNetwork, waitForNetwork } from "../pieces/hostNetwork";
import { coreUser, hostIdentity } from "../pieces/identity";
import { KUBELET_UNITS, kubelet } from "../pieces/kubelet";
import { osUpdates } from "../pieces/osUpdates";
import { timeSync } from "../pieces/timeSync";
import { CONTROLLER_TAINT_KEY, NODE_ROLE_LABELS } from "../../layout/roles";
import { networkProbeHost } from "./inputSections";

/** The label every controller registers with (the cluster's workloads select and tolerate these: layout/roles.ts). */
export const CONTROLLER_LABELS: Readonly<Record<string, string>> = { [NODE_ROLE_LABELS.controller]: "true" };
/** The taint that keeps ordinary pods off controllers. */
export const CONTROLLER_TAINTS = [{ key: CONTROLLER_TAINT_KEY, effect: "NoSchedule" }] as const;

/** A controller's Ignition config. */
export function renderControllerIgnition(input: ControllerIgnitionInput): string {
    const { kubernetes, etcd } = input;
    return renderIgnitionConfig([
        coreUser(input.sshAuthorizedKeys),
        hostIdentity(input.hostname, input.hosts),
        timeSync(input.ntpServers),
        kubernetesHostNetwork(),
        waitForNetwork(networkProbeHost(input), [...KUBELET_UNITS, nodeUnits.etcd]),
        dataDisk({ diskId: etcd.dataDiskId, label: "etcd-data", mountPoint: nodePaths.etcdDataDir }),
        etcdMember(),
        containerRuntime(),
        kubelet({ hostname: input.hostname, kubernetes, roleLabels: CONTROLLER_LABELS, roleTaints: CONTROLLER_TAINTS }),
        osUpdates({ kind: "fleet_lock", fleetlockUrl: input.osUpdates.fleetlockUrl }, input.osUpdates.updateServerUrl),
    ]);
}
