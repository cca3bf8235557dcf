/**
 * The platform, composed: config -> EIPs and network -> bastion and image -> PKI -> controllers -> control plane
 * -> workers and edge -> shared storage -> cluster add-ons -> applications. Every piece lives in components/;
 * this file only wires one piece's outputs into the next one's arguments, naming each one.
 *
 * Pulumi calls the exported function and publishes what it returns as the stack outputs.
 */
import { createClusterLayer } from "./components/clusterLayer";
import { Bastion } from "./components/bastion";
import { ClusterPki } from "./components/clusterPki";
import * as pulumi from "@pulumi/pulumi";
import { physicalName, stageIdentity } from "./components/common";
import { ControlPlane } from "./components/controlPlane";
import { CoreOsImage } from "./components/coreosImage";
import { EipPool } from "./components/eipPool";
import { EtcdBackups } from "./components/etcdBackup";
import { Network } from "./components/network";
import { Mirrors } from "./components/mirrors";
import { NodePool, PoolEnvironment } from "./components/nodePool";
import { OsUpdates } from "./components/osUpdates";
import { SharedStorage } from "./components/storage";
import { DiskCsiAccess } from "./components/blockStorage";
import { ObservabilityCloud } from "./components/observability";
import { slsNames } from "./k8s/observability";
import { ETCD_METRICS_CLIENT } from "./pki";
import { loadStageConfig, planCluster } from "./config";
import { registrySettings } from "./controlplane";
import { nodeSettings } from "./ignition";
import { limitStackCapture } from "./stackCapture";

export = function platform() {
    // First: the SDK would otherwise capture a stack trace for every output of every resource (stackCapture.ts).
    limitStackCapture();
    const cfg = loadStageConfig();
    const plan = planCluster(cfg);
    const identity = stageIdentity(cfg.project, cfg.stage);
    const settings = nodeSettings(cfg, plan);
    const registries = registrySettings(cfg);

    // EIPs first: the NAT gateway, the bastion, the API load balancer and the edge nodes each take a claim.
    const eips = new EipPool("eips", {
        identity,
        claims: cfg.eip.claims,
        quota: cfg.eip.quota,
        bandwidthMbps: cfg.eip.bandwidthMbps,
        // Every node without an EIP downloads and pulls through the NAT: its own setting.
        bandwidthByClaim: { nat: cfg.eip.natBandwidthMbps },
    });
    const network = new Network("network", {
        identity,
        vpcCidr: cfg.network.vpcCidr,
        publicVswitch: cfg.network.publicVswitch,
        nodeVswitches: cfg.network.nodeVswitches,
        adminCidrs: cfg.network.adminCidrs,
        observability: cfg.observability.enabled,
        natEip: eips.claim("nat"),
    });
    // The mirrors the stage asks the program to create (mirrors.create); nodes boot after their access is in place.
    const mirrors = new Mirrors("mirrors", {
        identity,
        create: cfg.mirrors.create,
        vpcId: network.vpcId,
        vswitchId: network.nodeVswitchIds[0],
    });
    const image = new CoreOsImage("coreos", { identity, source: cfg.image });
    const bastion = new Bastion("bastion", {
        identity,
        vswitchId: network.publicVswitchId,
        securityGroupIds: [network.securityGroupIds.bastion],
        imageId: image.imageId,
        instanceType: cfg.bastion.instanceType,
        eip: eips.claim("bastion"),
        settings,
        ...(cfg.observability.enabled ? { nodeExporter: { registries } } : {}),
    });

    const apiserverEip = eips.claim("apiserver");
    const pki = new ClusterPki("pki", {
        identity,
        apiServiceIp: cfg.cluster.apiServiceIp,
        apiServerInternalAddress: plan.apiServerInternalAddress,
        apiServerPublicAddress: apiserverEip.address,
        controllers: plan.controllers,
        validity: cfg.pki,
        encryptionKeyNames: cfg.secretsEncryptionKeys,
        etcdMetricsClient: cfg.observability.enabled,
    });

    // What every node pool (and the NFS node) shares.
    const environment: PoolEnvironment = {
        identity,
        imageId: image.imageId,
        vswitchIds: network.nodeVswitchIds,
        settings,
        bastion,
        bootAfter: [...network.outboundReady, ...mirrors.ready],
        registries,
    };
    const nodeGroup = network.securityGroupIds.nodes;
    const controllers = new NodePool("controllers", {
        role: "controller",
        environment,
        nodes: plan.controllers,
        instanceType: cfg.controllers.instanceType,
        systemDiskGb: cfg.controllers.systemDiskGb,
        diskCategory: cfg.controllers.diskCategory,
        etcdDiskGb: cfg.controllers.etcdDiskGb,
        keepDataOnDestroy: cfg.keepDataOnDestroy,
        roll: cfg.controllers.roll,
        securityGroupIds: [nodeGroup, network.securityGroupIds.controllers],
    });
    // The disk CSI driver's controller runs on the controllers, which alone may create and attach disks.
    const diskCsi = new DiskCsiAccess("disk-csi", {
        identity,
        region: cfg.region,
        controllerInstanceIds: controllers.nodes.map((n) => n.instance.id),
    });
    const controlPlane = new ControlPlane("control-plane", {
        identity,
        pki,
        apiServerInternalAddress: plan.apiServerInternalAddress,
        cluster: { serviceCidr: cfg.network.serviceCidr, podCidr: cfg.network.podCidr },
        vpcCidr: cfg.network.vpcCidr,
        adminCidrs: cfg.network.adminCidrs,
        vswitchId: network.nodeVswitchIds[0],
        apiserverEip,
        controllers: controllers.nodes,
        bastion,
        registries,
    });

    // etcd's snapshots, off the cluster: the leader uploads one every few hours to the stage's bucket.
    const etcdBackups = new EtcdBackups("etcd-backups", {
        identity,
        region: cfg.region,
        vpcId: network.vpcId,
        intervalHours: cfg.etcdBackup.intervalHours,
        retentionDays: cfg.etcdBackup.retentionDays,
        keepDataOnDestroy: cfg.keepDataOnDestroy,
        controllers: controllers.nodes,
        bastion,
        after: [controlPlane.readiness],
    });

    // Joins wait for the API; a replaced worker or edge node is drained through it first (components/nodeRoll.ts).
    const cluster = { kubeconfig: controlPlane.kubeconfig, ready: [controlPlane.readiness] };
    // Workers and edge nodes ask for certificates of their own names over SSH; the cluster CA signs exactly those.
    const join = { clusterName: pki.clusterName, caCertPem: pki.caCertPem, apiServerUrl: plan.apiServerUrl, signer: pki };
    const workers = new NodePool("workers", {
        role: "worker",
        environment,
        nodes: plan.workers,
        instanceType: cfg.workers.instanceType,
        systemDiskGb: cfg.workers.systemDiskGb,
        diskCategory: cfg.workers.diskCategory,
        labels: cfg.workers.labels,
        taints: cfg.workers.taints,
        join,
        cluster,
        rollBatch: cfg.workers.rollBatch,
        drainTimeoutMinutes: cfg.workers.drainTimeoutMinutes,
        securityGroupIds: [nodeGroup],
    });
    const edge = new NodePool("edge", {
        role: "edge",
        environment,
        nodes: plan.edge,
        instanceType: cfg.edge.instanceType,
        systemDiskGb: cfg.edge.systemDiskGb,
        diskCategory: cfg.edge.diskCategory,
        labels: cfg.edge.labels,
        taints: cfg.edge.taints,
        join,
        cluster,
        rollBatch: cfg.edge.rollBatch,
        drainTimeoutMinutes: cfg.edge.drainTimeoutMinutes,
        eipPool: eips,
        securityGroupIds: [nodeGroup, network.securityGroupIds.edge],
    });

    const storage = new SharedStorage("storage", {
        environment,
        storage: cfg.storage,
        keepDataOnDestroy: cfg.keepDataOnDestroy,
        vpcId: network.vpcId,
        vswitch: network.nodeVswitches[0],
        nfsServerAddress: plan.nfsServerAddress,
        clientCidrs: network.nodeVswitches.map((v) => v.cidr),
        securityGroupIds: { nodes: nodeGroup, bastion: network.securityGroupIds.bastion },
        checkFrom: {
            target: `controller ${controllers.nodes[0].planned.hostname}`,
            connection: controllers.nodes[0].connection,
            instance: controllers.nodes[0].instance,
        },
        nodeExporter: cfg.observability.enabled,
    });

    const observabilityCloud = cfg.observability.enabled
        ? new ObservabilityCloud("observability", {
              identity,
              logs: { backend: cfg.observability.logs.backend, retentionDays: cfg.observability.logs.retentionDays, ...slsNames(cfg) },
          })
        : undefined;
    const etcdMetricsClient = observabilityCloud ? pki.certificate(ETCD_METRICS_CLIENT) : undefined;
    const clusterLayer = createClusterLayer(cfg, plan, {
        provider: controlPlane.provider,
        nfs: { server: storage.server, path: storage.path },
        metricsServerTls: pki.metricsServerTls,
        dependsOn: [workers, edge, diskCsi, ...storage.ready],
        ...(observabilityCloud && etcdMetricsClient
            ? {
                  observability: {
                      etcdClient: {
                          ca: pki.certificate("etcd-ca").certPem,
                          certificate: etcdMetricsClient.certPem,
                          key: etcdMetricsClient.keyPem,
                      },
                      certificates: pki.certificateExpiries,
                      outsideNodes: pulumi
                          .all([bastion.privateIp])
                          .apply(([bastionIp]) => [
                              { hostname: bastion.hostname, ip: bastionIp },
                              ...(cfg.storage.kind === "nfs-server"
                                  ? [{ hostname: physicalName(identity, "nfs"), ip: plan.nfsServerAddress }]
                                  : []),
                          ]),
                      grafanaAdminPassword: observabilityCloud.grafanaAdminPassword,
                      ...(observabilityCloud.slsKafkaPassword ? { slsKafkaPassword: observabilityCloud.slsKafkaPassword } : {}),
                  },
              }
            : {}),
    });

    // Last: OS updates on, now that the stage has converged (every node booted with them off).
    new OsUpdates("os-updates", {
        bastion,
        pools: { controller: controllers.nodes, worker: workers.nodes, edge: edge.nodes },
        nfsNode: storage.nfsNode,
        after: [clusterLayer.platform, clusterLayer.apps, ...(clusterLayer.observability ? [clusterLayer.observability] : [])],
    });

    return {
        vpcId: network.vpcId,
        publicVswitchId: network.publicVswitchId,
        nodeVswitchIds: network.nodeVswitchIds,
        securityGroupIds: network.securityGroupIds,
        bastionAddress: bastion.publicAddress,
        eipAddresses: eips.addresses,
        imageId: image.imageId,
        apiEndpoint: controlPlane.apiEndpoint,
        kubeconfig: controlPlane.kubeconfig,
        controllerIps: controllers.privateIps,
        workerIps: workers.privateIps,
        edgeIps: edge.privateIps,
        storageServer: storage.server,
        etcdBackupBucket: etcdBackups.bucketName,
        grafanaUrl: clusterLayer.observability?.grafanaUrl ?? "",
        grafanaAdminPassword: observabilityCloud?.grafanaAdminPassword ?? "",
    };
};
