/**
 * Who may log in and what the node is called: the `core` user with SSH keys only, /etc/hostname and /etc/hosts.
 */
import { NodeConfigPart } from "../builder";
import { HostEntry } from "../input";

/** Fedora's own loopback lines, kept because /etc/hosts is replaced as a whole. */
const LOOPBACK_HOSTS = [
    "127.0.0.1   localhost localhost.localdomain localhost4 localhost4.localdomain4",
    "::1         localhost localhost.localdomain localhost6 localhost6.localdomain6",
];

/** The `core` user with these public keys; no password (keys only), no private key (none belongs in user data). */
export function coreUser(sshAuthorizedKeys: readonly string[]): NodeConfigPart {
    if (sshAuthorizedKeys.length === 0) throw new Error("Ignition input: sshAuthorizedKeys is empty; nobody could log in to the node");
    for (const key of sshAuthorizedKeys) {
        if (!/^(ssh-(rsa|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9-]+@openssh\.com) [A-Za-z0-9+/=]+( [^\n]*)?$/.test(key)) {
            throw new Error(`Ignition input: sshAuthorizedKeys has an entry that is not one OpenSSH public key: ${key.slice(0, 40)}...`);
        }
    }
    return { users: [{ name: "core", sshAuthorizedKeys }] };
}

/**
 * /etc/hostname (the kubelet's node name and etcd's member name derive from it) and /etc/hosts with the
 * controllers' predictable names, so etcd peers and nodes find each other before any DNS record exists.
 * Both files exist on the image (Afterburn may write the hostname first), hence overwrite.
 */
export function hostIdentity(hostname: string, hosts: readonly HostEntry[]): NodeConfigPart {
    const entries = hosts.map((h) => `${h.ip} ${h.name}`);
    return {
        files: [
            { path: "/etc/hostname", contents: `${hostname}\n`, overwrite: true },
            { path: "/etc/hosts", contents: [...LOOPBACK_HOSTS, ...entries].join("\n") + "\n", overwrite: true },
        ],
    };
}

/** Where sshd finds its ED25519 host key (Fedora's sshd-keygen makes one there only if there is none). */
export const SSH_HOST_KEY_PATH = "/etc/ssh/ssh_host_ed25519_key";

/**
 * sshd's ED25519 host key, made by the program: its public half is what the program verifies the host by before it
 * sends anything over the internet (docs/security.md, "SSH host keys"). Only for a host that runs no pods.
 */
export function sshHostKey(key: { readonly privateKey: string; readonly publicKey: string }): NodeConfigPart {
    if (!/^ssh-ed25519 [A-Za-z0-9+/=]+( .*)?$/.test(key.publicKey.trim())) {
        throw new Error("Ignition input: sshHostKey.publicKey must be one ssh-ed25519 public key");
    }
    return {
        files: [
            { path: SSH_HOST_KEY_PATH, mode: 0o600, contents: key.privateKey.trim() + "\n", overwrite: true },
            { path: `${SSH_HOST_KEY_PATH}.pub`, contents: key.publicKey.trim() + "\n", overwrite: true },
        ],
    };
}
