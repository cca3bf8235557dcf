// The one program of the engine suite's offline container image: no registry is reachable here, so the suite
// packs this static binary into an image (OCI layout) and imports it into containerd.
module coreos-platform/engine/testpod

go 1.26
