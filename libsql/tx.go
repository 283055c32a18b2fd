package libsql

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/wire/hrana"
)

// ErrTxDone is returned by a transaction's methods after Commit or
// Rollback, or after its BEGIN failed.
var ErrTxDone = errors.New("forge/libsql: the transaction has already ended")

// ErrStreamLost wraps the error that made a transaction's Hrana stream
// unusable: a request whose response never arrived (a cancelled context,
// a network failure), an HTTP error (which ends the stream), or a server
// that closed the stream. No COMMIT can reach the transaction any more, so
// the server rolls it back when the stream expires.
var ErrStreamLost = errors.New("forge/libsql: the transaction's stream is lost; the server rolls the transaction back")

// ReadOnlyError is returned when a statement in a read-only transaction
// would write. The statement ran, and the whole transaction was rolled
// back (see the package doc: sqld does not enforce read-only transactions
// itself, so the driver checks every statement).
type ReadOnlyError struct {
	SQL string
	Err error // the rollback's error, if it failed
}

func (e *ReadOnlyError) Error() string {
	s := "forge/libsql: a read-only transaction ran a statement that writes, so the transaction was rolled back: " + e.SQL
	if e.Err != nil {
		s += " (the rollback failed: " + e.Err.Error() + ")"
	}
	return s
}

func (e *ReadOnlyError) Unwrap() error { return e.Err }

// Begin implements driver.Beginner. The transaction runs on one Hrana
// stream. Begin itself does no I/O: BEGIN travels with the transaction's
// first statement, in one round trip (a batch where the statement runs
// only if BEGIN succeeded), as @libsql/client does.
//
// Every isolation level is accepted: SQLite runs every transaction
// SERIALIZABLE, which gives at least what each level promises. A level
// that is not one of driver's four is refused with a
// *driver.CapabilityError. ReadOnly sends BEGIN TRANSACTION READONLY and
// checks each statement (see ReadOnlyError).
func (c *Conn) Begin(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	switch opts.Isolation {
	case "", driver.ReadUncommitted, driver.ReadCommitted, driver.RepeatableRead, driver.Serializable:
	default:
		return nil, &driver.CapabilityError{Op: "isolation level " + strconv.Quote(string(opts.Isolation)), Driver: c.DriverName(),
			Use: "SQLite runs every transaction SERIALIZABLE; ask for driver.Serializable (or a weaker standard level, or none)"}
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxError(ctx, nil)
	}
	t := &tx{c: c, endpoint: c.endpoint, begin: "BEGIN IMMEDIATE", readOnly: opts.ReadOnly, sem: make(chan struct{}, 1)}
	if opts.ReadOnly {
		t.begin = "BEGIN TRANSACTION READONLY"
	}
	return t, nil
}

// tx is an interactive transaction on one Hrana stream. The stream's
// requests are serialised: each needs the baton of the previous response.
type tx struct {
	c        *Conn
	begin    string
	readOnly bool

	// sem serialises the stream's requests; waiting for it honours the
	// caller's context. It guards the fields below.
	sem      chan struct{}
	endpoint string  // where the stream's requests go (base_url stickiness)
	baton    *string // the stream's current baton
	started  bool    // a request has been sent: the stream may exist
	done     bool    // Commit or Rollback was called, or BEGIN failed
	lost     error   // why the stream can no longer be used (wraps ErrStreamLost)
}

func (t *tx) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	res, err := t.run(ctx, sql, args, true)
	if err != nil {
		return nil, err
	}
	return toRows(res), nil
}

func (t *tx) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	res, err := t.run(ctx, sql, args, false)
	if err != nil {
		return driver.Result{}, err
	}
	return toResult(res)
}

// run executes one statement on the stream: the first one together with
// BEGIN; in a read-only transaction, together with a describe that says
// whether it writes.
func (t *tx) run(ctx context.Context, sql string, args []any, wantRows bool) (*hrana.StmtResult, error) {
	vals, err := encodeArgs(args)
	if err != nil {
		return nil, err
	}
	if err := t.lock(ctx); err != nil {
		return nil, err
	}
	defer t.unlock()
	if t.done {
		return nil, ErrTxDone
	}
	if t.lost != nil {
		return nil, t.lost
	}
	stmt := hrana.NewStmt(sql, vals, wantRows)
	var reqs []hrana.StreamRequest
	if t.readOnly {
		reqs = append(reqs, hrana.DescribeRequest(sql))
	}
	first := !t.started
	if first {
		cond := hrana.CondOK(0)
		reqs = append(reqs, hrana.BatchRequest(
			hrana.BatchStep{Stmt: hrana.NewStmt(t.begin, nil, false)},
			hrana.BatchStep{Condition: &cond, Stmt: stmt},
		))
	} else {
		reqs = append(reqs, hrana.ExecuteRequest(stmt))
	}
	resp, err := t.send(ctx, reqs)
	if err != nil {
		return nil, err
	}
	r := resp.Results[len(reqs)-1]
	var res *hrana.StmtResult
	if first {
		res, err = t.firstResult(ctx, r)
	} else {
		res, err = executeResult(r)
	}
	if err != nil {
		return nil, err
	}
	if t.readOnly {
		d := resp.Results[0]
		// A statement that failed to prepare has already returned its
		// error above; one that ran must have been described.
		if d.Error != nil || d.Response.Describe == nil {
			return nil, errors.Join(&ProtocolError{Msg: "no description of a statement in a read-only transaction"}, t.abort(ctx))
		}
		if !d.Response.Describe.IsReadonly {
			return nil, &ReadOnlyError{SQL: sql, Err: t.abort(ctx)}
		}
	}
	return res, nil
}

// firstResult reads the batch [BEGIN, statement if BEGIN succeeded].
func (t *tx) firstResult(ctx context.Context, r hrana.StreamResult) (*hrana.StmtResult, error) {
	if r.Error != nil {
		t.done = true
		t.closeQuietly(ctx)
		return nil, fmt.Errorf("forge/libsql: starting the transaction failed: %w", stmtError(r.Error))
	}
	if r.Response.Type != hrana.TypeBatch || r.Response.Batch == nil || len(r.Response.Batch.StepResults) != 2 {
		return nil, errors.Join(&ProtocolError{Msg: "the transaction's first batch got a " + strconv.Quote(r.Response.Type) + " response of the wrong shape"}, t.abort(ctx))
	}
	b := r.Response.Batch
	if e := b.StepErrors[0]; e != nil {
		t.done = true
		t.closeQuietly(ctx)
		return nil, fmt.Errorf("forge/libsql: %s failed: %w", t.begin, stmtError(e))
	}
	if e := b.StepErrors[1]; e != nil {
		return nil, stmtError(e)
	}
	if b.StepResults[1] == nil {
		return nil, errors.Join(&ProtocolError{Msg: "the transaction's first statement was skipped though BEGIN succeeded"}, t.abort(ctx))
	}
	return b.StepResults[1], nil
}

// send sends reqs on the stream and keeps its new baton. Any failure
// loses the stream: either the response never arrived (so the baton is
// unknown) or the server ended the stream (an HTTP error).
func (t *tx) send(ctx context.Context, reqs []hrana.StreamRequest) (*hrana.PipelineResponse, error) {
	// Refusals before any I/O leave the stream as it was.
	if t.c.closed.Load() {
		return nil, ErrClosed
	}
	if ctx.Err() != nil {
		return nil, ctxError(ctx, nil)
	}
	t.started = true
	resp, err := t.c.pipeline(ctx, t.endpoint, t.baton, reqs)
	if err != nil {
		t.lost = fmt.Errorf("%w: %w", ErrStreamLost, err)
		return nil, err
	}
	t.baton = resp.Baton
	if resp.BaseURL != nil {
		ep, err := streamEndpoint(*resp.BaseURL)
		if err != nil {
			t.lost = fmt.Errorf("%w: %w", ErrStreamLost, err)
			return nil, err
		}
		t.endpoint = ep
	}
	if resp.Baton == nil && !t.done {
		t.lost = fmt.Errorf("%w: %w", ErrStreamLost, &ProtocolError{Msg: "the server closed the transaction's stream"})
	}
	return resp, nil
}

func (t *tx) lock(ctx context.Context) error {
	select {
	case t.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctxError(ctx, nil)
	}
}

func (t *tx) unlock() { <-t.sem }

// cleanupTimeout bounds the requests the driver sends on its own to end a
// stream (after a failed BEGIN or a read-only violation), which must run
// even when the caller's context has ended.
const cleanupTimeout = 10 * time.Second

// closeQuietly closes the stream after a failed BEGIN; there is no
// transaction to end, and a failure only leaves the stream to expire.
func (t *tx) closeQuietly(ctx context.Context) {
	if t.baton == nil || t.lost != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, _ = t.send(ctx, []hrana.StreamRequest{hrana.CloseRequest()})
}

// abort ends the transaction with a ROLLBACK (after a read-only violation
// or a reply it cannot trust) and returns the rollback's error, if any.
func (t *tx) abort(ctx context.Context) error {
	t.done = true
	if t.lost != nil || t.baton == nil {
		return t.lost
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, err := t.finish(ctx, "ROLLBACK")
	return err
}

// finish sends [execute sql, close] and returns the statement's result.
func (t *tx) finish(ctx context.Context, sql string) (*hrana.StmtResult, error) {
	resp, err := t.send(ctx, []hrana.StreamRequest{
		hrana.ExecuteRequest(hrana.NewStmt(sql, nil, false)),
		hrana.CloseRequest(),
	})
	if err != nil {
		return nil, err
	}
	return executeResult(resp.Results[0])
}

func (t *tx) Commit(ctx context.Context) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	defer t.unlock()
	if t.done {
		return ErrTxDone
	}
	t.done = true
	if !t.started {
		return nil // nothing ran: there is no stream and nothing to commit
	}
	if t.lost != nil {
		return fmt.Errorf("%w (nothing was committed)", t.lost)
	}
	if _, err := t.finish(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("forge/libsql: COMMIT failed: %w", err)
	}
	return nil
}

func (t *tx) Rollback(ctx context.Context) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	defer t.unlock()
	if t.done {
		return ErrTxDone
	}
	t.done = true
	if !t.started {
		return nil
	}
	if t.lost != nil {
		return t.lost
	}
	if _, err := t.finish(ctx, "ROLLBACK"); err != nil {
		return fmt.Errorf("forge/libsql: ROLLBACK failed: %w", err)
	}
	return nil
}
