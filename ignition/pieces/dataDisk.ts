/**
 * A cloud data disk (etcd's, the NFS export's) mounted where its service keeps state. Pulumi attaches the disk
 * after the instance exists, so a unit waits for it (bounded), gives it an xfs filesystem only if `blkid -p`
 * finds no signature at all (a disk with data, or restored from a snapshot, is never wiped) and a mount unit
 * mounts it by label. Services pull the mount in with `RequiresMountsFor=`.
 */
import { NODE_SETUP, NodeConfigPart } from "../builder";
import { mountUnitName, unitFile } from "../systemd";

/** 120 x 5 s: attaching a disk usually takes seconds, but Pulumi attaches it only after the instance is up. */
const DISK_WAIT_ATTEMPTS = 120;
const DISK_WAIT_INTERVAL_SECONDS = 5;
/** xfs labels are at most 12 characters. */
const XFS_LABEL_MAX = 12;

/** One data disk and where it is mounted. */
export interface DataDisk {
    /** The Alibaba disk id, `d-...`. */
    readonly diskId: string;
    /** The filesystem label, which is also how the mount unit finds the disk (e.g. `etcd-data`). */
    readonly label: string;
    readonly mountPoint: string;
}

/**
 * The serial under which the disk appears in /dev/disk/by-id (virtio-<serial> or nvme-...<serial>): the id without
 * its `d-` prefix. It goes into a command line and a glob, so only letters, digits, '-' and '_' pass.
 */
export function diskSerial(diskId: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(diskId)) throw new Error(`Ignition input: ${diskId} is not a disk id (d-... on Alibaba Cloud)`);
    return diskId.replace(/^d-/, "");
}

/** The prepare unit, its script and the mount unit of one data disk. */
export function dataDisk(disk: DataDisk): NodeConfigPart {
    if (!/^[a-z0-9-]+$/.test(disk.label) || disk.label.length > XFS_LABEL_MAX) {
        throw new Error(`data disk label ${disk.label}: use at most ${XFS_LABEL_MAX} of a-z, 0-9 and '-' (an xfs label)`);
    }
    const prepareUnit = `prepare-${disk.label}.service`;
    const step = {
        name: "prepare-data-disk",
        usage: "SERIAL LABEL",
        body: [
            'local disk="" link status=0',
            `for _ in $(seq ${DISK_WAIT_ATTEMPTS}); do`,
            '  for link in /dev/disk/by-id/*"$1"; do if [ -b "$link" ]; then disk=$(readlink -f "$link"); fi; done',
            '  if [ -n "$disk" ]; then break; fi',
            `  sleep ${DISK_WAIT_INTERVAL_SECONDS}`,
            "done",
            `if [ -z "$disk" ]; then echo "disk $1 not attached after ${DISK_WAIT_ATTEMPTS * DISK_WAIT_INTERVAL_SECONDS} seconds" >&2; return 1; fi`,
            // blkid -p probes the device itself: 0 = a filesystem or partition table, 2 = nothing at all, else an error.
            'blkid -p "$disk" >/dev/null || status=$?',
            "case $status in",
            '  0) echo "$disk already holds data; mounting it as it is" ;;',
            '  2) mkfs.xfs -L "$2" "$disk" && udevadm settle ;;',
            '  *) echo "blkid -p $disk failed ($status); leaving the disk alone" >&2; return 1 ;;',
            "esac",
        ],
    };
    return {
        steps: [step],
        units: [
            {
                name: prepareUnit,
                contents: unitFile({
                    Unit: { Description: `Prepare data disk ${disk.diskId}` },
                    Service: {
                        Type: "oneshot",
                        RemainAfterExit: "yes",
                        ExecStart: `${NODE_SETUP} ${step.name} ${diskSerial(disk.diskId)} ${disk.label}`,
                    },
                }),
            },
            {
                name: mountUnitName(disk.mountPoint),
                contents: unitFile({
                    Unit: { Description: `Data disk ${disk.diskId}`, Requires: prepareUnit, After: prepareUnit },
                    Mount: {
                        What: `/dev/disk/by-label/${disk.label}`,
                        Where: disk.mountPoint,
                        Type: "xfs",
                        // nofail keeps the mount out of local-fs.target: booting must not wait for a late disk,
                        // and local-fs.target comes before the prepare unit (an ordering cycle otherwise).
                        Options: "nofail,noatime",
                    },
                }),
            },
        ],
    };
}
