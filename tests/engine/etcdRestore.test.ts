/**
 * etcd's backup and restore on real etcd 3.6 with the program's render: the three controllers of a stage as network
 * namespaces with their planned addresses and rendered /etc/hosts, each etcd member started from its rendered
 * etcd.env; the backup and restore scripts exactly as the program delivers them (read from the render's
 * `etcd-backups-files-<i>` commands), run with `bash -s` in the controllers' namespaces, with etcdctl and etcdutl
 * of engine/build.sh behind a stand-in podman; the metadata service and the OSS bucket are the stand-in of
 * helpers/ossStandIn.ts (its contract is stated there).
 *
 * What differs from a controller, and nothing else (the test lists each): node paths moved into the scratch roots
 * (in the scripts and in etcd.env, which the restore reads), the bucket's endpoint and the metadata service's address.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ETCD_BACKUP_PREFIX } from "../../components/etcdBackup";
import { physicalName, stageIdentity } from "../../components/common";
import { ETCD_CLIENT_PORT } from "../../layout/cluster";
import { ETCD_BACKUP_METRICS_FILE, ETCD_BACKUP_SUCCESS_METRIC, nodePaths, pkiFiles } from "../../layout/node";
import { listStages, stageConfigFromFiles } from "../../tools/stageFiles";
import { namesOfExposition } from "../observability/helpers";
import { BootedMember, Override, RUNNER_ADDRESS, etcdMemberEnv, podmanShim, startEtcd, startEtcdMembers } from "./helpers/controlPlane";
import { OssStandIn } from "./helpers/ossStandIn";
import { Processes } from "./helpers/processes";
import { StageScratch, cleanUp, stageScratch } from "./helpers/scratch";
import { RenderedStage, deliveredFiles, withVariables } from "./helpers/render";
import { ScriptRun, runOnHost } from "./helpers/scripts";
import { EngineTools, engineTools, requireMachine } from "./helpers/tools";
import { Vpc } from "./helpers/vpc";

/** The first committed stage with three controllers (a quorum to lose): whichever stages ENGINE_STAGES names. */
const STAGE = listStages().find((s) => stageConfigFromFiles(s).controllers.count === 3);

const KEYS = 400;
const value = (i: number) => `value-${i}-${"x".repeat(200)}`;

describe(`etcd backup and restore, on the real etcd 3.6 of stage ${STAGE}`, () => {
    let scratch: StageScratch;
    let tools: EngineTools;
    let work: string;
    let processes: Processes;
    let vpc: Vpc;
    let rendered: RenderedStage;
    let members: BootedMember[];
    let oss: OssStandIn;
    let shim: string;
    const overrides: Override[] = [];
    /** Per member: its rendered backup and restore scripts, with the listed changes. */
    const backupScripts: string[] = [];
    const restoreScripts: string[] = [];
    let uploaded: string;

    /** etcdctl from this machine against `endpoints` (the members' addresses). */
    const etcdctl = (endpoints: string[], args: string[]): string => {
        const pki = members[0].node.at(nodePaths.pkiDir);
        return execFileSync(
            tools.etcdctl,
            [
                `--endpoints=${endpoints.map((ip) => `https://${ip}:${ETCD_CLIENT_PORT}`).join(",")}`,
                `--cacert=${pki}/${pkiFiles.etcdCa}`,
                `--cert=${pki}/${pkiFiles.etcdClient}`,
                `--key=${pki}/${pkiFiles.etcdClientKey}`,
                "--command-timeout=20s",
                ...args,
            ],
            { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
        );
    };
    const ips = () => rendered.plan.controllers.map((c) => c.ip);
    const healthy = (endpoints: string[]) => {
        try {
            etcdctl(endpoints, ["endpoint", "health"]);
            return true;
        } catch {
            return false;
        }
    };
    const waitHealthy = (what: string, endpoints: string[]) =>
        processes.waitFor(
            what,
            () => healthy(endpoints),
            members.map((m) => m.etcd),
            120000,
            1000,
        );
    const restoreOn = (i: number, args: string[], env: Record<string, string> = {}): Promise<ScriptRun> =>
        runOnHost(members[i].host, restoreScripts[i], args, { path: shim, env });
    const operator = () => ({ OSS_ACCESS_KEY_ID: oss.operator.accessKeyId, OSS_ACCESS_KEY_SECRET: oss.operator.secret });

    beforeAll(async () => {
        if (!STAGE) throw new Error("no committed stage has three controllers; the restore test needs one");
        requireMachine();
        tools = engineTools();
        scratch = stageScratch(STAGE, "etcd", "r");
        ({ work, processes, rendered, vpc } = scratch);
        members = await startEtcdMembers(rendered, vpc, processes, tools, scratch.cleanup, overrides);
        // This machine stands for the bucket and the metadata service: the controllers reach it, it reaches them.
        vpc.connectRunner(RUNNER_ADDRESS, ips());
        const role = physicalName(stageIdentity(rendered.cfg.project, rendered.cfg.stage), "etcd-backup");
        oss = new OssStandIn(role, rendered.cfg.region, ETCD_BACKUP_PREFIX);
        const endpoint = await oss.listen(RUNNER_ADDRESS);
        shim = podmanShim(path.join(work, "podman-shim"), tools, path.join(work, "podman-images.log"));
        for (const [i, member] of members.entries()) {
            const files = deliveredFiles(rendered, `etcd-backups-files-${i}`);
            const pki = member.node.at(nodePaths.pkiDir);
            const values = {
                cacert: `${pki}/${pkiFiles.etcdCa}`,
                cert: `${pki}/${pkiFiles.etcdClient}`,
                key: `${pki}/${pkiFiles.etcdClientKey}`,
                env_file: member.node.at(nodePaths.etcdEnvFile),
                work: member.node.at(nodePaths.etcdBackupWorkDir),
                metrics: member.node.at(ETCD_BACKUP_METRICS_FILE),
                endpoint,
            };
            const backup = withVariables(files.get(nodePaths.etcdBackupScript)!, values, `${member.hostname} etcd-backup`);
            const metadata =
                /^credentials_url='(http:\/\/100\.100\.100\.200)(\/latest\/meta-data\/ram\/security-credentials\/[^']+)'$/m.exec(
                    backup.script,
                );
            if (!metadata) throw new Error("the rendered backup script reads no role credentials from the metadata service");
            const withMetadata = withVariables(
                backup.script,
                { credentials_url: `${endpoint}${metadata[2]}` },
                `${member.hostname} etcd-backup`,
            );
            backupScripts.push(withMetadata.script);
            const restore = withVariables(files.get(nodePaths.etcdRestoreScript)!, values, `${member.hostname} etcd-restore`);
            restoreScripts.push(restore.script);
            overrides.push(...backup.changes, ...withMetadata.changes, ...restore.changes);
            // The restore reads the member's settings from etcd.env: the same file, its paths moved into the root.
            const env = etcdMemberEnv(member.node, member.hostname, []);
            fs.writeFileSync(
                member.node.at(nodePaths.etcdEnvFile),
                Object.entries(env)
                    .map(([k, v]) => `${k}=${v}\n`)
                    .join(""),
            );
        }
        await waitHealthy("the three etcd members", ips());
        for (let i = 0; i < KEYS; i++) etcdctl([ips()[0]], ["put", `/registry/engine/key-${i}`, value(i)]);
    }, 600000);

    afterAll(async () => {
        await oss?.close();
        await cleanUp(scratch);
    }, 120000);

    test("only node paths, the bucket's endpoint and the metadata service's address differ from the render", () => {
        const inRoots = (o: Override) =>
            o.run
                .replace(/^'|'$/g, "")
                .split(",")
                .every((part) => !part.startsWith("/") || members.some((m) => part.startsWith(`${m.node.root}/`)));
        expect(overrides.filter((o) => !/ (endpoint|credentials_url)$/.test(o.where) && !inRoots(o))).toEqual([]);
        // The bucket: its VPC-internal S3 endpoint in the render, in both scripts of every controller.
        const endpoints = overrides.filter((o) => / endpoint$/.test(o.where)).map((o) => o.rendered);
        expect(endpoints).toHaveLength(2 * members.length);
        for (const e of endpoints)
            expect(e).toMatch(new RegExp(`^'https://[a-z0-9-]+\\.s3\\.oss-${rendered.cfg.region}-internal\\.aliyuncs\\.com'$`));
    });

    test("every controller runs the backup; only the leader saves, checks and uploads a snapshot, signed with the role's credentials", async () => {
        const started = Math.floor(Date.now() / 1000);
        const runs = [];
        for (let i = 0; i < members.length; i++) runs.push(await runOnHost(members[i].host, backupScripts[i], [], { path: shim }));
        for (const r of runs)
            expect({ status: r.status, stderr: r.stderr.split("\n").filter((l) => /failed|error/i.test(l)) }).toEqual({
                status: 0,
                stderr: [],
            });
        const uploads = runs.filter((r) => /uploaded etcd\//.test(r.stdout));
        expect(uploads).toHaveLength(1);
        expect(runs.filter((r) => /not the leader/.test(r.stdout))).toHaveLength(2);
        // etcdutl checked it before the upload (its status table is in the output).
        expect(uploads[0].stdout).toMatch(/TOTAL KEY/);
        const keys = [...oss.objects.keys()].sort();
        expect(keys).toHaveLength(2);
        uploaded = keys.find((k) => k.endsWith(".db"))!;
        expect(uploaded).toMatch(
            new RegExp(`^${ETCD_BACKUP_PREFIX}\\d{8}T\\d{6}Z-${rendered.cfg.namePrefix}-controller-\\d-rev\\d+\\.db$`),
        );
        const digest = crypto.createHash("sha256").update(oss.objects.get(uploaded)!).digest("hex");
        expect(oss.objects.get(`${uploaded}.sha256`)!.toString()).toBe(`${digest}  ${path.basename(uploaded)}\n`);
        expect(oss.requests.filter((r) => r.method === "PUT").map((r) => `${r.status} ${r.who}`)).toEqual(["200 role", "200 role"]);
        // The scratch copy is gone from the leader.
        const leader = runs.indexOf(uploads[0]);
        expect(fs.readdirSync(members[leader].node.at(nodePaths.etcdBackupWorkDir))).toEqual([]);
        // The leader recorded its success for node_exporter's textfile collector (the EtcdBackupTooOld alert reads it),
        // as a whole file (no temporary left); the other members wrote none.
        const records = members.map((m) => m.node.at(ETCD_BACKUP_METRICS_FILE));
        expect(records.map((file) => fs.existsSync(file))).toEqual(members.map((_, i) => i === leader));
        expect(fs.readdirSync(path.dirname(records[leader]))).toEqual([path.basename(records[leader])]);
        const exposition = fs.readFileSync(records[leader], "utf8");
        expect(namesOfExposition(exposition)).toEqual(new Set([ETCD_BACKUP_SUCCESS_METRIC]));
        const recorded = Number(new RegExp(`^${ETCD_BACKUP_SUCCESS_METRIC} (\\d+)$`, "m").exec(exposition)?.[1]);
        expect(recorded).toBeGreaterThanOrEqual(started);
        expect(recorded).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    }, 300000);

    test("an operator lists and fetches the backup from inside the VPC; the controllers' role cannot read it", async () => {
        const listed = await restoreOn(0, ["list"], operator());
        expect(listed.stderr).toBe("");
        expect(listed.stdout.trim().split("\n")).toEqual([uploaded]);
        const dir = members[0].node.at("/var/tmp/restore");
        const fetched = await restoreOn(0, ["fetch", uploaded, dir], operator());
        expect(fetched.status).toBe(0);
        expect(fs.readFileSync(path.join(dir, path.basename(uploaded)))).toEqual(oss.objects.get(uploaded));
        const verified = await restoreOn(0, ["verify", path.join(dir, path.basename(uploaded))]);
        expect(verified.stdout).toContain("is intact");
        const withoutKey = await restoreOn(0, ["list"]);
        expect(withoutKey.status).not.toBe(0);
        expect(withoutKey.stderr).toContain("set OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET");
        expect(oss.requests.filter((r) => r.method === "GET" && r.who === "role")).toEqual([]);
    }, 120000);

    test("a snapshot with a corrupted byte is refused before anything is touched, even with its checksum made to match", async () => {
        const fetched = members[0].node.at(`/var/tmp/restore/${path.basename(uploaded)}`);
        const dir = members[0].node.at("/var/tmp/corrupt");
        fs.mkdirSync(dir, { recursive: true });
        const bytes = fs.readFileSync(fetched);
        bytes[Math.floor(bytes.length / 2)] ^= 0xff;
        const broken = path.join(dir, "broken.db");
        fs.writeFileSync(broken, bytes);
        fs.writeFileSync(`${broken}.sha256`, fs.readFileSync(`${fetched}.sha256`, "utf8").replace(path.basename(uploaded), "broken.db"));
        const dataDir = members[0].node.at(nodePaths.etcdDataDir);
        const before = fs.readdirSync(dataDir).sort();

        const refused = await restoreOn(0, ["restore", broken]);
        expect(refused.status).not.toBe(0);
        expect(refused.stderr).toContain("does not match its sha256");

        // Damage that happened before the checksum was taken: etcd's own integrity hash in the file still catches it.
        fs.writeFileSync(`${broken}.sha256`, `${crypto.createHash("sha256").update(bytes).digest("hex")}  broken.db\n`);
        await processes.stop(members[0].etcd);
        const second = await restoreOn(0, ["restore", broken]);
        expect(second.status).not.toBe(0);
        expect(second.stderr).toMatch(/etcdutl snapshot status refused|etcdutl refused to restore/);
        expect(fs.readdirSync(dataDir).sort()).toEqual(before);
        members[0].etcd = startEtcd(rendered.stage, members[0], processes, tools);
        await waitHealthy("etcd after the refused restores", ips());
    }, 300000);

    test("the restore refuses while etcd still runs", async () => {
        const fetched = members[1].node.at(`/var/tmp/restore/${path.basename(uploaded)}`);
        fs.mkdirSync(path.dirname(fetched), { recursive: true });
        fs.copyFileSync(members[0].node.at(`/var/tmp/restore/${path.basename(uploaded)}`), fetched);
        fs.copyFileSync(members[0].node.at(`/var/tmp/restore/${path.basename(uploaded)}.sha256`), `${fetched}.sha256`);
        const r = await restoreOn(1, ["restore", fetched]);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain(`etcd still answers on 127.0.0.1:${ETCD_CLIENT_PORT}: stop it first`);
    }, 120000);

    test("whole cluster lost: every data directory wiped, the restore script on each member brings back every key", async () => {
        for (const m of members) await processes.stop(m.etcd);
        for (const [i, m] of members.entries()) {
            fs.rmSync(m.node.at(`${nodePaths.etcdDataDir}/member`), { recursive: true, force: true });
            const file = m.node.at(`/var/tmp/restore/${path.basename(uploaded)}`);
            if (i > 1) {
                fs.mkdirSync(path.dirname(file), { recursive: true });
                fs.copyFileSync(members[0].node.at(`/var/tmp/restore/${path.basename(uploaded)}`), file);
                fs.copyFileSync(members[0].node.at(`/var/tmp/restore/${path.basename(uploaded)}.sha256`), `${file}.sha256`);
            }
            const r = await restoreOn(i, ["restore", file]);
            expect({ member: m.hostname, status: r.status, stderr: r.stderr }).toEqual({
                member: m.hostname,
                status: 0,
                stderr: expect.any(String),
            });
            expect(r.stdout).toContain(`member ${m.hostname} restored`);
        }
        for (const m of members) m.etcd = startEtcd(rendered.stage, m, processes, tools);
        await waitHealthy("the restored cluster", ips());
        const all = etcdctl(ips(), ["get", "/registry/engine/", "--prefix", "--write-out=json"]);
        const kvs = (JSON.parse(all).kvs as { key: string; value: string }[]).map((kv): [string, string] => [
            Buffer.from(kv.key, "base64").toString(),
            Buffer.from(kv.value, "base64").toString(),
        ]);
        expect(kvs).toHaveLength(KEYS);
        expect(new Map(kvs)).toEqual(new Map(Array.from({ length: KEYS }, (_, i) => [`/registry/engine/key-${i}`, value(i)])));
        // The rendered members, by name and peer address, and a revision far ahead of the snapshot's (watchers re-list).
        const list = JSON.parse(etcdctl(ips(), ["member", "list", "--write-out=json"])).members as { name: string; peerURLs: string[] }[];
        expect(list.map((m) => [m.name, m.peerURLs]).sort()).toEqual(
            rendered.plan.controllers.map((c) => [c.hostname, [`https://${c.hostname}:2380`]]).sort(),
        );
        const status = JSON.parse(etcdctl([ips()[0]], ["endpoint", "status", "--write-out=json"]));
        expect(status[0].Status.header.revision).toBeGreaterThan(1000000000);
    }, 600000);

    test("one member lost: its data wiped, `rejoin` re-adds it with the rendered name and it catches up", async () => {
        const lost = members[2];
        await processes.stop(lost.etcd);
        fs.rmSync(lost.node.at(`${nodePaths.etcdDataDir}/member`), { recursive: true, force: true });
        // The two others keep a quorum and take writes meanwhile.
        etcdctl(ips().slice(0, 2), ["put", "/registry/engine/after-the-loss", "written-with-two-members"]);
        const r = await restoreOn(2, ["rejoin"]);
        expect({ status: r.status, output: r.status === 0 ? "" : r.stdout + r.stderr }).toEqual({ status: 0, output: "" });
        expect(r.stdout).toContain(`member ${lost.hostname} re-added`);
        expect(fs.readFileSync(lost.node.at(nodePaths.etcdEnvFile), "utf8")).toContain("ETCD_INITIAL_CLUSTER_STATE=existing");
        lost.etcd = startEtcd(rendered.stage, lost, processes, tools);
        await waitHealthy("the re-added member", [ips()[2]]);
        // Served from the re-added member's own data (a serializable read does not ask the leader).
        const local = etcdctl([ips()[2]], ["get", "/registry/engine/after-the-loss", "--consistency=s", "--print-value-only"]);
        expect(local.trim()).toBe("written-with-two-members");
        const count = etcdctl(
            [ips()[2]],
            ["get", "/registry/engine/", "--prefix", "--count-only", "--consistency=s", "--write-out=fields"],
        );
        expect(count).toMatch(new RegExp(`"Count" : ${KEYS + 1}\\b`));
        const list = JSON.parse(etcdctl(ips(), ["member", "list", "--write-out=json"])).members as { name: string }[];
        expect(list.map((m) => m.name).sort()).toEqual(rendered.plan.controllers.map((c) => c.hostname).sort());
    }, 600000);
});
