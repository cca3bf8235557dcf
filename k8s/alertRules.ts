/**
 * The platform's alerts, as Prometheus rule files: nodes down, disks and memory running out, etcd without a leader,
 * with a member down or near its quota, API server errors, any certificate of the cluster expiring within the PKI's
 * renewal window (the reminder to run `pulumi up`), the etcd backup older than a day, a volume nearly full, pods
 * crash-looping and an app answering with errors. `promtool test rules` fires and silences each one in the tests.
 */
import * as YAML from "yaml";
import { ETCD_BACKUP_SUCCESS_METRIC } from "../layout/node";
import { JOBS } from "./prometheusConfig";

/** The recorded expiry of each certificate the program issues: one series per certificate (see renderCertificateRules). */
export const CERTIFICATE_EXPIRY_METRIC = "coreos_platform_certificate_expiry_timestamp_seconds";

/** What the rules are rendered from. */
export interface AlertRulesInput {
    /** pki.renewBeforeDays: a certificate this close to its end is re-issued by the next `pulumi up`. */
    readonly renewBeforeDays: number;
    /** How many etcd members the stage runs (controllers.count). */
    readonly etcdMembers: number;
}

interface Alert {
    readonly alert: string;
    readonly expr: string;
    readonly for: string;
    readonly severity: "critical" | "warning";
    readonly summary: string;
    readonly description: string;
}

/** Every alert's name, for the tests that must fire and silence each one. */
export function alertNames(input: AlertRulesInput): string[] {
    return platformAlerts(input).flatMap((group) => group.alerts.map((a) => a.alert));
}

function platformAlerts(input: AlertRulesInput): { name: string; alerts: Alert[] }[] {
    const renewSeconds = input.renewBeforeDays * 86400;
    const quorum = Math.floor(input.etcdMembers / 2) + 1;
    return [
        {
            name: "nodes",
            alerts: [
                {
                    alert: "NodeDown",
                    expr: `up{job="${JOBS.node}"} == 0`,
                    for: "5m",
                    severity: "critical",
                    summary: "Node {{ $labels.node }} does not answer",
                    description:
                        "node_exporter on {{ $labels.node }} ({{ $labels.instance }}) has not answered for 5 minutes: the node is down or unreachable.",
                },
                {
                    alert: "KubeNodeNotReady",
                    expr: `kube_node_status_condition{condition="Ready",status="true"} == 0`,
                    for: "5m",
                    severity: "critical",
                    summary: "Node {{ $labels.node }} is not Ready",
                    description: "The kubelet of {{ $labels.node }} has not been Ready for 5 minutes; its pods are being evicted.",
                },
                {
                    alert: "NodeDiskFilling",
                    expr: `node_filesystem_avail_bytes{fstype=~"ext4|xfs"} / node_filesystem_size_bytes{fstype=~"ext4|xfs"} < 0.10 and node_filesystem_readonly{fstype=~"ext4|xfs"} == 0`,
                    for: "10m",
                    severity: "warning",
                    summary: "{{ $labels.mountpoint }} on {{ $labels.node }} is over 90% full",
                    description: "Less than 10% of {{ $labels.mountpoint }} on {{ $labels.node }} is free.",
                },
                {
                    alert: "NodeMemoryLow",
                    expr: "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < 0.10",
                    for: "10m",
                    severity: "warning",
                    summary: "Node {{ $labels.node }} has less than 10% of its memory available",
                    description: "Memory on {{ $labels.node }} is nearly exhausted; the kernel or the kubelet will soon kill processes.",
                },
                {
                    alert: "KubeNodePressure",
                    expr: `kube_node_status_condition{condition=~"DiskPressure|MemoryPressure|PIDPressure",status="true"} == 1`,
                    for: "5m",
                    severity: "warning",
                    summary: "Node {{ $labels.node }} reports {{ $labels.condition }}",
                    description: "The kubelet of {{ $labels.node }} reports {{ $labels.condition }} and evicts pods to relieve it.",
                },
            ],
        },
        {
            name: "etcd",
            alerts: [
                {
                    alert: "EtcdNoLeader",
                    expr: "etcd_server_has_leader == 0",
                    for: "1m",
                    severity: "critical",
                    summary: "etcd member {{ $labels.node }} has no leader",
                    description: "The member on {{ $labels.node }} sees no leader: the cluster cannot write.",
                },
                {
                    alert: "EtcdMemberDown",
                    expr: `up{job="${JOBS.etcd}"} == 0`,
                    for: "3m",
                    severity: input.etcdMembers === 1 ? "critical" : "warning",
                    summary: "etcd member {{ $labels.node }} does not answer",
                    description: `The etcd member on {{ $labels.node }} has not answered for 3 minutes; ${quorum} of ${input.etcdMembers} members keep the quorum.`,
                },
                {
                    alert: "EtcdDatabaseNearQuota",
                    expr: "etcd_mvcc_db_total_size_in_bytes / etcd_server_quota_backend_bytes > 0.80",
                    for: "10m",
                    severity: "warning",
                    summary: "etcd's database on {{ $labels.node }} is over 80% of its quota",
                    description: "At the quota etcd refuses writes (alarm NOSPACE): compact and defragment (docs/operations.md).",
                },
                {
                    alert: "EtcdBackupTooOld",
                    expr: `time() - max(${ETCD_BACKUP_SUCCESS_METRIC}) > 86400`,
                    for: "15m",
                    severity: "warning",
                    summary: "The last etcd backup is more than a day old",
                    description: "No etcd backup has succeeded for over 24 hours.",
                },
            ],
        },
        {
            name: "control-plane",
            alerts: [
                {
                    alert: "ApiServerErrors",
                    expr: `sum by (instance) (rate(apiserver_request_total{code=~"5.."}[5m])) / sum by (instance) (rate(apiserver_request_total[5m])) > 0.05`,
                    for: "10m",
                    severity: "critical",
                    summary: "API server {{ $labels.instance }} fails more than 5% of requests",
                    description: "More than 5% of the requests to {{ $labels.instance }} end in a 5xx answer.",
                },
                {
                    alert: "ApiServerDown",
                    expr: `absent(up{job="${JOBS.apiserver}"} == 1)`,
                    for: "5m",
                    severity: "critical",
                    summary: "No API server answers Prometheus",
                    description: "Prometheus has reached no API server for 5 minutes.",
                },
                {
                    alert: "CertificateExpiring",
                    expr: `${CERTIFICATE_EXPIRY_METRIC} - time() < ${renewSeconds}`,
                    for: "1h",
                    severity: "warning",
                    summary: `Certificate {{ $labels.certificate }} expires within ${input.renewBeforeDays} days: run pulumi up`,
                    description:
                        "{{ $labels.certificate }} ({{ $labels.purpose }}) ends in {{ $value | humanizeDuration }}. Leaf certificates are re-issued and copied to the controllers by the next `pulumi up`; a CA is rotated by hand (docs/pki.md).",
                },
                {
                    alert: "KubeletCertificateExpiring",
                    expr: `kubelet_certificate_manager_client_ttl_seconds < ${renewSeconds}`,
                    for: "1h",
                    severity: "warning",
                    summary: "The kubelet of {{ $labels.node }} has not renewed its client certificate",
                    description: `The client certificate of the kubelet on {{ $labels.node }} ends within ${input.renewBeforeDays} days; kubelets renew theirs long before, so renewal is failing (CSR approval, controller-manager signing).`,
                },
            ],
        },
        {
            name: "workloads",
            alerts: [
                {
                    alert: "PersistentVolumeFillingUp",
                    expr: "kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes < 0.10",
                    for: "10m",
                    severity: "warning",
                    summary: "Volume {{ $labels.persistentvolumeclaim }} in {{ $labels.namespace }} is over 90% full",
                    description: "Grow the claim (the disk StorageClass allows expansion) or free space.",
                },
                {
                    alert: "PodCrashLooping",
                    expr: `max by (namespace, pod, container) (kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}) == 1`,
                    for: "10m",
                    severity: "warning",
                    summary: "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is crash-looping",
                    description: "The container keeps exiting and Kubernetes backs off restarting it: see its logs in Grafana.",
                },
                {
                    alert: "AppErrorRatioHigh",
                    expr: `sum by (namespace, service) (rate(http_server_requests_seconds_count{job="${JOBS.apps}",status=~"5.."}[5m])) / sum by (namespace, service) (rate(http_server_requests_seconds_count{job="${JOBS.apps}"}[5m])) > 0.05`,
                    for: "10m",
                    severity: "warning",
                    summary: "{{ $labels.service }} answers more than 5% of requests with errors",
                    description:
                        "More than 5% of the HTTP requests {{ $labels.namespace }}/{{ $labels.service }} served in 5 minutes ended in a 5xx status.",
                },
            ],
        },
    ];
}

/** The platform's alerting rules file. */
export function renderAlertRules(input: AlertRulesInput): string {
    const groups = platformAlerts(input).map((group) => ({
        name: group.name,
        rules: group.alerts.map((a) => ({
            alert: a.alert,
            expr: a.expr,
            for: a.for,
            labels: { severity: a.severity },
            annotations: { summary: a.summary, description: a.description },
        })),
    }));
    return YAML.stringify({ groups }, { lineWidth: 0 });
}

/** A certificate the program issued: its spec name, what it is for, and its end (RFC 3339, as @pulumi/tls gives it). */
export interface IssuedCertificate {
    readonly name: string;
    readonly purpose: string;
    readonly notAfter: string;
}

/**
 * The expiry of every certificate the program issued, as recording rules (one constant series each). The program
 * knows exactly what it copied to the controllers, and only `pulumi up` replaces it, so these series are what the
 * controllers hold; the next `pulumi up` after a renewal rewrites them and the alert resolves.
 */
export function renderCertificateRules(certificates: readonly IssuedCertificate[]): string {
    const sorted = [...certificates].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const rules = sorted.map((c) => {
        const seconds = Date.parse(c.notAfter) / 1000;
        if (!Number.isFinite(seconds)) {
            throw new Error(`certificate ${c.name}: notAfter ${JSON.stringify(c.notAfter)} is not an RFC 3339 time`);
        }
        return {
            record: CERTIFICATE_EXPIRY_METRIC,
            expr: `vector(${Math.floor(seconds)})`,
            labels: { certificate: c.name, purpose: c.purpose },
        };
    });
    return YAML.stringify({ groups: [{ name: "certificates", interval: "5m", rules }] }, { lineWidth: 0 });
}
