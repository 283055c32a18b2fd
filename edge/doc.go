// Package edge gathers forge's support for running at the edge, inside
// Cloudflare Workers, where a Go program is compiled to WebAssembly
// (GOOS=js GOARCH=wasm) and has no TCP, no filesystem and a CPU budget.
//
//   - [github.com/forge-orm/forge/edge/workers]: the Worker glue (requests,
//     responses, env bindings, waitUntil) and the forge-worker command that
//     builds a deployable Worker folder.
//   - [github.com/forge-orm/forge/d1]: the driver over a Worker's D1 binding.
//
// This package itself holds only benchmarks of the per-request costs an edge
// handler pays (BenchmarkOpen20Models).
package edge
