// Package gateway is forge's HTTP SQL gateway: it serves the HTTP
// protocols of serverless database clients in front of a PostgreSQL pool,
// so that those clients (and forge's own HTTP drivers) can reach a database
// that only speaks the PostgreSQL wire protocol.
//
// Each protocol is one http.Handler, bound to one pgxpool.Pool:
//
//	pool, err := pgxpool.New(ctx, "postgres://app@127.0.0.1/app")
//	http.Handle("/sql", gateway.NewNeonHandler(pool, gateway.NeonOptions{}))
//
// NewNeonHandler serves Neon's SQL over HTTP, as the neon() function of
// @neondatabase/serverless 1.2 and forge's neon driver speak it.
//
// The handlers do not authenticate: put them behind whatever guards the
// database (a private network, an authenticating proxy) until the gateway
// grows its own tokens.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	wire "github.com/forge-orm/forge/wire/neon"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// httpError is a failure answered with a status and a JSON error body.
type httpError struct {
	status int
	body   *wire.Error
	cause  error // logged for 5xx
}

func (e *httpError) Error() string { return e.body.Message }

func badRequest(msg string) *httpError {
	return &httpError{status: http.StatusBadRequest, body: &wire.Error{Message: msg}}
}

// writeJSON writes a JSON response.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError writes e's JSON body with its status, logging server faults.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, e *httpError) {
	if e.status >= 500 && log != nil {
		log.ErrorContext(r.Context(), "gateway: request failed", "path", r.URL.Path, "status", e.status, "error", e.cause)
	}
	b, err := json.Marshal(e.body)
	if err != nil { // strings only: cannot happen
		b = []byte(`{"message":"internal error"}`)
	}
	writeJSON(w, e.status, b)
}

// readBody reads the whole request body, at most max bytes.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, *httpError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, &httpError{status: http.StatusRequestEntityTooLarge, body: &wire.Error{
				Message: "request is too large (max is " + strconv.FormatInt(max, 10) + " bytes)"}}
		}
		return nil, badRequest("could not read the request body: " + err.Error())
	}
	return body, nil
}

// pgError turns an error from running SQL into the response the protocol
// gives: a PostgreSQL error is 400 with every field PostgreSQL reported; a
// cancelled request is 400 as on Neon; anything else (a broken
// connection) is 500.
func pgError(ctx context.Context, err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		e := &wire.Error{
			Message: pe.Message, Code: pe.Code, Severity: pe.Severity, Detail: pe.Detail, Hint: pe.Hint,
			InternalQuery: pe.InternalQuery, Where: pe.Where, Schema: pe.SchemaName, Table: pe.TableName,
			Column: pe.ColumnName, DataType: pe.DataTypeName, Constraint: pe.ConstraintName,
			File: pe.File, Routine: pe.Routine,
		}
		if pe.Position != 0 {
			e.Position = strconv.Itoa(int(pe.Position))
		}
		if pe.InternalPosition != 0 {
			e.InternalPosition = strconv.Itoa(int(pe.InternalPosition))
		}
		if pe.Line != 0 {
			e.Line = strconv.Itoa(int(pe.Line))
		}
		return &httpError{status: http.StatusBadRequest, body: e}
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &httpError{status: http.StatusBadRequest, body: &wire.Error{Message: "Query cancelled, connection was terminated", Code: "08P01"}, cause: err}
	}
	return &httpError{status: http.StatusInternalServerError, body: &wire.Error{Message: "database error: " + err.Error()}, cause: err}
}

// session is one pooled connection held for one request.
type session struct {
	conn   *pgxpool.Conn
	pg     *pgconn.PgConn
	poison bool // a cancel request was sent: the connection must not be reused
}

func acquire(ctx context.Context, pool *pgxpool.Pool) (*session, *httpError) {
	if pool == nil {
		return nil, &httpError{status: http.StatusInternalServerError, body: &wire.Error{Message: "the gateway has no database pool"}, cause: errors.New("nil *pgxpool.Pool")}
	}
	c, err := pool.Acquire(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, pgError(ctx, err)
		}
		return nil, &httpError{status: http.StatusInternalServerError, body: &wire.Error{Message: "could not connect to the database"}, cause: err}
	}
	return &session{conn: c, pg: c.Conn().PgConn()}, nil
}

// release returns the connection to the pool, or closes it when it may
// receive a stray cancel. The pool itself drops a connection left in a
// transaction or broken.
func (s *session) release() {
	if s.poison {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.conn.Conn().Close(ctx)
		cancel()
	}
	s.conn.Release()
}

// watch asks PostgreSQL to cancel the running statement when ctx ends (the
// client went away), so the server stops working for nobody. The returned
// func stops watching; once the cancel was sent, the connection is marked
// for closing, since a late cancel could hit its next statement.
func (s *session) watch(ctx context.Context) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	stopFn := context.AfterFunc(ctx, func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.pg.CancelRequest(cctx)
	})
	return func() {
		if !stopFn() {
			s.poison = true
		}
	}
}

// appendString appends s (text or bytes) as a JSON string. Bytes that are
// not UTF-8 (from a SQL_ASCII database, say) become U+FFFD, as JSON holds
// text only.
func appendString[S ~string | ~[]byte](b []byte, s S) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
