package gateway_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/wire/hrana"
	_ "modernc.org/sqlite"
)

// TestHostileHrana runs escalation and exhaustion attempts over Hrana with
// the write, read and other tokens: temporary objects in every spelling,
// temporary triggers that would swallow or delete other tokens' writes,
// process-wide and per-connection PRAGMAs, ATTACH, VACUUM INTO,
// load_extension, the database's path, stream exhaustion by one token,
// store_sql bytes, huge batches, bodies and values, forged and reused
// batons, and BEGIN tricks. After each it checks that the data is what the
// acknowledged writes made it (read from a connection of its own), that
// another token's acknowledged INSERT lands in the main table and is seen
// by the read token, that no connection the other tokens get has anything
// in its temp schema, that foreign keys are still enforced, and that the
// gateway still answers.
func TestHostileHrana(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hostile.db")
	rw, ro, err := gateway.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rw.Close(); _ = ro.Close() })
	const maxBody = 1 << 20
	srv, url := startServer(t, gateway.Config{SQLite: rw, SQLiteReadOnly: ro, MaxBodyBytes: maxBody, MaxStatements: 50,
		MaxStreams: 8, MaxStreamsPerToken: 3, StatementTimeout: 2 * time.Second, HranaMemory: 24 << 20})
	_ = srv
	truth, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = truth.Close() })

	w := &hc{t: t, url: url, token: writeSecret}
	r := &hc{t: t, url: url, token: readSecret}
	o := &hc{t: t, url: url, token: otherSecret}
	w.mustExec(`CREATE TABLE acct (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`)
	w.mustExec(`CREATE TABLE child (pid INTEGER NOT NULL REFERENCES acct (id))`)
	w.mustExec(`INSERT INTO acct (v) VALUES ('a'), ('b'), ('c')`)
	want := []string{"a", "b", "c"}

	probe := 0
	healthy := func(attempt string) {
		t.Helper()
		// Several rounds, so that several pooled connections are used.
		for range 3 {
			probe++
			v := fmt.Sprintf("probe-%d", probe)
			res, e := o.exec(`INSERT INTO acct (v) VALUES (?)`, hrana.TextValue(v))
			if e != nil || res.AffectedRowCount != 1 {
				t.Fatalf("after %s: the other token's INSERT: %v %+v", attempt, e, res)
			}
			want = append(want, v)
			if n := r.scalar(`SELECT count(*) FROM main.acct WHERE v = ?`, hrana.TextValue(v)); n.Int != 1 {
				t.Errorf("after %s: the read token sees %d rows of %s", attempt, n.Int, v)
			}
			for _, c := range []*hc{o, r} {
				if n := c.scalar(`SELECT count(*) FROM temp.sqlite_master`); n.Int != 0 {
					t.Errorf("after %s: a connection of token %s has %d objects in its temp schema", attempt, c.token[:1], n.Int)
				}
			}
			if _, e := o.exec(`INSERT INTO child VALUES (-1)`); e == nil || e.Code != "SQLITE_CONSTRAINT" {
				t.Errorf("after %s: foreign keys are off for the other token: %v", attempt, e)
			}
			if got := o.scalar(`SELECT 'x' LIKE 'X'`); got.Int != 1 {
				t.Errorf("after %s: case_sensitive_like leaked", attempt)
			}
		}
		rows, err := truth.Query(`SELECT v FROM acct ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var v string
			_ = rows.Scan(&v)
			got = append(got, v)
		}
		_ = rows.Close()
		if !slices.Equal(got, want) {
			t.Fatalf("after %s: the table holds %q, want %q", attempt, got, want)
		}
		if n := w.scalar(`SELECT count(*) FROM child`); n.Int != 0 {
			t.Errorf("after %s: child has %d rows", attempt, n.Int)
		}
	}
	refused := func(attempt string, c *hc, sql string, codes ...string) {
		t.Helper()
		_, e := c.exec(sql)
		if e == nil || !slices.Contains(codes, e.Code) {
			t.Errorf("%s: %s: %v, want one of %v", attempt, sql, e, codes)
		} else if strings.Contains(e.Message, dir) || strings.Contains(e.Message, "/etc") || strings.Contains(e.Message, "/tmp") {
			t.Errorf("%s: the error reveals a host path: %s", attempt, e.Message)
		}
	}
	run := func(attempt string, fn func()) {
		t.Helper()
		fn()
		healthy(attempt)
	}
	healthy("setup")
	attempts := 0
	attempt := func(name string, fn func()) { attempts++; run(name, fn) }

	// 1-6. Temporary tables and views shadowing acct, in every spelling:
	// allowed to a write token for its stream, gone with it.
	for _, sql := range []string{
		`CREATE TEMP TABLE acct (id INTEGER PRIMARY KEY, v TEXT)`,
		`CREATE TEMPORARY TABLE acct (id INTEGER PRIMARY KEY, v TEXT)`,
		`CREATE TABLE temp.acct (id INTEGER PRIMARY KEY, v TEXT)`,
		`CREATE TABLE "temp".acct (id INTEGER PRIMARY KEY, v TEXT)`,
		`create table [TEMP].acct (id integer primary key, v text)`,
		`CREATE TEMP VIEW acct AS SELECT 1 AS id, 'shadow' AS v`,
	} {
		attempt(sql, func() { w.mustExec(sql) })
	}
	// 7-8. Temporary triggers on the main table that would delete or
	// silently drop other tokens' writes.
	attempt("temp trigger deleting", func() {
		w.mustExec(`CREATE TRIGGER temp.wipe AFTER INSERT ON main.acct BEGIN DELETE FROM main.acct WHERE id = new.id; END`)
	})
	attempt("temp trigger ignoring", func() {
		w.mustExec(`CREATE TEMP TRIGGER drop_it BEFORE INSERT ON acct BEGIN SELECT RAISE(IGNORE); END`)
	})
	// 9. The same, in a sequence and through store_sql.
	attempt("temp objects in a sequence and stored SQL", func() {
		resp := w.must(nil, hrana.SequenceRequest(`CREATE TEMP TABLE acct (id, v); INSERT INTO acct VALUES (1, 'shadow')`),
			hrana.StoreSQLRequest(1, `CREATE TEMP TRIGGER t2 BEFORE INSERT ON main.acct BEGIN SELECT RAISE(IGNORE); END`),
			hrana.ExecuteRequest(hrana.Stmt{SQLID: ptr(int32(1))}), hrana.CloseRequest())
		for i, res := range resp.Results {
			if res.Error != nil {
				t.Errorf("request %d: %v", i, res.Error)
			}
		}
	})
	// 10. A kept stream's temporary table lives as long as the stream (as
	// Hrana promises), invisible to the others, and goes with it.
	attempt("kept stream with a shadow table", func() {
		resp := w.must(nil, hrana.ExecuteRequest(hrana.NewStmt(`CREATE TEMP TABLE acct (id INTEGER PRIMARY KEY, v TEXT)`, nil, false)),
			hrana.ExecuteRequest(hrana.NewStmt(`INSERT INTO acct (v) VALUES ('shadow')`, nil, false)))
		healthy("a shadow table in an open stream")
		resp = w.must(resp.Baton, hrana.ExecuteRequest(hrana.NewStmt(`SELECT v FROM acct`, nil, true)), hrana.CloseRequest())
		if rows := resp.Results[0].Response.Execute.Rows; len(rows) != 1 || rows[0][0].Text != "shadow" {
			t.Errorf("the stream lost its own temporary table: %s", jsonOf(rows))
		}
	})
	// 11-12. A read token creates nothing, temporary or not.
	attempt("read token: temp table", func() {
		refused("read temp table", r, `CREATE TABLE temp.acct (id, v)`, "SQLITE_AUTH")
		refused("read temp table", r, `CREATE TEMP TABLE x (a)`, "SQLITE_AUTH")
	})
	attempt("read token: temp trigger", func() {
		refused("read temp trigger", r, `CREATE TEMP TRIGGER x BEFORE INSERT ON acct BEGIN SELECT RAISE(IGNORE); END`, "SQLITE_AUTH")
	})
	// 13-14. Process-wide PRAGMAs, for every token, without naming paths.
	attempt("temp_store_directory", func() {
		for _, c := range []*hc{r, w} {
			refused("temp_store_directory", c, `PRAGMA temp_store_directory = '`+dir+`'`, "SQLITE_AUTH")
			refused("temp_store_directory", c, `PRAGMA temp_store_directory = '/etc/nonexistent'`, "SQLITE_AUTH")
			refused("temp_store_directory (read)", c, `PRAGMA temp_store_directory`, "SQLITE_AUTH")
		}
	})
	attempt("data_store_directory and database_list", func() {
		for _, c := range []*hc{r, w} {
			refused("data_store_directory", c, `PRAGMA data_store_directory = '/tmp'`, "SQLITE_AUTH")
			refused("database_list", c, `PRAGMA database_list`, "SQLITE_AUTH")
			refused("pragma_database_list", c, `SELECT file FROM pragma_database_list`, "SQLITE_AUTH")
		}
	})
	// 15. PRAGMAs that would lift a guarantee or lock the others out.
	attempt("dangerous PRAGMAs", func() {
		for _, sql := range []string{`PRAGMA query_only = 0`, `PRAGMA writable_schema = 1`, `PRAGMA locking_mode = EXCLUSIVE`,
			`PRAGMA journal_mode = DELETE`, `PRAGMA schema_version = 1`, `PRAGMA ignore_check_constraints = 1`,
			`PRAGMA cache_size = -2000000`, `PRAGMA mmap_size = 1000000000`, `PRAGMA synchronous = OFF`,
			`PRAGMA soft_heap_limit = 1`, `PRAGMA hard_heap_limit = 1`, `PRAGMA main.busy_timeout = 100000000`} {
			for _, c := range []*hc{r, w} {
				refused("dangerous PRAGMA", c, sql, "SQLITE_AUTH")
			}
		}
		// Reading settings and introspection are allowed.
		for _, sql := range []string{`PRAGMA table_info(acct)`, `PRAGMA index_list(acct)`, `PRAGMA foreign_key_list(child)`,
			`PRAGMA journal_mode`, `PRAGMA query_only`, `PRAGMA user_version`, `SELECT name FROM pragma_table_info('acct')`} {
			if _, e := r.exec(sql); e != nil {
				t.Errorf("read token: %s: %v", sql, e)
			}
		}
	})
	// 16. Per-connection PRAGMAs a write token may set last its stream only.
	attempt("connection PRAGMAs", func() {
		w.mustExec(`PRAGMA foreign_keys = OFF`)
		w.mustExec(`PRAGMA case_sensitive_like = ON`)
		w.mustExec(`PRAGMA recursive_triggers = ON`)
		refused("user_version by a read token", r, `PRAGMA user_version = 7`, "SQLITE_AUTH")
	})
	// 17. ATTACH, in every form.
	attempt("ATTACH", func() {
		for _, c := range []*hc{r, w} {
			refused("ATTACH", c, `ATTACH '`+filepath.Join(dir, "other.db")+`' AS x`, "SQLITE_AUTH")
			refused("ATTACH", c, `ATTACH ':memory:' AS m`, "SQLITE_AUTH")
			refused("ATTACH", c, `attach database 'file:/etc/passwd?mode=ro' as p`, "SQLITE_AUTH")
			refused("DETACH", c, `DETACH main`, "SQLITE_AUTH", "SQLITE_ERROR")
		}
		if _, err := os.Stat(filepath.Join(dir, "other.db")); err == nil {
			t.Errorf("ATTACH created a file")
		}
	})
	// 18. VACUUM INTO a path.
	attempt("VACUUM INTO", func() {
		for _, c := range []*hc{r, w} {
			refused("VACUUM INTO", c, `VACUUM INTO '`+filepath.Join(dir, "copy.db")+`'`, "SQLITE_AUTH")
		}
		if _, err := os.Stat(filepath.Join(dir, "copy.db")); err == nil {
			t.Errorf("VACUUM INTO created a file")
		}
	})
	// 19. load_extension, and the file's raw pages.
	attempt("load_extension and sqlite_dbpage", func() {
		for _, c := range []*hc{r, w} {
			refused("load_extension", c, `SELECT load_extension('/lib/x86_64-linux-gnu/libc.so.6')`, "SQLITE_AUTH", "SQLITE_ERROR")
			refused("sqlite_dbpage", c, `SELECT data FROM sqlite_dbpage`, "SQLITE_AUTH", "SQLITE_ERROR")
		}
	})
	// 20. describe compiles the statement: the authorizer applies.
	attempt("describe", func() {
		resp := w.must(nil, hrana.DescribeRequest(`ATTACH ':memory:' AS m`), hrana.DescribeRequest(`CREATE TEMP TABLE acct (a)`), hrana.CloseRequest())
		if e := resp.Results[0].Error; e == nil || e.Code != "SQLITE_AUTH" {
			t.Errorf("describe ATTACH: %s", jsonOf(resp.Results[0]))
		}
	})
	// 21. BEGIN tricks on a read token: its writes are refused in any
	// transaction, and its open transaction does not block writers.
	attempt("BEGIN tricks on a read token", func() {
		resp := r.must(nil, hrana.ExecuteRequest(hrana.NewStmt(`BEGIN EXCLUSIVE`, nil, false)),
			hrana.ExecuteRequest(hrana.NewStmt(`INSERT INTO acct (v) VALUES ('reader')`, nil, false)))
		if resp.Results[0].Error != nil {
			t.Errorf("read BEGIN EXCLUSIVE: %v", resp.Results[0].Error)
		}
		if e := resp.Results[1].Error; e == nil || e.Code != "SQLITE_READONLY" {
			t.Errorf("read INSERT in a transaction: %v", e)
		}
		healthy("a read transaction left open")
		r.must(resp.Baton, hrana.CloseRequest())
		refused("read BEGIN IMMEDIATE", r, `INSERT INTO acct (v) VALUES ('reader')`, "SQLITE_READONLY")
	})
	// 22. A write token's read-only transaction cannot be lifted.
	attempt("lifting BEGIN TRANSACTION READONLY", func() {
		resp := w.must(nil, hrana.BatchRequest(
			hrana.BatchStep{Stmt: hrana.NewStmt(`BEGIN TRANSACTION READONLY`, nil, false)},
			hrana.BatchStep{Stmt: hrana.NewStmt(`PRAGMA query_only = 0`, nil, false)},
			hrana.BatchStep{Stmt: hrana.NewStmt(`INSERT INTO acct (v) VALUES ('lifted')`, nil, false)},
			hrana.BatchStep{Stmt: hrana.NewStmt(`COMMIT`, nil, false)}), hrana.CloseRequest())
		b := resp.Results[0].Response.Batch
		if b.StepErrors[1] == nil || b.StepErrors[1].Code != "SQLITE_AUTH" || b.StepErrors[2] == nil {
			t.Errorf("read-only transaction lifted: %s", jsonOf(b.StepErrors))
		}
	})
	// 23. Stream exhaustion by one token: it gets its share, the others
	// still open streams.
	attempt("stream exhaustion", func() {
		var batons []*string
		for i := range 5 {
			resp, res := w.post(nil, hrana.ExecuteRequest(hrana.NewStmt(`BEGIN`, nil, false)))
			if i < 3 {
				if resp == nil {
					t.Fatalf("stream %d: %d %s", i, res.status, res.body)
				}
				batons = append(batons, resp.Baton)
				continue
			}
			if _, code := protoError(t, res); res.status != http.StatusTooManyRequests || code != "TOO_MANY_STREAMS" {
				t.Errorf("stream %d of one token: %d %s", i, res.status, res.body)
			}
		}
		resp := o.must(nil, hrana.ExecuteRequest(hrana.NewStmt(`SELECT 1`, nil, true)))
		if resp.Baton == nil {
			t.Errorf("the other token got no stream")
		}
		o.must(resp.Baton, hrana.CloseRequest())
		rresp := r.must(nil, hrana.ExecuteRequest(hrana.NewStmt(`SELECT 1`, nil, true)))
		r.must(rresp.Baton, hrana.CloseRequest())
		// The writer's streams hold transactions, but not the write lock
		// (BEGIN is deferred): the health check's writes go through.
		healthy("one token at its share of streams")
		for _, b := range batons {
			w.must(b, hrana.CloseRequest())
		}
	})
	// 24. store_sql bounded in bytes (and count) per stream.
	attempt("store_sql bytes", func() {
		big := "SELECT '" + strings.Repeat("x", 200<<10) + "'"
		resp := w.must(nil, hrana.StoreSQLRequest(1, big), hrana.StoreSQLRequest(2, big))
		if resp.Results[0].Error != nil {
			t.Errorf("first 200 KiB: %v", resp.Results[0].Error)
		}
		if e := resp.Results[1].Error; e == nil || e.Code != "SQL_STORE_FULL" {
			t.Errorf("400 KiB stored on one stream: %s", jsonOf(resp.Results[1]))
		}
		// Replacing and closing give the bytes back.
		resp = w.must(resp.Baton, hrana.StoreSQLRequest(1, big), hrana.CloseSQLRequest(1), hrana.StoreSQLRequest(2, big), hrana.CloseRequest())
		for i, res := range resp.Results {
			if res.Error != nil {
				t.Errorf("store_sql after close_sql, request %d: %v", i, res.Error)
			}
		}
	})
	// 25. A batch over --max-statements runs nothing.
	attempt("huge batch", func() {
		steps := make([]hrana.BatchStep, 51)
		for i := range steps {
			steps[i] = hrana.BatchStep{Stmt: hrana.NewStmt(`INSERT INTO acct (v) VALUES ('batch')`, nil, false)}
		}
		_, res := w.post(nil, hrana.BatchRequest(steps...), hrana.CloseRequest())
		if _, code := protoError(t, res); res.status != http.StatusBadRequest || code != "TOO_MANY_STATEMENTS" {
			t.Errorf("51 statements: %d %s", res.status, res.body)
		}
	})
	// 26. A body over --max-body is refused before it is decoded.
	attempt("huge body", func() {
		body := `{"requests":[{"type":"execute","stmt":{"sql":"SELECT ?","args":[{"type":"text","value":"` + strings.Repeat("x", maxBody) + `"}]}}]}`
		res := do(t, http.MethodPost, url+"/v2/pipeline", writeSecret, body, nil)
		if _, code := protoError(t, res); res.status != http.StatusRequestEntityTooLarge || code != "REQUEST_TOO_LARGE" {
			t.Errorf("a body over the limit: %d %s", res.status, res.body)
		}
	})
	// 27. Huge values built in SQL stop at SQLITE_LIMIT_LENGTH.
	attempt("huge values", func() {
		for _, c := range []*hc{r, w} {
			refused("zeroblob", c, `SELECT length(zeroblob(2000000000) || 'x')`, "SQLITE_TOOBIG")
			refused("randomblob", c, `SELECT length(randomblob(500000000))`, "SQLITE_TOOBIG")
			refused("printf", c, `SELECT length(printf('%.*c', 100000000, 'x'))`, "SQLITE_TOOBIG")
		}
		w.mustExec(`SELECT length(?)`, hrana.TextValue(strings.Repeat("y", 512<<10)))
	})
	// 28. Forged, foreign and reused batons.
	attempt("batons", func() {
		resp := w.must(nil, hrana.ExecuteRequest(hrana.NewStmt(`SELECT 1`, nil, true)))
		b, _ := base64.RawURLEncoding.DecodeString(*resp.Baton)
		b[3] ^= 1
		forged := base64.RawURLEncoding.EncodeToString(b)
		for _, tc := range []struct {
			c     *hc
			baton string
			code  string
		}{{w, forged, "BATON_INVALID"}, {o, *resp.Baton, "BATON_INVALID"}, {r, *resp.Baton, "BATON_INVALID"}, {w, "x", "BATON_INVALID"}} {
			_, res := tc.c.post(&tc.baton, hrana.ExecuteRequest(hrana.NewStmt(`SELECT 1`, nil, true)))
			if _, code := protoError(t, res); res.status != http.StatusBadRequest || code != tc.code {
				t.Errorf("baton %q by token %s: %d %s", tc.baton, tc.c.token[:1], res.status, res.body)
			}
		}
		next := w.must(resp.Baton, hrana.ExecuteRequest(hrana.NewStmt(`SELECT 1`, nil, true)))
		if _, res := w.post(resp.Baton, hrana.CloseRequest()); res.status != http.StatusBadRequest {
			t.Errorf("reused baton: %d %s", res.status, res.body)
		}
		w.must(next.Baton, hrana.CloseRequest())
	})
	// 29. A write token's open write transaction in a stream, abandoned:
	// it ends with the stream, and its writes are rolled back.
	attempt("abandoned write transaction", func() {
		resp := w.must(nil, hrana.ExecuteRequest(hrana.NewStmt(`BEGIN IMMEDIATE`, nil, false)),
			hrana.ExecuteRequest(hrana.NewStmt(`INSERT INTO acct (v) VALUES ('abandoned')`, nil, false)),
			hrana.ExecuteRequest(hrana.NewStmt(`CREATE TEMP TRIGGER late BEFORE INSERT ON main.acct BEGIN SELECT RAISE(IGNORE); END`, nil, false)))
		for i, res := range resp.Results {
			if res.Error != nil {
				t.Fatalf("request %d: %v", i, res.Error)
			}
		}
		w.must(resp.Baton, hrana.CloseRequest())
	})
	// 30. A response larger than the token's share of --hrana-memory (half
	// of 24 MiB) is refused while the others still run.
	attempt("response memory", func() {
		refused("response memory", w, `SELECT printf('%.*c', 7000000, 'x')`, "SERVER_BUSY")
		if n := o.scalar(`SELECT length(printf('%.*c', 1000000, 'x'))`); n.Int != 1000000 {
			t.Errorf("the other token's query: %d", n.Int)
		}
	})
	if attempts < 20 {
		t.Errorf("%d attempts, want at least 20", attempts)
	}
}

// TestHranaMaxTransaction checks that a write token cannot hold SQLite's
// write lock by keeping a transaction's stream busy: past
// --max-transaction the stream is closed and its transaction rolled back,
// and the other tokens write again. A busy stream outside a transaction
// is not closed.
func TestHranaMaxTransaction(t *testing.T) {
	url := sqliteServer(t, gateway.Config{MaxTransaction: 300 * time.Millisecond})
	w := &hc{t: t, url: url, token: writeSecret}
	o := &hc{t: t, url: url, token: otherSecret}
	w.mustExec(`CREATE TABLE t (v TEXT)`)

	idle := w.must(nil, hrana.ExecuteRequest(hrana.NewStmt(`SELECT 1`, nil, true)))
	start := time.Now() // before the transaction begins
	resp := w.must(nil, hrana.ExecuteRequest(hrana.NewStmt(`BEGIN IMMEDIATE`, nil, false)),
		hrana.ExecuteRequest(hrana.NewStmt(`INSERT INTO t VALUES ('held')`, nil, false)))
	baton := resp.Baton
	for {
		// Both streams are kept busy; only the one in a transaction ends.
		idle = w.must(idle.Baton, hrana.ExecuteRequest(hrana.NewStmt(`SELECT 1`, nil, true)))
		next, res := w.post(baton, hrana.ExecuteRequest(hrana.NewStmt(`SELECT 1`, nil, true)))
		if next == nil {
			if _, code := protoError(t, res); code != "STREAM_EXPIRED" {
				t.Fatalf("the held stream: %d %s", res.status, res.body)
			}
			break
		}
		baton = next.Baton
		if time.Since(start) > 20*time.Second {
			t.Fatal("a stream held a transaction for 20 s with --max-transaction 300ms")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Errorf("the stream ended after %v, before --max-transaction", time.Since(start))
	}
	o.mustExec(`INSERT INTO t VALUES ('other')`)
	if got := jsonOf(o.mustExec(`SELECT v FROM t`).Rows); got != `[[{"type":"text","value":"other"}]]` {
		t.Errorf("after the held transaction ended: %s", got)
	}
	w.must(idle.Baton, hrana.CloseRequest())
}
