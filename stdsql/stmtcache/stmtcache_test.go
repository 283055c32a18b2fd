package stmtcache

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// A tiny database/sql driver that records what the cache does with it.
// Every statement's rows are the integers 1, 2, 3, plus the call's first
// argument when it has one. Texts containing BAD fail to prepare, FAIL
// fail to run, CLOSEFAIL fail when their rows close.

type fakeConnector struct {
	checker bool // connections implement driver.NamedValueChecker
	plain   bool // connections lack what the cache needs
	mu      sync.Mutex
	conns   []*fakeConn
}

func (fc *fakeConnector) Connect(context.Context) (driver.Conn, error) {
	c := &fakeConn{open: map[*fakeStmt]bool{}, openAtClose: -1}
	fc.mu.Lock()
	fc.conns = append(fc.conns, c)
	fc.mu.Unlock()
	switch {
	case fc.plain:
		return plainConn{c}, nil
	case fc.checker:
		return &checkerConn{c}, nil
	}
	return c, nil
}

func (fc *fakeConnector) Driver() driver.Driver { return fakeDriver{} }

type fakeDriver struct{}

func (fakeDriver) Open(string) (driver.Conn, error) { return nil, errors.New("use the connector") }

type fakeConn struct {
	open        map[*fakeStmt]bool // prepared and not closed
	prepares    int
	direct      int // calls run without a prepared statement
	doubleClose int
	openAtClose int // statements still open when the connection closed
}

func (c *fakeConn) Prepare(q string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), q)
}

func (c *fakeConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if strings.Contains(q, "BAD") {
		return nil, errors.New("fake: syntax error")
	}
	s := &fakeStmt{c: c, q: q}
	c.open[s] = true
	c.prepares++
	return s, nil
}

func (c *fakeConn) Close() error {
	c.openAtClose = len(c.open)
	return nil
}

func (c *fakeConn) Begin() (driver.Tx, error) { return fakeTx{}, nil }
func (c *fakeConn) BeginTx(context.Context, driver.TxOptions) (driver.Tx, error) {
	return fakeTx{}, nil
}

func (c *fakeConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.direct++
	return run(ctx, q, args)
}

func (c *fakeConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.direct++
	if _, err := run(ctx, q, args); err != nil {
		return nil, err
	}
	return driver.RowsAffected(1), nil
}

func (c *fakeConn) Ping(context.Context) error         { return nil }
func (c *fakeConn) ResetSession(context.Context) error { return nil }
func (c *fakeConn) IsValid() bool                      { return true }

// checkerConn converts a point argument to its text form.
type checkerConn struct{ *fakeConn }

type point struct{ x, y int }

func (c *checkerConn) CheckNamedValue(nv *driver.NamedValue) error {
	if p, ok := nv.Value.(point); ok {
		nv.Value = int64(p.x*10 + p.y)
		return nil
	}
	return driver.ErrSkip
}

// plainConn has only driver.Conn's methods.
type plainConn struct{ c *fakeConn }

func (p plainConn) Prepare(q string) (driver.Stmt, error) { return p.c.Prepare(q) }
func (p plainConn) Close() error                          { return p.c.Close() }
func (p plainConn) Begin() (driver.Tx, error)             { return p.c.Begin() }

type fakeTx struct{}

func (fakeTx) Commit() error   { return nil }
func (fakeTx) Rollback() error { return nil }

type fakeStmt struct {
	c      *fakeConn
	q      string
	closed bool
}

func (s *fakeStmt) Close() error {
	if s.closed {
		s.c.doubleClose++
	}
	s.closed = true
	delete(s.c.open, s)
	return nil
}

func (s *fakeStmt) NumInput() int { return -1 }

func (s *fakeStmt) Exec([]driver.Value) (driver.Result, error) {
	return nil, errors.New("fake: use ExecContext")
}

func (s *fakeStmt) Query([]driver.Value) (driver.Rows, error) {
	return nil, errors.New("fake: use QueryContext")
}

func (s *fakeStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if s.closed {
		return nil, errors.New("fake: statement used after close")
	}
	return run(ctx, s.q, args)
}

func (s *fakeStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if s.closed {
		return nil, errors.New("fake: statement used after close")
	}
	if _, err := run(ctx, s.q, args); err != nil {
		return nil, err
	}
	return driver.RowsAffected(1), nil
}

func run(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if strings.Contains(q, "BAD") {
		return nil, errors.New("fake: syntax error")
	}
	if strings.Contains(q, "FAIL") && !strings.Contains(q, "CLOSEFAIL") {
		return nil, errors.New("fake: the statement failed")
	}
	vals := []driver.Value{int64(1), int64(2), int64(3)}
	if len(args) > 0 {
		vals = append(vals, args[0].Value)
	}
	return &fakeRows{vals: vals, failClose: strings.Contains(q, "CLOSEFAIL")}, nil
}

type fakeRows struct {
	vals      []driver.Value
	failClose bool
}

func (r *fakeRows) Columns() []string { return []string{"n"} }

func (r *fakeRows) Close() error {
	if r.failClose {
		return errors.New("fake: close failed")
	}
	return nil
}

func (r *fakeRows) Next(dest []driver.Value) error {
	if len(r.vals) == 0 {
		return io.EOF
	}
	dest[0], r.vals = r.vals[0], r.vals[1:]
	return nil
}

// open returns a pool over a new fake connector with a cache of size, and
// one pinned connection of it.
func open(t *testing.T, fc *fakeConnector, size int, opts ...Option) (*sql.DB, *sql.Conn) {
	t.Helper()
	db := sql.OpenDB(New(fc, size, opts...))
	t.Cleanup(func() { _ = db.Close() })
	sc, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sc.Close() })
	return db, sc
}

// cacheOf runs fn on sc's cached connection and the fake under it.
func cacheOf(t *testing.T, sc *sql.Conn, fn func(c *Conn, f *fakeConn)) {
	t.Helper()
	err := sc.Raw(func(dc any) error {
		c, ok := dc.(*Conn)
		if !ok {
			return fmt.Errorf("driver connection is %T, not the statement cache", dc)
		}
		var f *fakeConn
		switch b := c.Unwrap().(type) {
		case *fakeConn:
			f = b
		case *checkerConn:
			f = b.fakeConn
		default:
			return fmt.Errorf("Unwrap returned %T", b)
		}
		fn(c, f)
		n := 0
		for e := c.head; e != nil; e = e.next {
			n++
		}
		if n != len(c.m) {
			t.Errorf("LRU list holds %d statements, map %d", n, len(c.m))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func query(t *testing.T, sc *sql.Conn, q string, args ...any) []int64 {
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

func TestReuses(t *testing.T) {
	_, sc := open(t, &fakeConnector{}, 8)
	for i := range 5 {
		if got := fmt.Sprint(query(t, sc, "SELECT ?", int64(i))); got != fmt.Sprintf("[1 2 3 %d]", i) {
			t.Fatal(got)
		}
	}
	if _, err := sc.ExecContext(context.Background(), "INSERT ?", 1); err != nil {
		t.Fatal(err)
	}
	query(t, sc, "SELECT 1")
	cacheOf(t, sc, func(c *Conn, f *fakeConn) {
		st := c.Stats()
		if st != (Stats{Size: 8, Len: 3, Busy: 0, Prepares: 3, Hits: 4}) {
			t.Errorf("stats %+v", st)
		}
		if f.prepares != 3 || f.direct != 0 || len(f.open) != 3 {
			t.Errorf("driver: %d prepares, %d direct calls, %d open statements; want 3, 0, 3", f.prepares, f.direct, len(f.open))
		}
		if !c.Cached("SELECT ?") || !c.Cached("SELECT 1") || c.Cached("SELECT 2") {
			t.Error("Cached disagrees with what ran")
		}
	})
}

func TestBypassWithoutArgs(t *testing.T) {
	_, sc := open(t, &fakeConnector{}, 8, BypassWithoutArgs())
	query(t, sc, "SHOW x")
	query(t, sc, "SHOW x")
	if _, err := sc.ExecContext(context.Background(), "LOCK x"); err != nil {
		t.Fatal(err)
	}
	query(t, sc, "SELECT ?", 1)
	query(t, sc, "SELECT ?", 2)
	cacheOf(t, sc, func(c *Conn, f *fakeConn) {
		if f.direct != 3 || f.prepares != 1 || c.Cached("SHOW x") || !c.Cached("SELECT ?") {
			t.Errorf("%d direct calls, %d prepares: want statements without arguments to bypass the cache", f.direct, f.prepares)
		}
	})
}

func TestBoundedLRU(t *testing.T) {
	_, sc := open(t, &fakeConnector{}, 8)
	for i := range 100 {
		query(t, sc, fmt.Sprintf("SELECT %d", i))
		cacheOf(t, sc, func(c *Conn, f *fakeConn) {
			if len(c.m) > 8 || len(f.open) != len(c.m) {
				t.Fatalf("after %d statements: %d cached, %d open; want at most 8, the same", i+1, len(c.m), len(f.open))
			}
		})
	}
	cached := func(q string) (ok bool) {
		cacheOf(t, sc, func(c *Conn, _ *fakeConn) { ok = c.Cached(q) })
		return ok
	}
	for i := 92; i < 100; i++ {
		if !cached(fmt.Sprintf("SELECT %d", i)) {
			t.Errorf("statement %d, among the 8 most recent, was evicted", i)
		}
	}
	query(t, sc, "SELECT 92")
	for i := 100; i < 107; i++ {
		query(t, sc, fmt.Sprintf("SELECT %d", i))
	}
	if !cached("SELECT 92") || cached("SELECT 93") {
		t.Error("eviction is not least recently used first")
	}
	long := "SELECT 1" + strings.Repeat(" ", MaxStatementLen)
	query(t, sc, long)
	if cached(long) {
		t.Error("a statement over MaxStatementLen was cached")
	}
	query(t, sc, long[:MaxStatementLen])
	if !cached(long[:MaxStatementLen]) {
		t.Error("a statement of MaxStatementLen bytes was not cached")
	}
	cacheOf(t, sc, func(_ *Conn, f *fakeConn) {
		if f.doubleClose != 0 {
			t.Errorf("%d statements closed twice", f.doubleClose)
		}
	})
}

func TestEvictionWhileRowsOpen(t *testing.T) {
	ctx := context.Background()
	_, sc := open(t, &fakeConnector{}, 2)
	const sel = "SELECT n"
	rows, err := sc.QueryContext(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	var first *entry
	cacheOf(t, sc, func(c *Conn, _ *fakeConn) {
		first = c.m[sel]
		if first == nil || !first.busy || c.Stats().Busy != 1 {
			t.Fatalf("entry %+v: want cached and busy", first)
		}
	})
	for i := range 4 {
		query(t, sc, fmt.Sprintf("SELECT %d", i))
	}
	cacheOf(t, sc, func(c *Conn, f *fakeConn) {
		if c.Cached(sel) || !first.evicted || !f.open[first.stmt.(*fakeStmt)] {
			t.Fatal("the busy statement was not evicted, or was closed under its rows")
		}
	})
	query(t, sc, sel) // prepared afresh
	var again *entry
	cacheOf(t, sc, func(c *Conn, _ *fakeConn) { again = c.m[sel] })
	if again == nil || again == first {
		t.Fatal("the same SQL run after eviction is not cached afresh")
	}
	// While the cached statement is busy, the same SQL runs uncached.
	rows2, err := sc.QueryContext(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	direct := 0
	cacheOf(t, sc, func(_ *Conn, f *fakeConn) { direct = f.direct })
	if got := query(t, sc, sel); len(got) != 3 {
		t.Fatal(got)
	}
	cacheOf(t, sc, func(_ *Conn, f *fakeConn) {
		if f.direct != direct+1 {
			t.Error("the same SQL, while its statement was busy, did not run uncached")
		}
	})
	var n int
	for rows.Next() {
		n++
	}
	for rows2.Next() {
		n++
	}
	if err := errors.Join(rows.Err(), rows2.Err(), rows.Close(), rows2.Close()); err != nil || n != 5 {
		t.Fatal(n, err)
	}
	cacheOf(t, sc, func(c *Conn, f *fakeConn) {
		if f.open[first.stmt.(*fakeStmt)] {
			t.Error("the evicted statement stayed open after its rows closed")
		}
		if c.m[sel] != again || again.busy || c.Stats().Busy != 0 {
			t.Error("the cached statement was not given back when its rows closed")
		}
	})
}

func TestCloseClosesEveryStatement(t *testing.T) {
	fc := &fakeConnector{}
	db, sc := open(t, fc, 64)
	for i := range 20 {
		query(t, sc, fmt.Sprintf("SELECT %d", i))
	}
	if err := sc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if len(fc.conns) != 1 || fc.conns[0].openAtClose != 0 {
		t.Fatalf("the connection closed with %d statements open, want 0", fc.conns[0].openAtClose)
	}
	// Closed while a statement is busy: it is closed with its rows.
	dc, err := New(&fakeConnector{}, 4).Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := dc.(*Conn)
	r, err := c.QueryContext(context.Background(), "SELECT n", nil)
	if err != nil {
		t.Fatal(err)
	}
	e := c.head
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if e.stmt.(*fakeStmt).closed {
		t.Fatal("a statement was closed under its open rows")
	}
	if err := r.Close(); err != nil || !e.stmt.(*fakeStmt).closed {
		t.Fatalf("statement not closed when its rows closed after the connection (%v)", err)
	}
	// The cache is off for good: statements still run, uncached.
	if _, err := c.ExecContext(context.Background(), "SELECT 7", nil); err != nil || c.Cached("SELECT 7") {
		t.Fatal("a statement was cached after the connection closed", err)
	}
}

func TestErrorsDoNotPoison(t *testing.T) {
	ctx := context.Background()
	_, sc := open(t, &fakeConnector{}, 8)
	check := func(q string, wantCached bool) {
		t.Helper()
		cacheOf(t, sc, func(c *Conn, f *fakeConn) {
			if c.Cached(q) != wantCached {
				t.Errorf("%q cached: %v, want %v", q, c.Cached(q), wantCached)
			}
			if len(f.open) != len(c.m) {
				t.Errorf("%d statements open, %d cached", len(f.open), len(c.m))
			}
		})
	}
	if _, err := sc.ExecContext(ctx, "INSERT FAIL", 1); err == nil {
		t.Fatal("failing exec succeeded")
	}
	check("INSERT FAIL", false)
	if _, err := sc.QueryContext(ctx, "SELECT FAIL", 1); err == nil {
		t.Fatal("failing query succeeded")
	}
	check("SELECT FAIL", false)
	if _, err := sc.ExecContext(ctx, "BAD"); err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Fatalf("prepare error: %v", err)
	}
	check("BAD", false)
	rows, err := sc.QueryContext(ctx, "SELECT CLOSEFAIL")
	if err != nil {
		t.Fatal(err)
	}
	if err := rows.Close(); err == nil {
		t.Fatal("failing rows close succeeded")
	}
	check("SELECT CLOSEFAIL", false)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := sc.QueryContext(cctx, "SELECT ?", 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled query: %v", err)
	}
	if got := fmt.Sprint(query(t, sc, "SELECT ?", 9)); got != "[1 2 3 9]" {
		t.Fatal(got)
	}
	check("SELECT ?", true)
}

func TestNamedValueChecker(t *testing.T) {
	// The driver's checker converts a point.
	_, sc := open(t, &fakeConnector{checker: true}, 8)
	if got := fmt.Sprint(query(t, sc, "SELECT ?", point{4, 2})); got != "[1 2 3 42]" {
		t.Fatal(got)
	}
	// Without one, database/sql's default conversions apply: a point is
	// refused, a named int type converted.
	_, sc = open(t, &fakeConnector{}, 8)
	if _, err := sc.QueryContext(context.Background(), "SELECT ?", point{4, 2}); err == nil {
		t.Fatal("a point passed database/sql's default conversions")
	}
	type myInt int
	if got := fmt.Sprint(query(t, sc, "SELECT ?", myInt(5))); got != "[1 2 3 5]" {
		t.Fatal(got)
	}
}

func TestConnectNeedsMethods(t *testing.T) {
	fc := &fakeConnector{plain: true}
	db := sql.OpenDB(New(fc, 4, Names("forge/x", "x.StatementCache(0)")))
	defer db.Close()
	err := db.PingContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "forge/x: ") || !strings.Contains(err.Error(), "open with x.StatementCache(0)") {
		t.Fatalf("connect: %v", err)
	}
	if fc.conns[0].openAtClose != 0 {
		t.Fatal("the refused connection was not closed")
	}
}

func TestOff(t *testing.T) {
	fc := &fakeConnector{}
	for _, n := range []int{0, -1} {
		if c := New(fc, n); c != driver.Connector(fc) {
			t.Fatalf("New(base, %d) = %T, want base", n, c)
		}
	}
}

// The cache keeps its own copy of the text: forge returns statement texts
// that share memory with their arguments, and a caller may reuse a buffer.
func TestKeyIsACopy(t *testing.T) {
	_, sc := open(t, &fakeConnector{}, 8)
	buf := []byte("SELECT 1")
	query(t, sc, unsafe.String(&buf[0], len(buf)))
	copy(buf, "SELECT 2")
	cacheOf(t, sc, func(c *Conn, _ *fakeConn) {
		for k, e := range c.m {
			if k != "SELECT 1" || e.sql != "SELECT 1" {
				t.Fatalf("cache key %q (entry %q) changed with the caller's buffer", k, e.sql)
			}
		}
	})
}

// Many goroutines on a pool of a few connections, with evictions: run
// with -race.
func TestConcurrentConnections(t *testing.T) {
	ctx := context.Background()
	db := sql.OpenDB(New(&fakeConnector{}, 4))
	defer db.Close()
	db.SetMaxOpenConns(3)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				var last int64
				rows, err := db.QueryContext(ctx, fmt.Sprintf("SELECT %d, ?", i%7), int64(g*1000+i))
				if err != nil {
					errs <- err
					return
				}
				for rows.Next() {
					if err := rows.Scan(&last); err != nil {
						errs <- err
						return
					}
				}
				if err := errors.Join(rows.Err(), rows.Close()); err != nil || last != int64(g*1000+i) {
					errs <- fmt.Errorf("worker %d: last value %d, %v", g, last, err)
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
}

// BenchmarkQuery runs one statement with an argument through database/sql
// on the fake driver, cached and not: the cache's own cost per call.
func BenchmarkQuery(b *testing.B) {
	for _, size := range []int{0, 8} {
		b.Run(fmt.Sprint("size=", size), func(b *testing.B) {
			ctx := context.Background()
			db := sql.OpenDB(New(&fakeConnector{}, size))
			defer db.Close()
			b.ReportAllocs()
			for b.Loop() {
				rows, err := db.QueryContext(ctx, "SELECT ?", int64(7))
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
				}
				if err := errors.Join(rows.Err(), rows.Close()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
