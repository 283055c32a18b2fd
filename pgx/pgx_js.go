//go:build js && wasm

// Package pgx is forge's PostgreSQL driver over pgx v5. In js/wasm builds
// (Cloudflare Workers, browsers) it cannot work, since there is no TCP:
// Open returns an error that names the HTTP drivers to use instead, and a
// Conn made by New fails every call with that error.
package pgx

import (
	"context"
	"errors"
	"fmt"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/driver/pgerr"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// errEdge is what Open and every call of a Conn return in js/wasm builds.
// It matches errors.ErrUnsupported.
var errEdge = fmt.Errorf("forge/pgx: PostgreSQL over TCP cannot work in a js/wasm build (Cloudflare Workers, browsers): there is no TCP and no filesystem at the edge (Go's net package is an in-process fake there). Use an HTTP driver instead: neon (PostgreSQL over HTTP), or for SQLite d1 (a Worker's D1 binding), d1rest or libsql: %w", errors.ErrUnsupported)

// Conn has the API of the server build; in js/wasm every call fails with
// the error Open returns.
type Conn struct {
	pool *pgxpool.Pool
}

var (
	_ driver.Conn      = (*Conn)(nil)
	_ driver.Beginner  = (*Conn)(nil)
	_ driver.Batcher   = (*Conn)(nil)
	_ driver.Sessioner = (*Conn)(nil)
)

// New returns a Conn whose every call fails in js/wasm builds (see Open).
func New(pool *pgxpool.Pool) *Conn { return &Conn{pool: pool} }

// Open returns an error in js/wasm builds, without touching the network.
func Open(ctx context.Context, dsn string) (*Conn, error) { return nil, errEdge }

// Pool returns the pool given to New.
func (c *Conn) Pool() *pgxpool.Pool { return c.pool }

// DriverName implements driver.Namer.
func (c *Conn) DriverName() string { return "pgx" }

// Dialect implements driver.Conn.
func (c *Conn) Dialect() dialect.Dialect { return dialect.Postgres }

// Close closes the pool given to New, if any.
func (c *Conn) Close() error {
	if c.pool != nil {
		c.pool.Close()
	}
	return nil
}

// Query fails in js/wasm builds.
func (c *Conn) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	return nil, errEdge
}

// Exec fails in js/wasm builds.
func (c *Conn) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	return driver.Result{}, errEdge
}

// Begin fails in js/wasm builds.
func (c *Conn) Begin(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return nil, errEdge
}

// Batch fails in js/wasm builds.
func (c *Conn) Batch(ctx context.Context, stmts []driver.Stmt) ([]driver.BatchResult, error) {
	return nil, errEdge
}

// Session fails in js/wasm builds.
func (c *Conn) Session(ctx context.Context) (driver.Session, error) { return nil, errEdge }

// MapError turns PostgreSQL constraint violations (SQLSTATE class 23) into
// *driver.ConstraintError; other errors pass through.
func MapError(err error) error {
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) {
		return err
	}
	if ce := pgerr.Constraint(pgerr.Fields{Code: pe.Code, Constraint: pe.ConstraintName, Table: pe.TableName, Column: pe.ColumnName, Detail: pe.Detail}, err); ce != nil {
		return ce
	}
	return err
}
