/** Placeholder key material (no real keys) for a test cluster's controllers, as the review render makes it. */
import { ControlPlaneSettings } from "../../../controlplane";
import { PkiMaterial, clusterCertificateSpecs } from "../../../pki";
import { placeholderMaterial } from "../../../tools/controlPlaneFiles";

export function placeholderClusterMaterial(settings: Pick<ControlPlaneSettings, "controllers">): PkiMaterial {
    return placeholderMaterial(
        clusterCertificateSpecs<string>({
            clusterName: "c",
            apiServiceIp: "10.96.0.1",
            apiServerInternalAddress: "10.0.0.250",
            apiServerPublicAddress: "203.0.113.5",
            controllers: settings.controllers,
        }),
    );
}
