/**
 * What Spring Boot services and React apps share: their namespace, labels, Service, public route and
 * disruption budget.
 */
import * as crypto from "crypto";
import { KubeObject, Late, kube, recommendedLabels } from "./objects";

/**
 * All apps share one namespace: the React apps' `/api/<service>` proxies and the canary routes refer to
 * Services by name, and the stage config has no notion of teams or per-app quotas that would call for more.
 */
export const APPS_NAMESPACE = "apps";

/** What every app renderer needs besides the app itself. */
export interface AppContext {
    readonly namespace: string;
    readonly ingress: {
        /** The IngressClass (the platform's; an Output in the program, so apps wait for it). */
        readonly className: Late<string>;
        /** Requests per second per client address, on every app route. */
        readonly rateLimitRps: number;
        /** Whether the ingress has a default certificate: routes then serve HTTPS and redirect HTTP to it. */
        readonly https: boolean;
    };
}

/** A public route: a host and a path prefix on the ingress. */
export interface Route {
    readonly host: string;
    readonly path: string;
}

export type AppComponent = "backend" | "frontend";

/** Labels of an app's objects. No version here: an image change must not touch the Service or Ingress. */
export function appLabels(app: string, component: AppComponent): Record<string, string> {
    return recommendedLabels("apps", app, { "app.kubernetes.io/component": component });
}

/**
 * The recommended `app.kubernetes.io/version` label for a workload: the image tag, when it is a valid label value
 * (a digest-only reference has no readable version).
 */
export function versionLabel(image: string): Record<string, string> {
    const last = image.split("/").pop() ?? "";
    const tag = last.split("@")[0].split(":")[1];
    return tag !== undefined && /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(tag) ? { "app.kubernetes.io/version": tag } : {};
}

/** A short content hash for a pod-template annotation, so that a config change rolls the pods. */
export function contentHash(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/**
 * A ClusterIP Service named like its workload, forwarding `port` to the container port named http, and
 * `managementPort` (a Spring Boot actuator) to the port named management: Prometheus scrapes every Service port of
 * that name (k8s/prometheusConfig.ts), so an app needs no configuration of its own to be monitored.
 */
export function appService(
    name: string,
    namespace: string,
    labels: Record<string, string>,
    selector: Record<string, string>,
    port: number,
    managementPort?: number,
): KubeObject {
    return kube.Service({
        metadata: { name, namespace, labels },
        spec: {
            selector,
            ports: [
                { name: "http", port, targetPort: "http", protocol: "TCP" },
                ...(managementPort === undefined
                    ? []
                    : [{ name: "management", port: managementPort, targetPort: "management", protocol: "TCP" }]),
            ],
        },
    });
}

/** The app's public route: rate-limited per client, HTTPS when the ingress has a certificate. */
export function appIngress(
    name: string,
    labels: Record<string, string>,
    route: Route,
    serviceName: string,
    ctx: AppContext,
    annotations: Record<string, string> = {},
): KubeObject {
    return kube.Ingress({
        metadata: {
            name,
            namespace: ctx.namespace,
            labels,
            annotations: { "nginx.ingress.kubernetes.io/limit-rps": String(ctx.ingress.rateLimitRps), ...annotations },
        },
        spec: {
            ingressClassName: ctx.ingress.className,
            // No secretName: the controller serves its default certificate for these hosts.
            ...(ctx.ingress.https ? { tls: [{ hosts: [route.host] }] } : {}),
            rules: [
                {
                    host: route.host,
                    http: {
                        paths: [
                            { path: route.path, pathType: "Prefix", backend: { service: { name: serviceName, port: { name: "http" } } } },
                        ],
                    },
                },
            ],
        },
    });
}

/**
 * At most one pod of the app down through voluntary disruptions (FleetLock drains nodes one at a time).
 * maxUnavailable, not minAvailable: a one-replica app must not block a node drain forever.
 */
export function appDisruptionBudget(
    name: string,
    namespace: string,
    labels: Record<string, string>,
    selector: Record<string, string>,
): KubeObject {
    return kube.PodDisruptionBudget({
        metadata: { name, namespace, labels },
        spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
    });
}

/** Spread an app's replicas over nodes when there is room (preferred, so a small stage still schedules them). */
export function spreadOverNodes(selector: Record<string, string>) {
    return {
        podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: selector }, topologyKey: "kubernetes.io/hostname" } },
            ],
        },
    };
}

/** What every app's pod needs to run under the restricted Pod Security level, from the app's two options. */
export interface AppPodSecurity {
    /** The non-root uid (and gid) the container runs as (config: runAsUser). */
    readonly runAsUser: number;
    /** Whether the container's root filesystem is read-only (config: readOnlyRootFilesystem). */
    readonly readOnlyRootFilesystem: boolean;
}

/**
 * The pod's and container's security contexts of the restricted level (non-root, no privilege escalation, every
 * capability dropped, RuntimeDefault seccomp), and writable emptyDirs where the runtime writes (`writable`), so a
 * read-only root filesystem still works.
 */
export function restrictedPod(app: AppPodSecurity, writable: readonly string[]) {
    const volumes = writable.map((path, i) => ({ name: `writable-${i}`, path }));
    return {
        podSecurityContext: {
            runAsNonRoot: true,
            runAsUser: app.runAsUser,
            runAsGroup: app.runAsUser,
            seccompProfile: { type: "RuntimeDefault" },
        },
        containerSecurityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            readOnlyRootFilesystem: app.readOnlyRootFilesystem,
        },
        volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: v.path })),
        volumes: volumes.map((v) => ({ name: v.name, emptyDir: {} })),
    };
}
