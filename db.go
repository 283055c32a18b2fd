package forge

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
)

// DB is a schema bound to a driver. It is safe for concurrent use. Open is
// cheap (it allocates one small struct), so an edge handler can build a DB
// per request.
type DB struct {
	schema *Schema
	conn   driver.Conn
	d      dialect.Dialect
	obs    []Observer
	muts   []MutationObserver
	cache  cacher          // WithCache
	cached map[*model]bool // the models WithCache caches by default
	r      runner
	hub    atomic.Pointer[watchHub] // the watches on this DB (watch.go)
	// rp routes reads to replicas (WithReplicas, replica.go). An interface,
	// so that programs that never call WithReplicas do not link it.
	rp replicas
}

// OpenOption configures Open.
type OpenOption func(*DB)

// WithObserver subscribes o to every query (QueryStart, QueryEnd) and, if
// it also implements MutationObserver, to every mutation. Observers run in
// the order given.
func WithObserver(o Observer) OpenOption {
	return func(db *DB) {
		db.obs = append(db.obs, o)
		if m, ok := o.(MutationObserver); ok {
			db.muts = append(db.muts, m)
		}
	}
}

// Open binds a schema to a driver connection. The DB owns conn: Close
// closes it.
func Open(s *Schema, conn driver.Conn, opts ...OpenOption) (*DB, error) {
	if s == nil {
		return nil, errors.New("forge: Open: nil schema (build one with forge.NewSchema)")
	}
	if conn == nil {
		return nil, errors.New("forge: Open: nil driver connection")
	}
	db := &DB{schema: s, conn: conn, d: conn.Dialect()}
	if db.d == nil {
		return nil, errors.New("forge: Open: the driver has no dialect")
	}
	for _, o := range opts {
		o(db)
	}
	if db.rp != nil {
		if err := db.rp.check(db); err != nil {
			return nil, err
		}
	}
	db.r = runner{db: db, q: conn}
	return db, nil
}

// Close closes the driver connection.
func (db *DB) Close() error {
	if db == nil || db.conn == nil {
		return errNilDB()
	}
	err := db.conn.Close()
	if db.rp != nil {
		if rerr := db.rp.close(); err == nil {
			err = rerr
		}
	}
	return err
}

// Dialect returns the dialect of the driver (nil for a nil DB).
func (db *DB) Dialect() dialect.Dialect {
	if db == nil {
		return nil
	}
	return db.d
}

// Driver returns the driver connection (nil for a nil DB).
func (db *DB) Driver() driver.Conn {
	if db == nil {
		return nil
	}
	return db.conn
}

// Schema returns the schema the DB was opened with (nil for a nil DB).
func (db *DB) Schema() *Schema {
	if db == nil {
		return nil
	}
	return db.schema
}

// ok reports whether db was built by Open.
func (db *DB) ok() bool { return db != nil && db.conn != nil && db.schema != nil }

// Querier is what model methods run on: a *DB or a *Tx.
type Querier interface {
	runner() *runner
}

func (db *DB) runner() *runner {
	if db == nil {
		return nil
	}
	return &db.r
}

// runnerOf returns q's runner, or an error for a nil querier (a nil
// interface, or a nil *DB or *Tx).
func runnerOf(q Querier) (*runner, error) {
	if q != nil {
		if r := q.runner(); r != nil && r.db != nil {
			return r, nil
		}
	}
	return nil, errNilDB()
}

// errNilDB is what every entry point returns for a nil *DB or *Tx (or a
// DB that was not built by Open).
func errNilDB() error {
	return &QueryError{Msg: "nil DB or Tx (open one with forge.Open)"}
}

// runner runs statements on a driver querier (the connection or a
// transaction) with events and error mapping. (It is not a driver session:
// see driver.Sessioner for a pinned connection.)
type runner struct {
	db *DB
	q  driver.Querier
	tx *Tx // the innermost transaction, if any
}

// Operation names what a statement does, for events.
type Operation string

func (o Operation) String() string { return string(o) }

// The operations forge reports.
const (
	OpFindMany   Operation = "findMany"
	OpFindFirst  Operation = "findFirst"
	OpFindUnique Operation = "findUnique"
	OpCount      Operation = "count"
	OpExists     Operation = "exists"
	OpCreate     Operation = "create"
	OpCreateMany Operation = "createMany"
	OpUpdate     Operation = "update"
	OpUpdateMany Operation = "updateMany"
	OpUpsert     Operation = "upsert"
	OpDelete     Operation = "delete"
	OpDeleteMany Operation = "deleteMany"
	OpAggregate  Operation = "aggregate"
	OpInclude    Operation = "include"
	OpRaw        Operation = "raw"
	OpExec       Operation = "exec"
	OpBatch      Operation = "batch"
	OpBegin      Operation = "begin"
	OpCommit     Operation = "commit"
	OpRollback   Operation = "rollback"
	OpSavepoint  Operation = "savepoint"
	OpSchema     Operation = "schema"
)

// QueryEvent describes one statement sent to the database.
type QueryEvent struct {
	Operation Operation
	Model     string // "" for raw SQL
	SQL       string
	NumArgs   int // number of bound arguments
	Start     time.Time
	Duration  time.Duration // set for QueryEnd
	Rows      int64         // rows returned or affected, set for QueryEnd
	Err       error         // set for QueryEnd
	InTx      bool
	// Table is the model's table ("" for raw SQL); System the dialect's
	// name ("sqlite", "postgres"); BatchSize the number of statements of
	// a batch sent in one round trip (0 for a single statement).
	Table     string
	System    string
	BatchSize int
	// TxContext is, for the statements of a transaction (InTx) and its
	// COMMIT or ROLLBACK, the context QueryStart returned for its BEGIN:
	// where an observer keeps the transaction's span.
	TxContext context.Context
}

// MutationEvent describes a committed change: delivered when the statement
// succeeds outside a transaction, or when the enclosing transaction commits
// (never for a rolled-back change).
type MutationEvent struct {
	Operation Operation
	Model     string
	Table     string // the model's table
	Rows      int64
	// Keys are the primary keys written, when the driver can report them
	// (RETURNING or a client-generated key); nil otherwise.
	Keys []any
	// Also are the other tables the database may have changed through
	// referential actions of foreign keys to this table (ON DELETE or ON
	// UPDATE CASCADE, SET NULL, SET DEFAULT), transitively; nil for
	// inserts. Set only in the events the DB's cache receives (WithCache);
	// nil for other observers. (Changes made by triggers are not known.)
	Also []string
}

// Observer receives query events. QueryStart returns the context for the
// rest of the query (to carry a span, say); QueryEnd receives it.
type Observer interface {
	QueryStart(ctx context.Context, e *QueryEvent) context.Context
	QueryEnd(ctx context.Context, e *QueryEvent)
}

// MutationObserver is implemented by observers that also want mutation
// events (cache invalidation, change feeds).
type MutationObserver interface {
	Mutation(ctx context.Context, e *MutationEvent)
}

// ObserverFuncs adapts functions to Observer and MutationObserver; nil
// functions are skipped.
type ObserverFuncs struct {
	Start      func(ctx context.Context, e *QueryEvent) context.Context
	End        func(ctx context.Context, e *QueryEvent)
	OnMutation func(ctx context.Context, e *MutationEvent)
}

// QueryStart implements Observer.
func (o ObserverFuncs) QueryStart(ctx context.Context, e *QueryEvent) context.Context {
	if o.Start != nil {
		return o.Start(ctx, e)
	}
	return ctx
}

// QueryEnd implements Observer.
func (o ObserverFuncs) QueryEnd(ctx context.Context, e *QueryEvent) {
	if o.End != nil {
		o.End(ctx, e)
	}
}

// Mutation implements MutationObserver.
func (o ObserverFuncs) Mutation(ctx context.Context, e *MutationEvent) {
	if o.OnMutation != nil {
		o.OnMutation(ctx, e)
	}
}

// stmt is one statement forge built, with what events and errors need to
// know.
type stmt struct {
	op   Operation
	m    *model // nil for raw SQL
	sql  string
	args []any
	rows bool // it returns rows to read (RETURNING)
	// movesKey: it may change primary keys, so the keys it reports are not
	// all the rows it changed (mutation events then report none).
	movesKey bool
	batch    int32 // the number of statements, for a batch sent as one
}

// query runs a statement that returns rows and hands them to read, which
// returns the number of rows it consumed.
func (r *runner) query(ctx context.Context, st stmt, read func(driver.Rows) (int64, error)) error {
	db := r.db
	q := r.q
	if db.rp != nil && r.tx == nil {
		q = db.rp.pick(ctx, db, st.op)
	}
	if len(db.obs) == 0 {
		rows, err := q.Query(ctx, st.sql, st.args)
		if err != nil {
			return db.enrich(err, st.m, st.op)
		}
		_, err = read(rows)
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return db.enrich(err, st.m, st.op)
		}
		return nil
	}
	e, ctx := r.start(ctx, st)
	rows, err := q.Query(ctx, st.sql, st.args)
	var n int64
	if err == nil {
		n, err = read(rows)
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		err = db.enrich(err, st.m, st.op)
	}
	r.end(ctx, e, n, err)
	return err
}

// exec runs a statement that returns no rows.
func (r *runner) exec(ctx context.Context, st stmt) (driver.Result, error) {
	db := r.db
	if len(db.obs) == 0 {
		res, err := r.q.Exec(ctx, st.sql, st.args)
		if err != nil {
			return res, db.enrich(err, st.m, st.op)
		}
		return res, nil
	}
	e, ctx := r.start(ctx, st)
	res, err := r.q.Exec(ctx, st.sql, st.args)
	if err != nil {
		err = db.enrich(err, st.m, st.op)
	}
	r.end(ctx, e, res.RowsAffected, err)
	return res, err
}

func (r *runner) start(ctx context.Context, st stmt) (*QueryEvent, context.Context) {
	e := &QueryEvent{Operation: st.op, SQL: st.sql, NumArgs: len(st.args), Start: time.Now(), InTx: r.tx != nil, System: r.db.d.Name(), BatchSize: int(st.batch)}
	if st.m != nil {
		e.Model, e.Table = st.m.name, st.m.table
	}
	if r.tx != nil {
		e.TxContext = r.tx.root.octx
	}
	for _, o := range r.db.obs {
		ctx = o.QueryStart(ctx, e)
	}
	return e, ctx
}

func (r *runner) end(ctx context.Context, e *QueryEvent, rows int64, err error) {
	e.Duration = time.Since(e.Start)
	e.Rows = rows
	e.Err = err
	for _, o := range r.db.obs {
		o.QueryEnd(ctx, e)
	}
}

// mutated reports a successful mutation: now, or when the transaction
// commits.
func (r *runner) mutated(ctx context.Context, op Operation, m *model, rows int64, keys []any) {
	if r.tx == nil && r.db.rp != nil {
		r.db.rp.wrote(ctx, r.db)
	}
	if len(r.db.muts) == 0 && r.db.hub.Load() == nil {
		return
	}
	e := &MutationEvent{Operation: op, Model: m.name, Table: m.table, Rows: rows, Keys: keys}
	if r.tx != nil {
		root := r.tx.root
		root.pending = append(root.pending, e)
		return
	}
	r.db.emit(ctx, e)
}

func (db *DB) emit(ctx context.Context, e *MutationEvent) {
	for _, o := range db.muts {
		o.Mutation(ctx, e)
	}
	db.changed(e.Model)
}

// wantKeys reports whether mutation events need the keys a statement
// touches.
func (r *runner) wantKeys() bool { return len(r.db.muts) > 0 }

// Exec runs raw SQL that returns no rows. Values are bound parameters;
// write the dialect's placeholders (? for SQLite, $1 for PostgreSQL). A
// time.Time argument is bound as forge stores times on the dialect, and
// text, floats and times follow the value rules of field values (see
// ValueError).
func Exec(ctx context.Context, q Querier, sql string, args ...any) (driver.Result, error) {
	r, err := runnerOf(q)
	if err != nil {
		return driver.Result{}, err
	}
	if args, err = encodeArgs(r.db.d, args); err != nil {
		return driver.Result{}, err
	}
	res, err := r.exec(ctx, stmt{op: OpExec, sql: sql, args: args})
	if err == nil {
		r.rawWrite(ctx)
	}
	return res, err
}

// rawWrite notes raw SQL that may have written: outside a transaction the
// primary's position is read (WithReplicas) and every watch is woken;
// inside one, the wake waits for the commit.
func (r *runner) rawWrite(ctx context.Context) {
	if r.tx != nil {
		r.tx.root.raw = true
		return
	}
	if r.db.rp != nil {
		r.db.rp.wrote(ctx, r.db)
	}
	r.db.changed("")
}

// Tx is an interactive transaction. Use it only inside the function given
// to Transaction.
type Tx struct {
	db      *DB
	dtx     driver.Tx
	r       runner
	root    *Tx
	depth   int
	pending []*MutationEvent
	raw     bool // raw SQL ran: watches are woken at commit
	done    bool
	octx    context.Context // what QueryStart returned for BEGIN (observers only)
}

func (tx *Tx) runner() *runner {
	if tx == nil {
		return nil
	}
	return &tx.r
}

// TxOption sets a transaction option.
type TxOption func(*driver.TxOptions)

// WithIsolation sets the isolation level.
func WithIsolation(level driver.IsolationLevel) TxOption {
	return func(o *driver.TxOptions) { o.Isolation = level }
}

// ReadOnly makes the transaction read-only.
func ReadOnly() TxOption { return func(o *driver.TxOptions) { o.ReadOnly = true } }

// Transaction runs fn in a transaction. It commits when fn returns nil and
// rolls back when fn returns an error or panics (the panic continues after
// the rollback). The driver must support interactive transactions; HTTP
// drivers that only batch return a *CapabilityError that says to use Batch.
func (db *DB) Transaction(ctx context.Context, fn func(tx *Tx) error, opts ...TxOption) (err error) {
	if !db.ok() {
		return errNilDB()
	}
	if fn == nil {
		return &QueryError{Msg: "Transaction: nil function"}
	}
	b, ok := db.conn.(driver.Beginner)
	if !ok {
		use := "it runs single statements only; there is no atomic alternative on this driver"
		if _, batches := db.conn.(driver.Batcher); batches {
			use = "use db.Batch to apply several writes atomically in one round trip"
		}
		return &driver.CapabilityError{Op: "interactive transactions", Driver: driver.Name(db.conn), Use: use}
	}
	var o driver.TxOptions
	for _, opt := range opts {
		opt(&o)
	}
	dtx, octx, err := db.begin(ctx, b, o)
	if err != nil {
		return err
	}
	tx := &Tx{db: db, dtx: dtx, octx: octx}
	tx.root = tx
	tx.r = runner{db: db, q: dtx, tx: tx}
	rollback := func() error {
		tx.done = true
		return db.timed(context.WithoutCancel(ctx), tx, OpRollback, "ROLLBACK", dtx.Rollback)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		if rerr := rollback(); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	tx.done = true
	if err := db.timed(ctx, tx, OpCommit, "COMMIT", dtx.Commit); err != nil {
		return err
	}
	if db.rp != nil {
		db.rp.wrote(ctx, db)
	}
	for _, e := range tx.pending {
		db.emit(ctx, e)
	}
	if tx.raw {
		db.changed("")
	}
	return nil
}

func (db *DB) begin(ctx context.Context, b driver.Beginner, o driver.TxOptions) (driver.Tx, context.Context, error) {
	if len(db.obs) == 0 {
		dtx, err := b.Begin(ctx, o)
		return dtx, nil, err
	}
	e, ctx2 := db.r.start(ctx, stmt{op: OpBegin, sql: "BEGIN"})
	dtx, err := b.Begin(ctx2, o)
	db.r.end(ctx2, e, 0, err)
	return dtx, ctx2, err
}

// timed runs a transaction-control call with events.
func (db *DB) timed(ctx context.Context, tx *Tx, op Operation, sql string, f func(context.Context) error) error {
	if len(db.obs) == 0 {
		return f(ctx)
	}
	e, ctx2 := tx.r.start(ctx, stmt{op: op, sql: sql})
	err := f(ctx2)
	tx.r.end(ctx2, e, 0, err)
	return err
}

// Transaction runs fn in a nested transaction (a savepoint): an error or a
// panic in fn rolls back to the savepoint only.
func (tx *Tx) Transaction(ctx context.Context, fn func(tx *Tx) error) (err error) {
	if tx == nil || tx.db == nil {
		return errNilDB()
	}
	if fn == nil {
		return &QueryError{Msg: "Transaction: nil function"}
	}
	if tx.done {
		return errTxDone
	}
	d := tx.db.d
	name := "forge_sp_" + strconv.Itoa(tx.depth+1)
	q := string(d.AppendIdent(nil, name))
	if _, err := tx.r.exec(ctx, stmt{op: OpSavepoint, sql: "SAVEPOINT " + q}); err != nil {
		return err
	}
	sub := &Tx{db: tx.db, dtx: tx.dtx, root: tx.root, depth: tx.depth + 1}
	sub.r = runner{db: tx.db, q: tx.dtx, tx: sub}
	mark := len(tx.root.pending)
	rollback := func() error {
		tx.root.pending = tx.root.pending[:mark]
		c := context.WithoutCancel(ctx)
		if _, err := tx.r.exec(c, stmt{op: OpSavepoint, sql: "ROLLBACK TO SAVEPOINT " + q}); err != nil {
			return err
		}
		_, err := tx.r.exec(c, stmt{op: OpSavepoint, sql: "RELEASE SAVEPOINT " + q})
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			sub.done = true
			_ = rollback()
			panic(p)
		}
	}()
	if err := fn(sub); err != nil {
		sub.done = true
		if rerr := rollback(); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	sub.done = true
	_, err = tx.r.exec(ctx, stmt{op: OpSavepoint, sql: "RELEASE SAVEPOINT " + q})
	return err
}

var errTxDone = errors.New("forge: the transaction has already committed or rolled back")
