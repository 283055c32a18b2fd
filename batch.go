package forge

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
)

// BatchOp is a write prepared for Batch. Build it with a model's CreateOp,
// UpdateManyOp or DeleteManyOp, or with ExecOp for raw SQL. Batch builds
// its statement once, when the batch runs.
type BatchOp struct {
	m     *model // nil for ExecOp
	build func(d dialect.Dialect) (stmt, []any, error)
	st    stmt
	keys  []any // the primary keys written, when known before running
	res   driver.Result
}

// Result is the outcome of the op once its batch has run.
func (o *BatchOp) Result() driver.Result { return o.res }

// ExecOp prepares a raw SQL write for Batch.
func ExecOp(sql string, args ...any) *BatchOp {
	return &BatchOp{st: stmt{op: OpExec, sql: sql, args: args}}
}

// createOp is CreateOp's untyped body; v is the op's own copy of the row,
// which each run of the op copies again before filling in ids and defaults.
func (m *model) createOp(v unsafe.Pointer) *BatchOp {
	return &BatchOp{m: m, build: func(d dialect.Dialect) (stmt, []any, error) {
		row := m.grow(nil, 0, 1)
		m.copyRow(row, v)
		fields := m.prepareInsert(row, time.Now().UTC(), m.pk.auto && !m.pk.isZero(row))
		args, err := m.loadRows(d, fields, row, 1, make([]any, 0, len(fields)))
		if err != nil {
			return stmt{}, nil, err
		}
		var keys []any
		if !m.pk.isZero(row) {
			keys = []any{m.pk.pkValue(row)}
		}
		return buildInsert(d, OpCreate, m, fields, 1, args, nil), keys, nil
	}}
}

// updateManyOp is UpdateManyOp's untyped body.
func (m *model) updateManyOp(where Cond, sets []Assignment) *BatchOp {
	return &BatchOp{m: m, build: func(d dialect.Dialect) (stmt, []any, error) {
		w, err := m.manyFilter(&where, "UpdateManyOp")
		if err != nil {
			return stmt{}, nil, err
		}
		st, err := buildUpdate(d, OpUpdateMany, m, &w, sets, nil)
		return st, nil, err
	}}
}

// deleteManyOp is DeleteManyOp's untyped body.
func (m *model) deleteManyOp(where Cond) *BatchOp {
	return &BatchOp{m: m, build: func(d dialect.Dialect) (stmt, []any, error) {
		w, err := m.manyFilter(&where, "DeleteManyOp")
		if err != nil {
			return stmt{}, nil, err
		}
		st, err := buildDelete(d, OpDeleteMany, m, &w, nil)
		return st, nil, err
	}}
}

// Batch applies ops atomically: all take effect or none does. On drivers
// that batch (D1, Neon, Hrana, pgx) it is one round trip; on drivers with
// interactive transactions only, one transaction. A driver with neither
// returns a *CapabilityError. See runner.atomic for the order.
func (db *DB) Batch(ctx context.Context, ops ...*BatchOp) ([]driver.Result, error) {
	r, err := runnerOf(db)
	if err != nil {
		return nil, err
	}
	return r.batch(ctx, ops)
}

// Batch runs ops inside the transaction, in order.
func (tx *Tx) Batch(ctx context.Context, ops ...*BatchOp) ([]driver.Result, error) {
	r, err := runnerOf(tx)
	if err != nil {
		return nil, err
	}
	return r.batch(ctx, ops)
}

// batch builds every op's statement once (nothing runs if one fails or
// names a model outside the DB's schema), runs them atomically and reports
// their mutations. After the ops' own statements come those that move id
// sequences past the explicit ids CreateOps inserted (PostgreSQL), one per
// model.
func (r *runner) batch(ctx context.Context, ops []*BatchOp) ([]driver.Result, error) {
	d := r.db.d
	stmts := make([]stmt, len(ops), len(ops)+1)
	var m *model // the model named in events and errors: the first op's
	var maxIDs map[*model]int64
	var order []*model
	for i, o := range ops {
		if o == nil {
			return nil, &QueryError{Msg: "Batch: a nil op"}
		}
		if o.m != nil {
			if err := o.m.check(r); err != nil {
				return nil, err
			}
			st, keys, err := o.build(d)
			if err != nil {
				return nil, err
			}
			o.st, o.keys = st, keys
			if st.op == OpCreate && o.m.pk.auto && len(keys) == 1 {
				if maxIDs == nil {
					maxIDs = map[*model]int64{}
				}
				id := keys[0].(int64)
				if prev, ok := maxIDs[o.m]; !ok {
					order = append(order, o.m)
					maxIDs[o.m] = id
				} else {
					maxIDs[o.m] = max(prev, id)
				}
			}
		} else if o.st.op == OpExec {
			args, err := encodeArgs(d, o.st.args)
			if err != nil {
				return nil, &driver.BatchError{Index: i, SQL: o.st.sql, Err: err}
			}
			o.st.args = args
		}
		if m == nil {
			m = o.st.m
		}
		stmts[i] = o.st
	}
	if len(stmts) == 0 {
		return nil, nil
	}
	for _, m := range order {
		if sync := m.syncID(d, OpCreate, maxIDs[m]); sync.sql != "" {
			stmts = append(stmts, sync)
		}
	}
	results, err := r.atomic(ctx, OpBatch, m, stmts, nil)
	if err != nil {
		return nil, err
	}
	results = results[:len(ops)]
	for i, o := range ops {
		o.res = results[i]
		r.mutatedOp(ctx, o)
	}
	return results, nil
}

// atomic runs stmts so that all take effect or none does, and hands the
// rows of each statement built with RETURNING to read (nil when none has
// it). It is the one place that chooses how, in this order:
//  1. inside a transaction: in order, on it;
//  2. a driver that batches (driver.Batcher): one atomic round trip;
//  3. a driver with interactive transactions (driver.Beginner): in a new
//     transaction;
//  4. else a *CapabilityError, before anything runs.
//
// A statement's error is a *BatchError naming it. op and m name the
// operation and model for events and errors (m is nil for raw SQL).
func (r *runner) atomic(ctx context.Context, op Operation, m *model, stmts []stmt, read func(i int, rows driver.Rows) (int64, error)) ([]driver.Result, error) {
	db := r.db
	if r.tx != nil {
		results := make([]driver.Result, len(stmts))
		for i, st := range stmts {
			var err error
			if st.rows {
				err = r.query(ctx, st, func(rows driver.Rows) (int64, error) {
					n, err := read(i, rows)
					results[i].RowsAffected = n
					return n, err
				})
			} else {
				results[i], err = r.exec(ctx, st)
			}
			if err != nil {
				return nil, &driver.BatchError{Index: i, SQL: st.sql, Err: err}
			}
		}
		return results, nil
	}
	if bt, ok := db.conn.(driver.Batcher); ok {
		dstmts := make([]driver.Stmt, len(stmts))
		for i, st := range stmts {
			dstmts[i] = driver.Stmt{SQL: st.sql, Args: st.args, Rows: st.rows}
		}
		brs, err := db.runBatch(ctx, bt, op, dstmts, m)
		if err != nil {
			return nil, err
		}
		results := make([]driver.Result, len(stmts))
		for i, br := range brs {
			results[i] = br.Result
			if !stmts[i].rows {
				continue
			}
			if br.Rows == nil {
				return nil, fmt.Errorf("forge: the driver returned no rows for statement %d of a batch, which has RETURNING", i)
			}
			_, err := read(i, br.Rows)
			if cerr := br.Rows.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, err
			}
		}
		return results, nil
	}
	if _, ok := db.conn.(driver.Beginner); ok {
		var results []driver.Result
		err := db.Transaction(ctx, func(tx *Tx) error {
			var err error
			results, err = tx.r.atomic(ctx, op, m, stmts, read)
			return err
		})
		return results, err
	}
	return nil, &driver.CapabilityError{Op: "atomic batches", Driver: driver.Name(db.conn),
		Use: "it runs single statements only; write one statement at a time, or use a driver with transactions"}
}

// runBatch sends stmts to a Batcher with one event for the whole batch. op
// and m name the operation and model for events and errors (m is nil for
// raw batches).
func (db *DB) runBatch(ctx context.Context, bt driver.Batcher, op Operation, stmts []driver.Stmt, m *model) ([]driver.BatchResult, error) {
	if len(db.obs) == 0 {
		res, err := bt.Batch(ctx, stmts)
		if err != nil {
			return nil, db.enrich(err, m, op)
		}
		if len(res) != len(stmts) {
			return nil, fmt.Errorf("forge: the driver returned %d results for a batch of %d statements", len(res), len(stmts))
		}
		return res, nil
	}
	var sql strings.Builder
	args := 0
	for i, s := range stmts {
		if i > 0 {
			sql.WriteString(";\n")
		}
		sql.WriteString(s.SQL)
		args += len(s.Args)
	}
	e, ctx2 := db.r.start(ctx, stmt{op: op, m: m, sql: sql.String(), batch: int32(len(stmts))})
	e.NumArgs = args
	res, err := bt.Batch(ctx2, stmts)
	var n int64
	for _, r := range res {
		n += r.RowsAffected
	}
	if err != nil {
		err = db.enrich(err, m, op)
	}
	db.r.end(ctx2, e, n, err)
	if err != nil {
		return nil, err
	}
	if len(res) != len(stmts) {
		return nil, fmt.Errorf("forge: the driver returned %d results for a batch of %d statements", len(res), len(stmts))
	}
	return res, nil
}

// mutatedOp reports the mutation an op made.
func (r *runner) mutatedOp(ctx context.Context, o *BatchOp) {
	if o.st.m == nil {
		r.rawWrite(ctx)
		return
	}
	keys := o.keys
	if keys == nil && o.st.op == OpCreate && o.res.HasLastInsertID {
		keys = []any{o.res.LastInsertID}
	}
	if o.st.movesKey {
		keys = nil
	}
	r.mutated(ctx, o.st.op, o.st.m, o.res.RowsAffected, keys)
}
