//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// main explains how to build the Worker: it only runs as WebAssembly
// inside a Cloudflare Worker.
func main() {
	fmt.Fprintln(os.Stderr, "worker-d1 is a Cloudflare Worker; build it with\n\tgo run github.com/forge-orm/forge/edge/workers/cmd/forge-worker build -o dist ./examples/worker-d1\nand see examples/worker-d1/README.md")
	os.Exit(2)
}
