/**
 * Runs CrossGuard policies against what the program registered under the mock runtime, the way the policy
 * pack's analyzer server would: resource policies once per resource with `ResourceValidationArgs`, stack
 * policies once with `StackValidationArgs` (parents and dependencies as resource objects).
 *
 * Property values go through `@pulumi/policy`'s own deserializer and unknown-checking proxy (internal modules
 * of the pinned 1.21.0), so secrets arrive unwrapped and a policy that reads a value unknown at preview fails
 * the same way it would under the CLI. Two differences remain: stack policies see resource inputs (the
 * recorder has no outputs), and dependencies are recorded by logical name, so a name shared by two resources
 * (a disk and its attachment) makes both dependencies.
 */
import type {
    Policy,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { RecordedResource, UNKNOWN } from "../../tools/mockRuntime";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- internal module of the pinned @pulumi/policy, untyped
const { deserializeProperties } = require("@pulumi/policy/deserialize");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- internal module of the pinned @pulumi/policy, untyped
const { unknownCheckingProxy, UnknownValueError, unknownStringValue } = require("@pulumi/policy/proxy");

/** One reported violation. */
export interface Violation {
    readonly policy: string;
    /** The URN the violation is about (the resource's, for resource policies). */
    readonly urn?: string;
    readonly message: string;
}

/** What running a set of policies found. */
export interface PolicyRun {
    readonly violations: Violation[];
    /** Policy name -> how many resources it actually inspected (did not declare itself not applicable). */
    readonly inspected: Map<string, number>;
    /** Policies that could not run because a value they read is unknown (the CLI reports these as advisory). */
    readonly unknown: { policy: string; urn?: string; message: string }[];
}

class NotApplicable extends Error {}

/** Policy config as the CLI passes it: `{<policy>: {<property>: value}}`. */
export type PolicyConfig = Record<string, Record<string, unknown>>;

function wireValue(value: unknown): unknown {
    if (value === UNKNOWN) {
        return unknownStringValue;
    }
    if (Array.isArray(value)) {
        return value.map(wireValue);
    }
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wireValue(v)]));
    }
    return value;
}

/** Recorded inputs -> what a policy sees in `props`. */
function policyProps(inputs: Record<string, unknown>): Record<string, any> {
    const wire = wireValue(inputs) as Record<string, unknown>;
    return unknownCheckingProxy(deserializeProperties({ toJavaScript: () => wire }, false));
}

/** `isType` as the analyzer implements it: SDK-generated classes carry their type token in `__pulumiType`. */
function isTypeFn(type: string): ResourceValidationArgs["isType"] {
    return (resourceClass) => (resourceClass as unknown as { __pulumiType?: unknown })?.__pulumiType === type;
}

function notApplicable(reason?: string): never {
    throw new NotApplicable(reason ?? "not applicable");
}

/** The URN of each recorded resource's parent (the mock monitor puts the parent's type before the child's). */
function parentUrns(resources: readonly RecordedResource[]): Map<RecordedResource, string | undefined> {
    const byTypeAndName = new Map(resources.map((r) => [`${r.type}::${r.name}`, r.urn]));
    return new Map(
        resources.map((r) => {
            if (!r.parent) {
                return [r, undefined];
            }
            const chain = r.urn.split("::")[2].split("$");
            return [r, byTypeAndName.get(`${chain[chain.length - 2]}::${r.parent}`)];
        }),
    );
}

function optionsOf(r: RecordedResource, parentUrn: string | undefined): PolicyResourceOptions {
    return {
        protect: r.protect,
        ignoreChanges: [...r.ignoreChanges],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(r.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
        ...(parentUrn ? { parent: parentUrn } : {}),
    };
}

function isStackPolicy(p: Policy): p is StackValidationPolicy {
    return typeof (p as StackValidationPolicy).validateStack === "function";
}

/**
 * Runs every policy against the resources; `config` is the policy pack config (as `--policy-pack-config`
 * would give it). Errors other than "not applicable" and "unknown at preview" propagate: a policy that
 * crashes on the real program's resources is a failing test.
 */
export async function runPolicies(
    resources: readonly RecordedResource[],
    policies: readonly (ResourceValidationPolicy | StackValidationPolicy)[],
    config: PolicyConfig = {},
): Promise<PolicyRun> {
    const run: PolicyRun = { violations: [], inspected: new Map(), unknown: [] };
    const parents = parentUrns(resources);
    const count = (policy: string) => run.inspected.set(policy, (run.inspected.get(policy) ?? 0) + 1);
    const attempt = async (policy: string, urn: string | undefined, body: () => Promise<void> | void) => {
        try {
            await body();
            count(policy);
        } catch (err) {
            if (err instanceof NotApplicable) {
                return;
            }
            if (err instanceof UnknownValueError) {
                count(policy);
                run.unknown.push({ policy, urn, message: (err as Error).message });
                return;
            }
            throw err;
        }
    };

    for (const policy of policies) {
        const getConfig = <T extends object>() => ({ ...(config[policy.name] ?? {}) }) as T;
        if (isStackPolicy(policy)) {
            const objects = new Map<RecordedResource, PolicyResource>();
            for (const r of resources) {
                const props = policyProps(r.inputs);
                objects.set(r, {
                    type: r.type,
                    name: r.name,
                    urn: r.urn,
                    props,
                    opts: optionsOf(r, parents.get(r)),
                    dependencies: [],
                    propertyDependencies: {},
                    isType: isTypeFn(r.type),
                    asType: ((resourceClass: { __pulumiType?: unknown }) =>
                        resourceClass?.__pulumiType === r.type ? props : undefined) as PolicyResource["asType"],
                });
            }
            const byUrn = new Map(resources.map((r) => [r.urn, objects.get(r)!]));
            for (const r of resources) {
                const o = objects.get(r)!;
                const parentUrn = parents.get(r);
                if (parentUrn) {
                    o.parent = byUrn.get(parentUrn);
                }
                o.dependencies = resources.filter((d) => d !== r && r.dependencies.includes(d.name)).map((d) => objects.get(d)!);
            }
            const args: StackValidationArgs = { resources: [...objects.values()], stackTags: new Map(), getConfig, notApplicable };
            await attempt(policy.name, undefined, () =>
                policy.validateStack(args, (message, urn) => run.violations.push({ policy: policy.name, urn, message })),
            );
            continue;
        }
        const validations =
            policy.validateResource === undefined
                ? []
                : Array.isArray(policy.validateResource)
                  ? policy.validateResource
                  : [policy.validateResource];
        for (const r of resources) {
            const props = policyProps(r.inputs);
            const args: ResourceValidationArgs = {
                type: r.type,
                name: r.name,
                urn: r.urn,
                props,
                opts: optionsOf(r, parents.get(r)),
                stackTags: new Map(),
                isType: isTypeFn(r.type),
                asType: ((resourceClass: { __pulumiType?: unknown }) =>
                    resourceClass?.__pulumiType === r.type ? props : undefined) as ResourceValidationArgs["asType"],
                getConfig,
                notApplicable,
            };
            for (const validate of validations) {
                // The resource's URN is always the one reported for a resource policy, as in the analyzer.
                await attempt(policy.name, r.urn, () =>
                    validate(args, (message) => run.violations.push({ policy: policy.name, urn: r.urn, message })),
                );
            }
        }
    }
    return run;
}
