//go:build !(js && wasm)

// Package pgx is forge's PostgreSQL driver, over pgx v5's native interface
// and its pool (pgxpool), not database/sql: values travel in pgx's binary
// formats, prepared statements are cached per connection, and db.Batch is
// one pipelined round trip that PostgreSQL runs as one implicit
// transaction.
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
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Conn is a forge driver over a pgx pool.
type Conn struct {
	pool *pgxpool.Pool
}

var (
	_ driver.Conn      = (*Conn)(nil)
	_ driver.Beginner  = (*Conn)(nil)
	_ driver.Batcher   = (*Conn)(nil)
	_ driver.Sessioner = (*Conn)(nil)
)

// Session implements driver.Sessioner with one connection from the pool.
func (c *Conn) Session(ctx context.Context) (driver.Session, error) {
	pc, err := c.pool.Acquire(ctx)
	if err != nil {
		return nil, MapError(err)
	}
	return &session{pc: pc}, nil
}

type session struct{ pc *pgxpool.Conn }

func (s *session) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	return query(ctx, s.pc, sql, args)
}

func (s *session) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	return exec(ctx, s.pc, sql, args)
}

func (s *session) Close() error { s.pc.Release(); return nil }

// New adapts pool. The Conn owns it: Close closes the pool.
func New(pool *pgxpool.Pool) *Conn { return &Conn{pool: pool} }

// Open creates a pool from a connection string ("postgres://..." or
// key=value) and adapts it.
func Open(ctx context.Context, dsn string) (*Conn, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("forge/pgx: %w", err)
	}
	return New(pool), nil
}

// Pool returns the underlying pool.
func (c *Conn) Pool() *pgxpool.Pool { return c.pool }

// DriverName implements driver.Namer.
func (c *Conn) DriverName() string { return "pgx" }

// Dialect implements driver.Conn.
func (c *Conn) Dialect() dialect.Dialect { return dialect.Postgres }

// Close implements driver.Conn.
func (c *Conn) Close() error { c.pool.Close(); return nil }

type pgxQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (jpgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func query(ctx context.Context, q pgxQuerier, sql string, args []any) (driver.Rows, error) {
	r, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, MapError(err)
	}
	return &rows{r: r}, nil
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
	return query(ctx, c.pool, sql, args)
}

// Exec implements driver.Conn.
func (c *Conn) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	return exec(ctx, c.pool, sql, args)
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
	t, err := c.pool.BeginTx(ctx, o)
	if err != nil {
		return nil, MapError(err)
	}
	return &tx{t: t}, nil
}

// Batch implements driver.Batcher: one pipelined round trip, run by
// PostgreSQL as one implicit transaction. Statements that ask for rows get
// them buffered.
func (c *Conn) Batch(ctx context.Context, stmts []driver.Stmt) ([]driver.BatchResult, error) {
	b := &jpgx.Batch{}
	for _, s := range stmts {
		b.Queue(s.SQL, s.Args...)
	}
	br := c.pool.SendBatch(ctx, b)
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

type tx struct{ t jpgx.Tx }

func (t *tx) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	return query(ctx, t.t, sql, args)
}

func (t *tx) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	return exec(ctx, t.t, sql, args)
}

func (t *tx) Commit(ctx context.Context) error   { return MapError(t.t.Commit(ctx)) }
func (t *tx) Rollback(ctx context.Context) error { return MapError(t.t.Rollback(ctx)) }

type rows struct {
	r    jpgx.Rows
	cols []string
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

func (r *rows) Next() bool { return r.r.Next() }

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
func (r *rows) Err() error   { return MapError(r.r.Err()) }
func (r *rows) Close() error { r.r.Close(); return MapError(r.r.Err()) }

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
