/**
 * Grafana's dashboards are valid JSON whose every query is PromQL (Prometheus's own grammar) naming only metrics the
 * scraped targets export. Here, the exporters that run on this machine are asked for their names (node_exporter,
 * Prometheus, Alertmanager); the control plane's, etcd's and the kubelet's names are checked against the real
 * binaries in the engine suite (tests/engine/stage.test.ts). What cannot run here is listed with its source.
 */
import * as os from "os";
import { DASHBOARDS, dashboardJson } from "../../k8s/dashboards";
import { find, renderStage } from "../k8s/helpers";
import { ENGINE_CHECKED, EXCEPTIONS, dashboardQueries, exportedNames, metricNames, ruleQueries, tool } from "./helpers";

describe("Grafana's dashboards", () => {
    it("are the cluster, nodes, etcd, ingress and apps dashboards, each valid JSON with a uid, panels and queries", () => {
        expect(DASHBOARDS.map((d) => d.uid)).toEqual(["cluster", "nodes", "etcd", "ingress", "apps"]);
        for (const d of DASHBOARDS) {
            const model = JSON.parse(dashboardJson(d));
            expect(model.uid).toBe(d.uid);
            expect(model.panels.length).toBeGreaterThanOrEqual(5);
            for (const panel of model.panels) {
                expect(panel.targets.length).toBeGreaterThan(0);
                expect(panel.datasource.uid).toBe("prometheus");
            }
        }
    });

    it("are provisioned from a ConfigMap Grafana mounts, one file per dashboard, with Prometheus (and Loki) as data sources", () => {
        const objects = renderStage("staging");
        const dashboards = find(objects, "ConfigMap", "grafana-dashboards", "monitoring") as any;
        expect(Object.keys(dashboards.data).sort()).toEqual(["apps.json", "cluster.json", "etcd.json", "ingress.json", "nodes.json"]);
        const provisioning = find(objects, "ConfigMap", "grafana-provisioning", "monitoring") as any;
        expect(JSON.parse(provisioning.data["datasources.yml"]).datasources.map((d: any) => d.type)).toEqual(["prometheus", "loki"]);
        const sls = renderStage("staging", { observability: { logs: { backend: "sls" } } });
        const slsProvisioning = find(sls, "ConfigMap", "grafana-provisioning", "monitoring") as any;
        expect(JSON.parse(slsProvisioning.data["datasources.yml"]).datasources.map((d: any) => d.type)).toEqual(["prometheus"]);
    });

    it("query only metrics the scraped targets export (or the listed exceptions)", () => {
        const exported = new Set<string>([
            ...exportedNames(tool("prometheus-node-exporter", "prometheus-node-exporter"), ["--web.listen-address=127.0.0.1:19100"], 19100),
            ...exportedNames(
                tool("prometheus", "prometheus"),
                [
                    "--web.listen-address=127.0.0.1:19090",
                    `--storage.tsdb.path=${os.tmpdir()}/prom-${process.pid}`,
                    "--config.file=/dev/null",
                ],
                19090,
            ),
            "up", // every scrape's own series
        ]);
        const queries = [...dashboardQueries(), ...ruleQueries()];
        const unknown: string[] = [];
        const usedExceptions = new Set<string>();
        let engineChecked = 0;
        for (const { where, expr } of queries) {
            for (const name of metricNames(expr)) {
                if (exported.has(name)) continue;
                if (ENGINE_CHECKED.test(name)) {
                    engineChecked++;
                    continue;
                }
                if (name in EXCEPTIONS) {
                    usedExceptions.add(name);
                    continue;
                }
                unknown.push(`${where}: ${name}`);
            }
        }
        expect(unknown).toEqual([]);
        expect([...usedExceptions].sort()).toEqual(Object.keys(EXCEPTIONS).sort());
        expect(engineChecked).toBeGreaterThan(10);
    });

    it("the name check finds a misspelt metric (node_memroy_...)", () => {
        const exported = exportedNames(
            tool("prometheus-node-exporter", "prometheus-node-exporter"),
            ["--web.listen-address=127.0.0.1:19101"],
            19101,
        );
        expect(exported.has("node_memory_MemAvailable_bytes")).toBe(true);
        expect(metricNames("node_memroy_MemAvailable_bytes / node_memory_MemTotal_bytes").filter((n) => !exported.has(n))).toEqual([
            "node_memroy_MemAvailable_bytes",
        ]);
    });
});
