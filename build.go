package forge

import (
	"fmt"
	"reflect"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/schema"
	"github.com/forge-orm/forge/wire/jsonx"
)

// QueryError is a mistake in how a query was built: a pointer that is not
// a field of the model, an unknown relation, a missing filter. It is
// returned before anything reaches the database.
type QueryError struct {
	Model string
	Msg   string
}

func (e *QueryError) Error() string {
	if e.Model == "" {
		return "forge: " + e.Msg
	}
	return "forge: " + e.Model + ": " + e.Msg
}

func qerr(m *model, format string, args ...any) error {
	return &QueryError{Model: m.name, Msg: fmt.Sprintf(format, args...)}
}

// builder writes one statement.
type builder struct {
	d        dialect.Dialect
	b        []byte
	args     []any
	hasWhere bool
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

// insertRow writes INSERT INTO table (fields) VALUES (...) for the row at
// base.
func (b *builder) insertRow(m *model, fields []*field, base unsafe.Pointer) error {
	b.str("INSERT INTO ")
	b.table(m)
	b.str(" (")
	b.columns(fields)
	b.str(") VALUES (")
	for i, f := range fields {
		if i > 0 {
			b.str(", ")
		}
		v, err := f.load(b.d, base)
		if err != nil {
			return err
		}
		b.arg(v)
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
		b.b = b.d.AppendOrder(b.b, b.names(o.f.m).cols[o.f.idx], o.desc, o.f.nullable)
	}
	if sq.take >= 0 || sq.skip > 0 {
		b.b = b.d.AppendLimit(b.b, sq.take, sq.skip)
	}
}

// where writes " WHERE cond" unless c is empty.
func (b *builder) where(m *model, c *Cond) error {
	if c.op == opNone || c.op == opAll || (c.op == opAnd && len(c.kids) == 0) {
		return nil
	}
	b.str(" WHERE ")
	b.hasWhere = true
	b.jsonLists = len(b.args)+condArgs(c) > b.d.MaxParams()
	return b.cond(m, c)
}

// condArgs is the number of values c binds with In lists inline (lists
// longer than maxInlineList count as the one value they bind).
func condArgs(c *Cond) int {
	switch c.op {
	case opNone, opAll, opErr, opIsNull, opNotNull:
		return 0
	case opAnd, opOr, opNot:
		n := 0
		for i := range c.kids {
			n += condArgs(&c.kids[i])
		}
		return n
	case opIn, opNotIn:
		if n := len(c.val.([]any)); n <= maxInlineList {
			return n
		}
	}
	return 1
}

// cond writes one condition.
func (b *builder) cond(m *model, c *Cond) error {
	switch c.op {
	case opErr:
		return c.val.(error)
	case opNone, opAll:
		b.str("1 = 1")
		return nil
	case opAnd, opOr:
		if len(c.kids) == 0 {
			if c.op == opAnd {
				b.str("1 = 1")
			} else {
				b.str("1 = 0")
			}
			return nil
		}
		sep := " AND "
		if c.op == opOr {
			sep = " OR "
		}
		b.str("(")
		for i := range c.kids {
			if i > 0 {
				b.str(sep)
			}
			if err := b.cond(m, &c.kids[i]); err != nil {
				return err
			}
		}
		b.str(")")
		return nil
	case opNot:
		b.str("NOT (")
		if err := b.cond(m, &c.kids[0]); err != nil {
			return err
		}
		b.str(")")
		return nil
	}
	f, err := m.fieldAt(c.col, c.typ)
	if err != nil {
		return err
	}
	switch c.op {
	case opIsNull, opNotNull:
		if !f.nullable {
			return qerr(m, "IsNull/IsNotNull on %s, which is not nullable", f.name)
		}
		b.col(f)
		if c.op == opIsNull {
			b.str(" IS NULL")
		} else {
			b.str(" IS NOT NULL")
		}
		return nil
	case opIn, opNotIn:
		if vals := c.val.([]any); len(vals) > maxInlineList || b.jsonLists {
			return b.inJSON(f, c.op == opNotIn, vals)
		}
		b.col(f)
		if c.op == opIn {
			b.str(" IN (")
		} else {
			b.str(" NOT IN (")
		}
		for i, v := range c.val.([]any) {
			if i > 0 {
				b.str(", ")
			}
			ev, err := encode(b.d, f, v)
			if err != nil {
				return err
			}
			if ev == nil {
				return qerr(m, "In/NotIn on %s with a nil value; use IsNull", f.name)
			}
			b.arg(ev)
		}
		b.str(")")
		return nil
	case opContains, opStartsWith, opEndsWith:
		s := c.val.(string)
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
		b.b, v = b.d.AppendMatch(b.b, dialect.MatchKind(c.op-opContains+1), col, len(b.args)+1, s)
		b.args = append(b.args, v)
		return nil
	}
	val, op := c.val, c.op
	if f.kind == schema.Time && (op == opLt || op == opGe) {
		val, op = ceilTime(val, op)
	}
	ev, err := encode(b.d, f, val)
	if err != nil {
		return err
	}
	if ev == nil {
		switch c.op {
		case opEq:
			b.col(f)
			b.str(" IS NULL")
			return nil
		case opNe:
			b.col(f)
			b.str(" IS NOT NULL")
			return nil
		}
		return qerr(m, "comparing %s with nil; use IsNull or IsNotNull", f.name)
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

// encode converts a field value (of the field's Go type) into the value
// bound for the driver; nil means NULL. It is the one validation step of
// every value forge sends for a field: a value that not every database
// stores exactly is a *ValueError, before any statement is built.
func encode(d dialect.Dialect, f *field, v any) (any, error) {
	switch f.kind {
	case schema.JSON:
		if f.nullable && isNil(v) {
			return nil, nil
		}
		b, err := f.json.marshal(v)
		if err != nil {
			return nil, &QueryError{Model: f.m.name, Msg: "field " + f.name + ": " + err.Error()}
		}
		if reason := jsonProblem(b); reason != "" {
			return nil, &ValueError{Model: f.m.name, Field: f.name, Value: v, Reason: reason}
		}
		return string(b), nil
	case schema.Bytes:
		if bs := v.([]byte); f.nullable && bs == nil {
			return nil, nil
		} else if bs == nil {
			return []byte{}, nil
		}
		return v, nil
	}
	if f.nullable {
		switch x := v.(type) {
		case *string:
			if x == nil {
				return nil, nil
			}
			v = *x
		case *int64:
			if x == nil {
				return nil, nil
			}
			return *x, nil
		case *int32:
			if x == nil {
				return nil, nil
			}
			return *x, nil
		case *float64:
			if x == nil {
				return nil, nil
			}
			v = *x
		case *bool:
			if x == nil {
				return nil, nil
			}
			return *x, nil
		case *time.Time:
			if x == nil {
				return nil, nil
			}
			v = *x
		}
	}
	return encodeScalar(d, f, 0, v)
}

// encodeScalar checks one non-NULL value (driver.CheckValue) and converts
// it as forge stores it: times in UTC truncated to microseconds and in the
// dialect's form, -0 as 0. f names the field, or arg the raw argument.
func encodeScalar(d dialect.Dialect, f *field, arg int, v any) (any, error) {
	switch x := v.(type) {
	case string:
		if reason := checkText(x); reason != "" {
			return nil, valueError(f, arg, v, reason)
		}
	case float64:
		if reason := driver.CheckValue(x); reason != "" {
			return nil, valueError(f, arg, v, reason)
		}
		if x == 0 {
			return float64(0), nil // -0 is stored as 0 (SQLite drops the sign)
		}
	case time.Time:
		if reason := driver.CheckValue(x); reason != "" {
			return nil, valueError(f, arg, v, reason)
		}
		return d.EncodeTime(driver.NormalizeTime(x)), nil
	}
	return v, nil
}

// checkText is driver.CheckValue for text, with a fast path for short
// ASCII.
func checkText(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= utf8.RuneSelf {
			return driver.CheckValue(s)
		}
	}
	return ""
}

func valueError(f *field, arg int, v any, reason string) error {
	if f == nil {
		return &ValueError{Arg: arg, Value: v, Reason: reason}
	}
	return &ValueError{Model: f.m.name, Field: f.name, Value: v, Reason: reason}
}

// jsonProblem returns why encoded JSON cannot be stored exactly, or "": a
// \u0000 escape (PostgreSQL's jsonb cannot store it), or a \ufffd escape,
// which is how encoding/json writes (silently replaces) invalid UTF-8 in a
// string; a valid U+FFFD it writes as is. An escaped backslash followed by
// "u0000" is text, not an escape.
func jsonProblem(b []byte) string {
	for i := 0; i+5 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] == 'u' {
			switch string(b[i+2 : i+6]) {
			case "0000":
				return "the JSON holds a NUL character (\\u0000); PostgreSQL's jsonb cannot store it, so forge refuses it everywhere"
			case "fffd":
				return "the JSON holds a string that is not valid UTF-8 (encoding/json would replace it with U+FFFD); forge refuses it everywhere"
			}
		}
		i++ // skip the escaped character
	}
	return ""
}

// encodeArgs applies the value rules to raw SQL arguments (Exec, Raw,
// ExecOp): text, floats and times are checked like field values, and a
// time.Time is bound the way forge stores times on the dialect (never its
// String() form). args is copied only when a value changes.
func encodeArgs(d dialect.Dialect, args []any) ([]any, error) {
	out := args
	for i, a := range args {
		switch a.(type) {
		case string, float64, time.Time:
		default:
			continue
		}
		v, err := encodeScalar(d, nil, i+1, a)
		if err != nil {
			return nil, err
		}
		if _, isTime := a.(time.Time); isTime || v != a {
			if &out[0] == &args[0] {
				out = append([]any(nil), args...)
			}
			out[i] = v
		}
	}
	return out, nil
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// load reads field f of the struct at base as a driver value (encoded).
func (f *field) load(d dialect.Dialect, base unsafe.Pointer) (any, error) {
	p := f.ptr(base)
	var v any
	switch f.kind {
	case schema.JSON:
		v = reflect.NewAt(f.typ, p).Elem().Interface()
	case schema.Bytes:
		v = *(*[]byte)(p)
	default:
		if f.nullable {
			switch f.kind {
			case schema.Text:
				v = *(**string)(p)
			case schema.Int64:
				v = *(**int64)(p)
			case schema.Int32:
				v = *(**int32)(p)
			case schema.Float:
				v = *(**float64)(p)
			case schema.Bool:
				v = *(**bool)(p)
			case schema.Time:
				v = *(**time.Time)(p)
			}
		} else {
			switch f.kind {
			case schema.Text, schema.TextID:
				v = *(*string)(p)
			case schema.Int64, schema.ID:
				v = *(*int64)(p)
			case schema.Int32:
				v = *(*int32)(p)
			case schema.Float:
				v = *(*float64)(p)
			case schema.Bool:
				v = *(*bool)(p)
			case schema.Time:
				v = *(*time.Time)(p)
			}
		}
	}
	return encode(d, f, v)
}

// key returns the field's value as a relation key (int64 or string), or
// nil when it is NULL.
func (f *field) key(base unsafe.Pointer) any {
	p := f.ptr(base)
	switch f.kind {
	case schema.ID, schema.Int64:
		if f.nullable {
			if x := *(**int64)(p); x != nil {
				return *x
			}
			return nil
		}
		return *(*int64)(p)
	case schema.Int32:
		if f.nullable {
			if x := *(**int32)(p); x != nil {
				return int64(*x)
			}
			return nil
		}
		return int64(*(*int32)(p))
	case schema.Text, schema.TextID:
		if f.nullable {
			if x := *(**string)(p); x != nil {
				return *x
			}
			return nil
		}
		return *(*string)(p)
	}
	return nil
}

// isZero reports whether the field holds its Go zero value.
func (f *field) isZero(base unsafe.Pointer) bool {
	return reflect.NewAt(f.typ, f.ptr(base)).Elem().IsZero()
}

// setDefault stores the field's default into the struct at base.
func (f *field) setDefault(base unsafe.Pointer, now time.Time) {
	p := f.ptr(base)
	if f.def.Now {
		if f.nullable {
			t := now
			*(**time.Time)(p) = &t
		} else {
			*(*time.Time)(p) = now
		}
		return
	}
	v := reflect.ValueOf(f.def.Value)
	dst := reflect.NewAt(f.typ, p).Elem()
	if f.kind == schema.JSON {
		_ = f.json.unmarshal([]byte(f.def.Value.(string)), dst.Addr().Interface())
		return
	}
	if f.nullable && f.kind != schema.Bytes {
		nv := reflect.New(f.typ.Elem())
		nv.Elem().Set(v)
		dst.Set(nv)
		return
	}
	dst.Set(v)
}
