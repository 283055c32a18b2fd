package libsql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/fetch"
	"github.com/forge-orm/forge/fetch/nethttp"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/internal/testsvc"
	"github.com/forge-orm/forge/libsql"
	"github.com/forge-orm/forge/wire/hrana"
)

// open starts a private sqld and opens the driver on it.
func open(t testing.TB) *libsql.Conn {
	t.Helper()
	return openURL(t, testsvc.SQLD(t))
}

func openURL(t testing.TB, url string) *libsql.Conn {
	t.Helper()
	return openFetch(t, url, nethttp.New(nil))
}

func openFetch(t testing.TB, url string, f fetch.Fetcher) *libsql.Conn {
	t.Helper()
	c, err := libsql.Open(libsql.Config{URL: url, Fetch: f})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConformance(t *testing.T) {
	forgetest.Run(t, func(t testing.TB) driver.Conn { return open(t) })
}

// TestMigrate runs the migration suite over HTTP: introspection, plans
// (table rebuilds go through an atomic batch), the lock and db.Drift.
func TestMigrate(t *testing.T) {
	forgetest.RunMigrate(t, func(t testing.TB) driver.Conn { return open(t) })
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func exec(t testing.TB, q driver.Querier, sql string, args ...any) driver.Result {
	t.Helper()
	res, err := q.Exec(context.Background(), sql, args)
	must(t, err)
	return res
}

// queryAll runs sql and returns every row as values scanned into *any.
func queryAll(t testing.TB, q driver.Querier, sql string, args ...any) [][]any {
	t.Helper()
	rows, err := q.Query(context.Background(), sql, args)
	must(t, err)
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(rows.Columns()))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		must(t, rows.Scan(ptrs...))
		out = append(out, vals)
	}
	must(t, rows.Err())
	return out
}

func count(t testing.TB, q driver.Querier, table string) int64 {
	t.Helper()
	return queryAll(t, q, "SELECT count(*) FROM "+table)[0][0].(int64)
}

// recorder wraps a Fetcher and keeps every request body.
type recorder struct {
	inner fetch.Fetcher
	mu    sync.Mutex
	reqs  []*fetch.Request
}

func (r *recorder) fetch(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	return r.inner(ctx, req)
}

func (r *recorder) bodies() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, q := range r.reqs {
		out = append(out, string(q.Body))
	}
	return out
}

func TestBatchAtomic(t *testing.T) {
	c := open(t)
	ctx := context.Background()
	exec(t, c, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)`)
	exec(t, c, `INSERT INTO t (v) VALUES ('taken')`)
	_, err := c.Batch(ctx, []driver.Stmt{
		{SQL: `INSERT INTO t (v) VALUES (?)`, Args: []any{"one"}},
		{SQL: `INSERT INTO t (v) VALUES (?)`, Args: []any{"two"}},
		{SQL: `INSERT INTO t (v) VALUES (?)`, Args: []any{"taken"}},
		{SQL: `DELETE FROM t`},
	})
	var be *driver.BatchError
	if !errors.As(err, &be) || be.Index != 2 || be.SQL != `INSERT INTO t (v) VALUES (?)` {
		t.Fatalf("failing batch: %v, want a *driver.BatchError at index 2", err)
	}
	var ce *driver.ConstraintError
	if !errors.As(err, &ce) || ce.Kind != driver.Unique || ce.Table != "t" || len(ce.Columns) != 1 || ce.Columns[0] != "v" {
		t.Errorf("failing batch: %#v, want a unique violation on t.v", ce)
	}
	var le *libsql.Error
	if !errors.As(err, &le) || le.Code != "SQLITE_CONSTRAINT" {
		t.Errorf("failing batch: the server's error is not reachable: %v", err)
	}
	if got := queryAll(t, c, `SELECT v FROM t ORDER BY id`); len(got) != 1 || got[0][0] != "taken" {
		t.Errorf("after a failed batch the table holds %v, want only the row from before", got)
	}
	// An argument the driver cannot send fails before anything is sent.
	_, err = c.Batch(ctx, []driver.Stmt{{SQL: `INSERT INTO t (v) VALUES ('x')`}, {SQL: `SELECT ?`, Args: []any{math.NaN()}}})
	var ae *libsql.ArgError
	if !errors.As(err, &be) || be.Index != 1 || !errors.As(err, &ae) || !errors.Is(err, hrana.ErrNonFiniteFloat) {
		t.Errorf("NaN in a batch: %v", err)
	}
	if n := count(t, c, "t"); n != 1 {
		t.Errorf("%d rows after a rejected batch", n)
	}
}

func TestBatchResults(t *testing.T) {
	rec := &recorder{inner: nethttp.New(nil)}
	c := openFetch(t, testsvc.SQLD(t), rec.fetch)
	ctx := context.Background()
	exec(t, c, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, n INTEGER)`)
	ins := `INSERT INTO t (v, n) VALUES (?, ?)`
	res, err := c.Batch(ctx, []driver.Stmt{
		{SQL: ins, Args: []any{"a", int64(1)}},
		{SQL: ins, Args: []any{"b", int32(2)}},
		{SQL: `INSERT INTO t (v, n) VALUES (?, ?) RETURNING id, v, n`, Args: []any{"c", int64(math.MaxInt64)}, Rows: true},
		{SQL: `UPDATE t SET n = n + 1 WHERE n < 10`},
		{SQL: `SELECT v, n FROM t ORDER BY id`, Rows: true},
	})
	must(t, err)
	if len(res) != 5 {
		t.Fatalf("%d results", len(res))
	}
	for i, want := range []int64{1, 1, 1, 2, 0} {
		if res[i].RowsAffected != want {
			t.Errorf("statement %d: %d rows affected, want %d", i, res[i].RowsAffected, want)
		}
	}
	for i, want := range []int64{1, 2, 3} {
		if !res[i].HasLastInsertID || res[i].LastInsertID != want {
			t.Errorf("statement %d: last insert id %d (%v), want %d", i, res[i].LastInsertID, res[i].HasLastInsertID, want)
		}
	}
	if res[0].Rows != nil || res[3].Rows != nil {
		t.Error("rows for statements that did not ask for them")
	}
	ret, ok := res[2].Rows.(*driver.BufferedRows)
	if !ok {
		t.Fatalf("RETURNING rows are %T, want *driver.BufferedRows", res[2].Rows)
	}
	if !ret.Next() {
		t.Fatal("no RETURNING row")
	}
	var id, n int64
	var v string
	must(t, ret.Scan(&id, &v, &n))
	if id != 3 || v != "c" || n != math.MaxInt64 || strings.Join(ret.Columns(), ",") != "id,v,n" {
		t.Errorf("RETURNING row %d %q %d %v", id, v, n, ret.Columns())
	}
	sel := res[4].Rows
	var got []string
	for sel.Next() {
		var v string
		var n int64
		must(t, sel.Scan(&v, &n))
		got = append(got, v+"="+strconv.FormatInt(n, 10))
	}
	if strings.Join(got, ",") != "a=2,b=3,c=9223372036854775807" {
		t.Errorf("batch SELECT saw %v", got)
	}
	// One POST: the repeated INSERT text travelled once, as store_sql.
	bodies := rec.bodies()
	last := bodies[len(bodies)-1]
	if strings.Count(last, `"sql":"`+ins+`"`) != 1 || !strings.Contains(last, `{"type":"store_sql","sql_id":0,"sql":"INSERT INTO t (v, n) VALUES (?, ?)"}`) || !strings.Contains(last, `"sql_id":0,"args":[{"type":"text","value":"b"}`) {
		t.Errorf("batch request: %s", last)
	}
	// An empty batch sends nothing.
	before := len(rec.bodies())
	if res, err := c.Batch(ctx, nil); err != nil || len(res) != 0 || len(rec.bodies()) != before {
		t.Errorf("empty batch: %v %v", res, err)
	}
}

// TestRequestShapes checks the JSON the driver sends against what
// @libsql/client sends (wire/hrana/testdata/libsql-vectors.json).
func TestRequestShapes(t *testing.T) {
	var mu sync.Mutex
	var got []string
	var headers []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+string(body))
		headers = append(headers, r.Header.Clone())
		mu.Unlock()
		req, err := hrana.DecodePipelineRequest(body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		resp := hrana.PipelineResponse{}
		for _, q := range req.Requests {
			sr := &hrana.StreamResponse{Type: q.Type}
			switch q.Type {
			case hrana.TypeExecute:
				sr.Execute = &hrana.StmtResult{Cols: []hrana.Col{}, Rows: [][]hrana.Value{}}
			case hrana.TypeBatch:
				sr.Batch = &hrana.BatchResult{}
				for range q.Batch.Steps {
					sr.Batch.StepResults = append(sr.Batch.StepResults, &hrana.StmtResult{Cols: []hrana.Col{}, Rows: [][]hrana.Value{}})
					sr.Batch.StepErrors = append(sr.Batch.StepErrors, nil)
				}
				sr.Batch.StepResults[len(q.Batch.Steps)-1] = nil // ROLLBACK skipped
			}
			resp.Results = append(resp.Results, hrana.StreamResult{Response: sr})
		}
		out, _ := resp.AppendJSON(nil)
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	}))
	defer srv.Close()
	c, err := libsql.Open(libsql.Config{URL: srv.URL + "/db/", AuthToken: "test-jwt-token", Fetch: nethttp.New(nil)})
	must(t, err)
	ctx := context.Background()
	_, err = c.Query(ctx, "SELECT id, email FROM users WHERE id = ? AND email = ?", []any{int64(42), "a@b.co"})
	must(t, err)
	_, err = c.Exec(ctx, "UPDATE users SET ok = ?, at = ?, b = ?, f = ?, n = ?", []any{true, time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.FixedZone("x", 3600)), []byte{1, 2, 255}, 3.14, nil})
	must(t, err)
	_, err = c.Batch(ctx, []driver.Stmt{
		{SQL: "INSERT INTO ledger (account_id, delta) VALUES (?, ?)", Args: []any{int64(2), int64(100)}},
		{SQL: "UPDATE accounts SET balance = balance + ? WHERE id = ?", Args: []any{int64(100), int64(2)}, Rows: true},
	})
	must(t, err)
	want := []string{
		`POST /db/v2/pipeline {"requests":[{"type":"execute","stmt":{"sql":"SELECT id, email FROM users WHERE id = ? AND email = ?","args":[{"type":"integer","value":"42"},{"type":"text","value":"a@b.co"}],"named_args":[],"want_rows":true}},{"type":"close"}]}`,
		`POST /db/v2/pipeline {"requests":[{"type":"execute","stmt":{"sql":"UPDATE users SET ok = ?, at = ?, b = ?, f = ?, n = ?","args":[{"type":"integer","value":"1"},{"type":"text","value":"2024-01-02T02:04:05.678000000Z"},{"type":"blob","base64":"AQL/"},{"type":"float","value":3.14},{"type":"null"}],"named_args":[],"want_rows":false}},{"type":"close"}]}`,
		// The JavaScript client's batch("write"), step for step (it also
		// sends every SQL text as store_sql; forge does for repeated ones).
		`POST /db/v2/pipeline {"requests":[{"type":"batch","batch":{"steps":[` +
			`{"stmt":{"sql":"BEGIN IMMEDIATE","args":[],"named_args":[],"want_rows":false}},` +
			`{"condition":{"type":"ok","step":0},"stmt":{"sql":"INSERT INTO ledger (account_id, delta) VALUES (?, ?)","args":[{"type":"integer","value":"2"},{"type":"integer","value":"100"}],"named_args":[],"want_rows":false}},` +
			`{"condition":{"type":"ok","step":1},"stmt":{"sql":"UPDATE accounts SET balance = balance + ? WHERE id = ?","args":[{"type":"integer","value":"100"},{"type":"integer","value":"2"}],"named_args":[],"want_rows":true}},` +
			`{"condition":{"type":"ok","step":2},"stmt":{"sql":"COMMIT","args":[],"named_args":[],"want_rows":false}},` +
			`{"condition":{"type":"not","cond":{"type":"ok","step":3}},"stmt":{"sql":"ROLLBACK","args":[],"named_args":[],"want_rows":false}}]}},{"type":"close"}]}`,
	}
	if len(got) != len(want) {
		t.Fatalf("%d requests: %v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d:\n got  %s\n want %s", i, got[i], want[i])
		}
		if h := headers[i]; h.Get("Authorization") != "Bearer test-jwt-token" || h.Get("Content-Type") != "application/json" {
			t.Errorf("request %d headers: %v", i, h)
		}
	}
}

func TestTransactionVisibility(t *testing.T) {
	url := testsvc.SQLD(t)
	c, other := openURL(t, url), openURL(t, url)
	ctx := context.Background()
	exec(t, c, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`)

	tx, err := c.Begin(ctx, driver.TxOptions{})
	must(t, err)
	exec(t, tx, `INSERT INTO t (v) VALUES ('committed')`)
	if n := count(t, tx, "t"); n != 1 {
		t.Errorf("the transaction sees %d rows of its own, want 1", n)
	}
	if n := count(t, other, "t"); n != 0 {
		t.Errorf("another connection sees %d uncommitted rows", n)
	}
	must(t, tx.Commit(ctx))
	if n := count(t, other, "t"); n != 1 {
		t.Errorf("another connection sees %d rows after commit, want 1", n)
	}
	if err := tx.Commit(ctx); !errors.Is(err, libsql.ErrTxDone) {
		t.Errorf("second Commit: %v", err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1", nil); !errors.Is(err, libsql.ErrTxDone) {
		t.Errorf("Exec after Commit: %v", err)
	}

	tx, err = c.Begin(ctx, driver.TxOptions{})
	must(t, err)
	exec(t, tx, `INSERT INTO t (v) VALUES ('rolled back')`)
	exec(t, tx, `SAVEPOINT s`)
	exec(t, tx, `DELETE FROM t`)
	exec(t, tx, `ROLLBACK TO SAVEPOINT s`)
	if n := count(t, tx, "t"); n != 2 {
		t.Errorf("inside: %d rows, want 2", n)
	}
	must(t, tx.Rollback(ctx))
	if got := queryAll(t, other, `SELECT v FROM t`); len(got) != 1 || got[0][0] != "committed" {
		t.Errorf("after rollback: %v", got)
	}
	if err := tx.Rollback(ctx); !errors.Is(err, libsql.ErrTxDone) {
		t.Errorf("second Rollback: %v", err)
	}

	// A statement error leaves the transaction usable.
	tx, err = c.Begin(ctx, driver.TxOptions{Isolation: driver.Serializable})
	must(t, err)
	exec(t, tx, `INSERT INTO t (v) VALUES ('kept')`)
	_, err = tx.Exec(ctx, `INSERT INTO nope VALUES (1)`, nil)
	var le *libsql.Error
	if !errors.As(err, &le) || !strings.Contains(le.Message, "no such table") {
		t.Errorf("bad statement in a transaction: %v", err)
	}
	must(t, tx.Commit(ctx))
	if n := count(t, other, "t"); n != 2 {
		t.Errorf("%d rows, want 2", n)
	}

	// A transaction that runs nothing sends nothing.
	rec := &recorder{inner: nethttp.New(nil)}
	quiet := openFetch(t, url, rec.fetch)
	for _, end := range []func(driver.Tx) error{
		func(tx driver.Tx) error { return tx.Commit(ctx) },
		func(tx driver.Tx) error { return tx.Rollback(ctx) },
	} {
		tx, err := quiet.Begin(ctx, driver.TxOptions{})
		must(t, err)
		must(t, end(tx))
	}
	if n := len(rec.bodies()); n != 0 {
		t.Errorf("empty transactions sent %d requests", n)
	}
}

func TestConcurrentTransaction(t *testing.T) {
	c := open(t)
	ctx := context.Background()
	exec(t, c, `CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)`)
	tx, err := c.Begin(ctx, driver.TxOptions{})
	must(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := tx.Exec(ctx, `INSERT INTO t (v) VALUES (?)`, []any{int64(i)})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	must(t, tx.Commit(ctx))
	if n := count(t, c, "t"); n != 20 {
		t.Errorf("%d rows, want 20", n)
	}
}

func TestReadOnlyTransaction(t *testing.T) {
	url := testsvc.SQLD(t)
	c, other := openURL(t, url), openURL(t, url)
	ctx := context.Background()
	exec(t, c, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`)
	exec(t, c, `INSERT INTO t (v) VALUES ('a')`)

	tx, err := c.Begin(ctx, driver.TxOptions{ReadOnly: true})
	must(t, err)
	if n := count(t, tx, "t"); n != 1 {
		t.Errorf("%d rows", n)
	}
	exec(t, tx, `SAVEPOINT s`)
	exec(t, tx, `RELEASE SAVEPOINT s`)
	_, err = tx.Exec(ctx, `INSERT INTO t (v) VALUES ('b')`, nil)
	var ro *libsql.ReadOnlyError
	if !errors.As(err, &ro) || ro.SQL != `INSERT INTO t (v) VALUES ('b')` || ro.Err != nil {
		t.Fatalf("a write in a read-only transaction: %v", err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1`, nil); !errors.Is(err, libsql.ErrTxDone) {
		t.Errorf("after the violation: %v", err)
	}
	if err := tx.Commit(ctx); !errors.Is(err, libsql.ErrTxDone) {
		t.Errorf("Commit after the violation: %v", err)
	}
	if n := count(t, other, "t"); n != 1 {
		t.Errorf("a read-only transaction's write is visible: %d rows", n)
	}
	// As the first statement too (it travels with BEGIN).
	tx, err = c.Begin(ctx, driver.TxOptions{ReadOnly: true})
	must(t, err)
	if _, err := tx.Exec(ctx, `DELETE FROM t`, nil); !errors.As(err, &ro) {
		t.Errorf("a first statement that writes: %v", err)
	}
	if n := count(t, other, "t"); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
	// Through forge.
	db, err := forge.Open(forge.MustSchema(), c)
	must(t, err)
	err = db.Transaction(ctx, func(tx *forge.Tx) error {
		_, err := forge.Exec(ctx, tx, `UPDATE t SET v = 'x'`)
		return err
	}, forge.ReadOnly())
	if !errors.As(err, &ro) {
		t.Errorf("forge read-only transaction that writes: %v", err)
	}
	if got := queryAll(t, other, `SELECT v FROM t`); got[0][0] != "a" {
		t.Errorf("row is %v", got)
	}
}

func TestIsolationLevels(t *testing.T) {
	c, err := libsql.Open(libsql.Config{URL: "http://127.0.0.1:1", Fetch: nethttp.New(nil)})
	must(t, err)
	for _, l := range []driver.IsolationLevel{"", driver.ReadUncommitted, driver.ReadCommitted, driver.RepeatableRead, driver.Serializable} {
		if _, err := c.Begin(context.Background(), driver.TxOptions{Isolation: l}); err != nil {
			t.Errorf("%q: %v", l, err)
		}
	}
	_, err = c.Begin(context.Background(), driver.TxOptions{Isolation: "SNAPSHOT"})
	var ce *driver.CapabilityError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "SERIALIZABLE") {
		t.Errorf("SNAPSHOT: %v, want a *driver.CapabilityError", err)
	}
}

func TestInt64Exact(t *testing.T) {
	c := open(t)
	vals := []int64{math.MinInt64, math.MaxInt64, 1<<53 + 1, -(1<<53 + 1), 0, -1}
	// Literals in raw SQL, computed by the server.
	got := queryAll(t, c, `SELECT -9223372036854775808, 9223372036854775807, 9007199254740993, -9007199254740993, 0, -1`)
	for i, want := range vals {
		if got[0][i] != want {
			t.Errorf("literal %d: %#v, want %d", i, got[0][i], want)
		}
	}
	// Arguments: the server compares them with the literals.
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	got = queryAll(t, c, `SELECT ? = -9223372036854775808, ? = 9223372036854775807, ? = 9007199254740993, ? = -9007199254740993, typeof(?), ?`, append(args[:4:4], args[4], args[1])...)
	for i, v := range got[0][:4] {
		if v != int64(1) {
			t.Errorf("argument %d arrived as a different integer (%v)", i, v)
		}
	}
	if got[0][4] != "integer" || got[0][5] != int64(math.MaxInt64) {
		t.Errorf("typeof/echo: %v", got[0][4:])
	}
	// Stored and read back, into int64 and *int64.
	exec(t, c, `CREATE TABLE n (v INTEGER)`)
	for _, v := range vals {
		exec(t, c, `INSERT INTO n (v) VALUES (?)`, v)
	}
	rows, err := c.Query(context.Background(), `SELECT v, v FROM n ORDER BY rowid`, nil)
	must(t, err)
	for i := 0; rows.Next(); i++ {
		var v int64
		var p *int64
		must(t, rows.Scan(&v, &p))
		if v != vals[i] || p == nil || *p != vals[i] {
			t.Errorf("row %d: %d %v, want %d", i, v, p, vals[i])
		}
	}
	// bool and int32 are integers too.
	got = queryAll(t, c, `SELECT ?, ?, ?, typeof(?)`, true, false, int32(math.MinInt32), true)
	if got[0][0] != int64(1) || got[0][1] != int64(0) || got[0][2] != int64(math.MinInt32) || got[0][3] != "integer" {
		t.Errorf("bool/int32: %v", got[0])
	}
}

func TestBlobs(t *testing.T) {
	c := open(t)
	exec(t, c, `CREATE TABLE b (id INTEGER PRIMARY KEY, v BLOB)`)
	cases := [][]byte{{0}, {0, 0, 1, 0, 0}, {}, bytes.Repeat([]byte{0, 255}, 5000), nil}
	for _, v := range cases {
		exec(t, c, `INSERT INTO b (v) VALUES (?)`, v)
	}
	got := queryAll(t, c, `SELECT v, length(v), typeof(v) FROM b ORDER BY id`)
	for i, want := range cases {
		row := got[i]
		if want == nil {
			if row[0] != nil || row[2] != "null" {
				t.Errorf("nil []byte: %v, want NULL", row)
			}
			continue
		}
		// An empty blob is a []byte (driver.Assign gives *any a nil
		// []byte for it), never the untyped nil of NULL.
		b, ok := row[0].([]byte)
		if !ok || !bytes.Equal(b, want) || row[1] != int64(len(want)) || row[2] != "blob" {
			t.Errorf("blob %d: %v (len %v, %v), want %d bytes", i, row[0], row[1], row[2], len(want))
		}
	}
	// Into *[]byte and **[]byte.
	rows, err := c.Query(context.Background(), `SELECT v, v FROM b WHERE id = 2`, nil)
	must(t, err)
	rows.Next()
	var b []byte
	var pb *[]byte
	must(t, rows.Scan(&b, &pb))
	if !bytes.Equal(b, []byte{0, 0, 1, 0, 0}) || pb == nil || !bytes.Equal(*pb, b) {
		t.Errorf("scan: %v %v", b, pb)
	}
}

func TestValues(t *testing.T) {
	c := open(t)
	ctx := context.Background()
	at := time.Date(2024, 1, 2, 3, 4, 5, 678901234, time.FixedZone("CET", 3600))
	got := queryAll(t, c, `SELECT ?, ?, typeof(?), ?, ?, ?`, at, 3.25, 42.0, "Zoë \x00 \"'", int32(7), nil)
	if got[0][0] != "2024-01-02T02:04:05.678901234Z" || got[0][1] != 3.25 || got[0][2] != "real" || got[0][3] != "Zoë \x00 \"'" || got[0][4] != int64(7) || got[0][5] != nil {
		t.Errorf("values: %#v", got[0])
	}
	rows, err := c.Query(ctx, `SELECT ?, ?`, []any{at, nil})
	must(t, err)
	rows.Next()
	var tm time.Time
	var ptm *time.Time
	must(t, rows.Scan(&tm, &ptm))
	if !tm.Equal(at) || tm.Location() != time.UTC || ptm != nil {
		t.Errorf("time: %v %v", tm, ptm)
	}
	// What cannot be sent: a clear, typed error, and no request.
	for _, bad := range []any{math.NaN(), math.Inf(1), math.Inf(-1), struct{}{}, uint64(math.MaxUint64), map[string]int{}} {
		_, err := c.Exec(ctx, `SELECT ?`, []any{"ok", bad})
		var ae *libsql.ArgError
		if !errors.As(err, &ae) || ae.Index != 1 {
			t.Errorf("%v: %v, want an *ArgError for argument 2", bad, err)
		}
		if f, ok := bad.(float64); ok && (!errors.Is(err, hrana.ErrNonFiniteFloat) || !strings.Contains(err.Error(), "NaN and ±Inf")) {
			t.Errorf("%v: %v", f, err)
		}
	}
	// What cannot be received: sqld sends Inf as a float with a null value.
	_, err = c.Query(ctx, `SELECT 1e999`, nil)
	var pe *libsql.ProtocolError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "NaN and ±Inf") {
		t.Errorf("Inf from the server: %v", err)
	}
	// Errors from the server.
	_, err = c.Exec(ctx, `SELEC 1`, nil)
	var le *libsql.Error
	if !errors.As(err, &le) || le.Code == "" || le.Status != 0 {
		t.Errorf("syntax error: %#v", err)
	}
	exec(t, c, `CREATE TABLE u (id INTEGER PRIMARY KEY, e TEXT NOT NULL UNIQUE, p INTEGER REFERENCES u (id))`)
	exec(t, c, `INSERT INTO u (e) VALUES ('x')`)
	var ce *driver.ConstraintError
	for sql, kind := range map[string]driver.ConstraintKind{
		`INSERT INTO u (e) VALUES ('x')`:        driver.Unique,
		`INSERT INTO u (e) VALUES (NULL)`:       driver.NotNull,
		`INSERT INTO u (e, p) VALUES ('y', 99)`: driver.ForeignKey,
	} {
		_, err := c.Exec(ctx, sql, nil)
		if !errors.As(err, &ce) || ce.Kind != kind || !errors.As(err, &le) {
			t.Errorf("%s: %v, want a %s violation", sql, err, kind)
		}
	}
}

func TestContextCancel(t *testing.T) {
	url := testsvc.SQLD(t)
	c, other := openURL(t, url), openURL(t, url)
	exec(t, c, `CREATE TABLE t (v TEXT)`)
	slow := `WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 1000000000) SELECT COUNT(*) FROM r`

	// An ended context sends nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Query(ctx, "SELECT 1", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	if _, err := c.Batch(ctx, []driver.Stmt{{SQL: "SELECT 1"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled batch: %v", err)
	}

	// A transaction survives a call whose context had already ended:
	// nothing was sent.
	tx, err := c.Begin(context.Background(), driver.TxOptions{})
	must(t, err)
	exec(t, tx, `INSERT INTO t (v) VALUES ('kept')`)
	if _, err := tx.Exec(ctx, `INSERT INTO t (v) VALUES ('not sent')`, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context in a transaction: %v", err)
	}
	must(t, tx.Commit(context.Background()))
	if got := queryAll(t, other, `SELECT v FROM t`); len(got) != 1 || got[0][0] != "kept" {
		t.Errorf("rows %v", got)
	}
	exec(t, c, `DELETE FROM t`)

	// In a transaction: the statement is abandoned, the stream is lost,
	// and sqld rolls the transaction back at once.
	tx, err = c.Begin(context.Background(), driver.TxOptions{})
	must(t, err)
	exec(t, tx, `INSERT INTO t (v) VALUES ('never')`)
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = tx.Exec(ctx, slow, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("slow statement in a transaction: %v after %v", err, time.Since(start))
	}
	if _, err := tx.Exec(context.Background(), "SELECT 1", nil); !errors.Is(err, libsql.ErrStreamLost) {
		t.Errorf("after an abandoned request: %v, want ErrStreamLost", err)
	}
	if err := tx.Rollback(context.Background()); !errors.Is(err, libsql.ErrStreamLost) {
		t.Errorf("Rollback of a lost stream: %v", err)
	}
	start = time.Now()
	exec(t, other, `INSERT INTO t (v) VALUES ('after')`)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a writer waited %v after the transaction was abandoned", d)
	}
	if got := queryAll(t, other, `SELECT v FROM t`); len(got) != 1 || got[0][0] != "after" {
		t.Errorf("rows %v", got)
	}
}

// TestStopsWaiting checks that the driver stops waiting when the context
// ends even if the Fetcher does not, and that a goroutine waiting for a
// transaction's stream honours its own context.
func TestStopsWaiting(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var calls atomic.Int32
	stubborn := func(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
		calls.Add(1)
		<-release
		return nil, errors.New("too late")
	}
	c := openFetch(t, "http://127.0.0.1:1", stubborn)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Exec(ctx, "SELECT 1", nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("Exec: %v after %v", err, time.Since(start))
	}

	tx, err := c.Begin(context.Background(), driver.TxOptions{})
	must(t, err)
	go tx.Exec(context.Background(), "SELECT 1", nil) // holds the stream until release
	for calls.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	start = time.Now()
	_, err = tx.Exec(ctx2, "SELECT 2", nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("waiting for the stream: %v after %v", err, time.Since(start))
	}
}

// TestMalformedResponses runs every operation against a server that
// answers wrongly: each gives a clear, typed error and nothing panics.
func TestMalformedResponses(t *testing.T) {
	type reply struct {
		status int
		ctype  string
		body   string
	}
	ok := func(body string) reply { return reply{200, "application/json", body} }
	exe := func(result string) reply {
		return ok(`{"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"execute","result":` + result + `}},{"type":"ok","response":{"type":"close"}}]}`)
	}
	row := func(v string) reply {
		return exe(`{"cols":[{"name":"a","decltype":null}],"rows":[[` + v + `]],"affected_row_count":0,"last_insert_rowid":null}`)
	}
	cases := map[string]struct {
		reply reply
		check func(error) bool
	}{
		"garbage JSON":          {ok(`{"baton":null,"results":[{"type":`), isProtocol},
		"not JSON":              {reply{200, "text/html", `<html>oops</html>`}, isProtocol},
		"empty body":            {ok(``), isProtocol},
		"JSON null":             {ok(`null`), isProtocol},
		"no results":            {ok(`{"baton":null}`), isProtocol},
		"too few results":       {ok(`{"baton":null,"results":[]}`), isProtocol},
		"wrong response type":   {ok(`{"baton":null,"results":[{"type":"ok","response":{"type":"close"}},{"type":"ok","response":{"type":"close"}}]}`), isProtocol},
		"unknown result type":   {ok(`{"baton":null,"results":[{"type":"maybe"},{"type":"ok","response":{"type":"close"}}]}`), isProtocol},
		"integer as a number":   {row(`{"type":"integer","value":42}`), isValueError},
		"integer overflow":      {row(`{"type":"integer","value":"9223372036854775808"}`), isValueError},
		"unknown value type":    {row(`{"type":"bigint","value":"1"}`), isValueError},
		"text as a number":      {row(`{"type":"text","value":1}`), isValueError},
		"bad base64":            {row(`{"type":"blob","base64":"A*=="}`), isValueError},
		"null float":            {row(`{"type":"float","value":null}`), isValueError},
		"value not an object":   {row(`42`), isValueError},
		"row too short":         {exe(`{"cols":[{"name":"a"},{"name":"b"}],"rows":[[{"type":"null"}]],"affected_row_count":0}`), isProtocol},
		"missing rows":          {exe(`{"cols":[],"affected_row_count":0}`), isProtocol},
		"bad last_insert_rowid": {exe(`{"cols":[],"rows":[],"affected_row_count":1,"last_insert_rowid":"x"}`), isProtocol},
		"500 with a JSON error": {reply{500, "application/json", `{"message":"Internal error: stream expired","code":"STREAM_EXPIRED"}`}, func(err error) bool {
			var e *libsql.Error
			return errors.As(err, &e) && e.Status == 500 && e.Code == "STREAM_EXPIRED" && e.Message == "Internal error: stream expired"
		}},
		"400 text/plain": {reply{400, "text/plain", `Could not deserialize JSON request body`}, func(err error) bool {
			var e *fetch.StatusError
			return errors.As(err, &e) && e.Status == 400 && e.Body == "Could not deserialize JSON request body"
		}},
		"502 JSON that is not an error": {reply{502, "application/json; charset=utf-8", `[1,2]`}, func(err error) bool {
			var e *fetch.StatusError
			return errors.As(err, &e) && e.Status == 502
		}},
		"302": {reply{302, "text/html", ``}, func(err error) bool {
			var e *fetch.StatusError
			return errors.As(err, &e) && e.Status == 302
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := func(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
				return &fetch.Response{Status: tc.reply.status, Header: fetch.Header{{Name: "Content-Type", Value: tc.reply.ctype}}, Body: []byte(tc.reply.body)}, nil
			}
			c := openFetch(t, "https://example.invalid", f)
			ctx := context.Background()
			_, err := c.Query(ctx, "SELECT a FROM t", nil)
			if err == nil || !tc.check(err) {
				t.Errorf("Query: %v (%T)", err, err)
			}
			_, err = c.Exec(ctx, "UPDATE t SET a = 1", nil)
			if err == nil || !tc.check(err) && !isProtocol(err) {
				t.Errorf("Exec: %v (%T)", err, err)
			}
			// The batch and a transaction's first statement expect a batch
			// response: a canned execute response is a protocol error too.
			_, err = c.Batch(ctx, []driver.Stmt{{SQL: "UPDATE t SET a = 1"}})
			if err == nil || !tc.check(err) && !isProtocol(err) {
				t.Errorf("Batch: %v (%T)", err, err)
			}
			tx, err := c.Begin(ctx, driver.TxOptions{})
			must(t, err)
			_, err = tx.Exec(ctx, "UPDATE t SET a = 1", nil)
			if err == nil || !tc.check(err) && !isProtocol(err) {
				t.Errorf("Tx.Exec: %v (%T)", err, err)
			}
			if err := tx.Commit(ctx); err == nil {
				t.Error("Commit after a failed first statement succeeded")
			}
		})
	}
	// The same responses through a real HTTP server and net/http.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(500)
		w.Write([]byte(`{"message":"boom","code":"PROXY_ERROR"}`))
	}))
	defer srv.Close()
	c := openURL(t, srv.URL)
	_, err := c.Query(context.Background(), "SELECT 1", nil)
	var e *libsql.Error
	if !errors.As(err, &e) || e.Status != 500 || e.Code != "PROXY_ERROR" || err.Error() != "forge/libsql: HTTP 500: PROXY_ERROR: boom" {
		t.Errorf("500 over HTTP: %v", err)
	}
}

func isProtocol(err error) bool {
	var pe *libsql.ProtocolError
	return errors.As(err, &pe)
}

func isValueError(err error) bool {
	var ve *hrana.ValueError
	var de *hrana.DecodeError
	return isProtocol(err) && errors.As(err, &de) && errors.As(err, &ve)
}

// TestBeginFailure checks that a BEGIN the server refuses is reported,
// ends the transaction and closes the stream.
func TestBeginFailure(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	f := func(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
		mu.Lock()
		bodies = append(bodies, string(req.Body))
		mu.Unlock()
		body := `{"baton":"b1","base_url":null,"results":[{"type":"ok","response":{"type":"batch","result":{"step_results":[null,null],"step_errors":[{"message":"database is locked","code":"SQLITE_BUSY"},null]}}}]}`
		if strings.Contains(string(req.Body), `"type":"close"`) {
			body = `{"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"close"}}]}`
		}
		return &fetch.Response{Status: 200, Header: fetch.Header{{Name: "Content-Type", Value: "application/json"}}, Body: []byte(body)}, nil
	}
	c := openFetch(t, "https://example.invalid", f)
	tx, err := c.Begin(context.Background(), driver.TxOptions{})
	must(t, err)
	_, err = tx.Exec(context.Background(), "INSERT INTO t VALUES (1)", nil)
	var le *libsql.Error
	if !errors.As(err, &le) || le.Code != "SQLITE_BUSY" || !strings.Contains(err.Error(), "BEGIN IMMEDIATE failed") {
		t.Errorf("failed BEGIN: %v", err)
	}
	if err := tx.Rollback(context.Background()); !errors.Is(err, libsql.ErrTxDone) {
		t.Errorf("Rollback after a failed BEGIN: %v", err)
	}
	if len(bodies) != 2 || bodies[1] != `{"baton":"b1","requests":[{"type":"close"}]}` {
		t.Errorf("requests: %v", bodies)
	}
}

// proxy forwards pipeline requests to sqld; with baseURL set it names
// baseURL as the stream's address in every response that keeps a stream.
type proxy struct {
	target, baseURL, strip string
	hits                   atomic.Int32
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.hits.Add(1)
	body, _ := io.ReadAll(r.Body)
	resp, err := http.Post(p.target+strings.TrimPrefix(r.URL.Path, p.strip), "application/json", bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if p.baseURL != "" && resp.StatusCode == 200 {
		var m map[string]json.RawMessage
		if json.Unmarshal(out, &m) == nil && string(m["baton"]) != "null" {
			m["base_url"], _ = json.Marshal(p.baseURL)
			out, _ = json.Marshal(m)
		}
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	w.Write(out)
}

// TestBaseURL checks base_url stickiness: once the server names another
// address for the stream, the transaction's requests go there.
func TestBaseURL(t *testing.T) {
	sqld := testsvc.SQLD(t)
	sticky := &proxy{target: sqld, strip: "/sticky"}
	b := httptest.NewServer(sticky)
	defer b.Close()
	front := &proxy{target: sqld, baseURL: b.URL + "/sticky/"}
	a := httptest.NewServer(front)
	defer a.Close()
	c := openURL(t, a.URL)
	direct := openURL(t, sqld)
	ctx := context.Background()
	exec(t, direct, `CREATE TABLE t (v TEXT)`)
	tx, err := c.Begin(ctx, driver.TxOptions{})
	must(t, err)
	exec(t, tx, `INSERT INTO t (v) VALUES ('a')`)
	exec(t, tx, `INSERT INTO t (v) VALUES ('b')`)
	must(t, tx.Commit(ctx))
	if front.hits.Load() != 1 || sticky.hits.Load() != 2 {
		t.Errorf("front got %d requests, the stream's address %d; want 1 and 2", front.hits.Load(), sticky.hits.Load())
	}
	if n := count(t, direct, "t"); n != 2 {
		t.Errorf("%d rows committed, want 2", n)
	}
}

func TestOpen(t *testing.T) {
	var gotURL, gotAuth string
	f := func(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
		gotURL, gotAuth = req.URL, req.Header.Get("Authorization")
		return &fetch.Response{Status: 200, Body: []byte(`{"baton":null,"results":[{"type":"ok","response":{"type":"execute","result":{"cols":[],"rows":[],"affected_row_count":0}}},{"type":"ok","response":{"type":"close"}}]}`)}, nil
	}
	good := []struct{ url, token, endpoint, auth string }{
		{"libsql://db-org.turso.io", "tok", "https://db-org.turso.io/v2/pipeline", "Bearer tok"},
		{"libsql://db-org.turso.io?tls=0", "", "http://db-org.turso.io/v2/pipeline", ""},
		{"libsql://db-org.turso.io?authToken=abc", "", "https://db-org.turso.io/v2/pipeline", "Bearer abc"},
		{"libsql://db-org.turso.io?authToken=abc", "abc", "https://db-org.turso.io/v2/pipeline", "Bearer abc"},
		{"https://h.example/db", "", "https://h.example/db/v2/pipeline", ""},
		{"https://h.example/db/", "", "https://h.example/db/v2/pipeline", ""},
		{"HTTP://127.0.0.1:8080", "", "http://127.0.0.1:8080/v2/pipeline", ""},
	}
	for _, g := range good {
		c, err := libsql.Open(libsql.Config{URL: g.url, AuthToken: g.token, Fetch: f})
		if err != nil {
			t.Errorf("%s: %v", g.url, err)
			continue
		}
		if c.DriverName() != "libsql" || c.Dialect() != dialect.SQLite {
			t.Errorf("%s: name %q dialect %v", g.url, c.DriverName(), c.Dialect())
		}
		if _, err := c.Exec(context.Background(), "SELECT 1", nil); err != nil {
			t.Errorf("%s: %v", g.url, err)
		}
		if gotURL != g.endpoint || gotAuth != g.auth {
			t.Errorf("%s: posted to %s with %q, want %s with %q", g.url, gotURL, gotAuth, g.endpoint, g.auth)
		}
	}
	bad := map[string]string{
		"":                               "empty",
		"db.turso.io":                    "no scheme",
		"ws://h":                         "WebSocket",
		"wss://h":                        "WebSocket",
		"ftp://h":                        "unsupported scheme",
		"libsql://":                      "no host",
		"http://user:pw@h":               "credentials",
		"https://h?foo=1":                "unsupported query parameter",
		"libsql://h?tls=2":               "tls must be",
		"https://h?tls=1":                "only for libsql://",
		"https://h/#x":                   "fragment",
		"libsql://h?authToken=secret123": "differ",
		"http://h:port":                  "not a URL",
	}
	for url, want := range bad {
		_, err := libsql.Open(libsql.Config{URL: url, AuthToken: "other", Fetch: f})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error saying %q", url, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "secret123") {
			t.Errorf("%q: the error shows the token: %v", url, err)
		}
	}
	if _, err := libsql.Open(libsql.Config{URL: "https://h"}); err == nil || !strings.Contains(err.Error(), "Fetch is required") {
		t.Errorf("no Fetch: %v", err)
	}
	c, err := libsql.Open(libsql.Config{URL: "https://h", Fetch: f})
	must(t, err)
	must(t, c.Close())
	ctx := context.Background()
	if _, err := c.Query(ctx, "SELECT 1", nil); !errors.Is(err, libsql.ErrClosed) {
		t.Errorf("Query after Close: %v", err)
	}
	if _, err := c.Begin(ctx, driver.TxOptions{}); !errors.Is(err, libsql.ErrClosed) {
		t.Errorf("Begin after Close: %v", err)
	}
	if _, err := c.Batch(ctx, []driver.Stmt{{SQL: "SELECT 1"}}); !errors.Is(err, libsql.ErrClosed) {
		t.Errorf("Batch after Close: %v", err)
	}
}
