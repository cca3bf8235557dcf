import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import { API_SERVER_PORT, ETCD_CLIENT_PORT, ETCD_PEER_PORT, FLANNEL_VXLAN_PORT, KUBELET_PORT, METRICS_PORTS } from "../layout/cluster";
import { StageIdentity, physicalName } from "./common";
import { EipClaimHandle, associateEip } from "./eipPool";

/** The security groups of a stage. Instances join several (a controller is in `nodes` and `controllers`). */
export type SecurityGroupName = NetworkGroupName | "nfs";

/** The groups the network creates (the NFS server's group comes with it). */
export type NetworkGroupName = "bastion" | "nodes" | "controllers" | "edge";

/** Where a rule admits traffic from: networks, or the members of another group. */
export type RuleSource = { readonly cidr: string } | { readonly group: SecurityGroupName };

/** One ingress rule, as plain data (tests pin the exact set; the component turns each into a resource). */
export interface IngressRule {
    readonly group: SecurityGroupName;
    readonly protocol: "tcp" | "udp";
    /** Alibaba port range, "22/22" or "2379/2380". */
    readonly ports: string;
    readonly source: RuleSource;
    /** Why the rule exists (becomes the rule's description). */
    readonly why: string;
}

/**
 * Alibaba's health checks and the internal load balancer's forwarded traffic come from 100.64.0.0/10
 * (https://www.alibabacloud.com/help/en/slb/classic-load-balancer/): inside Alibaba's network, not the internet.
 */
export const ALIBABA_HEALTH_CHECK_CIDR = "100.64.0.0/10";

/**
 * The complete ingress policy of a stage (docs/design.md, "Security groups"). Egress stays Alibaba's default
 * (allow), so nodes reach the internet through the NAT gateway.
 */
export function ingressRules(adminCidrs: readonly string[], observability: boolean): IngressRule[] {
    const api = portRange(API_SERVER_PORT);
    const fromAdmins = (group: SecurityGroupName, ports: string, why: string): IngressRule[] =>
        adminCidrs.map((cidr) => ({ group, protocol: "tcp", ports, source: { cidr }, why }));
    return [
        ...fromAdmins("bastion", "22/22", "SSH to the bastion from the team's networks"),
        { group: "nodes", protocol: "tcp", ports: "22/22", source: { group: "bastion" }, why: "SSH to nodes only through the bastion" },
        ...fromAdmins("controllers", api, "Kubernetes API from the team's networks (through the API load balancer's EIP)"),
        {
            group: "controllers",
            protocol: "tcp",
            ports: api,
            source: { group: "nodes" },
            why: "Kubernetes API from kubelets and pods",
        },
        {
            group: "controllers",
            protocol: "tcp",
            ports: api,
            source: { group: "bastion" },
            why: "API readiness checks run on the bastion",
        },
        {
            group: "controllers",
            protocol: "tcp",
            ports: api,
            source: { cidr: ALIBABA_HEALTH_CHECK_CIDR },
            why: "API load balancer health checks",
        },
        {
            group: "controllers",
            protocol: "tcp",
            ports: portRange(ETCD_CLIENT_PORT, ETCD_PEER_PORT),
            source: { group: "controllers" },
            why: "etcd clients and peers between controllers",
        },
        {
            group: "nodes",
            protocol: "tcp",
            ports: portRange(KUBELET_PORT),
            source: { group: "controllers" },
            why: "kube-apiserver to kubelets (logs, exec, port-forward)",
        },
        {
            group: "nodes",
            protocol: "udp",
            ports: portRange(FLANNEL_VXLAN_PORT),
            source: { group: "nodes" },
            why: "flannel VXLAN between nodes",
        },
        { group: "edge", protocol: "tcp", ports: "80/80", source: { cidr: "0.0.0.0/0" }, why: "HTTP to the ingress on edge nodes" },
        { group: "edge", protocol: "tcp", ports: "443/443", source: { cidr: "0.0.0.0/0" }, why: "HTTPS to the ingress on edge nodes" },
        ...(observability ? metricsRules() : []),
    ];
}

/**
 * What Prometheus (a pod on a node, whose traffic to other nodes leaves with its node's address) scrapes, from the
 * nodes only: kubelets and node_exporter everywhere, etcd's metrics listener, controller-manager and scheduler on
 * the controllers, ingress-nginx on the edge nodes, node_exporter on the bastion. Nothing from outside the VPC.
 */
function metricsRules(): IngressRule[] {
    const fromNodes = (group: SecurityGroupName, port: number, why: string): IngressRule => ({
        group,
        protocol: "tcp",
        ports: portRange(port),
        source: { group: "nodes" },
        why,
    });
    return [
        fromNodes("nodes", KUBELET_PORT, "Prometheus scrapes kubelets and cAdvisor"),
        fromNodes("nodes", METRICS_PORTS.nodeExporter, "Prometheus scrapes node_exporter"),
        fromNodes("controllers", METRICS_PORTS.etcd, "Prometheus scrapes etcd's metrics listener (client certificate)"),
        fromNodes("controllers", METRICS_PORTS.controllerManager, "Prometheus scrapes kube-controller-manager"),
        fromNodes("controllers", METRICS_PORTS.scheduler, "Prometheus scrapes kube-scheduler"),
        fromNodes("edge", METRICS_PORTS.ingressNginx, "Prometheus scrapes ingress-nginx"),
        fromNodes("bastion", METRICS_PORTS.nodeExporter, "Prometheus scrapes node_exporter on the bastion"),
    ];
}

/** Alibaba's port-range notation: "6443/6443", "2379/2380". */
export function portRange(from: number, to: number = from): string {
    return `${from}/${to}`;
}

/** A rule's logical name: what it opens and from where, so adding an admin CIDR never renames another rule. */
export function ruleResourceName(owner: string, rule: IngressRule): string {
    const from = "cidr" in rule.source ? rule.source.cidr.replace(/[./]/g, "_") : `sg-${rule.source.group}`;
    return `${owner}-rule-${rule.group}-${rule.protocol}-${rule.ports.replace("/", "-")}-from-${from}`;
}

/** Creates one security-group rule resource per `IngressRule`; `groupIds` maps every group the rules name. */
export function createIngressRules(
    owner: string,
    rules: readonly IngressRule[],
    groupIds: Partial<Record<SecurityGroupName, pulumi.Input<string>>>,
    parent: pulumi.Resource,
): void {
    const groupId = (group: SecurityGroupName) => {
        const id = groupIds[group];
        if (id === undefined) {
            throw new pulumi.ResourceError(`security group ${group} is not known to ${owner}`, parent);
        }
        return id;
    };
    for (const rule of rules) {
        new alicloud.ecs.SecurityGroupRule(
            ruleResourceName(owner, rule),
            {
                securityGroupId: groupId(rule.group),
                type: "ingress",
                ipProtocol: rule.protocol,
                portRange: rule.ports,
                nicType: "intranet",
                policy: "accept",
                priority: 1,
                description: rule.why,
                ...("cidr" in rule.source ? { cidrIp: rule.source.cidr } : { sourceSecurityGroupId: groupId(rule.source.group) }),
            },
            { parent },
        );
    }
}

/** Arguments of a `Network`. */
export interface NetworkArgs {
    /** Names and tags of the stage. */
    readonly identity: StageIdentity;
    /** The VPC's CIDR. */
    readonly vpcCidr: string;
    /** The public vSwitch (bastion, NAT gateway). */
    readonly publicVswitch: { readonly zone: string; readonly cidr: string };
    /** One node vSwitch per zone, at least two. */
    readonly nodeVswitches: readonly { readonly zone: string; readonly cidr: string }[];
    /** Networks allowed to reach the bastion and the API. */
    readonly adminCidrs: readonly string[];
    /** Whether Prometheus runs in the cluster (config observability.enabled): the nodes may then scrape metrics ports. */
    readonly observability: boolean;
    /** The EIP the NAT gateway sends node traffic from (claim `nat`). */
    readonly natEip: EipClaimHandle;
}

/**
 * The stage's network: VPC, node vSwitches in several zones, a public vSwitch, a NAT gateway whose SNAT entries
 * let nodes without an EIP reach the internet, and the security groups with exactly the rules of `ingressRules`.
 */
export class Network extends pulumi.ComponentResource {
    public readonly vpcId: pulumi.Output<string>;
    public readonly publicVswitchId: pulumi.Output<string>;
    /** Node vSwitch ids in the order of the zones. */
    public readonly nodeVswitchIds: pulumi.Output<string>[];
    /** The node vSwitches in the order of the zones: id, zone and CIDR. */
    public readonly nodeVswitches: readonly { readonly id: pulumi.Output<string>; readonly zone: string; readonly cidr: string }[];
    public readonly securityGroupIds: Readonly<Record<NetworkGroupName, pulumi.Output<string>>>;
    public readonly natGatewayId: pulumi.Output<string>;
    /** What nodes without an EIP need before they boot: their first boot downloads the kubelet through the NAT. */
    public readonly outboundReady: pulumi.Resource[];

    constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:Network", name, {}, opts);
        const tags = args.identity.tags;
        const vpc = new alicloud.vpc.Network(
            `${name}-vpc`,
            { vpcName: physicalName(args.identity, "vpc"), cidrBlock: args.vpcCidr, description: "Kubernetes on Fedora CoreOS", tags },
            // Every fixed address (controllers, API load balancer, NFS node) lies in it: a new VPC is a new cluster.
            { parent: this, protect: true },
        );
        const vswitch = (key: string, plan: { zone: string; cidr: string }) =>
            new alicloud.vpc.Switch(
                `${name}-${key}`,
                { vpcId: vpc.id, zoneId: plan.zone, cidrBlock: plan.cidr, vswitchName: physicalName(args.identity, key), tags },
                // The fixed addresses live in these CIDRs, and every instance in a vSwitch would go with it.
                { parent: this, protect: true },
            );
        const publicVswitch = vswitch("public", args.publicVswitch);
        // Keyed by zone, not position, so that adding a zone never renames an existing vSwitch.
        const nodeVswitches = args.nodeVswitches.map((plan) => vswitch(`nodes-${plan.zone}`, plan));

        const nat = new alicloud.vpc.NatGateway(
            `${name}-nat`,
            {
                vpcId: vpc.id,
                vswitchId: publicVswitch.id,
                natGatewayName: physicalName(args.identity, "nat"),
                natType: "Enhanced",
                networkType: "internet",
                paymentType: "PayAsYouGo",
                internetChargeType: "PayByLcu",
                description: "Outbound internet for nodes without an EIP",
                tags,
            },
            { parent: this },
        );
        // The nodes' outbound address, which partners allow-list.
        const natEip = associateEip(`${name}-nat-eip`, args.natEip, { instanceId: nat.id, instanceType: "Nat" }, this, true);
        this.outboundReady = args.nodeVswitches.map(
            (plan, i) =>
                new alicloud.vpc.SnatEntry(
                    `${name}-snat-${plan.zone}`,
                    {
                        snatTableId: nat.snatTableIds,
                        sourceVswitchId: nodeVswitches[i].id,
                        snatIp: args.natEip.address,
                        snatEntryName: physicalName(args.identity, "snat", plan.zone),
                    },
                    { parent: this, dependsOn: [natEip] },
                ),
        );

        const groupIds = {} as Record<NetworkGroupName, pulumi.Output<string>>;
        for (const group of ["bastion", "nodes", "controllers", "edge"] as const) {
            groupIds[group] = new alicloud.ecs.SecurityGroup(
                `${name}-sg-${group}`,
                {
                    vpcId: vpc.id,
                    securityGroupName: physicalName(args.identity, group),
                    description: `${group} of ${args.identity.namePrefix}`,
                    // Members of a group do not reach each other unless a rule says so.
                    innerAccessPolicy: "Drop",
                    tags,
                },
                { parent: this },
            ).id;
        }
        createIngressRules(name, ingressRules(args.adminCidrs, args.observability), groupIds, this);

        this.vpcId = vpc.id;
        this.publicVswitchId = publicVswitch.id;
        this.nodeVswitchIds = nodeVswitches.map((s) => s.id);
        this.nodeVswitches = args.nodeVswitches.map((plan, i) => ({ id: nodeVswitches[i].id, zone: plan.zone, cidr: plan.cidr }));
        this.securityGroupIds = groupIds;
        this.natGatewayId = nat.id;
        this.registerOutputs({
            vpcId: this.vpcId,
            publicVswitchId: this.publicVswitchId,
            nodeVswitchIds: this.nodeVswitchIds,
            securityGroupIds: this.securityGroupIds,
        });
    }
}
