/**
 * A controller's etcd member: the pinned etcd image run by podman on the host network, configured by an
 * environment file, with mutual TLS for clients and peers. Its settings and certificates arrive over SSH after boot
 * (controlplane/files.ts), so `etcd-member.path` starts it once the server certificate exists; its data lives on its
 * own disk.
 */
import { NodeConfigPart } from "../builder";
import { nodePaths, nodeUnits, pkiFiles } from "../../layout/node";
import { unitFile } from "../systemd";
import { versions } from "../../versions";

/** etcd-member.service and etcd-member.path. */
export function etcdMember(): NodeConfigPart {
    const podmanRun = [
        "/usr/bin/podman run --name etcd --network host",
        `--env-file ${nodePaths.etcdEnvFile}`,
        `--volume ${nodePaths.etcdDataDir}:${nodePaths.etcdDataDir}:rw,Z`,
        `--volume ${nodePaths.etcdPkiDir}:${nodePaths.etcdPkiDir}:ro,Z`,
        versions.images.etcd,
    ];
    return {
        units: [
            {
                name: nodeUnits.etcd,
                contents: unitFile({
                    Unit: {
                        Description: "etcd member",
                        Wants: "network-online.target",
                        After: "network-online.target",
                        RequiresMountsFor: nodePaths.etcdDataDir,
                    },
                    Service: {
                        Type: "exec",
                        // etcd warns about, and the data deserves, a private data directory.
                        ExecStartPre: [`/usr/bin/chmod 0700 ${nodePaths.etcdDataDir}`, "-/usr/bin/podman rm --force etcd"],
                        ExecStart: podmanRun.join(" \\\n  "),
                        ExecStop: "/usr/bin/podman stop etcd",
                        Restart: "on-failure",
                        RestartSec: "10s",
                        LimitNOFILE: "40000",
                    },
                }),
            },
            {
                name: nodeUnits.etcdPath,
                enabled: true,
                contents: unitFile({
                    Unit: { Description: "Start etcd when its certificates arrive" },
                    Path: { PathExists: `${nodePaths.etcdPkiDir}/${pkiFiles.etcdServer}` },
                    Install: { WantedBy: "multi-user.target" },
                }),
            },
        ],
    };
}
