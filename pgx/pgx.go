// Package pgx is forge's PostgreSQL driver, over pgx v5's native interface
// and its pool (pgxpool), not database/sql: values travel in pgx's binary
// formats, prepared statements are cached per connection, and db.Batch is
// one pipelined round trip that PostgreSQL runs as one implicit
// transaction.
//
// New and Open adapt a pool; FromConn adapts one connection (a pool of
// one), for runtimes where connections cannot outlive a request, such as
// a Cloudflare Worker reaching PostgreSQL through Hyperdrive (the
// hyperdrive module). In js/wasm builds Open fails, as there is no TCP
// there; FromConn works over a connection dialled by other means.
//
// forge's Watch on PostgreSQL polls the WAL position; with forge.Notify it
// is also woken by LISTEN (Listen), which takes a pool connection for the
// watch's lifetime and does not work through transaction-mode poolers.
// forge.WithReplicas takes pgx Conns on standbys as replicas (positions
// are WAL LSNs).
package pgx

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/driver/pgerr"
	jpgx "github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Conn is a forge driver over a pgx pool (New, Open) or over one pgx
// connection (FromConn).
type Conn struct {
	pool *pgxpool.Pool
	conn *jpgx.Conn
	db   backend
	// one is the single connection's turn (FromConn): a buffered channel
	// of one, taken by each query until its rows are closed, by a
	// transaction until it ends and by a session until it is closed, so
	// that concurrent callers wait their turn (or for their context)
	// rather than finding the connection busy.
	one chan struct{}
}

// backend is what *pgxpool.Pool and *jpgx.Conn both offer.
type backend interface {
	pgxQuerier
	BeginTx(ctx context.Context, opts jpgx.TxOptions) (jpgx.Tx, error)
	SendBatch(ctx context.Context, b *jpgx.Batch) jpgx.BatchResults
}

var (
	_ driver.Conn      = (*Conn)(nil)
	_ driver.Beginner  = (*Conn)(nil)
	_ driver.Batcher   = (*Conn)(nil)
	_ driver.Sessioner = (*Conn)(nil)
)

// New adapts pool. The Conn owns it: Close closes the pool.
func New(pool *pgxpool.Pool) *Conn { return &Conn{pool: pool, db: pool} }

// FromConn adapts one connection, as a pool of one: calls take turns on
// it (a caller waits for the previous query's rows to be closed, for a
// transaction or a session to end, or for its own context to end). So do
// not use the Conn outside a transaction or session from inside it: that
// waits for itself until the context ends. The Conn owns conn: Close
// closes it. By default pgx closes a connection when a context ends during
// a query; configure it with KeepOnCancel to keep it.
func FromConn(conn *jpgx.Conn) *Conn {
	c := &Conn{conn: conn, db: conn, one: make(chan struct{}, 1)}
	return c
}

// KeepOnCancel sets cfg so that a context ending during a query sends
// PostgreSQL a cancel request, which fails the query (SQLSTATE 57014) and
// keeps the connection, rather than closing the connection (pgx's
// default). The connection is closed only when the server has not answered
// within 5 seconds. A connection for FromConn wants it: unlike a pool's, it
// is not replaced.
func KeepOnCancel(cfg *pgconn.Config) {
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 5 * time.Second}
	}
}

// take waits for the single connection's turn (FromConn); with a pool it
// returns at once. The returned func gives the turn back; calling it again
// does nothing.
func (c *Conn) take(ctx context.Context) (func(), error) {
	if c.one == nil {
		return func() {}, nil
	}
	select {
	case c.one <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("forge/pgx: waiting for the connection (FromConn gives one caller at a time): %w", ctx.Err())
	}
	done := false
	return func() {
		if !done {
			done = true
			<-c.one
		}
	}, nil
}

// Session implements driver.Sessioner with one connection from the pool
// (or the connection of FromConn, held until the session is closed).
func (c *Conn) Session(ctx context.Context) (driver.Session, error) {
	if c.pool == nil {
		release, err := c.take(ctx)
		if err != nil {
			return nil, err
		}
		return &connSession{c: c.conn, release: release}, nil
	}
	pc, err := c.pool.Acquire(ctx)
	if err != nil {
		return nil, MapError(err)
	}
	return &session{pc: pc}, nil
}

type session struct{ pc *pgxpool.Conn }

func (s *session) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	return query(ctx, s.pc, sql, args, nil)
}

func (s *session) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	return exec(ctx, s.pc, sql, args)
}

func (s *session) Close() error { s.pc.Release(); return nil }

// connSession is a session over FromConn's connection.
type connSession struct {
	c       *jpgx.Conn
	release func()
}

func (s *connSession) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	return query(ctx, s.c, sql, args, nil)
}

func (s *connSession) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	return exec(ctx, s.c, sql, args)
}

func (s *connSession) Close() error { s.release(); return nil }

// Pool returns the underlying pool (nil for a Conn made by FromConn).
func (c *Conn) Pool() *pgxpool.Pool { return c.pool }

// DriverName implements driver.Namer.
func (c *Conn) DriverName() string { return "pgx" }

// Dialect implements driver.Conn.
func (c *Conn) Dialect() dialect.Dialect { return dialect.Postgres }

// Close implements driver.Conn: it closes the pool, or FromConn's
// connection (telling the server, for at most 5 seconds).
func (c *Conn) Close() error {
	if c.pool != nil {
		c.pool.Close()
		return nil
	}
	if c.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return c.conn.Close(ctx)
	}
	return nil
}

type pgxQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (jpgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// query runs sql; release (if not nil) is called when the rows are
// closed, or at once when the query fails.
func query(ctx context.Context, q pgxQuerier, sql string, args []any, release func()) (driver.Rows, error) {
	r, err := q.Query(ctx, sql, args...)
	if err != nil {
		if release != nil {
			release()
		}
		return nil, MapError(err)
	}
	return &rows{r: r, release: release}, nil
}

func exec(ctx context.Context, q pgxQuerier, sql string, args []any) (driver.Result, error) {
	tag, err := q.Exec(ctx, sql, args...)
	if err != nil {
		return driver.Result{}, MapError(err)
	}
	return driver.Result{RowsAffected: tag.RowsAffected()}, nil
}

// Query implements driver.Conn.
func (c *Conn) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	release, err := c.take(ctx)
	if err != nil {
		return nil, err
	}
	return query(ctx, c.db, sql, args, release)
}

// Exec implements driver.Conn.
func (c *Conn) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	release, err := c.take(ctx)
	if err != nil {
		return driver.Result{}, err
	}
	defer release()
	return exec(ctx, c.db, sql, args)
}

// Begin implements driver.Beginner.
func (c *Conn) Begin(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	var o jpgx.TxOptions
	switch opts.Isolation {
	case "":
	case driver.ReadUncommitted:
		o.IsoLevel = jpgx.ReadUncommitted
	case driver.ReadCommitted:
		o.IsoLevel = jpgx.ReadCommitted
	case driver.RepeatableRead:
		o.IsoLevel = jpgx.RepeatableRead
	case driver.Serializable:
		o.IsoLevel = jpgx.Serializable
	default:
		return nil, fmt.Errorf("forge/pgx: unknown isolation level %q", opts.Isolation)
	}
	if opts.ReadOnly {
		o.AccessMode = jpgx.ReadOnly
	}
	release, err := c.take(ctx)
	if err != nil {
		return nil, err
	}
	t, err := c.db.BeginTx(ctx, o)
	if err != nil {
		release()
		return nil, MapError(err)
	}
	return &tx{t: t, release: release}, nil
}

// Batch implements driver.Batcher: one pipelined round trip, run by
// PostgreSQL as one implicit transaction. Statements that ask for rows get
// them buffered.
func (c *Conn) Batch(ctx context.Context, stmts []driver.Stmt) ([]driver.BatchResult, error) {
	release, err := c.take(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	b := &jpgx.Batch{}
	for _, s := range stmts {
		b.Queue(s.SQL, s.Args...)
	}
	br := c.db.SendBatch(ctx, b)
	out := make([]driver.BatchResult, len(stmts))
	fail := func(i int, err error) ([]driver.BatchResult, error) {
		_ = br.Close()
		return nil, &driver.BatchError{Index: i, SQL: stmts[i].SQL, Err: MapError(err)}
	}
	for i, s := range stmts {
		if !s.Rows {
			tag, err := br.Exec()
			if err != nil {
				return fail(i, err)
			}
			out[i].RowsAffected = tag.RowsAffected()
			continue
		}
		rows, err := br.Query()
		if err != nil {
			return fail(i, err)
		}
		buf, err := bufferRows(rows)
		if err != nil {
			return fail(i, err)
		}
		out[i].Rows = buf
		out[i].RowsAffected = rows.CommandTag().RowsAffected()
	}
	if err := br.Close(); err != nil {
		return nil, MapError(err)
	}
	return out, nil
}

// bufferRows reads rows into memory as the values driver.Assign reads:
// JSON columns stay raw text, as forge decodes them itself.
func bufferRows(rows jpgx.Rows) (*driver.BufferedRows, error) {
	defer rows.Close()
	fds := rows.FieldDescriptions()
	buf := &driver.BufferedRows{Cols: make([]string, len(fds))}
	for i, fd := range fds {
		buf.Cols[i] = fd.Name
	}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		raw := rows.RawValues()
		for i, fd := range fds {
			switch fd.DataTypeOID {
			case pgtype.JSONOID, pgtype.JSONBOID:
				if raw[i] == nil {
					vals[i] = nil
					continue
				}
				text := raw[i]
				if fd.DataTypeOID == pgtype.JSONBOID && fd.Format == pgtype.BinaryFormatCode && len(text) > 0 {
					text = text[1:] // jsonb's binary format: a version byte, then the text
				}
				vals[i] = string(text)
			case pgtype.Int4OID, pgtype.Int2OID:
				switch x := vals[i].(type) {
				case int32:
					vals[i] = int64(x)
				case int16:
					vals[i] = int64(x)
				}
			case pgtype.Float4OID:
				if x, ok := vals[i].(float32); ok {
					vals[i] = float64(x)
				}
			}
		}
		buf.Values = append(buf.Values, vals)
	}
	return buf, rows.Err()
}

type tx struct {
	t       jpgx.Tx
	release func() // gives the connection's turn back (FromConn)
}

func (t *tx) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	return query(ctx, t.t, sql, args, nil)
}

func (t *tx) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	return exec(ctx, t.t, sql, args)
}

func (t *tx) Commit(ctx context.Context) error {
	defer t.release()
	return MapError(t.t.Commit(ctx))
}

func (t *tx) Rollback(ctx context.Context) error {
	defer t.release()
	return MapError(t.t.Rollback(ctx))
}

type rows struct {
	r       jpgx.Rows
	cols    []string
	release func() // if not nil, called by Close
}

func (r *rows) Columns() []string {
	if r.cols == nil {
		fds := r.r.FieldDescriptions()
		r.cols = make([]string, len(fds))
		for i, fd := range fds {
			r.cols[i] = fd.Name
		}
	}
	return r.cols
}

func (r *rows) Next() bool {
	if r.r.Next() {
		return true
	}
	// pgx has closed the rows: give the connection's turn back now, not
	// only when (if ever) Close is called.
	if r.release != nil {
		r.release()
	}
	return false
}

// Scan reads the row; times come back in UTC, as forge promises (pgx
// would give them in the process's local zone).
func (r *rows) Scan(dest ...any) error {
	if err := r.r.Scan(dest...); err != nil {
		return MapError(err)
	}
	for _, d := range dest {
		switch x := d.(type) {
		case *time.Time:
			*x = x.UTC()
		case **time.Time:
			if *x != nil {
				**x = (**x).UTC()
			}
		}
	}
	return nil
}
func (r *rows) Err() error { return MapError(r.r.Err()) }
func (r *rows) Close() error {
	r.r.Close()
	if r.release != nil {
		r.release()
	}
	return MapError(r.r.Err())
}

// MapError turns PostgreSQL constraint violations (SQLSTATE class 23) into
// *driver.ConstraintError; other errors pass through.
func MapError(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	if ce := pgerr.Constraint(pgerr.Fields{Code: pe.Code, Constraint: pe.ConstraintName, Table: pe.TableName, Column: pe.ColumnName, Detail: pe.Detail}, err); ce != nil {
		return ce
	}
	return err
}
