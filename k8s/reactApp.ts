/**
 * A React single-page app from stage config. The app's own image serves its build with nginx; the platform
 * mounts the nginx server block (SPA fallback, caching, `/api/<service>` proxies) into it from a ConfigMap.
 * The contract for the image is in docs/kubernetes.md ("React apps").
 */
import type { ReactAppConfig } from "../config/types";
import { CLUSTER_DOMAIN } from "../layout/cluster";
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

/** Where nginx writes: its temp and cache paths (official image), its pid file (/var/run), and the unprivileged images' /tmp. */
export const NGINX_WRITABLE_DIRS = ["/tmp", "/var/cache/nginx", "/var/run"];
import { KubeObject, kube, selectorLabels } from "./objects";

/** Where the image's nginx reads server blocks (the same in nginx and nginx-unprivileged images). */
export const NGINX_CONF_DIR = "/etc/nginx/conf.d";
/** Where the image keeps the built app. */
export const NGINX_HTML_DIR = "/usr/share/nginx/html";
/** The port the server block listens on: above 1024, so root and unprivileged nginx images both can. */
export const REACT_CONTAINER_PORT = 8080;
/** Build output directories whose file names carry content hashes (Create React App: static/, Vite: assets/). */
export const HASHED_ASSET_DIRS = ["static", "assets"];

/** A Spring Boot service a React app proxies to under /api/<name>/. */
export interface ApiUpstream {
    readonly name: string;
    /** The Service's port (the service's `port`). */
    readonly port: number;
}

export function reactNames(app: string) {
    return { workload: app, config: `${app}-nginx` };
}

/** The nginx server block of a React app. */
export function renderNginxConf(
    app: Pick<ReactAppConfig, "name" | "route">,
    upstreams: readonly ApiUpstream[],
    ctx: Pick<AppContext, "namespace">,
): string {
    const base = app.route.path.replace(/\/+$/, "");
    const lines = [
        `# The ${app.name} app's server block, rendered by the platform (docs/kubernetes.md, "React apps").`,
        "server {",
        `    listen ${REACT_CONTAINER_PORT};`,
        "    server_name _;",
        `    root ${NGINX_HTML_DIR};`,
        "",
    ];
    if (base !== "") {
        // The ingress passes the route's path prefix on; the build's files sit at the image's root.
        const prefix = base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        lines.push(`    rewrite ^${prefix}$ / last;`, `    rewrite ^${prefix}(/.*)$ $1 last;`, "");
    }
    lines.push(
        "    location = /healthz {",
        "        access_log off;",
        "        default_type text/plain;",
        '        return 200 "ok\\n";',
        "    }",
        "",
        "    # The entry point names the current hashed bundles: browsers must revalidate it on every visit.",
        "    location = /index.html {",
        '        add_header Cache-Control "no-cache" always;',
        "    }",
        "",
        "    # Hashed build output never changes under a name: cache it for a year. A missing file is a 404, never",
        "    # index.html (which a browser would then cache as a script); without `always` the 404 is not cached either.",
        `    location ~ ^/(${HASHED_ASSET_DIRS.join("|")})/ {`,
        '        add_header Cache-Control "public, max-age=31536000, immutable";',
        "        try_files $uri =404;",
        "    }",
        "",
    );
    for (const upstream of [...upstreams].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        lines.push(
            `    # /api/${upstream.name}/x reaches the ${upstream.name} service as /x.`,
            `    location /api/${upstream.name}/ {`,
            `        proxy_pass http://${upstream.name}.${ctx.namespace}.svc.${CLUSTER_DOMAIN}:${upstream.port}/;`,
            "        proxy_http_version 1.1;",
            "        proxy_set_header Host $host;",
            "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
            "        proxy_set_header X-Forwarded-Proto $http_x_forwarded_proto;",
            "    }",
            "",
        );
    }
    lines.push(
        "    # Client-side routes: any other path that is not a file gets the app's entry point.",
        "    location / {",
        '        add_header Cache-Control "no-cache" always;',
        "        try_files $uri /index.html;",
        "    }",
        "}",
    );
    return lines.join("\n") + "\n";
}

export function renderReactApp(app: ReactAppConfig, upstreams: readonly ApiUpstream[], ctx: AppContext): KubeObject[] {
    const names = reactNames(app.name);
    const namespace = ctx.namespace;
    const labels = appLabels(app.name, "frontend");
    const selector = selectorLabels(app.name);
    const workloadLabels = { ...labels, ...selector };
    const conf = renderNginxConf(app, upstreams, ctx);
    const probe = { httpGet: { path: "/healthz", port: "http" } };
    const security = restrictedPod(app, NGINX_WRITABLE_DIRS);
    return [
        kube.ConfigMap({ metadata: { name: names.config, namespace, labels }, data: { "app.conf": conf } }),
        // Port 80 on the Service, like any web server; the pod listens on 8080.
        appService(names.workload, namespace, workloadLabels, selector, 80),
        kube.Deployment({
            metadata: { name: names.workload, namespace, labels: { ...workloadLabels, ...versionLabel(app.image) } },
            spec: {
                replicas: app.replicas,
                selector: { matchLabels: selector },
                strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
                template: {
                    metadata: {
                        labels: { ...workloadLabels, ...versionLabel(app.image) },
                        annotations: { "checksum/config": contentHash(conf) },
                    },
                    spec: {
                        enableServiceLinks: false,
                        securityContext: security.podSecurityContext,
                        affinity: spreadOverNodes(selector),
                        containers: [
                            {
                                name: "app",
                                image: app.image,
                                ports: [{ name: "http", containerPort: REACT_CONTAINER_PORT, protocol: "TCP" }],
                                readinessProbe: { ...probe, periodSeconds: 5 },
                                livenessProbe: { ...probe, periodSeconds: 10 },
                                resources: { requests: { cpu: app.cpu, memory: app.memory }, limits: { memory: app.memory } },
                                // nginx runs as the image's nginx user (runAsUser), not as root: it listens on 8080.
                                securityContext: security.containerSecurityContext,
                                // Replaces the image's own server blocks (conf.d/default.conf).
                                volumeMounts: [{ name: "nginx-conf", mountPath: NGINX_CONF_DIR, readOnly: true }, ...security.volumeMounts],
                            },
                        ],
                        volumes: [{ name: "nginx-conf", configMap: { name: names.config } }, ...security.volumes],
                    },
                },
            },
        }),
        appDisruptionBudget(names.workload, namespace, workloadLabels, selector),
        appIngress(names.workload, labels, app.route, names.workload, ctx),
    ];
}
