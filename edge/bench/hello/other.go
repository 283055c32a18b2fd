//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "hello is a Cloudflare Worker (GOOS=js GOARCH=wasm), built and run by scripts/edge-bench")
	os.Exit(2)
}
