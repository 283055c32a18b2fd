//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"

	"github.com/forge-orm/forge/d1"
	"github.com/forge-orm/forge/migrate"
)

// On a server the Worker does not run; this main prints the schema's DDL
// for D1 (go run ./examples/worker-d1 schema), or says how to build it.
func main() {
	if len(os.Args) == 2 && os.Args[1] == "schema" {
		plan := migrate.Create(d1.Dialect, Schema.Describe(), migrate.Options{IfNotExists: true})
		if _, err := plan.WriteTo(d1.Dialect, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "worker-d1:", err)
			os.Exit(1)
		}
		return
	}
	fmt.Fprintln(os.Stderr, `worker-d1 is a Cloudflare Worker: it runs as WebAssembly, not here.
  build it:          go run github.com/forge-orm/forge/edge/workers/cmd/forge-worker build -o dist ./examples/worker-d1
  print its schema:  go run ./examples/worker-d1 schema
See examples/worker-d1/README.md.`)
	os.Exit(2)
}
