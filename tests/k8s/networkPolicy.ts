/**
 * The NetworkPolicy API's semantics (Kubernetes docs, "Network Policies"), written from the specification and
 * independent of the renderers: whether a connection from one endpoint to another is allowed by a set of policies.
 *
 * A pod is isolated for ingress (egress) once a policy of its namespace selects it with that policy type; a
 * connection is allowed when the source's egress and the destination's ingress both allow it. Pods have addresses in
 * the pod network, and an `ipBlock` matches them too (implementations may), so only an `except` keeps pods out of a
 * wide block: the conservative reading.
 */
import { cidr, contains, parseCidr } from "../../config/cidr";

/** A pod: namespace, labels, address, named container ports. */
export interface PodEndpoint {
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly ip: string;
    readonly ports: readonly { readonly name?: string; readonly containerPort: number; readonly protocol?: string }[];
}
export type Endpoint = { readonly pod: PodEndpoint } | { readonly ip: string };

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
type Peer = { podSelector?: Selector; namespaceSelector?: Selector; ipBlock?: { cidr: string; except?: string[] } };
type Port = { protocol?: string; port?: number | string; endPort?: number };
type Rule = { from?: Peer[]; to?: Peer[]; ports?: Port[] };
export interface Policy {
    readonly metadata: { readonly name: string; readonly namespace?: string };
    readonly spec: { podSelector: Selector; policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] };
}

/** Whether `selector` selects `labels` (an empty selector selects everything). */
export function selects(selector: Selector | undefined, labels: Readonly<Record<string, string>>): boolean {
    if (!selector) return true;
    const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
    const byExpressions = (selector.matchExpressions ?? []).every((e) => {
        const has = e.key in labels;
        switch (e.operator) {
            case "In":
                return has && (e.values ?? []).includes(labels[e.key]);
            case "NotIn":
                return !has || !(e.values ?? []).includes(labels[e.key]);
            case "Exists":
                return has;
            case "DoesNotExist":
                return !has;
            default:
                throw new Error(`unknown selector operator ${e.operator}`);
        }
    });
    return byLabels && byExpressions;
}

function inBlock(ip: string, block: { cidr: string; except?: string[] }): boolean {
    const address = parseCidr(`${ip}/32`);
    if ("error" in address) throw new Error(`${ip}: ${address.error}`);
    const within = (c: string) => contains(cidr(c), address);
    return within(block.cidr) && !(block.except ?? []).some(within);
}

const addressOf = (e: Endpoint) => ("pod" in e ? e.pod.ip : e.ip);

function peerMatches(peer: Peer, policyNamespace: string, other: Endpoint): boolean {
    if (peer.ipBlock) return inBlock(addressOf(other), peer.ipBlock);
    if (!("pod" in other)) return false;
    const namespaceLabels = { "kubernetes.io/metadata.name": other.pod.namespace };
    const namespaceOk = peer.namespaceSelector ? selects(peer.namespaceSelector, namespaceLabels) : other.pod.namespace === policyNamespace;
    return namespaceOk && selects(peer.podSelector, other.pod.labels);
}

function portMatches(ports: Port[] | undefined, port: number, protocol: string, target: Endpoint): boolean {
    if (!ports || ports.length === 0) return true;
    return ports.some((p) => {
        if ((p.protocol ?? "TCP") !== protocol) return false;
        if (p.port === undefined) return true;
        if (typeof p.port === "string") {
            return "pod" in target && target.pod.ports.some((c) => c.name === p.port && c.containerPort === port);
        }
        return p.endPort === undefined ? p.port === port : p.port <= port && port <= p.endPort;
    });
}

function direction(policies: readonly Policy[], self: PodEndpoint, type: "Ingress" | "Egress"): Policy[] {
    return policies.filter((p) => {
        const types = p.spec.policyTypes ?? (p.spec.egress ? ["Ingress", "Egress"] : ["Ingress"]);
        return (p.metadata.namespace ?? "default") === self.namespace && types.includes(type) && selects(p.spec.podSelector, self.labels);
    });
}

/** Whether `policies` let `from` open a connection to `to` on `port`/`protocol`. */
export function allowed(policies: readonly Policy[], from: Endpoint, to: Endpoint, port: number, protocol = "TCP"): boolean {
    const egressOk =
        !("pod" in from) ||
        (() => {
            const selecting = direction(policies, from.pod, "Egress");
            return (
                selecting.length === 0 ||
                selecting.some((p) =>
                    (p.spec.egress ?? []).some(
                        (r) =>
                            (!r.to || r.to.length === 0 || r.to.some((peer) => peerMatches(peer, from.pod.namespace, to))) &&
                            portMatches(r.ports, port, protocol, to),
                    ),
                )
            );
        })();
    const ingressOk =
        !("pod" in to) ||
        (() => {
            const selecting = direction(policies, to.pod, "Ingress");
            return (
                selecting.length === 0 ||
                selecting.some((p) =>
                    (p.spec.ingress ?? []).some(
                        (r) =>
                            (!r.from || r.from.length === 0 || r.from.some((peer) => peerMatches(peer, to.pod.namespace, from))) &&
                            portMatches(r.ports, port, protocol, to),
                    ),
                )
            );
        })();
    return egressOk && ingressOk;
}
