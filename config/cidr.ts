/**
 * IPv4 CIDR helpers: thin, named wrappers over `ip-address` so that no file does its own IP arithmetic.
 */
import { Address4 } from "ip-address";

/** A parsed IPv4 network in canonical form ("10.10.0.0/16"). */
export interface Cidr {
    readonly text: string;
    readonly prefix: number;
    readonly first: bigint;
    readonly last: bigint;
}

/**
 * Parses an IPv4 CIDR. Returns a reason instead of throwing, so that the config loader can collect every
 * problem at once. A CIDR with host bits set ("10.10.16.5/20") is refused: Alibaba's API would silently
 * round it, and the next reader would not know which network was meant.
 */
export function parseCidr(text: string): Cidr | { error: string } {
    if (typeof text !== "string" || !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(text)) {
        return { error: "is not an IPv4 CIDR like 10.0.0.0/16" };
    }
    if (!Address4.isValid(text)) {
        return { error: "is not a valid IPv4 CIDR (each octet 0-255, prefix 0-32)" };
    }
    const address = new Address4(text);
    const start = address.startAddress();
    if (start.address !== address.addressMinusSuffix) {
        return { error: `has host bits set; the network address is ${start.address}/${address.subnetMask}` };
    }
    return {
        text: `${start.address}/${address.subnetMask}`,
        prefix: address.subnetMask,
        first: start.bigInt(),
        last: address.endAddress().bigInt(),
    };
}

/** Parses a CIDR that is already known to be valid (validated config); throws otherwise. */
export function cidr(text: string): Cidr {
    const parsed = parseCidr(text);
    if ("error" in parsed) {
        throw new Error(`${text} ${parsed.error}`);
    }
    return parsed;
}

/** True when `inner` lies entirely inside `outer`. */
export function contains(outer: Cidr, inner: Cidr): boolean {
    return inner.first >= outer.first && inner.last <= outer.last;
}

/** True when the two networks share at least one address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
    return a.first <= b.last && b.first <= a.last;
}

/** The n-th address of a network (0 is the network address itself). */
export function nthAddress(network: Cidr, n: number): string {
    const value = network.first + BigInt(n);
    if (value > network.last) {
        throw new Error(`${network.text} has no address number ${n}`);
    }
    return Address4.fromBigInt(value).address;
}

/** How many subnets of size /`prefix` fit in the network. */
export function subnetCount(network: Cidr, prefix: number): number {
    return prefix < network.prefix ? 0 : 2 ** (prefix - network.prefix);
}

/** True when the text is a plain dotted IPv4 address. */
export function isIpv4Address(text: string): boolean {
    return typeof text === "string" && /^\d{1,3}(\.\d{1,3}){3}$/.test(text) && Address4.isValid(text);
}

/** The network that is `offset` addresses after `network`, with the same prefix length. */
export function shiftCidr(network: Cidr, offset: bigint): Cidr {
    return cidr(`${Address4.fromBigInt(network.first + offset).address}/${network.prefix}`);
}
