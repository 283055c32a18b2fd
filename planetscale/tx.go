package planetscale

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/forge-orm/forge/driver"
	wire "github.com/forge-orm/forge/wire/planetscale"
)

// Begin implements driver.Beginner: BEGIN (START TRANSACTION READ ONLY
// for a read-only transaction) on a session of its own. An isolation level
// is set first on that session with SET TRANSACTION ISOLATION LEVEL, which
// applies to its next transaction only (one more request).
func (c *Conn) Begin(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	switch opts.Isolation {
	case "", driver.ReadUncommitted, driver.ReadCommitted, driver.RepeatableRead, driver.Serializable:
	default:
		return nil, &driver.CapabilityError{Op: "isolation level " + strconv.Quote(string(opts.Isolation)), Driver: c.DriverName(),
			Use: "ask for one of driver's four standard levels"}
	}
	begin := "BEGIN"
	if opts.ReadOnly {
		begin = "START TRANSACTION READ ONLY"
	}
	t := &tx{c: c, sem: make(chan struct{}, 1)}
	sess, err := c.take(ctx)
	if err != nil {
		return nil, err
	}
	if opts.Isolation != "" {
		resp, err := c.execute(ctx, "SET TRANSACTION ISOLATION LEVEL "+string(opts.Isolation), sess)
		if err != nil {
			return nil, err
		}
		if resp.Error != nil {
			c.put(resp.Session)
			return nil, c.mapError(resp.Error)
		}
		sess = resp.Session
	}
	resp, err := c.execute(ctx, begin, sess)
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		c.put(resp.Session)
		return nil, c.mapError(resp.Error)
	}
	if !sessionState(resp.Session).InTransaction {
		return nil, &ResponseError{Msg: "the session is not in a transaction after " + begin}
	}
	t.session = resp.Session
	return t, nil
}

// tx is an interactive transaction on one session. Its requests are
// serialised: each sends the session the previous response returned.
type tx struct {
	c       *Conn
	sem     chan struct{} // held by the request in flight
	session json.RawMessage
	done    bool
	ended   error // why the server ended the transaction, if it did
}

func (t *tx) lock(ctx context.Context) error {
	select {
	case t.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *tx) unlock() { <-t.sem }

// run sends one statement of the transaction. A request that got no
// answer loses the session: the transaction is then over for the driver
// (the server rolls it back when the session expires).
func (t *tx) run(ctx context.Context, sql string, args []any) (*wire.Result, error) {
	q, err := wire.Interpolate(sql, args)
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
	resp, err := t.c.execute(ctx, q, t.session)
	if err != nil {
		t.done = true
		return nil, err
	}
	t.session = resp.Session
	if resp.Error != nil {
		err := t.c.mapError(resp.Error)
		if !sessionState(resp.Session).InTransaction {
			// The server ended (rolled back) the transaction: a deadlock,
			// an expired session.
			t.done, t.ended = true, err
		}
		return nil, err
	}
	return resp.Result, nil
}

func (t *tx) Query(ctx context.Context, sql string, args []any) (driver.Rows, error) {
	res, err := t.run(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	return bufferRows(res)
}

func (t *tx) Exec(ctx context.Context, sql string, args []any) (driver.Result, error) {
	res, err := t.run(ctx, sql, args)
	if err != nil {
		return driver.Result{}, err
	}
	return result(res)
}

// Commit sends COMMIT. Anything but a successful answer whose session is
// out of the transaction is a *CommitError.
func (t *tx) Commit(ctx context.Context) error {
	if err := t.lock(ctx); err != nil {
		return &CommitError{Err: err}
	}
	defer t.unlock()
	if t.ended != nil {
		return &CommitError{Err: t.ended}
	}
	if t.done {
		return ErrTxDone
	}
	t.done = true
	resp, err := t.c.execute(ctx, "COMMIT", t.session)
	if err != nil {
		return &CommitError{Err: err}
	}
	if resp.Error != nil {
		return &CommitError{Err: t.c.mapError(resp.Error)}
	}
	if sessionState(resp.Session).InTransaction {
		return &CommitError{Err: &ResponseError{Msg: "the session is still in a transaction after COMMIT"}}
	}
	t.c.put(resp.Session)
	return nil
}

// Rollback sends ROLLBACK. After the server ended the transaction itself
// there is nothing to roll back (nil); after Commit or a lost session it
// returns ErrTxDone.
func (t *tx) Rollback(ctx context.Context) error {
	if err := t.lock(ctx); err != nil {
		return err
	}
	defer t.unlock()
	if t.ended != nil {
		return nil
	}
	if t.done {
		return ErrTxDone
	}
	t.done = true
	resp, err := t.c.execute(ctx, "ROLLBACK", t.session)
	if err != nil {
		return err
	}
	if resp.Error != nil {
		return t.c.mapError(resp.Error)
	}
	t.c.put(resp.Session)
	return nil
}

// Batch implements driver.Batcher: the statements run in one transaction
// on a new session (BEGIN, each statement, COMMIT), which is rolled back
// at the first failure, reported as a *driver.BatchError. A COMMIT that
// fails is a *CommitError.
func (c *Conn) Batch(ctx context.Context, stmts []driver.Stmt) ([]driver.BatchResult, error) {
	if len(stmts) == 0 {
		return nil, nil
	}
	qs := make([]string, len(stmts))
	for i, s := range stmts {
		q, err := wire.Interpolate(s.SQL, s.Args)
		if err != nil {
			return nil, &driver.BatchError{Index: i, SQL: s.SQL, Err: err}
		}
		qs[i] = q
	}
	dt, err := c.Begin(ctx, driver.TxOptions{})
	if err != nil {
		return nil, err
	}
	t := dt.(*tx)
	out := make([]driver.BatchResult, len(stmts))
	for i, s := range stmts {
		res, err := t.run(ctx, qs[i], nil)
		if err == nil {
			out[i].Result, err = result(res)
		}
		if err == nil && s.Rows {
			out[i].Rows, err = bufferRows(res)
		}
		if err != nil {
			if rerr := t.Rollback(context.WithoutCancel(ctx)); rerr != nil && !errors.Is(rerr, ErrTxDone) {
				err = errors.Join(err, rerr)
			}
			return nil, &driver.BatchError{Index: i, SQL: s.SQL, Err: err}
		}
	}
	if err := t.Commit(ctx); err != nil {
		return nil, err
	}
	return out, nil
}
