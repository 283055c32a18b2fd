//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// On a server the Worker does not run.
func main() {
	fmt.Fprintln(os.Stderr, `worker-turso is a Cloudflare Worker: it runs as WebAssembly, not here.
  build it:  go run github.com/forge-orm/forge/edge/workers/cmd/forge-worker build -o dist ./examples/worker-turso
See examples/worker-turso/README.md.`)
	os.Exit(2)
}
