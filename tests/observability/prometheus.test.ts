/**
 * The rendered rules pass Prometheus's own checks (`promtool check rules`, Debian's promtool), and every alert fires on synthetic series that show its problem and stays silent on series that
 * do not (`promtool test rules`). Cases are written out by hand: what a node down, a full disk or an expiring
 * certificate looks like, not what the rule says.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { IssuedCertificate, alertNames, renderCertificateRules } from "../../k8s/alertRules";
import { renderedFile, run, scratchDir, tool } from "./helpers";

const promtool = () => tool("promtool", "prometheus");

const APISERVER_ENDING: IssuedCertificate = {
    name: "apiserver",
    purpose: "kube-apiserver's serving certificate",
    notAfter: "1970-01-21T00:00:00Z",
};
const ADMIN_FAR: IssuedCertificate = {
    name: "admin",
    purpose: "the team's cluster-admin client certificate",
    notAfter: "2030-01-01T00:00:00Z",
};

/** Series values: "0x20" is twenty-one samples of 0, one a minute. */
interface Case {
    readonly series: readonly { readonly series: string; readonly values: string }[];
    readonly at: string;
    /** The labels the alert carries when it fires (besides alertname); absent for a case that must stay silent. */
    readonly fires?: Record<string, string>;
    /** The certificates the program issued, for the certificate rules (default: every one far from its end). */
    readonly certificates?: readonly IssuedCertificate[];
}

/** One firing and one silent case per alert (staging: 3 etcd members, pki.renewBeforeDays 30). */
const CASES: Record<string, { firing: Case; silent: Case }> = {
    NodeDown: {
        firing: {
            series: [{ series: 'up{job="node",node="w0",instance="10.20.16.10:9100"}', values: "0x10" }],
            at: "6m",
            fires: { severity: "critical", job: "node", node: "w0", instance: "10.20.16.10:9100" },
        },
        silent: { series: [{ series: 'up{job="node",node="w0",instance="10.20.16.10:9100"}', values: "0x3 1x10" }], at: "10m" },
    },
    KubeNodeNotReady: {
        firing: {
            series: [{ series: 'kube_node_status_condition{condition="Ready",status="true",node="w0"}', values: "0x10" }],
            at: "6m",
            fires: { severity: "critical", condition: "Ready", status: "true", node: "w0" },
        },
        silent: {
            series: [{ series: 'kube_node_status_condition{condition="Ready",status="true",node="w0"}', values: "1x10" }],
            at: "10m",
        },
    },
    NodeDiskFilling: {
        firing: {
            series: [
                { series: 'node_filesystem_avail_bytes{fstype="xfs",mountpoint="/var",node="w0"}', values: "5x20" },
                { series: 'node_filesystem_size_bytes{fstype="xfs",mountpoint="/var",node="w0"}', values: "100x20" },
                { series: 'node_filesystem_readonly{fstype="xfs",mountpoint="/var",node="w0"}', values: "0x20" },
            ],
            at: "15m",
            fires: { severity: "warning", fstype: "xfs", mountpoint: "/var", node: "w0" },
        },
        silent: {
            series: [
                { series: 'node_filesystem_avail_bytes{fstype="xfs",mountpoint="/var",node="w0"}', values: "50x20" },
                { series: 'node_filesystem_size_bytes{fstype="xfs",mountpoint="/var",node="w0"}', values: "100x20" },
                { series: 'node_filesystem_readonly{fstype="xfs",mountpoint="/var",node="w0"}', values: "0x20" },
            ],
            at: "15m",
        },
    },
    NodeMemoryLow: {
        firing: {
            series: [
                { series: 'node_memory_MemAvailable_bytes{node="w0"}', values: "5x20" },
                { series: 'node_memory_MemTotal_bytes{node="w0"}', values: "100x20" },
            ],
            at: "15m",
            fires: { severity: "warning", node: "w0" },
        },
        silent: {
            series: [
                { series: 'node_memory_MemAvailable_bytes{node="w0"}', values: "40x20" },
                { series: 'node_memory_MemTotal_bytes{node="w0"}', values: "100x20" },
            ],
            at: "15m",
        },
    },
    KubeNodePressure: {
        firing: {
            series: [{ series: 'kube_node_status_condition{condition="DiskPressure",status="true",node="w0"}', values: "1x10" }],
            at: "6m",
            fires: { severity: "warning", condition: "DiskPressure", status: "true", node: "w0" },
        },
        silent: {
            series: [{ series: 'kube_node_status_condition{condition="DiskPressure",status="true",node="w0"}', values: "0x10" }],
            at: "10m",
        },
    },
    EtcdNoLeader: {
        firing: {
            series: [{ series: 'etcd_server_has_leader{job="etcd",node="c0"}', values: "0x5" }],
            at: "2m",
            fires: { severity: "critical", job: "etcd", node: "c0" },
        },
        silent: { series: [{ series: 'etcd_server_has_leader{job="etcd",node="c0"}', values: "1x5" }], at: "5m" },
    },
    EtcdMemberDown: {
        firing: {
            series: [{ series: 'up{job="etcd",node="c1"}', values: "0x5" }],
            at: "4m",
            fires: { severity: "warning", job: "etcd", node: "c1" },
        },
        silent: { series: [{ series: 'up{job="etcd",node="c1"}', values: "1x5" }], at: "5m" },
    },
    EtcdDatabaseNearQuota: {
        firing: {
            series: [
                { series: 'etcd_mvcc_db_total_size_in_bytes{node="c0"}', values: "1800x20" },
                { series: 'etcd_server_quota_backend_bytes{node="c0"}', values: "2000x20" },
            ],
            at: "15m",
            fires: { severity: "warning", node: "c0" },
        },
        silent: {
            series: [
                { series: 'etcd_mvcc_db_total_size_in_bytes{node="c0"}', values: "500x20" },
                { series: 'etcd_server_quota_backend_bytes{node="c0"}', values: "2000x20" },
            ],
            at: "15m",
        },
    },
    EtcdBackupTooOld: {
        // The last success at time 0, never again; a day and an hour later.
        firing: {
            series: [{ series: 'coreos_platform_etcd_backup_last_success_timestamp_seconds{node="c0"}', values: "0x1560" }],
            at: "25h",
            fires: { severity: "warning" },
        },
        // A backup every hour (the value is the time of the last one).
        silent: {
            series: [
                {
                    series: 'coreos_platform_etcd_backup_last_success_timestamp_seconds{node="c0"}',
                    values: "0x59 3600x60 7200x60 10800x60 14400x60 18000x60 21600x60 25200x60 28800x60 32400x60 36000x60 39600x60 43200x60 46800x60 50400x60 54000x60 57600x60 61200x60 64800x60 68400x60 72000x60 75600x60 79200x60 82800x60 86400x60 90000x60",
                },
            ],
            at: "25h",
        },
    },
    ApiServerErrors: {
        firing: {
            series: [
                { series: 'apiserver_request_total{code="500",instance="a"}', values: "0+10x20" },
                { series: 'apiserver_request_total{code="200",instance="a"}', values: "0+90x20" },
            ],
            at: "16m",
            fires: { severity: "critical", instance: "a" },
        },
        silent: {
            series: [
                { series: 'apiserver_request_total{code="500",instance="a"}', values: "0+1x20" },
                { series: 'apiserver_request_total{code="200",instance="a"}', values: "0+99x20" },
            ],
            at: "16m",
        },
    },
    ApiServerDown: {
        firing: { series: [{ series: 'up{job="apiserver",instance="a"}', values: "0x10" }], at: "6m", fires: { severity: "critical" } },
        silent: { series: [{ series: 'up{job="apiserver",instance="a"}', values: "1x10" }], at: "6m" },
    },
    CertificateExpiring: {
        // apiserver ends 20 days after promtool's time 0 (inside the 30-day window), admin in 2030.
        firing: {
            series: [],
            at: "2h",
            certificates: [APISERVER_ENDING, ADMIN_FAR],
            fires: { severity: "warning", certificate: "apiserver", purpose: "kube-apiserver's serving certificate" },
        },
        // Renewed by a `pulumi up`: 365 days from time 0.
        silent: { series: [], at: "2h", certificates: [{ ...APISERVER_ENDING, notAfter: "1971-01-01T00:00:00Z" }, ADMIN_FAR] },
    },
    KubeletCertificateExpiring: {
        firing: {
            series: [{ series: 'kubelet_certificate_manager_client_ttl_seconds{node="w0"}', values: "864000x90" }],
            at: "90m",
            fires: { severity: "warning", node: "w0" },
        },
        silent: { series: [{ series: 'kubelet_certificate_manager_client_ttl_seconds{node="w0"}', values: "20000000x90" }], at: "90m" },
    },
    PersistentVolumeFillingUp: {
        firing: {
            series: [
                {
                    series: 'kubelet_volume_stats_available_bytes{namespace="monitoring",persistentvolumeclaim="prometheus-data"}',
                    values: "3x20",
                },
                {
                    series: 'kubelet_volume_stats_capacity_bytes{namespace="monitoring",persistentvolumeclaim="prometheus-data"}',
                    values: "100x20",
                },
            ],
            at: "15m",
            fires: { severity: "warning", namespace: "monitoring", persistentvolumeclaim: "prometheus-data" },
        },
        silent: {
            series: [
                {
                    series: 'kubelet_volume_stats_available_bytes{namespace="monitoring",persistentvolumeclaim="prometheus-data"}',
                    values: "60x20",
                },
                {
                    series: 'kubelet_volume_stats_capacity_bytes{namespace="monitoring",persistentvolumeclaim="prometheus-data"}',
                    values: "100x20",
                },
            ],
            at: "15m",
        },
    },
    PodCrashLooping: {
        firing: {
            series: [
                {
                    series: 'kube_pod_container_status_waiting_reason{namespace="apps",pod="orders-1",container="orders",reason="CrashLoopBackOff"}',
                    values: "1x20",
                },
            ],
            at: "15m",
            fires: { severity: "warning", namespace: "apps", pod: "orders-1", container: "orders" },
        },
        silent: {
            series: [
                {
                    series: 'kube_pod_container_status_waiting_reason{namespace="apps",pod="orders-1",container="orders",reason="CrashLoopBackOff"}',
                    values: "0x20",
                },
            ],
            at: "15m",
        },
    },
    AppErrorRatioHigh: {
        firing: {
            series: [
                {
                    series: 'http_server_requests_seconds_count{job="apps",namespace="apps",service="orders",status="503",uri="/orders"}',
                    values: "0+20x20",
                },
                {
                    series: 'http_server_requests_seconds_count{job="apps",namespace="apps",service="orders",status="200",uri="/orders"}',
                    values: "0+80x20",
                },
            ],
            at: "16m",
            fires: { severity: "warning", namespace: "apps", service: "orders" },
        },
        silent: {
            series: [
                {
                    series: 'http_server_requests_seconds_count{job="apps",namespace="apps",service="orders",status="503",uri="/orders"}',
                    values: "0+1x20",
                },
                {
                    series: 'http_server_requests_seconds_count{job="apps",namespace="apps",service="orders",status="200",uri="/orders"}',
                    values: "0+99x20",
                },
            ],
            at: "16m",
        },
    },
};

/** Writes the rules (annotations left out: firing is about labels; check rules and the case below cover the texts). */
function writeRules(dir: string, keepAnnotations: boolean): void {
    const rules = YAML.parse(renderedFile("staging", "ConfigMap", "prometheus-rules", "platform.yml"));
    if (!keepAnnotations) {
        for (const group of rules.groups) for (const rule of group.rules) delete rule.annotations;
    }
    fs.writeFileSync(path.join(dir, "platform.yml"), YAML.stringify(rules));
}

function promtoolTest(dir: string, alert: string, c: Case, annotations?: Record<string, string>): { status: number; output: string } {
    const file = path.join(dir, `${alert}-${c.fires ? "firing" : "silent"}.yml`);
    const certificates = `${path.basename(file, ".yml")}-certificates.yml`;
    fs.writeFileSync(path.join(dir, certificates), renderCertificateRules(c.certificates ?? [ADMIN_FAR]));
    fs.writeFileSync(
        file,
        YAML.stringify({
            rule_files: ["platform.yml", certificates],
            evaluation_interval: "1m",
            tests: [
                {
                    interval: "1m",
                    input_series: c.series.length > 0 ? c.series : [{ series: "unrelated", values: "0x1" }],
                    alert_rule_test: [
                        {
                            eval_time: c.at,
                            alertname: alert,
                            exp_alerts: c.fires ? [{ exp_labels: c.fires, ...(annotations ? { exp_annotations: annotations } : {}) }] : [],
                        },
                    ],
                },
            ],
        }),
    );
    return run(promtool(), ["test", "rules", path.basename(file)], dir);
}

describe("Prometheus's configuration and rules, checked by promtool", () => {
    // `promtool check config` runs in the engine suite (tests/engine/observabilityTools.test.ts) with promtool 3 built
    // at the pinned release: Debian's promtool 2.42 is built without Kubernetes service discovery and rejects it.

    it("`promtool check rules` accepts the alerts and the certificate rules", () => {
        const dir = scratchDir("promtool-rules");
        writeRules(dir, true);
        fs.writeFileSync(path.join(dir, "certificates.yml"), renderCertificateRules([APISERVER_ENDING, ADMIN_FAR]));
        const result = run(promtool(), ["check", "rules", "platform.yml", "certificates.yml"], dir);
        expect(result.output).toMatch(/SUCCESS: 16 rules found/);
        expect(result.output).toMatch(/SUCCESS: 2 rules found/);
        expect(result.status).toBe(0);
    });

    it("has a firing and a silent case for every alert, and no case for an alert that does not exist", () => {
        expect(Object.keys(CASES).sort()).toEqual(alertNames({ renewBeforeDays: 30, etcdMembers: 3 }).sort());
    });

    const dir = scratchDir("promtool-test");
    writeRules(dir, false);
    for (const [alert, { firing, silent }] of Object.entries(CASES)) {
        it(`${alert} fires on its problem and stays silent without it`, () => {
            const fired = promtoolTest(dir, alert, firing);
            expect({ alert, case: "firing", ...fired }).toMatchObject({ status: 0 });
            const quiet = promtoolTest(dir, alert, silent);
            expect({ alert, case: "silent", ...quiet }).toMatchObject({ status: 0 });
        });
    }

    it("a wrong expectation fails (promtool test compares for real)", () => {
        const wrong = promtoolTest(dir, "NodeDown", { ...CASES.NodeDown.silent, fires: { severity: "critical" } });
        expect(wrong.status).not.toBe(0);
    });

    it("the certificate alert tells the team to run pulumi up, with the certificate and the time left", () => {
        const withTexts = scratchDir("promtool-texts");
        writeRules(withTexts, true);
        const result = promtoolTest(withTexts, "CertificateExpiring", CASES.CertificateExpiring.firing, {
            summary: "Certificate apiserver expires within 30 days: run pulumi up",
            description:
                "apiserver (kube-apiserver's serving certificate) ends in 19d 22h 0m 0s. Leaf certificates are re-issued and copied to the controllers by the next `pulumi up`; a CA is rotated by hand (docs/pki.md).",
        });
        expect(result).toMatchObject({ status: 0 });
    });
});
