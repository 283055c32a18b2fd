//go:build js && wasm

// Package sqlite is forge's embedded SQLite driver. It does not exist in
// js/wasm builds (Cloudflare Workers, browsers): there, Open returns an
// error that names the HTTP drivers to use instead.
package sqlite

import (
	"errors"
	"fmt"

	"github.com/forge-orm/forge/stdsql"
)

// errEdge is what Open returns in js/wasm builds. It matches
// errors.ErrUnsupported.
var errEdge = fmt.Errorf("forge/sqlite: the embedded SQLite cannot run in a js/wasm build (Cloudflare Workers, browsers): there is no filesystem and no TCP at the edge, and modernc.org/sqlite does not compile for js/wasm. Use an HTTP driver instead: d1 (a Worker's D1 binding), d1rest (D1's REST API), libsql (Turso or sqld over HTTP) or neon (PostgreSQL over HTTP): %w", errors.ErrUnsupported)

// Open returns an error in js/wasm builds: see the package doc.
func Open(path string, opts ...Option) (*stdsql.Conn, error) { return nil, errEdge }

// MapError returns err unchanged in js/wasm builds, where no SQLite error
// can occur.
func MapError(err error) error { return err }
