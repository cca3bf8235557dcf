/** What the renderers do with their input, without outside tools: determinism, changes, input errors. */
import { ALIBABA_NTP_SERVERS, NodeIgnitionInput, renderNodeIgnition } from "../../ignition";
import * as YAML from "yaml";
import { nodePaths } from "../../layout/node";
import { renderWorkerIgnition } from "../../ignition/roles/worker";
import { ROLE_FIXTURES, SSH_KEYS, controllerInput, nfsServerInput, workerInput } from "./fixtures";
import { decodeConfigFiles } from "./helpers";

/** The paths whose decoded contents differ between two configs. */
function changedFiles(a: string, b: string): string[] {
    const before = decodeConfigFiles(a);
    const after = decodeConfigFiles(b);
    const paths = new Set([...before.keys(), ...after.keys()]);
    return [...paths].filter((p) => !before.get(p)?.contents.equals(after.get(p)?.contents ?? Buffer.alloc(0))).sort();
}

describe("renderNodeIgnition", () => {
    it.each(Object.keys(ROLE_FIXTURES))("renders the %s config to the same bytes every time", (role) => {
        const input = ROLE_FIXTURES[role];
        expect(renderNodeIgnition(input)).toBe(renderNodeIgnition(structuredClone(input) as NodeIgnitionInput));
    });

    it("changes a worker's config when its pool's labels change, in the kubelet unit only", () => {
        const relabeled: NodeIgnitionInput = {
            ...workerInput,
            kubernetes: {
                ...workerInput.kubernetes!,
                nodeLabels: { ...workerInput.kubernetes!.nodeLabels, "platform.example.com/pool": "batch" },
            },
        };
        const before = renderNodeIgnition(workerInput);
        const after = renderNodeIgnition(relabeled);
        expect(after).not.toBe(before);
        expect(changedFiles(before, after)).toEqual(["/etc/systemd/system/kubelet.service"]);
        expect(renderNodeIgnition(relabeled)).toBe(after);
    });

    it("gives the kubelet the input's cluster DNS address, whatever it is, and the cluster domain", () => {
        const input = { ...workerInput, kubernetes: { ...workerInput.kubernetes, clusterDnsIp: "172.20.0.10" } };
        const config = YAML.parse(decodeConfigFiles(renderNodeIgnition(input)).get(nodePaths.kubeletConfig)!.contents.toString());
        expect([config.clusterDNS, config.clusterDomain]).toEqual([["172.20.0.10"], "cluster.local"]);
    });

    it("does not depend on the order in which labels were written", () => {
        const labels = workerInput.kubernetes!.nodeLabels;
        const reversed = Object.fromEntries(Object.entries(labels).reverse());
        expect(Object.keys(reversed)).not.toEqual(Object.keys(labels));
        const input = { ...workerInput, kubernetes: { ...workerInput.kubernetes!, nodeLabels: reversed } };
        expect(renderNodeIgnition(input)).toBe(renderNodeIgnition(workerInput));
    });

    it("changes only the hostname files and the kubelet's node name between two workers of a pool", () => {
        const other = { ...workerInput, hostname: "coreos-platform-prod-worker-18" };
        expect(changedFiles(renderNodeIgnition(workerInput), renderNodeIgnition(other))).toEqual([
            "/etc/hostname",
            "/etc/systemd/system/kubelet.service",
        ]);
    });

    it("renders an edge node as a worker: its labels and taints come from its pool", () => {
        expect(renderNodeIgnition({ ...workerInput, role: "edge" })).toBe(renderWorkerIgnition(workerInput));
    });

    it("uses Fedora's update server unless an internal one is set", () => {
        const fedora = renderNodeIgnition({ ...workerInput, osUpdates: { fleetlockUrl: workerInput.osUpdates.fleetlockUrl } });
        const zincati = [...decodeConfigFiles(fedora)].filter(([p]) => p.startsWith("/etc/zincati/")).map(([, f]) => f.contents.toString());
        expect(zincati.join("\n")).not.toContain("[cincinnati]");
    });

    it("exports Alibaba Cloud's VPC-internal NTP servers", () => {
        expect(ALIBABA_NTP_SERVERS).toEqual([
            "ntp.cloud.aliyuncs.com",
            "ntp7.cloud.aliyuncs.com",
            "ntp8.cloud.aliyuncs.com",
            "ntp9.cloud.aliyuncs.com",
            "ntp10.cloud.aliyuncs.com",
            "ntp11.cloud.aliyuncs.com",
            "ntp12.cloud.aliyuncs.com",
        ]);
    });
});

describe("renderNodeIgnition refuses input it cannot render safely", () => {
    // A role's sections are required by the types (each @ts-expect-error fails the type check if they are not)
    // and, for input built from untyped data, by renderNodeIgnition itself.
    // @ts-expect-error -- a worker's input must have its kubernetes section
    const workerWithoutKubelet: NodeIgnitionInput = { ...workerInput, kubernetes: undefined };
    // @ts-expect-error -- a controller's input must have its etcd section
    const controllerWithoutEtcd: NodeIgnitionInput = { ...controllerInput, etcd: undefined };
    // @ts-expect-error -- an NFS server's input must have its nfsServer section
    const nfsServerWithoutExport: NodeIgnitionInput = { ...nfsServerInput, nfsServer: undefined };
    // @ts-expect-error -- a Kubernetes node's OS updates need a FleetLock URL
    const workerWithoutFleetLock: NodeIgnitionInput = { ...workerInput, osUpdates: {} };
    const cases: [string, NodeIgnitionInput, RegExp][] = [
        [
            "a worker without its kubernetes section",
            workerWithoutKubelet,
            /coreos-platform-prod-worker-17 \(role worker\): kubernetes is required/,
        ],
        ["a controller without its etcd section", controllerWithoutEtcd, /role controller\): etcd is required/],
        ["an NFS server without its nfsServer section", nfsServerWithoutExport, /nfsServer is required/],
        ["a Kubernetes node without a FleetLock URL", workerWithoutFleetLock, /osUpdates\.fleetlockUrl is required/],
        ["no SSH key", { ...workerInput, sshAuthorizedKeys: [] }, /sshAuthorizedKeys is empty/],
        [
            "a private key where a public key belongs",
            {
                ...workerInput,
                sshAuthorizedKeys: [
                    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----",
                ],
            },
            /not one OpenSSH public key/,
        ],
        ["two keys on one line", { ...workerInput, sshAuthorizedKeys: [`${SSH_KEYS[0]}\n${SSH_KEYS[0]}`] }, /not one OpenSSH public key/],
        ["no NTP server", { ...workerInput, ntpServers: [] }, /ntpServers is empty/],
        [
            "an etcd disk id that is not Alibaba's",
            { ...controllerInput, etcd: { ...controllerInput.etcd!, dataDiskId: "/dev/vdb" } },
            /not a disk id/,
        ],
    ];
    it.each(cases)("%s", (_, input, message) => {
        expect(() => renderNodeIgnition(input)).toThrow(message);
    });
});
