/**
 * Writing systemd unit files from plain data, so that optional lines are left out instead of templated around,
 * and every unit has the same layout.
 */

/** A section's settings in order; an array repeats the key, `undefined` leaves it out. */
export type UnitSection = Readonly<Record<string, string | number | readonly string[] | undefined>>;

/** A unit file: sections in order (`Unit`, `Service`, `Install`, ...). */
export function unitFile(sections: Readonly<Record<string, UnitSection>>): string {
    return Object.entries(sections)
        .map(([section, settings]) => {
            const lines = Object.entries(settings).flatMap(([key, value]) =>
                value === undefined ? [] : (Array.isArray(value) ? value : [value]).map((v) => `${key}=${v}`),
            );
            return [`[${section}]`, ...lines].join("\n") + "\n";
        })
        .join("\n");
}

/** The name systemd requires for the mount unit of `path` (what `systemd-escape --path --suffix=mount` prints). */
export function mountUnitName(path: string): string {
    const trimmed = path.replace(/\/+/g, "/").replace(/^\/|\/$/g, "");
    if (trimmed === "") return "-.mount";
    const escaped = trimmed
        .split("/")
        .map((segment) =>
            Array.from(Buffer.from(segment, "utf8"))
                .map((byte, i) => {
                    const c = String.fromCharCode(byte);
                    const plain = byte < 0x80 && /[A-Za-z0-9:_.]/.test(c) && !(i === 0 && c === ".");
                    return plain ? c : `\\x${byte.toString(16).padStart(2, "0")}`;
                })
                .join(""),
        )
        .join("-");
    return `${escaped}.mount`;
}
