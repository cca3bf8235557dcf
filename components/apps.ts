import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AppsSettings, appsProblems, renderAppObjects } from "../k8s/apps";
import { createKubernetesObjects, late } from "./k8sObjects";

/** Arguments of `Apps`. */
export interface AppsArgs {
    /** The control plane's provider; every object is created through it. Required. */
    readonly provider: k8s.Provider;
    /** What the apps take from the stage config: `appsSettings(cfg)` (k8s/apps.ts). Required. */
    readonly settings: AppsSettings;
    /** The IngressClass of the routes: `KubernetesPlatform.ingressClassName`, so routes wait for the ingress. Required. */
    readonly ingressClassName: pulumi.Input<string>;
}

/**
 * The stage's business services (config key `apps`) in the namespace `apps`: Spring Boot services and React apps,
 * each with its Service, public route, disruption budget, and for Spring Boot its config, secrets, autoscaler and
 * canary. Adding a service is a config change; changing one app's image changes only that app's workloads.
 */
export class Apps extends pulumi.ComponentResource {
    /** The Deployment names, one per app plus one per canary. */
    public readonly workloads: string[];

    constructor(name: string, args: AppsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:Apps", name, {}, opts);
        const problems = appsProblems(args.settings);
        if (problems.length > 0) {
            throw new pulumi.ResourceError(`Apps ${name}: ${problems.join("; ")}`, this);
        }
        const objects = renderAppObjects({ ...args.settings, ingressClassName: late(args.ingressClassName) });
        createKubernetesObjects(this, name, objects, args.provider, opts?.dependsOn);
        this.workloads = objects.filter((o) => o.kind === "Deployment").map((o) => o.metadata.name);
        this.registerOutputs({ workloads: this.workloads });
    }
}
