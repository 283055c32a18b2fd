// Package fakedriver is a scripted, in-memory driver for tests of code that
// uses forge, and of forge itself, without a database.
//
// A [Fake] records every statement it receives (SQL, arguments, whether it
// ran in a transaction, a batch or a session) and answers from rules the
// test scripts: rows, an affected-row count, a last insert id, or an error.
// It holds no tables and runs no SQL: it answers what it is told to answer,
// so a test states both what the database returns and what forge must do
// with it.
//
//	fake := fakedriver.New(dialect.SQLite, fakedriver.All)
//	fake.On(fakedriver.Contains(`FROM "users"`)).
//		Rows([]string{"id", "email"}, []any{int64(1), "ada@example.com"})
//	db, _ := forge.Open(schema, fake.Conn())
//	users, err := Users.FindMany(ctx, db)
//	// fake.Statements() holds the SELECT forge sent.
//
// # Rules
//
// [Fake.On] adds a rule; rules are tried in the order they were added and
// the first that matches and has uses left answers. A rule answers Query
// with its rows and Exec with its result, so the same rule serves an INSERT
// whether forge reads it back with RETURNING or with the last insert id.
// Rows are returned in the order and with the columns given: forge scans
// the columns in the order it selected them, which is the model's field
// order unless the query selects fewer. Values are decoded values (nil,
// int64, float64, bool, string, []byte, time.Time) scanned with
// [driver.Assign], as the HTTP drivers scan theirs.
//
// A Query or Exec that no rule answers fails with a [*NoAnswerError] naming
// the statement, so a test never passes on an answer it did not script.
// Transaction control (Begin, Commit and Rollback of a [driver.Tx], and the
// SAVEPOINT, RELEASE and ROLLBACK TO statements forge sends for nested
// transactions) succeeds unless a rule matches it: script a failing COMMIT
// with fake.On(fakedriver.Prefix("COMMIT")).Err(err).
//
// # Capabilities
//
// forge finds a driver's capabilities by type assertion. [Fake.Conn]
// returns a [driver.Conn] that implements exactly the capabilities given to
// [New] ([Transactions], [Batches], [Sessions], [Named]), so each of forge's
// paths (transaction, atomic batch, neither) can be tested.
//
// A batch ([driver.Batcher]) answers each statement from the rules; if one
// fails, the batch returns a [*driver.BatchError] with its index and no
// results, as an atomic batch does.
//
// A Fake is safe for concurrent use and deterministic: the same statements
// in the same order get the same answers.
package fakedriver

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
)

// Caps is a set of optional driver capabilities.
type Caps uint8

// The optional capabilities a fake connection can have.
const (
	// Transactions makes the connection a driver.Beginner.
	Transactions Caps = 1 << iota
	// Batches makes the connection a driver.Batcher.
	Batches
	// Sessions makes the connection a driver.Sessioner.
	Sessions
	// Named makes the connection a driver.Namer whose name is "fake".
	Named

	// None is a connection that runs single statements only.
	None Caps = 0
	// All is every capability.
	All = Transactions | Batches | Sessions | Named
)

// Kind is what a recorded statement was.
type Kind uint8

// The kinds of recorded statements.
const (
	Query    Kind = iota + 1 // driver.Querier.Query, or a batch statement with Rows
	Exec                     // driver.Querier.Exec, or a batch statement without Rows
	Begin                    // driver.Beginner.Begin (SQL "BEGIN")
	Commit                   // driver.Tx.Commit (SQL "COMMIT")
	Rollback                 // driver.Tx.Rollback (SQL "ROLLBACK")
)

func (k Kind) String() string {
	switch k {
	case Query:
		return "query"
	case Exec:
		return "exec"
	case Begin:
		return "begin"
	case Commit:
		return "commit"
	case Rollback:
		return "rollback"
	}
	return "kind(?)"
}

// Stmt is one recorded statement.
type Stmt struct {
	Kind Kind
	SQL  string
	Args []any // a copy of the arguments
	// Tx numbers the transaction the statement ran in (1 for the first
	// transaction begun on the Fake), 0 outside a transaction.
	Tx int
	// Batch numbers the batch the statement was part of, 0 outside a batch;
	// Index is its position in that batch.
	Batch, Index int
	// Session numbers the pinned session the statement ran on, 0 if none.
	Session int
	// TxOptions are the options of a Begin.
	TxOptions driver.TxOptions
	// Err is the error the statement was answered with, if any.
	Err error
}

// Match selects the statements a rule answers.
type Match func(s Stmt) bool

// Any matches every statement.
func Any() Match { return func(Stmt) bool { return true } }

// Prefix matches statements whose SQL starts with p.
func Prefix(p string) Match { return func(s Stmt) bool { return strings.HasPrefix(s.SQL, p) } }

// Contains matches statements whose SQL contains sub.
func Contains(sub string) Match { return func(s Stmt) bool { return strings.Contains(s.SQL, sub) } }

// Exact matches statements whose SQL is sql.
func Exact(sql string) Match { return func(s Stmt) bool { return s.SQL == sql } }

// OfKind matches statements of kind k and, if m is not nil, matched by m.
func OfKind(k Kind, m Match) Match {
	return func(s Stmt) bool { return s.Kind == k && (m == nil || m(s)) }
}

// Answer is what a rule returns for a statement.
type Answer struct {
	// Columns and Rows are what a Query returns (and a batch statement
	// that asks for its rows).
	Columns []string
	Rows    [][]any
	// RowsErr, if set, is returned by Rows.Err after the rows: a cursor
	// that fails part way.
	RowsErr error
	// Result is what an Exec returns.
	Result driver.Result
	// Err fails the statement.
	Err error
}

// Rule is a scripted answer to the statements it matches. Its setters
// return the rule, for chaining.
type Rule struct {
	f     *Fake
	match Match
	fn    func(Stmt) Answer
	a     Answer
	left  int // uses left; < 0 means unlimited
	hits  int
}

// Rows sets the rows a Query gets: the column names and one []any per row.
// An Exec answered by the rule reports len(rows) rows affected unless
// Affected says otherwise.
func (r *Rule) Rows(columns []string, rows ...[]any) *Rule {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	r.a.Columns, r.a.Rows = columns, rows
	if r.a.Result.RowsAffected == 0 {
		r.a.Result.RowsAffected = int64(len(rows))
	}
	return r
}

// Affected sets the number of rows an Exec reports as affected.
func (r *Rule) Affected(n int64) *Rule {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	r.a.Result.RowsAffected = n
	return r
}

// LastInsertID sets the last insert id an Exec reports, and 1 row
// affected unless Affected says otherwise.
func (r *Rule) LastInsertID(id int64) *Rule {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	r.a.Result.LastInsertID, r.a.Result.HasLastInsertID = id, true
	if r.a.Result.RowsAffected == 0 {
		r.a.Result.RowsAffected = 1
	}
	return r
}

// Err makes the statements the rule matches fail with err.
func (r *Rule) Err(err error) *Rule {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	r.a.Err = err
	return r
}

// RowsErr makes a Query's rows end with err (returned by Rows.Err) after
// the rows set with Rows.
func (r *Rule) RowsErr(err error) *Rule {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	r.a.RowsErr = err
	return r
}

// Func answers with fn instead of a fixed answer, for answers that depend
// on the statement (its arguments, say). fn runs with the Fake locked: it
// must not call the Fake's methods.
func (r *Rule) Func(fn func(s Stmt) Answer) *Rule {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	r.fn = fn
	return r
}

// Times limits the rule to its next n uses; after them, later rules (or
// the default) answer. Times(0) disables the rule.
func (r *Rule) Times(n int) *Rule {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	r.left = n
	return r
}

// Once is Times(1).
func (r *Rule) Once() *Rule { return r.Times(1) }

// Hits returns how many statements the rule has answered.
func (r *Rule) Hits() int {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	return r.hits
}

// NoAnswerError is returned for a Query or Exec that no rule answers.
type NoAnswerError struct {
	Stmt Stmt
}

func (e *NoAnswerError) Error() string {
	return "fakedriver: no rule answers " + e.Stmt.Kind.String() + " " + quote(e.Stmt.SQL) + "; add one with Fake.On"
}

func quote(s string) string {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return "`" + s + "`"
}

// ErrClosed is returned by every call after Close.
var ErrClosed = errors.New("fakedriver: the connection is closed")

// ErrTxDone is returned by a transaction's methods after Commit or Rollback.
var ErrTxDone = errors.New("fakedriver: the transaction has already committed or rolled back")

// Fake is a scripted driver. Build it with New, script it with On, hand
// Conn() to forge.Open and read what was sent with Statements.
type Fake struct {
	mu       sync.Mutex
	d        dialect.Dialect
	caps     Caps
	rules    []*Rule
	log      []Stmt
	txs      int
	batches  int
	sessions int
	closed   bool
	conn     driver.Conn
}

// New returns a Fake that writes SQL for d and has the capabilities caps.
func New(d dialect.Dialect, caps Caps) *Fake {
	f := &Fake{d: d, caps: caps}
	f.conn = f.build()
	return f
}

// On adds a rule answering the statements m matches (every statement if m
// is nil). The rule answers until its uses run out (see Times); with no
// setter called, it answers with no rows, 0 rows affected and no error.
func (f *Fake) On(m Match) *Rule {
	if m == nil {
		m = Any()
	}
	r := &Rule{f: f, match: m, left: -1}
	f.mu.Lock()
	f.rules = append(f.rules, r)
	f.mu.Unlock()
	return r
}

// Conn returns the driver connection, with the capabilities given to New.
func (f *Fake) Conn() driver.Conn { return f.conn }

// Statements returns a copy of every statement recorded so far, in order.
func (f *Fake) Statements() []Stmt {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Stmt(nil), f.log...)
}

// SQL returns the SQL of every statement recorded so far, in order.
func (f *Fake) SQL() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.log))
	for i, s := range f.log {
		out[i] = s.SQL
	}
	return out
}

// Reset forgets the recorded statements and the rules.
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log, f.rules = nil, nil
}

// Closed reports whether Close was called.
func (f *Fake) Closed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// control reports whether sql is transaction control that succeeds by
// default.
func control(k Kind, sql string) bool {
	if k == Begin || k == Commit || k == Rollback {
		return true
	}
	return k == Exec && (strings.HasPrefix(sql, "SAVEPOINT ") || strings.HasPrefix(sql, "RELEASE ") ||
		strings.HasPrefix(sql, "ROLLBACK TO "))
}

// answer records s and finds its answer. The caller must not hold f.mu.
func (f *Fake) answer(ctx context.Context, s Stmt) Answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	s.Args = append([]any(nil), s.Args...)
	a := f.find(ctx, s)
	s.Err = a.Err
	f.log = append(f.log, s)
	return a
}

func (f *Fake) find(ctx context.Context, s Stmt) Answer {
	if f.closed {
		return Answer{Err: ErrClosed}
	}
	if err := ctx.Err(); err != nil {
		return Answer{Err: err}
	}
	for _, r := range f.rules {
		if r.left == 0 || !r.match(s) {
			continue
		}
		if r.left > 0 {
			r.left--
		}
		r.hits++
		if r.fn != nil {
			return r.fn(s)
		}
		return r.a
	}
	if control(s.Kind, s.SQL) {
		return Answer{}
	}
	return Answer{Err: &NoAnswerError{Stmt: s}}
}

// rows returns a fresh cursor over a's rows.
func (a Answer) rows() driver.Rows {
	vals := make([][]any, len(a.Rows))
	for i, r := range a.Rows {
		vals[i] = append([]any(nil), r...)
	}
	return &rows{BufferedRows: driver.BufferedRows{Cols: a.Columns, Values: vals}, err: a.RowsErr}
}

// rows is BufferedRows with an optional error at the end.
type rows struct {
	driver.BufferedRows
	err  error
	done bool
}

func (r *rows) Next() bool {
	if r.BufferedRows.Next() {
		return true
	}
	r.done = true
	return false
}

func (r *rows) Err() error {
	if r.done {
		return r.err
	}
	return nil
}

// querier runs statements with a fixed place (transaction, session).
type querier struct {
	f       *Fake
	tx      int
	session int
}

func (q querier) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	a := q.f.answer(ctx, Stmt{Kind: Query, SQL: sql, Args: args, Tx: q.tx, Session: q.session})
	if a.Err != nil {
		return nil, a.Err
	}
	return a.rows(), nil
}

func (q querier) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	a := q.f.answer(ctx, Stmt{Kind: Exec, SQL: sql, Args: args, Tx: q.tx, Session: q.session})
	if a.Err != nil {
		return driver.Result{}, a.Err
	}
	return a.Result, nil
}

// base is the required part of the connection.
type base struct{ f *Fake }

func (c base) Dialect() dialect.Dialect { return c.f.d }

func (c base) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	return querier{f: c.f}.Query(ctx, sql, args)
}

func (c base) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	return querier{f: c.f}.Exec(ctx, sql, args)
}

func (c base) Close() error {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	c.f.closed = true
	return nil
}

type beginner struct{ f *Fake }

func (c beginner) Begin(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	f := c.f
	f.mu.Lock()
	f.txs++
	n := f.txs
	f.mu.Unlock()
	if a := f.answer(ctx, Stmt{Kind: Begin, SQL: "BEGIN", Tx: n, TxOptions: opts}); a.Err != nil {
		return nil, a.Err
	}
	return &tx{q: querier{f: f, tx: n}}, nil
}

// tx is a fake transaction.
type tx struct {
	q    querier
	mu   sync.Mutex
	done bool
}

func (t *tx) check() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return ErrTxDone
	}
	return nil
}

func (t *tx) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return t.q.Query(ctx, sql, args)
}

func (t *tx) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	if err := t.check(); err != nil {
		return driver.Result{}, err
	}
	return t.q.Exec(ctx, sql, args)
}

func (t *tx) end(ctx context.Context, k Kind) error {
	t.mu.Lock()
	if t.done {
		t.mu.Unlock()
		return ErrTxDone
	}
	t.done = true
	t.mu.Unlock()
	return t.q.f.answer(ctx, Stmt{Kind: k, SQL: strings.ToUpper(k.String()), Tx: t.q.tx}).Err
}

func (t *tx) Commit(ctx context.Context) error   { return t.end(ctx, Commit) }
func (t *tx) Rollback(ctx context.Context) error { return t.end(ctx, Rollback) }

type batcher struct{ f *Fake }

func (c batcher) Batch(ctx context.Context, stmts []driver.Stmt) ([]driver.BatchResult, error) {
	f := c.f
	f.mu.Lock()
	f.batches++
	n := f.batches
	f.mu.Unlock()
	out := make([]driver.BatchResult, len(stmts))
	for i, st := range stmts {
		k := Exec
		if st.Rows {
			k = Query
		}
		a := f.answer(ctx, Stmt{Kind: k, SQL: st.SQL, Args: st.Args, Batch: n, Index: i})
		if a.Err != nil {
			return nil, &driver.BatchError{Index: i, SQL: st.SQL, Err: a.Err}
		}
		out[i].Result = a.Result
		if st.Rows {
			out[i].Rows = a.rows()
		}
	}
	return out, nil
}

type sessioner struct{ f *Fake }

func (c sessioner) Session(ctx context.Context) (driver.Session, error) {
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.sessions++
	return &session{q: querier{f: f, session: f.sessions}}, nil
}

// session is a pinned fake session.
type session struct {
	q      querier
	mu     sync.Mutex
	closed bool
}

// ErrSessionClosed is returned by a session's methods after its Close.
var ErrSessionClosed = errors.New("fakedriver: the session is closed")

func (s *session) check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrSessionClosed
	}
	return nil
}

func (s *session) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return s.q.Query(ctx, sql, args)
}

func (s *session) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	if err := s.check(); err != nil {
		return driver.Result{}, err
	}
	return s.q.Exec(ctx, sql, args)
}

func (s *session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

type namer struct{}

func (namer) DriverName() string { return "fake" }

// build returns the connection with exactly f.caps.
func (f *Fake) build() driver.Conn {
	b, bg, bt, ss := base{f}, beginner{f}, batcher{f}, sessioner{f}
	switch f.caps & All {
	case None:
		return struct{ base }{b}
	case Transactions:
		return struct {
			base
			beginner
		}{b, bg}
	case Batches:
		return struct {
			base
			batcher
		}{b, bt}
	case Sessions:
		return struct {
			base
			sessioner
		}{b, ss}
	case Named:
		return struct {
			base
			namer
		}{b, namer{}}
	case Transactions | Batches:
		return struct {
			base
			beginner
			batcher
		}{b, bg, bt}
	case Transactions | Sessions:
		return struct {
			base
			beginner
			sessioner
		}{b, bg, ss}
	case Transactions | Named:
		return struct {
			base
			beginner
			namer
		}{b, bg, namer{}}
	case Batches | Sessions:
		return struct {
			base
			batcher
			sessioner
		}{b, bt, ss}
	case Batches | Named:
		return struct {
			base
			batcher
			namer
		}{b, bt, namer{}}
	case Sessions | Named:
		return struct {
			base
			sessioner
			namer
		}{b, ss, namer{}}
	case Transactions | Batches | Sessions:
		return struct {
			base
			beginner
			batcher
			sessioner
		}{b, bg, bt, ss}
	case Transactions | Batches | Named:
		return struct {
			base
			beginner
			batcher
			namer
		}{b, bg, bt, namer{}}
	case Transactions | Sessions | Named:
		return struct {
			base
			beginner
			sessioner
			namer
		}{b, bg, ss, namer{}}
	case Batches | Sessions | Named:
		return struct {
			base
			batcher
			sessioner
			namer
		}{b, bt, ss, namer{}}
	default: // All
		return struct {
			base
			beginner
			batcher
			sessioner
			namer
		}{b, bg, bt, ss, namer{}}
	}
}
