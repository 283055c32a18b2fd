package d1rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/forge-orm/forge/d1"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/fetch"
)

// DefaultBaseURL is Cloudflare's API.
const DefaultBaseURL = "https://api.cloudflare.com/client/v4"

// Dialect is the SQL dialect of D1: SQLite with D1's limit of 100 bound
// parameters per statement (d1.Dialect, shared with the binding driver),
// so that forge splits multi-row inserts and relation loads to fit.
var Dialect dialect.Dialect = d1.Dialect

// Config configures a connection to one D1 database.
type Config struct {
	// AccountID is the Cloudflare account that owns the database.
	AccountID string
	// DatabaseID is the database's UUID.
	DatabaseID string
	// APIToken is an API token with D1 Read (queries) or D1 Edit (writes)
	// permission, sent as "Authorization: Bearer <token>".
	APIToken string
	// BaseURL is the API's base URL; "" means DefaultBaseURL. Tests point
	// it at a local server.
	BaseURL string
	// Fetch sends the requests (required): nethttp.New(nil) on servers
	// and in CI, jsfetch.New() under GOOS=js.
	Fetch fetch.Fetcher
}

// Conn is a forge driver over D1's REST API. It is safe for concurrent use
// and holds no session: every call is one HTTPS request.
type Conn struct {
	url    string // .../raw
	header fetch.Header
	fetch  fetch.Fetcher
	closed atomic.Bool
}

var (
	_ driver.Conn  = (*Conn)(nil)
	_ driver.Namer = (*Conn)(nil)
)

// Open returns a driver for the database cfg names. It does no I/O; a
// wrong token or id shows on the first query as an *APIError.
func Open(cfg Config) (*Conn, error) {
	for _, f := range []struct{ name, value string }{
		{"AccountID", cfg.AccountID}, {"DatabaseID", cfg.DatabaseID}, {"APIToken", cfg.APIToken},
	} {
		if strings.TrimSpace(f.value) == "" {
			return nil, &ConfigError{Field: f.name, Reason: "is required"}
		}
	}
	if strings.ContainsAny(cfg.APIToken, "\r\n") {
		return nil, &ConfigError{Field: "APIToken", Reason: "contains a line break"}
	}
	if cfg.Fetch == nil {
		return nil, &ConfigError{Field: "Fetch", Reason: "is required (nethttp.New(nil) on servers, jsfetch.New() under GOOS=js)"}
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	if !validBase(base) {
		return nil, &ConfigError{Field: "BaseURL", Reason: fmt.Sprintf("%q is not an http(s) URL with a host", base)}
	}
	base = strings.TrimRight(base, "/")
	return &Conn{
		url: base + "/accounts/" + escapeSegment(cfg.AccountID) + "/d1/database/" + escapeSegment(cfg.DatabaseID) + "/raw",
		header: fetch.Header{
			{Name: "Authorization", Value: "Bearer " + cfg.APIToken},
			{Name: "Content-Type", Value: "application/json"},
			{Name: "Accept", Value: "application/json"},
		},
		fetch: cfg.Fetch,
	}, nil
}

// DriverName implements driver.Namer.
func (c *Conn) DriverName() string { return "d1rest" }

// Dialect implements driver.Conn.
func (c *Conn) Dialect() dialect.Dialect { return Dialect }

// Close implements driver.Conn. There is nothing to release; later calls
// return ErrClosed.
func (c *Conn) Close() error {
	c.closed.Store(true)
	return nil
}

// ErrClosed is returned by calls on a closed Conn.
var ErrClosed = errors.New("forge/d1rest: the connection is closed")

// Query implements driver.Conn. The statement's rows are read whole (the
// REST API returns them at once) into a driver.BufferedRows.
func (c *Conn) Query(ctx context.Context, query string, args []any) (driver.Rows, error) {
	results, err := c.do(ctx, query, args)
	if err != nil {
		return nil, err
	}
	if len(results) != 1 {
		return nil, &ResponseError{Reason: fmt.Sprintf("%d results for one query; Query reads the rows of one statement (run scripts of several statements with Exec)", len(results))}
	}
	return newRows(results[0].columns, results[0].rows), nil
}

// Exec implements driver.Conn. RowsAffected is meta.changes (summed when
// the SQL holds several statements, which D1 runs one after the other);
// LastInsertID is meta.last_row_id for a single INSERT or REPLACE, the
// only statements whose last_row_id is their own.
func (c *Conn) Exec(ctx context.Context, query string, args []any) (driver.Result, error) {
	results, err := c.do(ctx, query, args)
	if err != nil {
		return driver.Result{}, err
	}
	var out driver.Result
	for _, r := range results {
		out.RowsAffected += r.changes
	}
	if len(results) == 1 && results[0].hasLastRowID && isInsert(query) {
		out.LastInsertID, out.HasLastInsertID = results[0].lastRowID, true
	}
	return out, nil
}

// request is the body of a /raw call.
type request struct {
	SQL    string    `json:"sql"`
	Params []*string `json:"params"`
}

// do sends one statement (or a script) and decodes the reply.
func (c *Conn) do(ctx context.Context, query string, args []any) ([]result, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	params, err := encodeArgs(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	body, err := json.Marshal(request{SQL: query, Params: params})
	if err != nil {
		return nil, fmt.Errorf("forge/d1rest: encoding the request: %w", err)
	}
	res, err := c.fetch(ctx, &fetch.Request{Method: "POST", URL: c.url, Header: c.header, Body: body})
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			return nil, fmt.Errorf("forge/d1rest: %w (%v)", ctxErr, err)
		}
		return nil, fmt.Errorf("forge/d1rest: %w", err)
	}
	if res == nil {
		return nil, &ResponseError{Reason: "the Fetcher returned no response and no error"}
	}
	return decodeResponse(res.Status, res.Body)
}

// validBase reports whether s is an http or https URL with a host and no
// query, fragment or whitespace. (net/url is not used: it would add to
// js/wasm builds.)
func validBase(s string) bool {
	rest, ok := strings.CutPrefix(s, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(s, "http://"); !ok {
			return false
		}
	}
	host, _, _ := strings.Cut(rest, "/")
	return host != "" && !strings.ContainsAny(s, "?# \t\r\n\\")
}

// escapeSegment escapes s for one segment of a URL path: every byte but
// RFC 3986's unreserved characters is percent-encoded.
func escapeSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// isInsert reports whether sql starts with INSERT or REPLACE.
func isInsert(sql string) bool {
	s := strings.TrimLeft(sql, " \t\r\n(")
	for _, kw := range []string{"INSERT", "REPLACE"} {
		if len(s) >= len(kw) && strings.EqualFold(s[:len(kw)], kw) {
			return true
		}
	}
	return false
}
