package libsql

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/driver/sqliteerr"
	"github.com/forge-orm/forge/fetch"
	"github.com/forge-orm/forge/wire/hrana"
)

// Config configures Open.
type Config struct {
	// URL is the database's base URL: https://host, http://host (a local
	// sqld), or libsql://host, which means https (libsql://host?tls=0
	// means http). A path is kept: https://host/db posts to
	// https://host/db/v2/pipeline.
	URL string
	// AuthToken, when set, is sent as "Authorization: Bearer <token>"
	// (a Turso database token). The URL may carry it instead, as
	// ?authToken=..., like @libsql/client's URLs.
	AuthToken string
	// Fetch sends the HTTP requests (required): nethttp.New(nil) on
	// servers, jsfetch.New() in Cloudflare Workers and other JavaScript
	// runtimes.
	Fetch fetch.Fetcher
}

// Conn is a forge driver for a libSQL server (sqld, Turso) over Hrana's
// HTTP pipeline protocol. It holds no connection: each call is one HTTP
// request, so it is safe for concurrent use and costs nothing to keep.
type Conn struct {
	endpoint string // the pipeline URL
	auth     string // the Authorization header value, or ""
	fetch    fetch.Fetcher
	closed   atomic.Bool
}

var (
	_ driver.Conn     = (*Conn)(nil)
	_ driver.Beginner = (*Conn)(nil)
	_ driver.Batcher  = (*Conn)(nil)
	_ driver.Namer    = (*Conn)(nil)
)

// ErrClosed is returned by every call on a closed Conn.
var ErrClosed = errors.New("forge/libsql: the connection is closed")

// Open returns a driver for the server at cfg.URL. It does no I/O.
func Open(cfg Config) (*Conn, error) {
	if cfg.Fetch == nil {
		return nil, errors.New("forge/libsql: Config.Fetch is required (nethttp.New(nil) on servers, jsfetch.New() in Workers)")
	}
	endpoint, token, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if token != "" && cfg.AuthToken != "" && token != cfg.AuthToken {
		return nil, errors.New("forge/libsql: the URL's authToken and Config.AuthToken differ; give one")
	}
	if cfg.AuthToken != "" {
		token = cfg.AuthToken
	}
	c := &Conn{endpoint: endpoint, fetch: cfg.Fetch}
	if token != "" {
		c.auth = "Bearer " + token
	}
	return c, nil
}

// parseURL returns the pipeline URL of a base URL, and the authToken the
// URL carries, if any.
func parseURL(raw string) (endpoint, token string, err error) {
	bad := func(msg string) (string, string, error) {
		return "", "", fmt.Errorf("forge/libsql: URL %q: %s", redact(raw), msg)
	}
	if raw == "" {
		return bad("empty (want https://host, libsql://host or http://host:port)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("not a URL")
	}
	scheme := strings.ToLower(u.Scheme)
	q := u.Query()
	tls := ""
	for k, vs := range q {
		switch k {
		case "authToken":
			token = vs[len(vs)-1]
		case "tls":
			tls = vs[len(vs)-1]
		default:
			return bad("unsupported query parameter " + strconv.Quote(k) + " (supported: authToken, tls)")
		}
	}
	switch scheme {
	case "libsql":
		switch tls {
		case "", "1":
			scheme = "https"
		case "0":
			scheme = "http"
		default:
			return bad(`tls must be "0" or "1"`)
		}
	case "http", "https":
		if tls != "" {
			return bad("tls= is only for libsql:// URLs; use http:// or https://")
		}
	case "ws", "wss":
		return bad("WebSocket URLs are not supported: this driver speaks Hrana over HTTP; use https:// or libsql://")
	case "":
		return bad("no scheme (want https://, libsql:// or http://)")
	default:
		return bad("unsupported scheme " + strconv.Quote(u.Scheme) + " (want https://, libsql:// or http://)")
	}
	if u.Host == "" || u.Opaque != "" {
		return bad("no host")
	}
	if u.User != nil {
		return bad("credentials in the URL are not supported; use Config.AuthToken")
	}
	if u.Fragment != "" {
		return bad("a fragment (#...) is not allowed")
	}
	base := url.URL{Scheme: scheme, Host: u.Host, Path: strings.TrimRight(u.Path, "/") + "/v2/pipeline"}
	return base.String(), token, nil
}

// redact hides an authToken in a URL shown in an error.
func redact(raw string) string {
	if i := strings.Index(raw, "authToken="); i >= 0 {
		j := strings.IndexByte(raw[i:], '&')
		if j < 0 {
			return raw[:i] + "authToken=REDACTED"
		}
		return raw[:i] + "authToken=REDACTED" + raw[i+j:]
	}
	return raw
}

// streamEndpoint returns the pipeline URL for a stream whose server sent
// base_url: resolved as @libsql/client resolves it ("v2/pipeline"
// relative to base_url), so servers built for that client work.
func streamEndpoint(baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", &ProtocolError{Msg: "the server sent a base_url that is not an absolute http(s) URL: " + strconv.Quote(baseURL)}
	}
	return u.ResolveReference(&url.URL{Path: "v2/pipeline"}).String(), nil
}

// DriverName implements driver.Namer.
func (c *Conn) DriverName() string { return "libsql" }

// Dialect implements driver.Conn.
func (c *Conn) Dialect() dialect.Dialect { return dialect.SQLite }

// Close implements driver.Conn. There is nothing to release; later calls
// return ErrClosed.
func (c *Conn) Close() error {
	c.closed.Store(true)
	return nil
}

// Query implements driver.Conn: one POST with [execute, close].
func (c *Conn) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	res, err := c.execute(ctx, sql, args, true)
	if err != nil {
		return nil, err
	}
	return toRows(res), nil
}

// Exec implements driver.Conn: one POST with [execute, close].
func (c *Conn) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	res, err := c.execute(ctx, sql, args, false)
	if err != nil {
		return driver.Result{}, err
	}
	return toResult(res)
}

func (c *Conn) execute(ctx context.Context, sql string, args []any, wantRows bool) (*hrana.StmtResult, error) {
	vals, err := encodeArgs(args)
	if err != nil {
		return nil, err
	}
	resp, err := c.pipeline(ctx, c.endpoint, nil, []hrana.StreamRequest{
		hrana.ExecuteRequest(hrana.NewStmt(sql, vals, wantRows)),
		hrana.CloseRequest(),
	})
	if err != nil {
		return nil, err
	}
	return executeResult(resp.Results[0])
}

// executeResult reads the result of an execute request.
func executeResult(r hrana.StreamResult) (*hrana.StmtResult, error) {
	if r.Error != nil {
		return nil, stmtError(r.Error)
	}
	if r.Response.Type != hrana.TypeExecute || r.Response.Execute == nil {
		return nil, &ProtocolError{Msg: "an execute request got a " + strconv.Quote(r.Response.Type) + " response"}
	}
	return r.Response.Execute, nil
}

// pipeline sends one pipeline request and returns its response, which has
// one result per request.
func (c *Conn) pipeline(ctx context.Context, endpoint string, baton *string, reqs []hrana.StreamRequest) (*hrana.PipelineResponse, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxError(ctx, nil)
	}
	body, err := (&hrana.PipelineRequest{Baton: baton, Requests: reqs}).AppendJSON(nil)
	if err != nil {
		return nil, fmt.Errorf("forge/libsql: %w", err)
	}
	req := &fetch.Request{Method: "POST", URL: endpoint, Body: body,
		Header: fetch.Header{{Name: "Content-Type", Value: "application/json"}}}
	if c.auth != "" {
		req.Header = append(req.Header, fetch.Field{Name: "Authorization", Value: c.auth})
	}
	res, err := c.send(ctx, req)
	if err != nil {
		return nil, err
	}
	if res.Status < 200 || res.Status > 299 {
		return nil, httpError(res)
	}
	pr, err := hrana.DecodePipelineResponse(res.Body)
	if err != nil {
		return nil, &ProtocolError{Msg: "malformed response", Err: err}
	}
	if len(pr.Results) != len(reqs) {
		return nil, &ProtocolError{Msg: strconv.Itoa(len(pr.Results)) + " results for " + strconv.Itoa(len(reqs)) + " requests"}
	}
	return pr, nil
}

// send calls the Fetcher, and stops waiting when ctx ends even if the
// Fetcher does not notice.
func (c *Conn) send(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
	if ctx.Done() == nil {
		res, err := c.fetch(ctx, req)
		return checkFetch(ctx, res, err)
	}
	type reply struct {
		res *fetch.Response
		err error
	}
	ch := make(chan reply, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- reply{err: fmt.Errorf("forge/libsql: the Fetcher panicked: %v", p)}
			}
		}()
		res, err := c.fetch(ctx, req)
		ch <- reply{res, err}
	}()
	select {
	case r := <-ch:
		return checkFetch(ctx, r.res, r.err)
	case <-ctx.Done():
		return nil, ctxError(ctx, nil)
	}
}

func checkFetch(ctx context.Context, res *fetch.Response, err error) (*fetch.Response, error) {
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxError(ctx, err)
		}
		return nil, fmt.Errorf("forge/libsql: %w", err)
	}
	if res == nil {
		return nil, &ProtocolError{Msg: "the Fetcher returned neither a response nor an error"}
	}
	return res, nil
}

// ctxError reports that ctx ended; errors.Is(err, ctx.Err()) holds.
func ctxError(ctx context.Context, cause error) error {
	if cause == nil || errors.Is(cause, ctx.Err()) {
		if cause == nil {
			return fmt.Errorf("forge/libsql: request abandoned: %w", ctx.Err())
		}
		return fmt.Errorf("forge/libsql: %w", cause)
	}
	return fmt.Errorf("forge/libsql: request abandoned: %w (%v)", ctx.Err(), cause)
}

// httpError reads a non-2xx response: the server's JSON error when the
// body is one, else a *fetch.StatusError.
func httpError(res *fetch.Response) error {
	ct := res.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if strings.EqualFold(strings.TrimSpace(ct), "application/json") {
		if e, err := hrana.DecodeErrorBody(res.Body); err == nil {
			return &Error{Status: res.Status, Code: e.Code, Message: e.Message}
		}
	}
	return &fetch.StatusError{Status: res.Status, Body: string(res.Body)}
}

// Error is an error reported by the server: for one statement (Status 0),
// or for a whole HTTP request (Status is the HTTP status; the body was a
// JSON error such as {"message":"...","code":"STREAM_EXPIRED"}). A
// constraint violation is a *driver.ConstraintError wrapping an *Error.
type Error struct {
	Code    string // such as "SQLITE_CONSTRAINT", "SQL_PARSE_ERROR", "STREAM_EXPIRED"; may be ""
	Message string
	Status  int
}

func (e *Error) Error() string {
	s := "forge/libsql: "
	if e.Status != 0 {
		s += "HTTP " + strconv.Itoa(e.Status) + ": "
	}
	if e.Code != "" {
		s += e.Code + ": "
	}
	return s + e.Message
}

// ProtocolError reports a response that does not follow the Hrana
// protocol: not JSON, a missing field, a value of an unknown type, the
// wrong number of results.
type ProtocolError struct {
	Msg string
	Err error // a *hrana.DecodeError, when decoding failed
}

func (e *ProtocolError) Error() string {
	s := "forge/libsql: unexpected response from the server: " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *ProtocolError) Unwrap() error { return e.Err }

// stmtError turns a statement's error into forge's: constraint violations
// become *driver.ConstraintError.
func stmtError(he *hrana.Error) error {
	err := &Error{Code: he.Code, Message: he.Message}
	if he.Code == "" || strings.HasPrefix(he.Code, "SQLITE_CONSTRAINT") {
		if ce := sqliteerr.Parse(he.Message, err); ce != nil {
			return ce
		}
	}
	return err
}

// ArgError reports an argument the driver cannot send.
type ArgError struct {
	Index int // 0-based position in the arguments
	Value any
	Err   error
}

func (e *ArgError) Error() string {
	return fmt.Sprintf("forge/libsql: argument %d (%T %v): %v", e.Index+1, e.Value, e.Value, e.Err)
}

func (e *ArgError) Unwrap() error { return e.Err }

// ErrUnsupportedArg is the cause of an ArgError for a Go type the driver
// does not send.
var ErrUnsupportedArg = errors.New("unsupported argument type (want nil, int64, int32, float64, bool, string, []byte or time.Time)")

// encodeArgs converts forge's argument values to Hrana values.
func encodeArgs(args []any) ([]hrana.Value, error) {
	if len(args) == 0 {
		return nil, nil
	}
	out := make([]hrana.Value, len(args))
	for i, a := range args {
		v, err := encodeArg(a)
		if err != nil {
			return nil, &ArgError{Index: i, Value: a, Err: err}
		}
		out[i] = v
	}
	return out, nil
}

func encodeArg(a any) (hrana.Value, error) {
	switch x := a.(type) {
	case nil:
		return hrana.Value{}, nil
	case int64:
		return hrana.IntegerValue(x), nil
	case int32:
		return hrana.IntegerValue(int64(x)), nil
	case int:
		return hrana.IntegerValue(int64(x)), nil
	case int16:
		return hrana.IntegerValue(int64(x)), nil
	case int8:
		return hrana.IntegerValue(int64(x)), nil
	case uint8:
		return hrana.IntegerValue(int64(x)), nil
	case uint16:
		return hrana.IntegerValue(int64(x)), nil
	case uint32:
		return hrana.IntegerValue(int64(x)), nil
	case uint64:
		if x > math.MaxInt64 {
			return hrana.Value{}, errors.New("beyond SQLite's 64-bit signed integers")
		}
		return hrana.IntegerValue(int64(x)), nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return hrana.Value{}, errors.New("beyond SQLite's 64-bit signed integers")
		}
		return hrana.IntegerValue(int64(x)), nil
	case bool:
		if x {
			return hrana.IntegerValue(1), nil
		}
		return hrana.IntegerValue(0), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return hrana.Value{}, hrana.ErrNonFiniteFloat
		}
		return hrana.FloatValue(x), nil
	case float32:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return hrana.Value{}, hrana.ErrNonFiniteFloat
		}
		return hrana.FloatValue(f), nil
	case string:
		return hrana.TextValue(x), nil
	case []byte:
		if x == nil {
			return hrana.Value{}, nil
		}
		return hrana.BlobValue(x), nil
	case time.Time:
		return hrana.TextValue(x.UTC().Format(dialect.SQLiteTimeLayout)), nil
	}
	return hrana.Value{}, ErrUnsupportedArg
}

// toRows buffers a statement's rows as the values driver.Assign reads:
// nil, int64, float64, string, []byte.
func toRows(res *hrana.StmtResult) *driver.BufferedRows {
	cols := make([]string, len(res.Cols))
	for i, c := range res.Cols {
		if c.Name != nil {
			cols[i] = *c.Name
		}
	}
	out := &driver.BufferedRows{Cols: cols, Values: make([][]any, len(res.Rows))}
	flat := make([]any, len(res.Rows)*len(cols))
	for i, row := range res.Rows {
		vals := flat[i*len(cols) : (i+1)*len(cols) : (i+1)*len(cols)]
		for j, v := range row {
			vals[j] = v.Any()
		}
		out.Values[i] = vals
	}
	return out
}

func toResult(res *hrana.StmtResult) (driver.Result, error) {
	if res.AffectedRowCount > math.MaxInt64 {
		return driver.Result{}, &ProtocolError{Msg: "affected_row_count " + strconv.FormatUint(res.AffectedRowCount, 10) + " is beyond int64"}
	}
	out := driver.Result{RowsAffected: int64(res.AffectedRowCount)}
	if res.LastInsertRowID != nil {
		out.LastInsertID, out.HasLastInsertID = *res.LastInsertRowID, true
	}
	return out, nil
}
