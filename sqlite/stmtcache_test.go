//go:build !(js && wasm)

package sqlite

import (
	"context"
	"database/sql"
	sqldriver "database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/stdsql/stmtcache"
	msqlite "modernc.org/sqlite"
)

// openCached opens a file database with a statement cache of size
// statements per connection.
func openCached(t *testing.T, size int) *sql.DB {
	t.Helper()
	conn, err := Open(filepath.Join(t.TempDir(), "cache.db"), StatementCache(size))
	if err != nil {
		t.Fatal(err)
	}
	db := conn.DB()
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// pinned returns one connection of db for the whole test.
func pinned(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	sc, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sc.Close() })
	return sc
}

// cacheOf runs fn on sc's statement cache.
func cacheOf(t *testing.T, sc *sql.Conn, fn func(c *stmtcache.Conn)) {
	t.Helper()
	err := sc.Raw(func(dc any) error {
		c, ok := dc.(*stmtcache.Conn)
		if !ok {
			return fmt.Errorf("driver connection is %T, not the statement cache", dc)
		}
		fn(c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// cached reports whether sc's cache holds a statement for query.
func cached(t *testing.T, sc *sql.Conn, query string) bool {
	t.Helper()
	ok := false
	cacheOf(t, sc, func(c *stmtcache.Conn) { ok = c.Cached(query) })
	return ok
}

func statsOf(t *testing.T, sc *sql.Conn) stmtcache.Stats {
	t.Helper()
	var st stmtcache.Stats
	cacheOf(t, sc, func(c *stmtcache.Conn) { st = c.Stats() })
	return st
}

func mustExec(t *testing.T, sc *sql.Conn, q string, args ...any) {
	t.Helper()
	if _, err := sc.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func queryInts(t *testing.T, sc *sql.Conn, q string, args ...any) []int64 {
	t.Helper()
	rows, err := sc.QueryContext(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStatementCacheReuses(t *testing.T) {
	sc := pinned(t, openCached(t, 8))
	mustExec(t, sc, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL) STRICT")
	const ins = "INSERT INTO t (v) VALUES (?)"
	mustExec(t, sc, ins, "a")
	if !cached(t, sc, ins) {
		t.Fatal("the insert is not cached")
	}
	prepares := statsOf(t, sc).Prepares
	mustExec(t, sc, ins, "b")
	if st := statsOf(t, sc); st.Prepares != prepares || !cached(t, sc, ins) {
		t.Fatal("the second insert prepared a new statement")
	}
	const sel = "SELECT id FROM t WHERE v = ?"
	for i, v := range []string{"a", "b", "a"} {
		got := queryInts(t, sc, sel, v)
		if len(got) != 1 || got[0] != int64(1+i%2) {
			t.Fatalf("%s %q = %v", sel, v, got)
		}
	}
	if st := statsOf(t, sc); !cached(t, sc, sel) || st.Busy != 0 {
		t.Fatalf("select cached: %v, %+v: want cached and idle", cached(t, sc, sel), st)
	}
}

func TestStatementCacheBounded(t *testing.T) {
	sc := pinned(t, openCached(t, 8))
	for i := range 100 {
		got := queryInts(t, sc, fmt.Sprintf("SELECT ? + %d", i), int64(1))
		if len(got) != 1 || got[0] != int64(i+1) {
			t.Fatalf("statement %d gave %v", i, got)
		}
		if n := statsOf(t, sc).Len; n > 8 {
			t.Fatalf("after %d statements the cache holds %d, want at most 8", i+1, n)
		}
	}
	// Least recently used goes first: the last eight are cached; using one
	// keeps it when newer statements arrive.
	for i := 92; i < 100; i++ {
		if !cached(t, sc, fmt.Sprintf("SELECT ? + %d", i)) {
			t.Errorf("statement %d, among the 8 most recent, was evicted", i)
		}
	}
	queryInts(t, sc, "SELECT ? + 92", int64(0))
	for i := 100; i < 107; i++ {
		queryInts(t, sc, fmt.Sprintf("SELECT ? + %d", i), int64(0))
	}
	if !cached(t, sc, "SELECT ? + 92") || cached(t, sc, "SELECT ? + 93") {
		t.Error("eviction is not least recently used first")
	}
	// Texts over MaxCachedStatementLen run without the cache.
	long := "SELECT 1" + strings.Repeat(" ", MaxCachedStatementLen)
	if got := queryInts(t, sc, long); len(got) != 1 || got[0] != 1 {
		t.Fatalf("long statement gave %v", got)
	}
	if cached(t, sc, long) {
		t.Error("a statement over MaxCachedStatementLen was cached")
	}
}

func TestStatementCacheEvictionWhileRowsOpen(t *testing.T) {
	ctx := context.Background()
	sc := pinned(t, openCached(t, 2))
	mustExec(t, sc, "CREATE TABLE t (id INTEGER PRIMARY KEY) STRICT")
	for range 10 {
		mustExec(t, sc, "INSERT INTO t DEFAULT VALUES")
	}
	const sel = "SELECT id FROM t ORDER BY id"
	rows, err := sc.QueryContext(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	if st := statsOf(t, sc); !cached(t, sc, sel) || st.Busy != 1 {
		t.Fatalf("%+v: want the select cached and busy", st)
	}
	// Push it out while the rows are open, then run it again while its
	// statement is still read: that run prepares its own statement.
	for i := range 4 {
		queryInts(t, sc, fmt.Sprintf("SELECT %d", i))
	}
	if cached(t, sc, sel) {
		t.Fatal("the busy statement was not evicted")
	}
	prepares := statsOf(t, sc).Prepares
	if got := queryInts(t, sc, sel); len(got) != 10 {
		t.Fatalf("second read of the same SQL: %v", got)
	}
	if !cached(t, sc, sel) || statsOf(t, sc).Prepares != prepares+1 {
		t.Fatal("the same SQL run after eviction is not cached afresh")
	}
	// A third read while a cached statement is busy takes its own statement.
	rows2, err := sc.QueryContext(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	rows3, err := sc.QueryContext(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	var ids, ids2, ids3 []int64
	for k := int64(1); ; k++ {
		n1, n2, n3 := rows.Next(), rows2.Next(), rows3.Next()
		if !n2 || !n3 || n1 != (k < 10) {
			break
		}
		var a, b, c int64
		if n1 {
			if err := rows.Scan(&a); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, a)
		}
		if err := rows2.Scan(&b); err != nil {
			t.Fatal(err)
		}
		if err := rows3.Scan(&c); err != nil {
			t.Fatal(err)
		}
		ids2, ids3 = append(ids2, b), append(ids3, c)
	}
	for _, r := range []*sql.Rows{rows, rows2, rows3} {
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	want := "[2 3 4 5 6 7 8 9 10]"
	if fmt.Sprint(ids) != want || len(ids2) != 10 || len(ids3) != 10 || ids2[9] != 10 || ids3[9] != 10 {
		t.Fatalf("interleaved reads: %v / %v / %v", ids, ids2, ids3)
	}
	if st := statsOf(t, sc); st.Busy != 0 || !cached(t, sc, sel) || st.Prepares != prepares+1 {
		t.Fatal("statements not given back when their rows closed")
	}
}

// statusAtClose is modernc.org/sqlite's connection, recording how many
// bytes its prepared statements hold when it is closed.
type statusAtClose struct {
	sqliteConn
	used *int
}

type sqliteConn interface {
	sqldriver.Conn
	sqldriver.ConnPrepareContext
	sqldriver.ConnBeginTx
	sqldriver.QueryerContext
	sqldriver.ExecerContext
	sqldriver.Pinger
	sqldriver.SessionResetter
	sqldriver.Validator
	msqlite.DBStatus
}

func (c statusAtClose) Close() error {
	n, _, err := c.Status(msqlite.DBStatusStmtUsed, false)
	if err != nil {
		return err
	}
	*c.used = n
	return c.sqliteConn.Close()
}

type statusConnector struct {
	sqldriver.Connector
	used *int
}

func (c statusConnector) Connect(ctx context.Context) (sqldriver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return statusAtClose{dc.(sqliteConn), c.used}, nil
}

// Closing a connection finalizes its cached statements before SQLite's
// connection closes.
func TestStatementCacheCloseFinalizesAll(t *testing.T) {
	mc, err := msqlite.NewConnector("file:" + filepath.Join(t.TempDir(), "close.db"))
	if err != nil {
		t.Fatal(err)
	}
	used := -1
	db := sql.OpenDB(stmtcache.New(statusConnector{mc, &used}, 64))
	sc := pinned(t, db)
	for i := range 20 {
		queryInts(t, sc, fmt.Sprintf("SELECT %d", i))
	}
	cacheOf(t, sc, func(c *stmtcache.Conn) {
		before, _, err := c.Unwrap().(msqlite.DBStatus).Status(msqlite.DBStatusStmtUsed, false)
		if err != nil {
			t.Fatal(err)
		}
		if c.Stats().Len != 20 || before == 0 {
			t.Fatalf("%d statements cached, %d bytes: want 20 and memory", c.Stats().Len, before)
		}
	})
	if err := errors.Join(sc.Close(), db.Close()); err != nil {
		t.Fatal(err)
	}
	if used != 0 {
		t.Fatalf("when the connection closed, statements held %d bytes, want 0", used)
	}
}

func TestStatementCacheSchemaChanges(t *testing.T) {
	db := openCached(t, 16)
	a, b := pinned(t, db), pinned(t, db)
	mustExec(t, a, "CREATE TABLE t (x INTEGER, y TEXT) STRICT")
	mustExec(t, a, "INSERT INTO t VALUES (1, 'one')")
	const sel = "SELECT * FROM t"
	cols := func(sc *sql.Conn) string {
		rows, err := sc.QueryContext(context.Background(), sel)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		names, _ := rows.Columns()
		vals := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		var out []string
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%v=%v", names, vals))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return strings.Join(out, ";")
	}
	if got := cols(a); got != "[x y]=[1 one]" {
		t.Fatal(got)
	}
	prepares := statsOf(t, a).Prepares
	// Another connection adds a column: a's cached statement is recompiled.
	mustExec(t, b, "ALTER TABLE t ADD COLUMN z INTEGER NOT NULL DEFAULT 7")
	if got := cols(a); got != "[x y z]=[1 one 7]" {
		t.Fatal("after ADD COLUMN:", got)
	}
	if statsOf(t, a).Prepares != prepares || !cached(t, a, sel) {
		t.Fatal("the statement was prepared anew instead of recompiled")
	}
	// Catalog reads (what migrate.Inspect runs) see the change too, on the
	// connection that made it and on another one.
	const info = "PRAGMA table_info(t)"
	names := func(sc *sql.Conn) string {
		rows, err := sc.QueryContext(context.Background(), info)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var cid, notnull, pk int
			var name, typ string
			var dflt any
			if err := rows.Scan(&cid, &name, &typ, &notnull, &dflt, &pk); err != nil {
				t.Fatal(err)
			}
			out = append(out, name)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return strings.Join(out, ",")
	}
	if got, got2 := names(a), names(b); got != "x,y,z" || got2 != "x,y,z" {
		t.Fatal(got, got2)
	}
	mustExec(t, a, "ALTER TABLE t ADD COLUMN w TEXT")
	if got, got2 := names(a), names(b); got != "x,y,z,w" || got2 != "x,y,z,w" {
		t.Fatal("table_info after ALTER:", got, got2)
	}
	mustExec(t, b, "ALTER TABLE t DROP COLUMN w")
	// Dropped and created again with the same name, other columns and types.
	const ins = "INSERT INTO t (x, y) VALUES (?, ?)"
	mustExec(t, a, ins, 2, "two")
	mustExec(t, b, "DROP TABLE t")
	mustExec(t, b, "CREATE TABLE t (p TEXT, q BLOB, r REAL, s TEXT, x TEXT) STRICT")
	mustExec(t, b, "INSERT INTO t VALUES ('p', x'01', 1.5, 's', 'x')")
	if got := cols(a); got != "[p q r s x]=[p [1] 1.5 s x]" {
		t.Fatal("after DROP and CREATE:", got)
	}
	// The cached insert names a column that no longer exists: it fails like
	// a new prepare would, and leaves the cache.
	_, err := a.ExecContext(context.Background(), ins, 3, "three")
	if err == nil || !strings.Contains(err.Error(), "y") {
		t.Fatalf("insert into a dropped column: %v", err)
	}
	if cached(t, a, ins) {
		t.Fatal("the failed statement stayed cached")
	}
	// Dropped for good: the cached select fails, then works once the table
	// is back.
	mustExec(t, b, "DROP TABLE t")
	if _, err := a.QueryContext(context.Background(), sel); err == nil || !strings.Contains(err.Error(), "no such table") {
		t.Fatalf("select from a dropped table: %v", err)
	}
	mustExec(t, b, "CREATE TABLE t (k INTEGER) STRICT")
	mustExec(t, b, "INSERT INTO t VALUES (42)")
	if got := cols(a); got != "[k]=[42]" {
		t.Fatal("after CREATE again:", got)
	}
}

func TestStatementCacheTransactions(t *testing.T) {
	ctx := context.Background()
	db := openCached(t, 16)
	db.SetMaxOpenConns(1) // every transaction on the one connection and its cache
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (v TEXT NOT NULL) STRICT"); err != nil {
		t.Fatal(err)
	}
	const ins = "INSERT INTO t (v) VALUES (?)"
	const count = "SELECT count(*) FROM t WHERE v = ?"
	run := func(v string, commit bool) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, ins, v); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, count, v).Scan(&n); err != nil || n != 1 {
			t.Fatalf("inside the transaction: %d rows of %q, %v", n, v, err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	run("kept", true)
	run("undone", false)
	run("kept too", true)
	for v, want := range map[string]int{"kept": 1, "undone": 0, "kept too": 1} {
		var n int
		if err := db.QueryRowContext(ctx, count, v).Scan(&n); err != nil || n != want {
			t.Fatalf("%q: %d rows, %v; want %d", v, n, err, want)
		}
	}
	// A table created in a rolled-back transaction: its cached insert
	// fails afterwards, then works on the table created again.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	const ins2 = "INSERT INTO u (a) VALUES (?)"
	for _, q := range []string{"CREATE TABLE u (a INTEGER) STRICT", ins2} {
		if _, err := tx.ExecContext(ctx, q, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, ins2, 1); err == nil || !strings.Contains(err.Error(), "no such table") {
		t.Fatalf("insert after rollback: %v", err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE u (b TEXT, a INTEGER) STRICT"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, ins2, 5); err != nil {
		t.Fatal(err)
	}
	var a int
	if err := db.QueryRowContext(ctx, "SELECT a FROM u").Scan(&a); err != nil || a != 5 {
		t.Fatal(a, err)
	}
}

func TestStatementCacheErrorsDoNotPoison(t *testing.T) {
	ctx := context.Background()
	sc := pinned(t, openCached(t, 16))
	mustExec(t, sc, "CREATE TABLE t (v TEXT NOT NULL UNIQUE) STRICT")
	const ins = "INSERT INTO t (v) VALUES (?)"
	mustExec(t, sc, ins, "a")
	_, err := sc.ExecContext(ctx, ins, "a")
	var ce *driver.ConstraintError
	if !errors.As(MapError(err), &ce) || ce.Kind != driver.Unique {
		t.Fatalf("duplicate insert: %v", err)
	}
	if cached(t, sc, ins) {
		t.Fatal("the failed statement stayed cached")
	}
	mustExec(t, sc, ins, "b")
	// An error while stepping (integer overflow), then the same statement
	// with good arguments.
	const abs = "SELECT abs(?)"
	var v int64
	if err := sc.QueryRowContext(ctx, abs, int64(-1<<63)).Scan(&v); err == nil || !strings.Contains(err.Error(), "overflow") {
		t.Fatalf("abs(min int64): %d, %v", v, err)
	}
	if cached(t, sc, abs) {
		t.Fatal("the failed statement stayed cached")
	}
	if got := queryInts(t, sc, abs, int64(-5)); len(got) != 1 || got[0] != 5 {
		t.Fatal(got)
	}
	// A syntax error is never cached.
	if _, err := sc.ExecContext(ctx, "INSERT INTO"); err == nil {
		t.Fatal("syntax error accepted")
	}
	if cached(t, sc, "INSERT INTO") {
		t.Fatal("a statement that failed to prepare is cached")
	}
	// A cancelled context, then the same statement.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := sc.QueryContext(cctx, abs, int64(1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled query: %v", err)
	}
	if got := queryInts(t, sc, abs, int64(-6)); len(got) != 1 || got[0] != 6 {
		t.Fatal(got)
	}
	var n int
	if err := sc.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Fatal(n, err)
	}
}

func TestStatementCacheConcurrentConnections(t *testing.T) {
	ctx := context.Background()
	db := openCached(t, 4)
	db.SetMaxOpenConns(4)
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (g INTEGER NOT NULL, i INTEGER NOT NULL) STRICT"); err != nil {
		t.Fatal(err)
	}
	const workers, each = 4, 100
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for g := range workers {
		wg.Go(func() {
			for i := range each {
				if _, err := db.ExecContext(ctx, "INSERT INTO t (g, i) VALUES (?, ?)", g, i); err != nil {
					errs <- err
					return
				}
				var n int
				if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE g = ?", g).Scan(&n); err != nil || n != i+1 {
					errs <- fmt.Errorf("worker %d after %d inserts counts %d (%v)", g, i+1, n, err)
					return
				}
				// A statement per iteration too: evictions under load.
				var v int
				if err := db.QueryRowContext(ctx, fmt.Sprintf("SELECT %d + ?", i%9), g).Scan(&v); err != nil || v != i%9+g {
					errs <- fmt.Errorf("worker %d: %d, %v", g, v, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != workers*each {
		t.Fatal(n, err)
	}
}

func TestStatementCacheOff(t *testing.T) {
	sc := pinned(t, openCached(t, 0))
	err := sc.Raw(func(dc any) error {
		if _, ok := dc.(*stmtcache.Conn); ok {
			return errors.New("StatementCache(0) still caches")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := queryInts(t, sc, "SELECT 3"); len(got) != 1 || got[0] != 3 {
		t.Fatal(got)
	}
}

func TestStatementCacheUnwrap(t *testing.T) {
	sc := pinned(t, openCached(t, 8))
	// modernc.org/sqlite's helpers reach its connection through Unwrap.
	if _, err := msqlite.Limit(sc, 7 /* SQLITE_LIMIT_ATTACHED */, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.ExecContext(context.Background(), "ATTACH ':memory:' AS other"); err == nil {
		t.Fatal("ATTACH allowed past a limit of 0")
	}
	// database/sql's column types come from the driver's rows.
	rows, err := sc.QueryContext(context.Background(), "SELECT CAST(1 AS INTEGER) AS n")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil || len(cts) != 1 || cts[0].Name() != "n" {
		t.Fatal(cts, err)
	}
}

// The cache keeps its own copy of the text: forge returns statement texts
// that share memory with their arguments, and a caller may reuse a buffer.
func TestStatementCacheKeyIsACopy(t *testing.T) {
	sc := pinned(t, openCached(t, 8))
	buf := []byte("SELECT 1")
	q := unsafe.String(&buf[0], len(buf))
	if got := queryInts(t, sc, q); len(got) != 1 || got[0] != 1 {
		t.Fatal(got)
	}
	copy(buf, "SELECT 2")
	if !cached(t, sc, "SELECT 1") || cached(t, sc, "SELECT 2") || statsOf(t, sc).Len != 1 {
		t.Fatal("the cache key changed with the caller's buffer")
	}
	if got := queryInts(t, sc, "SELECT 1"); len(got) != 1 || got[0] != 1 {
		t.Fatal(got)
	}
}
