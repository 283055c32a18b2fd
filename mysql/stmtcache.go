package mysql

import (
	"context"
	"database/sql/driver"
	"fmt"
	"reflect"
	"strings"
)

// cachingConnector wraps go-sql-driver/mysql's connector: each connection
// it opens keeps up to size server-side prepared statements, keyed by their
// SQL text.
type cachingConnector struct {
	base driver.Connector
	size int
}

func (c *cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	bc, ok := dc.(baseConn)
	if !ok {
		_ = dc.Close()
		return nil, fmt.Errorf("forge/mysql: the driver's connection (%T) lacks the methods the statement cache needs; open with mysql.StatementCache(0)", dc)
	}
	return &stmtCacheConn{baseConn: bc, size: c.size, m: make(map[string]*cacheEntry, c.size)}, nil
}

func (c *cachingConnector) Driver() driver.Driver { return c.base.Driver() }

// baseConn is what the cache needs of go-sql-driver/mysql's connection, and
// all that database/sql sees of it through the cache (Unwrap reaches the
// rest): CheckNamedValue keeps the driver's own argument conversions.
type baseConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

type cachedStmt interface {
	driver.Stmt
	driver.StmtQueryContext
	driver.StmtExecContext
}

type cacheEntry struct {
	sql        string
	stmt       cachedStmt
	prev, next *cacheEntry // the LRU list: head is the most recently used
	busy       bool        // a Rows reads from the statement
	evicted    bool        // out of the cache while busy: close when the Rows closes
	// rows is the Rows of the current use, kept here so that a query does
	// not allocate one: database/sql calls no method of a driver's Rows
	// once it closed it, so the next use can take it over.
	rows cachedRows
}

// stmtCacheConn is one MySQL connection with its statement cache. Like
// every database/sql driver connection it is used by one goroutine at a
// time (database/sql holds the connection's lock around every call,
// Rows.Close included), so it needs no lock of its own.
//
// A statement is in the cache and idle, or in the cache and busy (a Rows
// reads from it), or evicted while busy (closed when its Rows closes). A
// query whose statement is busy (the same SQL run again while the first
// Rows is open, in a transaction or a pinned connection) is prepared for
// that call alone. A statement whose call fails is closed rather than
// kept, so an error never leaves a statement in an unknown state in the
// cache. A statement without arguments bypasses the cache: go-sql-driver
// sends it as text in one round trip, and some statements (LOCK TABLES, a
// few SHOW and SET forms) cannot be prepared at all.
type stmtCacheConn struct {
	baseConn
	size       int
	m          map[string]*cacheEntry // nil once closed
	head, tail *cacheEntry
}

var (
	_ driver.QueryerContext = (*stmtCacheConn)(nil)
	_ driver.ExecerContext  = (*stmtCacheConn)(nil)
)

// Unwrap returns go-sql-driver/mysql's connection, through sql.Conn.Raw.
func (c *stmtCacheConn) Unwrap() driver.Conn { return c.baseConn }

func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
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

func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
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

// Close closes every idle cached statement, then the connection (which
// deallocates, on the server, whatever statements remain).
func (c *stmtCacheConn) Close() error {
	c.finalizeAll()
	return c.baseConn.Close()
}

// finalizeAll empties the cache for good: idle statements are closed,
// busy ones when their Rows closes.
func (c *stmtCacheConn) finalizeAll() {
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
// without the cache: without arguments, too long, or its statement is busy.
func (c *stmtCacheConn) acquire(ctx context.Context, query string, nargs int) (*cacheEntry, error) {
	if c.m == nil || nargs == 0 || len(query) > MaxCachedStatementLen {
		return nil, nil
	}
	if e := c.m[query]; e != nil {
		if e.busy {
			return nil, nil
		}
		e.busy = true
		c.unlink(e)
		c.pushFront(e)
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
	// The key is a copy: the caller's text may share memory with buffers it
	// reuses, or with its arguments (forge builds both in one allocation),
	// which the cache must neither see change nor keep alive.
	key := strings.Clone(query)
	e := &cacheEntry{sql: key, stmt: cs, busy: true}
	c.m[key] = e
	c.pushFront(e)
	for len(c.m) > c.size {
		c.evict(c.tail) // never e: it is the head, and size >= 1
	}
	return e, nil
}

// release ends a call's use of e: the statement stays cached when keep,
// else (the call failed) it is closed.
func (c *stmtCacheConn) release(e *cacheEntry, keep bool) {
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
func (c *stmtCacheConn) evict(e *cacheEntry) {
	delete(c.m, e.sql)
	c.unlink(e)
	if e.busy {
		e.evicted = true
		return
	}
	_ = e.stmt.Close()
}

func (c *stmtCacheConn) pushFront(e *cacheEntry) {
	e.prev, e.next = nil, c.head
	if c.head != nil {
		c.head.prev = e
	}
	c.head = e
	if c.tail == nil {
		c.tail = e
	}
}

func (c *stmtCacheConn) unlink(e *cacheEntry) {
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
	c *stmtCacheConn
	e *cacheEntry
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
