/**
 * Nothing stateful is replaced by accident: every resource whose replacement would change an address, a name others
 * record or a credential, or would lose data, is `protect`ed (the engine then refuses to replace or delete it until
 * someone runs `pulumi state unprotect` on purpose), and those with a fixed private address or an account-unique name
 * are deleted before they are replaced (a new one made first would collide with the old). Every resource type the
 * program creates is classified here with the reason; a new type, or a new resource of a guarded kind without its
 * protection, fails the test.
 */
import { RecordedResource } from "../../tools/mockRuntime";
import { listStages } from "../../tools/stageFiles";
import { runStage } from "./helpers";

/** What a resource's replacement would do, and therefore how it must be registered. */
interface Guard {
    /** Must be `protect`ed: why its replacement or deletion must be an explicit act. */
    readonly protect?: string;
    /** Must be deleted before its replacement is created: the fixed address or unique name it holds. */
    readonly deleteFirst?: string;
    /** Neither: why replacing it changes nothing anyone records (what it is derived from). */
    readonly replaceable?: string;
}

const CA_SPECS = /^pki-(ca|etcd-ca|front-proxy-ca)$/;

/** The rule for each resource type the program registers; a function where the rule depends on the resource. */
const GUARDS: Readonly<Record<string, Guard | ((r: RecordedResource) => Guard)>> = {
    "alicloud:vpc/network:Network": { protect: "every fixed address (controllers, API load balancer, NFS node) lies in it" },
    "alicloud:vpc/switch:Switch": { protect: "the fixed addresses lie in its CIDR; every instance in it would go with it" },
    "alicloud:ecs/eipAddress:EipAddress": { protect: "a public address: DNS records, partners' allow-lists and kubeconfigs name it" },
    "alicloud:ecs/eipAssociation:EipAssociation": (r) =>
        /^(network-nat-eip|control-plane-eip)$/.test(r.name)
            ? {
                  protect: "binds a public address to a resource that is never replaced",
                  deleteFirst: "an EIP is bound to one thing at a time",
              }
            : {
                  deleteFirst: "an EIP is bound to one thing at a time",
                  replaceable:
                      "follows its bastion or edge instance, which a new config replaces (protecting it would make the engine refuse that replacement)",
              },
    "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer": {
        protect: "kubelets, kube-proxy and the apiserver certificate name its fixed address; the apiserver EIP is bound to it",
        deleteFirst: "its fixed private address",
    },
    "alicloud:ecs/ecsDisk:EcsDisk": { protect: "etcd's data or every PersistentVolume" },
    "alicloud:nas/fileSystem:FileSystem": { protect: "every PersistentVolume" },
    "alicloud:nas/mountTarget:MountTarget": { protect: "PersistentVolumes record its domain" },
    "alicloud:nas/accessGroup:AccessGroup": {
        protect: "the mount target records it",
        deleteFirst: "its name is unique in the account",
    },
    "alicloud:oss/bucket:Bucket": (r) =>
        r.parent === "mirrors"
            ? {
                  deleteFirst: "bucket names are global",
                  replaceable: "the files mirror: copies of upstream downloads that `npm run mirror` makes again (docs/mirrors.md)",
              }
            : { protect: "etcd's backups", deleteFirst: "bucket names are global" },
    "random:index/randomBytes:RandomBytes": {
        protect: "a Secrets encryption key: every Secret in etcd and in its backups is unreadable without it",
    },
    "tls:index/selfSignedCert:SelfSignedCert": { protect: "a CA: every kubeconfig, kubelet and etcd peer trusts it" },
    "tls:index/privateKey:PrivateKey": (r) =>
        CA_SPECS.test(r.name.replace(/-key$/, ""))
            ? { protect: "a CA's key: a new one is a new CA" }
            : r.name === "pki-service-account-key"
              ? { protect: "signs every service-account token: a new one invalidates them all" }
              : r.name === "bastion-deploy-key"
                ? { protect: "controllers and the NFS node trust only the key they were created with" }
                : { replaceable: "a leaf's key, re-issued with its certificate (docs/pki.md)" },
    "alicloud:ecs/instance:Instance": (r) =>
        r.parent === "controllers" || r.parent === "storage"
            ? {
                  deleteFirst: "its fixed private address (etcd peers, PersistentVolumes name it)",
                  replaceable: "ignores a new config; replaced only when rolled on purpose, its data disk kept",
              }
            : r.parent === "bastion"
              ? { deleteFirst: "its EIP binding", replaceable: "holds nothing; its EIP stays" }
              : { deleteFirst: "one host per Kubernetes node name", replaceable: "a worker or edge node: drained and replaced in batches" },
    "alicloud:ram/role:Role": {
        deleteFirst: "RAM names are unique in the account",
        replaceable: "the controllers' instance role; attachments follow it",
    },
    "alicloud:ram/policy:Policy": {
        deleteFirst: "RAM names are unique in the account",
        replaceable: "derived from the bucket and the VPC",
    },
    "alicloud:slb/aclEntryAttachment:AclEntryAttachment": {
        deleteFirst: "an entry is unique in its ACL",
        replaceable: "derived from the config",
    },
};

/** Everything derived from the config and replaced without losing an address, a recorded name, a credential or data. */
const DERIVED = [
    "alicloud:ecs/autoSnapshotPolicy:AutoSnapshotPolicy",
    "alicloud:ecs/ecsAutoSnapshotPolicyAttachment:EcsAutoSnapshotPolicyAttachment",
    "alicloud:ecs/ecsDiskAttachment:EcsDiskAttachment",
    "alicloud:ecs/imageImport:ImageImport",
    "alicloud:ecs/ramRoleAttachment:RamRoleAttachment",
    "alicloud:ecs/securityGroup:SecurityGroup",
    "alicloud:ecs/securityGroupRule:SecurityGroupRule",
    "alicloud:nas/accessRule:AccessRule",
    "alicloud:oss/bucketAcl:BucketAcl",
    "alicloud:oss/bucketPolicy:BucketPolicy",
    "alicloud:oss/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "alicloud:ram/rolePolicyAttachment:RolePolicyAttachment",
    "alicloud:slb/acl:Acl",
    "alicloud:slb/backendServer:BackendServer",
    "alicloud:slb/listener:Listener",
    "alicloud:vpc/natGateway:NatGateway",
    "alicloud:vpc/snatEntry:SnatEntry",
    "command:remote:Command",
    "random:index/randomPassword:RandomPassword",
    "random:index/randomString:RandomString",
    "tls:index/certRequest:CertRequest",
    "tls:index/locallySignedCert:LocallySignedCert",
    // The Kubernetes provider replaces a named object delete-first, and a Service's fixed clusterIP is taken again.
    "pulumi:providers:kubernetes",
];

function guardOf(r: RecordedResource): Guard | undefined {
    if (r.type.startsWith("kubernetes:") || DERIVED.includes(r.type)) return { replaceable: "derived from the config" };
    const rule = GUARDS[r.type];
    return typeof rule === "function" ? rule(r) : rule;
}

/** What is wrong with how `resources` guard their state: one line per resource. */
function guardProblems(resources: readonly RecordedResource[]): string[] {
    const problems: string[] = [];
    for (const r of resources.filter((x) => x.custom)) {
        const guard = guardOf(r);
        if (!guard) {
            problems.push(
                `${r.type} ${r.name}: unclassified; decide whether its replacement changes an address, a recorded name or a credential`,
            );
            continue;
        }
        if (guard.protect && !r.protect) problems.push(`${r.type} ${r.name}: not protected (${guard.protect})`);
        if (!guard.protect && r.protect)
            problems.push(`${r.type} ${r.name}: protected, but classified as replaceable (${guard.replaceable})`);
        if (guard.deleteFirst && !r.deleteBeforeReplace)
            problems.push(`${r.type} ${r.name}: not deleted before replaced (${guard.deleteFirst})`);
    }
    return problems;
}

const STAGES = listStages();
const runs = new Map<string, RecordedResource[]>();

beforeAll(async () => {
    for (const stage of STAGES) runs.set(stage, (await runStage(stage)).resources);
}, 600000);

test.each(STAGES)("%s: every resource is classified, and each guarded one is protected and, where it must, deleted first", (stage) => {
    expect(guardProblems(runs.get(stage)!)).toEqual([]);
});

test("the protected resources of prod, by kind: addresses, names others record, credentials and data", () => {
    const prod = runs.get("prod")!;
    const protectedNames = prod.filter((r) => r.protect).map((r) => `${r.type.split(":").pop()} ${r.name}`);
    expect(protectedNames.sort()).toEqual(
        [
            "AccessGroup storage-access",
            "ApplicationLoadBalancer control-plane-lb",
            "Bucket etcd-backups-bucket",
            "EcsDisk controllers-0-etcd",
            "EcsDisk controllers-1-etcd",
            "EcsDisk controllers-2-etcd",
            "EipAddress eips-apiserver",
            "EipAddress eips-bastion",
            "EipAddress eips-edge-0",
            "EipAddress eips-edge-1",
            "EipAddress eips-edge-2",
            "EipAddress eips-edge-3",
            "EipAddress eips-nat",
            "EipAssociation control-plane-eip",
            "EipAssociation network-nat-eip",
            "FileSystem storage-nas",
            "MountTarget storage-mount",
            "Network network-vpc",
            "PrivateKey bastion-deploy-key",
            "PrivateKey pki-ca-key",
            "PrivateKey pki-etcd-ca-key",
            "PrivateKey pki-front-proxy-ca-key",
            "PrivateKey pki-service-account-key",
            "RandomBytes pki-secrets-encryption-key-1",
            "SelfSignedCert pki-ca",
            "SelfSignedCert pki-etcd-ca",
            "SelfSignedCert pki-front-proxy-ca",
            "Switch network-nodes-cn-hangzhou-i",
            "Switch network-nodes-cn-hangzhou-j",
            "Switch network-nodes-cn-hangzhou-k",
            "Switch network-public",
        ].sort(),
    );
});

test("the check fails on a new unprotected resource of a guarded kind, and on a type nobody classified", () => {
    const prod = runs.get("prod")!;
    const eip = prod.find((r) => r.name === "eips-edge-0")!;
    const lb = prod.find((r) => r.name === "control-plane-lb")!;
    const crafted = [
        { ...eip, name: "eips-edge-9", protect: false },
        { ...lb, deleteBeforeReplace: false },
        { ...eip, type: "alicloud:rds/instance:Instance", name: "orders-db" },
    ];
    expect(guardProblems(crafted)).toEqual([
        "alicloud:ecs/eipAddress:EipAddress eips-edge-9: not protected (a public address: DNS records, partners' allow-lists and kubeconfigs name it)",
        "alicloud:slb/applicationLoadBalancer:ApplicationLoadBalancer control-plane-lb: not deleted before replaced (its fixed private address)",
        "alicloud:rds/instance:Instance orders-db: unclassified; decide whether its replacement changes an address, a recorded name or a credential",
    ]);
});
