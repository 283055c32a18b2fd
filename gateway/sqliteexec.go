package gateway

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/forge-orm/forge/wire/hrana"
	msqlite "modernc.org/sqlite"
)

// sqliteConn is a stream's SQLite connection, pinned for the stream's
// life.
type sqliteConn struct {
	c     *sql.Conn
	role  Role
	total int64 // total_changes() after the last statement
	used  bool  // a statement ran: roll back whatever it left open on release
	dirty bool  // session state may have changed: close it on release instead of pooling it
	roTx  bool  // in a BEGIN TRANSACTION READONLY (PRAGMA query_only is on)

	// The authorizer's state (see sqliteauth.go). It runs while a
	// statement is prepared, on the goroutine that holds the stream.
	internal bool   // the gateway's own statements: not checked
	denied   string // why the authorizer refused the statement, for its error
}

// SQLite's limit ids (sqlite3_limit).
const (
	sqliteLimitLength   = 0 // SQLITE_LIMIT_LENGTH: the largest string or blob
	sqliteLimitAttached = 7 // SQLITE_LIMIT_ATTACHED
)

// openSQLiteConn pins a connection of db for a stream of a token of role,
// with the gateway's authorizer and limits: no attached database, and no
// string or blob longer than maxValue bytes (so that no statement builds
// values larger than a request or a response may hold).
func openSQLiteConn(ctx context.Context, db *sql.DB, role Role, maxValue int) (*sqliteConn, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	// No ATTACH: it would create or open any file the gateway can reach
	// (the authorizer refuses it too, with a clearer message).
	if _, err := msqlite.Limit(c, sqliteLimitAttached, 0); err != nil {
		_ = c.Close()
		return nil, err
	}
	if _, err := msqlite.Limit(c, sqliteLimitLength, maxValue); err != nil {
		_ = c.Close()
		return nil, err
	}
	sc := &sqliteConn{c: c, role: role}
	err = c.Raw(func(dc any) error {
		r, ok := baseConn(dc).(msqlite.AuthorizerRegisterer)
		if !ok {
			return errors.New("the SQLite driver has no authorizer")
		}
		return r.RegisterAuthorizer(sc.authorize)
	})
	if err == nil {
		var vals []driver.Value
		vals, err = sc.internalQuery(ctx, "SELECT total_changes()")
		if err == nil {
			sc.total, _ = vals[0].(int64)
		}
	}
	if err != nil {
		_ = c.Raw(func(any) error { return driver.ErrBadConn }) // closes it
		_ = c.Close()
		return nil, err
	}
	return sc, nil
}

// internalQuery runs one of the gateway's own statements (not checked by
// the authorizer) and returns its first row.
func (sc *sqliteConn) internalQuery(ctx context.Context, sql string) (vals []driver.Value, err error) {
	sc.internal = true
	defer func() { sc.internal = false }()
	err = sc.raw(func(q driver.QueryerContext) error {
		vals, err = queryRow(ctx, q, sql)
		return err
	})
	return vals, err
}

// raw runs fn on the driver's connection.
func (sc *sqliteConn) raw(fn func(q driver.QueryerContext) error) error {
	return sc.c.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return errors.New("the SQLite driver cannot run queries")
		}
		return fn(q)
	})
}

// queryRow runs a statement without arguments and returns its first row.
func queryRow(ctx context.Context, q driver.QueryerContext, sql string) ([]driver.Value, error) {
	rows, err := q.QueryContext(ctx, sql, nil)
	if err != nil {
		return nil, err
	}
	vals := make([]driver.Value, len(rows.Columns()))
	err = rows.Next(vals)
	for err == nil {
		err = rows.Next(make([]driver.Value, len(vals)))
	}
	cerr := rows.Close()
	if err != io.EOF {
		return nil, err
	}
	return vals, cerr
}

// release gives the connection back to its pool: it rolls back what the
// stream left open, and a connection whose session state a statement may
// have changed (PRAGMA, temporary objects, a failed rollback) is closed
// rather than handed to another token.
func (sc *sqliteConn) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	bad := sc.dirty || sc.roTx
	if sc.used && !bad {
		_, err := sc.internalQuery(ctx, "ROLLBACK")
		if err != nil && !strings.Contains(err.Error(), "no transaction is active") {
			bad = true
		}
	}
	if sc.used && !bad {
		// The authorizer marks a connection that created anything in the
		// temp schema dirty; this checks that nothing is left there all
		// the same before another token gets the connection.
		vals, err := sc.internalQuery(ctx, "SELECT count(*) FROM temp.sqlite_master")
		n, _ := vals0(vals).(int64)
		bad = err != nil || n != 0
	}
	if bad {
		_ = sc.c.Raw(func(any) error { return driver.ErrBadConn }) // closes it
	}
	_ = sc.c.Close()
}

func vals0(vals []driver.Value) driver.Value {
	if len(vals) == 0 {
		return nil
	}
	return vals[0]
}

// autocommit reports whether the connection is outside a transaction: it
// tries BEGIN, which SQLite refuses inside one, and rolls it back.
func (sc *sqliteConn) autocommit(ctx context.Context) (bool, error) {
	if _, err := sc.internalQuery(ctx, "BEGIN DEFERRED"); err != nil {
		if strings.Contains(err.Error(), "within a transaction") {
			return false, nil
		}
		return false, err
	}
	_, err := sc.internalQuery(ctx, "ROLLBACK")
	return true, err
}

// executor runs one pipeline's requests on its stream.
type executor struct {
	h       *hranaHandler
	st      *stream
	role    Role
	owner   *principal
	budget  int // response bytes left
	metrics *metrics

	memUsed, memReserved int64 // the response's memory, estimated, and what h.mem reserved for it
}

// growMemory reserves memory for n more bytes of response (rows held and
// their JSON), in steps of at least 1 MiB, without waiting.
func (ex *executor) growMemory(n int) bool {
	ex.memUsed += 2 * int64(n)
	if ex.memUsed <= ex.memReserved {
		return true
	}
	step := max(ex.memUsed-ex.memReserved, 1<<20)
	if !ex.h.mem.tryAcquire(ex.owner, step) {
		return false
	}
	ex.memReserved += step
	return true
}

func errResult(msg, code string) hrana.StreamResult {
	return hrana.StreamResult{Error: &hrana.Error{Message: msg, Code: code}}
}

func okResult(r *hrana.StreamResponse) hrana.StreamResult { return hrana.StreamResult{Response: r} }

// request runs one stream request.
func (ex *executor) request(ctx context.Context, q *hrana.StreamRequest) hrana.StreamResult {
	st := ex.st
	if st.closed {
		return errResult("the stream was closed by an earlier close request", "STREAM_CLOSED")
	}
	switch q.Type {
	case hrana.TypeExecute:
		r, e := ex.execute(ctx, q.Stmt)
		if e != nil {
			return hrana.StreamResult{Error: e}
		}
		return okResult(&hrana.StreamResponse{Type: q.Type, Execute: r})
	case hrana.TypeBatch:
		r, e := ex.batch(ctx, q.Batch)
		if e != nil {
			return hrana.StreamResult{Error: e}
		}
		return okResult(&hrana.StreamResponse{Type: q.Type, Batch: r})
	case hrana.TypeSequence:
		text, e := ex.text(q.SQL, q.SQLID)
		if e == nil {
			e = ex.sequence(ctx, text)
		}
		if e != nil {
			return hrana.StreamResult{Error: e}
		}
		return okResult(&hrana.StreamResponse{Type: q.Type})
	case hrana.TypeDescribe:
		text, e := ex.text(q.SQL, q.SQLID)
		var r *hrana.DescribeResult
		if e == nil {
			r, e = ex.describe(ctx, text)
		}
		if e != nil {
			return hrana.StreamResult{Error: e}
		}
		return okResult(&hrana.StreamResponse{Type: q.Type, Describe: r})
	case hrana.TypeStoreSQL:
		old, ok := st.sqls[*q.SQLID]
		if !ok && len(st.sqls) >= maxStoredSQL {
			return errResult("too many stored SQL texts on this stream (at most "+strconv.Itoa(maxStoredSQL)+"); close some with close_sql", "SQL_STORE_FULL")
		}
		if st.sqlBytes-len(old)+len(*q.SQL) > maxStoredSQLBytes {
			return errResult("the SQL texts stored on this stream would exceed "+strconv.Itoa(maxStoredSQLBytes)+" bytes; close some with close_sql", "SQL_STORE_FULL")
		}
		st.sqls[*q.SQLID] = *q.SQL
		st.sqlBytes += len(*q.SQL) - len(old)
		return okResult(&hrana.StreamResponse{Type: q.Type})
	case hrana.TypeCloseSQL:
		st.sqlBytes -= len(st.sqls[*q.SQLID])
		delete(st.sqls, *q.SQLID)
		return okResult(&hrana.StreamResponse{Type: q.Type})
	case hrana.TypeGetAutocommit:
		ac, e := ex.autocommit(ctx)
		if e != nil {
			return hrana.StreamResult{Error: e}
		}
		return okResult(&hrana.StreamResponse{Type: q.Type, IsAutocommit: ac})
	case hrana.TypeClose:
		st.closed = true
		return okResult(&hrana.StreamResponse{Type: q.Type})
	}
	// The decoder refuses unknown types; kept for safety.
	return errResult("unknown request type "+strconv.Quote(q.Type), "PROTOCOL_ERROR")
}

// text returns a request's SQL: its own, or the stored text sql_id names.
func (ex *executor) text(sql *string, id *int32) (string, *hrana.Error) {
	if sql != nil {
		return *sql, nil
	}
	if id == nil {
		return "", &hrana.Error{Message: "no sql and no sql_id", Code: "PROTOCOL_ERROR"}
	}
	s, ok := ex.st.sqls[*id]
	if !ok {
		return "", &hrana.Error{Message: "no SQL stored with sql_id " + strconv.Itoa(int(*id)) + " on this stream", Code: "SQL_NOT_FOUND"}
	}
	return s, nil
}

// conn returns the stream's connection, pinning one on first use.
func (ex *executor) conn(ctx context.Context) (*sqliteConn, *hrana.Error) {
	if ex.st.conn != nil {
		return ex.st.conn, nil
	}
	db := ex.h.rw
	if ex.role == RoleRead {
		db = ex.h.ro
	}
	cctx, cancel := context.WithTimeout(ctx, ex.h.srv.cfg.StatementTimeout)
	defer cancel()
	sc, err := openSQLiteConn(cctx, db, ex.role, ex.h.maxValue)
	if err != nil {
		return nil, &hrana.Error{Message: "could not get a database connection: " + err.Error(), Code: "SQLITE_CANTOPEN"}
	}
	ex.st.conn = sc
	return sc, nil
}

// oneStatement returns the single statement of sql, or the error sqld
// gives for none or several.
func oneStatement(sql string) (string, *hrana.Error) {
	parts, e := splitSQLite(sql)
	if e != nil {
		return "", e
	}
	switch len(parts) {
	case 0:
		return "", &hrana.Error{Message: "SQL string does not contain any statement", Code: "SQL_NO_STATEMENT"}
	case 1:
		return parts[0], nil
	}
	return "", &hrana.Error{Message: "SQL string contains more than one statement (use a sequence or a batch)", Code: "SQL_MANY_STATEMENTS"}
}

func (ex *executor) execute(ctx context.Context, s *hrana.Stmt) (*hrana.StmtResult, *hrana.Error) {
	text, e := ex.text(s.SQL, s.SQLID)
	if e != nil {
		return nil, e
	}
	text, e = oneStatement(text)
	if e != nil {
		return nil, e
	}
	if len(s.Args) > 0 && len(s.NamedArgs) > 0 {
		return nil, &hrana.Error{Message: "Specifying both positional and named arguments is not supported", Code: "ARGS_BOTH_POSITIONAL_AND_NAMED"}
	}
	names, err := sqliteParams(text)
	if err != nil {
		return nil, stmtErr(err)
	}
	args, e := bindArgs(names, s.Args, s.NamedArgs)
	if e != nil {
		return nil, e
	}
	return ex.run(ctx, text, args, s.WantsRows())
}

// argsError is sqld's error for arguments that do not match a statement's
// parameters.
func argsError(msg string) *hrana.Error {
	return &hrana.Error{Message: "Arguments do not match SQL parameters: " + msg, Code: "ARGS_INVALID"}
}

// bindArgs maps Hrana arguments to the statement's parameters by index,
// exactly as sqld binds them (checked against sqld in
// TestHranaArgsLikeSqld): for each parameter index, a parameter without a
// name or named ?NNN takes positional argument i (or NNN); one named
// :a, @a or $a takes the named argument written with its prefix, else
// without it. Every parameter needs a value, and there may not be more
// arguments than parameters (named arguments are counted once per name,
// the last one of a name winning). Since SQLite numbers a name on first
// use and a later ?NNN may refer to it (SELECT :b, ?1), both styles mix.
func bindArgs(names []string, pos []hrana.Value, named []hrana.NamedArg) ([]driver.NamedValue, *hrana.Error) {
	n := len(pos)
	var byName map[string]*hrana.Value // the last argument of each name
	if len(named) > 0 {
		byName = make(map[string]*hrana.Value, min(len(named), len(names)+1))
		for i := range named {
			byName[named[i].Name] = &named[i].Value
		}
		n = len(byName)
	}
	if n > len(names) {
		return nil, argsError("too many parameters, expected " + strconv.Itoa(len(names)) + " found " + strconv.Itoa(n))
	}
	out := make([]driver.NamedValue, len(names))
	for i, name := range names {
		nv := driver.NamedValue{Ordinal: i + 1}
		var v *hrana.Value
		switch {
		case name == "" || name[0] == '?':
			k := i + 1
			if name != "" {
				k, _ = strconv.Atoi(name[1:]) // sqliteParams checked it
			}
			if len(named) == 0 && k <= len(pos) {
				v = &pos[k-1]
			}
		default:
			nv.Name = name[1:] // how modernc.org/sqlite matches a named parameter
			if v = byName[name]; v == nil {
				v = byName[name[1:]]
			}
		}
		if v == nil {
			if name == "" {
				return nil, argsError("value for parameter " + strconv.Itoa(i+1) + " not found")
			}
			return nil, argsError("value for parameter " + name + " not found")
		}
		nv.Value = driverValue(*v)
		out[i] = nv
	}
	// modernc.org/sqlite finds a named parameter's value by its name
	// without the prefix, the first argument of that name: :a and @a (or
	// $1 after an earlier parameter 1) cannot take different values.
	var first map[string]int
	for i, name := range names {
		if out[i].Name == "" {
			continue
		}
		if first == nil {
			first = map[string]int{}
		}
		if j, ok := first[out[i].Name]; !ok {
			first[out[i].Name] = i
		} else if !sameDriverValue(out[j].Value, out[i].Value) {
			return nil, argsError("parameters " + names[j] + " and " + name + " take different values, which this gateway cannot bind (SQLite's driver matches names without their prefix): use distinct names")
		}
		if name[0] == '$' {
			if k, err := strconv.Atoi(name[1:]); err == nil && k >= 1 && k-1 < i && !sameDriverValue(out[k-1].Value, out[i].Value) {
				return nil, argsError("parameter " + name + " follows parameter " + strconv.Itoa(k) + " and takes another value, which this gateway cannot bind: use ?" + strconv.Itoa(i+1) + " or a name that is not a number")
			}
		}
	}
	return out, nil
}

func sameDriverValue(a, b driver.Value) bool {
	x, xok := a.([]byte)
	y, yok := b.([]byte)
	if xok || yok {
		return xok && yok && string(x) == string(y)
	}
	return a == b
}

// nullArgs binds every parameter to NULL (for sequence and describe,
// which take no arguments).
func nullArgs(names []string) []driver.NamedValue {
	out := make([]driver.NamedValue, len(names))
	for i, name := range names {
		out[i] = driver.NamedValue{Ordinal: i + 1}
		if name != "" && name[0] != '?' {
			out[i].Name = name[1:]
		}
	}
	return out
}

func driverValue(v hrana.Value) driver.Value {
	switch v.Kind {
	case hrana.Integer:
		return v.Int
	case hrana.Float:
		return v.Float
	case hrana.Text:
		return v.Text
	case hrana.Blob:
		if v.Blob == nil {
			return []byte{} // an empty blob, not NULL
		}
		return v.Blob
	}
	return nil
}

// stmtError is a statement's failure found by the gateway.
type stmtError struct {
	code, msg string
}

func (e *stmtError) Error() string { return e.msg }

var (
	errRowsLimit   = errors.New("rows limit")
	errBudget      = errors.New("response too large")
	errMemory      = errors.New("out of memory budget")
	errNonFinite   = errors.New("non-finite float")
	errUnsupported = errors.New("unsupported value")
)

// run runs one statement and returns its result. It reads every row (so
// that a write with RETURNING completes), keeping them when wantRows.
func (ex *executor) run(ctx context.Context, text string, args []driver.NamedValue, wantRows bool) (*hrana.StmtResult, *hrana.Error) {
	sc, e := ex.conn(ctx)
	if e != nil {
		return nil, e
	}
	kind := txControl(text)
	switch {
	case kind == "begin" && ex.role == RoleRead, kind == "begin-readonly":
		// A read connection cannot take the write lock BEGIN IMMEDIATE
		// asks for; libSQL's BEGIN TRANSACTION READONLY (SQLite would read
		// READONLY as a transaction name) is a deferred transaction in
		// which PRAGMA query_only refuses writes.
		text = "BEGIN DEFERRED"
	}
	sc.used = true
	sc.denied = ""
	timeout := ex.h.srv.cfg.StatementTimeout
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := &hrana.StmtResult{Cols: []hrana.Col{}, Rows: [][]hrana.Value{}}
	maxRows := ex.h.srv.cfg.MaxRows
	err := sc.raw(func(q driver.QueryerContext) error {
		rows, err := q.QueryContext(sctx, text, args)
		if err != nil {
			return err
		}
		cols := rows.Columns()
		dt, _ := rows.(driver.RowsColumnTypeDatabaseTypeName)
		decls := make([]string, len(cols))
		for i, name := range cols {
			c := hrana.Col{Name: &name}
			if dt != nil {
				if d := dt.ColumnTypeDatabaseTypeName(i); d != "" {
					decls[i] = d
					c.Decltype = &decls[i]
				}
			}
			res.Cols = append(res.Cols, c)
		}
		dest := make([]driver.Value, len(cols))
		for n := 0; ; n++ {
			err := rows.Next(dest)
			if err == io.EOF {
				break
			}
			if err == nil && wantRows && n >= maxRows {
				err = errRowsLimit
			}
			if err != nil {
				_ = rows.Close()
				return err
			}
			if !wantRows {
				continue
			}
			row := make([]hrana.Value, len(dest))
			rowSize := 0
			for i, v := range dest {
				hv, size, err := hranaValue(v, decls[i])
				if err != nil {
					_ = rows.Close()
					return err
				}
				row[i] = hv
				rowSize += size
			}
			ex.budget -= rowSize
			if ex.budget < 0 {
				_ = rows.Close()
				return errBudget
			}
			if !ex.growMemory(rowSize + 24*len(row)) {
				_ = rows.Close()
				return errMemory
			}
			res.Rows = append(res.Rows, row)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		// What this statement changed: changes() is the count of the last
		// INSERT, UPDATE or DELETE on the connection, so it counts only
		// when total_changes() moved.
		sc.internal = true
		vals, err := queryRow(ctx, q, "SELECT changes(), total_changes(), last_insert_rowid()")
		sc.internal = false
		if err != nil {
			return nil // the statement ran; its counts are unknown
		}
		changes, _ := vals[0].(int64)
		total, _ := vals[1].(int64)
		last, _ := vals[2].(int64)
		if total != sc.total {
			res.AffectedRowCount = uint64(max(changes, 0))
			res.LastInsertRowID = &last
		}
		sc.total = total
		return nil
	})
	if err == nil {
		switch {
		case kind == "begin-readonly":
			sc.roTx = true
			_, err = sc.internalQuery(ctx, "PRAGMA query_only = 1")
		case kind == "end" && sc.roTx:
			if _, err := sc.internalQuery(ctx, "PRAGMA query_only = 0"); err == nil {
				sc.roTx = false
			}
		}
	}
	if err != nil {
		return nil, ex.sqliteError(ctx, sctx, err)
	}
	return res, nil
}

// hranaValue converts a value read from SQLite, and estimates its size in
// the response.
func hranaValue(v driver.Value, decl string) (hrana.Value, int, error) {
	switch x := v.(type) {
	case nil:
		return hrana.Value{}, 16, nil
	case int64:
		return hrana.IntegerValue(x), 40, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return hrana.Value{}, 0, errNonFinite
		}
		return hrana.FloatValue(x), 40, nil
	case string:
		return hrana.TextValue(x), len(x) + 32, nil
	case []byte:
		if x == nil {
			x = []byte{}
		}
		return hrana.BlobValue(x), len(x)*4/3 + 32, nil
	case time.Time:
		// modernc.org/sqlite parses the text of a column declared DATE,
		// DATETIME or TIMESTAMP; it is written back in SQLite's own form.
		s := formatSQLiteTime(x, decl)
		return hrana.TextValue(s), len(s) + 32, nil
	case bool:
		if x {
			return hrana.IntegerValue(1), 40, nil
		}
		return hrana.IntegerValue(0), 40, nil
	}
	return hrana.Value{}, 0, errUnsupported
}

// formatSQLiteTime writes a time as SQLite's date and time functions do:
// YYYY-MM-DD for a DATE at midnight, YYYY-MM-DD HH:MM:SS[.SSS] in UTC,
// with the offset (+HH:MM) for another zone.
func formatSQLiteTime(t time.Time, decl string) string {
	if t.Location() == time.UTC {
		if decl == "DATE" && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
			return t.Format("2006-01-02")
		}
		return t.Format("2006-01-02 15:04:05.999999999")
	}
	return t.Format("2006-01-02 15:04:05.999999999-07:00")
}

// sqliteCodes names SQLite's primary result codes.
var sqliteCodes = [...]string{
	1: "SQLITE_ERROR", 2: "SQLITE_INTERNAL", 3: "SQLITE_PERM", 4: "SQLITE_ABORT", 5: "SQLITE_BUSY",
	6: "SQLITE_LOCKED", 7: "SQLITE_NOMEM", 8: "SQLITE_READONLY", 9: "SQLITE_INTERRUPT", 10: "SQLITE_IOERR",
	11: "SQLITE_CORRUPT", 12: "SQLITE_NOTFOUND", 13: "SQLITE_FULL", 14: "SQLITE_CANTOPEN", 15: "SQLITE_PROTOCOL",
	16: "SQLITE_EMPTY", 17: "SQLITE_SCHEMA", 18: "SQLITE_TOOBIG", 19: "SQLITE_CONSTRAINT", 20: "SQLITE_MISMATCH",
	21: "SQLITE_MISUSE", 22: "SQLITE_NOLFS", 23: "SQLITE_AUTH", 24: "SQLITE_FORMAT", 25: "SQLITE_RANGE",
	26: "SQLITE_NOTADB", 27: "SQLITE_NOTICE", 28: "SQLITE_WARNING",
}

// sqliteMessage returns SQLite's own message (sqlite3_errmsg) from a
// modernc.org/sqlite error, which reads "errstr: errmsg (code)".
func sqliteMessage(m string) string {
	m = strings.TrimSuffix(m, " (SQLITE_BUSY)")
	if i := strings.LastIndex(m, " ("); i >= 0 && strings.HasSuffix(m, ")") {
		if _, err := strconv.Atoi(m[i+2 : len(m)-1]); err == nil {
			m = m[:i]
		}
	}
	if _, after, ok := strings.Cut(m, ": "); ok && after != "" {
		m = after
	}
	return m
}

// sqliteError turns a statement's failure into its Hrana error.
func (ex *executor) sqliteError(ctx, sctx context.Context, err error) *hrana.Error {
	timedOut := ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded)
	var se *msqlite.Error
	switch {
	case errors.Is(err, errRowsLimit):
		return &hrana.Error{Message: "the statement returned more than " + strconv.Itoa(ex.h.srv.cfg.MaxRows) + " rows, the gateway's limit: add a LIMIT", Code: "ROWS_LIMIT_EXCEEDED"}
	case errors.Is(err, errBudget):
		return &hrana.Error{Message: "the response is too large (at most " + strconv.Itoa(ex.h.srv.cfg.MaxResponseBytes) + " bytes)", Code: "RESPONSE_TOO_LARGE"}
	case errors.Is(err, errMemory):
		return &hrana.Error{Message: "the gateway's memory for responses is in use by other requests (--hrana-memory, of which a token may hold half); retry later", Code: "SERVER_BUSY"}
	case errors.Is(err, errNonFinite):
		return &hrana.Error{Message: "the result holds a float that is NaN or ±Inf, which JSON cannot carry", Code: "SQL_INPUT_ERROR"}
	case errors.Is(err, errUnsupported):
		return &hrana.Error{Message: "the result holds a value Hrana cannot carry", Code: "SQL_INPUT_ERROR"}
	case timedOut:
		return &hrana.Error{Message: "interrupted: the statement ran longer than " + ex.h.srv.cfg.StatementTimeout.String() + ", the gateway's statement timeout", Code: "SQLITE_INTERRUPT"}
	case ctx.Err() != nil:
		return &hrana.Error{Message: "interrupted: the request ended", Code: "SQLITE_INTERRUPT"}
	case errors.As(err, &se):
		code := "SQLITE_ERROR"
		if c := se.Code() & 0xff; c > 0 && c < len(sqliteCodes) {
			code = sqliteCodes[c]
		}
		if sc := ex.st.conn; code == "SQLITE_AUTH" && sc != nil && sc.denied != "" {
			return &hrana.Error{Message: "not authorized: " + sc.denied, Code: code}
		}
		return &hrana.Error{Message: sqliteMessage(se.Error()), Code: code}
	}
	return stmtErr(err)
}

func stmtErr(err error) *hrana.Error {
	var e *stmtError
	if errors.As(err, &e) {
		return &hrana.Error{Message: e.msg, Code: e.code}
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "missing argument") || strings.HasPrefix(msg, "missing named argument") {
		return &hrana.Error{Message: msg, Code: "ARGS_INVALID"}
	}
	return &hrana.Error{Message: msg, Code: "SQL_INPUT_ERROR"}
}

// batch runs a batch's steps in order, each when its condition holds.
func (ex *executor) batch(ctx context.Context, b *hrana.Batch) (*hrana.BatchResult, *hrana.Error) {
	for i := range b.Steps {
		if c := b.Steps[i].Condition; c != nil {
			if msg := checkCond(c, i); msg != "" {
				return nil, &hrana.Error{Message: "step " + strconv.Itoa(i) + ": " + msg, Code: "BATCH_COND_INVALID"}
			}
		}
	}
	res := &hrana.BatchResult{StepResults: make([]*hrana.StmtResult, len(b.Steps)), StepErrors: make([]*hrana.Error, len(b.Steps))}
	for i := range b.Steps {
		step := &b.Steps[i]
		if step.Condition != nil {
			ok, e := ex.cond(ctx, step.Condition, res)
			if e != nil {
				res.StepErrors[i] = e
				continue
			}
			if !ok {
				continue
			}
		}
		r, e := ex.execute(ctx, &step.Stmt)
		res.StepResults[i], res.StepErrors[i] = r, e
		if e != nil {
			ex.metrics.error("hrana", e.Code)
		}
	}
	return res, nil
}

// checkCond checks that a step's condition names only earlier steps.
func checkCond(c *hrana.BatchCond, step int) string {
	switch c.Type {
	case hrana.CondTypeOK, hrana.CondTypeError:
		if int64(c.Step) >= int64(step) {
			return "a condition may only refer to an earlier step, not step " + strconv.FormatUint(uint64(c.Step), 10)
		}
	case hrana.CondTypeNot:
		return checkCond(c.Cond, step)
	case hrana.CondTypeAnd, hrana.CondTypeOr:
		for i := range c.Conds {
			if msg := checkCond(&c.Conds[i], step); msg != "" {
				return msg
			}
		}
	}
	return ""
}

func (ex *executor) cond(ctx context.Context, c *hrana.BatchCond, res *hrana.BatchResult) (bool, *hrana.Error) {
	switch c.Type {
	case hrana.CondTypeOK:
		return res.StepResults[c.Step] != nil, nil
	case hrana.CondTypeError:
		return res.StepErrors[c.Step] != nil, nil
	case hrana.CondTypeNot:
		ok, e := ex.cond(ctx, c.Cond, res)
		return !ok, e
	case hrana.CondTypeAnd, hrana.CondTypeOr:
		and := c.Type == hrana.CondTypeAnd
		for i := range c.Conds {
			ok, e := ex.cond(ctx, &c.Conds[i], res)
			if e != nil {
				return false, e
			}
			if ok != and {
				return ok, nil
			}
		}
		return and, nil
	case hrana.CondTypeIsAutocommit:
		return ex.autocommit(ctx)
	}
	return false, &hrana.Error{Message: "unknown condition type " + strconv.Quote(c.Type), Code: "PROTOCOL_ERROR"}
}

func (ex *executor) autocommit(ctx context.Context) (bool, *hrana.Error) {
	if ex.st.conn == nil {
		return true, nil
	}
	ac, err := ex.st.conn.autocommit(ctx)
	if err != nil {
		return false, ex.sqliteError(ctx, ctx, err)
	}
	return ac, nil
}

// sequence runs several statements, without arguments or rows, stopping
// at the first error.
func (ex *executor) sequence(ctx context.Context, text string) *hrana.Error {
	parts, e := splitSQLite(text)
	if e != nil {
		return e
	}
	for _, s := range parts {
		names, err := sqliteParams(s)
		if err != nil {
			return stmtErr(err)
		}
		args := nullArgs(names)
		if _, e := ex.run(ctx, s, args, false); e != nil {
			return e
		}
	}
	return nil
}

// describe describes a statement without running it: its parameters
// (read as SQLite numbers them), its columns (prepared by SQLite), whether
// it is an EXPLAIN, and whether it is read-only, as sqlite3_stmt_readonly
// decides: no write transaction and no VACUUM, journal mode change or
// checkpoint in the program SQLite compiles for it (read from EXPLAIN).
func (ex *executor) describe(ctx context.Context, text string) (*hrana.DescribeResult, *hrana.Error) {
	text, e := oneStatement(text)
	if e != nil {
		return nil, e
	}
	names, err := sqliteParams(text)
	if err != nil {
		return nil, stmtErr(err)
	}
	sc, e := ex.conn(ctx)
	if e != nil {
		return nil, e
	}
	res := &hrana.DescribeResult{Params: make([]hrana.DescribeParam, len(names)), Cols: []hrana.DescribeCol{}}
	for i, n := range names {
		if n != "" {
			res.Params[i].Name = &names[i]
		}
	}
	res.IsExplain = sqliteKeywords(text, 1)[0] == "EXPLAIN"
	sc.denied = ""
	sctx, cancel := context.WithTimeout(ctx, ex.h.srv.cfg.StatementTimeout)
	defer cancel()
	err = sc.c.Raw(func(dc any) error {
		ci, ok := baseConn(dc).(interface {
			ColumnInfo(string) ([]msqlite.ColumnInfo, error)
		})
		if !ok {
			return errors.New("the SQLite driver cannot describe statements")
		}
		info, err := ci.ColumnInfo(text)
		if err != nil {
			return err
		}
		for _, c := range info {
			dc := hrana.DescribeCol{Name: c.Name}
			if c.DeclType != "" {
				d := c.DeclType
				dc.Decltype = &d
			}
			res.Cols = append(res.Cols, dc)
		}
		if res.IsExplain {
			res.IsReadonly = true
			return nil
		}
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return errors.New("the SQLite driver cannot run queries")
		}
		args := nullArgs(names)
		rows, err := q.QueryContext(sctx, "EXPLAIN "+text, args)
		if err != nil {
			return err
		}
		defer rows.Close()
		readonly := true
		dest := make([]driver.Value, len(rows.Columns()))
		if len(dest) < 4 {
			return errors.New("unexpected EXPLAIN output")
		}
		for {
			err := rows.Next(dest)
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			op, _ := dest[1].(string)
			p2, _ := dest[3].(int64)
			switch op {
			case "Transaction":
				if p2 != 0 {
					readonly = false
				}
			case "Vacuum", "JournalMode", "Checkpoint":
				readonly = false
			}
		}
		res.IsReadonly = readonly
		return nil
	})
	if err != nil {
		return nil, ex.sqliteError(ctx, sctx, err)
	}
	return res, nil
}

// baseConn returns modernc.org/sqlite's own connection under dc: forge's
// sqlite.Open may wrap it (its statement cache), and Unwrap reaches it.
func baseConn(dc any) any {
	for {
		u, ok := dc.(interface{ Unwrap() driver.Conn })
		if !ok {
			return dc
		}
		dc = u.Unwrap()
	}
}
