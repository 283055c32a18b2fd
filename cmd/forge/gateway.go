package main

import (
	"bytes"
	"context"
	"strings"

	"github.com/forge-orm/forge/gateway"
)

// gatewayCmd runs forge's HTTP SQL gateway (package gateway), which parses
// its own flags: `forge gateway --help` prints them.
var gatewayCmd = &command{
	name:    "gateway",
	summary: "serve a database over HTTP to edge clients (Neon and libSQL protocols)",
	usage: `Usage: forge gateway --db URL [--listen ADDR] (--token NAME:SECRET:ROLE ... | --tokens FILE) [flags]

Gateway serves a private database over HTTP in the protocols the edge
clients speak: Neon's SQL over HTTP (POST /sql) in front of PostgreSQL, and
Hrana over HTTP (POST /v2/pipeline, /v3/pipeline) in front of SQLite. Every
request but GET /healthz needs "Authorization: Bearer SECRET"; a read token's
statements run read-only in the database. See gateway/README.md for the
tokens file, roles, limits and metrics.

Example:
  forge gateway --db postgres://app@10.0.0.5/app --listen 127.0.0.1:8080 --token edge:$EDGE_SECRET:write
`,
}

func init() {
	// The help shows the gateway's own flags, as gateway.Main prints them.
	var flags bytes.Buffer
	gateway.Main(context.Background(), []string{"--help"}, &flags, &flags)
	gatewayCmd.usage += "\nFlags:\n" + strings.TrimPrefix(flags.String(), "Usage of forge gateway:\n")
	gatewayCmd.run = func(e *env, args []string) error {
		for _, a := range args {
			if a == "-h" || a == "-help" || a == "--help" {
				e.printf("%s", gatewayCmd.usage)
				return helpShown{}
			}
		}
		if code := gateway.Main(e.ctx, args, e.stdout, e.stderr); code != 0 {
			return &commandExit{code: code}
		}
		return nil
	}
}

// commandExit ends forge with a command's own exit code, already reported.
type commandExit struct{ code int }

func (e *commandExit) Error() string { return "exit status" }
