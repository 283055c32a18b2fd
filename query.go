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

// selectQuery is a parsed list of options.
type selectQuery struct {
	where    Cond
	extra    []Cond       // further Where options, ANDed
	orders   [4]orderTerm // the first orderings, inline: no allocation
	norder   int
	overflow []orderTerm // all orderings, once there are more than 4
	take     int
	skip     int
	fields   []*field
	incs     []*include
	after    unsafe.Pointer
	agg      bool // an Aggregate: no primary key ordering
}

type orderTerm struct {
	f    *field
	desc bool
}

// parse reads opts for model m. allow limits which option kinds are valid.
func parse(m *model, sq *selectQuery, opts []Option, what string) error {
	sq.take = -1
	for i := range opts {
		o := &opts[i]
		switch o.kind {
		case optWhere:
			if sq.where.op == opNone {
				sq.where = o.cond
			} else {
				sq.extra = append(sq.extra, o.cond)
			}
		case optOrder:
			f, err := m.fieldAt(o.col, o.typ)
			if err != nil {
				return err
			}
			sq.addOrder(orderTerm{f: f, desc: o.dir == Desc})
		case optTake:
			if o.n < 0 {
				return qerr(m, "Take(%d): negative", o.n)
			}
			sq.take = o.n
		case optSkip:
			if o.n < 0 {
				return qerr(m, "Skip(%d): negative", o.n)
			}
			sq.skip = o.n
		case optSelect:
			if len(o.cols) == 0 {
				return qerr(m, "Select with no columns")
			}
			for _, c := range o.cols {
				f, err := m.fieldFor(c)
				if err != nil {
					return err
				}
				sq.fields = appendField(sq.fields, f)
			}
		case optInclude:
			sq.incs = append(sq.incs, o.inc)
		case optAfter:
			if o.typ != m.typ {
				return qerr(m, "After takes a *%s, got *%s", m.typ, o.typ)
			}
			if o.after == nil {
				return qerr(m, "After(nil)")
			}
			sq.after = o.after
		default:
			return qerr(m, "%s: the zero Option", what)
		}
	}
	if sq.fields != nil && m.pk != nil {
		sq.fields = appendField(sq.fields, m.pk)
	}
	// Pages need a total order: with After, Take or Skip, the primary key
	// breaks ties between equal ordering values. (Aggregate orders its
	// groups by the group columns instead.)
	if m.pk != nil && !sq.agg && (sq.after != nil || (sq.norder > 0 && (sq.take >= 0 || sq.skip > 0))) {
		hasPK := false
		for _, o := range sq.order() {
			hasPK = hasPK || o.f == m.pk
		}
		if !hasPK {
			sq.addOrder(orderTerm{f: m.pk})
		}
	}
	return nil
}

func (sq *selectQuery) addOrder(o orderTerm) {
	if sq.overflow == nil && sq.norder < len(sq.orders) {
		sq.orders[sq.norder] = o
		sq.norder++
		return
	}
	if sq.overflow == nil {
		sq.overflow = append(make([]orderTerm, 0, 2*len(sq.orders)), sq.orders[:]...)
	}
	sq.overflow = append(sq.overflow, o)
	sq.norder++
}

// order returns the orderings.
func (sq *selectQuery) order() []orderTerm {
	if sq.overflow != nil {
		return sq.overflow
	}
	return sq.orders[:sq.norder]
}

func appendField(fs []*field, f *field) []*field {
	for _, x := range fs {
		if x == f {
			return fs
		}
	}
	return append(fs, f)
}

// selected returns the fields a select reads.
func (sq *selectQuery) selected(m *model) []*field {
	if sq.fields != nil {
		return sq.fields
	}
	return m.fields
}

// hasWhere reports whether sq filters at all.
func (sq *selectQuery) writeWhere(b *builder, m *model) error {
	if len(sq.extra) == 0 {
		return b.where(m, &sq.where)
	}
	all := Cond{op: opAnd, kids: append([]Cond{sq.where}, sq.extra...)}
	return b.where(m, &all)
}

// buildSelect writes SELECT fields FROM table WHERE ... ORDER BY ... LIMIT.
func buildSelect(d dialect.Dialect, m *model, sq *selectQuery, fields []*field) (builder, error) {
	b := newBuilder(d, 64+16*len(fields))
	b.str("SELECT ")
	b.columns(fields)
	b.str(" FROM ")
	b.table(m)
	if err := sq.writeWhere(&b, m); err != nil {
		return b, err
	}
	if sq.after != nil {
		if err := writeAfter(&b, m, sq); err != nil {
			return b, err
		}
	}
	b.orderAndLimit(sq)
	return b, nil
}

// writeAfter adds the keyset condition for After: rows that sort after the
// cursor row under the query's ordering, where NULL sorts as the largest
// value (see builder.direction).
func writeAfter(b *builder, m *model, sq *selectQuery) error {
	if !b.hasWhere {
		b.str(" WHERE (")
	} else {
		b.str(" AND (")
	}
	order := sq.order()
	vals := make([]any, len(order))
	for i, o := range order {
		v, err := o.f.load(b.d, sq.after)
		if err != nil {
			return err
		}
		vals[i] = v
	}
	for i := range order {
		if i > 0 {
			b.str(" OR ")
		}
		b.str("(")
		for j := 0; j <= i; j++ {
			o, v := order[j], vals[j]
			if j > 0 {
				b.str(" AND ")
			}
			switch {
			case j < i && v == nil: // equal to NULL
				b.col(o.f)
				b.str(" IS NULL")
			case j < i:
				b.col(o.f)
				b.str(" = ")
				b.arg(v)
			case v == nil && o.desc: // below NULL: every value
				b.col(o.f)
				b.str(" IS NOT NULL")
			case v == nil: // above NULL: nothing
				b.str("1 = 0")
			case o.desc:
				b.col(o.f)
				b.str(" < ")
				b.arg(v)
			case o.f.nullable: // above a value: larger values and NULL
				b.str("(")
				b.col(o.f)
				b.str(" > ")
				b.arg(v)
				b.str(" OR ")
				b.col(o.f)
				b.str(" IS NULL)")
			default:
				b.col(o.f)
				b.str(" > ")
				b.arg(v)
			}
		}
		b.str(")")
	}
	b.str(")")
	return nil
}

// sessionFor returns q's session after checking q and the model.
func (m *model) sessionFor(q Querier) (*session, error) {
	s, err := sessionOf(q)
	if err != nil {
		return nil, err
	}
	return s, m.check(s)
}

// check returns the model's declaration error, or an error if the model is
// not part of the querier's schema.
func (m *model) check(s *session) error {
	if m.err != nil {
		return m.err
	}
	if m.schema != s.db.schema {
		for _, x := range s.db.schema.models {
			if x == m {
				return nil
			}
		}
		return qerr(m, "the model is not part of this DB's schema")
	}
	return nil
}

// FindManySQL returns the SQL and arguments FindMany would send, without
// running it.
func (m *ModelOf[T]) FindManySQL(d dialect.Dialect, opts ...Option) (string, []any, error) {
	var sq selectQuery
	if err := parse(m.m, &sq, opts, "FindMany"); err != nil {
		return "", nil, err
	}
	b, err := buildSelect(d, m.m, &sq, sq.selected(m.m))
	if err != nil {
		return "", nil, err
	}
	return b.sql(), b.args, nil
}

// FindMany returns the rows matching opts.
func (m *ModelOf[T]) FindMany(ctx context.Context, q Querier, opts ...Option) ([]T, error) {
	return m.find(ctx, q, OpFindMany, opts, -1)
}

// FindFirst returns the first row matching opts, or ErrNotFound.
func (m *ModelOf[T]) FindFirst(ctx context.Context, q Querier, opts ...Option) (T, error) {
	rows, err := m.find(ctx, q, OpFindFirst, opts, 1)
	return first(rows, err)
}

// FindUnique returns the row matching where, which must pin one row (Eq on
// the primary key or on unique fields); ErrNotFound when there is none.
func (m *ModelOf[T]) FindUnique(ctx context.Context, q Querier, where Cond, opts ...Option) (T, error) {
	if err := m.m.requireUnique(&where, "FindUnique"); err != nil {
		var zero T
		return zero, err
	}
	rows, err := m.findPinned(ctx, q, OpFindUnique, opts, 1, where)
	return first(rows, err)
}

func first[T any](rows []T, err error) (T, error) {
	if err != nil {
		var zero T
		return zero, err
	}
	if len(rows) == 0 {
		var zero T
		return zero, ErrNotFound
	}
	return rows[0], nil
}

func (m *ModelOf[T]) find(ctx context.Context, q Querier, op Operation, opts []Option, limit int) ([]T, error) {
	return m.findPinned(ctx, q, op, opts, limit, Cond{})
}

// findPinned is find with a first condition given apart from opts (FindUnique's).
func (m *ModelOf[T]) findPinned(ctx context.Context, q Querier, op Operation, opts []Option, limit int, pin Cond) ([]T, error) {
	mm := m.m
	s, err := mm.sessionFor(q)
	if err != nil {
		return nil, err
	}
	var sq selectQuery
	sq.where = pin
	if err := parse(mm, &sq, opts, string(op)); err != nil {
		return nil, err
	}
	if limit >= 0 && (sq.take < 0 || sq.take > limit) {
		sq.take = limit
	}
	if err := mm.prepareIncludes(&sq); err != nil {
		return nil, err
	}
	fields := sq.selected(mm)
	b, err := buildSelect(s.db.d, mm, &sq, fields)
	if err != nil {
		return nil, err
	}
	plan := newScanPlan(fields)
	var out []T
	hint := 8
	if sq.take >= 0 && sq.take < 1024 {
		hint = sq.take
	}
	err = s.query(ctx, stmt{op: op, m: mm, sql: b.sql(), args: b.args}, func(rows driver.Rows) (int64, error) {
		var err error
		out, err = scanUpTo[T](rows, plan, hint, limit)
		return int64(len(out)), err
	})
	if err != nil {
		return nil, err
	}
	if len(sq.incs) > 0 && len(out) > 0 {
		if err := s.loadIncludes(ctx, mm, unsafe.Pointer(unsafe.SliceData(out)), len(out), sq.incs); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Count returns the number of rows matching all conds.
func (m *ModelOf[T]) Count(ctx context.Context, q Querier, conds ...Cond) (int64, error) {
	return m.count(ctx, q, OpCount, conds, "SELECT COUNT(*) FROM ")
}

// Exists reports whether any row matches all conds.
func (m *ModelOf[T]) Exists(ctx context.Context, q Querier, conds ...Cond) (bool, error) {
	n, err := m.count(ctx, q, OpExists, conds, "SELECT 1 FROM ")
	return n > 0, err
}

func (m *ModelOf[T]) count(ctx context.Context, q Querier, op Operation, conds []Cond, head string) (int64, error) {
	mm := m.m
	s, err := mm.sessionFor(q)
	if err != nil {
		return 0, err
	}
	b := newBuilder(s.db.d, 64)
	b.str(head)
	b.table(mm)
	where := Cond{op: opAnd, kids: conds}
	if err := b.where(mm, &where); err != nil {
		return 0, err
	}
	if op == OpExists {
		b.b = s.db.d.AppendLimit(b.b, 1, 0)
	}
	var n int64
	err = s.query(ctx, stmt{op: op, m: mm, sql: b.sql(), args: b.args}, func(rows driver.Rows) (int64, error) {
		if !rows.Next() {
			return 0, rows.Err()
		}
		if op == OpExists {
			n = 1
			return 1, nil
		}
		return 1, rows.Scan(&n)
	})
	return n, err
}

// requireUnique checks that c pins at most one row: an Eq (ANDed) on the
// primary key, on a unique field, or on every column of a unique index.
func (m *model) requireUnique(c *Cond, what string) error {
	if c.op == opErr {
		return c.val.(error)
	}
	var buf [8]*field
	eqs, err := m.pinnedEqs(c, buf[:0])
	if err != nil {
		return err
	}
	for _, f := range eqs {
		if f.pk || f.unique {
			return nil
		}
	}
	for _, ix := range m.desc.Indexes {
		if !ix.Unique {
			continue
		}
		all := true
		for _, col := range ix.Columns {
			found := false
			for _, f := range eqs {
				found = found || f.col == col
			}
			all = all && found
		}
		if all {
			return nil
		}
	}
	return qerr(m, "%s needs a filter that pins one row: Eq on the primary key or on unique fields (use the Many variant for several rows)", what)
}

// pinnedEqs appends the fields c compares with Eq to a non-nil value,
// through ANDs.
func (m *model) pinnedEqs(c *Cond, eqs []*field) ([]*field, error) {
	switch c.op {
	case opAnd:
		for i := range c.kids {
			var err error
			if eqs, err = m.pinnedEqs(&c.kids[i], eqs); err != nil {
				return nil, err
			}
		}
	case opEq:
		f, err := m.fieldAt(c.col, c.typ)
		if err != nil {
			return nil, err
		}
		if !isNil(c.val) {
			eqs = append(eqs, f)
		}
	}
	return eqs, nil
}

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

// prepareInsert fills generated ids and defaults into the row at base and
// returns the columns to insert.
func (m *model) prepareInsert(base unsafe.Pointer, now time.Time, withAutoID bool) []*field {
	m.fillInsert(base, now)
	fields := make([]*field, 0, len(m.fields))
	for _, f := range m.fields {
		if !f.auto || withAutoID {
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

// Create inserts v and returns the row as stored (with its generated id and
// defaults).
func (m *ModelOf[T]) Create(ctx context.Context, q Querier, v T) (T, error) {
	out, err := m.createMany(ctx, q, OpCreate, []T{v})
	if err != nil {
		var zero T
		return zero, err
	}
	return out[0], nil
}

// CreateMany inserts vs with multi-row INSERTs, as few as the dialect's
// parameter limit allows, and returns the rows as stored. When it takes
// more than one statement, they run in one transaction.
func (m *ModelOf[T]) CreateMany(ctx context.Context, q Querier, vs []T) ([]T, error) {
	if len(vs) == 0 {
		return []T{}, nil
	}
	return m.createMany(ctx, q, OpCreateMany, vs)
}

func (m *ModelOf[T]) createMany(ctx context.Context, q Querier, op Operation, vs []T) ([]T, error) {
	mm := m.m
	s, err := mm.sessionFor(q)
	if err != nil {
		return nil, err
	}
	rows := make([]T, len(vs))
	copy(rows, vs)
	withID := false
	if mm.pk != nil && mm.pk.auto {
		zeros := 0
		for i := range rows {
			if mm.pk.isZero(unsafe.Pointer(&rows[i])) {
				zeros++
			}
		}
		if zeros != 0 && zeros != len(rows) {
			return nil, qerr(mm, "%s: some rows set %s and some leave it zero; insert them separately", op, mm.pk.name)
		}
		withID = zeros == 0
	}
	now := time.Now().UTC()
	fields := mm.prepareInsert(unsafe.Pointer(&rows[0]), now, withID)
	for i := 1; i < len(rows); i++ {
		mm.fillInsert(unsafe.Pointer(&rows[i]), now)
	}
	d := s.db.d
	per := d.MaxParams() / max(len(fields), 1)
	if per < 1 {
		return nil, qerr(mm, "a row has more columns than the dialect's parameter limit")
	}
	// Encode everything first: bad input fails before anything is written.
	args := make([]any, 0, len(rows)*len(fields))
	for i := range rows {
		for _, f := range fields {
			v, err := f.load(d, unsafe.Pointer(&rows[i]))
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		}
	}
	var sync stmt
	if withID {
		maxID := int64(math.MinInt64)
		for i := range rows {
			maxID = max(maxID, *(*int64)(mm.pk.ptr(unsafe.Pointer(&rows[i]))))
		}
		sync = mm.syncID(d, op, maxID)
	}
	run := func(s *session) error {
		for start := 0; start < len(rows); start += per {
			end := min(start+per, len(rows))
			if err := m.insertChunk(ctx, s, op, fields, rows[start:end], args[start*len(fields):end*len(fields)]); err != nil {
				return err
			}
		}
		if sync.sql != "" {
			if _, err := s.exec(ctx, sync); err != nil {
				return err
			}
		}
		return nil
	}
	if (len(rows) <= per && sync.sql == "") || s.tx != nil {
		return rows, run(s)
	}
	// Several statements: atomically, in a transaction or one batch.
	_, begins := s.db.conn.(driver.Beginner)
	if bt, ok := s.db.conn.(driver.Batcher); ok && !begins {
		err = m.createBatched(ctx, s, bt, op, fields, rows, args, per, sync)
	} else {
		err = s.db.Transaction(ctx, func(tx *Tx) error { return run(&tx.s) })
	}
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// insertChunk inserts rows (one multi-row INSERT) and reads them back.
func (m *ModelOf[T]) insertChunk(ctx context.Context, s *session, op Operation, fields []*field, rows []T, args []any) error {
	b := insertValues(s.db.d, m.m, fields, len(rows), args)
	return m.writeReturningCols(ctx, s, op, &b, rows, m.m.insertReturning(fields))
}

// insertReturning is what an INSERT must read back: only the generated
// primary key when every other stored value is the one sent (no time or
// JSON column, whose stored form may differ), else every column.
func (m *model) insertReturning(sent []*field) []*field {
	for _, f := range m.fields {
		if f.kind == schema.Time || f.kind == schema.JSON {
			return m.fields
		}
	}
	if m.pk != nil && m.pk.auto && !containsField(sent, m.pk) {
		return []*field{m.pk}
	}
	return m.fields
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

// insertValues builds INSERT INTO t (fields) VALUES (...), (...) for n rows
// whose values are args.
func insertValues(d dialect.Dialect, m *model, fields []*field, n int, args []any) builder {
	b := newBuilder(d, 32+n*len(fields)*4+len(fields)*12)
	b.str("INSERT INTO ")
	b.table(m)
	b.str(" (")
	b.columns(fields)
	b.str(") VALUES ")
	p := 0
	for i := 0; i < n; i++ {
		if i > 0 {
			b.str(", ")
		}
		b.str("(")
		for j := range fields {
			if j > 0 {
				b.str(", ")
			}
			p++
			b.b = d.AppendPlaceholder(b.b, p)
		}
		b.str(")")
	}
	b.args = args
	return b
}

// createBatched inserts rows in several statements sent as one atomic
// batch, for drivers that batch but have no interactive transactions.
func (m *ModelOf[T]) createBatched(ctx context.Context, s *session, bt driver.Batcher, op Operation, fields []*field, rows []T, args []any, per int, sync stmt) error {
	mm := m.m
	d := s.db.d
	if !d.Returning() {
		return &CapabilityError{Op: op.String() + " in several statements", Driver: driver.Name(s.db.conn), Use: "insert fewer rows at a time"}
	}
	var stmts []driver.Stmt
	for start := 0; start < len(rows); start += per {
		end := min(start+per, len(rows))
		b := insertValues(d, mm, fields, end-start, args[start*len(fields):end*len(fields)])
		b.str(" RETURNING ")
		b.columns(mm.fields)
		stmts = append(stmts, driver.Stmt{SQL: b.sql(), Args: b.args, Rows: true})
	}
	inserts := len(stmts)
	if sync.sql != "" {
		stmts = append(stmts, driver.Stmt{SQL: sync.sql, Args: sync.args})
	}
	res, err := s.db.runBatch(ctx, bt, op, stmts, mm)
	if err != nil {
		return err
	}
	return m.scanBatched(ctx, s, op, res[:inserts], rows)
}

// scanBatched reads the rows of INSERT ... RETURNING statements run in a
// batch into rows, and reports the mutation.
func (m *ModelOf[T]) scanBatched(ctx context.Context, s *session, op Operation, res []driver.BatchResult, rows []T) error {
	mm := m.m
	plan := newScanPlan(mm.fields)
	i := 0
	for _, r := range res {
		if r.Rows == nil {
			return qerr(mm, "the driver returned no rows for INSERT ... RETURNING in a batch")
		}
		for r.Rows.Next() {
			if i >= len(rows) {
				return qerr(mm, "the database returned more rows than were written")
			}
			if err := plan.scan(r.Rows, unsafe.Pointer(&rows[i])); err != nil {
				return err
			}
			i++
		}
		if err := r.Rows.Err(); err != nil {
			return err
		}
	}
	if i != len(rows) {
		return qerr(mm, "the database returned %d rows for %d written", i, len(rows))
	}
	if s.wantKeys() {
		keys := make([]any, len(rows))
		for i := range rows {
			keys[i] = mm.pk.key(unsafe.Pointer(&rows[i]))
		}
		s.mutated(ctx, op, mm, int64(len(rows)), keys)
	}
	return nil
}

// writeReturning runs an INSERT/UPSERT/UPDATE built in b, reading the
// stored rows back into rows: with RETURNING where the dialect has it, or
// from the last insert id.
func (m *ModelOf[T]) writeReturning(ctx context.Context, s *session, op Operation, b *builder, rows []T) error {
	return m.writeReturningCols(ctx, s, op, b, rows, m.m.fields)
}

func (m *ModelOf[T]) writeReturningCols(ctx context.Context, s *session, op Operation, b *builder, rows []T, ret []*field) error {
	mm := m.m
	d := s.db.d
	onlyID := len(ret) == 1 && ret[0] == mm.pk && len(rows) == 1 && d.LastInsertID()
	if d.Returning() && !onlyID {
		b.str(" RETURNING ")
		b.columns(ret)
		plan := newScanPlan(ret)
		i := 0
		err := s.query(ctx, stmt{op: op, m: mm, sql: b.sql(), args: b.args}, func(r driver.Rows) (int64, error) {
			for r.Next() {
				if i >= len(rows) {
					return int64(i), qerr(mm, "the database returned more rows than were written")
				}
				if err := plan.scan(r, unsafe.Pointer(&rows[i])); err != nil {
					return int64(i), err
				}
				i++
			}
			return int64(i), r.Err()
		})
		if err != nil {
			return err
		}
		if i < len(rows) {
			return ErrNotFound
		}
	} else {
		res, err := s.exec(ctx, stmt{op: op, m: mm, sql: b.sql(), args: b.args})
		if err != nil {
			return err
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if len(rows) == 1 && mm.pk != nil && mm.pk.auto && mm.pk.isZero(unsafe.Pointer(&rows[0])) {
			if !res.HasLastInsertID {
				return qerr(mm, "%s did not report the generated id", driver.Name(s.db.conn))
			}
			*(*int64)(mm.pk.ptr(unsafe.Pointer(&rows[0]))) = res.LastInsertID
		}
	}
	if s.wantKeys() {
		keys := make([]any, len(rows))
		for i := range rows {
			keys[i] = mm.pk.key(unsafe.Pointer(&rows[i]))
		}
		s.mutated(ctx, op, mm, int64(len(rows)), keys)
	}
	return nil
}

// writeSets writes "SET a = ?, b = ?".
func writeSets(b *builder, m *model, sets []Assignment) error {
	if len(sets) == 0 {
		return qerr(m, "no Set assignments")
	}
	b.str(" SET ")
	for i, a := range sets {
		f, err := m.fieldAt(a.col, a.typ)
		if err != nil {
			return err
		}
		if f.pk && f.auto {
			return qerr(m, "Set on the generated id %s", f.name)
		}
		v, err := encode(b.d, f, a.val)
		if err != nil {
			return err
		}
		if v == nil && !f.nullable {
			return qerr(m, "Set %s to nil, but it is not nullable", f.name)
		}
		if i > 0 {
			b.str(", ")
		}
		b.col(f)
		b.str(" = ")
		b.arg(v)
	}
	return nil
}

// Update changes the one row matched by where (Eq on the primary key or on
// unique fields) and returns it as stored; ErrNotFound when there is none.
func (m *ModelOf[T]) Update(ctx context.Context, q Querier, where Cond, sets ...Assignment) (T, error) {
	var zero T
	mm := m.m
	s, err := mm.sessionFor(q)
	if err != nil {
		return zero, err
	}
	if err := mm.requireUnique(&where, "Update"); err != nil {
		return zero, err
	}
	b := newBuilder(s.db.d, 128)
	b.str("UPDATE ")
	b.table(mm)
	if err := writeSets(&b, mm, sets); err != nil {
		return zero, err
	}
	if err := b.where(mm, &where); err != nil {
		return zero, err
	}
	if !s.db.d.UpdateReturning() {
		return m.updateThenRead(ctx, s, where, &b)
	}
	rows := []T{zero}
	if err := m.writeReturning(ctx, s, OpUpdate, &b, rows); err != nil {
		return zero, err
	}
	return rows[0], nil
}

// updateThenRead is Update on a dialect without UPDATE ... RETURNING
// (MySQL, MariaDB): in one transaction (the caller's, or one of its own),
// it finds the row's primary key, runs the UPDATE built in b (whose WHERE
// is the caller's) and reads the row back by its key.
func (m *ModelOf[T]) updateThenRead(ctx context.Context, s *session, where Cond, b *builder) (T, error) {
	var out T
	mm := m.m
	if mm.pk == nil {
		return out, &CapabilityError{Op: "Update returning the row of a model without a primary key", Driver: s.db.d.Name(), Use: "use UpdateMany, then FindUnique"}
	}
	run := func(tx *Tx) error {
		old, err := m.FindUnique(ctx, tx, where)
		if err != nil {
			return err
		}
		key := reflect.NewAt(mm.pk.typ, mm.pk.ptr(unsafe.Pointer(&old))).Elem().Interface()
		ts, err := mm.sessionFor(tx)
		if err != nil {
			return err
		}
		res, err := ts.exec(ctx, stmt{op: OpUpdate, m: mm, sql: b.sql(), args: b.args})
		if err != nil {
			return err
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		byKey := Cond{op: opEq, col: mm.pk.ptr(mm.tmpl), typ: mm.pk.typ, val: key}
		if out, err = m.FindUnique(ctx, tx, byKey); err != nil {
			return err
		}
		if ts.wantKeys() {
			ts.mutated(ctx, OpUpdate, mm, 1, []any{mm.pk.key(unsafe.Pointer(&out))})
		}
		return nil
	}
	var err error
	if s.tx != nil {
		err = run(s.tx)
	} else {
		err = s.db.Transaction(ctx, run)
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// UpdateMany changes every row matched by where and returns how many
// changed. Pass All() to change every row.
func (m *ModelOf[T]) UpdateMany(ctx context.Context, q Querier, where Cond, sets ...Assignment) (int64, error) {
	mm := m.m
	s, err := mm.sessionFor(q)
	if err != nil {
		return 0, err
	}
	if where.op == opNone {
		return 0, qerr(mm, "UpdateMany without a condition; pass forge.All() to update every row")
	}
	b := newBuilder(s.db.d, 128)
	b.str("UPDATE ")
	b.table(mm)
	if err := writeSets(&b, mm, sets); err != nil {
		return 0, err
	}
	if err := b.where(mm, &where); err != nil {
		return 0, err
	}
	if _, tx := s.db.conn.(driver.Beginner); s.wantKeys() && !s.db.d.UpdateReturning() && mm.pk != nil && tx {
		return s.updateManyKeys(ctx, mm, &where, &b)
	}
	return s.writeMany(ctx, OpUpdateMany, mm, &b)
}

// updateManyKeys runs UpdateMany's UPDATE built in b, for mutation
// observers, on a dialect without UPDATE ... RETURNING: in one
// transaction, it reads and locks the keys of the rows where matches
// (SELECT ... FOR UPDATE), then updates them.
func (s *session) updateManyKeys(ctx context.Context, m *model, where *Cond, b *builder) (int64, error) {
	sel := newBuilder(s.db.d, 64)
	sel.str("SELECT ")
	sel.col(m.pk)
	sel.str(" FROM ")
	sel.table(m)
	if err := sel.where(m, where); err != nil {
		return 0, err
	}
	sel.str(" FOR UPDATE")
	var n int64
	run := func(tx *Tx) error {
		ts, err := m.sessionFor(tx)
		if err != nil {
			return err
		}
		var keys []any
		err = ts.query(ctx, stmt{op: OpUpdateMany, m: m, sql: sel.sql(), args: sel.args}, func(r driver.Rows) (int64, error) {
			for r.Next() {
				var k any
				if err := r.Scan(&k); err != nil {
					return 0, err
				}
				keys = append(keys, normKey(k))
			}
			return int64(len(keys)), r.Err()
		})
		if err != nil {
			return err
		}
		res, err := ts.exec(ctx, stmt{op: OpUpdateMany, m: m, sql: b.sql(), args: b.args})
		if err != nil {
			return err
		}
		n = res.RowsAffected
		ts.mutated(ctx, OpUpdateMany, m, n, keys)
		return nil
	}
	if s.tx != nil {
		return n, run(s.tx)
	}
	return n, s.db.Transaction(ctx, run)
}

// writeMany runs an UPDATE or DELETE of many rows, returning the keys for
// mutation events when someone listens and the dialect can report them.
func (s *session) writeMany(ctx context.Context, op Operation, m *model, b *builder) (int64, error) {
	returning := s.db.d.Returning()
	if op == OpUpdateMany {
		returning = s.db.d.UpdateReturning()
	}
	if s.wantKeys() && returning && m.pk != nil {
		b.str(" RETURNING ")
		b.col(m.pk)
		var keys []any
		err := s.query(ctx, stmt{op: op, m: m, sql: b.sql(), args: b.args}, func(r driver.Rows) (int64, error) {
			for r.Next() {
				var k any
				if err := r.Scan(&k); err != nil {
					return 0, err
				}
				keys = append(keys, normKey(k))
			}
			return int64(len(keys)), r.Err()
		})
		if err != nil {
			return 0, err
		}
		s.mutated(ctx, op, m, int64(len(keys)), keys)
		return int64(len(keys)), nil
	}
	res, err := s.exec(ctx, stmt{op: op, m: m, sql: b.sql(), args: b.args})
	if err != nil {
		return 0, err
	}
	s.mutated(ctx, op, m, res.RowsAffected, nil)
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

// Delete deletes the one row matched by where (Eq on the primary key or on
// unique fields); ErrNotFound when there is none.
func (m *ModelOf[T]) Delete(ctx context.Context, q Querier, where Cond) error {
	mm := m.m
	if err := mm.requireUnique(&where, "Delete"); err != nil {
		return err
	}
	n, err := m.deleteMany(ctx, q, OpDelete, where)
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

// DeleteMany deletes every row matched by where and returns how many went.
// Pass All() to delete every row.
func (m *ModelOf[T]) DeleteMany(ctx context.Context, q Querier, where Cond) (int64, error) {
	if where.op == opNone {
		return 0, qerr(m.m, "DeleteMany without a condition; pass forge.All() to delete every row")
	}
	return m.deleteMany(ctx, q, OpDeleteMany, where)
}

func (m *ModelOf[T]) deleteMany(ctx context.Context, q Querier, op Operation, where Cond) (int64, error) {
	mm := m.m
	s, err := mm.sessionFor(q)
	if err != nil {
		return 0, err
	}
	b := newBuilder(s.db.d, 64)
	b.str("DELETE FROM ")
	b.table(mm)
	if err := b.where(mm, &where); err != nil {
		return 0, err
	}
	return s.writeMany(ctx, op, mm, &b)
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

// Upsert inserts v, or updates the existing row that conflicts with it on
// the conflict columns, and returns the row as stored. On conflict it
// updates only what the caller gave (see Conflict.Update): defaults fill a
// new row, never overwrite an existing one.
func (m *ModelOf[T]) Upsert(ctx context.Context, q Querier, v T, on Conflict) (T, error) {
	var zero T
	mm := m.m
	s, err := mm.sessionFor(q)
	if err != nil {
		return zero, err
	}
	var conflict []*field
	for _, c := range on.on {
		f, err := mm.fieldFor(c)
		if err != nil {
			return zero, err
		}
		conflict = append(conflict, f)
	}
	if len(conflict) == 0 {
		conflict = []*field{mm.pk}
	}
	rows := []T{v}
	base := unsafe.Pointer(&rows[0])
	withID := mm.pk.auto && !mm.pk.isZero(base)
	// Fields the caller left to their default (DefaultNow, Default) are
	// inserted with it but not overwritten on conflict.
	var defaulted []*field
	for _, f := range mm.fields {
		if f.def != nil && f.isZero(base) {
			defaulted = append(defaulted, f)
		}
	}
	fields := mm.prepareInsert(base, time.Now().UTC(), withID)
	var update []string
	if on.update != nil {
		for _, c := range on.update {
			f, err := mm.fieldFor(c)
			if err != nil {
				return zero, err
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
		return zero, qerr(mm, "Upsert: nothing to update on conflict")
	}
	d := s.db.d
	b := newBuilder(d, 256)
	if err := b.insertRow(mm, fields, base); err != nil {
		return zero, err
	}
	cols := make([]string, len(conflict))
	for i, f := range conflict {
		cols[i] = f.col
	}
	b.b = d.AppendUpsert(b.b, cols, update)
	var sync stmt
	if withID {
		sync = mm.syncID(d, OpUpsert, *(*int64)(mm.pk.ptr(base)))
	}
	if sync.sql == "" || s.tx != nil {
		if err := m.writeReturning(ctx, s, OpUpsert, &b, rows); err != nil {
			return zero, err
		}
		if sync.sql != "" {
			if _, err := s.exec(ctx, sync); err != nil {
				return zero, err
			}
		}
		return rows[0], nil
	}
	// An explicit id moves the id sequence in the same transaction or
	// batch as the write.
	_, begins := s.db.conn.(driver.Beginner)
	if bt, ok := s.db.conn.(driver.Batcher); ok && !begins {
		b.str(" RETURNING ")
		b.columns(mm.fields)
		res, err := s.db.runBatch(ctx, bt, OpUpsert, []driver.Stmt{{SQL: b.sql(), Args: b.args, Rows: true}, {SQL: sync.sql, Args: sync.args}}, mm)
		if err != nil {
			return zero, err
		}
		if err := m.scanBatched(ctx, s, OpUpsert, res[:1], rows); err != nil {
			return zero, err
		}
		return rows[0], nil
	}
	err = s.db.Transaction(ctx, func(tx *Tx) error {
		if err := m.writeReturning(ctx, &tx.s, OpUpsert, &b, rows); err != nil {
			return err
		}
		_, err := tx.s.exec(ctx, sync)
		return err
	})
	if err != nil {
		return zero, err
	}
	return rows[0], nil
}

func containsField(fs []*field, f *field) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

// Raw runs a raw SQL query and scans the result into T, matching result
// columns to the model's column names. A result column that is not a
// column of the model is an error. Values are bound parameters, encoded as
// Exec encodes them.
func (m *ModelOf[T]) Raw(ctx context.Context, q Querier, sql string, args ...any) ([]T, error) {
	mm := m.m
	s, err := mm.sessionFor(q)
	if err != nil {
		return nil, err
	}
	if args, err = encodeArgs(s.db.d, args); err != nil {
		return nil, err
	}
	var out []T
	err = s.query(ctx, stmt{op: OpRaw, m: mm, sql: sql, args: args}, func(rows driver.Rows) (int64, error) {
		cols := rows.Columns()
		fields := make([]*field, len(cols))
		for i, c := range cols {
			for _, f := range mm.fields {
				if f.col == c {
					fields[i] = f
				}
			}
			if fields[i] == nil {
				return 0, qerr(mm, "Raw: result column %q is not a column of the model", c)
			}
		}
		var err error
		out, err = scanAll[T](rows, newScanPlan(fields), 8)
		return int64(len(out)), err
	})
	return out, err
}
