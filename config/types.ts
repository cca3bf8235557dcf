/**
 * The typed, validated configuration of one stage: what `parseStageConfig` (config/parse.ts) returns and every
 * other layer reads. Nothing here validates; the types say what a valid stage holds.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { MirrorsConfig } from "./mirrors";
import type { KEYS, KeyName } from "./schema";

/** A key's value as its schema parses it (defaults applied). */
export type Parsed<K extends KeyName> = z.output<(typeof KEYS)[K]["schema"]>;

/** The values of every key that passed its schema (defaults applied); a key that did not is absent. */
export type KeyValues = { -readonly [K in KeyName]?: Parsed<K> };

export type PoolConfig = Parsed<"workers">;
export type ControllerPoolConfig = Parsed<"controllers">;
export type AppConfig = Parsed<"apps">[number];
export type SpringBootAppConfig = Extract<AppConfig, { kind: "spring-boot" }>;
export type ReactAppConfig = Extract<AppConfig, { kind: "react" }>;
export type StorageConfig = Parsed<"storage">;
export type ImageConfig = Parsed<"image">;

/** One EIP the stage holds, by name; `group` is what the quota message counts by. */
export interface EipClaim {
    readonly name: string;
    readonly group: "bastion" | "nat" | "apiserver" | "edge";
}

/** A vSwitch to create: its zone and CIDR. */
export interface VswitchPlan {
    readonly zone: string;
    readonly cidr: string;
}

/** Everything the program needs to know about a stage, validated and frozen. */
export interface StageConfig {
    readonly project: string;
    readonly stage: string;
    readonly region: string;
    /** `<project>-<stage>`: the start of every physical name, so stages can share an account and region. */
    readonly namePrefix: string;
    readonly zones: readonly string[];
    readonly network: {
        readonly vpcCidr: string;
        /** Derived from vpcCidr (config/vswitches.ts), in the first zone. */
        readonly publicVswitch: VswitchPlan;
        /** Derived from vpcCidr, one per zone in the order of `zones`. */
        readonly nodeVswitches: readonly VswitchPlan[];
        readonly podCidr: string;
        readonly serviceCidr: string;
        readonly adminCidrs: readonly string[];
    };
    readonly cluster: {
        /** The `kubernetes` Service: the first address of the service CIDR. */
        readonly apiServiceIp: string;
        /** Cluster DNS: the 10th address of the service CIDR, as kubelets are rendered with. */
        readonly dnsServiceIp: string;
        /** FleetLock (one node reboots at a time): the 15th address of the service CIDR. */
        readonly fleetlockServiceIp: string;
    };
    readonly eip: {
        readonly quota: number;
        readonly bandwidthMbps: number;
        /** The `nat` claim's bandwidth: every node's outbound traffic (config key `natBandwidthMbps`). */
        readonly natBandwidthMbps: number;
        readonly claims: readonly EipClaim[];
    };
    readonly sshAuthorizedKeys: readonly string[];
    readonly image: ImageConfig;
    readonly bastion: { readonly instanceType: string };
    readonly controllers: ControllerPoolConfig;
    readonly workers: PoolConfig;
    readonly edge: PoolConfig;
    readonly dns: Parsed<"dns">;
    readonly osUpdates: { readonly updateServerUrl?: string };
    /** Registry and file mirrors (config key `mirrors`); empty: every artifact from its upstream. */
    readonly mirrors: MirrorsConfig;
    readonly pki: Parsed<"pki">;
    /** Names of the keys that encrypt Secrets in etcd, the one that encrypts first. */
    readonly secretsEncryptionKeys: readonly string[];
    readonly storage: StorageConfig;
    /** Whether `pulumi destroy` leaves the stage's data (storage, snapshots, etcd backups) behind; false for throwaway stages. */
    readonly keepDataOnDestroy: boolean;
    readonly etcdBackup: Parsed<"etcdBackup">;
    readonly ingress: Parsed<"ingress"> & {
        /** A certificate from config, turned into the ingress default-certificate Secret. */
        readonly tls?: { readonly certificate: string; readonly key: pulumi.Output<string> };
    };
    readonly apps: readonly AppConfig[];
    /** Secret environment variables per app, as Pulumi secrets. */
    readonly appSecrets: Readonly<Record<string, Readonly<Record<string, pulumi.Output<string>>>>>;
    /** Metrics, logs, dashboards and alerts (docs/observability.md). */
    readonly observability: ObservabilityConfig;
    /** The alert receivers' secrets by receiver name, as Pulumi secrets. */
    readonly alertSecrets: Readonly<Record<string, AlertReceiverSecrets>>;
}

export type ObservabilityConfig = Parsed<"observability">;
export type AlertReceiverConfig = ObservabilityConfig["alerts"]["receivers"][number];

/** What a receiver keeps secret: the WeChat Work application secret, a webhook's URL, an SMTP password. */
export interface AlertReceiverSecrets {
    readonly apiSecret?: pulumi.Output<string>;
    readonly url?: pulumi.Output<string>;
    readonly authPassword?: pulumi.Output<string>;
}
