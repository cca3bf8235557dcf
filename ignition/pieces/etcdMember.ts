/**
 * A controller's etcd member: the pinned etcd image run by podman on the host network, configured by an
 * environment file, with mutual TLS for clients and peers. Its certificates arrive over SSH after boot, so
 * `etcd-member.path` starts it once the server certificate exists; its data lives on its own disk.
 */
import { NodeConfigPart } from "../builder";
import { EtcdMemberInput } from "../input";
import { ETCD_CLIENT_PORT, ETCD_PEER_PORT, METRICS_PORTS } from "../../layout/cluster";
import { nodePaths, nodeUnits, pkiFiles } from "../../layout/node";
import { unitFile } from "../systemd";
import { etcdTlsEnvironment } from "../../pki/etcd";
import { versions } from "../../versions";

const ETCD_ENV_FILE = "/etc/etcd/etcd.env";

/** The peer URL of a member: by name, which /etc/hosts resolves on every controller. */
function etcdPeerUrl(memberName: string): string {
    return `https://${memberName}:${ETCD_PEER_PORT}`;
}

/** etcd.env, etcd-member.service and etcd-member.path. */
export function etcdMember(etcd: EtcdMemberInput): NodeConfigPart {
    if (!etcd.initialCluster.some((m) => m.name === etcd.name)) {
        throw new Error(`Ignition input: etcd.initialCluster does not include this member (${etcd.name})`);
    }
    const pki = (file: string) => `${nodePaths.etcdPkiDir}/${file}`;
    const env: Record<string, string> = {
        ETCD_NAME: etcd.name,
        ETCD_DATA_DIR: nodePaths.etcdDataDir,
        ETCD_ADVERTISE_CLIENT_URLS: `https://${etcd.ip}:${ETCD_CLIENT_PORT}`,
        // Loopback too, for the kube-apiserver and etcdctl on this controller.
        ETCD_LISTEN_CLIENT_URLS: `https://${etcd.ip}:${ETCD_CLIENT_PORT},https://127.0.0.1:${ETCD_CLIENT_PORT}`,
        // Must equal this member's entry in ETCD_INITIAL_CLUSTER, which names peers (Typhoon's pattern).
        ETCD_INITIAL_ADVERTISE_PEER_URLS: etcdPeerUrl(etcd.name),
        ETCD_LISTEN_PEER_URLS: `https://${etcd.ip}:${ETCD_PEER_PORT}`,
        // /metrics and /health only, with the client port's TLS (a client certificate of the etcd CA is required).
        ETCD_LISTEN_METRICS_URLS: `https://${etcd.ip}:${METRICS_PORTS.etcd}`,
        ETCD_INITIAL_CLUSTER: etcd.initialCluster.map((m) => `${m.name}=${etcdPeerUrl(m.name)}`).join(","),
        // The same TLS settings the PKI tests run a real etcd with (pki/etcd.ts).
        ...etcdTlsEnvironment(),
    };
    const podmanRun = [
        "/usr/bin/podman run --name etcd --network host",
        `--env-file ${ETCD_ENV_FILE}`,
        `--volume ${nodePaths.etcdDataDir}:${nodePaths.etcdDataDir}:rw,Z`,
        `--volume ${nodePaths.etcdPkiDir}:${nodePaths.etcdPkiDir}:ro,Z`,
        versions.images.etcd,
    ];

    return {
        files: [
            {
                path: ETCD_ENV_FILE,
                contents: Object.entries(env)
                    .map(([k, v]) => `${k}=${v}\n`)
                    .join(""),
            },
        ],
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
                name: "etcd-member.path",
                enabled: true,
                contents: unitFile({
                    Unit: { Description: "Start etcd when its certificates arrive" },
                    Path: { PathExists: pki(pkiFiles.etcdServer) },
                    Install: { WantedBy: "multi-user.target" },
                }),
            },
        ],
    };
}
