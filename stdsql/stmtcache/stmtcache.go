// Package stmtcache keeps prepared statements per database/sql connection,
// keyed by their SQL text, for drivers that prepare a statement for each
// call (modernc.org/sqlite, go-sql-driver/mysql) and so pay for parsing
// and planning the same text again and again.
//
// New wraps a driver.Connector. Every connection it opens keeps up to size
// statements, evicted least recently used first. A statement run through
// the connection's QueryContext or ExecContext (everything database/sql
// runs outside DB.Prepare) is looked up by its text, prepared and cached
// when missing, and run with the call's arguments. These run without the
// cache, exactly as the driver runs them on its own:
//
//   - texts longer than MaxStatementLen (large multi-row inserts, IN lists
//     with thousands of keys rarely repeat exactly);
//   - the same text run again while a Rows still reads from its cached
//     statement (a second cursor on one connection): that call prepares a
//     statement of its own;
//   - with BypassWithoutArgs, statements without arguments;
//   - statements prepared explicitly (DB.Prepare, Conn.PrepareContext),
//     which the caller owns.
//
// A statement evicted while a Rows reads from it leaves the cache at once
// and is closed when that Rows closes; a statement whose call fails is
// closed rather than kept, so an error never leaves a statement in an
// unknown state in the cache; closing the connection closes its idle
// statements first, then the driver's connection. Statements survive
// COMMIT and ROLLBACK: the drivers this is for (SQLite, MySQL) prepare
// statements per connection, not per transaction.
//
// Like every database/sql driver connection, a cached connection is used
// by one goroutine at a time (database/sql holds the connection's lock
// around every call, Rows.Close included), so it takes no lock of its own.
//
// The driver's own connection stays reachable: *Conn's Unwrap returns it,
// for its extensions through sql.Conn.Raw, and *Conn passes the driver's
// driver.NamedValueChecker through, so arguments keep the driver's own
// conversions.
package stmtcache

import (
	"context"
	"database/sql/driver"
	"fmt"
	"reflect"
	"strings"
)

// MaxStatementLen is the length, in bytes, of the longest SQL text the
// cache keeps: longer statements rarely repeat exactly and compile to large
// programs, so they are prepared for each call, as without a cache.
const MaxStatementLen = 16 << 10

// Option configures New.
type Option func(*config)

type config struct {
	bypassNoArgs bool
	prefix, off  string
}

// BypassWithoutArgs runs statements without arguments without the cache.
// For drivers that send such statements as text in one round trip rather
// than preparing them (go-sql-driver/mysql), and servers that cannot
// prepare some statements (MySQL's LOCK TABLES, a few SHOW and SET forms).
func BypassWithoutArgs() Option {
	return func(c *config) { c.bypassNoArgs = true }
}

// Names sets how the cache's errors name their source and the way to turn
// the cache off, e.g. Names("forge/sqlite", "sqlite.StatementCache(0)").
// The default is Names("stmtcache", "a statement cache size of 0").
func Names(prefix, off string) Option {
	return func(c *config) { c.prefix, c.off = prefix, off }
}

// New returns a connector whose connections keep up to size prepared
// statements each (see the package doc), or base itself when size <= 0.
// base's connections must implement driver.ConnPrepareContext,
// driver.ConnBeginTx, driver.QueryerContext, driver.ExecerContext,
// driver.Pinger, driver.SessionResetter and driver.Validator, and its
// statements driver.StmtQueryContext and driver.StmtExecContext; Connect
// fails with an error saying so when a connection does not. A statement
// that lacks them runs without the cache.
func New(base driver.Connector, size int, opts ...Option) driver.Connector {
	if size <= 0 {
		return base
	}
	cfg := config{prefix: "stmtcache", off: "a statement cache size of 0"}
	for _, o := range opts {
		o(&cfg)
	}
	return &connector{base: base, size: size, cfg: cfg}
}

type connector struct {
	base driver.Connector
	size int
	cfg  config
}

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	bc, ok := dc.(baseConn)
	if !ok {
		_ = dc.Close()
		return nil, fmt.Errorf("%s: the driver's connection (%T) lacks the methods the statement cache needs; open with %s", c.cfg.prefix, dc, c.cfg.off)
	}
	nvc, _ := dc.(driver.NamedValueChecker)
	return &Conn{baseConn: bc, nvc: nvc, size: c.size, bypassNoArgs: c.cfg.bypassNoArgs, m: make(map[string]*entry, c.size)}, nil
}

func (c *connector) Driver() driver.Driver { return c.base.Driver() }

// baseConn is what the cache needs of the driver's connection, and all
// that database/sql sees of it through the cache (Unwrap reaches the
// rest).
type baseConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type cachedStmt interface {
	driver.Stmt
	driver.StmtQueryContext
	driver.StmtExecContext
}

type entry struct {
	sql        string
	stmt       cachedStmt
	prev, next *entry // the LRU list: head is the most recently used
	busy       bool   // a Rows reads from the statement
	evicted    bool   // out of the cache while busy: close when the Rows closes
	// rows is the Rows of the current use, kept here so that a query does
	// not allocate one: database/sql calls no method of a driver's Rows
	// once it closed it, so the next use can take it over.
	rows cachedRows
}

// Conn is one driver connection with its statement cache: what New's
// connector returns, and what sql.Conn.Raw sees.
//
// A statement is in the cache and idle, or in the cache and busy (a Rows
// reads from it), or evicted while busy (closed when its Rows closes).
type Conn struct {
	baseConn
	nvc          driver.NamedValueChecker // the driver's, or nil
	size         int
	bypassNoArgs bool
	m            map[string]*entry // nil once closed
	head, tail   *entry
	prepares     int64
	hits         int64
}

var (
	_ driver.QueryerContext    = (*Conn)(nil)
	_ driver.ExecerContext     = (*Conn)(nil)
	_ driver.NamedValueChecker = (*Conn)(nil)
)

// Unwrap returns the driver's connection, for its extensions through
// sql.Conn.Raw.
func (c *Conn) Unwrap() driver.Conn { return c.baseConn }

// Stats describes one connection's cache.
type Stats struct {
	// Size is how many statements the cache keeps at most.
	Size int
	// Len is how many statements it holds now, Busy how many of those a
	// Rows reads from.
	Len, Busy int
	// Prepares counts the statements prepared for the cache, Hits the
	// calls that ran a cached statement.
	Prepares, Hits int64
}

// Stats returns the connection's cache statistics. Like every method of a
// driver connection, call it only where database/sql hands the connection
// over (sql.Conn.Raw).
func (c *Conn) Stats() Stats {
	s := Stats{Size: c.size, Len: len(c.m), Prepares: c.prepares, Hits: c.hits}
	for e := c.head; e != nil; e = e.next {
		if e.busy {
			s.Busy++
		}
	}
	return s
}

// Cached reports whether the cache holds a statement for query (inside
// sql.Conn.Raw, as Stats).
func (c *Conn) Cached(query string) bool { return c.m[query] != nil }

// CheckNamedValue passes the driver's driver.NamedValueChecker through;
// without one, it leaves the argument to database/sql's default
// conversions (driver.ErrSkip).
func (c *Conn) CheckNamedValue(nv *driver.NamedValue) error {
	if c.nvc != nil {
		return c.nvc.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// QueryContext runs query with the cached statement for its text (see the
// package doc).
func (c *Conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	e, err := c.acquire(ctx, query, len(args))
	if err != nil {
		return nil, err
	}
	if e == nil {
		return c.baseConn.QueryContext(ctx, query, args)
	}
	r, err := e.stmt.QueryContext(ctx, args)
	if err != nil {
		c.release(e, false)
		return nil, err
	}
	e.rows = cachedRows{Rows: r, c: c, e: e}
	return &e.rows, nil
}

// ExecContext runs query with the cached statement for its text (see the
// package doc).
func (c *Conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, err := c.acquire(ctx, query, len(args))
	if err != nil {
		return nil, err
	}
	if e == nil {
		return c.baseConn.ExecContext(ctx, query, args)
	}
	res, err := e.stmt.ExecContext(ctx, args)
	c.release(e, err == nil)
	return res, err
}

// Close closes every idle cached statement, then the driver's connection.
// A statement a Rows still reads is closed when that Rows closes.
func (c *Conn) Close() error {
	c.closeAll()
	return c.baseConn.Close()
}

// closeAll empties the cache for good: idle statements are closed, busy
// ones when their Rows closes.
func (c *Conn) closeAll() {
	for e := c.head; e != nil; e = e.next {
		if e.busy {
			e.evicted = true
		} else {
			_ = e.stmt.Close()
		}
	}
	c.m, c.head, c.tail = nil, nil, nil
}

// acquire returns the cached statement for query, marked busy, preparing
// and caching it when missing; nil (and no error) when query is to run
// without the cache: too long, without arguments when those bypass the
// cache, or its statement is busy.
func (c *Conn) acquire(ctx context.Context, query string, nargs int) (*entry, error) {
	if c.m == nil || (nargs == 0 && c.bypassNoArgs) || len(query) > MaxStatementLen {
		return nil, nil
	}
	if e := c.m[query]; e != nil {
		if e.busy {
			return nil, nil
		}
		e.busy = true
		c.unlink(e)
		c.pushFront(e)
		c.hits++
		return e, nil
	}
	s, err := c.baseConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	cs, ok := s.(cachedStmt)
	if !ok {
		_ = s.Close()
		return nil, nil
	}
	c.prepares++
	// The key is a copy: the caller's text may share memory with buffers it
	// reuses, or with its arguments (forge builds both in one allocation),
	// which the cache must neither see change nor keep alive.
	key := strings.Clone(query)
	e := &entry{sql: key, stmt: cs, busy: true}
	c.m[key] = e
	c.pushFront(e)
	for len(c.m) > c.size {
		c.evict(c.tail) // never e: it is the head, and size >= 1
	}
	return e, nil
}

// release ends a call's use of e: the statement stays cached when keep,
// else (the call failed) it is closed.
func (c *Conn) release(e *entry, keep bool) {
	e.busy = false
	if e.evicted {
		_ = e.stmt.Close()
		return
	}
	if !keep {
		c.evict(e)
	}
}

// evict takes e out of the cache and closes its statement, or, while a
// Rows reads from it, leaves that to release.
func (c *Conn) evict(e *entry) {
	delete(c.m, e.sql)
	c.unlink(e)
	if e.busy {
		e.evicted = true
		return
	}
	_ = e.stmt.Close()
}

func (c *Conn) pushFront(e *entry) {
	e.prev, e.next = nil, c.head
	if c.head != nil {
		c.head.prev = e
	}
	c.head = e
	if c.tail == nil {
		c.tail = e
	}
}

func (c *Conn) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else if c.head == e {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else if c.tail == e {
		c.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

// cachedRows reads from a cached statement and gives it back on Close.
type cachedRows struct {
	driver.Rows
	c *Conn
	e *entry
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if e := r.e; e != nil {
		r.e = nil
		r.c.release(e, err == nil)
	}
	return err
}

// The column-type methods database/sql's Rows.ColumnTypes looks for,
// answered by the driver's rows (with database/sql's defaults when it has
// none).

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if x, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return x.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if x, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return x.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return x.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return x.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return x.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
