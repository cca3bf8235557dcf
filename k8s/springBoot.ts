/**
 * A Spring Boot service from stage config: Deployment with actuator probes on the management port, JVM heap
 * sized from the memory limit, application.yaml from a ConfigMap, secret environment from a Secret, zero-downtime
 * rolling updates, a Service, and optionally a public route, an autoscaler and a canary (gray release).
 */
import * as YAML from "yaml";
import type { SpringBootAppConfig } from "../config/types";
import {
    AppContext,
    appDisruptionBudget,
    appIngress,
    appLabels,
    appService,
    contentHash,
    restrictedPod,
    spreadOverNodes,
    versionLabel,
} from "./appParts";
import { EnvVar, KubeObject, Late, PodSpec, kube, selectorLabels, sortedRecord } from "./objects";

/** Where the ConfigMap's application.yaml is mounted; Spring Boot reads it through SPRING_CONFIG_ADDITIONAL_LOCATION. */
export const SPRING_CONFIG_DIR = "/etc/spring/";
export const LIVENESS_PATH = "/actuator/health/liveness";
export const READINESS_PATH = "/actuator/health/readiness";

/**
 * Environment the platform sets on every Spring Boot container. Apps must not set these themselves (env or
 * appSecrets): the probes, the heap and the config file depend on them.
 */
export function platformEnv(app: SpringBootAppConfig): EnvVar[] {
    return [
        // The JVM reads JAVA_TOOL_OPTIONS whatever the image's entrypoint; the heap follows the container's memory limit.
        { name: "JAVA_TOOL_OPTIONS", value: `-XX:MaxRAMPercentage=${app.maxRamPercentage.toFixed(1)}` },
        { name: "SERVER_PORT", value: String(app.port) },
        { name: "MANAGEMENT_SERVER_PORT", value: String(app.managementPort) },
        // Spring Boot turns the liveness/readiness groups on by itself only when it detects Kubernetes; be explicit.
        { name: "MANAGEMENT_ENDPOINT_HEALTH_PROBES_ENABLED", value: "true" },
        // Prometheus scrapes /actuator/prometheus on the management port of every app (docs/observability.md); the
        // latency histograms let dashboards and alerts compute percentiles per service.
        { name: "MANAGEMENT_ENDPOINTS_WEB_EXPOSURE_INCLUDE", value: "health,prometheus" },
        { name: "MANAGEMENT_METRICS_DISTRIBUTION_PERCENTILES_HISTOGRAM_HTTP_SERVER_REQUESTS", value: "true" },
        { name: "SPRING_CONFIG_ADDITIONAL_LOCATION", value: `file:${SPRING_CONFIG_DIR}` },
    ];
}

/** The names of `platformEnv`, for the config check. */
export const PLATFORM_ENV_NAMES = [
    "JAVA_TOOL_OPTIONS",
    "SERVER_PORT",
    "MANAGEMENT_SERVER_PORT",
    "MANAGEMENT_ENDPOINT_HEALTH_PROBES_ENABLED",
    "MANAGEMENT_ENDPOINTS_WEB_EXPOSURE_INCLUDE",
    "MANAGEMENT_METRICS_DISTRIBUTION_PERCENTILES_HISTOGRAM_HTTP_SERVER_REQUESTS",
    "SPRING_CONFIG_ADDITIONAL_LOCATION",
];

/** The app's application.yaml (keys sorted, so the same config always gives the same text and hash). */
export function applicationYaml(app: SpringBootAppConfig): string {
    return YAML.stringify(app.config, { sortMapEntries: true });
}

/** Names of an app's objects. */
export function springBootNames(app: string) {
    return { workload: app, canary: `${app}-canary`, config: `${app}-config`, secret: `${app}-env` };
}

/** The replicas of one track (stable or canary) of the app. */
function podSpec(app: SpringBootAppConfig, image: string, selector: Record<string, string>, withSecret: boolean): PodSpec {
    const names = springBootNames(app.name);
    const probe = (path: string) => ({ httpGet: { path, port: "management" } });
    // The JVM and an embedded Tomcat write only to /tmp (java.io.tmpdir, Tomcat's work directory).
    const security = restrictedPod(app, ["/tmp"]);
    return {
        // Service links would add env vars like ORDERS_PORT=tcp://..., which Spring's relaxed binding can mistake
        // for properties (a Service named "server" would override server.port). Apps find Services by DNS.
        enableServiceLinks: false,
        securityContext: security.podSecurityContext,
        affinity: spreadOverNodes(selector),
        containers: [
            {
                name: "app",
                image,
                ports: [
                    { name: "http", containerPort: app.port, protocol: "TCP" },
                    { name: "management", containerPort: app.managementPort, protocol: "TCP" },
                ],
                env: [...platformEnv(app), ...Object.entries(sortedRecord(app.env)).map(([name, value]) => ({ name, value }))],
                ...(withSecret ? { envFrom: [{ secretRef: { name: names.secret } }] } : {}),
                // No CPU limit (throttling stalls JVM start-up and GC); the memory limit is what the heap is sized from.
                resources: { requests: { cpu: app.cpu, memory: app.memory }, limits: { memory: app.memory } },
                // Up to 5 minutes to start; liveness and readiness only count once the app has started.
                startupProbe: { ...probe(LIVENESS_PATH), periodSeconds: 5, failureThreshold: 60 },
                livenessProbe: { ...probe(LIVENESS_PATH), periodSeconds: 10, failureThreshold: 3 },
                readinessProbe: { ...probe(READINESS_PATH), periodSeconds: 5, failureThreshold: 3 },
                securityContext: security.containerSecurityContext,
                volumeMounts: [{ name: "config", mountPath: SPRING_CONFIG_DIR, readOnly: true }, ...security.volumeMounts],
            },
        ],
        volumes: [{ name: "config", configMap: { name: names.config } }, ...security.volumes],
    };
}

export function renderSpringBootApp(
    app: SpringBootAppConfig,
    secrets: Readonly<Record<string, Late<string>>>,
    ctx: AppContext,
): KubeObject[] {
    const names = springBootNames(app.name);
    const namespace = ctx.namespace;
    const labels = appLabels(app.name, "backend");
    const config = applicationYaml(app);
    const withSecret = Object.keys(secrets).length > 0;

    const track = (workload: string, image: string, replicas: number | undefined): KubeObject[] => {
        const selector = selectorLabels(app.name, workload);
        const trackLabels = { ...labels, ...selector };
        return [
            appService(workload, namespace, trackLabels, selector, app.port, app.managementPort),
            kube.Deployment({
                metadata: { name: workload, namespace, labels: { ...trackLabels, ...versionLabel(image) } },
                spec: {
                    ...(replicas === undefined ? {} : { replicas }),
                    selector: { matchLabels: selector },
                    // Zero unavailable: a new pod must be ready before an old one goes.
                    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
                    template: {
                        metadata: {
                            labels: { ...trackLabels, ...versionLabel(image) },
                            annotations: { "checksum/config": contentHash(config) },
                        },
                        spec: podSpec(app, image, selector, withSecret),
                    },
                },
            }),
        ];
    };

    const objects: KubeObject[] = [
        kube.ConfigMap({ metadata: { name: names.config, namespace, labels }, data: { "application.yaml": config } }),
    ];
    if (withSecret) {
        objects.push(
            kube.Secret({ metadata: { name: names.secret, namespace, labels }, type: "Opaque", stringData: sortedRecord(secrets) }),
        );
    }
    // With an autoscaler the Deployment leaves replicas to it; setting them here would undo its scaling on every up.
    objects.push(...track(names.workload, app.image, app.autoscale ? undefined : app.replicas));
    const stableSelector = selectorLabels(app.name, names.workload);
    objects.push(appDisruptionBudget(names.workload, namespace, { ...labels, ...stableSelector }, stableSelector));
    if (app.autoscale) {
        objects.push(
            kube.HorizontalPodAutoscaler({
                metadata: { name: names.workload, namespace, labels },
                spec: {
                    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: names.workload },
                    minReplicas: app.autoscale.minReplicas,
                    maxReplicas: app.autoscale.maxReplicas,
                    metrics: [
                        {
                            type: "Resource",
                            resource: { name: "cpu", target: { type: "Utilization", averageUtilization: app.autoscale.cpuUtilization } },
                        },
                    ],
                },
            }),
        );
    }
    if (app.route) {
        objects.push(appIngress(names.workload, labels, app.route, names.workload, ctx));
    }
    if (app.canary && app.route) {
        // Gray release: a second Deployment with the canary image behind its own Service, and an ingress-nginx
        // canary Ingress on the same host and path that sends `weight` percent of requests to it. Inside the
        // cluster (React /api proxies, other services) callers keep reaching the stable Service only.
        // One replica: the canary takes a slice of traffic and is not autoscaled.
        objects.push(...track(names.canary, app.canary.image, 1));
        objects.push(
            appIngress(names.canary, labels, app.route, names.canary, ctx, {
                "nginx.ingress.kubernetes.io/canary": "true",
                "nginx.ingress.kubernetes.io/canary-weight": String(app.canary.weight),
            }),
        );
    }
    return objects;
}
