/**
 * The configurations of the log pipeline, as text: the shipper (an OpenTelemetry Collector on every node: every
 * container's log file and the node's journal) and, when logs stay in the cluster, the store (Loki, one instance on a
 * `disk` volume, deleting logs older than the retention). The shipper sends to Loki's OTLP endpoint, or to Alibaba
 * Log Service through its Kafka-compatible endpoint; the engine suite runs the real collector's `validate` on both.
 */
import * as YAML from "yaml";

/** Where the shipper's pod sees the host: its root (for journalctl, run chrooted) and the pods' log files. */
export const SHIPPER_PATHS = {
    hostRoot: "/host",
    podLogs: "/var/log/pods",
    /** The shipper's read positions, on the host so that a restart neither loses nor repeats lines. */
    state: "/var/lib/otelcol",
} as const;

/** The environment variables the shipper's configuration reads. */
export const SHIPPER_ENV = { nodeName: "NODE_NAME", podIp: "POD_IP", slsPassword: "SLS_KAFKA_PASSWORD" } as const;

/** Where the logs go. */
export type LogDestination =
    | { readonly kind: "loki"; readonly endpoint: string }
    | {
          readonly kind: "sls";
          /** The Log Service project (the Kafka user name) and logstore (the Kafka topic). */
          readonly project: string;
          readonly logstore: string;
          /** host:port of the project's Kafka endpoint inside the VPC. */
          readonly broker: string;
      };

/** What the shipper's configuration is rendered from. */
export interface ShipperConfigInput {
    readonly stage: string;
    readonly destination: LogDestination;
}

export const SHIPPER_HEALTH_PORT = 13133;
export const SHIPPER_METRICS_PORT = 8888;

export function renderShipperConfig(input: ShipperConfigInput): string {
    const env = (name: string) => `\${env:${name}}`;
    const exporter =
        input.destination.kind === "loki"
            ? {
                  "otlphttp/loki": {
                      logs_endpoint: `${input.destination.endpoint}/otlp/v1/logs`,
                      retry_on_failure: { enabled: true, max_elapsed_time: "10m" },
                      sending_queue: { enabled: true, storage: "file_storage" },
                  },
              }
            : {
                  "kafka/sls": {
                      brokers: [input.destination.broker],
                      // Log Service speaks the Kafka protocol from 2.1.0, over TLS, with the project as user name.
                      protocol_version: "2.1.0",
                      logs: { topic: input.destination.logstore, encoding: "raw" },
                      tls: { insecure: false },
                      auth: { sasl: { mechanism: "PLAIN", username: input.destination.project, password: env(SHIPPER_ENV.slsPassword) } },
                      retry_on_failure: { enabled: true, max_elapsed_time: "10m" },
                      sending_queue: { enabled: true, storage: "file_storage" },
                  },
              };
    const exporterName = Object.keys(exporter)[0];
    const addNode = [
        `set(resource.attributes["k8s.node.name"], "${env(SHIPPER_ENV.nodeName)}")`,
        `set(resource.attributes["deployment.environment"], "${input.stage}")`,
    ];
    // Log Service parses a JSON message into fields: one flat object per line, its message and where it came from.
    const slsBody = [
        'set(log.body, {"message": log.body, "node": resource.attributes["k8s.node.name"], "namespace": resource.attributes["k8s.namespace.name"], "pod": resource.attributes["k8s.pod.name"], "container": resource.attributes["k8s.container.name"], "unit": log.attributes["_SYSTEMD_UNIT"], "stage": resource.attributes["deployment.environment"]}) where IsString(log.body)',
    ];
    const config = {
        extensions: {
            health_check: { endpoint: `${env(SHIPPER_ENV.podIp)}:${SHIPPER_HEALTH_PORT}` },
            file_storage: { directory: SHIPPER_PATHS.state, create_directory: true },
        },
        receivers: {
            filelog: {
                include: [`${SHIPPER_PATHS.podLogs}/*/*/*.log`],
                // Its own output would feed back into itself.
                exclude: [`${SHIPPER_PATHS.podLogs}/monitoring-agents_log-shipper-*/*/*.log`],
                start_at: "end",
                include_file_path: true,
                storage: "file_storage",
                // The CRI log format, and namespace, pod and container from the file's path.
                operators: [{ type: "container", id: "container-parser" }],
            },
            journald: {
                // journalctl of the node itself (Fedora CoreOS's), run in the host's root: the collector's image has none.
                root_path: SHIPPER_PATHS.hostRoot,
                // Inside that root (the collector refuses a relative path with root_path, found by its validate).
                journalctl_path: "/usr/bin/journalctl",
                directory: "/var/log/journal",
                priority: "info",
                start_at: "end",
                storage: "file_storage",
            },
        },
        processors: {
            memory_limiter: { check_interval: "5s", limit_percentage: 80, spike_limit_percentage: 20 },
            "transform/node": { error_mode: "ignore", log_statements: [{ context: "log", statements: addNode }] },
            ...(input.destination.kind === "sls"
                ? { "transform/sls": { error_mode: "ignore", log_statements: [{ context: "log", statements: slsBody }] } }
                : {}),
            batch: { send_batch_size: 1024, timeout: "5s" },
        },
        exporters: exporter,
        service: {
            extensions: ["health_check", "file_storage"],
            pipelines: {
                logs: {
                    receivers: ["filelog", "journald"],
                    processors: [
                        "memory_limiter",
                        "transform/node",
                        ...(input.destination.kind === "sls" ? ["transform/sls"] : []),
                        "batch",
                    ],
                    exporters: [exporterName],
                },
            },
            telemetry: {
                metrics: {
                    readers: [{ pull: { exporter: { prometheus: { host: env(SHIPPER_ENV.podIp), port: SHIPPER_METRICS_PORT } } } }],
                },
            },
        },
    };
    return YAML.stringify(config, { lineWidth: 0 });
}

export const LOKI_PORT = 3100;
export const LOKI_DATA_DIR = "/var/loki";

/** Loki in one process on one disk volume: TSDB index and chunks on the filesystem, logs older than the retention deleted. */
export function renderLokiConfig(retentionDays: number): string {
    const config = {
        auth_enabled: false,
        server: { http_listen_port: LOKI_PORT, grpc_listen_port: 9095, log_level: "warn" },
        common: {
            path_prefix: LOKI_DATA_DIR,
            replication_factor: 1,
            ring: { kvstore: { store: "inmemory" } },
            storage: { filesystem: { chunks_directory: `${LOKI_DATA_DIR}/chunks`, rules_directory: `${LOKI_DATA_DIR}/rules` } },
        },
        schema_config: {
            configs: [
                {
                    from: "2024-01-01",
                    store: "tsdb",
                    object_store: "filesystem",
                    schema: "v13",
                    index: { prefix: "index_", period: "24h" },
                },
            ],
        },
        limits_config: {
            retention_period: `${retentionDays * 24}h`,
            allow_structured_metadata: true,
            // Namespace, pod, container, node and unit become labels, so a search starts from them.
            otlp_config: {
                resource_attributes: {
                    attributes_config: [{ action: "index_label", attributes: ["k8s.node.name", "deployment.environment"] }],
                },
            },
        },
        compactor: {
            working_directory: `${LOKI_DATA_DIR}/compactor`,
            retention_enabled: true,
            delete_request_store: "filesystem",
        },
        analytics: { reporting_enabled: false },
    };
    return YAML.stringify(config, { lineWidth: 0 });
}
