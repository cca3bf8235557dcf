/**
 * OS updates by Zincati. Kubernetes nodes take a FleetLock lock first, so only one of them reboots at a time;
 * the bastion and the NFS server reboot in a weekly window. An update server inside the VPC replaces Fedora's
 * when set (the write-up ran one there because external traffic is expensive).
 *
 * Updates are off on first boot: the pinned image is older than the stream, so every node would otherwise update
 * and reboot while `pulumi up` is still building the stage (in dev, the only controller). The program turns them on
 * over SSH once the cluster layer and the apps exist (`nodePaths.osUpdatesOnFile`, components/osUpdates.ts).
 */
import { NodeConfigPart } from "../builder";

/** How a node decides when to reboot into an update. */
export type RebootStrategy = { readonly kind: "fleet_lock"; readonly fleetlockUrl: string } | { readonly kind: "weekly_window" };

/** Sunday 18:00-19:00 UTC, which is Monday 02:00-03:00 in China Standard Time: the quietest hour. */
const WEEKLY_WINDOW = { days: ["Sun"], startTime: "18:00", lengthMinutes: 60 };

/** Zincati drop-ins merge by file name; 55 sorts after the image's 30-updates-strategy and 50-...-cincinnati. */
const ZINCATI_CONFIG = "/etc/zincati/config.d/55-updates.toml";

/** The Zincati config of a node. */
export function osUpdates(strategy: RebootStrategy, updateServerUrl: string | undefined): NodeConfigPart {
    const toml = (s: string) => JSON.stringify(s); // a JSON string is a TOML basic string for URLs
    const lines = [
        "[updates]",
        // Off until the program turns it on (above); 90-updates-on.toml then overrides this file.
        "enabled = false",
        ...(strategy.kind === "fleet_lock"
            ? ['strategy = "fleet_lock"', "[updates.fleet_lock]", `base_url = ${toml(strategy.fleetlockUrl)}`]
            : [
                  'strategy = "periodic"',
                  "[[updates.periodic.window]]",
                  `days = [${WEEKLY_WINDOW.days.map(toml).join(", ")}]`,
                  `start_time = ${toml(WEEKLY_WINDOW.startTime)}`,
                  `length_minutes = ${WEEKLY_WINDOW.lengthMinutes}`,
              ]),
    ];
    if (updateServerUrl) lines.push("[cincinnati]", `base_url = ${toml(updateServerUrl)}`);
    return { files: [{ path: ZINCATI_CONFIG, contents: lines.join("\n") + "\n" }] };
}
