/**
 * The rules the stage's apps must meet beyond their schema: names and routes unique, routes only where an edge
 * pool runs ingress, React apps proxying to Spring Boot apps that exist, secrets only for those. Each problem is
 * reported with its key path, value and rule, like the infrastructure's rules (config/rules.ts).
 */
import { Report } from "./problems";
import { AppConfig, Parsed } from "./types";

/** Apps: unique names and routes, routes only with an edge pool, proxies to Spring Boot apps that exist, secrets for them. */
export function checkApps(
    apps: readonly AppConfig[] | undefined,
    appSecrets: Parsed<"appSecrets"> | undefined,
    edgeCount: number | undefined,
    report: Report,
): void {
    if (!apps) {
        return;
    }
    const seenNames = new Map<string, number>();
    const seenRoutes = new Map<string, number>();
    apps.forEach((app, i) => {
        const at = `apps[${i}]`;
        const first = seenNames.get(app.name);
        if (first !== undefined) {
            report(`${at}.name`, app.name, `is already the name of apps[${first}]; app names must be unique`);
        } else {
            seenNames.set(app.name, i);
        }
        if (app.route) {
            const routeKey = `${app.route.host}${app.route.path}`;
            const owner = seenRoutes.get(routeKey);
            if (owner !== undefined) {
                report(
                    `${at}.route`,
                    app.route,
                    `app ${app.name}: the route ${routeKey} is already served by apps[${owner}] (${apps[owner].name})`,
                );
            } else {
                seenRoutes.set(routeKey, i);
            }
            if (edgeCount === 0) {
                report(`${at}.route`, app.route, `app ${app.name} has a public route but edge.count is 0, so no node runs ingress`);
            }
        }
        if (app.kind === "spring-boot") {
            if (app.port === app.managementPort) {
                report(
                    `${at}.managementPort`,
                    app.managementPort,
                    `app ${app.name}: must differ from port (actuator probes get their own port)`,
                );
            }
            if (app.autoscale && app.autoscale.minReplicas > app.autoscale.maxReplicas) {
                report(
                    `${at}.autoscale.minReplicas`,
                    app.autoscale.minReplicas,
                    `app ${app.name}: must not exceed autoscale.maxReplicas (${app.autoscale.maxReplicas})`,
                );
            }
            if (app.canary && !app.route) {
                report(`${at}.canary`, app.canary, `app ${app.name}: a canary is served through the ingress, so the app needs a route`);
            }
        }
    });
    apps.forEach((app, i) => {
        if (app.kind !== "react") {
            return;
        }
        app.apiServices.forEach((service, j) => {
            const target = apps.find((a) => a.name === service);
            if (!target) {
                report(`apps[${i}].apiServices[${j}]`, service, `app ${app.name}: /api/${service} proxies to an app that does not exist`);
            } else if (target.kind !== "spring-boot") {
                report(
                    `apps[${i}].apiServices[${j}]`,
                    service,
                    `app ${app.name}: /api/${service} must proxy to a spring-boot app, ${service} is ${target.kind}`,
                );
            }
        });
    });
    for (const [appName, vars] of Object.entries(appSecrets ?? {})) {
        const target = apps.find((a) => a.name === appName);
        if (!target || target.kind !== "spring-boot") {
            report(`appSecrets.${appName}`, "[value hidden]", "names no spring-boot app in apps");
            continue;
        }
        for (const name of Object.keys(vars)) {
            if (name in target.env) {
                report(`appSecrets.${appName}.${name}`, "[value hidden]", `is also set in apps[${apps.indexOf(target)}].env; keep one`);
            }
        }
    }
}
