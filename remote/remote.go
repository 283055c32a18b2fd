// Package remote is the "bring your own endpoint" driver: the smallest port
// a user implements to put forge in front of their own HTTP API (or any
// other transport), and a ready JSON protocol for it.
//
// Implement Endpoint, one method that runs statements, and Open turns it
// into a full forge driver:
//
//	type myAPI struct{ /* your client */ }
//
//	func (a *myAPI) Run(ctx context.Context, stmts []remote.Statement, atomic bool) ([]remote.Result, error) {
//		// send stmts to your service; when atomic, it must apply all or none
//	}
//
//	conn := remote.Open(remote.Config{Dialect: dialect.Postgres, Endpoint: &myAPI{}, Atomic: true})
//	db, err := forge.Open(schema, conn)
//
// Config.Atomic declares that Run honours atomic=true (all statements or
// none); forge then offers db.Batch. Without it, db.Batch and
// db.Transaction return a *driver.CapabilityError: forge never runs a
// batch non-atomically. Interactive transactions are not part of this
// port.
//
// For HTTP, NewJSONEndpoint speaks a small JSON protocol over a
// fetch.Fetcher (bring your own fetch: jsfetch in Workers, nethttp on
// servers, or your own), and Handler serves that protocol in front of any
// forge driver, so the server side is a few lines of Go:
//
//	http.Handle("/sql", remote.Handler(conn, remote.HandlerOptions{}))
//
// The protocol: POST a JSON body {"statements":[{"sql":..,"args":[..]}],
// "atomic":bool}; the reply is {"results":[{"columns":[..],"rows":[[..]],
// "rowsAffected":n,"lastInsertId":n}]} or, on failure, a non-2xx status with
// {"error":{"message":..,"index":n,"kind":..,"constraint":..,"table":..,
// "columns":[..]}}. Values are typed so nothing is lost in JSON: null,
// {"int":"-9223372036854775808"} (decimal string), {"float":1.5} (also
// "NaN", "Infinity", "-Infinity" as strings), {"bool":true},
// {"text":"..."}, {"bytes":"base64"}, {"time":"RFC 3339 with nanoseconds"}.
package remote

import (
	"context"
	"errors"
	"fmt"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
)

// Statement is one SQL statement with its arguments (nil, int64, int32,
// float64, bool, string, []byte or time.Time).
type Statement struct {
	SQL  string
	Args []any
	// Rows reports whether the caller reads the statement's rows.
	Rows bool
}

// Result is the outcome of one statement. Row values are nil, int64,
// float64, bool, string, []byte or time.Time.
type Result struct {
	Columns      []string
	Rows         [][]any
	RowsAffected int64
	LastInsertID *int64
}

// Endpoint runs statements in order and returns one Result per statement.
// When atomic is true it must apply every statement or none. An error for
// one statement should be a *StatementError naming its index.
type Endpoint interface {
	Run(ctx context.Context, stmts []Statement, atomic bool) ([]Result, error)
}

// StatementError reports the failure of one statement of a Run.
type StatementError struct {
	Index int
	Err   error
}

func (e *StatementError) Error() string { return fmt.Sprintf("statement %d: %v", e.Index, e.Err) }
func (e *StatementError) Unwrap() error { return e.Err }

// Config configures Open.
type Config struct {
	Dialect  dialect.Dialect // required
	Endpoint Endpoint        // required
	// Atomic declares that the endpoint honours atomic=true.
	Atomic bool
	// Name names the driver in errors and events (default "remote").
	Name string
}

// Conn is a forge driver over an Endpoint.
type Conn struct{ cfg Config }

var _ driver.Conn = (*Conn)(nil)

// Open returns a driver over cfg.Endpoint. When cfg.Atomic is set the
// result also implements driver.Batcher.
func Open(cfg Config) (driver.Conn, error) {
	if cfg.Dialect == nil || cfg.Endpoint == nil {
		return nil, errors.New("forge/remote: Config.Dialect and Config.Endpoint are required")
	}
	if cfg.Name == "" {
		cfg.Name = "remote"
	}
	c := &Conn{cfg: cfg}
	if cfg.Atomic {
		return &atomicConn{c}, nil
	}
	return c, nil
}

// DriverName implements driver.Namer.
func (c *Conn) DriverName() string { return c.cfg.Name }

// Dialect implements driver.Conn.
func (c *Conn) Dialect() dialect.Dialect { return c.cfg.Dialect }

// Close implements driver.Conn.
func (c *Conn) Close() error { return nil }

func (c *Conn) one(ctx context.Context, sql string, args []any, rows bool) (Result, error) {
	res, err := c.cfg.Endpoint.Run(ctx, []Statement{{SQL: sql, Args: args, Rows: rows}}, false)
	if err != nil {
		var se *StatementError
		if errors.As(err, &se) {
			return Result{}, se.Err
		}
		return Result{}, err
	}
	if len(res) != 1 {
		return Result{}, fmt.Errorf("forge/remote: the endpoint returned %d results for 1 statement", len(res))
	}
	return res[0], nil
}

// Query implements driver.Conn.
func (c *Conn) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	r, err := c.one(ctx, sql, args, true)
	if err != nil {
		return nil, err
	}
	return &driver.BufferedRows{Cols: r.Columns, Values: r.Rows}, nil
}

// Exec implements driver.Conn.
func (c *Conn) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	r, err := c.one(ctx, sql, args, false)
	if err != nil {
		return driver.Result{}, err
	}
	return toDriverResult(r), nil
}

func toDriverResult(r Result) driver.Result {
	out := driver.Result{RowsAffected: r.RowsAffected}
	if r.LastInsertID != nil {
		out.LastInsertID, out.HasLastInsertID = *r.LastInsertID, true
	}
	return out
}

type atomicConn struct{ *Conn }

var _ driver.Batcher = (*atomicConn)(nil)

// Batch implements driver.Batcher with one atomic Run.
func (c *atomicConn) Batch(ctx context.Context, stmts []driver.Stmt) ([]driver.BatchResult, error) {
	in := make([]Statement, len(stmts))
	for i, s := range stmts {
		in[i] = Statement{SQL: s.SQL, Args: s.Args, Rows: s.Rows}
	}
	res, err := c.cfg.Endpoint.Run(ctx, in, true)
	if err != nil {
		var se *StatementError
		if errors.As(err, &se) && se.Index >= 0 && se.Index < len(stmts) {
			return nil, &driver.BatchError{Index: se.Index, SQL: stmts[se.Index].SQL, Err: se.Err}
		}
		return nil, err
	}
	if len(res) != len(stmts) {
		return nil, fmt.Errorf("forge/remote: the endpoint returned %d results for %d statements", len(res), len(stmts))
	}
	out := make([]driver.BatchResult, len(res))
	for i, r := range res {
		out[i].Result = toDriverResult(r)
		if stmts[i].Rows {
			out[i].Rows = &driver.BufferedRows{Cols: r.Columns, Values: r.Rows}
		}
	}
	return out, nil
}
