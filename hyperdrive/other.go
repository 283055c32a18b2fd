//go:build !(js && wasm)

package hyperdrive

import (
	"context"
	"errors"
	"fmt"

	"github.com/forge-orm/forge/pgx"
)

var errNotWorker = fmt.Errorf("forge/hyperdrive: Hyperdrive bindings exist only in a Cloudflare Worker (GOOS=js GOARCH=wasm); elsewhere connect to PostgreSQL with the pgx module (pgx.Open): %w", errors.ErrUnsupported)

// Open returns an error matching errors.ErrUnsupported outside js/wasm.
// (In js/wasm builds env is an Env, whose Binding returns a syscall/js
// Value.)
func Open(ctx context.Context, env any, name string) (*pgx.Conn, error) { return nil, errNotWorker }
