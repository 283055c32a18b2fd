//go:build js && wasm

// Command hello is the baseline of scripts/edge-bench: a Go Worker on the
// same glue (edge/workers) that links nothing of forge and answers every
// request with a fixed JSON array of ten objects, without I/O. Its first
// request is what the Go runtime and the glue cost before any forge code
// runs.
package main

import (
	"context"

	"github.com/forge-orm/forge/edge/workers"
	"github.com/forge-orm/forge/fetch"
)

var body = []byte(`[{"id":1},{"id":2},{"id":3},{"id":4},{"id":5},{"id":6},{"id":7},{"id":8},{"id":9},{"id":10}]`)

func main() {
	workers.Serve(func(ctx context.Context, req *workers.Request, env *workers.Env) (*workers.Response, error) {
		return &workers.Response{Status: 200, Header: fetch.Header{{Name: "content-type", Value: "application/json"}}, Body: body}, nil
	})
}
