/**
 * The shell scripts that `@pulumi/command` runs over SSH through the bastion, all of them: the file installer
 * (every file any node receives: a controller's, a worker's join, every node's team keys), the one-shot bootstrap
 * and the readiness wait. Each one is fed on stdin to `bash -s` (so secrets never appear on a command line, in a
 * process list or in Pulumi's logs), is bounded in time, and fails with a message that names the host and the step.
 *
 * Every script is wrapped in a `main` function that is called on its last line: bash reads the whole function
 * before running it, so nothing inside can swallow the rest of the script from stdin.
 */
import { NodeFiles, shortHash } from "./files";

/** Quotes a value for bash (single quotes; an embedded quote becomes '\''). */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

const HEREDOC_END = "PLATFORM_EOF";

/** A base64 heredoc: survives any content (no delimiter clash, exact bytes, no trailing-newline games). */
function heredoc(content: string): string {
    return `<<'${HEREDOC_END}'\n${Buffer.from(content).toString("base64")}\n${HEREDOC_END}`;
}

const HELPERS = `retry() {
    local attempts=$1 delay=$2 i
    shift 2
    for ((i = 1; ; i++)); do
        if "$@"; then return 0; fi
        if ((i >= attempts)); then return 1; fi
        sleep "$delay"
    done
}
fail() {
    echo "\${what}: step \\"\${step}\\": $*" >&2
    exit 1
}`;

function prologue(what: string): string {
    return [
        "set -Eeuo pipefail",
        "umask 077",
        `what=${shellQuote(what)}`,
        "step=start",
        `trap 'echo "\${what}: step \\"\${step}\\" failed (line \${LINENO})" >&2' ERR`,
    ].join("\n");
}

/** What `renderInstallScript` installs, and on which host (for messages). */
export interface InstallScriptInput extends NodeFiles {
    /** Who the files are for, as messages name it ("controller coreos-platform-dev-controller-0"). */
    readonly target: string;
}

/**
 * Installs files atomically (temporary file in the same directory, given its mode and owner, then rename), so a
 * `.path` unit (or sshd) never sees half a file. A file whose content, mode and owner are already right is left
 * alone, so a re-run changes nothing and restarts nothing. Temporary files start with a dot: the kubelet ignores
 * those in its static pod directory. Directories listed first are created or given their owner and mode.
 */
export function renderInstallScript(input: InstallScriptInput): string {
    const directories = (input.directories ?? []).map(
        (d) => `step=${shellQuote(`directory ${d.path}`)}\ninstall_dir ${shellQuote(d.path)} ${d.mode} ${shellQuote(d.owner)}`,
    );
    const install = input.files.map(
        (f) =>
            `step=${shellQuote(`install ${f.path}`)}\ninstall_file ${shellQuote(f.path)} ${f.mode} ${f.containerReadable ? "container" : "host"} ${f.restarts ?? "-"} ${shellQuote(f.owner ?? "-")} ${heredoc(f.content)}`,
    );
    return `#!/bin/bash
# Installs ${input.files.length} files on ${input.target}.
${HELPERS}
selinux_enforcing() {
    command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled
}
install_dir() {
    install -d -m "$2" -o "\${3%%:*}" -g "\${3#*:}" -- "$1"
}
owned_by() {
    [ "$2" = - ] || [ "$(stat -c %U:%G -- "$1")" = "$2" ]
}
install_file() {
    local path=$1 mode=$2 label=$3 restart=$4 owner=$5 dir tmp
    dir=$(dirname -- "$path")
    mkdir -p -- "$dir"
    tmp=$(mktemp -- "\${dir}/.install.XXXXXX")
    base64 -d > "$tmp"
    chmod "$mode" "$tmp"
    if [ "$owner" != - ]; then
        chown -- "$owner" "$tmp"
    fi
    # Static pods read their files through hostPath volumes, which SELinux only allows for container_file_t.
    if [ "$label" = container ] && selinux_enforcing; then
        chcon -u system_u -t container_file_t "$tmp"
    fi
    if [ -f "$path" ] && cmp -s -- "$tmp" "$path" && [ "$(stat -c %a -- "$path")" = "\${mode#0}" ] && owned_by "$path" "$owner"; then
        rm -f -- "$tmp"
    else
        mv -f -- "$tmp" "$path"
        changed=$((changed + 1))
        echo "installed \${path}"
        if [ "$restart" != - ]; then
            restarts="\${restarts} \${restart}"
        fi
    fi
}
main() {
${prologue(input.target)}
changed=0
restarts=
${[...directories, ...install].join("\n")}
${(input.services ?? []).length > 0 ? "step=daemon-reload\nsystemctl daemon-reload" : ""}
for unit in $(printf '%s\n' $restarts | sort -u); do
    step="restart \${unit}"
    systemctl try-restart "$unit"
    echo "restarted \${unit}"
done
${(input.services ?? []).map((u) => `step=${shellQuote(`start ${u}`)}\nsystemctl enable --now ${shellQuote(u)}`).join("\n")}
step=done
echo "\${what}: \${changed} of ${input.files.length} files changed"
}
main
`;
}

/** How long the bootstrap waits; the defaults suit a cluster, tests shorten them. */
export interface BootstrapTiming {
    /** Attempts to pull the kubectl image, 15 s apart. Defaults to 10. */
    readonly pullAttempts: number;
    /** Attempts to reach the local apiserver's /healthz. Defaults to 120 (20 minutes with the delay). */
    readonly apiAttempts: number;
    /** Attempts to apply the manifests. Defaults to 10. */
    readonly applyAttempts: number;
    /** Seconds between attempts (except pulls). Defaults to 10. */
    readonly delaySeconds: number;
}

export const DEFAULT_BOOTSTRAP_TIMING: BootstrapTiming = { pullAttempts: 10, apiAttempts: 120, applyAttempts: 10, delaySeconds: 10 };

/** What the one-shot bootstrap needs. */
export interface BootstrapScriptInput {
    /** The controller it runs on, as messages name it. */
    readonly target: string;
    /** The objects to apply (`renderBootstrapManifests`); secret. */
    readonly manifests: string;
    /** Marker file: holds the revision of the last successful bootstrap. */
    readonly markerPath: string;
    /** Admin kubeconfig on the controller (server = the local apiserver). */
    readonly adminKubeconfigPath: string;
    /** The kubectl image, run with podman. */
    readonly kubectlImage: string;
    readonly timing?: BootstrapTiming;
}

/**
 * The one-shot bootstrap on the first controller: wait for the local apiserver, then apply the bootstrap objects
 * once. The marker holds a hash of the objects, so a re-run with the same objects is a no-op, and changed
 * objects (a new token) are applied once more.
 */
export function renderBootstrapScript(input: BootstrapScriptInput): string {
    const t = input.timing ?? DEFAULT_BOOTSTRAP_TIMING;
    const revision = shortHash(input.manifests);
    const apiWaitSeconds = t.apiAttempts * t.delaySeconds;
    return `#!/bin/bash
# One-shot bootstrap of ${input.target}: wait for kube-apiserver, apply the bootstrap RBAC once.
${HELPERS}
kubectl_admin() {
    timeout 120 podman run --rm -i --network host --security-opt label=disable \\
        -v "\${admin}:/kubeconfig:ro" "$image" --kubeconfig=/kubeconfig "$@"
}
apiserver_healthy() {
    kubectl_admin get --raw=/healthz --request-timeout=5s </dev/null >/dev/null 2>&1
}
apply_manifests() {
    printf '%s\\n' "$manifests" | kubectl_admin apply --server-side --force-conflicts --field-manager=coreos-platform-bootstrap -f -
}
main() {
${prologue(input.target)}
marker=${shellQuote(input.markerPath)}
admin=${shellQuote(input.adminKubeconfigPath)}
image=${shellQuote(input.kubectlImage)}
revision=${revision}
if [ -f "$marker" ] && [ "$(cat -- "$marker")" = "$revision" ]; then
    echo "\${what}: bootstrap already done (revision \${revision}), nothing to do"
    return 0
fi
manifests=$(base64 -d ${heredoc(input.manifests)}
)
step="pull \${image}"
retry ${t.pullAttempts} 15 timeout 600 podman pull --quiet "$image" >/dev/null ||
    fail "could not pull the kubectl image in ${t.pullAttempts} attempts (does the node reach the registry through the NAT gateway?)"
step="wait for kube-apiserver"
retry ${t.apiAttempts} ${t.delaySeconds} apiserver_healthy ||
    fail "the local kube-apiserver did not answer /healthz within ${apiWaitSeconds} s; on \${what#controller } see journalctl -u kubelet, the etcd unit's journal and crictl ps -a"
step="apply bootstrap RBAC"
retry ${t.applyAttempts} ${t.delaySeconds} apply_manifests ||
    fail "kubectl apply failed ${t.applyAttempts} times (messages above)"
step="write marker"
mkdir -p -- "$(dirname -- "$marker")"
printf '%s\\n' "$revision" > "$marker"
echo "\${what}: bootstrap RBAC applied (revision \${revision})"
}
main
`;
}

/** What the readiness wait checks, from the bastion. */
export interface ReadinessScriptInput {
    /** https://<internal load balancer address>:6443/healthz */
    readonly url: string;
    readonly caCertPem: string;
    /** The health-check client certificate and key (anonymous auth is off). */
    readonly clientCertPem: string;
    readonly clientKeyPem: string;
    /** Attempts, `delaySeconds` apart. Defaults to 90 (15 minutes). */
    readonly attempts?: number;
    /** Defaults to 10. */
    readonly delaySeconds?: number;
}

/**
 * Waits until the API answers "ok" on /healthz through the internal load balancer. The credentials live only in
 * the shell's memory and reach curl through pipes (process substitution), never a file on the bastion.
 */
export function renderReadinessScript(input: ReadinessScriptInput): string {
    const attempts = input.attempts ?? 90;
    const delay = input.delaySeconds ?? 10;
    return `#!/bin/bash
# Readiness of the Kubernetes API at ${input.url}, checked from the bastion.
${HELPERS}
probe() {
    last=$(curl --silent --show-error --max-time 5 \\
        --cacert <(printf '%s\\n' "$ca") --cert <(printf '%s\\n' "$cert") --key <(printf '%s\\n' "$key") \\
        -- "$url" 2>&1) && [ "$last" = ok ]
}
main() {
${prologue("readiness check on the bastion")}
url=${shellQuote(input.url)}
last="(no answer yet)"
ca=$(base64 -d ${heredoc(input.caCertPem)}
)
cert=$(base64 -d ${heredoc(input.clientCertPem)}
)
key=$(base64 -d ${heredoc(input.clientKeyPem)}
)
step="GET \${url}"
retry ${attempts} ${delay} probe ||
    fail "no \\"ok\\" within ${attempts * delay} s; last answer: \${last}. Check the API load balancer's backend health in the Alibaba console and the controllers' bootstrap step"
echo "API ready: \${url} answered ok"
}
main
`;
}

/** What the NFS readiness wait checks, from a Kubernetes node (the NFS node admits NFS only from the nodes). */
export interface NfsReadyScriptInput {
    /** The node it runs on, as messages name it. */
    readonly target: string;
    /** The NFS server's address and its exported path. */
    readonly server: string;
    readonly path: string;
    /** Attempts, `delaySeconds` apart. Defaults to 120 (40 minutes: the NFS node layers nfs-utils and reboots). */
    readonly attempts?: number;
    /** Defaults to 20. */
    readonly delaySeconds?: number;
}

/**
 * Waits until the NFS export answers: a real NFSv4 mount of it from a Kubernetes node (read-only, unmounted at
 * once), the same mount the provisioner and every volume will make. Nothing that needs the export is created before.
 */
export function renderNfsReadyScript(input: NfsReadyScriptInput): string {
    const attempts = input.attempts ?? 120;
    const delay = input.delaySeconds ?? 20;
    return `#!/bin/bash
# Waits for the NFS export ${input.server}:${input.path}, checked from ${input.target}.
${HELPERS}
mounts() {
    timeout 30 mount -t nfs4 -o ro,soft,timeo=50,retrans=1 -- "$export" "$dir" 2>/dev/null && umount -- "$dir"
}
main() {
${prologue(input.target)}
export=${shellQuote(`${input.server}:${input.path}`)}
dir=$(mktemp -d /run/nfs-ready.XXXXXX)
trap 'umount -- "$dir" 2>/dev/null || true; rmdir -- "$dir"' EXIT
step="mount \${export}"
retry ${attempts} ${delay} mounts ||
    fail "the export did not answer within ${attempts * delay} s (the NFS node layers nfs-utils and reboots on first boot: see journalctl -u layer-nfs-utils.service and nfs-server.service there)"
echo "NFS ready: \${export} mounted from \${what}"
}
main
`;
}
