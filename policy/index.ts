/**
 * The policy pack the Pulumi CLI runs with `pulumi preview --policy-pack policy` (and `pulumi up`). Constructing
 * the `PolicyPack` starts the analyzer's gRPC server, so this file does nothing else: the policies live in
 * `policies.ts`, where the tests reach them without a server.
 *
 * Dependencies come from the repository's own node_modules (Node looks up from policy/ to the root), so the
 * pack runs with exactly the pinned `@pulumi/pulumi` and `@pulumi/policy` the program and the tests use.
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICY_PACK_NAME, policies } from "./policies";

new PolicyPack(POLICY_PACK_NAME, {
    description: "Guard rails of the Fedora CoreOS Kubernetes platform on Alibaba Cloud (docs/operations.md).",
    enforcementLevel: "mandatory",
    policies,
});
