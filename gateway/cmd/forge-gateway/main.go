// Command forge-gateway is forge's HTTP SQL gateway on its own: the same
// program as "forge gateway". See the gateway package's README.
//
//	forge-gateway --db postgres://app@127.0.0.1/app --db sqlite:./app.db \
//		--tokens tokens.txt --listen 127.0.0.1:8080
package main

import (
	"context"
	"os"

	"github.com/forge-orm/forge/gateway"
)

func main() {
	os.Exit(gateway.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
