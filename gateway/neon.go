package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/forge-orm/forge/wire/jsonx"
	wire "github.com/forge-orm/forge/wire/neon"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// NeonOptions configures NewNeonHandler. The zero value applies Neon's own
// limits.
type NeonOptions struct {
	// MaxRequestBytes bounds a request body; a larger one is answered 413.
	// 0 means 10 MiB.
	MaxRequestBytes int64
	// MaxResponseBytes bounds a response body; a larger one is answered 507
	// (and a transaction rolled back). 0 means 10 MiB.
	MaxResponseBytes int
	// Logger receives failures that are the server's fault (status 5xx).
	// nil means slog.Default().
	Logger *slog.Logger
	// MaxRows bounds the rows one statement may return; a statement that
	// returns more fails with 400, code 54000 (and a transaction is rolled
	// back). 0 means no limit.
	MaxRows int
	// MaxStatements bounds the statements of a transaction request (400,
	// code 54000, beyond). 0 means no limit.
	MaxStatements int
	// StatementTimeout bounds each statement: in a transaction request it
	// is set with SET LOCAL statement_timeout, and a statement still
	// running a second after it is cancelled from the gateway (the
	// connection is then closed). A timed-out statement fails with 400,
	// code 57014. 0 means no limit. (Main also sets statement_timeout on
	// every pooled connection, which bounds single statements on the
	// server too.)
	StatementTimeout time.Duration
	// ReadOnlyPool, when set, runs read tokens' requests (inside a
	// Server): a pool whose role cannot write (--read-dsn).
	ReadOnlyPool *pgxpool.Pool
	// AcquireTimeout bounds the wait for a pooled connection (and, in a
	// Server, for the token's share of the pool): beyond it the answer is
	// 503 with code 53300 (or 429 for the token's share). 0 means no
	// bound but the request's own.
	AcquireTimeout time.Duration
	// MaxParams bounds the JSON array elements of a request (its
	// parameters and their array items), counted before the body is
	// decoded: 400 with code 54000 beyond. 0 means 262144 (four
	// statements of PostgreSQL's 65535).
	MaxParams int
}

const (
	defaultMaxBytes  = 10 << 20
	defaultMaxParams = 4 << 16
)

// NewNeonHandler returns a handler that serves Neon's SQL over HTTP on any
// path, running the statements on pool:
//
//   - POST only (405 otherwise); any Content-Type; the body is
//     {"query": ..., "params": [...]} for one statement, run on its own,
//     or {"queries": [...]} for a transaction: all statements in one
//     transaction, opened with the Neon-Batch-Isolation-Level,
//     Neon-Batch-Read-Only and Neon-Batch-Deferrable headers (an unknown
//     isolation level is 400 "invalid isolation level"), committed if every
//     statement succeeds and rolled back at the first error.
//   - Parameters are sent to PostgreSQL as text of unspecified type, as
//     Neon does; JSON non-strings become their text (see wire/neon.Param).
//   - A result is {command, rowCount, rowAsArray, fields, rows}: fields with
//     name, dataTypeID, tableID, columnID, dataTypeSize, dataTypeModifier
//     and format "text"; rowCount is null when the command tag has no
//     count. With Neon-Raw-Text-Output: true (what the JavaScript client
//     and forge's driver send) every cell is PostgreSQL's text output
//     (bool t/f, bytea \x..., timestamptz in the session's TimeZone);
//     without it, cells are typed as on Neon (bool, int2/int4 and finite
//     floats as JSON values, json as JSON, arrays as JSON arrays, the rest
//     as text). Neon-Array-Mode: true gives rows as arrays, else as
//     objects; a statement's "arrayMode" overrides it.
//   - A PostgreSQL error is 400 with {message, code (the SQLSTATE),
//     severity, detail, hint, position, where, schema, table, column,
//     dataType, constraint, file, line, routine}; a malformed request is
//     400 {message}; 413 and 507 are the size limits; a failure to reach
//     the database is 503. COPY is refused with 400: COPY ... FROM STDIN
//     would wait for data that an HTTP request cannot send. The statement
//     guard (pgguard.go) reads every statement first; a statement it
//     refuses is 403 with code 42501 (400 for one that would end a
//     transaction request).
//
// The Neon-Connection-String header, which the clients always send, is
// checked to be a postgres:// URL when present and otherwise ignored: the
// handler serves pool's database. The handler does not authenticate.
//
// Statements run on pooled connections whose session is reset (DISCARD
// ALL's work) after every request: nothing a request sets, prepares,
// listens to, locks or creates as temporary reaches the next one. Use SET
// LOCAL inside a transaction request.
func NewNeonHandler(pool *pgxpool.Pool, opts NeonOptions) http.Handler {
	h := &neonHandler{pool: pool, maxReq: opts.MaxRequestBytes, maxResp: opts.MaxResponseBytes, log: opts.Logger,
		maxRows: opts.MaxRows, maxStatements: opts.MaxStatements, timeout: opts.StatementTimeout,
		readPool: opts.ReadOnlyPool, acquireTimeout: opts.AcquireTimeout, maxParams: opts.MaxParams}
	if h.maxParams <= 0 {
		h.maxParams = defaultMaxParams
	}
	if h.maxReq <= 0 {
		h.maxReq = defaultMaxBytes
	}
	if h.maxResp <= 0 {
		h.maxResp = defaultMaxBytes
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h
}

type neonHandler struct {
	pool           *pgxpool.Pool
	maxReq         int64
	maxResp        int
	log            *slog.Logger
	maxRows        int
	maxStatements  int
	timeout        time.Duration
	metrics        *metrics      // nil when not inside a Server
	readPool       *pgxpool.Pool // read tokens' pool (--read-dsn); nil: pool
	acquireTimeout time.Duration // 0: no bound
	maxParams      int
}

func (h *neonHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, r, h.log, &httpError{status: http.StatusMethodNotAllowed,
			body: &wire.Error{Message: "method " + r.Method + " is not allowed: send the SQL in a POST"}})
		return
	}
	opts, he := parseNeonHeaders(r.Header)
	if he != nil {
		writeError(w, r, h.log, he)
		return
	}
	body, he := readBody(w, r, h.maxReq)
	if he != nil {
		writeError(w, r, h.log, he)
		return
	}
	if n, ok := jsonArraysWithin(body, h.maxParams); !ok {
		writeError(w, r, h.log, &httpError{status: http.StatusBadRequest, body: &wire.Error{Code: "54000",
			Message: "the request has more than " + strconv.Itoa(n) + " parameters (counting array items); this gateway takes at most " + strconv.Itoa(n) + " in one request"}})
		return
	}
	req, err := wire.DecodeRequest(body)
	if err != nil {
		writeError(w, r, h.log, badRequest(requestMessage(err)))
		return
	}
	if h.maxStatements > 0 && len(req.Queries) > h.maxStatements {
		writeError(w, r, h.log, &httpError{status: http.StatusBadRequest, body: &wire.Error{Code: "54000",
			Message: strconv.Itoa(len(req.Queries)) + " statements in one request; this gateway runs at most " + strconv.Itoa(h.maxStatements)}})
		return
	}
	readOnly := false
	var who *principal
	if pol := policyFrom(r.Context()); pol != nil {
		readOnly, who = pol.role == RoleRead, pol.principal
		if pol.statements != nil {
			for i := range req.Queries {
				sql, msg, ok := pol.statements.resolve(req.Queries[i].Query)
				if !ok {
					writeError(w, r, h.log, &httpError{status: http.StatusForbidden, body: &wire.Error{Message: msg, Code: "42501"}})
					return
				}
				req.Queries[i].Query = sql
			}
		}
	}
	out, he := h.run(r.Context(), req, opts, readOnly, who)
	if he != nil {
		if he.status == http.StatusTooManyRequests || he.status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		writeError(w, r, h.log, he)
		return
	}
	if req.Transaction {
		for name, v := range opts.echo {
			w.Header().Set(name, v)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func requestMessage(err error) string {
	var re *wire.RequestError
	if errors.As(err, &re) {
		return "invalid request: " + re.Msg
	}
	return "invalid request: " + err.Error()
}

// neonOptions are a request's options, read from its headers.
type neonOptions struct {
	raw, arrayMode bool
	readOnly       bool              // Neon-Batch-Read-Only: true
	begin          string            // the statement that opens a transaction request
	echo           map[string]string // the batch headers a transaction response repeats
}

// parseNeonHeaders reads a request's headers as Neon's server does: a
// boolean header is on only when exactly "true".
func parseNeonHeaders(h http.Header) (*neonOptions, *httpError) {
	o := &neonOptions{
		raw:       wire.HeaderTrue(h.Get(wire.HeaderRawTextOutput)),
		arrayMode: wire.HeaderTrue(h.Get(wire.HeaderArrayMode)),
		begin:     "START TRANSACTION",
		echo:      map[string]string{},
	}
	if cs := h.Get(wire.HeaderConnectionString); cs != "" {
		if u, err := url.Parse(cs); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return nil, badRequest("invalid connection string: want postgres://user@host/database in " + wire.HeaderConnectionString)
		}
	}
	var modes []string
	if level, ok := h[http.CanonicalHeaderKey(wire.HeaderBatchIsolationLevel)]; ok {
		sql, known := wire.IsolationSQL(level[0])
		if len(level) != 1 || !known {
			return nil, badRequest("invalid isolation level")
		}
		modes = append(modes, "ISOLATION LEVEL "+sql)
		o.echo[wire.HeaderBatchIsolationLevel] = level[0]
	}
	if wire.HeaderTrue(h.Get(wire.HeaderBatchReadOnly)) {
		o.readOnly = true
		modes = append(modes, "READ ONLY")
		o.echo[wire.HeaderBatchReadOnly] = "true"
	}
	if wire.HeaderTrue(h.Get(wire.HeaderBatchDeferrable)) {
		modes = append(modes, "DEFERRABLE")
		o.echo[wire.HeaderBatchDeferrable] = "true"
	}
	for i, m := range modes {
		if i > 0 {
			o.begin += ","
		}
		o.begin += " " + m
	}
	return o, nil
}

// run runs a request on one pooled connection and returns the response
// body. readOnly (a read token's request) runs even a single statement in
// a READ ONLY transaction, which is rolled back at the end.
//
// A request that failed before PostgreSQL could have run any of it (the
// pooled connection was found dead when writing, as after a restart) is
// run once more on another connection: nothing of it was applied.
func (h *neonHandler) run(ctx context.Context, req *wire.Request, opts *neonOptions, readOnly bool, who *principal) ([]byte, *httpError) {
	for i, q := range req.Queries {
		if len(q.Params) > math.MaxUint16 {
			return nil, badRequest("statement " + strconv.Itoa(i) + " has " + strconv.Itoa(len(q.Params)) + " parameters; PostgreSQL takes at most 65535")
		}
		if why, bad := guardPostgres(q.Query, readOnly, req.Transaction); why != "" {
			if bad {
				return nil, badRequest("statement " + strconv.Itoa(i) + ": " + why)
			}
			return nil, &httpError{status: http.StatusForbidden, body: &wire.Error{Code: "42501", Message: "statement " + strconv.Itoa(i) + ": " + why}}
		}
	}
	var deadline time.Time
	if h.acquireTimeout > 0 {
		deadline = time.Now().Add(h.acquireTimeout)
	}
	if who != nil {
		// The token's share of the pool: one token cannot take every
		// connection, and waits at most the acquire timeout for its own.
		if he := waitSlot(ctx, who.pg, deadline); he != nil {
			if he.status == http.StatusTooManyRequests {
				he.body.Message = "token \"" + who.name + "\" already holds its share of the PostgreSQL pool (" + strconv.Itoa(cap(who.pg)) +
					" connections) and none was freed within " + h.acquireTimeout.String() + "; retry later"
			}
			return nil, he
		}
		defer func() { <-who.pg }()
	}
	for attempt := 0; ; attempt++ {
		out, err := h.runOnce(ctx, req, opts, readOnly, deadline)
		if err == nil {
			return out, nil
		}
		if attempt == 0 && ctx.Err() == nil && pgconn.SafeToRetry(err) {
			continue
		}
		return nil, pgError(ctx, err)
	}
}

func (h *neonHandler) runOnce(ctx context.Context, req *wire.Request, opts *neonOptions, readOnly bool, deadline time.Time) ([]byte, error) {
	pool := h.pool
	if readOnly && h.readPool != nil {
		pool = h.readPool
	}
	actx := ctx
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		actx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	s, err := acquire(actx, pool)
	if err != nil {
		if ctx.Err() == nil && actx.Err() != nil {
			return nil, &httpError{status: http.StatusServiceUnavailable, body: &wire.Error{Code: "53300",
				Message: "no PostgreSQL connection was free within " + h.acquireTimeout.String() + " (the pool's " +
					strconv.Itoa(int(pool.Config().MaxConns)) + " are busy); retry later"}, cause: err}
		}
		return nil, err
	}
	// The session is reset and the connection pooled again in the
	// background, once the answer is known: the client does not wait for
	// the reset, and no request gets the connection before it is done.
	defer func() {
		go func() {
			s.resetSession(ctx)
			s.release()
		}()
	}()
	enc := &neonEncoder{raw: opts.raw, max: h.maxResp, maxRows: h.maxRows, timeout: h.timeout}
	if !req.Transaction && !readOnly {
		if err := enc.query(ctx, s, req.Queries[0], opts.arrayMode); err != nil {
			return nil, err
		}
		return enc.b, nil
	}
	begin := opts.begin
	if readOnly && !opts.readOnly {
		if begin == "START TRANSACTION" {
			begin += " READ ONLY"
		} else {
			begin += ", READ ONLY"
		}
	}
	if h.timeout > 0 {
		begin += "; SET LOCAL statement_timeout = " + strconv.FormatInt(max(h.timeout.Milliseconds(), 1), 10)
	}
	if readOnly {
		// Take the transaction's snapshot now: from here on PostgreSQL
		// refuses SET TRANSACTION READ WRITE, which it would otherwise
		// accept as a transaction's first statement.
		begin += "; SELECT 1"
	}
	if err := s.simple(ctx, begin); err != nil {
		return nil, err
	}
	if req.Transaction {
		enc.b = append(enc.b, `{"results":[`...)
	}
	for i, q := range req.Queries {
		if i > 0 {
			enc.b = append(enc.b, ',')
		}
		err := enc.query(ctx, s, q, opts.arrayMode)
		if err == nil && s.pg.TxStatus() != 'T' {
			err = badRequest("statement " + strconv.Itoa(i) + " ended the transaction: a transaction request must not COMMIT or ROLLBACK")
		}
		if err != nil {
			s.rollback(ctx)
			return nil, err
		}
	}
	if !readOnly {
		tag, err := s.exec(ctx, "COMMIT")
		if err != nil {
			s.rollback(ctx)
			return nil, err
		}
		if tag != "COMMIT" {
			return nil, badRequest("the transaction was rolled back (" + tag + ")")
		}
	}
	if req.Transaction {
		enc.b = append(enc.b, "]}"...)
	}
	return enc.b, nil
}

// simple runs statements without parameters in one round trip (the
// simple query protocol).
func (s *session) simple(ctx context.Context, sql string) error {
	stop := s.watch(ctx)
	_, err := s.pg.Exec(ctx, sql).ReadAll()
	stop()
	return err
}

// sessionReset undoes in one round trip whatever a request may have left
// on its connection's session: open cursors, SET ROLE and SET SESSION
// AUTHORIZATION, every setting (back to the connection's startup values),
// LISTEN, session advisory locks, cached plans, sequence state and
// temporary objects: DISCARD ALL but for DEALLOCATE ALL, which
// resetSession adds, or, on a pool whose pgx statement cache is on (not
// OpenPostgres's), runs through pgx so that the cache stays true.
// (DISCARD ALL itself cannot follow a ROLLBACK in one message.)
const sessionReset = "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; " +
	"SELECT pg_catalog.pg_advisory_unlock_all(); DISCARD PLANS; DISCARD SEQUENCES; DISCARD TEMP"

// resetSession ends the request's transaction, if one is open (a read
// token's read-only transaction has nothing to commit), and resets the
// connection's session, for every token, so that nothing a request did
// (SET, PREPARE, LISTEN, locks, temporary tables) reaches the next request
// on the pooled connection. A connection where this fails is closed.
func (s *session) resetSession(ctx context.Context) {
	if s.poison || s.pg.IsClosed() {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	sql := sessionReset
	if s.pg.TxStatus() != 'I' {
		sql = "ROLLBACK; " + sql
	}
	cc := s.conn.Conn().Config()
	pgxCache := cc.StatementCacheCapacity > 0 || cc.DescriptionCacheCapacity > 0
	if !pgxCache {
		sql += "; DEALLOCATE ALL"
	}
	if _, err := s.pg.Exec(rctx, sql).ReadAll(); err != nil {
		s.poison = true
		return
	}
	if pgxCache {
		if err := s.conn.Conn().DeallocateAll(rctx); err != nil {
			s.poison = true
		}
	}
}

// leadingKeyword returns the first word of sql after white space and
// comments (-- to the end of the line, and nested /* */).
func leadingKeyword(sql string) string {
	i := 0
	for i < len(sql) {
		switch c := sql[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == '(':
			i++
		case strings.HasPrefix(sql[i:], "--"):
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				return ""
			}
			i += j + 1
		case strings.HasPrefix(sql[i:], "/*"):
			depth := 0
			for i < len(sql) {
				if strings.HasPrefix(sql[i:], "/*") {
					depth++
					i += 2
				} else if strings.HasPrefix(sql[i:], "*/") {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
		default:
			j := i
			for j < len(sql) && (sql[j] >= 'a' && sql[j] <= 'z' || sql[j] >= 'A' && sql[j] <= 'Z') {
				j++
			}
			return sql[i:j]
		}
	}
	return ""
}

// exec runs a statement without parameters and returns its command tag.
func (s *session) exec(ctx context.Context, sql string) (string, error) {
	stop := s.watch(ctx)
	tag, err := s.pg.ExecParams(ctx, sql, nil, nil, nil, nil).Close()
	stop()
	return tag.String(), err
}

// rollback ends a failed transaction; a connection that cannot roll back
// is closed rather than reused.
func (s *session) rollback(ctx context.Context) {
	if s.pg.IsClosed() || s.pg.TxStatus() == 'I' {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := s.pg.ExecParams(rctx, "ROLLBACK", nil, nil, nil, nil).Close(); err != nil {
		s.poison = true
	}
}

// neonEncoder writes results as JSON, within a size budget.
type neonEncoder struct {
	b       []byte
	raw     bool
	max     int
	maxRows int           // 0: no limit
	timeout time.Duration // 0: no limit
}

// query runs one statement and appends its result.
func (e *neonEncoder) query(ctx context.Context, s *session, q wire.Query, arrayMode bool) (err error) {
	if q.ArrayMode != nil {
		arrayMode = *q.ArrayMode
	}
	params := make([][]byte, len(q.Params))
	for i, p := range q.Params {
		if p.Valid {
			params[i] = append(make([]byte, 0, len(p.Text)), p.Text...) // non-nil even when empty: NULL is nil
		}
	}
	if e.timeout > 0 {
		// PostgreSQL's statement_timeout ends the statement; this is the
		// backstop for a connection where it was turned off.
		parent := ctx
		qctx, cancel := context.WithTimeout(ctx, e.timeout+time.Second)
		defer cancel()
		defer func() {
			if err != nil && parent.Err() == nil && qctx.Err() != nil {
				err = &httpError{status: http.StatusBadRequest, body: &wire.Error{Code: "57014",
					Message: "canceling statement due to statement timeout (the gateway's limit is " + e.timeout.String() + ")"}, cause: err}
			}
		}()
		ctx = qctx
	}
	stop := s.watch(ctx)
	defer stop()
	rr := s.pg.ExecParams(ctx, q.Query, params, nil, nil, nil)
	fds := rr.FieldDescriptions()
	fields := make([]wire.Field, len(fds))
	for i, fd := range fds {
		fields[i] = wire.Field{Name: fd.Name, DataTypeID: fd.DataTypeOID, TableID: fd.TableOID, ColumnID: int(fd.TableAttributeNumber),
			DataTypeSize: int(fd.DataTypeSize), DataTypeModifier: fd.TypeModifier, Format: "text"}
	}
	fj, jerr := json.Marshal(fields)
	if jerr != nil {
		err = jerr
		_, _ = rr.Close()
		return err
	}
	e.b = append(e.b, `{"rowAsArray":`...)
	e.b = strconv.AppendBool(e.b, arrayMode)
	e.b = append(e.b, `,"fields":`...)
	e.b = append(e.b, fj...)
	e.b = append(e.b, `,"rows":[`...)
	for n := 0; rr.NextRow(); n++ {
		if e.maxRows > 0 && n >= e.maxRows {
			_, _ = rr.Close()
			return &httpError{status: http.StatusBadRequest, body: &wire.Error{Code: "54000",
				Message: "the statement returned more than " + strconv.Itoa(e.maxRows) + " rows, the gateway's limit: add a LIMIT"}}
		}
		if n > 0 {
			e.b = append(e.b, ',')
		}
		if rerr := e.row(fds, rr.Values(), arrayMode); rerr != nil {
			_, _ = rr.Close()
			return rerr
		}
		if len(e.b) > e.max {
			_, _ = rr.Close()
			return &httpError{status: http.StatusInsufficientStorage,
				body: &wire.Error{Message: "response is too large (max is " + strconv.Itoa(e.max) + " bytes)"}}
		}
	}
	tag, cerr := rr.Close()
	if cerr != nil {
		return cerr
	}
	command, count := wire.ParseCommandTag(tag.String())
	e.b = append(e.b, `],"command":`...)
	e.b = jsonx.AppendString(e.b, command)
	e.b = append(e.b, `,"rowCount":`...)
	if count == nil {
		e.b = append(e.b, "null"...)
	} else {
		e.b = strconv.AppendInt(e.b, *count, 10)
	}
	e.b = append(e.b, '}')
	return nil
}

// row appends one row: an array or an object of cells.
func (e *neonEncoder) row(fds []pgconn.FieldDescription, vals [][]byte, arrayMode bool) error {
	if arrayMode {
		e.b = append(e.b, '[')
	} else {
		e.b = append(e.b, '{')
	}
	for i, v := range vals {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		if !arrayMode {
			e.b = jsonx.AppendString(e.b, fds[i].Name)
			e.b = append(e.b, ':')
		}
		switch {
		case v == nil:
			e.b = append(e.b, "null"...)
		case e.raw:
			e.b = jsonx.AppendString(e.b, v)
		default:
			var err error
			if e.b, err = appendTyped(e.b, fds[i].DataTypeOID, v, 0); err != nil {
				return &httpError{status: http.StatusInternalServerError,
					body: &wire.Error{Message: "could not parse postgres response"}, cause: err}
			}
		}
	}
	if arrayMode {
		e.b = append(e.b, ']')
	} else {
		e.b = append(e.b, '}')
	}
	return nil
}

var typeMap = pgtype.NewMap()

// arrayOf returns the element type and delimiter of an array type.
func arrayOf(oid uint32) (elem uint32, delim byte, ok bool) {
	t, found := typeMap.TypeForOID(oid)
	if !found {
		return 0, 0, false
	}
	ac, isArray := t.Codec.(*pgtype.ArrayCodec)
	if !isArray || ac.ElementType == nil {
		return 0, 0, false
	}
	if ac.ElementType.OID == pgtype.BoxOID {
		return ac.ElementType.OID, ';', true
	}
	return ac.ElementType.OID, ',', true
}

// appendTyped appends a cell as Neon does without raw text output: bool,
// int2, int4 and finite floats as JSON values; json and jsonb as JSON;
// arrays as JSON arrays of such values; everything else as text.
func appendTyped(b []byte, oid uint32, v []byte, depth int) ([]byte, error) {
	if elem, delim, ok := arrayOf(oid); ok {
		return appendArray(b, v, elem, delim, depth)
	}
	switch oid {
	case pgtype.BoolOID:
		return strconv.AppendBool(b, string(v) == "t"), nil
	case pgtype.Int2OID, pgtype.Int4OID:
		n, err := strconv.ParseInt(string(v), 10, 32)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(b, n, 10), nil
	case pgtype.Float4OID, pgtype.Float8OID:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, err
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return jsonx.AppendString(b, v), nil
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64), nil
	case pgtype.JSONOID, pgtype.JSONBOID:
		if !json.Valid(v) {
			return nil, errors.New("invalid JSON from the database")
		}
		return append(b, v...), nil
	}
	return jsonx.AppendString(b, v), nil
}

// appendArray appends PostgreSQL's text output of an array as a JSON
// array (nested for several dimensions; bounds decoration dropped).
func appendArray(b []byte, s []byte, elem uint32, delim byte, depth int) ([]byte, error) {
	if len(s) > 0 && s[0] == '[' {
		i := bytes.IndexByte(s, '=')
		if i < 0 {
			return nil, errors.New("unbalanced array")
		}
		s = s[i+1:]
	}
	b, rest, err := appendArrayLevel(b, bytes.TrimLeft(s, " "), elem, delim, depth)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("unbalanced array")
	}
	return b, nil
}

func appendArrayLevel(b, s []byte, elem uint32, delim byte, depth int) ([]byte, []byte, error) {
	if depth > 64 {
		return nil, nil, errors.New("array nested too deeply")
	}
	if len(s) == 0 || s[0] != '{' {
		return nil, nil, errors.New("unbalanced array")
	}
	s = bytes.TrimLeft(s[1:], " ")
	b = append(b, '[')
	if len(s) > 0 && s[0] == '}' {
		return append(b, ']'), bytes.TrimLeft(s[1:], " "), nil
	}
	var item []byte
	for n := 0; ; n++ {
		if n > 0 {
			b = append(b, ',')
		}
		s = bytes.TrimLeft(s, " ")
		var err error
		switch {
		case len(s) == 0:
			return nil, nil, errors.New("unbalanced array")
		case s[0] == '{':
			if b, s, err = appendArrayLevel(b, s, elem, delim, depth+1); err != nil {
				return nil, nil, err
			}
		case s[0] == '"':
			item = item[:0]
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
					if i == len(s) {
						break
					}
				}
				item = append(item, s[i])
			}
			if i >= len(s) {
				return nil, nil, errors.New("unbalanced quoted string")
			}
			s = bytes.TrimLeft(s[i+1:], " ")
			if b, err = appendTyped(b, elem, item, depth+1); err != nil {
				return nil, nil, err
			}
		default:
			i := 0
			for i < len(s) && s[i] != delim && s[i] != '}' {
				i++
			}
			if i == len(s) {
				return nil, nil, errors.New("unbalanced array")
			}
			v := bytes.TrimRight(s[:i], " ")
			s = s[i:]
			if string(v) == "NULL" {
				b = append(b, "null"...)
			} else if b, err = appendTyped(b, elem, v, depth+1); err != nil {
				return nil, nil, err
			}
		}
		if len(s) > 0 && s[0] == delim {
			s = s[1:]
			continue
		}
		break
	}
	if len(s) == 0 || s[0] != '}' {
		return nil, nil, errors.New("unbalanced array")
	}
	return append(b, ']'), bytes.TrimLeft(s[1:], " "), nil
}

// waitSlot takes a slot of sem, waiting until deadline (zero: until ctx
// ends). It answers 429 when the deadline passed first.
func waitSlot(ctx context.Context, sem chan struct{}, deadline time.Time) *httpError {
	select {
	case sem <- struct{}{}:
		return nil
	default:
	}
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case sem <- struct{}{}:
		return nil
	case <-timeout:
		return &httpError{status: http.StatusTooManyRequests, body: &wire.Error{Code: "TOO_MANY_REQUESTS", Message: "too many requests"}}
	case <-ctx.Done():
		return pgError(ctx, ctx.Err())
	}
}

// jsonArraysWithin reports whether the JSON text body holds at most max
// array elements in all (parameters, array parameters' items, statements),
// reading it without decoding or allocating, so that a body of millions of
// tiny parameters is refused before any is decoded. It returns max. A
// malformed body passes: the decoder refuses it.
func jsonArraysWithin(body []byte, limit int) (int, bool) {
	n := 0
	var stack []bool // per open bracket: is it an array?
	empty := false   // just after '[': the array has no element yet
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			for i++; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			if empty {
				n++
			}
			stack = append(stack, c == '[')
			empty = c == '['
			if len(stack) > 10000 {
				return limit, false // deeper than encoding/json decodes
			}
			if n > limit {
				return limit, false
			}
			continue
		case ']', '}':
			empty = false
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			continue
		case ',':
			if len(stack) > 0 && stack[len(stack)-1] {
				n++
				if n > limit {
					return limit, false
				}
			}
			continue
		}
		if empty {
			n++
			empty = false
			if n > limit {
				return limit, false
			}
		}
	}
	return limit, true
}
