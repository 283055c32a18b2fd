// Package kvcache puts forge's query cache in Cloudflare Workers KV (js/wasm
// only; see kvcache.go).
package kvcache
