/**
 * The platform, composed: config -> EIPs and network -> bastion and image -> PKI -> controllers -> control plane
 * -> workers and edge -> shared storage -> cluster add-ons -> applications. Every piece lives in components/;
 * this file only wires one piece's outputs into the next one's arguments.
 *
 * Pulumi calls the exported function and publishes what it returns as the stack outputs.
 */
import { loadStageConfig, planCluster } from "./config";
import { ClusterPki } from "./components/clusterPki";
import { stageIdentity } from "./components/common";
import { ControlPlane } from "./components/controlPlane";
import { CoreOsImage } from "./components/coreosImage";
import { Bastion } from "./components/bastion";
import { EipPool } from "./components/eipPool";
import { KubernetesPlatform } from "./components/kubernetesPlatform";
import { Apps } from "./components/apps";
import { API_SERVER_PORT, appsSettings, fleetlockUrl, platformSettings } from "./k8s";
import { Network } from "./components/network";
import { NodePool, NodeSettings } from "./components/nodePool";
import { SharedStorage } from "./components/storage";
import { ALIBABA_NTP_SERVERS } from "./ignition";
import { limitStackCapture } from "./stackCapture";

export = function platform() {
    // First: the SDK would otherwise capture a stack trace for every output of every resource (stackCapture.ts).
    limitStackCapture();
    const cfg = loadStageConfig();
    const plan = planCluster(cfg);
    const identity = stageIdentity(cfg.project, cfg.stage);

    // EIPs first: the NAT gateway, the bastion, the API load balancer and the edge nodes each take a claim.
    const eips = new EipPool("eips", {
        identity,
        claims: cfg.eip.claims,
        quota: cfg.eip.quota,
        bandwidthMbps: cfg.eip.bandwidthMbps,
    });
    const network = new Network("network", {
        identity,
        vpcCidr: cfg.network.vpcCidr,
        publicVswitch: cfg.network.publicVswitch,
        nodeVswitches: cfg.network.nodeVswitches,
        adminCidrs: cfg.network.adminCidrs,
        natEip: eips.claim("nat"),
    });
    const image = new CoreOsImage("coreos", { identity, source: cfg.image });
    const bastion = new Bastion("bastion", {
        identity,
        vswitchId: network.publicVswitchId,
        securityGroupIds: [network.securityGroupIds.bastion],
        imageId: image.imageId,
        instanceType: cfg.bastion.instanceType,
        eip: eips.claim("bastion"),
        sshAuthorizedKeys: cfg.sshAuthorizedKeys,
        ntpServers: ALIBABA_NTP_SERVERS,
        updateServerUrl: cfg.osUpdates.updateServerUrl,
    });

    const apiserverEip = eips.claim("apiserver");
    const pki = new ClusterPki("pki", {
        identity,
        clusterDomain: cfg.cluster.domain,
        apiServiceIp: cfg.cluster.apiServiceIp,
        apiServerInternalAddress: plan.apiServerInternalAddress,
        apiServerPublicAddress: apiserverEip.address,
        controllers: plan.controllers.map((c) => ({ hostname: c.hostname, ip: c.privateIp! })),
        validity: cfg.pki,
    });

    const settings: NodeSettings = {
        sshAuthorizedKeys: cfg.sshAuthorizedKeys,
        ntpServers: ALIBABA_NTP_SERVERS,
        hosts: plan.controllers.map((c) => ({ name: c.hostname, ip: c.privateIp! })),
        updateServerUrl: cfg.osUpdates.updateServerUrl,
        fleetlockUrl: fleetlockUrl(cfg.cluster.fleetlockServiceIp),
        apiServerUrl: plan.apiServerUrl,
        clusterDnsIp: cfg.cluster.dnsServiceIp,
        clusterDomain: cfg.cluster.domain,
    };
    const nodeGroup = network.securityGroupIds.nodes;
    const poolBase = { identity, imageId: image.imageId, vswitchIds: network.nodeVswitchIds, settings, bastion, bootAfter: network.outboundReady };
    const controllers = new NodePool("controllers", {
        ...poolBase,
        role: "controller",
        nodes: plan.controllers,
        ...cfg.controllers,
        securityGroupIds: [nodeGroup, network.securityGroupIds.controllers],
    });
    const controlPlane = new ControlPlane("control-plane", {
        identity,
        pki,
        plan,
        cluster: {
            domain: cfg.cluster.domain,
            serviceCidr: cfg.network.serviceCidr,
            podCidr: cfg.network.podCidr,
            apiServiceIp: cfg.cluster.apiServiceIp,
        },
        vpcCidr: cfg.network.vpcCidr,
        adminCidrs: cfg.network.adminCidrs,
        vswitchId: network.nodeVswitchIds[0],
        apiserverEip,
        controllers: controllers.nodes.map((n, i) => ({ hostname: n.hostname, ip: plan.controllers[i].privateIp!, instance: n.instance })),
        bastion,
    });

    const join = { caCertPem: pki.caCertPem, bootstrapKubeconfig: pki.bootstrapKubeconfig(plan.apiServerUrl) };
    const workers = new NodePool("workers", {
        ...poolBase,
        role: "worker",
        nodes: plan.workers,
        ...cfg.workers,
        securityGroupIds: [nodeGroup],
        join,
    });
    const edge = new NodePool("edge", {
        ...poolBase,
        role: "edge",
        nodes: plan.edge,
        ...cfg.edge,
        securityGroupIds: [nodeGroup, network.securityGroupIds.edge],
        join,
        eipPool: eips,
    });

    const storage = new SharedStorage("storage", {
        identity,
        storage: cfg.storage,
        vpcId: network.vpcId,
        vswitchId: network.nodeVswitchIds[0],
        nfsServerAddress: plan.nfsServerAddress,
        zone: cfg.network.nodeVswitches[0].zone,
        clientCidrs: cfg.network.nodeVswitches.map((v) => v.cidr),
        securityGroupIds: { nodes: nodeGroup, bastion: network.securityGroupIds.bastion },
        imageId: image.imageId,
        settings,
        bastion,
        bootAfter: network.outboundReady,
    });

    const cluster = new KubernetesPlatform(
        "cluster",
        {
            provider: controlPlane.provider,
            settings: platformSettings(cfg),
            apiServer: { host: plan.apiServerInternalAddress, port: API_SERVER_PORT },
            nfs: { server: storage.server, path: storage.path },
            edgeNodeIps: edge.privateIps,
        },
        { dependsOn: [workers, edge] },
    );
    new Apps(
        "apps",
        { provider: controlPlane.provider, settings: appsSettings(cfg), ingressClassName: cluster.ingressClassName },
        { dependsOn: [cluster] },
    );

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
    };
};
