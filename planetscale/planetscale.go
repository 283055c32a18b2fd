// Package planetscale is forge's driver for PlanetScale's HTTP API (the
// protocol of @planetscale/database), spoken to PlanetScale or to forge's
// gateway (github.com/forge-orm/forge/gateway) in front of MySQL or
// MariaDB. It sends requests through a [fetch.Fetcher] and never imports
// net/http, so it runs in a js/wasm edge build (fetch/jsfetch) as well as
// on a server (fetch/nethttp).
//
//	conn, err := planetscale.Open(ctx, planetscale.Config{
//		URL:   "https://" + user + ":" + password + "@aws.connect.psdb.cloud",
//		Fetch: nethttp.New(nil),
//	})
//	db, err := forge.Open(schema, conn)
//
// The SQL dialect is MySQL's (dialect.MySQL), for the server's flavour and
// version: Open asks SELECT VERSION() unless Config.ServerVersion is set.
// The driver's name is "planetscale".
//
// # Sessions
//
// Every response carries the session the next request must send. The
// driver keeps the sessions of finished requests in a small free list and
// gives each request its own, so a session never has two requests in
// flight. A new session's first request sets its sql_mode (SQLMode:
// strict, ANSI_QUOTES, NO_BACKSLASH_ESCAPES, as forge's mysql module) and
// time_zone ('+00:00'), which the server keeps in the session. A transaction (db.Transaction) runs on a session of its own:
// BEGIN, its statements and COMMIT, one request at a time, each sending the
// session the previous one returned. A COMMIT whose answer is an error, or
// that gets no answer, or whose session still says it is in a transaction,
// is reported as an error: the transaction may not have been applied (a
// server that ended an idle transaction, as PlanetScale does after 20 s,
// answers COMMIT with an error). db.Batch is atomic the same way: one
// session, BEGIN, the statements, COMMIT (so 2 + n requests); a failing
// statement rolls the batch back and is reported as a *driver.BatchError.
// An isolation level is set with SET TRANSACTION ISOLATION LEVEL on the
// transaction's session before BEGIN (it applies to that transaction only).
//
// # Values
//
// The protocol has no parameters: the driver writes each argument into the
// SQL as a MySQL literal (wire/planetscale.Interpolate: ? placeholders
// outside strings and comments; text with a backslash, NUL or Ctrl-Z as a
// _utf8mb4 X'...' hex literal, so that no sql_mode reads it differently).
// Cells come back as MySQL text and are read by their Vitess type:
//
//	Go argument          written as                    column (Vitess type)             read back as
//	nil                  NULL                          NULL                             nil
//	int64, int32         decimal                       INT8..INT64, UINT8..UINT32       int64 (exact)
//	-                    -                             UINT64                           int64, or string above MaxInt64
//	float64              shortest text (finite)        FLOAT32, FLOAT64                 float64
//	bool                 TRUE / FALSE                  INT8 (BOOLEAN)                   int64 (0 or 1)
//	string               '...' or _utf8mb4 X'...'      VARCHAR, TEXT, CHAR, ENUM, TIME  string
//	[]byte               X'...' (nil []byte: NULL)     BLOB, VARBINARY, BINARY, BIT     []byte
//	time.Time            'YYYY-MM-DD HH:MM:SS.ffffff'  DATETIME, TIMESTAMP, DATE        time.Time in UTC
//	-                    -                             DECIMAL                          string (exact decimal text)
//	-                    -                             JSON                             string (the JSON text)
//
// forge's scan (driver.Assign) converts those into the destination. A cell
// its type cannot hold (a zero date) is a *CellError, an argument that
// cannot be written a *ParamError.
//
// # Errors
//
// A MySQL error is an *Error (its Number and SQLState are read from the
// message, as Vitess writes them); a constraint violation (1062, 1451,
// 1452, 1048, 1364, 3819, 4025) is a *driver.ConstraintError wrapping it.
// An HTTP status the protocol does not expect is a *fetch.StatusError (an
// HTTP error with a JSON error body an *Error). A context that ends stops
// the wait; the error then matches the context's error with errors.Is.
package planetscale

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/driver/mysqlerr"
	"github.com/forge-orm/forge/fetch"
	wire "github.com/forge-orm/forge/wire/planetscale"
)

// Error is an error the server reports.
type Error = wire.Error

// ParamError reports an argument the driver cannot write into the SQL.
type ParamError = wire.ParamError

// CellError reports a cell the driver cannot read as its column's type.
type CellError = wire.CellError

// ResponseError reports a response that does not follow the protocol.
type ResponseError = wire.ResponseError

// ErrClosed is returned by a Conn after Close.
var ErrClosed = errors.New("forge/planetscale: the connection is closed")

// ErrTxDone is returned by a transaction's methods after Commit or
// Rollback, or after its BEGIN failed.
var ErrTxDone = errors.New("forge/planetscale: the transaction has already ended")

// CommitError reports a COMMIT whose outcome is not a success: the
// server's error, no answer at all (Err is then the transport's or the
// context's error), or an answer whose session is still in a transaction.
// The transaction's changes may not have been applied.
type CommitError struct {
	Err error
}

func (e *CommitError) Error() string {
	return "forge/planetscale: COMMIT failed, the transaction may not have been applied: " + e.Err.Error()
}

func (e *CommitError) Unwrap() error { return e.Err }

// ConfigError reports a Config that Open cannot use.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return "forge/planetscale: Config." + e.Field + ": " + e.Msg }

// Config configures a Conn.
type Config struct {
	// URL names the server and the credentials, as for the JavaScript
	// client: mysql://user:password@aws.connect.psdb.cloud (any scheme
	// but http:// is sent over https://; http:// is kept, for a gateway
	// on a private network). A path is ignored: the API's paths are
	// absolute.
	URL string
	// Fetch sends the requests. Required: fetch/nethttp on a server,
	// fetch/jsfetch in a js/wasm build.
	Fetch fetch.Fetcher
	// ServerVersion is what SELECT VERSION() answers ("8.0.34-Vitess",
	// "10.11.6-MariaDB"); it picks the dialect's flavour and version.
	// Empty makes Open ask the server.
	ServerVersion string
}

// Conn is a forge driver over PlanetScale's HTTP API. It is safe for
// concurrent use.
type Conn struct {
	origin  string
	auth    string
	fetch   fetch.Fetcher
	dialect dialect.Dialect
	// keyTable: the server names a duplicate key table.key (MySQL 8.0.19
	// and later, PlanetScale).
	keyTable bool
	closed   atomic.Bool

	mu   sync.Mutex
	free []json.RawMessage // sessions of finished requests, outside transactions
}

var (
	_ driver.Conn     = (*Conn)(nil)
	_ driver.Beginner = (*Conn)(nil)
	_ driver.Batcher  = (*Conn)(nil)
	_ driver.Namer    = (*Conn)(nil)
)

// maxFree bounds the sessions a Conn keeps for reuse.
const maxFree = 16

// Open checks cfg and returns a Conn. Unless cfg.ServerVersion is set it
// runs SELECT VERSION() to pick the dialect.
func Open(ctx context.Context, cfg Config) (*Conn, error) {
	if cfg.Fetch == nil {
		return nil, &ConfigError{Field: "Fetch", Msg: "required (fetch/nethttp on a server, fetch/jsfetch in a js/wasm build)"}
	}
	origin, auth, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	c := &Conn{origin: origin, auth: auth, fetch: cfg.Fetch}
	version := cfg.ServerVersion
	if version == "" {
		rows, err := c.Query(ctx, "SELECT VERSION()", nil)
		if err != nil {
			return nil, fmt.Errorf("forge/planetscale: asking the server's version: %w", err)
		}
		br := rows.(*driver.BufferedRows)
		if len(br.Values) != 1 || len(br.Values[0]) != 1 {
			return nil, &ResponseError{Msg: "SELECT VERSION() returned no single value"}
		}
		version, _ = br.Values[0][0].(string)
	}
	flavor, v, err := dialect.ParseMySQLVersion(version)
	if err != nil {
		return nil, &ConfigError{Field: "ServerVersion", Msg: err.Error()}
	}
	c.dialect = dialect.MySQL(flavor, v)
	c.keyTable = flavor == dialect.MySQLFlavor && v.AtLeast(8, 0, 19)
	return c, nil
}

// parseURL returns the origin requests go to and the Basic credentials.
// Messages never repeat the URL: it holds a password.
func parseURL(s string) (origin, auth string, err error) {
	bad := func(msg string) (string, string, error) {
		return "", "", &ConfigError{Field: "URL", Msg: msg + " (want mysql://user:password@host, or http://user:password@host:port for a gateway)"}
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
	if u.Host == "" || u.Hostname() == "" {
		return bad("no host")
	}
	if u.User == nil || u.User.Username() == "" {
		return bad("no user")
	}
	pass, _ := u.User.Password()
	scheme := "https"
	if u.Scheme == "http" {
		scheme = "http"
	}
	auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pass))
	return scheme + "://" + u.Host, auth, nil
}

// Origin returns the scheme and host requests are posted to.
func (c *Conn) Origin() string { return c.origin }

// DriverName implements driver.Namer.
func (c *Conn) DriverName() string { return "planetscale" }

// Dialect implements driver.Conn.
func (c *Conn) Dialect() dialect.Dialect { return c.dialect }

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

// Exec implements driver.Conn: one request.
func (c *Conn) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	res, err := c.one(ctx, sql, args)
	if err != nil {
		return driver.Result{}, err
	}
	return result(res)
}

// one runs a statement outside a transaction, on a free session.
func (c *Conn) one(ctx context.Context, sql string, args []any) (*wire.Result, error) {
	q, err := wire.Interpolate(sql, args)
	if err != nil {
		return nil, err
	}
	sess, err := c.take(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := c.execute(ctx, q, sess)
	if err != nil {
		return nil, err
	}
	c.put(resp.Session)
	if resp.Error != nil {
		return nil, c.mapError(resp.Error)
	}
	return resp.Result, nil
}

// SQLMode is the sql_mode of every session the driver opens, as forge's
// mysql module sets it: strict, NO_BACKSLASH_ESCAPES (as the dialect
// writes literals) and ANSI_QUOTES (a double-quoted name is an identifier).
const SQLMode = "ANSI_QUOTES,STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES,NO_ZERO_IN_DATE,NO_ZERO_DATE," +
	"ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"

// sessionSetup is the first request of every session: the server keeps
// these variables in the session (Vitess's system variables), which every
// later request sends back.
const sessionSetup = "SET SESSION sql_mode = '" + SQLMode + "', time_zone = '+00:00'"

// take returns a free session, or sets up a new one.
func (c *Conn) take(ctx context.Context) (json.RawMessage, error) {
	c.mu.Lock()
	if n := len(c.free); n > 0 {
		sess := c.free[n-1]
		c.free = c.free[:n-1]
		c.mu.Unlock()
		return sess, nil
	}
	c.mu.Unlock()
	resp, err := c.execute(ctx, sessionSetup, nil)
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		return nil, fmt.Errorf("forge/planetscale: setting up a session: %w", c.mapError(resp.Error))
	}
	return resp.Session, nil
}

// put keeps a session outside a transaction for reuse.
func (c *Conn) put(sess json.RawMessage) {
	if len(sess) == 0 || string(sess) == "null" || sessionState(sess).InTransaction {
		return
	}
	c.mu.Lock()
	if len(c.free) < maxFree {
		c.free = append(c.free, sess)
	}
	c.mu.Unlock()
}

// execute sends one statement with session sess (nil: a new session) and
// returns the decoded response, whose Error may be set.
func (c *Conn) execute(ctx context.Context, sql string, sess json.RawMessage) (*wire.Response, error) {
	if sess == nil {
		sess = json.RawMessage("null")
	}
	body, err := json.Marshal(wire.Request{Query: sql, Session: sess})
	if err != nil {
		return nil, fmt.Errorf("forge/planetscale: %w", err)
	}
	b, err := c.post(ctx, wire.PathExecute, body)
	if err != nil {
		return nil, err
	}
	resp, err := wire.DecodeResponse(b)
	if err != nil {
		return nil, err
	}
	if resp.Error == nil && resp.Result == nil {
		resp.Result = &wire.Result{}
	}
	return resp, nil
}

// post sends one request and returns the body of a successful response.
func (c *Conn) post(ctx context.Context, path string, body []byte) ([]byte, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("forge/planetscale: %w", err)
	}
	h := fetch.Header{
		{Name: "Content-Type", Value: "application/json"},
		{Name: "Authorization", Value: c.auth},
		{Name: "User-Agent", Value: "forge-planetscale"},
	}
	res, err := c.fetch(ctx, &fetch.Request{Method: "POST", URL: c.origin + path, Header: h, Body: body})
	if err != nil {
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			return nil, fmt.Errorf("forge/planetscale: %w (%v)", cerr, err)
		}
		return nil, fmt.Errorf("forge/planetscale: %w", err)
	}
	if res == nil {
		return nil, &ResponseError{Msg: "the fetcher returned no response"}
	}
	if res.Status >= 200 && res.Status < 300 {
		return res.Body, nil
	}
	if e, ok := wire.DecodeError(res.Body); ok {
		return nil, fmt.Errorf("forge/planetscale: HTTP status %d: %w", res.Status, c.mapError(e))
	}
	return nil, &fetch.StatusError{Status: res.Status, Body: string(res.Body)}
}

// mapError turns a constraint violation into a *driver.ConstraintError
// wrapping e.
func (c *Conn) mapError(e *Error) error {
	if n := e.Number(); n != 0 {
		if ce := mysqlerr.Constraint(n, mysqlText(e.Message), c.keyTable, e); ce != nil {
			return ce
		}
	}
	return e
}

// mysqlText returns the server's own text of a MySQL error message as
// Vitess relays it: "target: db.-.primary: vttablet: <text> (errno N)
// (sqlstate S) (CallerID: ...)".
func mysqlText(msg string) string {
	if i := strings.LastIndex(msg, "vttablet: "); i >= 0 {
		msg = msg[i+len("vttablet: "):]
	}
	if j := strings.Index(msg, " (errno "); j >= 0 {
		msg = msg[:j]
	}
	return msg
}

type vitessState struct {
	InTransaction bool `json:"inTransaction"`
}

// sessionState reads whether a session is in a transaction: Vitess's
// {"vitessSession": {"inTransaction": true}}.
func sessionState(s json.RawMessage) vitessState {
	var v struct {
		VitessSession vitessState `json:"vitessSession"`
	}
	if len(s) > 0 {
		_ = json.Unmarshal(s, &v)
	}
	return v.VitessSession
}

func result(r *wire.Result) (driver.Result, error) {
	if r.RowsAffected > math.MaxInt64 || r.InsertID > math.MaxInt64 {
		return driver.Result{}, &ResponseError{Msg: "a row count or insert id above 2^63-1"}
	}
	return driver.Result{RowsAffected: int64(r.RowsAffected), LastInsertID: int64(r.InsertID), HasLastInsertID: r.InsertID != 0}, nil
}

func bufferRows(r *wire.Result) (*driver.BufferedRows, error) {
	vals, err := wire.DecodeRows(r)
	if err != nil {
		return nil, err
	}
	cols := make([]string, len(r.Fields))
	for i, f := range r.Fields {
		cols[i] = f.Name
	}
	return &driver.BufferedRows{Cols: cols, Values: vals}, nil
}
