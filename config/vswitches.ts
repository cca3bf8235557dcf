/**
 * The vSwitches of a stage, derived from its VPC and zones (no stage chooses them: a layout every stage shares is
 * one less thing to get wrong, and `stage:new` only has to choose a free VPC).
 *
 * The VPC is cut into 16 equal blocks. Block 0 starts with the public vSwitch (bastion and NAT gateway: a /24, or
 * a sixteenth of the block in a VPC narrower than /16), block k+1 is the node vSwitch of zone k. So a /16 VPC gets
 * 10.x.0.0/24 and then 10.x.16.0/20, 10.x.32.0/20, ... (4,091 usable addresses per zone), for up to 15 zones.
 * Alibaba's vSwitches are /16 to /29: in a VPC wider than /12 a node vSwitch is the first /16 of its block, and in
 * a /21 to /24 VPC the public vSwitch is a /29.
 */
import { Cidr, cidr, shiftCidr } from "./cidr";

/** How many blocks the VPC is cut into; block 0 is the public vSwitch's, so at most this minus one zones. */
export const VPC_BLOCKS = 16;
export const MAX_ZONES = VPC_BLOCKS - 1;

/** Alibaba's vSwitch prefixes: /16 (largest) to /29 (smallest). */
const LARGEST_VSWITCH = 16;
const SMALLEST_VSWITCH = 29;

/** The public vSwitch holds two things (bastion, NAT gateway): a /24 where the VPC is large enough. */
const PUBLIC_VSWITCH = 24;

const clamp = (prefix: number) => Math.min(Math.max(prefix, LARGEST_VSWITCH), SMALLEST_VSWITCH);

/** The public vSwitch and one node vSwitch per zone (in the order of the zones). */
export function vswitchLayout(vpc: Cidr, zoneCount: number): { readonly publicVswitch: Cidr; readonly nodeVswitches: readonly Cidr[] } {
    if (zoneCount > MAX_ZONES) {
        throw new Error(`${zoneCount} zones do not fit the vSwitch layout (at most ${MAX_ZONES})`);
    }
    const blockPrefix = vpc.prefix + Math.log2(VPC_BLOCKS);
    const blockSize = 2n ** BigInt(32 - blockPrefix);
    const start = (block: number, prefix: number) => shiftCidr(cidr(`${vpc.text.split("/")[0]}/${prefix}`), BigInt(block) * blockSize);
    return {
        publicVswitch: start(0, clamp(Math.max(blockPrefix + 4, PUBLIC_VSWITCH))),
        nodeVswitches: Array.from({ length: zoneCount }, (_, k) => start(k + 1, clamp(blockPrefix))),
    };
}
