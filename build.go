package forge

import (
	"time"
	"unsafe"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/schema"
	"github.com/forge-orm/forge/wire/jsonx"
)

// builder writes one statement.
type builder struct {
	d        dialect.Dialect
	b        []byte
	args     []any
	hasWhere bool
	rows     bool         // RETURNING was written
	n        *quotedNames // the last model's quoted names
	// jsonLists binds every In list as one JSON array: the condition's
	// values would not fit under the dialect's parameter limit otherwise.
	jsonLists bool
}

// names returns m's quoted names, remembering the last model's.
func (b *builder) names(m *model) *quotedNames {
	if b.n == nil || b.n.m != m {
		b.n = m.names(b.d)
	}
	return b.n
}

// stmtMem is the memory of a typical statement, allocated at once: the
// text and the arguments share one allocation.
type stmtMem struct {
	args [6]any
	buf  [224]byte
}

func newBuilder(d dialect.Dialect, size int) builder {
	if size <= len(stmtMem{}.buf) {
		m := new(stmtMem)
		return builder{d: d, b: m.buf[:0], args: m.args[:0]}
	}
	return builder{d: d, b: make([]byte, 0, size), args: make([]any, 0, 6)}
}

func (b *builder) str(s string) { b.b = append(b.b, s...) }

// arg binds v and writes its placeholder.
func (b *builder) arg(v any) {
	b.args = append(b.args, v)
	b.b = b.d.AppendPlaceholder(b.b, len(b.args))
}

// sql returns the statement text without copying the buffer; the builder
// must not be written to afterwards.
func (b *builder) sql() string {
	if len(b.b) == 0 {
		return ""
	}
	return unsafe.String(&b.b[0], len(b.b))
}

// col writes a field's quoted column name.
func (b *builder) col(f *field) { b.b = append(b.b, b.names(f.m).cols[f.idx]...) }

// colName is a field's quoted column name.
func (b *builder) colName(f *field) string { return b.names(f.m).cols[f.idx] }

// table writes a model's quoted table name.
func (b *builder) table(m *model) { b.b = append(b.b, b.names(m).table...) }

// columns writes the quoted column names of fields, comma separated.
func (b *builder) columns(fields []*field) {
	if len(fields) == 0 {
		return
	}
	n := b.names(fields[0].m)
	if len(fields) == len(n.m.fields) && &fields[0] == &n.m.fields[0] {
		b.b = append(b.b, n.all...)
		return
	}
	buf := b.b // one store into the builder, not one per column
	for i, f := range fields {
		if i > 0 {
			buf = append(buf, ", "...)
		}
		buf = append(buf, n.cols[f.idx]...)
	}
	b.b = buf
}

// quotedNames holds a model's identifiers quoted for one dialect, so that
// building a statement copies them instead of quoting them again.
type quotedNames struct {
	d     dialect.Dialect
	m     *model
	table string
	cols  []string // by field index
	all   string   // every column, comma separated
}

// names returns m's identifiers quoted for d. It keeps the last dialect
// used (a program rarely uses one model with several).
func (m *model) names(d dialect.Dialect) *quotedNames {
	if n := m.quoted.Load(); n != nil && n.d == d {
		return n
	}
	n := &quotedNames{d: d, m: m, table: string(d.AppendIdent(nil, m.table)), cols: make([]string, len(m.fields))}
	var all []byte
	for i, f := range m.fields {
		n.cols[i] = string(d.AppendIdent(nil, f.col))
		if i > 0 {
			all = append(all, ", "...)
		}
		all = append(all, n.cols[i]...)
	}
	n.all = string(all)
	m.quoted.Store(n)
	return n
}

// stmt returns the statement built, for op on model m.
func (b *builder) stmt(op Operation, m *model) stmt {
	return stmt{op: op, m: m, sql: b.sql(), args: b.args, rows: b.rows}
}

// returning writes " RETURNING fields" when there are fields to read back.
func (b *builder) returning(fields []*field) {
	if len(fields) > 0 {
		b.str(" RETURNING ")
		b.columns(fields)
		b.rows = true
	}
}

// The statement builders: one per statement kind, used by the model
// methods and by batch ops alike.

// buildSelect writes SELECT fields FROM table WHERE ... ORDER BY ... LIMIT.
func buildSelect(d dialect.Dialect, m *model, sq *selectQuery, fields []*field) (builder, error) {
	b := newBuilder(d, 64+16*len(fields))
	b.str("SELECT ")
	b.columns(fields)
	b.str(" FROM ")
	b.table(m)
	if err := b.where(&sq.where); err != nil {
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

// buildInsert writes INSERT INTO table (fields) VALUES (...), (...) for n
// rows whose encoded values are args (len(fields) per row), then RETURNING
// ret.
func buildInsert(d dialect.Dialect, op Operation, m *model, fields []*field, n int, args []any, ret []*field) stmt {
	b := newBuilder(d, 32+n*len(fields)*4+len(fields)*12+len(ret)*12)
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
	b.returning(ret)
	return b.stmt(op, m)
}

// buildUpsert writes the INSERT of one row (its encoded values are args)
// that updates the columns update when it conflicts on the columns
// conflict, then RETURNING ret.
func buildUpsert(d dialect.Dialect, m *model, fields []*field, args []any, conflict []*field, update []string, ret []*field) stmt {
	b := newBuilder(d, 256)
	b.str("INSERT INTO ")
	b.table(m)
	b.str(" (")
	b.columns(fields)
	b.str(") VALUES (")
	for i := range args {
		if i > 0 {
			b.str(", ")
		}
		b.arg(args[i])
	}
	b.str(")")
	cols := make([]string, len(conflict))
	for i, f := range conflict {
		cols[i] = f.col
	}
	b.b = d.AppendUpsert(b.b, cols, update)
	b.returning(ret)
	return b.stmt(OpUpsert, m)
}

// buildUpdate writes UPDATE table SET ... WHERE ..., then RETURNING ret.
func buildUpdate(d dialect.Dialect, op Operation, m *model, where *filter, sets []Assignment, ret []*field) (stmt, error) {
	b := newBuilder(d, 128)
	b.str("UPDATE ")
	b.table(m)
	if err := writeSets(&b, m, sets); err != nil {
		return stmt{}, err
	}
	if err := b.where(where); err != nil {
		return stmt{}, err
	}
	b.returning(ret)
	return b.stmt(op, m), nil
}

// buildDelete writes DELETE FROM table WHERE ..., then RETURNING ret.
func buildDelete(d dialect.Dialect, op Operation, m *model, where *filter, ret []*field) (stmt, error) {
	b := newBuilder(d, 64)
	b.str("DELETE FROM ")
	b.table(m)
	if err := b.where(where); err != nil {
		return stmt{}, err
	}
	b.returning(ret)
	return b.stmt(op, m), nil
}

// buildCount writes SELECT COUNT(*) (or, for Exists, SELECT 1 ... LIMIT 1).
func buildCount(d dialect.Dialect, op Operation, m *model, where *filter) (stmt, error) {
	b := newBuilder(d, 64)
	if op == OpExists {
		b.str("SELECT 1 FROM ")
	} else {
		b.str("SELECT COUNT(*) FROM ")
	}
	b.table(m)
	if err := b.where(where); err != nil {
		return stmt{}, err
	}
	if op == OpExists {
		b.b = d.AppendLimit(b.b, 1, 0)
	}
	return b.stmt(op, m), nil
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

// orderAndLimit writes ORDER BY and LIMIT/OFFSET.
func (b *builder) orderAndLimit(sq *selectQuery) {
	for i, o := range sq.order() {
		if i == 0 {
			b.str(" ORDER BY ")
		} else {
			b.str(", ")
		}
		b.b = b.d.AppendOrder(b.b, b.colName(o.f), o.desc, o.f.nullable)
	}
	if sq.take >= 0 || sq.skip > 0 {
		b.b = b.d.AppendLimit(b.b, sq.take, sq.skip)
	}
}

// where writes " WHERE w" unless w is empty.
func (b *builder) where(w *filter) error {
	if w.empty() {
		return nil
	}
	b.str(" WHERE ")
	b.hasWhere = true
	b.jsonLists = len(b.args)+filterArgs(w) > b.d.MaxParams()
	return b.cond(w)
}

// filterArgs is the number of values w binds with In lists inline (lists
// longer than maxInlineList count as the one value they bind).
func filterArgs(w *filter) int {
	switch w.op {
	case opNone, opAll, opIsNull, opNotNull:
		return 0
	case opAnd, opOr, opNot:
		n := 0
		for i := range w.kids {
			n += filterArgs(&w.kids[i])
		}
		return n
	case opIn, opNotIn:
		if n := len(w.val.([]any)); n <= maxInlineList {
			return n
		}
	}
	return 1
}

// cond writes one condition.
func (b *builder) cond(w *filter) error {
	switch w.op {
	case opNone, opAll:
		b.str("1 = 1")
		return nil
	case opAnd, opOr:
		if len(w.kids) == 0 {
			if w.op == opAnd {
				b.str("1 = 1")
			} else {
				b.str("1 = 0")
			}
			return nil
		}
		sep := " AND "
		if w.op == opOr {
			sep = " OR "
		}
		b.str("(")
		for i := range w.kids {
			if i > 0 {
				b.str(sep)
			}
			if err := b.cond(&w.kids[i]); err != nil {
				return err
			}
		}
		b.str(")")
		return nil
	case opNot:
		b.str("NOT (")
		if err := b.cond(&w.kids[0]); err != nil {
			return err
		}
		b.str(")")
		return nil
	}
	f := w.f
	switch w.op {
	case opIsNull:
		b.col(f)
		b.str(" IS NULL")
		return nil
	case opNotNull:
		b.col(f)
		b.str(" IS NOT NULL")
		return nil
	case opIn, opNotIn:
		if vals := w.val.([]any); len(vals) > maxInlineList || b.jsonLists {
			return b.inJSON(f, w.op == opNotIn, vals)
		}
		b.col(f)
		if w.op == opIn {
			b.str(" IN (")
		} else {
			b.str(" NOT IN (")
		}
		for i, v := range w.val.([]any) {
			if i > 0 {
				b.str(", ")
			}
			ev, err := encode(b.d, f, v)
			if err != nil {
				return err
			}
			if ev == nil {
				return qerr(f.m, "In/NotIn on %s with a nil value; use IsNull", f.name)
			}
			b.arg(ev)
		}
		b.str(")")
		return nil
	case opContains, opStartsWith, opEndsWith:
		s := w.val.(string)
		if reason := checkText(s); reason != "" {
			return valueError(f, 0, s, reason)
		}
		if s == "" {
			// Every text contains "", starts and ends with it; NULL stays
			// unknown, as with any other comparison (NOT must not match it).
			b.col(f)
			b.str(" = ")
			b.col(f)
			return nil
		}
		col := b.d.AppendIdent(nil, f.col)
		var v any
		b.b, v = b.d.AppendMatch(b.b, dialect.MatchKind(w.op-opContains+1), col, len(b.args)+1, s)
		b.args = append(b.args, v)
		return nil
	}
	val, op := w.val, w.op
	if f.kind == schema.Time && (op == opLt || op == opGe) {
		val, op = ceilTime(val, op)
	}
	ev, err := encode(b.d, f, val)
	if err != nil {
		return err
	}
	if ev == nil {
		switch op {
		case opEq:
			b.col(f)
			b.str(" IS NULL")
			return nil
		case opNe:
			b.col(f)
			b.str(" IS NOT NULL")
			return nil
		}
		return qerr(f.m, "comparing %s with nil; use IsNull or IsNotNull", f.name)
	}
	b.col(f)
	b.str(opText[op])
	b.arg(ev)
	return nil
}

// ceilTime rounds the time (or *time.Time) bound of col < x or col >= x up
// to a whole microsecond. Stored times are whole microseconds and encode
// truncates, so that Eq finds the value Create stored; col > x and col <= x
// are exact with the truncation, col < x and col >= x need the ceiling.
// When the ceiling would leave the storable years (x in the last
// microsecond of 9999), the comparison becomes col <= x or col > x, which
// is the same over the stored values.
func ceilTime(v any, op condOp) (any, condOp) {
	var x time.Time
	switch t := v.(type) {
	case time.Time:
		x = t
	case *time.Time:
		if t == nil {
			return v, op
		}
		x = *t
	default:
		return v, op
	}
	c := x.Truncate(time.Microsecond)
	if c.Equal(x) {
		return v, op
	}
	c = c.Add(time.Microsecond)
	if c.UTC().Year() > driver.MaxYear {
		if op == opLt {
			return v, opLe
		}
		return v, opGt
	}
	if _, ok := v.(*time.Time); ok {
		return &c, op
	}
	return c, op
}

// maxInlineList is the longest In list bound value by value. Longer lists,
// and every list of a condition whose values would not fit under the
// dialect's parameter limit, are bound as one JSON array
// (dialect.AppendInJSON): a list of any length works, and statements stay
// short.
const maxInlineList = 1000

// inJSON writes an In or NotIn whose values are bound as one JSON array.
func (b *builder) inJSON(f *field, not bool, vals []any) error {
	m := f.m
	if f.kind == schema.Bytes || f.kind == schema.JSON {
		return qerr(m, "In/NotIn on %s with %d values: a %s column takes at most %d, and no more than fit under the dialect's limit of %d parameters; split the list", f.name, len(vals), f.kind, maxInlineList, b.d.MaxParams())
	}
	enc := make([]any, len(vals))
	for i, v := range vals {
		ev, err := encode(b.d, f, v)
		if err != nil {
			return err
		}
		if ev == nil {
			return qerr(m, "In/NotIn on %s with a nil value; use IsNull", f.name)
		}
		if t, ok := ev.(time.Time); ok {
			ev = t.Format(time.RFC3339Nano)
		}
		enc[i] = ev
	}
	js, err := jsonx.Append(nil, enc)
	if err != nil {
		return qerr(m, "In/NotIn on %s: %v", f.name, err)
	}
	b.args = append(b.args, string(js))
	b.b = b.d.AppendInJSON(b.b, b.d.AppendIdent(nil, f.col), not, len(b.args), f.kind)
	return nil
}
