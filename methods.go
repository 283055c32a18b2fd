package forge

import (
	"context"
	"unsafe"

	"github.com/forge-orm/forge/dialect"
)

// The methods of ModelOf[T] are thin shells over the untyped model: they
// turn T values and slices into (address, count) and back, and nothing
// else, because the compiler instantiates a generic body once per model
// struct. Keeping them this small is what bounds the js/wasm size of each
// additional model (TestWasmSizePerModel).

// FindManySQL returns the SQL and arguments FindMany would send, without
// running it.
func (m *ModelOf[T]) FindManySQL(d dialect.Dialect, opts ...Option) (string, []any, error) {
	return m.m.findSQL(d, opts)
}

// FindMany returns the rows matching opts.
func (m *ModelOf[T]) FindMany(ctx context.Context, q Querier, opts ...Option) ([]T, error) {
	buf := m.m.rowBuf()
	if err := m.m.find(ctx, q, OpFindMany, nil, opts, -1, &buf); err != nil {
		return nil, err
	}
	return rowsOf[T](&buf), nil
}

// FindFirst returns the first row matching opts, or ErrNotFound.
func (m *ModelOf[T]) FindFirst(ctx context.Context, q Querier, opts ...Option) (T, error) {
	buf := m.m.rowBuf()
	err := m.m.find(ctx, q, OpFindFirst, nil, opts, 1, &buf)
	return first[T](&buf, err)
}

// FindUnique returns the row matching where, which must pin one row (Eq on
// the primary key or on unique fields); ErrNotFound when there is none.
func (m *ModelOf[T]) FindUnique(ctx context.Context, q Querier, where Cond, opts ...Option) (T, error) {
	buf := m.m.rowBuf()
	err := m.m.find(ctx, q, OpFindUnique, &where, opts, 1, &buf)
	return first[T](&buf, err)
}

// first returns the first row read into buf, or ErrNotFound.
func first[T any](buf *rowBuf, err error) (T, error) {
	if err == nil && buf.n == 0 {
		err = ErrNotFound
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return *(*T)(buf.data), nil
}

// Count returns the number of rows matching all conds.
func (m *ModelOf[T]) Count(ctx context.Context, q Querier, conds ...Cond) (int64, error) {
	return m.m.count(ctx, q, OpCount, conds)
}

// Exists reports whether any row matches all conds.
func (m *ModelOf[T]) Exists(ctx context.Context, q Querier, conds ...Cond) (bool, error) {
	n, err := m.m.count(ctx, q, OpExists, conds)
	return n > 0, err
}

// Create inserts v and returns the row as stored (with its generated id and
// defaults).
func (m *ModelOf[T]) Create(ctx context.Context, q Querier, v T) (T, error) {
	if err := m.m.create(ctx, q, OpCreate, unsafe.Pointer(&v), 1); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// CreateMany inserts vs with multi-row INSERTs, as few as the dialect's
// parameter limit allows, and returns the rows as stored. When it takes
// more than one statement, they run atomically (see Batch).
func (m *ModelOf[T]) CreateMany(ctx context.Context, q Querier, vs []T) ([]T, error) {
	if len(vs) == 0 {
		return []T{}, nil
	}
	rows := append([]T(nil), vs...)
	if err := m.m.create(ctx, q, OpCreateMany, unsafe.Pointer(&rows[0]), len(rows)); err != nil {
		return nil, err
	}
	return rows, nil
}

// Update changes the one row matched by where (Eq on the primary key or on
// unique fields) and returns it as stored; ErrNotFound when there is none.
func (m *ModelOf[T]) Update(ctx context.Context, q Querier, where Cond, sets ...Assignment) (T, error) {
	var v T
	if err := m.m.update(ctx, q, &where, sets, unsafe.Pointer(&v)); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// UpdateMany changes every row matched by where and returns how many
// changed. Pass All() to change every row.
func (m *ModelOf[T]) UpdateMany(ctx context.Context, q Querier, where Cond, sets ...Assignment) (int64, error) {
	return m.m.updateMany(ctx, q, &where, sets)
}

// Upsert inserts v, or updates the existing row that conflicts with it on
// the conflict columns, and returns the row as stored. On conflict it
// updates only what the caller gave (see Conflict.Update): defaults fill a
// new row, never overwrite an existing one.
func (m *ModelOf[T]) Upsert(ctx context.Context, q Querier, v T, on Conflict) (T, error) {
	if err := m.m.upsert(ctx, q, unsafe.Pointer(&v), &on); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// Delete deletes the one row matched by where (Eq on the primary key or on
// unique fields); ErrNotFound when there is none.
func (m *ModelOf[T]) Delete(ctx context.Context, q Querier, where Cond) error {
	_, err := m.m.delete(ctx, q, OpDelete, &where)
	return err
}

// DeleteMany deletes every row matched by where and returns how many went.
// Pass All() to delete every row.
func (m *ModelOf[T]) DeleteMany(ctx context.Context, q Querier, where Cond) (int64, error) {
	return m.m.delete(ctx, q, OpDeleteMany, &where)
}

// Raw runs a raw SQL query and scans the result into T, matching result
// columns to the model's column names. A result column that is not a
// column of the model is an error. Values are bound parameters, encoded as
// Exec encodes them.
func (m *ModelOf[T]) Raw(ctx context.Context, q Querier, sql string, args ...any) ([]T, error) {
	buf := m.m.rowBuf()
	if err := m.m.raw(ctx, q, sql, args, &buf); err != nil {
		return nil, err
	}
	return rowsOf[T](&buf), nil
}

// CreateOp prepares the insert of v for Batch. Generated text ids and
// defaults are filled in when the batch runs; a database-generated id is
// not read back (use Create for that).
func (m *ModelOf[T]) CreateOp(v T) *BatchOp { return m.m.createOp(unsafe.Pointer(&v)) }

// UpdateManyOp prepares an UpdateMany for Batch.
func (m *ModelOf[T]) UpdateManyOp(where Cond, sets ...Assignment) *BatchOp {
	return m.m.updateManyOp(where, sets)
}

// DeleteManyOp prepares a DeleteMany for Batch.
func (m *ModelOf[T]) DeleteManyOp(where Cond) *BatchOp { return m.m.deleteManyOp(where) }
