/**
 * The NFS server of stages that run their own (storage kind nfs-server). Fedora CoreOS ships only an NFS client
 * package (nfs-utils-coreos, which conflicts with nfs-utils: fedora-coreos-tracker #2116; nfs-client-utils from
 * Fedora 44), so a first-boot unit layers the full nfs-utils with rpm-ostree and reboots into it. nfs-server is
 * enabled by a link Ignition writes ahead of time (dangling until the package arrives), and it waits for the
 * export's disk through a drop-in. The export list (/etc/exports) is not here: Ignition runs once, and the list must
 * follow the config, so it is delivered over SSH (controlplane/files.ts `nfsExportFiles`).
 */
import { NFS_SQUASH_ID } from "../../layout/cluster";
import { BootFile, NodeConfigPart } from "../builder";
import { unitFile } from "../systemd";

/** The first-boot unit that layers nfs-utils (the network wait guards it: it downloads packages). */
export const NFS_LAYER_UNIT = "layer-nfs-utils.service";

/** Replaces the client-only package where the image has it, else installs; then reboots into the new deployment. */
const LAYER_NFS_UTILS =
    "/bin/sh -c 'if rpm -q nfs-utils-coreos >/dev/null 2>&1; " +
    "then rpm-ostree override remove nfs-utils-coreos --install nfs-utils; " +
    "else rpm-ostree install --idempotent --allow-inactive nfs-utils; fi'";

/**
 * Fedora's release and updates repositories at the given mirrors (tried in order: dnf takes several base URLs),
 * replacing the image's, which find their mirrors through Fedora's metalink on the internet. The image's keys
 * still check every package.
 */
function fedoraRepositories(mirrors: readonly string[]): BootFile[] {
    const repo = (id: string, name: string, path: string) =>
        [
            `[${id}]`,
            `name=Fedora $releasever - $basearch${name}`,
            `baseurl=${mirrors.map((m) => `${m}/${path}`).join(" ")}`,
            "enabled=1",
            "gpgcheck=1",
            "gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-fedora-$releasever-$basearch",
        ].join("\n") + "\n";
    return [
        {
            path: "/etc/yum.repos.d/fedora.repo",
            contents: repo("fedora", "", "releases/$releasever/Everything/$basearch/os/"),
            overwrite: true,
        },
        {
            path: "/etc/yum.repos.d/fedora-updates.repo",
            contents: repo("updates", " - Updates", "updates/$releasever/Everything/$basearch/"),
            overwrite: true,
        },
    ];
}

/**
 * The layering unit, nfs-server's enablement and its drop-in for the export's disk; with Fedora mirrors, the
 * repositories the layering reads.
 */
export function nfsExport(exportDir: string, fedoraMirrors?: readonly string[]): NodeConfigPart {
    return {
        ...(fedoraMirrors ? { files: fedoraRepositories(fedoraMirrors) } : {}),
        // nfs-server.service exists only after the reboot into the layered deployment; this enables it for that boot.
        links: [
            {
                path: "/etc/systemd/system/multi-user.target.wants/nfs-server.service",
                target: "/usr/lib/systemd/system/nfs-server.service",
            },
        ],
        units: [
            {
                name: NFS_LAYER_UNIT,
                enabled: true,
                contents: unitFile({
                    Unit: {
                        Description: "Layer nfs-utils and reboot into it",
                        Wants: "network-online.target",
                        After: "network-online.target",
                        // Once layered, nfs-server is there and starts by itself (the link above).
                        ConditionPathExists: "!/usr/lib/systemd/system/nfs-server.service",
                        StartLimitIntervalSec: "0",
                    },
                    Service: {
                        Type: "oneshot",
                        ExecStart: [LAYER_NFS_UTILS, "/usr/bin/systemctl reboot"],
                        TimeoutStartSec: "30min",
                        // The package mirrors are reached through the NAT gateway, which may come up late.
                        Restart: "on-failure",
                        RestartSec: "30",
                    },
                    Install: { WantedBy: "multi-user.target" },
                }),
            },
            {
                name: "nfs-server.service",
                dropins: [
                    {
                        name: "10-export-disk.conf",
                        contents: unitFile({
                            Unit: { RequiresMountsFor: exportDir },
                            // The export's root belongs to the squashed identity, so the provisioner can make directories in it.
                            Service: { ExecStartPre: `/usr/bin/chown ${NFS_SQUASH_ID}:${NFS_SQUASH_ID} ${exportDir}` },
                        }),
                    },
                ],
            },
        ],
    };
}
