// Command pulumi-resource-kubernetes serves the Kubernetes provider of pulumi-kubernetes. Its upstream main embeds
// two files generated at release time and absent from the module; engine/build.sh generates them next to this file
// in a scratch copy (from the module's committed schema.json and terraform-mapping.json) before building.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
