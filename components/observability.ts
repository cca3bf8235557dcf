import * as alicloud from "@pulumi/alicloud";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { AlertReceiverSecrets, ObservabilityConfig } from "../config/types";
import { IssuedCertificate, renderCertificateRules } from "../k8s/alertRules";
import { renderAlertmanagerConfig } from "../k8s/alertmanagerConfig";
import { ObservabilitySettings, renderObservabilityObjects } from "../k8s/observability";
import { renderOutsideTargets } from "../k8s/prometheusConfig";
import { StageIdentity } from "./common";
import { createKubernetesObjects, late } from "./k8sObjects";

/** What observability takes from outside the cluster: certificates, addresses, credentials. */
export interface ObservabilityExternals {
    /** Prometheus's etcd client certificate and key (`ClusterPki.certificate("etcd-metrics-client")`), and the etcd CA. */
    readonly etcdClient: {
        readonly ca: pulumi.Input<string>;
        readonly certificate: pulumi.Input<string>;
        readonly key: pulumi.Input<string>;
    };
    /** Every certificate the program issued, with its end (`ClusterPki.certificateExpiries`). */
    readonly certificates: pulumi.Input<IssuedCertificate[]>;
    /** The nodes without a kubelet whose node_exporter Prometheus scrapes: the bastion and the NFS node. */
    readonly outsideNodes: pulumi.Input<{ hostname: string; ip: string }[]>;
    /** Grafana's admin password (`ObservabilityCloud.grafanaAdminPassword`). */
    readonly grafanaAdminPassword: pulumi.Input<string>;
    /** Log Service: "<AccessKeyId>#<AccessKeySecret>" of the log writer (`ObservabilityCloud.slsKafkaPassword`). */
    readonly slsKafkaPassword?: pulumi.Input<string>;
}

/** Arguments of an `Observability`. */
export interface ObservabilityArgs extends ObservabilityExternals {
    /** The control plane's provider. Required. */
    readonly provider: k8s.Provider;
    /** `observabilitySettings(cfg)` (k8s/observability.ts). Required. */
    readonly settings: ObservabilitySettings;
    /** The stage's alert receivers and routes (`cfg.observability.alerts`). Required. */
    readonly alerts: ObservabilityConfig["alerts"];
    /** The receivers' secrets (`cfg.alertSecrets`). Required (may be empty). */
    readonly alertSecrets: Readonly<Record<string, AlertReceiverSecrets>>;
}

/**
 * Metrics, logs, dashboards and alerts inside the cluster (k8s/observability.ts): Prometheus on a `disk` volume,
 * Alertmanager with the stage's routes, kube-state-metrics, node_exporter and the log shipper on every node, Grafana
 * with the platform's dashboards, and Loki when logs stay in the cluster.
 */
export class Observability extends pulumi.ComponentResource {
    /** Grafana's URL on the ingress ("" without a host: `kubectl -n monitoring port-forward svc/grafana 3000`). */
    public readonly grafanaUrl: string;

    constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:Observability", name, {}, opts);
        const secrets = pulumi.all(
            Object.fromEntries(Object.entries(args.alertSecrets).map(([receiver, values]) => [receiver, pulumi.all({ ...values })])),
        );
        const objects = renderObservabilityObjects({
            ...args.settings,
            etcdClient: {
                ca: late(args.etcdClient.ca),
                certificate: late(args.etcdClient.certificate),
                key: late(pulumi.secret(args.etcdClient.key)),
            },
            certificateRules: pulumi.output(args.certificates).apply(renderCertificateRules),
            outsideTargets: pulumi.output(args.outsideNodes).apply(renderOutsideTargets),
            alertmanagerConfig: pulumi.secret(secrets.apply((plain) => renderAlertmanagerConfig(args.alerts, plain))),
            grafanaAdminPassword: late(pulumi.secret(args.grafanaAdminPassword)),
            ...(args.slsKafkaPassword !== undefined ? { slsKafkaPassword: late(pulumi.secret(args.slsKafkaPassword)) } : {}),
        });
        createKubernetesObjects(this, name, objects, args.provider, opts?.dependsOn);
        this.grafanaUrl = args.settings.grafanaHost
            ? `${args.settings.ingress.https ? "https" : "http"}://${args.settings.grafanaHost}/`
            : "";
        this.registerOutputs({ grafanaUrl: this.grafanaUrl });
    }
}

/** Arguments of an `ObservabilityCloud`. */
export interface ObservabilityCloudArgs {
    /** Names and tags of the stage. */
    readonly identity: StageIdentity;
    /** Where the logs go, from `cfg.observability.logs`; sls needs the project and logstore (`slsNames(cfg)`). */
    readonly logs: {
        readonly backend: "loki" | "sls";
        readonly retentionDays: number;
        readonly project: string;
        readonly logstore: string;
    };
}

/**
 * What observability needs outside the cluster: Grafana's admin password, and when logs go to Alibaba Log Service,
 * the project and logstore (kept for the configured days, full-text indexed so logs are searchable) and a RAM user
 * that may only write to that logstore, whose AccessKey the shipper authenticates with (Log Service's Kafka endpoint
 * takes no STS token, so an instance role cannot serve; the user can do nothing else).
 */
export class ObservabilityCloud extends pulumi.ComponentResource {
    /** Grafana's admin password. Secret. */
    public readonly grafanaAdminPassword: pulumi.Output<string>;
    /** sls: the Kafka password of the log writer, "<AccessKeyId>#<AccessKeySecret>". Secret. */
    public readonly slsKafkaPassword?: pulumi.Output<string>;

    constructor(name: string, args: ObservabilityCloudArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:ObservabilityCloud", name, {}, opts);
        this.grafanaAdminPassword = pulumi.secret(
            new random.RandomPassword(`${name}-grafana-admin`, { length: 24, special: false }, { parent: this }).result,
        );
        if (args.logs.backend === "sls") {
            const project = new alicloud.log.Project(
                `${name}-log-project`,
                { projectName: args.logs.project, description: `Logs of ${args.identity.namePrefix}`, tags: args.identity.tags },
                // The logs themselves: kept when the stage goes, like every other data store.
                { parent: this, protect: true },
            );
            const store = new alicloud.log.Store(
                `${name}-logstore`,
                {
                    projectName: project.projectName,
                    logstoreName: args.logs.logstore,
                    retentionPeriod: args.logs.retentionDays,
                    shardCount: 2,
                    autoSplit: true,
                    maxSplitShardCount: 16,
                    appendMeta: true,
                },
                { parent: this, protect: true },
            );
            new alicloud.log.StoreIndex(
                `${name}-logstore-index`,
                {
                    project: project.projectName,
                    logstore: store.logstoreName,
                    fullText: { caseSensitive: false, token: ", '\";=()[]{}?@&<>/:\\n\\t\\r" },
                    fieldSearches: ["namespace", "pod", "container", "node", "unit", "stage"].map((field) => ({
                        name: field,
                        type: "text",
                        enableAnalytics: true,
                    })),
                },
                { parent: this },
            );
            const user = new alicloud.ram.User(
                `${name}-log-writer`,
                { name: `${args.identity.namePrefix}-log-writer`, comments: "Log shipper: writes to one logstore" },
                { parent: this },
            );
            const policy = new alicloud.ram.Policy(
                `${name}-log-writer-policy`,
                {
                    policyName: `${args.identity.namePrefix}-log-writer`,
                    description: "Write logs to the stage's logstore through the Kafka-compatible endpoint",
                    policyDocument: pulumi.all([project.projectName, store.logstoreName]).apply(([p, s]) =>
                        JSON.stringify({
                            Version: "1",
                            Statement: [
                                { Effect: "Allow", Action: ["log:GetProject"], Resource: [`acs:log:*:*:project/${p}`] },
                                {
                                    Effect: "Allow",
                                    Action: ["log:GetLogStore", "log:ListShards", "log:PostLogStoreLogs"],
                                    Resource: [`acs:log:*:*:project/${p}/logstore/${s}`],
                                },
                            ],
                        }),
                    ),
                },
                { parent: this },
            );
            new alicloud.ram.UserPolicyAttachment(
                `${name}-log-writer-policy`,
                { userName: user.name, policyName: policy.policyName, policyType: "Custom" },
                { parent: this },
            );
            const key = new alicloud.ram.AccessKey(
                `${name}-log-writer-key`,
                { userName: user.name },
                { parent: this, additionalSecretOutputs: ["secret"] },
            );
            this.slsKafkaPassword = pulumi.secret(pulumi.interpolate`${key.id}#${key.secret}`);
        }
        this.registerOutputs({ grafanaAdminPassword: this.grafanaAdminPassword });
    }
}
