/**
 * Apps declared in stage config: Spring Boot services and React apps as a team would expect them, gray release,
 * the platform's reserved names, and stability (one app's change touches only that app).
 */
import * as YAML from "yaml";
import { appsProblems, appsSettings } from "../../k8s/apps";
import { diffObjects, envOf, find, ofKind, renderStage, selects, stageConfig, stageValue } from "./helpers";

const apps = (stage: string) => stageValue(stage, "apps") as any[];
const withApp = (stage: string, name: string, change: (app: any) => void) =>
    apps(stage).map((a) => {
        if (a.name === name) {
            change(a);
        }
        return a;
    });

describe("Spring Boot service", () => {
    const objects = renderStage("dev");
    const deployment = find(objects, "Deployment", "orders", "apps") as any;
    const container = deployment.spec.template.spec.containers[0];

    it("probes actuator liveness and readiness on the management port", () => {
        const management = container.ports.find((p: any) => p.name === "management");
        expect(management.containerPort).toBe(8081);
        expect(container.livenessProbe.httpGet).toEqual({ path: "/actuator/health/liveness", port: "management" });
        expect(container.readinessProbe.httpGet).toEqual({ path: "/actuator/health/readiness", port: "management" });
        expect(container.startupProbe.httpGet).toEqual({ path: "/actuator/health/liveness", port: "management" });
        // The app is told which port that is, and to expose the probe groups.
        expect(envOf(container).MANAGEMENT_SERVER_PORT).toBe("8081");
        expect(envOf(container).MANAGEMENT_ENDPOINT_HEALTH_PROBES_ENABLED).toBe("true");
    });

    it("sizes the JVM heap from the container's memory limit", () => {
        expect(container.resources.limits.memory).toBe("768Mi"); // dev's orders sets memory: 768Mi
        expect(container.resources.requests).toEqual({ cpu: "500m", memory: "768Mi" });
        expect(envOf(container).JAVA_TOOL_OPTIONS).toBe("-XX:MaxRAMPercentage=75.0");
        const custom = renderStage("dev", { apps: withApp("dev", "orders", (a) => (a.maxRamPercentage = 62.5)) });
        expect(envOf((find(custom, "Deployment", "orders") as any).spec.template.spec.containers[0]).JAVA_TOOL_OPTIONS).toBe(
            "-XX:MaxRAMPercentage=62.5",
        );
    });

    it("reads application.yaml from a ConfigMap it mounts, and rolls when that config changes", () => {
        const config = find(objects, "ConfigMap", "orders-config", "apps") as any;
        expect(YAML.parse(config.data["application.yaml"])).toEqual({
            spring: { datasource: { url: "jdbc:mysql://orders-db.dev.internal:3306/orders" } },
        });
        const mount = container.volumeMounts[0];
        const volume = deployment.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
        expect(volume.configMap.name).toBe("orders-config");
        expect(envOf(container).SPRING_CONFIG_ADDITIONAL_LOCATION).toBe(`file:${mount.mountPath}`);
        expect(mount.mountPath.endsWith("/")).toBe(true); // Spring reads a directory location only with a trailing slash

        const changed = renderStage("dev", {
            apps: withApp("dev", "orders", (a) => (a.config.spring.datasource.url = "jdbc:mysql://elsewhere:3306/orders")),
        });
        const before = deployment.spec.template.metadata.annotations["checksum/config"];
        const after = (find(changed, "Deployment", "orders") as any).spec.template.metadata.annotations["checksum/config"];
        expect(after).not.toBe(before);
    });

    it("gets its secret variables from a Secret, values kept out of the rendered text", () => {
        const plain = renderStage("dev");
        expect(plain.filter((o) => o.kind === "Secret" && o.metadata.namespace === "apps")).toEqual([]);
        expect((find(plain, "Deployment", "orders") as any).spec.template.spec.containers[0].envFrom).toBeUndefined();

        const objects = renderStage("dev", {
            appSecrets: { orders: { DB_PASSWORD: { secure: "v1:abc" }, API_KEY: { secure: "v1:def" } } },
        });
        const secret = find(objects, "Secret", "orders-env", "apps") as any;
        expect(secret.stringData).toEqual({ API_KEY: "[secret]", DB_PASSWORD: "[secret]" });
        const c = (find(objects, "Deployment", "orders") as any).spec.template.spec.containers[0];
        expect(c.envFrom).toEqual([{ secretRef: { name: "orders-env" } }]);
        expect(JSON.stringify(objects)).not.toContain("placeholder-for-secure");
    });

    it("passes the app's own environment, in name order", () => {
        const objects = renderStage("dev", { apps: withApp("dev", "orders", (a) => (a.env = { ZONE: "z", APP_MODE: "demo" })) });
        const env = (find(objects, "Deployment", "orders") as any).spec.template.spec.containers[0].env.map((e: any) => e.name);
        expect(env.slice(-2)).toEqual(["APP_MODE", "ZONE"]);
    });

    it("rolls out with zero unavailable pods", () => {
        expect(deployment.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    });

    it("has a Service, a public route and a disruption budget that allows node drains", () => {
        const service = find(objects, "Service", "orders", "apps") as any;
        // The management port too: Prometheus scrapes the actuator through every Service port named management.
        expect(service.spec.ports).toEqual([
            { name: "http", port: 8080, targetPort: "http", protocol: "TCP" },
            { name: "management", port: 8081, targetPort: "management", protocol: "TCP" },
        ]);
        const ingress = find(objects, "Ingress", "orders", "apps") as any;
        expect(ingress.spec.rules).toEqual([
            {
                host: "shop.dev.example.com",
                http: {
                    paths: [{ path: "/orders", pathType: "Prefix", backend: { service: { name: "orders", port: { name: "http" } } } }],
                },
            },
        ]);
        const pdb = find(objects, "PodDisruptionBudget", "orders", "apps") as any;
        expect(pdb.spec.maxUnavailable).toBe(1);
        expect(pdb.spec.minAvailable).toBeUndefined();
        expect(selects(pdb.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(true);
        // inventory has no route in dev: no Ingress.
        expect(
            ofKind(objects, "Ingress")
                .map((i) => i.metadata.name)
                .sort(),
        ).toEqual(["orders", "web"]);
    });

    it("carries the Kubernetes recommended labels", () => {
        expect(deployment.metadata.labels).toMatchObject({
            "app.kubernetes.io/name": "orders",
            "app.kubernetes.io/instance": "orders",
            "app.kubernetes.io/version": "1.4.2",
            "app.kubernetes.io/component": "backend",
            "app.kubernetes.io/part-of": "apps",
            "app.kubernetes.io/managed-by": "pulumi",
        });
    });

    it("autoscales on CPU when configured, and then leaves the replica count to the autoscaler", () => {
        const prod = renderStage("prod");
        const hpa = find(prod, "HorizontalPodAutoscaler", "orders", "apps") as any;
        expect(hpa.spec).toMatchObject({
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "orders" },
            minReplicas: 3,
            maxReplicas: 12,
        });
        expect(hpa.spec.metrics).toEqual([
            { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
        ]);
        expect((find(prod, "Deployment", "orders") as any).spec.replicas).toBeUndefined();
        // Without autoscale (dev) there is no autoscaler and the Deployment sets its replicas.
        expect(ofKind(objects, "HorizontalPodAutoscaler")).toEqual([]);
        expect(deployment.spec.replicas).toBe(1);
    });
});

describe("the restricted Pod Security level (apps namespace)", () => {
    it("runs every app as its non-root uid, without privileges, on a read-only root filesystem with writable emptyDirs", () => {
        const objects = renderStage("dev");
        expect((find(objects, "Namespace", "apps") as any).metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
        for (const [name, uid, writable] of [
            ["orders", 1000, ["/tmp"]],
            ["web", 101, ["/tmp", "/var/cache/nginx", "/var/run"]],
        ] as const) {
            const pod = (find(objects, "Deployment", name, "apps") as any).spec.template.spec;
            expect(pod.securityContext).toEqual({
                runAsNonRoot: true,
                runAsUser: uid,
                runAsGroup: uid,
                seccompProfile: { type: "RuntimeDefault" },
            });
            expect(pod.containers[0].securityContext).toEqual({
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
                readOnlyRootFilesystem: true,
            });
            const emptyDirs = pod.volumes.filter((v: any) => v.emptyDir).map((v: any) => v.name);
            expect(pod.containers[0].volumeMounts.filter((m: any) => emptyDirs.includes(m.name)).map((m: any) => m.mountPath)).toEqual(
                writable,
            );
        }
    });

    it("takes each app's uid and root filesystem from its options", () => {
        const objects = renderStage("dev", {
            apps: withApp("dev", "orders", (a) => Object.assign(a, { runAsUser: 185, readOnlyRootFilesystem: false })),
        });
        const pod = (find(objects, "Deployment", "orders", "apps") as any).spec.template.spec;
        expect(pod.securityContext.runAsUser).toBe(185);
        expect(pod.containers[0].securityContext.readOnlyRootFilesystem).toBe(false);
        expect((find(objects, "Deployment", "web", "apps") as any).spec.template.spec.securityContext.runAsUser).toBe(101);
    });

    it("refuses root as an app's uid, naming the app's key", () => {
        expect(() => renderStage("dev", { apps: withApp("dev", "orders", (a) => Object.assign(a, { runAsUser: 0 })) })).toThrow(
            /apps\[0\]\.runAsUser = 0: must be a non-root uid/,
        );
    });
});

describe("gray release (staging's orders canary)", () => {
    const objects = renderStage("staging");

    it("runs the canary image in its own Deployment and Service", () => {
        const canary = find(objects, "Deployment", "orders-canary", "apps") as any;
        expect(canary.spec.template.spec.containers[0].image).toBe("registry.cn-hangzhou.aliyuncs.com/example-shop/orders:1.6.0-rc1");
        const service = find(objects, "Service", "orders-canary", "apps") as any;
        expect(selects(service.spec.selector, canary.spec.template.metadata.labels)).toBe(true);
    });

    it("keeps the stable Service (what other services call) off the canary pods", () => {
        const stable = find(objects, "Service", "orders", "apps") as any;
        const canary = find(objects, "Deployment", "orders-canary", "apps") as any;
        expect(selects(stable.spec.selector, canary.spec.template.metadata.labels)).toBe(false);
        expect(selects(stable.spec.selector, (find(objects, "Deployment", "orders") as any).spec.template.metadata.labels)).toBe(true);
    });

    it("sends the configured share of requests to it through an ingress-nginx canary Ingress on the same route", () => {
        const main = find(objects, "Ingress", "orders", "apps") as any;
        const canary = find(objects, "Ingress", "orders-canary", "apps") as any;
        expect(canary.metadata.annotations).toMatchObject({
            "nginx.ingress.kubernetes.io/canary": "true",
            "nginx.ingress.kubernetes.io/canary-weight": "10",
        });
        expect(main.metadata.annotations["nginx.ingress.kubernetes.io/canary"]).toBeUndefined();
        expect(canary.spec.rules[0].host).toBe(main.spec.rules[0].host);
        expect(canary.spec.rules[0].http.paths[0].path).toBe(main.spec.rules[0].http.paths[0].path);
        expect(canary.spec.rules[0].http.paths[0].backend.service.name).toBe("orders-canary");
    });

    it("changes only the canary when the canary weight changes", () => {
        const after = renderStage("staging", { apps: withApp("staging", "orders", (a) => (a.canary.weight = 50)) });
        expect(diffObjects(objects, after)).toEqual(["Ingress apps/orders-canary"]);
    });

    it("removes exactly the canary's objects when the canary ends", () => {
        const after = renderStage("staging", { apps: withApp("staging", "orders", (a) => delete a.canary) });
        expect(diffObjects(objects, after)).toEqual([
            "Deployment apps/orders-canary",
            "Ingress apps/orders-canary",
            "Service apps/orders-canary",
        ]);
    });
});

describe("React app", () => {
    const objects = renderStage("dev");

    it("serves the app's own image with the platform's server block mounted over its conf.d", () => {
        const deployment = find(objects, "Deployment", "web", "apps") as any;
        const c = deployment.spec.template.spec.containers[0];
        expect(c.image).toBe("registry.cn-hangzhou.aliyuncs.com/example-shop/web:3.7.0");
        expect(c.volumeMounts).toEqual([
            { name: "nginx-conf", mountPath: "/etc/nginx/conf.d", readOnly: true },
            // Where nginx writes, so the root filesystem can stay read-only.
            { name: "writable-0", mountPath: "/tmp" },
            { name: "writable-1", mountPath: "/var/cache/nginx" },
            { name: "writable-2", mountPath: "/var/run" },
        ]);
        const volume = deployment.spec.template.spec.volumes[0];
        expect(volume.configMap.name).toBe("web-nginx");
        const conf: string = (find(objects, "ConfigMap", "web-nginx", "apps") as any).data["app.conf"];
        expect(conf).toContain(`listen ${c.ports[0].containerPort};`);
    });

    it("proxies /api/<service>/ to each named Spring Boot service by its cluster DNS name and port", () => {
        const conf: string = (find(objects, "ConfigMap", "web-nginx", "apps") as any).data["app.conf"];
        expect(conf).toContain("location /api/orders/ {\n        proxy_pass http://orders.apps.svc.cluster.local:8080/;");
        expect(conf).toContain("location /api/inventory/ {\n        proxy_pass http://inventory.apps.svc.cluster.local:8080/;");
        const custom = renderStage("dev", { apps: withApp("dev", "inventory", (a) => (a.port = 9000)) });
        const customConf: string = (find(custom, "ConfigMap", "web-nginx") as any).data["app.conf"];
        expect(customConf).toContain("proxy_pass http://inventory.apps.svc.cluster.local:9000/;");
    });

    it("has a public route on its host", () => {
        const ingress = find(objects, "Ingress", "web", "apps") as any;
        expect(ingress.spec.rules[0].host).toBe("shop.dev.example.com");
        expect(ingress.spec.rules[0].http.paths[0]).toMatchObject({ path: "/", pathType: "Prefix", backend: { service: { name: "web" } } });
    });
});

describe("stability", () => {
    it("changing one app's image changes only that app's workload", () => {
        const before = renderStage("staging");
        const after = renderStage("staging", {
            apps: withApp("staging", "inventory", (a) => (a.image = "registry.cn-hangzhou.aliyuncs.com/example-shop/inventory:2.0.2")),
        });
        expect(diffObjects(before, after)).toEqual(["Deployment apps/inventory"]);
    });

    it("changing the React app's image changes only its Deployment (not its proxies' targets)", () => {
        const before = renderStage("prod");
        const after = renderStage("prod", {
            apps: withApp("prod", "web", (a) => (a.image = "registry.cn-hangzhou.aliyuncs.com/example-shop/web:3.9.0")),
        });
        expect(diffObjects(before, after)).toEqual(["Deployment apps/web"]);
    });

    it("adding a service adds only its objects", () => {
        const before = renderStage("dev");
        const added = { kind: "spring-boot", name: "payments", image: "registry.cn-hangzhou.aliyuncs.com/example-shop/payments:0.1.0" };
        const after = renderStage("dev", { apps: [...apps("dev"), added] });
        expect(diffObjects(before, after)).toEqual([
            "ConfigMap apps/payments-config",
            "Deployment apps/payments",
            "NetworkPolicy apps/payments",
            "PodDisruptionBudget apps/payments",
            "Service apps/payments",
        ]);
    });

    it("renders the same objects twice", () => {
        expect(JSON.stringify(renderStage("prod"))).toBe(JSON.stringify(renderStage("prod")));
    });
});

describe("names and variables the platform reserves", () => {
    it("refuses an app that sets a variable the platform sets, naming the app and the rule", () => {
        const cfg = stageConfig("dev", { apps: withApp("dev", "orders", (a) => (a.env = { JAVA_TOOL_OPTIONS: "-Xmx1g" })) });
        const problems = appsProblems(appsSettings(cfg));
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(/^apps\[0\]\.env\.JAVA_TOOL_OPTIONS = "-Xmx1g": app orders: .*set by the platform/);
    });

    it("refuses a secret variable the platform sets, without showing its value", () => {
        const cfg = stageConfig("dev", { appSecrets: { inventory: { SERVER_PORT: { secure: "v1:abc" } } } });
        const problems = appsProblems(appsSettings(cfg));
        expect(problems).toEqual([expect.stringMatching(/^appSecrets\.inventory\.SERVER_PORT = "\[secret\]": app inventory:/)]);
        expect(problems.join()).not.toContain("placeholder");
    });

    it("refuses an app named like another app's canary", () => {
        const extra = { kind: "spring-boot", name: "orders-canary", image: "registry.cn-hangzhou.aliyuncs.com/example-shop/orders:9.9.9" };
        const cfg = stageConfig("staging", { apps: [...apps("staging"), extra] });
        expect(appsProblems(appsSettings(cfg))).toEqual([
            expect.stringMatching(
                /^apps\[3\]\.name = "orders-canary": app orders-canary needs a workload named orders-canary, which app orders already uses/,
            ),
        ]);
    });

    it("accepts every stage file as written", () => {
        for (const stage of ["dev", "staging", "prod"]) {
            expect(appsProblems(appsSettings(stageConfig(stage)))).toEqual([]);
        }
    });
});
