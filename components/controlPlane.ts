import * as alicloud from "@pulumi/alicloud";
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    ControlPlaneSettings,
    RegistrySettings,
    apiAccessList,
    cidrSlug,
    controllerFiles,
    renderBootstrapManifests,
    renderBootstrapScript,
    renderReadinessScript,
} from "../controlplane";
import { API_SERVER_PORT, LOCAL_API_SERVER_URL } from "../layout/cluster";
import { nodePaths } from "../layout/node";
import { ControllerAddress, certOf, keyOf } from "../pki";
import { versions } from "../versions";
import type { Bastion, SshConnection } from "./bastion";
import { ClusterPki } from "./clusterPki";
import { StageIdentity, physicalName } from "./common";
import { EipClaimHandle, associateEip } from "./eipPool";
import { installNodeFiles } from "./nodeFiles";

/** A controller as the control plane needs it (a controller pool's `PoolNode`): its plan and its ECS instance. */
export interface ControlPlaneController {
    /** Its planned name (= etcd member name) and fixed address, which certificates and etcd's member list name. */
    readonly planned: ControllerAddress;
    /** The ECS instance: a backend of the API load balancer, and what file delivery waits for. */
    readonly instance: pulumi.CustomResource;
    /** SSH to it through the bastion, host key pinned (`PoolNode.connection`). */
    readonly connection: SshConnection;
}

/** Arguments of a `ControlPlane`. */
export interface ControlPlaneArgs {
    /** Names and tags of the stage. */
    readonly identity: StageIdentity;
    /** The cluster PKI: certificates, keys and token the controllers receive, and the admin kubeconfig. */
    readonly pki: Pick<ClusterPki, "material" | "clusterName" | "caCertPem" | "adminKubeconfig" | "breakGlassKubeconfig">;
    /** The internal API load balancer's fixed address (`planCluster(cfg).apiServerInternalAddress`), in `vswitchId`. */
    readonly apiServerInternalAddress: string;
    /** Cluster networking: the service and pod CIDRs. */
    readonly cluster: { readonly serviceCidr: string; readonly podCidr: string };
    /** The VPC's CIDR: admitted by the API's access list (kubelets, kube-proxy, the bastion). */
    readonly vpcCidr: string;
    /** The team's networks: admitted by the API's access list through the `apiserver` EIP. At least one. */
    readonly adminCidrs: readonly string[];
    /** The first node vSwitch, which holds the load balancer's fixed address. */
    readonly vswitchId: pulumi.Input<string>;
    /** The EIP of claim `apiserver`, bound to the load balancer: the public API endpoint. */
    readonly apiserverEip: EipClaimHandle;
    /** The controllers, in plan order: the controller pool's `nodes`. At least one. */
    readonly controllers: readonly ControlPlaneController[];
    /** The bastion: every command reaches the controllers through it. */
    readonly bastion: Pick<Bastion, "connection" | "ready">;
    /** The registries the controllers pull from and their mirrors (`registrySettings(cfg)`). */
    readonly registries: RegistrySettings;
}

/**
 * The control plane: an intranet load balancer on 6443 in front of the controllers (with the `apiserver` EIP and
 * a whitelist of the team's networks and the VPC); every controller's keys, kubeconfigs and static pods copied
 * over SSH through the bastion; a one-shot bootstrap of the RBAC that lets nodes join; a readiness wait on
 * /healthz; and the `kubernetes.Provider` every later layer uses, which waits for that readiness.
 *
 * Commands re-run only when what they carry changes (their inputs are content, never timestamps), so a second
 * `pulumi up` with the same config runs nothing. Renewed certificates change the delivered files, so they are
 * copied again and the static pods restart with them.
 */
export class ControlPlane extends pulumi.ComponentResource {
    /** The team's admin kubeconfig (cluster-admin through RBAC) for https://<apiserver EIP>:6443. Secret. */
    public readonly kubeconfig: pulumi.Output<string>;
    /** https://<apiserver EIP>:6443 */
    public readonly apiEndpoint: pulumi.Output<string>;
    /** The provider of every Kubernetes resource of the stage; it waits for `readiness`. */
    public readonly provider: k8s.Provider;
    /** The readiness wait: the API answered /healthz through the load balancer. */
    public readonly readiness: command.remote.Command;
    /** The load balancer's id. */
    public readonly loadBalancerId: pulumi.Output<string>;

    constructor(name: string, args: ControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:ControlPlane", name, {}, opts);
        const problems = controlPlaneArgsProblems(args);
        if (problems.length > 0) {
            throw new pulumi.ResourceError(`ControlPlane ${name}: ${problems.join("; ")}`, this);
        }
        const access = apiAccessList(args.adminCidrs, args.vpcCidr);
        if ("problems" in access) {
            throw new pulumi.ResourceError(`ControlPlane ${name}: ${access.problems.join("; ")}`, this);
        }
        const settings: ControlPlaneSettings = {
            clusterName: args.pki.clusterName,
            serviceCidr: args.cluster.serviceCidr,
            podCidr: args.cluster.podCidr,
            controllers: args.controllers.map((c) => c.planned),
            registries: args.registries,
        };
        const tags = { ...args.identity.tags, role: "apiserver" };

        // The load balancer: intranet, at the plan's fixed address, so certificates and kubelets know it in advance.
        const lb = new alicloud.slb.ApplicationLoadBalancer(
            `${name}-lb`,
            {
                loadBalancerName: physicalName(args.identity, "apiserver"),
                addressType: "intranet",
                address: args.apiServerInternalAddress,
                vswitchId: args.vswitchId,
                instanceChargeType: "PayByCLCU",
                paymentType: "PayAsYouGo",
                tags,
            },
            // Kubelets, kube-proxy and the apiserver certificate name its fixed address, and the apiserver EIP is bound to
            // it: never replaced by accident, and a deliberate replacement frees the address before taking it again.
            { parent: this, protect: true, deleteBeforeReplace: true },
        );
        const acl = new alicloud.slb.Acl(
            `${name}-acl`,
            { name: physicalName(args.identity, "apiserver-acl"), ipVersion: "ipv4", tags },
            { parent: this },
        );
        // One entry per network, keyed by the network: adding an admin CIDR touches no other entry.
        const aclEntries = access.entries.map(
            (entry) =>
                // entry and comment are ForceNew: the old entry must go before the same CIDR is added again.
                new alicloud.slb.AclEntryAttachment(
                    `${name}-acl-${cidrSlug(entry.cidr)}`,
                    { aclId: acl.id, entry: entry.cidr, comment: entry.comment },
                    { parent: this, deleteBeforeReplace: true },
                ),
        );
        const listener = new alicloud.slb.Listener(
            `${name}-listener`,
            {
                loadBalancerId: lb.id,
                protocol: "tcp",
                frontendPort: API_SERVER_PORT,
                backendPort: API_SERVER_PORT,
                // -1: no bandwidth cap (an intranet load balancer is not billed by bandwidth).
                bandwidth: -1,
                scheduler: "wrr",
                // A TCP check: the apiserver answers unauthenticated HTTP with 401 (anonymous auth is off).
                healthCheck: "on",
                healthCheckType: "tcp",
                healthCheckConnectPort: API_SERVER_PORT,
                healthCheckInterval: 5,
                healthyThreshold: 2,
                unhealthyThreshold: 3,
                aclStatus: "on",
                aclType: "white",
                aclIds: [acl.id],
                description: "Kubernetes API (kube-apiserver on the controllers)",
            },
            { parent: this, dependsOn: aclEntries },
        );
        const backends = new alicloud.slb.BackendServer(
            `${name}-backends`,
            { loadBalancerId: lb.id, backendServers: args.controllers.map((c) => ({ serverId: c.instance.id, weight: 100, type: "ecs" })) },
            { parent: this },
        );
        const eipAssociation = associateEip(
            `${name}-eip`,
            args.apiserverEip,
            { instanceId: lb.id, instanceType: "SlbInstance" },
            this,
            true,
        );

        // Files: each controller's keys, kubeconfigs, etcd certificates and static pods, over SSH through the bastion.
        // One controller after the other: a renewed certificate restarts that controller's static pods (and, for the
        // etcd CA, its etcd member), and the others keep serving meanwhile.
        const deliveries: command.remote.Command[] = [];
        args.controllers.forEach((controller, i) => {
            const delivery = installNodeFiles(
                `${name}-files-${i}`,
                {
                    target: `controller ${controller.planned.hostname}`,
                    connection: controller.connection,
                    files: args.pki.material.apply((material) => controllerFiles(material, settings, i)),
                    secret: true,
                    // A replaced (rolled) controller is a new instance that needs its files again.
                    instance: controller.instance,
                    after: [...args.bastion.ready, ...deliveries.slice(-1)],
                },
                this,
            );
            deliveries.push(delivery);
        });

        // The one-shot bootstrap on the first controller, once every controller has its files (etcd's quorum).
        const first = args.controllers[0];
        // RBAC can only be bootstrapped as system:masters: the break-glass credential travels in the (secret) script.
        const bootstrapScript = args.pki.breakGlassKubeconfig(LOCAL_API_SERVER_URL).apply((breakGlassKubeconfig) =>
            renderBootstrapScript({
                target: `controller ${first.planned.hostname}`,
                manifests: renderBootstrapManifests(),
                markerPath: nodePaths.bootstrapDoneMarker,
                breakGlassKubeconfig,
                kubectlImage: versions.images.kubectl,
            }),
        );
        const bootstrap = new command.remote.Command(
            `${name}-bootstrap`,
            {
                connection: first.connection,
                create: "sudo bash -s",
                stdin: pulumi.secret(bootstrapScript),
                addPreviousOutputInEnv: false,
            },
            { parent: this, dependsOn: [...args.bastion.ready, ...deliveries], additionalSecretOutputs: ["stdin"] },
        );

        // Readiness: /healthz through the internal load balancer, from the bastion (inside the VPC).
        const readinessScript = args.pki.material.apply((material) =>
            renderReadinessScript({
                url: `https://${args.apiServerInternalAddress}:${API_SERVER_PORT}/healthz`,
                caCertPem: certOf(material, "ca"),
                clientCertPem: certOf(material, "healthcheck"),
                clientKeyPem: keyOf(material, "healthcheck"),
            }),
        );
        this.readiness = new command.remote.Command(
            `${name}-readiness`,
            {
                connection: args.bastion.connection,
                create: "bash -s",
                stdin: pulumi.secret(readinessScript),
                addPreviousOutputInEnv: false,
            },
            {
                parent: this,
                dependsOn: [...args.bastion.ready, bootstrap, listener, backends, ...aclEntries],
                additionalSecretOutputs: ["stdin"],
            },
        );

        this.loadBalancerId = lb.id;
        this.apiEndpoint = pulumi.interpolate`https://${args.apiserverEip.address}:${API_SERVER_PORT}`;
        this.kubeconfig = args.pki.adminKubeconfig(this.apiEndpoint);
        // The machine running pulumi reaches the API through the EIP, so it must be in adminCidrs (docs/control-plane.md).
        this.provider = new k8s.Provider(
            `${name}-provider`,
            { kubeconfig: this.kubeconfig },
            { parent: this, dependsOn: [this.readiness, eipAssociation] },
        );
        this.registerOutputs({ kubeconfig: this.kubeconfig, apiEndpoint: this.apiEndpoint, loadBalancerId: this.loadBalancerId });
    }
}

/** Checks what the types cannot: one message per problem, naming the property. */
export function controlPlaneArgsProblems(args: Pick<ControlPlaneArgs, "controllers">): string[] {
    return args.controllers.length === 0 ? ["controllers must list at least one controller"] : [];
}
