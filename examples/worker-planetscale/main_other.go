//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/migrate"
)

// On a server the Worker does not run; this main prints the schema's DDL
// (go run . schema [VERSION], VERSION as SELECT VERSION() says, by
// default PlanetScale's 8.0.36), or says how to build it.
func main() {
	if len(os.Args) >= 2 && len(os.Args) <= 3 && os.Args[1] == "schema" {
		version := "8.0.36"
		if len(os.Args) == 3 {
			version = os.Args[2]
		}
		f, v, err := dialect.ParseMySQLVersion(version)
		if err != nil {
			fmt.Fprintln(os.Stderr, "worker-planetscale:", err)
			os.Exit(2)
		}
		d := dialect.MySQL(f, v)
		if _, err := migrate.Create(d, Schema.Describe(), migrate.Options{IfNotExists: true}).WriteTo(d, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "worker-planetscale:", err)
			os.Exit(1)
		}
		return
	}
	fmt.Fprintln(os.Stderr, `worker-planetscale is a Cloudflare Worker: it runs as WebAssembly, not here.
  build it:          go run github.com/forge-orm/forge/edge/workers/cmd/forge-worker build -o dist ./examples/worker-planetscale
  print its schema:  go run ./examples/worker-planetscale schema [VERSION]
See examples/worker-planetscale/README.md.`)
	os.Exit(2)
}
