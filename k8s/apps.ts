/**
 * The business services declared in stage config (`apps`), as plain objects. The config loader has already
 * checked names, routes, canary weights and proxy targets (config/rules.ts checkApps); the few rules
 * below concern what the platform itself reserves. `components/apps.ts` creates the objects.
 */
import type { AppConfig, StageConfig } from "../config/types";
import { APPS_NAMESPACE, AppContext } from "./appParts";
import { KubeObject, Late, kube, podSecurityLabels, recommendedLabels } from "./objects";
import { INGRESS_NAMESPACE, INGRESS_POD_LABELS } from "./ingress";
import { ClusterNetworks, IngressPods, renderAppNetworkPolicies } from "./networkPolicies";
import { PROMETHEUS_PODS } from "./observability";
import { REACT_CONTAINER_PORT, renderReactApp } from "./reactApp";
import { PLATFORM_ENV_NAMES, renderSpringBootApp, springBootNames } from "./springBoot";

/** The parts of the stage config the apps need (build it with `appsSettings`). */
export interface AppsSettings {
    /** The apps, in config order. */
    readonly apps: readonly AppConfig[];
    /** Secret environment variables per Spring Boot app; the values stay Pulumi secrets. */
    readonly appSecrets: Readonly<Record<string, Readonly<Record<string, Late<string>>>>>;
    /** Per-client request rate on every app route, and whether routes serve HTTPS. */
    readonly ingress: { readonly rateLimitRps: number; readonly https: boolean };
    /** The networks the apps' network policies name. */
    readonly networks: ClusterNetworks;
    /** Prometheus's pods when the stage has observability on: they alone reach the apps' management ports. */
    readonly scrapedBy?: IngressPods;
}

/** Everything the apps are rendered from. */
export interface AppsInput extends AppsSettings {
    /** The IngressClass the platform created. */
    readonly ingressClassName: Late<string>;
}

/** Picks the apps' settings out of a stage config. */
export function appsSettings(cfg: StageConfig): AppsSettings {
    return {
        apps: cfg.apps,
        appSecrets: cfg.appSecrets,
        ingress: { rateLimitRps: cfg.ingress.rateLimitRps, https: cfg.ingress.tls !== undefined || cfg.ingress.tlsSecretName !== "" },
        networks: { podCidr: cfg.network.podCidr, vpcCidr: cfg.network.vpcCidr, apiServiceIp: cfg.cluster.apiServiceIp },
        ...(cfg.observability.enabled ? { scrapedBy: PROMETHEUS_PODS } : {}),
    };
}

/** Names the platform reserves, as "<property> = <value>: <rule>" lines naming the app (empty when fine). */
export function appsProblems(settings: AppsSettings): string[] {
    const problems: string[] = [];
    const workloads = new Map<string, string>();
    settings.apps.forEach((app, i) => {
        const names = app.kind === "spring-boot" && app.canary ? [app.name, springBootNames(app.name).canary] : [app.name];
        for (const name of names) {
            const owner = workloads.get(name);
            if (owner !== undefined) {
                problems.push(
                    `apps[${i}].name = ${JSON.stringify(app.name)}: app ${app.name} needs a workload named ${name}, which app ${owner} already uses (a canary is named <app>-canary)`,
                );
            }
            workloads.set(name, app.name);
        }
        if (app.kind !== "spring-boot") {
            return;
        }
        for (const name of Object.keys(app.env)) {
            if (PLATFORM_ENV_NAMES.includes(name)) {
                problems.push(
                    `apps[${i}].env.${name} = ${JSON.stringify(app.env[name])}: app ${app.name}: ${name} is set by the platform (probes, heap and config file depend on it); remove it`,
                );
            }
        }
        for (const name of Object.keys(settings.appSecrets[app.name] ?? {})) {
            if (PLATFORM_ENV_NAMES.includes(name)) {
                problems.push(`appSecrets.${app.name}.${name} = "[secret]": app ${app.name}: ${name} is set by the platform; remove it`);
            }
        }
    });
    return problems;
}

/** Every object of the apps: their namespace, then each app's objects in config order. */
export function renderAppObjects(input: AppsInput): KubeObject[] {
    const ctx: AppContext = {
        namespace: APPS_NAMESPACE,
        ingress: { className: input.ingressClassName, ...input.ingress },
    };
    const objects: KubeObject[] = [
        kube.Namespace({
            // Restricted: app pods run as non-root without privileges, and may not mount host paths or NFS exports inline
            // (only claims of the StorageClass).
            metadata: {
                name: APPS_NAMESPACE,
                labels: { ...recommendedLabels("apps", APPS_NAMESPACE), ...podSecurityLabels("restricted") },
            },
        }),
    ];
    for (const app of input.apps) {
        if (app.kind === "spring-boot") {
            objects.push(...renderSpringBootApp(app, input.appSecrets[app.name] ?? {}, ctx));
        } else {
            const upstreams = app.apiServices.map((service) => {
                const target = input.apps.find((a) => a.name === service);
                if (!target || target.kind !== "spring-boot") {
                    // The config loader refuses this; reaching it means the settings did not come from a loaded config.
                    throw new Error(
                        `apps: app ${app.name}: /api/${service} must proxy to a spring-boot app, and there is none named ${service}`,
                    );
                }
                return { name: service, port: target.port };
            });
            objects.push(...renderReactApp(app, upstreams, ctx));
        }
    }
    // Default deny; each app reachable from the gateway (if routed) and from the apps that declare it, nothing else.
    const endpoints = input.apps.map((app) =>
        app.kind === "spring-boot"
            ? { name: app.name, port: app.port, routed: app.route !== undefined, calls: [], managementPort: app.managementPort }
            : { name: app.name, port: REACT_CONTAINER_PORT, routed: true, calls: app.apiServices },
    );
    objects.push(
        ...renderAppNetworkPolicies(
            APPS_NAMESPACE,
            endpoints,
            input.networks,
            { namespace: INGRESS_NAMESPACE, labels: INGRESS_POD_LABELS },
            input.scrapedBy,
        ),
    );
    return objects;
}
