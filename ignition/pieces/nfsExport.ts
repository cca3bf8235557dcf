/**
 * The NFS server of stages that run their own (storage kind nfs-server). Fedora CoreOS ships only the NFS
 * client, so a first-boot unit layers nfs-utils with rpm-ostree, applied live, and then starts nfs-server; the
 * export is the data disk, which nfs-server waits for through a drop-in.
 */
import { NodeConfigPart } from "../builder";
import { unitFile } from "../systemd";

/** The first-boot unit that layers nfs-utils (the network wait guards it: it downloads packages). */
export const NFS_LAYER_UNIT = "layer-nfs-utils.service";

/** /etc/exports, the layering unit and nfs-server's drop-in for the export's disk. */
export function nfsExport(exportDir: string, exportCidrs: readonly string[]): NodeConfigPart {
    if (exportCidrs.length === 0) throw new Error("Ignition input: nfsServer.exportCidrs is empty; no node could mount the export");
    // no_root_squash: the provisioner creates a directory per volume as root and chowns it for the pod.
    const clients = exportCidrs.map((cidr) => `${cidr}(rw,sync,no_subtree_check,no_root_squash)`);
    return {
        // The image's `setup` package ships an empty /etc/exports.
        files: [{ path: "/etc/exports", contents: `${exportDir} ${clients.join(" ")}\n`, overwrite: true }],
        units: [
            {
                name: NFS_LAYER_UNIT,
                enabled: true,
                contents: unitFile({
                    Unit: {
                        Description: "Layer nfs-utils and start the NFS server",
                        Wants: "network-online.target",
                        After: "network-online.target",
                        // Once layered, nfs-server is enabled and starts by itself on later boots.
                        ConditionPathExists: "!/usr/lib/systemd/system/nfs-server.service",
                    },
                    Service: {
                        Type: "oneshot",
                        RemainAfterExit: "yes",
                        ExecStart: [
                            "/usr/bin/rpm-ostree install --idempotent --apply-live --allow-inactive nfs-utils",
                            "/usr/bin/systemctl daemon-reload",
                            "/usr/bin/systemctl enable --now --no-block nfs-server.service",
                        ],
                        // The package mirrors are reached through the NAT gateway, which may come up late.
                        Restart: "on-failure",
                        RestartSec: "30",
                    },
                    Install: { WantedBy: "multi-user.target" },
                }),
            },
            {
                name: "nfs-server.service",
                dropins: [{ name: "10-export-disk.conf", contents: unitFile({ Unit: { RequiresMountsFor: exportDir } }) }],
            },
        ],
    };
}
