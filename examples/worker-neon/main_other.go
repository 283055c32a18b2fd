//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/migrate"
)

// On a server the function does not run; this main prints the schema's DDL
// for PostgreSQL (go run ./examples/worker-neon schema), or says how to
// build it.
func main() {
	if len(os.Args) == 2 && os.Args[1] == "schema" {
		plan := migrate.Create(dialect.Postgres, Schema.Describe(), migrate.Options{IfNotExists: true})
		if _, err := plan.WriteTo(dialect.Postgres, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "worker-neon:", err)
			os.Exit(1)
		}
		return
	}
	fmt.Fprintln(os.Stderr, `worker-neon is a Vercel Edge Function (or Cloudflare Worker): it runs as WebAssembly, not here.
  build it for Vercel:  go run github.com/forge-orm/forge/edge/workers/cmd/forge-worker build -target vercel -env DATABASE_URL,NEON_ENDPOINT,NEON_TOKEN -o . ./examples/worker-neon
  print its schema:     go run ./examples/worker-neon schema
See examples/worker-neon/README.md.`)
	os.Exit(2)
}
