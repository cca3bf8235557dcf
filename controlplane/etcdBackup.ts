/**
 * etcd's backups and their restore, as the scripts a controller runs (delivered over SSH with a systemd timer, like
 * every other file a controller receives):
 *
 * - `etcd-backup`, every `intervalHours` on every controller: only the member that is the leader at that moment saves
 *   a snapshot (`etcdctl snapshot save`), checks it (`etcdutl snapshot status`) and uploads it with its sha256 to the
 *   stage's OSS bucket, through the bucket's VPC-internal S3 endpoint (AWS Signature V4, which curl signs), with the
 *   short-lived credentials of the controllers' RAM role from the ECS metadata service. The role may only put
 *   objects under the prefix; versioning keeps what it overwrites.
 * - `etcd-restore`: `list` and `fetch` a backup (with an operator's key: the role cannot read), `verify` one (its
 *   sha256, then `etcdutl snapshot status`), `restore` one into this member's data directory with the member's
 *   rendered settings (/etc/etcd/etcd.env), and `rejoin` this member to a cluster that still has a quorum.
 *   docs/operations.md, "etcd: backups and restore", says when to run which.
 *
 * etcdctl and etcdutl come from the pinned etcd image (the member's own release), run by podman with the host's
 * network and the etcd client certificate the apiserver uses.
 */
import { ETCD_CLIENT_PORT } from "../layout/cluster";
import { ETCD_BACKUP_METRICS_FILE, ETCD_BACKUP_SUCCESS_METRIC, nodePaths, nodeUnits, pkiFiles } from "../layout/node";
import { NodeFile, NodeFiles } from "./files";
import { HELPERS, prologue, shellQuote } from "./scripts";

/** Where backups go: an OSS bucket through its S3-compatible endpoint. */
export interface BackupBucket {
    readonly bucket: string;
    /** The bucket's S3 endpoint, `https://<bucket>.s3.oss-<region>-internal.aliyuncs.com` (VPC-internal). */
    readonly endpoint: string;
    /** The region id the requests are signed for (`cn-hangzhou`). */
    readonly region: string;
    /** Object keys start with it (`etcd/`); the role's policy allows exactly this prefix. */
    readonly prefix: string;
}

/** Paths the scripts use on a controller (the engine suite moves them into a scratch root). */
export interface EtcdScriptPaths {
    /** The etcd CA and a client certificate and key it signed. */
    readonly caCert: string;
    readonly clientCert: string;
    readonly clientKey: string;
    /** The member's rendered settings (ETCD_NAME, ETCD_DATA_DIR, ETCD_INITIAL_CLUSTER, ...). */
    readonly envFile: string;
    /** Scratch space for a snapshot on its way out. */
    readonly workDir: string;
    /** Where the backup records its success for node_exporter's textfile collector (the `EtcdBackupTooOld` alert). */
    readonly metricsFile: string;
}

/** A controller's paths. */
export const CONTROLLER_ETCD_PATHS: EtcdScriptPaths = {
    caCert: `${nodePaths.pkiDir}/${pkiFiles.etcdCa}`,
    clientCert: `${nodePaths.pkiDir}/${pkiFiles.etcdClient}`,
    clientKey: `${nodePaths.pkiDir}/${pkiFiles.etcdClientKey}`,
    envFile: nodePaths.etcdEnvFile,
    workDir: nodePaths.etcdBackupWorkDir,
    metricsFile: ETCD_BACKUP_METRICS_FILE,
};

/** What both scripts are rendered from. */
export interface EtcdScriptInput {
    /** The controller, as messages name it ("controller coreos-platform-prod-controller-1"). */
    readonly target: string;
    /** The etcd image (versions.ts): its etcdctl and etcdutl match the member. */
    readonly etcdImage: string;
    readonly paths: EtcdScriptPaths;
    readonly bucket: BackupBucket;
    /** The ECS metadata URL of the RAM role's credentials (`.../ram/security-credentials/<role>`). */
    readonly credentialsUrl: string;
}

const LOCAL_ENDPOINT = `https://127.0.0.1:${ETCD_CLIENT_PORT}`;

/** Shell functions both scripts share: etcdctl/etcdutl in the etcd image, and signed S3 requests with curl. */
function etcdTools(input: EtcdScriptInput): string {
    const p = input.paths;
    return `image=${shellQuote(input.etcdImage)}
cacert=${shellQuote(p.caCert)}
cert=${shellQuote(p.clientCert)}
key=${shellQuote(p.clientKey)}
env_file=${shellQuote(p.envFile)}
work=${shellQuote(p.workDir)}
metrics=${shellQuote(p.metricsFile)}
endpoint=${shellQuote(input.bucket.endpoint)}
region=${shellQuote(input.bucket.region)}
prefix=${shellQuote(input.bucket.prefix)}
# The etcd image's tools, with this host's network and files (same paths inside; no SELinux relabelling, which
# would take etcd's own files away from its container).
in_etcd_image() {
    local volumes=(-v "$(dirname -- "$cacert"):$(dirname -- "$cacert"):ro" -v "\${work}:\${work}")
    if [ -n "\${data_mount:-}" ]; then volumes+=(-v "\${data_mount}:\${data_mount}"); fi
    timeout 600 podman run --rm --network host --security-opt label=disable "\${volumes[@]}" "$image" "$@"
}
etcdctl_at() {
    local endpoints=$1
    shift
    in_etcd_image etcdctl --endpoints="$endpoints" --cacert="$cacert" --cert="$cert" --key="$key" --command-timeout=60s "$@"
}
etcdutl() {
    in_etcd_image etcdutl "$@"
}
# One S3 request to the bucket, signed (AWS Signature V4) with the credentials given on stdin as a curl config, so
# that no key shows on a command line. $1 is the payload's sha256, which S3 wants signed and sent.
s3() {
    local payload=$1
    shift
    curl --silent --show-error --fail --max-time 900 --config - --aws-sigv4 "aws:amz:\${region}:s3" \\
        -H "x-amz-content-sha256: \${payload}" "$@"
}
no_payload=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
sha256_of() {
    sha256sum -- "$1" | cut -d' ' -f1
}
s3_credentials() {
    printf 'user = "%s:%s"\\n' "$1" "$2"
    if [ -n "\${3:-}" ]; then printf 'header = "x-amz-security-token: %s"\\n' "$3"; fi
}
env_value() {
    sed -n "s/^$1=//p" "$env_file" | tail -n 1
}
snapshot_checked() {
    local file=$1
    [ -f "$file" ] || fail "no snapshot at $file"
    [ -f "$file.sha256" ] || fail "no checksum at $file.sha256 (fetch the snapshot with its .sha256)"
    (cd "$(dirname -- "$file")" && sha256sum --check --status -- "$(basename -- "$file").sha256") ||
        fail "$file does not match its sha256: the snapshot is damaged; take another backup"
    etcdutl snapshot status "$file" --write-out=table ||
        fail "etcdutl snapshot status refused $file: it is not a readable etcd snapshot"
}`;
}

/** The scheduled backup of one controller (runs as root from etcd-backup.service). */
export function renderEtcdBackupScript(input: EtcdScriptInput): string {
    return `#!/bin/bash
# etcd backup from ${input.target}: the leader snapshots, checks and uploads; the other members do nothing.
${HELPERS}
${etcdTools(input)}
main() {
${prologue(`etcd backup on ${input.target}`)}
credentials_url=${shellQuote(input.credentialsUrl)}
step="endpoint status"
status=$(etcdctl_at ${LOCAL_ENDPOINT} endpoint status --write-out=fields)
member=$(printf '%s\\n' "$status" | sed -n 's/^"MemberID" : //p')
leader=$(printf '%s\\n' "$status" | sed -n 's/^"Leader" : //p')
revision=$(printf '%s\\n' "$status" | sed -n 's/^"Revision" : //p')
[ -n "$member" ] && [ -n "$leader" ] || fail "etcd gave no member or leader id; is the member healthy? (etcdctl endpoint health)"
if [ "$member" != "$leader" ]; then
    echo "\${what}: this member is not the leader; the leader takes the backup"
    return 0
fi
mkdir -p -- "$work"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
name="\${stamp}-$(env_value ETCD_NAME)-rev\${revision}.db"
file="\${work}/\${name}"
trap 'rm -f -- "$file" "$file.sha256"' EXIT
step="snapshot save"
etcdctl_at ${LOCAL_ENDPOINT} snapshot save "$file" >/dev/null
step="snapshot status"
etcdutl snapshot status "$file" --write-out=table
(cd "$work" && sha256sum -- "$name" > "$name.sha256")
step="credentials"
credentials=$(retry 5 5 curl --silent --show-error --fail --max-time 10 -- "$credentials_url") ||
    fail "no credentials from the metadata service at \${credentials_url} (is the RAM role attached to this instance?)"
access_key=$(jq -r .AccessKeyId <<<"$credentials")
secret_key=$(jq -r .AccessKeySecret <<<"$credentials")
token=$(jq -r .SecurityToken <<<"$credentials")
for object in "$name" "$name.sha256"; do
    step="upload \${prefix}\${object}"
    s3_credentials "$access_key" "$secret_key" "$token" |
        s3 "$(sha256_of "\${work}/\${object}")" --upload-file "\${work}/\${object}" -- "\${endpoint}/\${prefix}\${object}" >/dev/null ||
        fail "the upload of \${prefix}\${object} was refused (the role may only put objects under \${prefix}, from the stage's VPC)"
done
step="record the backup in \${metrics}"
mkdir -p -- "$(dirname -- "$metrics")"
printf '# HELP %s %s\\n# TYPE %s gauge\\n%s %s\\n' ${ETCD_BACKUP_SUCCESS_METRIC} 'Unix time of the last etcd backup written and uploaded.' \\
    ${ETCD_BACKUP_SUCCESS_METRIC} ${ETCD_BACKUP_SUCCESS_METRIC} "$(date +%s)" > "\${metrics}.tmp"
mv -f -- "\${metrics}.tmp" "$metrics"
step=done
echo "\${what}: uploaded \${prefix}\${name} (revision \${revision}, $(stat -c %s -- "$file") bytes)"
}
main "$@"
`;
}

/** The restore tool on every controller (run by an operator, as root, with etcd stopped where it says so). */
export function renderEtcdRestoreScript(input: EtcdScriptInput): string {
    return `#!/bin/bash
# etcd restore on ${input.target}. Usage (docs/operations.md, "etcd: backups and restore"):
#   etcd-restore list                      the backups in the bucket, newest last (needs OSS_ACCESS_KEY_ID/_SECRET)
#   etcd-restore fetch <object> <dir>      download a backup and its .sha256 into <dir> (same credentials)
#   etcd-restore verify <file>             check its sha256 and that etcdutl can read it
#   etcd-restore restore <file>            etcd stopped: replace this member's data with the snapshot
#   etcd-restore rejoin                    etcd stopped, quorum elsewhere: re-add this member with empty data
${HELPERS}
${etcdTools(input)}
operator_credentials() {
    [ -n "\${OSS_ACCESS_KEY_ID:-}" ] && [ -n "\${OSS_ACCESS_KEY_SECRET:-}" ] ||
        fail "set OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET (a RAM user allowed to read the bucket; the controllers' role can only write)"
    s3_credentials "$OSS_ACCESS_KEY_ID" "$OSS_ACCESS_KEY_SECRET" "\${OSS_SESSION_TOKEN:-}"
}
etcd_running() {
    (exec 3<>/dev/tcp/127.0.0.1/${ETCD_CLIENT_PORT}) 2>/dev/null
}
stopped_first() {
    if etcd_running; then
        fail "etcd still answers on 127.0.0.1:${ETCD_CLIENT_PORT}: stop it first (systemctl stop ${nodeUnits.etcdPath} ${nodeUnits.etcd})"
    fi
}
member_settings() {
    name=$(env_value ETCD_NAME)
    data=$(env_value ETCD_DATA_DIR)
    cluster=$(env_value ETCD_INITIAL_CLUSTER)
    peer_urls=$(env_value ETCD_INITIAL_ADVERTISE_PEER_URLS)
    [ -n "$name" ] && [ -n "$data" ] && [ -n "$cluster" ] && [ -n "$peer_urls" ] ||
        fail "$env_file lacks ETCD_NAME, ETCD_DATA_DIR, ETCD_INITIAL_CLUSTER or ETCD_INITIAL_ADVERTISE_PEER_URLS"
    data_mount=$data
}
# Moves the member's data aside (never deletes it): the disk keeps it until someone removes it by hand.
set_aside() {
    if [ -d "$data/member" ]; then
        aside="$data/member.before-$1-$(date -u +%Y%m%dT%H%M%SZ)"
        mv -- "$data/member" "$aside"
        echo "\${what}: the old data is in \${aside}"
    fi
}
cmd_list() {
    step="list \${prefix}"
    operator_credentials | s3 "$no_payload" -- "\${endpoint}/?list-type=2&prefix=\${prefix//\\//%2F}" |
        grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g' | grep '\\.db$' | sort
}
cmd_fetch() {
    local object=$1 dir=$2
    mkdir -p -- "$dir"
    for suffix in "" .sha256; do
        step="fetch \${object}\${suffix}"
        operator_credentials | s3 "$no_payload" --output "\${dir}/$(basename -- "$object")\${suffix}" -- "\${endpoint}/\${object}\${suffix}"
    done
    echo "\${what}: fetched \${dir}/$(basename -- "$object")"
}
cmd_verify() {
    step="verify $1"
    work=$(cd "$(dirname -- "$1")" && pwd)
    snapshot_checked "$1"
    echo "\${what}: $1 is intact"
}
cmd_restore() {
    local file=$1
    step="verify \${file}"
    work=$(cd "$(dirname -- "$file")" && pwd)
    snapshot_checked "$file"
    step="etcd stopped"
    stopped_first
    member_settings
    step="restore into \${data}"
    rm -rf -- "$data/restore.tmp"
    # A restored cluster's revision jumps ahead and is marked compacted, so that every watcher (kube-apiserver's caches)
    # lists again instead of missing what happened after the snapshot.
    etcdutl snapshot restore "$file" --name "$name" --initial-cluster "$cluster" \\
        --initial-advertise-peer-urls "$peer_urls" --data-dir "$data/restore.tmp" \\
        --bump-revision 1000000000 --mark-compacted || {
        rm -rf -- "$data/restore.tmp"
        fail "etcdutl refused to restore $file (its message is above); this member's data is untouched"
    }
    set_aside restore
    mv -- "$data/restore.tmp/member" "$data/member"
    rmdir -- "$data/restore.tmp"
    step=done
    echo "\${what}: member \${name} restored from $(basename -- "$file"); start etcd: systemctl start ${nodeUnits.etcd} ${nodeUnits.etcdPath}"
}
cmd_rejoin() {
    step="etcd stopped"
    stopped_first
    member_settings
    # The other members' client URLs, by the names /etc/hosts resolves on every controller.
    others=
    for entry in \${cluster//,/ }; do
        [ "\${entry%%=*}" = "$name" ] && continue
        host=\${entry#*=https://}
        others="\${others:+\${others},}https://\${host%%:*}:${ETCD_CLIENT_PORT}"
    done
    step="member list on \${others}"
    members=$(etcdctl_at "$others" member list --write-out=simple)
    old=$(printf '%s\\n' "$members" | awk -F', ' -v n="$name" '$3 == n { print $1 }')
    if [ -n "$old" ]; then
        step="member remove \${old}"
        etcdctl_at "$others" member remove "$old"
    fi
    step="member add \${name}"
    # etcd refuses a member change ("unhealthy cluster") until the remaining members have been connected for 5 s: right
    # after the removal, or after a peer link flapped on a loaded host. Nothing was changed then; ask again.
    for attempt in 1 2 3 4 5 6 7 8 9 10 11 12; do
        if added=$(etcdctl_at "$others" member add "$name" --peer-urls="$peer_urls" 2>&1); then
            break
        fi
        case "$added" in
        *"unhealthy cluster"*) [ "$attempt" -lt 12 ] || fail "the other members stayed unhealthy for a minute: $added"; sleep 5 ;;
        *) fail "member add refused: $added" ;;
        esac
    done
    printf '%s\\n' "$added"
    set_aside rejoin
    # It joins a running cluster: with an empty data directory etcd must be told so (ignored once it has data).
    step="write ETCD_INITIAL_CLUSTER_STATE=existing"
    sed -i '/^ETCD_INITIAL_CLUSTER_STATE=/d' "$env_file"
    echo "ETCD_INITIAL_CLUSTER_STATE=existing" >> "$env_file"
    step=done
    echo "\${what}: member \${name} re-added; start etcd: systemctl start ${nodeUnits.etcd} ${nodeUnits.etcdPath}"
}
main() {
${prologue(`etcd restore on ${input.target}`)}
case "\${1:-}" in
list) cmd_list ;;
fetch) [ $# -eq 3 ] || fail "usage: etcd-restore fetch <object> <dir>"; cmd_fetch "$2" "$3" ;;
verify) [ $# -eq 2 ] || fail "usage: etcd-restore verify <file>"; cmd_verify "$2" ;;
restore) [ $# -eq 2 ] || fail "usage: etcd-restore restore <file>"; cmd_restore "$2" ;;
rejoin) [ $# -eq 1 ] || fail "usage: etcd-restore rejoin"; cmd_rejoin ;;
*) fail "usage: etcd-restore list | fetch <object> <dir> | verify <file> | restore <file> | rejoin" ;;
esac
}
main "$@"
`;
}

/** The schedule of the backup: every `intervalHours`, at the same hours every day, with a little jitter. */
export function backupTimerCalendar(intervalHours: number): string {
    return intervalHours === 24 ? "*-*-* 02:30:00" : `*-*-* 00/${intervalHours}:30:00`;
}

/** What a controller receives for its backups: both scripts, the service and its timer (enabled). */
export function etcdBackupFiles(input: EtcdScriptInput, intervalHours: number): NodeFiles {
    const service = `[Unit]
Description=etcd backup to OSS (the leader's snapshot; the other members do nothing)
Wants=network-online.target
After=network-online.target ${nodeUnits.etcd}

[Service]
Type=oneshot
ExecStart=${nodePaths.etcdBackupScript}
TimeoutStartSec=30min
`;
    const timer = `[Unit]
Description=etcd backup every ${intervalHours} hours

[Timer]
OnCalendar=${backupTimerCalendar(intervalHours)}
RandomizedDelaySec=5min
Persistent=true

[Install]
WantedBy=timers.target
`;
    const file = (path: string, content: string, mode: NodeFile["mode"] = "0644"): NodeFile => ({
        path,
        mode,
        content,
        containerReadable: false,
    });
    return {
        files: [
            file(nodePaths.etcdBackupScript, renderEtcdBackupScript(input), "0700"),
            file(nodePaths.etcdRestoreScript, renderEtcdRestoreScript(input), "0700"),
            file(`/etc/systemd/system/${nodeUnits.etcdBackup}`, service),
            file(`/etc/systemd/system/${nodeUnits.etcdBackupTimer}`, timer),
        ],
        enable: [nodeUnits.etcdBackupTimer],
    };
}
