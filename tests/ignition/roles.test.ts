/**
 * Every role's Ignition config through the real tools: ignition-validate, the real Ignition applying it to a
 * scratch root, systemd-analyze verify on the units it wrote. Expectations come from the fixtures and the
 * platform's contracts (ignition/paths.ts, versions.ts), not from the renderers' own constants.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { NodeIgnitionInput, USER_DATA_LIMIT, renderNodeIgnition } from "../../ignition";
import { CLUSTER_DOMAIN } from "../../layout/cluster";
import { nodePaths, pkiFiles } from "../../layout/node";
import { versions } from "../../versions";
import { AppliedIgnition, applyIgnition, validateIgnition, verifyUnits } from "../../tools/ignitionTools";
import {
    CLUSTER_DNS_IP,
    CONTROLLERS,
    ETCD_DISK_ID,
    FLEETLOCK_URL,
    NFS_DISK_ID,
    ROLE_FIXTURES,
    SSH_KEYS,
    UPDATE_SERVER_URL,
} from "./fixtures";
import { decodeConfigFiles, parseAssignments, parseUnit, readRootFile, relabelCovers, rootFileMode, unitList } from "./helpers";

/** Half the ECS budget: room for more keys, labels and future units. */
const USER_DATA_TARGET = 8000;
const KUBERNETES_ROLES = ["controller", "worker", "edge"];
const sizes: Record<string, number> = {};

interface RoleRun {
    readonly input: NodeIgnitionInput;
    readonly json: string;
    readonly applied: AppliedIgnition;
    readonly unit: (name: string) => Record<string, Record<string, string[]>>;
    readonly file: (file: string) => string;
    readonly presets: string[];
}

/** Units Ignition wrote as regular files (masks are symlinks to /dev/null). */
function writtenUnits(root: string): string[] {
    const dir = path.join(root, "etc/systemd/system");
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir).filter((name) => /\.(service|path|mount)$/.test(name) && fs.lstatSync(path.join(dir, name)).isFile());
}

describe.each(Object.keys(ROLE_FIXTURES))("the %s config", (role) => {
    const input = ROLE_FIXTURES[role];
    const isKubernetesNode = KUBERNETES_ROLES.includes(role);
    let run: RoleRun;

    beforeAll(async () => {
        const json = renderNodeIgnition(input);
        const applied = await applyIgnition(json);
        const file = (f: string) => readRootFile(applied.root, f);
        const presetFile = path.join(applied.root, "etc/systemd/system-preset/20-ignition.preset");
        const presets = fs.existsSync(presetFile) ? fs.readFileSync(presetFile, "utf8").split("\n").filter(Boolean) : [];
        run = { input, json, applied, file, presets, unit: (name) => parseUnit(file(`/etc/systemd/system/${name}`)) };
        sizes[role] = Buffer.byteLength(json);
    });
    afterAll(() => fs.rmSync(run.applied.scratch, { recursive: true, force: true }));

    it("passes ignition-validate (spec 3.3.0) without a warning", async () => {
        expect(await validateIgnition(run.json)).toEqual({ valid: true, report: "" });
    });

    it(`fits the ${USER_DATA_LIMIT}-byte user-data budget, and the ${USER_DATA_TARGET}-byte target`, () => {
        expect(sizes[role]).toBeLessThanOrEqual(USER_DATA_LIMIT);
        expect(sizes[role]).toBeLessThanOrEqual(USER_DATA_TARGET);
    });

    it("is canonical JSON, and its gzip'd files decompress to what Ignition wrote", () => {
        expect(JSON.stringify(JSON.parse(run.json))).toBe(run.json);
        const files = decodeConfigFiles(run.json);
        expect([...files.values()].length).toBeGreaterThan(3);
        for (const [file, { contents }] of files) {
            expect([file, fs.readFileSync(path.join(run.applied.root, file)).equals(contents)]).toEqual([file, true]);
            // Scripts are executable; nothing else is. The one secret is the bastion's SSH host key: root's alone.
            const expectedMode = file === "/usr/local/bin/node-setup" ? 0o755 : file === "/etc/ssh/ssh_host_ed25519_key" ? 0o600 : 0o644;
            expect([file, rootFileMode(run.applied.root, file).toString(8)]).toEqual([file, expectedMode.toString(8)]);
        }
    });

    it("holds no private key, token or password hash", () => {
        const texts = [run.json, ...[...decodeConfigFiles(run.json).values()].map((f) => f.contents.toString("latin1"))];
        for (const text of texts) {
            expect(text).not.toMatch(/PRIVATE KEY|BEGIN [A-Z ]*KEY/);
            expect(text).not.toMatch(/\b[a-z0-9]{6}\.[a-z0-9]{16}\b/); // a kubeadm-style bootstrap token
            expect(text).not.toMatch(/\$(1|2[abxy]?|5|6|y|gy|7)\$[./A-Za-z0-9]{8,}/); // a crypt(3) password hash
        }
        expect(JSON.parse(run.json).passwd.users.every((u: Record<string, unknown>) => !("passwordHash" in u))).toBe(true);
    });

    it("creates the user core with exactly the SSH keys", () => {
        expect(run.file("/etc/passwd")).toMatch(/^core:x:\d+:\d+::\/home\/core:/m);
        expect(run.file("/home/core/.ssh/authorized_keys.d/ignition").split("\n").filter(Boolean)).toEqual(SSH_KEYS);
    });

    it("names the host and keeps localhost in /etc/hosts with the controllers' names", () => {
        expect(run.file("/etc/hostname")).toBe(`${input.hostname}\n`);
        const hosts = run.file("/etc/hosts").split("\n");
        expect(hosts).toEqual(
            expect.arrayContaining([expect.stringMatching(/^127\.0\.0\.1\s+localhost\b/), expect.stringMatching(/^::1\s+localhost\b/)]),
        );
        for (const h of input.hosts)
            expect(hosts).toContainEqual(expect.stringMatching(new RegExp(`^${h.ip.replace(/\./g, "\\.")}\\s+${h.name}$`)));
    });

    it("syncs time from the input's NTP servers only", () => {
        const lines = run.file("/etc/chrony.conf").split("\n");
        const servers = lines.filter((l) => /^(server|pool) /.test(l));
        expect(servers.map((l) => l.split(/\s+/)[1])).toEqual(input.ntpServers);
        for (const l of servers) expect(l.split(/\s+/)).toEqual(expect.arrayContaining(["server", "iburst"]));
        for (const directive of ["driftfile", "makestep", "rtcsync"]) expect(lines.some((l) => l.startsWith(directive))).toBe(true);
    });

    it("configures Zincati: FleetLock on Kubernetes nodes, a weekly window elsewhere, the internal update server", () => {
        const dir = path.join(run.applied.root, "etc/zincati/config.d");
        const toml = fs
            .readdirSync(dir)
            .map((f) => fs.readFileSync(path.join(dir, f), "utf8"))
            .join("\n");
        if (isKubernetesNode) {
            expect(toml).toMatch(/^strategy = "fleet_lock"$/m);
            expect(toml).toMatch(new RegExp(`^\\[updates\\.fleet_lock\\]\\nbase_url = "${FLEETLOCK_URL}"$`, "m"));
        } else {
            expect(toml).toMatch(/^strategy = "periodic"$/m);
            expect(toml).toMatch(
                /^\[\[updates\.periodic\.window\]\]\ndays = \[("[A-Z][a-z]{2}"(, )?)+\]\nstart_time = "\d\d:\d\d"\nlength_minutes = \d+$/m,
            );
        }
        expect(toml).toMatch(new RegExp(`^\\[cincinnati\\]\\nbase_url = "${UPDATE_SERVER_URL}"$`, "m"));
    });

    it("asks for every file it wrote to be relabelled for SELinux", () => {
        for (const file of decodeConfigFiles(run.json).keys()) {
            expect([file, relabelCovers(run.applied.root, run.applied.relabeled, file)]).toEqual([file, true]);
        }
    });

    it("has units that systemd-analyze verify finds sound (beyond executables only Fedora CoreOS has)", async () => {
        expect(await verifyUnits(run.applied.root, writtenUnits(run.applied.root))).toEqual([]);
    });

    it("has a node-setup script that bash can parse", () => {
        const script = path.join(run.applied.root, "usr/local/bin/node-setup");
        if (role === "bastion") return expect(fs.existsSync(script)).toBe(false);
        expect(rootFileMode(run.applied.root, "/usr/local/bin/node-setup")).toBe(0o755);
        execFileSync("bash", ["-n", script]);
    });

    if (isKubernetesNode) kubernetesNodeChecks(() => run);
    if (role === "controller") controllerChecks(() => run);
    if (role === "nfs-server") nfsServerChecks(() => run);
    if (role === "bastion") {
        it("runs nothing but the OS: no kubelet, container runtime or etcd", () => {
            expect(writtenUnits(run.applied.root)).toEqual([]);
            expect(run.presets).toEqual([]);
        });
    }
});

function kubernetesNodeChecks(get: () => RoleRun): void {
    it("loads br_netfilter and nf_conntrack and sets the forwarding and filter sysctls", () => {
        const { applied } = get();
        const modules = fs
            .readdirSync(path.join(applied.root, "etc/modules-load.d"))
            .map((f) => readRootFile(applied.root, `/etc/modules-load.d/${f}`))
            .join("\n");
        expect(modules.split("\n")).toEqual(expect.arrayContaining(["br_netfilter", "nf_conntrack"]));
        const sysctlDir = path.join(applied.root, "etc/sysctl.d");
        const sysctls = parseAssignments(
            fs
                .readdirSync(sysctlDir)
                .map((f) => fs.readFileSync(path.join(sysctlDir, f), "utf8"))
                .join("\n"),
        );
        expect(sysctls.get("net.ipv4.ip_forward")).toBe("1");
        expect(sysctls.get("net.bridge.bridge-nf-call-iptables")).toBe("1");
        expect(sysctls.get("net.ipv4.conf.default.rp_filter")).toBe("0");
        expect(sysctls.get("net.ipv4.conf.*.rp_filter")).toBe("0");
        expect(Number(sysctls.get("fs.inotify.max_user_watches"))).toBeGreaterThanOrEqual(16184); // Typhoon's value
    });

    it("leaves flannel's MAC address alone", () => {
        const link = parseUnit(get().file("/etc/systemd/network/50-flannel.link"));
        expect(link).toEqual({ Match: { OriginalName: ["flannel*"] }, Link: { MACAddressPolicy: ["none"] } });
    });

    it("runs the host's containerd on systemd cgroups with the pinned pause image and the CNI directories", () => {
        const { file, presets, applied } = get();
        const toml = file("/etc/containerd/config.toml");
        expect(toml).toMatch(/^SystemdCgroup = true$/m);
        expect(toml).toContain(`sandbox_image = "${versions.images.pause}"`);
        expect(toml).toContain(`bin_dir = "${nodePaths.cniBinDir}"`);
        expect(toml).toContain(`conf_dir = "${nodePaths.cniConfDir}"`);
        expect(presets).toContain("enable containerd.service");
        expect(fs.readlinkSync(path.join(applied.root, "etc/systemd/system/docker.service"))).toBe("/dev/null");
    });

    it("configures the kubelet: cluster DNS from the input, webhook auth, rotation, graceful shutdown", () => {
        const { file } = get();
        const config = YAML.parse(file(nodePaths.kubeletConfig));
        expect(config).toMatchObject({
            apiVersion: "kubelet.config.k8s.io/v1beta1",
            kind: "KubeletConfiguration",
            clusterDNS: [CLUSTER_DNS_IP],
            clusterDomain: CLUSTER_DOMAIN,
            authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: nodePaths.clusterCaCert } },
            authorization: { mode: "Webhook" },
            rotateCertificates: true,
            cgroupDriver: "systemd",
            containerRuntimeEndpoint: "unix:///run/containerd/containerd.sock",
            staticPodPath: nodePaths.staticPodDir,
            readOnlyPort: 0,
            shutdownGracePeriod: "45s",
            shutdownGracePeriodCriticalPods: "30s",
            resolvConf: "/run/systemd/resolve/resolv.conf",
        });
        const logindDir = path.join(get().applied.root, "etc/systemd/logind.conf.d");
        const logind = fs.readdirSync(logindDir).map((f) => parseUnit(fs.readFileSync(path.join(logindDir, f), "utf8")).Login ?? {});
        expect(logind.some((l) => parseInt(l.InhibitDelayMaxSec?.[0] ?? "0", 10) >= 45)).toBe(true);
    });

    it("starts the kubelet binary with the pool's labels and taints once the bootstrap kubeconfig arrives", () => {
        const { unit, presets, input } = get();
        const [command, ...flags] = unit("kubelet.service").Service.ExecStart[0].split(/\s+/);
        expect(command).toBe(nodePaths.kubeletBinary);
        expect(flags).toEqual(
            expect.arrayContaining([
                `--bootstrap-kubeconfig=${nodePaths.bootstrapKubeconfig}`,
                `--kubeconfig=${nodePaths.kubeletKubeconfig}`,
                `--config=${nodePaths.kubeletConfig}`,
                `--hostname-override=${input.hostname}`,
            ]),
        );
        const flag = (name: string) =>
            (flags.find((f) => f.startsWith(`--${name}=`)) ?? "=").split("=").slice(1).join("=").split(",").filter(Boolean);
        const isController = input.role === "controller";
        const expectedLabels = Object.entries(input.kubernetes!.nodeLabels).map(([k, v]) => `${k}=${v}`);
        if (isController) expectedLabels.push("node.kubernetes.io/controller=true");
        expect(flag("node-labels").sort()).toEqual(expectedLabels.sort());
        // Taints go in the KubeletConfiguration (registerWithTaints), not the deprecated flag.
        const expectedTaints = input.kubernetes!.nodeTaints.map((t) => `${t.key}${t.value === undefined ? "" : `=${t.value}`}:${t.effect}`);
        if (isController) expectedTaints.push("node-role.kubernetes.io/controller:NoSchedule");
        expect(flag("register-with-taints")).toEqual([]);
        const config = YAML.parse(get().file(nodePaths.kubeletConfig));
        const registered = (config.registerWithTaints ?? []).map(
            (t: any) => `${t.key}${t.value === undefined ? "" : `=${t.value}`}:${t.effect}`,
        );
        expect(registered.sort()).toEqual(expectedTaints.sort());

        // Joining: the bootstrap kubeconfig (on tmpfs, gone after a reboot); later boots: the kubelet's own kubeconfig.
        expect(unit("kubelet.path").Path.PathExists).toEqual([nodePaths.bootstrapKubeconfig, nodePaths.kubeletKubeconfig]);
        expect(nodePaths.bootstrapKubeconfig.startsWith("/run/")).toBe(true);
        expect(presets).toContain("enable kubelet.path");
        expect(presets).not.toContain("enable kubelet.service"); // it would start before its kubeconfig exists
        expect(unitList(unit("kubelet.service"), "Unit", "Requires")).toContain("kubelet-install.service");
    });

    it("installs the pinned kubelet and CNI plugins only after checking their sha256", () => {
        const { unit, presets, applied } = get();
        expect(presets).toContain("enable kubelet-install.service");
        expect(unit("kubelet-install.service").Service.Type).toEqual(["oneshot"]);
        const [script, step] = unit("kubelet-install.service").Service.ExecStart[0].split(/\s+/);
        const body = stepBody(readRootFile(applied.root, script), step);
        for (const download of [versions.kubelet, versions.cniPlugins]) {
            expect(body).toContain(download.url);
            expect(body).toContain(download.sha256);
        }
        expect(body).toMatch(/curl [^\n]*--retry \d+/);
        const lines = body.split("\n");
        const firstCheck = lines.findIndex((l) => /sha256sum (-c|--check)/.test(l) && !/--status/.test(l));
        const firstInstall = lines.findIndex((l) => /\binstall -|tar -x/.test(l));
        expect(firstCheck).toBeGreaterThanOrEqual(0);
        expect(firstCheck).toBeLessThan(firstInstall);
    });

    it("waits for networking and a real DNS lookup before the kubelet (and etcd) start", () => {
        const { unit, presets, input, file } = get();
        const wait = unit("wait-for-network.service");
        const guarded = input.role === "controller" ? ["kubelet.service", "etcd-member.service"] : ["kubelet.service"];
        expect(unitList(wait, "Unit", "Before")).toEqual(expect.arrayContaining(guarded));
        expect(unitList(wait, "Install", "RequiredBy")).toEqual(expect.arrayContaining(guarded));
        expect(wait.Service.Type).toEqual(["oneshot"]);
        expect(presets).toContain("enable wait-for-network.service");
        const probe = wait.Service.ExecStart[0].split(/\s+/).pop()!;
        expect(probe).toMatch(/^[a-z0-9.-]+\.[a-z]+$/); // a DNS name, not an address
        expect(file("/etc/hosts")).not.toContain(probe); // so the lookup really asks DNS
    });
}

function controllerChecks(get: () => RoleRun): void {
    it("holds no etcd settings: they arrive over SSH with etcd's certificates (controlplane/files.ts)", () => {
        const { file } = get();
        expect(() => file(nodePaths.etcdEnvFile)).toThrow();
        // The settings name peers by name: every peer name resolves through /etc/hosts.
        for (const c of CONTROLLERS) expect(file("/etc/hosts")).toContain(`${c.ip} ${c.name}`);
    });

    it("starts etcd in podman on the host network once its server certificate exists, on its own disk", () => {
        const { unit, presets } = get();
        const service = unit("etcd-member.service");
        const run = service.Service.ExecStart[0];
        expect(run).toMatch(/^\/usr\/bin\/podman run /);
        expect(run).toContain("--network host");
        expect(run).toContain("--env-file /etc/etcd/etcd.env");
        expect(run.split(/\s+/).pop()).toBe(versions.images.etcd);
        expect(service.Unit.RequiresMountsFor).toEqual([nodePaths.etcdDataDir]);
        expect(unit("etcd-member.path").Path.PathExists).toEqual([`${nodePaths.etcdPkiDir}/${pkiFiles.etcdServer}`]);
        expect(presets).toContain("enable etcd-member.path");
        expect(presets).not.toContain("enable etcd-member.service");
    });

    dataDiskChecks(get, { mountUnit: "var-lib-etcd.mount", mountPoint: nodePaths.etcdDataDir, diskId: ETCD_DISK_ID });
}

function nfsServerChecks(get: () => RoleRun): void {
    it("leaves the export list to the delivery over SSH (Ignition runs once; the list must follow the config)", () => {
        const files = (JSON.parse(get().json).storage?.files ?? []) as { path: string }[];
        expect(files.map((f) => f.path)).not.toContain("/etc/exports");
        expect(files.length).toBeGreaterThan(0);
    });

    it("layers nfs-utils with rpm-ostree (replacing the client-only package), reboots into it, and serves after its disk is mounted", () => {
        const { unit, presets, applied } = get();
        const layering = writtenUnits(applied.root)
            .map((name) => ({ name, unit: unit(name) }))
            .find((u) => (u.unit.Service?.ExecStart ?? []).some((c) => c.includes("rpm-ostree")));
        expect(layering).toBeDefined();
        const commands = layering!.unit.Service.ExecStart;
        // Fedora CoreOS 43's nfs-utils-coreos conflicts with nfs-utils: it must be removed in the same transaction.
        expect(commands[0]).toContain("rpm-ostree override remove nfs-utils-coreos --install nfs-utils");
        expect(commands[0]).toContain("rpm-ostree install --idempotent --allow-inactive nfs-utils");
        expect(commands[commands.length - 1]).toBe("/usr/bin/systemctl reboot");
        expect(layering!.unit.Unit.ConditionPathExists).toEqual(["!/usr/lib/systemd/system/nfs-server.service"]);
        expect(presets).toContain(`enable ${layering!.name}`);
        // Enabled ahead of time: the link dangles until the layered deployment has the unit.
        const wants = path.join(applied.root, "etc/systemd/system/multi-user.target.wants/nfs-server.service");
        expect(fs.readlinkSync(wants)).toBe("/usr/lib/systemd/system/nfs-server.service");
        const dropins = path.join(applied.root, "etc/systemd/system/nfs-server.service.d");
        const dropinUnits = fs.readdirSync(dropins).map((f) => parseUnit(fs.readFileSync(path.join(dropins, f), "utf8")));
        expect(dropinUnits.flatMap((d) => d.Unit?.RequiresMountsFor ?? [])).toContain(nodePaths.nfsExportDir);
        // The export's root belongs to nobody, the identity every client is squashed to, so the provisioner can make
        // and remove its directories.
        expect(dropinUnits.flatMap((d) => d.Service?.ExecStartPre ?? [])).toEqual([`/usr/bin/chown 65534:65534 ${nodePaths.nfsExportDir}`]);
    });

    dataDiskChecks(get, { mountUnit: "var-srv-nfs.mount", mountPoint: nodePaths.nfsExportDir, diskId: NFS_DISK_ID });
}

function dataDiskChecks(get: () => RoleRun, disk: { mountUnit: string; mountPoint: string; diskId: string }): void {
    it(`mounts data disk ${disk.diskId} on ${disk.mountPoint} after a unit that waits for it and formats it only if blank`, () => {
        const { unit, applied } = get();
        const mount = unit(disk.mountUnit);
        expect(mount.Mount.Where).toEqual([disk.mountPoint]);
        expect(mount.Mount.Type).toEqual(["xfs"]);
        const label = /^\/dev\/disk\/by-label\/(.+)$/.exec(mount.Mount.What[0])![1];
        const prepare = unitList(mount, "Unit", "Requires");
        expect(unitList(mount, "Unit", "After")).toEqual(expect.arrayContaining(prepare));
        expect(prepare).toHaveLength(1);
        const [script, step, serial, formatLabel] = unit(prepare[0]).Service.ExecStart[0].split(/\s+/);
        expect(serial).toBe(disk.diskId.replace(/^d-/, ""));
        expect(formatLabel).toBe(label);
        const body = stepBody(readRootFile(applied.root, script), step);
        expect(body).toContain("/dev/disk/by-id/*");
        expect(body).toMatch(/blkid -p/);
        expect(body).toMatch(/mkfs\.xfs -L/);
    });
}

/** The body of one step (bash function) of the node-setup script. */
function stepBody(script: string, step: string): string {
    const start = script.indexOf(`\n${step}() {`);
    expect(start).toBeGreaterThanOrEqual(0);
    return script.slice(start, script.indexOf("\n}\n", start));
}

afterAll(() => {
    const report = Object.entries(sizes).map(
        ([role, bytes]) =>
            `${role.padEnd(11)} ${String(bytes).padStart(6)} bytes (${Math.round((bytes / USER_DATA_TARGET) * 100)}% of the ${USER_DATA_TARGET}-byte target)`,
    );
    // eslint-disable-next-line no-console -- the sizes are this test's report to the reader of the run
    console.log(`User data per role:\n${report.join("\n")}`);
    const dir = path.join(__dirname, "../../out");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
        path.join(dir, "ignition-sizes.json"),
        JSON.stringify({ target: USER_DATA_TARGET, limit: USER_DATA_LIMIT, bytes: sizes }, null, 2) + "\n",
    );
});
