// Package jsfetch is a fetch.Fetcher over the JavaScript runtime's fetch,
// through syscall/js, for GOOS=js GOARCH=wasm (Cloudflare Workers, Node,
// browsers). It does not link net/http. On other platforms New returns a
// Fetcher that fails with ErrUnsupported.
package jsfetch

import "errors"

// ErrUnsupported is returned on platforms without a JavaScript runtime.
var ErrUnsupported = errors.New("forge/fetch/jsfetch: needs GOOS=js GOARCH=wasm; use fetch/nethttp on servers")
