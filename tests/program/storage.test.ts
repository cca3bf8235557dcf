/**
 * Shared storage follows the config in place: a new zone (a new node vSwitch) reaches the running NFS server's export
 * list over SSH (Ignition runs once, and the NFS node is never replaced by a new config), and adds exactly one NAS
 * access rule. Snapshots of the stage's data disks are released with the disks only in a throwaway stage.
 */
import { revealSecrets } from "../../tools/mockRuntime";
import { nodePaths } from "../../layout/node";
import { byKey, diffRuns, ofType, runStage } from "./helpers";

/** The files an install script carries, by path (`renderInstallScript`'s heredocs). */
function installedFiles(stdin: string): Map<string, string> {
    const files = new Map<string, string>();
    for (const m of stdin.matchAll(/^install_file '([^']+)' .*<<'PLATFORM_EOF'\n([A-Za-z0-9+/=]+)\nPLATFORM_EOF$/gm)) {
        files.set(m[1], Buffer.from(m[2], "base64").toString("utf8"));
    }
    return files;
}

test("nfs-server: a new zone changes the running server's export list in place, and nothing else of the storage", async () => {
    const before = await runStage("dev");
    const after = await runStage("dev", { zones: ["cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"] });
    const diff = diffRuns(before, after);
    const storage = (keys: string[]) =>
        keys.filter((k) => byKey(after).get(k)?.parent === "storage" || byKey(before).get(k)?.parent === "storage");
    expect(storage(diff.changed)).toEqual(["command:remote:Command::storage-exports"]);
    expect(storage(diff.added)).toEqual([]);
    expect(storage(diff.removed)).toEqual([]);

    const exportsOf = (run: typeof before) => {
        const delivery = byKey(run).get("command:remote:Command::storage-exports")!;
        const file = installedFiles(String(revealSecrets(delivery.inputs.stdin))).get("/etc/exports")!;
        return file.trim().split(/\s+/);
    };
    expect(exportsOf(before)).toEqual([
        nodePaths.nfsExportDir,
        "10.10.16.0/20(rw,sync,no_subtree_check,all_squash,anonuid=65534,anongid=65534)",
        "10.10.32.0/20(rw,sync,no_subtree_check,all_squash,anonuid=65534,anongid=65534)",
    ]);
    expect(exportsOf(after).slice(1)).toEqual([
        ...exportsOf(before).slice(1),
        "10.10.48.0/20(rw,sync,no_subtree_check,all_squash,anonuid=65534,anongid=65534)",
    ]);
    // Delivered to the NFS node through the bastion, and reloaded there (exportfs -r), not restarted.
    const delivery = byKey(after).get("command:remote:Command::storage-exports")!;
    expect(delivery.inputs.triggers).toEqual(["storage-node-id"]);
    expect(String(revealSecrets(delivery.inputs.stdin))).toContain("install_file '/etc/exports' 0644 host - nfs-server.service");
});

test("NAS: a new zone adds one access rule for its vSwitch and changes no other rule", async () => {
    const before = await runStage("staging");
    const after = await runStage("staging", { zones: ["cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k", "cn-hangzhou-h"] });
    const diff = diffRuns(before, after);
    const nas = (keys: string[]) => keys.filter((k) => k.startsWith("alicloud:nas/"));
    expect(nas(diff.added)).toEqual(["alicloud:nas/accessRule:AccessRule::storage-access-10_20_64_0_20"]);
    expect(nas(diff.changed)).toEqual([]);
    expect(nas(diff.removed)).toEqual([]);
    expect(byKey(after).get("alicloud:nas/accessRule:AccessRule::storage-access-10_20_64_0_20")!.inputs).toMatchObject({
        sourceCidrIp: "10.20.64.0/20",
        rwAccessType: "RDWR",
    });
});

test("a throwaway stage's disks take their automatic snapshots with them; a real stage's keep them", async () => {
    const kept = await runStage("dev");
    const throwaway = await runStage("dev", { keepDataOnDestroy: false });
    const disks = (run: typeof kept) =>
        ofType(run, "alicloud:ecs/ecsDisk:EcsDisk").map((d) => [d.name, d.inputs.deleteAutoSnapshot, d.retainOnDelete]);
    expect(disks(kept)).toEqual([
        ["controllers-0-etcd", false, false],
        ["storage-data", false, true],
    ]);
    expect(disks(throwaway)).toEqual([
        ["controllers-0-etcd", true, false],
        ["storage-data", true, false],
    ]);
    // Every data disk is under a daily snapshot policy; a throwaway stage's controllers' system disks are not.
    expect(ofType(kept, "alicloud:ecs/ecsAutoSnapshotPolicyAttachment:EcsAutoSnapshotPolicyAttachment")).toHaveLength(2);
    const controller = (run: typeof kept) => byKey(run).get("alicloud:ecs/instance:Instance::controllers-0")!.inputs;
    expect(controller(kept).systemDiskAutoSnapshotPolicyId).toBe("controllers-snapshots-id");
    expect(controller(throwaway).systemDiskAutoSnapshotPolicyId).toBeUndefined();
    // The etcd backup bucket: emptied by a throwaway stage's destroy, left in place by a real stage's.
    const bucket = (run: typeof kept) => byKey(run).get("alicloud:oss/bucket:Bucket::etcd-backups-bucket")!;
    expect([bucket(kept).inputs.forceDestroy, bucket(kept).retainOnDelete]).toEqual([false, true]);
    expect([bucket(throwaway).inputs.forceDestroy, bucket(throwaway).retainOnDelete]).toEqual([true, false]);
}, 300000);
