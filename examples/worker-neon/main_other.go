//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// On a server the function does not run; this main says how to build it.
func main() {
	fmt.Fprintln(os.Stderr, `worker-neon is a Vercel Edge Function (or Cloudflare Worker): it runs as WebAssembly, not here.
  build it for Vercel:  go run github.com/forge-orm/forge/edge/workers/cmd/forge-worker build -target vercel -env DATABASE_URL,NEON_ENDPOINT,NEON_TOKEN -o . ./examples/worker-neon
See examples/worker-neon/README.md.`)
	os.Exit(2)
}
