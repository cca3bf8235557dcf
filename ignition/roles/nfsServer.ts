/**
 * The NFS server of stages that do not use Alibaba NAS: a data disk exported to the node vSwitches, served by
 * nfs-utils layered on first boot. Not a Kubernetes node; it reboots for updates in the weekly window.
 */
import { renderIgnitionConfig } from "../builder";
import { NfsServerIgnitionInput } from "../input";
import { nodePaths } from "../../layout/node";
import { dataDisk } from "../pieces/dataDisk";
import { waitForNetwork } from "../pieces/hostNetwork";
import { coreUser, hostIdentity } from "../pieces/identity";
import { NFS_LAYER_UNIT, nfsExport } from "../pieces/nfsExport";
import { osUpdates } from "../pieces/osUpdates";
import { timeSync } from "../pieces/timeSync";
import { networkProbeHost } from "./inputSections";

/** The NFS server's Ignition config. */
export function renderNfsServerIgnition(input: NfsServerIgnitionInput): string {
    const { nfsServer } = input;
    return renderIgnitionConfig([
        coreUser(input.sshAuthorizedKeys),
        hostIdentity(input.hostname, input.hosts),
        timeSync(input.ntpServers),
        // Layering downloads packages: the same wait for networking and DNS as the kubelet's.
        waitForNetwork(networkProbeHost(input), [NFS_LAYER_UNIT]),
        dataDisk({ diskId: nfsServer.dataDiskId, label: "nfs-data", mountPoint: nodePaths.nfsExportDir }),
        nfsExport(nodePaths.nfsExportDir, nfsServer.fedoraMirrors),
        osUpdates({ kind: "weekly_window" }, input.osUpdates.updateServerUrl),
    ]);
}
