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

// Op is a write prepared for Batch. Build it with a model's CreateOp,
// UpdateManyOp or DeleteManyOp, or with ExecOp for raw SQL.
type Op struct {
	st    stmt
	build func(d dialect.Dialect) (stmt, []any, error)
	keys  []any
	res   driver.Result
}

// Result is the outcome of the op once its batch has run.
func (o *Op) Result() driver.Result { return o.res }

// ExecOp prepares a raw SQL write for Batch.
func ExecOp(sql string, args ...any) *Op {
	return &Op{st: stmt{op: OpExec, sql: sql, args: args}}
}

// CreateOp prepares the insert of v for Batch. Generated text ids and
// defaults are filled in when the batch runs; a database-generated id is
// not read back (use Create for that).
func (m *ModelOf[T]) CreateOp(v T) *Op {
	mm := m.m
	return &Op{build: func(d dialect.Dialect) (stmt, []any, error) {
		if mm.err != nil {
			return stmt{}, nil, mm.err
		}
		row := v
		base := unsafe.Pointer(&row)
		fields := mm.prepareInsert(base, time.Now().UTC(), mm.pk != nil && mm.pk.auto && !mm.pk.isZero(base))
		b := newBuilder(d, 128)
		if err := b.insertRow(mm, fields, base); err != nil {
			return stmt{}, nil, err
		}
		var keys []any
		if k := mm.pk.key(base); k != nil && !mm.pk.isZero(base) {
			keys = []any{k}
		}
		return stmt{op: OpCreate, m: mm, sql: b.sql(), args: b.args}, keys, nil
	}}
}

// UpdateManyOp prepares an UpdateMany for Batch.
func (m *ModelOf[T]) UpdateManyOp(where Cond, sets ...Assignment) *Op {
	mm := m.m
	return &Op{build: func(d dialect.Dialect) (stmt, []any, error) {
		if mm.err != nil {
			return stmt{}, nil, mm.err
		}
		if where.op == opNone {
			return stmt{}, nil, qerr(mm, "UpdateManyOp without a condition; pass forge.All() to update every row")
		}
		b := newBuilder(d, 128)
		b.str("UPDATE ")
		b.table(mm)
		if err := writeSets(&b, mm, sets); err != nil {
			return stmt{}, nil, err
		}
		if err := b.where(mm, &where); err != nil {
			return stmt{}, nil, err
		}
		return stmt{op: OpUpdateMany, m: mm, sql: b.sql(), args: b.args}, nil, nil
	}}
}

// DeleteManyOp prepares a DeleteMany for Batch.
func (m *ModelOf[T]) DeleteManyOp(where Cond) *Op {
	mm := m.m
	return &Op{build: func(d dialect.Dialect) (stmt, []any, error) {
		if mm.err != nil {
			return stmt{}, nil, mm.err
		}
		if where.op == opNone {
			return stmt{}, nil, qerr(mm, "DeleteManyOp without a condition; pass forge.All() to delete every row")
		}
		b := newBuilder(d, 64)
		b.str("DELETE FROM ")
		b.table(mm)
		if err := b.where(mm, &where); err != nil {
			return stmt{}, nil, err
		}
		return stmt{op: OpDeleteMany, m: mm, sql: b.sql(), args: b.args}, nil, nil
	}}
}

// prepare builds every op's statement; nothing runs if one fails. The
// statements after the ops' own move id sequences past explicit ids that
// CreateOps inserted (PostgreSQL), one per model.
func prepare(d dialect.Dialect, ops []*Op) ([]driver.Stmt, error) {
	stmts := make([]driver.Stmt, len(ops), len(ops)+1)
	var maxIDs map[*model]int64
	var order []*model
	for i, o := range ops {
		if o == nil {
			return nil, &QueryError{Msg: "Batch: a nil op"}
		}
		if o.build != nil {
			st, keys, err := o.build(d)
			if err != nil {
				return nil, err
			}
			o.st, o.keys = st, keys
			if m := st.m; st.op == OpCreate && m.pk != nil && m.pk.auto && len(keys) == 1 {
				if maxIDs == nil {
					maxIDs = map[*model]int64{}
				}
				id := keys[0].(int64)
				if prev, ok := maxIDs[m]; !ok {
					order = append(order, m)
					maxIDs[m] = id
				} else {
					maxIDs[m] = max(prev, id)
				}
			}
		} else if o.st.op == OpExec {
			args, err := encodeArgs(d, o.st.args)
			if err != nil {
				return nil, &driver.BatchError{Index: i, SQL: o.st.sql, Err: err}
			}
			o.st.args = args
		}
		stmts[i] = driver.Stmt{SQL: o.st.sql, Args: o.st.args}
	}
	for _, m := range order {
		if sync := m.syncID(d, OpCreate, maxIDs[m]); sync.sql != "" {
			stmts = append(stmts, driver.Stmt{SQL: sync.sql, Args: sync.args})
		}
	}
	return stmts, nil
}

// Batch applies ops atomically: all take effect or none does. On drivers
// that batch (D1, Neon, Hrana) it is one round trip; on drivers with
// interactive transactions it is one transaction. A driver with neither
// returns a *CapabilityError.
func (db *DB) Batch(ctx context.Context, ops ...*Op) ([]driver.Result, error) {
	if !db.ok() {
		return nil, errNilDB()
	}
	stmts, err := prepare(db.d, ops)
	if err != nil {
		return nil, err
	}
	if len(stmts) == 0 {
		return nil, nil
	}
	if bt, ok := db.conn.(driver.Batcher); ok {
		brs, err := db.runBatch(ctx, bt, OpBatch, stmts, ops[0].st.m)
		if err != nil {
			return nil, err
		}
		results := make([]driver.Result, len(ops))
		for i, o := range ops {
			o.res = brs[i].Result
			results[i] = o.res
			db.s.mutatedOp(ctx, o)
		}
		return results, nil
	}
	if _, ok := db.conn.(driver.Beginner); ok {
		var results []driver.Result
		err := db.Transaction(ctx, func(tx *Tx) error {
			var err error
			results, err = tx.Batch(ctx, ops...)
			return err
		})
		if err != nil {
			return nil, err
		}
		return results, nil
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
	e, ctx2 := db.s.start(ctx, stmt{op: op, m: m, sql: sql.String()})
	e.Args = args
	res, err := bt.Batch(ctx2, stmts)
	var n int64
	for _, r := range res {
		n += r.RowsAffected
	}
	if err != nil {
		err = db.enrich(err, m, op)
	}
	db.s.end(ctx2, e, n, err)
	if err != nil {
		return nil, err
	}
	if len(res) != len(stmts) {
		return nil, fmt.Errorf("forge: the driver returned %d results for a batch of %d statements", len(res), len(stmts))
	}
	return res, nil
}

// Batch runs ops inside the transaction, in order.
func (tx *Tx) Batch(ctx context.Context, ops ...*Op) ([]driver.Result, error) {
	if tx == nil || tx.db == nil {
		return nil, errNilDB()
	}
	stmts, err := prepare(tx.db.d, ops)
	if err != nil {
		return nil, err
	}
	results := make([]driver.Result, len(ops))
	for i, o := range ops {
		res, err := tx.s.exec(ctx, o.st)
		if err != nil {
			return nil, &driver.BatchError{Index: i, SQL: o.st.sql, Err: err}
		}
		o.res = res
		results[i] = res
		tx.s.mutatedOp(ctx, o)
	}
	for i, st := range stmts[len(ops):] {
		if _, err := tx.s.exec(ctx, stmt{op: OpCreate, sql: st.SQL, args: st.Args}); err != nil {
			return nil, &driver.BatchError{Index: len(ops) + i, SQL: st.SQL, Err: err}
		}
	}
	return results, nil
}

// mutatedOp reports the mutation an op made.
func (s *session) mutatedOp(ctx context.Context, o *Op) {
	if o.st.m == nil || o.st.op == OpSchema {
		return
	}
	keys := o.keys
	if keys == nil && o.st.op == OpCreate && o.res.HasLastInsertID {
		keys = []any{o.res.LastInsertID}
	}
	s.mutated(ctx, o.st.op, o.st.m, o.res.RowsAffected, keys)
}
