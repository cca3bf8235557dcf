import * as alicloud from "@pulumi/alicloud";
import * as pulumi from "@pulumi/pulumi";
import { StageIdentity, physicalName } from "./common";

/** Arguments of a `CoreOsImage`. */
export interface CoreOsImageArgs {
    /** Names and tags of the stage. */
    readonly identity: StageIdentity;
    /**
     * `{id}`: an ECS image already in the region. `{ossBucket, ossObject}`: the Fedora CoreOS `aliyun` qcow2,
     * uploaded to OSS in the same region, to import (Fedora publishes no image inside Alibaba Cloud).
     */
    readonly source: { readonly id: string } | { readonly ossBucket: string; readonly ossObject: string };
}

/** The Fedora CoreOS image the nodes boot: given by id, or imported from OSS. */
export class CoreOsImage extends pulumi.ComponentResource {
    public readonly imageId: pulumi.Output<string>;

    constructor(name: string, args: CoreOsImageArgs, opts?: pulumi.ComponentResourceOptions) {
        super("platform:index:CoreOsImage", name, {}, opts);
        if ("id" in args.source) {
            this.imageId = pulumi.output(args.source.id);
        } else {
            // The object name carries the FCOS release (fedora-coreos-<release>-aliyun.x86_64.qcow2), and so does the
            // image name: a new release is a new image. The old one is kept (retainOnDelete): controllers and the NFS
            // node still run it, and Alibaba refuses to delete an image in use; delete it by hand once nothing does.
            const release = args.source.ossObject.replace(/^.*\//, "").replace(/\.qcow2$/, "");
            const image = new alicloud.ecs.ImageImport(
                `${name}-import`,
                {
                    imageName: physicalName(args.identity, release).slice(0, 128),
                    description: `Fedora CoreOS imported from oss://${args.source.ossBucket}/${args.source.ossObject}`,
                    // The API's values (x86_64, i386); the provider's docs show them camel-cased by mistake.
                    architecture: "x86_64",
                    osType: "linux",
                    platform: "Others Linux",
                    // Fedora CoreOS images boot with BIOS and UEFI; BIOS works on every ECS instance family.
                    bootMode: "BIOS",
                    licenseType: "BYOL",
                    diskDeviceMappings: [
                        { ossBucket: args.source.ossBucket, ossObject: args.source.ossObject, format: "qcow2", diskImageSize: 20 },
                    ],
                },
                // Importing a 10 GiB qcow2 can take longer than the provider's 20 minutes.
                { parent: this, retainOnDelete: true, customTimeouts: { create: "60m" } },
            );
            this.imageId = image.id;
        }
        this.registerOutputs({ imageId: this.imageId });
    }
}
