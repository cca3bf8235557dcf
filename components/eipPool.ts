import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import { eipQuotaProblem } from "../config/rules";
import { StageIdentity, physicalName } from "./common";

/** Arguments of an `EipPool`. */
export interface EipPoolArgs {
    /** Names and tags of the stage. */
    readonly identity: StageIdentity;
    /** The named claims (`bastion`, `nat`, `apiserver`, `edge-0`, ...); one EIP each. */
    readonly claims: readonly { readonly name: string; readonly group: string }[];
    /** How many EIPs this stage may hold (config key `eipQuota`). */
    readonly quota: number;
    /** Peak bandwidth of each EIP in Mbit/s (config key `eipBandwidthMbps`). */
    readonly bandwidthMbps: number;
    /** Peak bandwidth of particular claims, overriding `bandwidthMbps` (the NAT's: config key `natBandwidthMbps`). */
    readonly bandwidthByClaim: Readonly<Record<string, number>>;
}

/** One claimed EIP. */
export interface EipClaimHandle {
    readonly allocationId: pulumi.Output<string>;
    readonly address: pulumi.Output<string>;
}

/** What an EIP is bound to: an ECS instance, the NAT gateway or the API load balancer. */
export interface EipTarget {
    readonly instanceId: pulumi.Input<string>;
    readonly instanceType: "EcsInstance" | "Nat" | "SlbInstance";
}

/**
 * Binds a claimed EIP to its consumer; `name` is the association's logical name, a child of `parent`.
 * When the consumer is replaced, the old binding goes first: an EIP is bound to one thing at a time, and a
 * new binding made while the old one still exists fails (IncorrectEipStatus) until it times out.
 *
 * `protect` for a consumer that is itself never replaced (the NAT gateway, the API load balancer): its public
 * address then cannot come off by accident. A bastion's or edge node's binding follows its instance, which is replaced
 * with a new config; protecting it would make the engine refuse that replacement.
 */
export function associateEip(
    name: string,
    eip: EipClaimHandle,
    target: EipTarget,
    parent: pulumi.Resource,
    protect = false,
): alicloud.ecs.EipAssociation {
    return new alicloud.ecs.EipAssociation(
        name,
        { allocationId: eip.allocationId, instanceId: target.instanceId, instanceType: target.instanceType },
        { parent, deleteBeforeReplace: true, protect },
    );
}

/**
 * The stage's public addresses: one EIP per named claim, checked against the account quota before anything is
 * created. Each EIP is keyed by its claim's name, so adding or removing a claim never touches another one.
 * Consumers associate their claim themselves (NAT, bastion, API load balancer, edge nodes).
 */
export class EipPool extends pulumi.ComponentResource {
    /** Claim name -> public address. */
    public readonly addresses: pulumi.Output<Record<string, string>>;
    private readonly eips: ReadonlyMap<string, alicloud.ecs.EipAddress>;

    constructor(name: string, args: EipPoolArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:EipPool", name, {}, opts);
        const unknown = Object.keys(args.bandwidthByClaim).filter((c) => !args.claims.some((claim) => claim.name === c));
        const problem =
            eipQuotaProblem(args.claims, args.quota) ??
            (unknown.length > 0 ? `bandwidthByClaim names claims that are not in the pool: ${unknown.join(", ")}` : undefined);
        if (problem) {
            throw new pulumi.ResourceError(problem, this);
        }
        const eips = new Map<string, alicloud.ecs.EipAddress>();
        for (const claim of args.claims) {
            eips.set(
                claim.name,
                new alicloud.ecs.EipAddress(
                    `${name}-${claim.name}`,
                    {
                        addressName: physicalName(args.identity, "eip", claim.name),
                        description: `EIP claim ${claim.name} (${claim.group})`,
                        bandwidth: String(args.bandwidthByClaim[claim.name] ?? args.bandwidthMbps),
                        internetChargeType: "PayByTraffic",
                        paymentType: "PayAsYouGo",
                        isp: "BGP",
                        tags: { ...args.identity.tags, "eip-claim": claim.name },
                    },
                    // A new EIP is a new public address: DNS records, allow-lists and kubeconfigs name these.
                    { parent: this, protect: true },
                ),
            );
        }
        this.eips = eips;
        this.addresses = pulumi
            .all([...eips].map(([claim, eip]) => eip.ipAddress.apply((address) => [claim, address] as const)))
            .apply((pairs) => Object.fromEntries(pairs));
        this.registerOutputs({ addresses: this.addresses });
    }

    /** The EIP of a claim; throws (naming the claims there are) if it was never made. */
    public claim(claimName: string): EipClaimHandle {
        const eip = this.eips.get(claimName);
        if (!eip) {
            throw new pulumi.ResourceError(`EIP claim ${claimName} is not in the pool (claims: ${[...this.eips.keys()].join(", ")})`, this);
        }
        return { allocationId: eip.id, address: eip.ipAddress };
    }
}
