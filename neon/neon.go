// Package neon is forge's driver for Neon's serverless PostgreSQL over
// HTTP: the "SQL over HTTP" protocol of the neon() function of
// @neondatabase/serverless, spoken to Neon or to forge's gateway
// (github.com/forge-orm/forge/gateway). It sends requests through a
// [fetch.Fetcher] and never imports net/http, so it runs in a js/wasm edge
// build (fetch/jsfetch) as well as on a server (fetch/nethttp).
//
//	conn, err := neon.Open(neon.Config{
//		ConnectionString: os.Getenv("DATABASE_URL"), // postgres://user:password@ep-x.region.aws.neon.tech/db
//		Fetch:            nethttp.New(nil),
//	})
//	db, err := forge.Open(schema, conn)
//
// Each Query and Exec is one POST. A batch (db.Batch, and a CreateMany
// that needs several statements) is one transaction request, which the
// server runs atomically. Neon's HTTP protocol has no interactive
// transactions: the driver is not a driver.Beginner, so db.Transaction
// returns a *forge.CapabilityError that says to use db.Batch.
//
// The SQL dialect is PostgreSQL ($1 placeholders); the driver's name is
// "neon".
//
// # Values
//
// Parameters travel as PostgreSQL text; cells come back as PostgreSQL's
// text output (the driver asks for Neon-Raw-Text-Output and
// Neon-Array-Mode) and are read by their column's type OID:
//
//	Go argument          sent as                                 PostgreSQL column           read back as
//	nil                  NULL                                    NULL                        nil
//	int64, int32, int    decimal                                 int2, int4, int8            int64 (exact)
//	float64              shortest 'g' text, NaN, ±Infinity       float4, float8              float64 (float4 exactly as float32)
//	bool                 true / false                            bool (t / f)                bool
//	string               as is (must be valid UTF-8)             text, varchar, uuid, ...    string
//	[]byte               bytea hex \x... (nil []byte is NULL)    bytea                       []byte
//	time.Time            RFC 3339 in UTC, nanoseconds            timestamptz, timestamp,     time.Time in UTC (timestamp
//	                     (PostgreSQL keeps microseconds)         date                        and date read as UTC)
//	-                    -                                       numeric                     string (exact decimal text)
//	-                    -                                       json, jsonb                 string (the JSON text)
//
// forge's scan (driver.Assign) then converts those values into the
// destination: numeric text into an int64 or float64, JSON text into the
// model's JSON field, and so on. An infinite timestamp, an integer out of
// range and any text a type cannot hold is an error (*CellError), never a
// silent change; an argument of another Go type is a *ParamError.
//
// # Errors
//
// A PostgreSQL error (HTTP 400) is an *Error carrying the SQLSTATE code and
// the fields PostgreSQL reports; a constraint violation (SQLSTATE class 23)
// is a *driver.ConstraintError wrapping it. Any other unexpected HTTP
// status is a *fetch.StatusError. A context that ends stops the wait; the
// error then matches the context's error with errors.Is.
//
// Neon's response to a failed transaction does not say which statement
// failed, so a failed batch returns the database's error itself rather
// than a *driver.BatchError.
package neon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/driver/pgerr"
	"github.com/forge-orm/forge/fetch"
	wire "github.com/forge-orm/forge/wire/neon"
)

// Error is a PostgreSQL error reported by the server: Code is the
// SQLSTATE.
type Error = wire.Error

// ParamError reports an argument the driver cannot send.
type ParamError = wire.ParamError

// CellError reports a cell the driver cannot read as its column's type.
type CellError = wire.CellError

// ResponseError reports a response that does not follow the protocol.
type ResponseError = wire.ResponseError

// ErrClosed is returned by a Conn after Close.
var ErrClosed = errors.New("forge/neon: the connection is closed")

// ConfigError reports a Config that Open cannot use.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return "forge/neon: Config." + e.Field + ": " + e.Msg }

// Config configures a Conn.
type Config struct {
	// ConnectionString names the database, as for the JavaScript client:
	// postgres://user:password@ep-x-123.us-east-2.aws.neon.tech/dbname
	// (postgresql:// too). It is sent with every request; with AuthToken
	// the password may be left out.
	ConnectionString string
	// Endpoint is the URL requests are posted to (the JavaScript client's
	// fetchEndpoint). Empty derives it as that client does: the first DNS
	// label of the connection string's host becomes "api" ("apiauth" with
	// an AuthToken), giving https://api.us-east-2.aws.neon.tech/sql; a host
	// without a dot is kept as is.
	Endpoint string
	// AuthToken, when set, is sent as "Authorization: Bearer <token>"
	// (Neon's JWT authentication).
	AuthToken string
	// Fetch sends the requests. Required: fetch/nethttp on a server,
	// fetch/jsfetch in a js/wasm build.
	Fetch fetch.Fetcher
}

// Conn is a forge driver over Neon's SQL over HTTP. It is safe for
// concurrent use; it holds no connection, so Close only stops it.
type Conn struct {
	endpoint string
	header   fetch.Header // the headers every request carries
	fetch    fetch.Fetcher
	closed   atomic.Bool
}

var (
	_ driver.Conn    = (*Conn)(nil)
	_ driver.Batcher = (*Conn)(nil)
	_ driver.Namer   = (*Conn)(nil)
)

// Open checks cfg and returns a Conn. It does no I/O.
func Open(cfg Config) (*Conn, error) {
	if cfg.Fetch == nil {
		return nil, &ConfigError{Field: "Fetch", Msg: "required (fetch/nethttp on a server, fetch/jsfetch in a js/wasm build)"}
	}
	host, err := checkConnectionString(cfg.ConnectionString)
	if err != nil {
		return nil, err
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = DefaultEndpoint(host, cfg.AuthToken != "")
	} else if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &ConfigError{Field: "Endpoint", Msg: "want an http:// or https:// URL, got " + fmt.Sprintf("%q", endpoint)}
	}
	if strings.ContainsAny(cfg.AuthToken, "\r\n") {
		return nil, &ConfigError{Field: "AuthToken", Msg: "contains a line break"}
	}
	h := fetch.Header{
		{Name: wire.HeaderConnectionString, Value: cfg.ConnectionString},
		{Name: wire.HeaderRawTextOutput, Value: "true"},
		{Name: wire.HeaderArrayMode, Value: "true"},
		{Name: "Content-Type", Value: "application/json"},
	}
	if cfg.AuthToken != "" {
		h = append(h, fetch.Field{Name: "Authorization", Value: "Bearer " + cfg.AuthToken})
	}
	return &Conn{endpoint: endpoint, header: h, fetch: cfg.Fetch}, nil
}

// checkConnectionString checks the connection string as the JavaScript
// client does (scheme, user, host, database) and returns its host. The
// message never repeats the string: it may hold a password.
func checkConnectionString(s string) (string, error) {
	bad := func(msg string) (string, error) {
		return "", &ConfigError{Field: "ConnectionString", Msg: msg + " (want postgres://user:password@host/database)"}
	}
	if s == "" {
		return bad("required")
	}
	if strings.ContainsAny(s, "\r\n") {
		return bad("contains a line break")
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("not a URL")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return bad("the scheme is not postgres or postgresql")
	}
	if u.User == nil || u.User.Username() == "" {
		return bad("no user")
	}
	if h := u.Hostname(); h == "" || h == "-" {
		return bad("no host")
	}
	if u.Path == "" || u.Path == "/" {
		return bad("no database")
	}
	return u.Hostname(), nil
}

// DefaultEndpoint derives the endpoint from the connection string's host
// as the JavaScript client does: ep-x-123.us-east-2.aws.neon.tech becomes
// https://api.us-east-2.aws.neon.tech/sql (apiauth. with JWT
// authentication); a host without a dot is kept.
func DefaultEndpoint(host string, jwtAuth bool) string {
	if _, rest, ok := strings.Cut(host, "."); ok && !strings.HasPrefix(host, ".") {
		prefix := "api."
		if jwtAuth {
			prefix = "apiauth."
		}
		host = prefix + rest
	}
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]" // an IPv6 literal
	}
	return "https://" + host + "/sql"
}

// Endpoint returns the URL requests are posted to.
func (c *Conn) Endpoint() string { return c.endpoint }

// DriverName implements driver.Namer.
func (c *Conn) DriverName() string { return "neon" }

// Dialect implements driver.Conn.
func (c *Conn) Dialect() dialect.Dialect { return dialect.Postgres }

// Close implements driver.Conn. Later calls return ErrClosed.
func (c *Conn) Close() error { c.closed.Store(true); return nil }

// Query implements driver.Conn: one request; the rows come back whole.
func (c *Conn) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	res, err := c.one(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	return bufferRows(res)
}

// Exec implements driver.Conn: one request. RowsAffected is the command
// tag's count (0 when the tag has none).
func (c *Conn) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	res, err := c.one(ctx, sql, args)
	if err != nil {
		return driver.Result{}, err
	}
	return driver.Result{RowsAffected: rowCount(res)}, nil
}

func (c *Conn) one(ctx context.Context, sql string, args []any) (*wire.Result, error) {
	params, err := wire.EncodeParams(args)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(wire.Request{Queries: []wire.Query{{Query: sql, Params: params}}})
	if err != nil {
		return nil, fmt.Errorf("forge/neon: %w", err)
	}
	resp, err := c.post(ctx, body, nil)
	if err != nil {
		return nil, err
	}
	return wire.DecodeResult(resp)
}

// Batch implements driver.Batcher: the statements go in one transaction
// request, which the server commits only if every statement succeeds.
func (c *Conn) Batch(ctx context.Context, stmts []driver.Stmt) ([]driver.BatchResult, error) {
	return c.BatchWith(ctx, BatchOptions{}, stmts)
}

// BatchOptions are the transaction options of a batch, sent in Neon's
// Neon-Batch-* headers. The zero value is the server's defaults.
type BatchOptions struct {
	// Isolation is the isolation level; "" is the server's default.
	Isolation driver.IsolationLevel
	// ReadOnly makes the transaction read-only.
	ReadOnly bool
	// Deferrable makes a serializable, read-only transaction deferrable.
	Deferrable bool
}

// BatchWith is Batch with transaction options.
func (c *Conn) BatchWith(ctx context.Context, opts BatchOptions, stmts []driver.Stmt) ([]driver.BatchResult, error) {
	if len(stmts) == 0 {
		return nil, nil
	}
	var extra fetch.Header
	if opts.Isolation != "" {
		level, ok := isolationHeader[opts.Isolation]
		if !ok {
			return nil, fmt.Errorf("forge/neon: unknown isolation level %q", opts.Isolation)
		}
		extra = append(extra, fetch.Field{Name: wire.HeaderBatchIsolationLevel, Value: level})
	}
	if opts.ReadOnly {
		extra = append(extra, fetch.Field{Name: wire.HeaderBatchReadOnly, Value: "true"})
	}
	if opts.Deferrable {
		extra = append(extra, fetch.Field{Name: wire.HeaderBatchDeferrable, Value: "true"})
	}
	qs := make([]wire.Query, len(stmts))
	for i, s := range stmts {
		params, err := wire.EncodeParams(s.Args)
		if err != nil {
			return nil, &driver.BatchError{Index: i, SQL: s.SQL, Err: err}
		}
		qs[i] = wire.Query{Query: s.SQL, Params: params}
	}
	body, err := json.Marshal(wire.Request{Transaction: true, Queries: qs})
	if err != nil {
		return nil, fmt.Errorf("forge/neon: %w", err)
	}
	resp, err := c.post(ctx, body, extra)
	if err != nil {
		return nil, err
	}
	results, err := wire.DecodeTransactionResponse(resp)
	if err != nil {
		return nil, err
	}
	if len(results) != len(stmts) {
		return nil, &ResponseError{Msg: fmt.Sprintf("%d results for a transaction of %d statements", len(results), len(stmts))}
	}
	out := make([]driver.BatchResult, len(stmts))
	for i, s := range stmts {
		out[i].RowsAffected = rowCount(&results[i])
		if s.Rows {
			rows, err := bufferRows(&results[i])
			if err != nil {
				return nil, &driver.BatchError{Index: i, SQL: s.SQL, Err: err}
			}
			out[i].Rows = rows
		}
	}
	return out, nil
}

var isolationHeader = map[driver.IsolationLevel]string{
	driver.ReadUncommitted: wire.ReadUncommitted,
	driver.ReadCommitted:   wire.ReadCommitted,
	driver.RepeatableRead:  wire.RepeatableRead,
	driver.Serializable:    wire.Serializable,
}

// post sends one request and returns the body of a successful response.
func (c *Conn) post(ctx context.Context, body []byte, extra fetch.Header) ([]byte, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("forge/neon: %w", err)
	}
	h := make(fetch.Header, 0, len(c.header)+len(extra))
	h = append(append(h, c.header...), extra...)
	res, err := c.fetch(ctx, &fetch.Request{Method: "POST", URL: c.endpoint, Header: h, Body: body})
	if err != nil {
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			return nil, fmt.Errorf("forge/neon: %w (%v)", cerr, err)
		}
		return nil, fmt.Errorf("forge/neon: %w", err)
	}
	if res == nil {
		return nil, &ResponseError{Msg: "the fetcher returned no response"}
	}
	if res.Status >= 200 && res.Status < 300 {
		return res.Body, nil
	}
	if res.Status == 400 {
		if e, err := wire.DecodeError(res.Body); err == nil {
			return nil, mapError(e)
		}
	}
	return nil, &fetch.StatusError{Status: res.Status, Body: string(res.Body)}
}

// mapError turns a constraint violation (SQLSTATE class 23) into a
// *driver.ConstraintError wrapping e.
func mapError(e *Error) error {
	f := pgerr.Fields{Code: e.Code, Constraint: e.Constraint, Table: e.Table, Column: e.Column, Detail: e.Detail}
	if ce := pgerr.Constraint(f, e); ce != nil {
		return ce
	}
	return e
}

func rowCount(r *wire.Result) int64 {
	if r.RowCount == nil {
		return 0
	}
	return *r.RowCount
}

func bufferRows(r *wire.Result) (*driver.BufferedRows, error) {
	vals, err := wire.DecodeRows(r.Fields, r.Rows)
	if err != nil {
		return nil, err
	}
	cols := make([]string, len(r.Fields))
	for i, f := range r.Fields {
		cols[i] = f.Name
	}
	return &driver.BufferedRows{Cols: cols, Values: vals}, nil
}
