// Package stdsql adapts any database/sql *sql.DB to forge's driver port,
// with interactive transactions. It is how forge runs over drivers that
// only exist for database/sql, and what the embedded SQLite driver is
// built on.
package stdsql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
)

// Config configures an adapter.
type Config struct {
	// Dialect is the database's SQL dialect (required).
	Dialect dialect.Dialect
	// Name names the driver in errors and events (default "database/sql").
	Name string
	// ReadOnlyOn and ReadOnlyOff, when set, run on a read-only
	// transaction's connection right after BEGIN and right before it ends,
	// for databases whose drivers ignore sql.TxOptions.ReadOnly (SQLite:
	// "PRAGMA query_only = ON" / "... = OFF").
	ReadOnlyOn, ReadOnlyOff string
	// MapError, when set, turns the database's errors into forge's typed
	// errors (a *driver.ConstraintError, say). It must return err itself
	// when it has nothing better.
	MapError func(err error) error
}

// Conn is a forge driver over a *sql.DB.
type Conn struct {
	db  *sql.DB
	cfg Config
}

var (
	_ driver.Conn      = (*Conn)(nil)
	_ driver.Beginner  = (*Conn)(nil)
	_ driver.Sessioner = (*Conn)(nil)
)

// New adapts db. The Conn owns db: Close closes it.
func New(db *sql.DB, cfg Config) (*Conn, error) {
	if db == nil {
		return nil, errors.New("forge/stdsql: nil *sql.DB")
	}
	if cfg.Dialect == nil {
		return nil, errors.New("forge/stdsql: Config.Dialect is required")
	}
	if cfg.Name == "" {
		cfg.Name = "database/sql"
	}
	return &Conn{db: db, cfg: cfg}, nil
}

// DB returns the underlying *sql.DB.
func (c *Conn) DB() *sql.DB { return c.db }

// DriverName implements driver.Namer.
func (c *Conn) DriverName() string { return c.cfg.Name }

// Dialect implements driver.Conn.
func (c *Conn) Dialect() dialect.Dialect { return c.cfg.Dialect }

// Close implements driver.Conn.
func (c *Conn) Close() error { return c.db.Close() }

func (c *Conn) mapErr(err error) error {
	if err == nil || c.cfg.MapError == nil {
		return err
	}
	return c.cfg.MapError(err)
}

type sqlQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func query(ctx context.Context, c *Conn, q sqlQuerier, sqlText string, args []any) (driver.Rows, error) {
	r, err := q.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, c.mapErr(err)
	}
	return &rows{r: r, c: c}, nil
}

func exec(ctx context.Context, c *Conn, q sqlQuerier, sqlText string, args []any) (driver.Result, error) {
	res, err := q.ExecContext(ctx, sqlText, args...)
	if err != nil {
		return driver.Result{}, c.mapErr(err)
	}
	var out driver.Result
	if n, err := res.RowsAffected(); err == nil {
		out.RowsAffected = n
	}
	if id, err := res.LastInsertId(); err == nil {
		out.LastInsertID, out.HasLastInsertID = id, true
	}
	return out, nil
}

// Query implements driver.Conn.
func (c *Conn) Query(ctx context.Context, q string, args []any) (driver.Rows, error) {
	return query(ctx, c, c.db, q, args)
}

// Exec implements driver.Conn.
func (c *Conn) Exec(ctx context.Context, q string, args []any) (driver.Result, error) {
	return exec(ctx, c, c.db, q, args)
}

// Begin implements driver.Beginner.
func (c *Conn) Begin(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	var so sql.TxOptions
	so.ReadOnly = opts.ReadOnly
	switch opts.Isolation {
	case "":
	case driver.ReadUncommitted:
		so.Isolation = sql.LevelReadUncommitted
	case driver.ReadCommitted:
		so.Isolation = sql.LevelReadCommitted
	case driver.RepeatableRead:
		so.Isolation = sql.LevelRepeatableRead
	case driver.Serializable:
		so.Isolation = sql.LevelSerializable
	default:
		return nil, fmt.Errorf("forge/stdsql: unknown isolation level %q", opts.Isolation)
	}
	t, err := c.db.BeginTx(ctx, &so)
	if err != nil {
		return nil, c.mapErr(err)
	}
	out := &tx{t: t, c: c}
	if opts.ReadOnly && c.cfg.ReadOnlyOn != "" {
		if _, err := t.ExecContext(ctx, c.cfg.ReadOnlyOn); err != nil {
			_ = t.Rollback()
			return nil, c.mapErr(err)
		}
		out.ro = true
	}
	return out, nil
}

// MaxOpenConns returns the pool's limit on open connections (0: none).
// forge's Watch does not pin a session of a pool limited to one.
func (c *Conn) MaxOpenConns() int { return c.db.Stats().MaxOpenConnections }

// Session implements driver.Sessioner with one pooled connection.
func (c *Conn) Session(ctx context.Context) (driver.Session, error) {
	sc, err := c.db.Conn(ctx)
	if err != nil {
		return nil, c.mapErr(err)
	}
	return &session{sc: sc, c: c}, nil
}

type session struct {
	sc *sql.Conn
	c  *Conn
}

func (s *session) Query(ctx context.Context, q string, args []any) (driver.Rows, error) {
	return query(ctx, s.c, s.sc, q, args)
}

func (s *session) Exec(ctx context.Context, q string, args []any) (driver.Result, error) {
	return exec(ctx, s.c, s.sc, q, args)
}

func (s *session) Close() error { return s.sc.Close() }

type tx struct {
	t  *sql.Tx
	c  *Conn
	ro bool // ReadOnlyOn ran: run ReadOnlyOff before the connection goes back
}

// end resets a read-only connection, then commits or rolls back.
func (t *tx) end(ctx context.Context, finish func() error) error {
	var reset error
	if t.ro {
		_, reset = t.t.ExecContext(context.WithoutCancel(ctx), t.c.cfg.ReadOnlyOff)
	}
	err := finish()
	if err == nil {
		err = reset
	}
	return t.c.mapErr(err)
}

func (t *tx) Query(ctx context.Context, q string, args []any) (driver.Rows, error) {
	return query(ctx, t.c, t.t, q, args)
}

func (t *tx) Exec(ctx context.Context, q string, args []any) (driver.Result, error) {
	return exec(ctx, t.c, t.t, q, args)
}

func (t *tx) Commit(ctx context.Context) error   { return t.end(ctx, t.t.Commit) }
func (t *tx) Rollback(ctx context.Context) error { return t.end(ctx, t.t.Rollback) }

// rows wraps *sql.Rows. It reads times stored as text or integers (SQLite
// has no time type) into *time.Time destinations, and keeps an empty blob
// apart from NULL in *[]byte ones (some drivers return a nil []byte for
// both); every other destination goes to database/sql unchanged.
type rows struct {
	r   *sql.Rows
	c   *Conn
	buf []any
	tds []timeDest
	bds []bytesDest
}

func (r *rows) Columns() []string {
	cols, _ := r.r.Columns()
	return cols
}

func (r *rows) Next() bool { return r.r.Next() }

func (r *rows) Err() error { return r.c.mapErr(r.r.Err()) }

func (r *rows) Close() error { return r.c.mapErr(r.r.Close()) }

func (r *rows) Scan(dest ...any) error {
	conv := false
	for _, d := range dest {
		switch d.(type) {
		case *time.Time, **time.Time, *[]byte:
			conv = true
		}
	}
	if !conv {
		return r.c.mapErr(r.r.Scan(dest...))
	}
	if cap(r.buf) < len(dest) {
		r.buf = make([]any, len(dest))
		r.tds = make([]timeDest, len(dest))
		r.bds = make([]bytesDest, len(dest))
	}
	buf := r.buf[:len(dest)]
	for i, d := range dest {
		switch x := d.(type) {
		case *time.Time:
			r.tds[i] = timeDest{t: x}
			buf[i] = &r.tds[i]
		case **time.Time:
			r.tds[i] = timeDest{pt: x}
			buf[i] = &r.tds[i]
		case *[]byte:
			r.bds[i] = bytesDest{p: x}
			buf[i] = &r.bds[i]
		default:
			buf[i] = d
		}
	}
	return r.c.mapErr(r.r.Scan(buf...))
}

// timeDest scans a time from time.Time, text or Unix seconds.
type timeDest struct {
	t  *time.Time
	pt **time.Time
}

func (d *timeDest) Scan(src any) error {
	var t time.Time
	switch x := src.(type) {
	case nil:
		if d.pt != nil {
			*d.pt = nil
			return nil
		}
		return errors.New("forge/stdsql: NULL in a non-nullable time column")
	case time.Time:
		t = x.UTC()
	case string:
		var err error
		if t, err = driver.ParseTime(x); err != nil {
			return err
		}
	case []byte:
		var err error
		if t, err = driver.ParseTime(string(x)); err != nil {
			return err
		}
	case int64:
		t = time.Unix(x, 0).UTC()
	default:
		return fmt.Errorf("forge/stdsql: cannot read a %T as a time", src)
	}
	if d.pt != nil {
		*d.pt = &t
	} else {
		*d.t = t
	}
	return nil
}

// bytesDest scans bytes, keeping an empty value (a typed nil []byte from
// the driver) apart from NULL (an untyped nil).
type bytesDest struct{ p *[]byte }

func (d *bytesDest) Scan(src any) error {
	switch x := src.(type) {
	case nil:
		*d.p = nil
	case []byte:
		*d.p = append([]byte{}, x...)
	case string:
		*d.p = []byte(x)
	default:
		return fmt.Errorf("forge/stdsql: cannot read a %T as bytes", src)
	}
	return nil
}
