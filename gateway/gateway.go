// Package gateway is forge's HTTP SQL gateway: it serves the HTTP
// protocols of serverless database clients in front of a private
// database, so that those clients (and forge's own HTTP drivers) can reach
// a database that only speaks its own wire protocol:
//
//   - Neon's SQL over HTTP (POST /sql), as the neon() function of
//     @neondatabase/serverless 1.2 and forge's neon driver speak it, in
//     front of PostgreSQL;
//   - Hrana over HTTP (POST /v2/pipeline and /v3/pipeline, JSON), as
//     @libsql/client 0.18 and forge's libsql driver speak it, in front of
//     SQLite.
//
// Run it as a command with Main (forge gateway, or cmd/forge-gateway), or
// embed a Server:
//
//	srv, err := gateway.NewServer(gateway.Config{
//		Postgres: pool,
//		Tokens:   []gateway.Token{{Name: "app", Secret: secret, Role: gateway.RoleWrite}},
//	})
//	http.ListenAndServe("127.0.0.1:8080", srv)
//
// The Server authenticates every request but /healthz with a bearer token,
// runs a read token's statements where the database itself refuses writes,
// bounds bodies, statements, rows, time and concurrency, and logs and
// counts every request (see README.md). NewNeonHandler is the bare Neon
// handler, without authentication.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

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
	if p := policyFrom(r.Context()); p != nil && p.log != nil {
		log = p.log
	}
	if e.status >= 500 && log != nil {
		log.ErrorContext(r.Context(), "gateway: request failed", "path", r.URL.Path, "status", e.status, "error", e.cause)
	}
	code := e.body.Code
	if code == "" {
		code = strconv.Itoa(e.status)
	}
	noteErrorCode(w, code)
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
			return nil, &httpError{status: http.StatusRequestEntityTooLarge, body: &wire.Error{Code: "REQUEST_TOO_LARGE",
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
		if unavailableCode(pe.Code) {
			return &httpError{status: http.StatusServiceUnavailable, body: e, cause: err}
		}
		return &httpError{status: http.StatusBadRequest, body: e}
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &httpError{status: http.StatusBadRequest, body: &wire.Error{Message: "Query cancelled, connection was terminated", Code: "08P01"}, cause: err}
	}
	// Not an error of the statement: the connection failed (the server
	// went away, restarts, refuses connections). The request can be sent
	// again once the database is back.
	return &httpError{status: http.StatusServiceUnavailable, body: &wire.Error{Message: "the database is unavailable: " + err.Error(), Code: "08006"}, cause: err}
}

// unavailableCode reports SQLSTATEs that mean the database, not the
// statement, failed: connection exceptions (class 08, but for 08P01,
// protocol_violation, which a statement's bad parameters also give), the
// server shutting down or starting (57P01-57P03), too many connections
// (53300).
func unavailableCode(code string) bool {
	return strings.HasPrefix(code, "08") && code != "08P01" || code == "57P01" || code == "57P02" || code == "57P03" || code == "53300"
}

// session is one pooled connection held for one request.
type session struct {
	conn   *pgxpool.Conn
	pg     *pgconn.PgConn
	poison bool // a cancel request was sent: the connection must not be reused
}

func acquire(ctx context.Context, pool *pgxpool.Pool) (*session, error) {
	if pool == nil {
		return nil, &httpError{status: http.StatusInternalServerError, body: &wire.Error{Message: "the gateway has no database pool"}, cause: errors.New("nil *pgxpool.Pool")}
	}
	c, err := pool.Acquire(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, pgError(ctx, err)
		}
		return nil, &httpError{status: http.StatusServiceUnavailable, body: &wire.Error{Message: "could not connect to the database: " + err.Error(), Code: "08006"}, cause: err}
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
