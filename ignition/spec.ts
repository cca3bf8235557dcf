/**
 * The part of the Ignition config specification 3.3.0 that node configs use, as TypeScript types.
 * Field names and nesting are the spec's (https://coreos.github.io/ignition/configuration-v3_3/); what we never
 * write (disks, filesystems, groups, kernel arguments, remote sources) is left out rather than typed loosely.
 */

/** 3.3.0 is the newest spec that the `ignition-validate` we can run (Debian's Ignition 2.14) checks. */
export const IGNITION_SPEC_VERSION = "3.3.0";

/** A whole Ignition config. */
export interface IgnitionConfig {
    readonly ignition: { readonly version: typeof IGNITION_SPEC_VERSION };
    readonly passwd?: { readonly users?: readonly PasswdUser[] };
    readonly storage?: {
        readonly files?: readonly StorageFile[];
        readonly directories?: readonly StorageDirectory[];
        readonly links?: readonly StorageLink[];
    };
    readonly systemd?: { readonly units?: readonly SystemdUnit[] };
}

/** `passwd.users[]`: Ignition creates the user if missing and writes its keys to `~/.ssh/authorized_keys.d/ignition`. */
export interface PasswdUser {
    readonly name: string;
    readonly sshAuthorizedKeys?: readonly string[];
}

/** `storage.files[].contents`: a `data:` URL, optionally of the gzip of the contents. */
export interface FileContents {
    readonly source: string;
    readonly compression?: "gzip";
}

/** `storage.files[]`. */
export interface StorageFile {
    readonly path: string;
    /** Decimal permission bits (Ignition's JSON has no octal): 420 = 0644, 493 = 0755. */
    readonly mode?: number;
    /** Replace a file the image already has (spec default false: Ignition fails if the path exists). */
    readonly overwrite?: boolean;
    readonly contents?: FileContents;
}

/** `storage.directories[]`. */
export interface StorageDirectory {
    readonly path: string;
    readonly mode?: number;
}

/** `storage.links[]`: a symbolic link unless `hard`. */
export interface StorageLink {
    readonly path: string;
    readonly target: string;
    readonly hard?: boolean;
}

/** `systemd.units[].dropins[]`: written to `/etc/systemd/system/<unit>.d/<name>`. */
export interface SystemdDropin {
    readonly name: string;
    readonly contents?: string;
}

/** `systemd.units[]`: contents go to `/etc/systemd/system/<name>`; `enabled`/`mask` go to presets and links. */
export interface SystemdUnit {
    readonly name: string;
    readonly contents?: string;
    readonly enabled?: boolean;
    readonly mask?: boolean;
    readonly dropins?: readonly SystemdDropin[];
}
