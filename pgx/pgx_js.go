//go:build js && wasm

package pgx

import (
	"context"
	"errors"
	"fmt"
)

// errEdge is what Open returns in js/wasm builds. It matches
// errors.ErrUnsupported.
var errEdge = fmt.Errorf("forge/pgx: Open cannot work in a js/wasm build (Cloudflare Workers, browsers): there is no TCP to dial (Go's net package is an in-process fake there). In a Cloudflare Worker use the hyperdrive module (PostgreSQL through Hyperdrive, over the runtime's sockets), or an HTTP driver: neon (PostgreSQL over HTTP), or for SQLite d1 (a Worker's D1 binding), d1rest or libsql: %w", errors.ErrUnsupported)

// Open returns an error in js/wasm builds, without touching the network:
// use FromConn over a connection dialled with the runtime's sockets (as the
// hyperdrive module does) instead.
func Open(ctx context.Context, dsn string) (*Conn, error) { return nil, errEdge }
