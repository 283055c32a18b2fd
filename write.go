package forge

import (
	"context"
	"math"
	"reflect"
	"time"
	"unsafe"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/schema"
)

// Assignment sets a column in Update and UpdateMany.
type Assignment struct {
	col unsafe.Pointer
	typ reflect.Type
	val any
}

// Set assigns v to a column; v has the field's Go type.
func Set[V any](col *V, v V) Assignment {
	return Assignment{col: unsafe.Pointer(col), typ: reflect.TypeFor[V](), val: v}
}

// Conflict says what Upsert does when the row exists.
type Conflict struct {
	on     []any
	update []any
}

// OnConflict names the unique columns (pointers into Cols()) that identify
// an existing row. With no columns, the primary key.
func OnConflict(cols ...any) Conflict { return Conflict{on: cols} }

// Update lists the columns to overwrite on conflict (named here, they are
// overwritten even when they hold a default). By default: every column the
// caller gave, that is every inserted column except the primary key, the
// conflict columns and the columns with a Default or DefaultNow that the
// caller left zero, so an existing row keeps its CreatedAt.
func (c Conflict) Update(cols ...any) Conflict { c.update = cols; return c }

// at returns the address of row i of the rows of m at base.
func (m *model) at(base unsafe.Pointer, i int) unsafe.Pointer {
	return unsafe.Add(base, uintptr(i)*m.size)
}

// prepareInsert fills generated ids and defaults into the row at base and
// returns the columns to insert.
func (m *model) prepareInsert(base unsafe.Pointer, now time.Time, withAutoID bool) []*field {
	m.fillInsert(base, now)
	if withAutoID || m.pk == nil || !m.pk.auto {
		return m.fields
	}
	fields := make([]*field, 0, len(m.fields))
	for _, f := range m.fields {
		if !f.auto {
			fields = append(fields, f)
		}
	}
	return fields
}

// fillInsert fills generated ids and defaults into the row at base.
func (m *model) fillInsert(base unsafe.Pointer, now time.Time) {
	for _, f := range m.fields {
		if f.kind == schema.TextID && f.gen != nil && *(*string)(f.ptr(base)) == "" {
			*(*string)(f.ptr(base)) = f.gen()
		}
		if f.def != nil && f.isZero(base) {
			f.setDefault(base, now)
		}
	}
}

// loadRows appends the encoded values of fields for the n rows at base:
// bad input fails here, before anything is written.
func (m *model) loadRows(d dialect.Dialect, fields []*field, base unsafe.Pointer, n int, args []any) ([]any, error) {
	for i := 0; i < n; i++ {
		row := m.at(base, i)
		for _, f := range fields {
			v, err := f.load(d, row)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		}
	}
	return args, nil
}

// insertReturning is what an INSERT must read back: only the generated
// primary key when every other stored value is the one sent (no time or
// JSON column, whose stored form may differ), else every column.
func (m *model) insertReturning(sent []*field) []*field {
	for _, f := range m.fields {
		if f.codec.differs {
			return m.fields
		}
	}
	if m.pk != nil && m.pk.auto && !containsField(sent, m.pk) {
		return m.pkOnly
	}
	return m.fields
}

// readBack returns the RETURNING list of a write of n rows that reads ret
// back: ret, or nil when nothing is read with the statement (the dialect
// has no RETURNING, or the one generated id comes from the last insert id).
func readBack(d dialect.Dialect, m *model, ret []*field, n int) []*field {
	if !d.Returning() || (n == 1 && len(ret) == 1 && ret[0] == m.pk && d.LastInsertID()) {
		return nil
	}
	return ret
}

// create inserts the n rows at base (Create, CreateMany) with multi-row
// INSERTs, as few as the dialect's parameter limit allows, and reads back
// what the database stored. Several statements run atomically (see
// runner.atomic).
func (m *model) create(ctx context.Context, q Querier, op Operation, base unsafe.Pointer, n int) error {
	r, err := m.runnerFor(q)
	if err != nil {
		return err
	}
	withID := false
	if m.pk != nil && m.pk.auto {
		zeros := 0
		for i := 0; i < n; i++ {
			if m.pk.isZero(m.at(base, i)) {
				zeros++
			}
		}
		if zeros != 0 && zeros != n {
			return qerr(m, "%s: some rows set %s and some leave it zero; insert them separately", op, m.pk.name)
		}
		withID = zeros == 0
	}
	now := time.Now().UTC()
	fields := m.prepareInsert(base, now, withID)
	for i := 1; i < n; i++ {
		m.fillInsert(m.at(base, i), now)
	}
	d := r.db.d
	per := d.MaxParams() / max(len(fields), 1)
	if per < 1 {
		return qerr(m, "a row has more columns than the dialect's parameter limit")
	}
	args, err := m.loadRows(d, fields, base, n, make([]any, 0, n*len(fields)))
	if err != nil {
		return err
	}
	var sync stmt // moves the id sequence past explicit ids (PostgreSQL)
	if withID {
		maxID := int64(math.MinInt64)
		for i := 0; i < n; i++ {
			maxID = max(maxID, *(*int64)(m.pk.ptr(m.at(base, i))))
		}
		sync = m.syncID(d, op, maxID)
	}
	ret := m.insertReturning(fields)
	if !d.Returning() && n > 1 && m.pk != nil && m.pk.auto && !withID {
		return r.createByLastID(ctx, op, m, fields, base, n, args, per)
	}
	rb := ret // several statements each read their rows with RETURNING
	if n <= per && sync.sql == "" {
		rb = readBack(d, m, ret, n)
	} else if !d.Returning() {
		return &CapabilityError{Op: op.String() + " in several statements", Driver: driver.Name(r.db.conn), Use: "insert fewer rows at a time"}
	}
	w := len(fields)
	stmts := make([]stmt, 0, (n+per-1)/per+1)
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		stmts = append(stmts, buildInsert(d, op, m, fields, end-start, args[start*w:end*w], rb))
	}
	if sync.sql != "" {
		stmts = append(stmts, sync)
	}
	return r.writeRows(ctx, op, m, stmts, base, n, ret)
}

// createByLastID inserts several rows with generated ids on a dialect
// without RETURNING (MySQL), where the ids come from the last insert id:
// one multi-row INSERT when the dialect guarantees that its ids are
// consecutive (dialect.InsertIDStep; MySQL's "simple inserts" under
// innodb_autoinc_lock_mode 0 or 1), the first id plus i times the step for
// row i; else one INSERT per row, run atomically (runner.atomic).
func (r *runner) createByLastID(ctx context.Context, op Operation, m *model, fields []*field, base unsafe.Pointer, n int, args []any, per int) error {
	d := r.db.d
	w := len(fields)
	rows, step := 1, int64(1) // rows per INSERT, and the distance of their ids
	if s := dialect.InsertIDStep(d); s > 0 && n <= per {
		rows, step = n, s
	}
	stmts := make([]stmt, 0, n/rows)
	for i := 0; i < n; i += rows {
		stmts = append(stmts, buildInsert(d, op, m, fields, rows, args[i*w:(i+rows)*w], nil))
	}
	res, err := r.atomic(ctx, op, m, stmts, nil)
	if err != nil {
		return err
	}
	for i, x := range res {
		if !x.HasLastInsertID || x.RowsAffected != int64(rows) {
			return qerr(m, "%s: %s reported %d rows and no generated id for %d rows inserted", op, driver.Name(r.db.conn), x.RowsAffected, rows)
		}
		for j := 0; j < rows; j++ {
			*(*int64)(m.pk.ptr(m.at(base, i*rows+j))) = x.LastInsertID + int64(j)*step
		}
	}
	r.mutatedRows(ctx, op, m, base, n)
	return nil
}

// syncID returns the statement that moves m's id sequence past maxID (the
// largest explicit id just inserted), or the zero stmt when the dialect
// needs none.
func (m *model) syncID(d dialect.Dialect, op Operation, maxID int64) stmt {
	if m.pk == nil || !m.pk.auto {
		return stmt{}
	}
	sql, args := d.SyncIdentity(m.table, m.pk.col, maxID)
	return stmt{op: op, m: m, sql: sql, args: args}
}

// writeRows runs the statements of one write of the n rows at base that
// reads ret back: one statement through writeReturning; several (chunks of
// rows, or a statement that moves an id sequence) atomically (see
// runner.atomic), each statement with RETURNING reading its rows in order.
func (r *runner) writeRows(ctx context.Context, op Operation, m *model, stmts []stmt, base unsafe.Pointer, n int, ret []*field) error {
	if len(stmts) == 1 {
		return r.writeReturning(ctx, stmts[0], m, base, n, ret)
	}
	plan := newScanPlan(ret)
	i := 0
	_, err := r.atomic(ctx, op, m, stmts, func(_ int, rows driver.Rows) (int64, error) {
		read := int64(0)
		for rows.Next() {
			if i >= n {
				return read, qerr(m, "the database returned more rows than were written")
			}
			if err := plan.scan(rows, m.at(base, i)); err != nil {
				return read, err
			}
			i++
			read++
		}
		return read, rows.Err()
	})
	if err != nil {
		return err
	}
	if i != n {
		return qerr(m, "the database returned %d rows for %d written", i, n)
	}
	r.mutatedRows(ctx, op, m, base, n)
	return nil
}

// writeReturning runs an INSERT, UPSERT or UPDATE of the n rows at base
// and reads the stored rows back into them: the columns ret with
// RETURNING when st has it, else the generated id from the last insert id.
func (r *runner) writeReturning(ctx context.Context, st stmt, m *model, base unsafe.Pointer, n int, ret []*field) error {
	if st.rows {
		plan := newScanPlan(ret)
		i := 0
		err := r.query(ctx, st, func(rows driver.Rows) (int64, error) {
			for rows.Next() {
				if i >= n {
					return int64(i), qerr(m, "the database returned more rows than were written")
				}
				if err := plan.scan(rows, m.at(base, i)); err != nil {
					return int64(i), err
				}
				i++
			}
			return int64(i), rows.Err()
		})
		if err != nil {
			return err
		}
		if i < n {
			return ErrNotFound
		}
	} else {
		res, err := r.exec(ctx, st)
		if err != nil {
			return err
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if n == 1 && m.pk != nil && m.pk.auto && m.pk.isZero(base) {
			if !res.HasLastInsertID {
				return qerr(m, "%s did not report the generated id", driver.Name(r.db.conn))
			}
			*(*int64)(m.pk.ptr(base)) = res.LastInsertID
		}
	}
	if st.movesKey {
		r.mutated(ctx, st.op, m, int64(n), nil)
		return nil
	}
	r.mutatedRows(ctx, st.op, m, base, n)
	return nil
}

// mutatedRows reports a write of the n rows at base, with their keys.
func (r *runner) mutatedRows(ctx context.Context, op Operation, m *model, base unsafe.Pointer, n int) {
	if !r.wantKeys() {
		r.mutated(ctx, op, m, int64(n), nil) // for watches: no keys needed
		return
	}
	keys := make([]any, n)
	for i := range keys {
		keys[i] = m.pk.pkValue(m.at(base, i))
	}
	r.mutated(ctx, op, m, int64(n), keys)
}

// update changes the one row matched by where and reads it back into the
// row at base.
func (m *model) update(ctx context.Context, q Querier, where *Cond, sets []Assignment, base unsafe.Pointer) error {
	r, err := m.runnerFor(q)
	if err != nil {
		return err
	}
	w, err := m.resolve(where)
	if err != nil {
		return err
	}
	if err := m.requireUnique(&w, "Update"); err != nil {
		return err
	}
	d := r.db.d
	if !d.UpdateReturning() {
		if m.pk == nil {
			return &CapabilityError{Op: "Update returning the row of a model without a primary key", Driver: driver.Name(r.db.conn), Use: "use UpdateMany, then FindUnique"}
		}
		st, err := buildUpdate(d, OpUpdate, m, &w, sets, nil)
		if err != nil {
			return err
		}
		_, err = r.updateLocked(ctx, m, &w, st, base)
		return err
	}
	st, err := buildUpdate(d, OpUpdate, m, &w, sets, m.fields)
	if err != nil {
		return err
	}
	return r.writeReturning(ctx, st, m, base, 1, m.fields)
}

// inTx runs fn in r's transaction, or in one of its own when r has none.
func (r *runner) inTx(ctx context.Context, fn func(tx *Tx) error) error {
	if r.tx != nil {
		return fn(r.tx)
	}
	return r.db.Transaction(ctx, fn)
}

// updateLocked runs the UPDATE st on a dialect without UPDATE ...
// RETURNING (MySQL, MariaDB), in one transaction (the caller's, or one of
// its own): it reads and locks the primary keys of the rows w matches
// (SELECT ... FOR UPDATE), runs st, then reads the one row back by its key
// into base (Update) or, with base nil, reports the keys (UpdateMany, for
// mutation observers).
func (r *runner) updateLocked(ctx context.Context, m *model, w *filter, st stmt, base unsafe.Pointer) (int64, error) {
	b, err := buildSelect(r.db.d, m, &selectQuery{where: *w, take: -1}, m.pkOnly)
	if err != nil {
		return 0, err
	}
	b.str(" FOR UPDATE")
	var n int64
	err = r.inTx(ctx, func(tx *Tx) error {
		tr := tx.runner()
		var keys []any
		err := tr.query(ctx, b.stmt(st.op, m), func(rows driver.Rows) (int64, error) {
			for rows.Next() {
				var k any
				if err := rows.Scan(&k); err != nil {
					return 0, err
				}
				keys = append(keys, normKey(k)) // int64 or string: the key fields' Go types
			}
			return int64(len(keys)), rows.Err()
		})
		if err != nil {
			return err
		}
		if base != nil && len(keys) == 0 {
			return ErrNotFound
		}
		res, err := tr.exec(ctx, st)
		if err != nil {
			return err
		}
		if n = res.RowsAffected; base == nil {
			if st.movesKey {
				keys = nil
			}
			tr.mutated(ctx, st.op, m, n, keys)
			return nil
		}
		if n == 0 {
			return ErrNotFound
		}
		byKey := Cond{op: opEq, col: m.pk.ptr(m.tmpl), typ: m.pk.typ, val: keys[0]}
		return tr.readBack(ctx, tx, st.op, m, &byKey, base, st.movesKey)
	})
	return n, err
}

// readBack reads the one row where matches into base after a write op
// that could not return it (through find, FindUnique's path), and reports
// the mutation (without keys when the write may have changed the primary
// key: moved); ErrNotFound when there is none.
func (r *runner) readBack(ctx context.Context, tx *Tx, op Operation, m *model, where *Cond, base unsafe.Pointer, moved bool) error {
	buf := m.rowBuf()
	if err := m.find(ctx, tx, op, where, nil, 1, &buf); err != nil {
		return err
	}
	if buf.n == 0 {
		return ErrNotFound
	}
	m.copyRow(base, buf.data)
	if moved {
		r.mutated(ctx, op, m, 1, nil)
		return nil
	}
	r.mutatedRows(ctx, op, m, base, 1)
	return nil
}

// manyFilter resolves the condition of UpdateMany and DeleteMany, which
// must be explicit.
func (m *model) manyFilter(where *Cond, what string) (filter, error) {
	if where.op == opNone {
		return filter{}, qerr(m, "%s without a condition; pass forge.All() to change every row", what)
	}
	return m.resolve(where)
}

// updateMany changes every row matched by where.
func (m *model) updateMany(ctx context.Context, q Querier, where *Cond, sets []Assignment) (int64, error) {
	r, err := m.runnerFor(q)
	if err != nil {
		return 0, err
	}
	w, err := m.manyFilter(where, "UpdateMany")
	if err != nil {
		return 0, err
	}
	st, err := buildUpdate(r.db.d, OpUpdateMany, m, &w, sets, r.keysReturning(m, true))
	if err != nil {
		return 0, err
	}
	if _, tx := r.db.conn.(driver.Beginner); r.wantKeys() && !r.db.d.UpdateReturning() && m.pk != nil && tx {
		return r.updateLocked(ctx, m, &w, st, nil)
	}
	return r.writeMany(ctx, st)
}

// delete deletes the rows matched by where: one (Delete, whose filter must
// pin one row) or many (DeleteMany).
func (m *model) delete(ctx context.Context, q Querier, op Operation, where *Cond) (int64, error) {
	var w filter
	var err error
	if op == OpDelete {
		if w, err = m.resolve(where); err == nil {
			err = m.requireUnique(&w, "Delete")
		}
	} else {
		w, err = m.manyFilter(where, "DeleteMany")
	}
	if err != nil {
		return 0, err
	}
	r, err := m.runnerFor(q)
	if err != nil {
		return 0, err
	}
	st, err := buildDelete(r.db.d, op, m, &w, r.keysReturning(m, false))
	if err != nil {
		return 0, err
	}
	n, err := r.writeMany(ctx, st)
	if err == nil && n == 0 && op == OpDelete {
		return 0, ErrNotFound
	}
	return n, err
}

// keysReturning is the RETURNING list of an UPDATE (update) or DELETE of
// many rows: the primary key when mutation events want the keys and the
// dialect can return them, else nothing.
func (r *runner) keysReturning(m *model, update bool) []*field {
	returning := r.db.d.Returning()
	if update {
		returning = r.db.d.UpdateReturning()
	}
	if r.wantKeys() && returning && m.pk != nil {
		return m.pkOnly
	}
	return nil
}

// writeMany runs an UPDATE or DELETE of many rows built with
// keysReturning, and reports the mutation.
func (r *runner) writeMany(ctx context.Context, st stmt) (int64, error) {
	if st.rows {
		var keys []any
		err := r.query(ctx, st, func(rows driver.Rows) (int64, error) {
			for rows.Next() {
				var k any
				if err := rows.Scan(&k); err != nil {
					return 0, err
				}
				keys = append(keys, normKey(k))
			}
			return int64(len(keys)), rows.Err()
		})
		if err != nil {
			return 0, err
		}
		if st.movesKey {
			keys = nil
		}
		r.mutated(ctx, st.op, st.m, int64(len(keys)), keys)
		return int64(len(keys)), nil
	}
	res, err := r.exec(ctx, st)
	if err != nil {
		return 0, err
	}
	r.mutated(ctx, st.op, st.m, res.RowsAffected, nil)
	return res.RowsAffected, nil
}

// normKey turns a scanned key into int64 or string.
func normKey(k any) any {
	switch x := k.(type) {
	case []byte:
		return string(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	}
	return k
}

// upsert inserts the row at base, or updates the existing row that
// conflicts with it, and reads the stored row back.
func (m *model) upsert(ctx context.Context, q Querier, base unsafe.Pointer, on *Conflict) error {
	r, err := m.runnerFor(q)
	if err != nil {
		return err
	}
	var conflict []*field
	for _, c := range on.on {
		f, err := m.fieldFor(c)
		if err != nil {
			return err
		}
		conflict = append(conflict, f)
	}
	if len(conflict) == 0 {
		conflict = m.pkOnly
	}
	withID := m.pk.auto && !m.pk.isZero(base)
	// Fields the caller left to their default (DefaultNow, Default) are
	// inserted with it but not overwritten on conflict.
	var defaulted []*field
	for _, f := range m.fields {
		if f.def != nil && f.isZero(base) {
			defaulted = append(defaulted, f)
		}
	}
	fields := m.prepareInsert(base, time.Now().UTC(), withID)
	var update []string
	if on.update != nil {
		for _, c := range on.update {
			f, err := m.fieldFor(c)
			if err != nil {
				return err
			}
			update = append(update, f.col)
		}
	} else {
		for _, f := range fields {
			if f.pk || containsField(conflict, f) || containsField(defaulted, f) {
				continue
			}
			update = append(update, f.col)
		}
	}
	if len(update) == 0 {
		return qerr(m, "Upsert: nothing to update on conflict")
	}
	d := r.db.d
	args, err := m.loadRows(d, fields, base, 1, make([]any, 0, len(fields)))
	if err != nil {
		return err
	}
	// An explicit id moves the id sequence atomically with the write.
	var sync stmt
	if withID {
		sync = m.syncID(d, OpUpsert, *(*int64)(m.pk.ptr(base)))
	}
	if !d.Returning() {
		// MySQL: no RETURNING, and the last insert id is not the row's
		// when the upsert updated it: read the row back by its conflict
		// columns in the same transaction. (MySQL's upsert updates the row
		// that conflicts on any unique key; one that conflicts on another
		// key than these is not found: ErrNotFound.)
		st := buildUpsert(d, m, fields, args, conflict, update, nil)
		return r.inTx(ctx, func(tx *Tx) error {
			tr := tx.runner()
			if _, err := tr.exec(ctx, st); err != nil {
				return err
			}
			conds := make([]Cond, len(conflict))
			for i, f := range conflict {
				v := reflect.NewAt(f.typ, f.ptr(base)).Elem().Interface()
				if f == m.pk && m.pk.auto && m.pk.isZero(base) {
					return qerr(m, "Upsert on %s needs conflict columns other than the generated id (OnConflict(&c.Email), say)", d.Name())
				}
				conds[i] = Cond{op: opEq, col: f.ptr(m.tmpl), typ: f.typ, val: v}
			}
			where := And(conds...)
			return tr.readBack(ctx, tx, OpUpsert, m, &where, base, st.movesKey)
		})
	}
	if sync.sql == "" {
		st := buildUpsert(d, m, fields, args, conflict, update, readBack(d, m, m.fields, 1))
		return r.writeReturning(ctx, st, m, base, 1, m.fields)
	}
	if !d.Returning() {
		return &CapabilityError{Op: "Upsert with an explicit id", Driver: driver.Name(r.db.conn), Use: "leave the id to the database"}
	}
	st := buildUpsert(d, m, fields, args, conflict, update, m.fields)
	return r.writeRows(ctx, OpUpsert, m, []stmt{st, sync}, base, 1, m.fields)
}
