package forge

import (
	"errors"
	"reflect"
	"time"
	"unsafe"
)

// Cond is a filter condition. Build it with Eq, Lt, In, Contains, And, Or,
// Not...; the column is a pointer into a model's Cols() and the value must
// have the field's Go type, so a mistake in either type is a compile error.
// The zero Cond is "no condition".
type Cond struct {
	op   condOp
	col  unsafe.Pointer
	typ  reflect.Type
	val  any // the value; []any for In and NotIn; the error for opErr
	kids []Cond
}

type condOp uint8

const (
	opNone condOp = iota
	opEq
	opNe
	opLt
	opLe
	opGt
	opGe
	opIn
	opNotIn
	opIsNull
	opNotNull
	opContains
	opStartsWith
	opEndsWith
	opAnd
	opOr
	opNot
	opAll
	opErr
)

var opText = [...]string{opEq: " = ", opNe: " <> ", opLt: " < ", opLe: " <= ", opGt: " > ", opGe: " >= "}

func cmp[V any](op condOp, col *V, v V) Cond {
	return Cond{op: op, col: unsafe.Pointer(col), typ: reflect.TypeFor[V](), val: v}
}

// Eq matches rows whose column equals v. For a nullable column (a pointer
// field), a nil v matches NULL.
func Eq[V any](col *V, v V) Cond { return cmp(opEq, col, v) }

// Ne matches rows whose column differs from v. SQL semantics: NULL never
// differs from anything; for a nullable column a nil v matches NOT NULL.
func Ne[V any](col *V, v V) Cond { return cmp(opNe, col, v) }

// Lt matches column < v.
func Lt[V any](col *V, v V) Cond { return cmp(opLt, col, v) }

// Le matches column <= v.
func Le[V any](col *V, v V) Cond { return cmp(opLe, col, v) }

// Gt matches column > v.
func Gt[V any](col *V, v V) Cond { return cmp(opGt, col, v) }

// Ge matches column >= v.
func Ge[V any](col *V, v V) Cond { return cmp(opGe, col, v) }

// ErrEmptyList is returned for In or NotIn with no values: "IN ()" is not
// SQL, and an empty list is most often a bug upstream. Test the list's
// length before building the query.
var ErrEmptyList = errors.New("forge: In/NotIn with an empty list of values")

func inList[V any](op condOp, col *V, vals []V) Cond {
	if len(vals) == 0 {
		return Cond{op: opErr, val: ErrEmptyList}
	}
	list := make([]any, len(vals))
	for i, v := range vals {
		list[i] = v
	}
	return Cond{op: op, col: unsafe.Pointer(col), typ: reflect.TypeFor[V](), val: list}
}

// In matches rows whose column is one of vals. An empty vals is an error
// ([ErrEmptyList]).
func In[V any](col *V, vals ...V) Cond { return inList(opIn, col, vals) }

// NotIn matches rows whose column is none of vals. An empty vals is an
// error ([ErrEmptyList]).
func NotIn[V any](col *V, vals ...V) Cond { return inList(opNotIn, col, vals) }

// IsNull matches rows whose (nullable) column is NULL.
func IsNull[V any](col *V) Cond {
	return Cond{op: opIsNull, col: unsafe.Pointer(col), typ: reflect.TypeFor[V]()}
}

// IsNotNull matches rows whose (nullable) column is not NULL.
func IsNotNull[V any](col *V) Cond {
	return Cond{op: opNotNull, col: unsafe.Pointer(col), typ: reflect.TypeFor[V]()}
}

// Text is the constraint of the text-matching filters: a text column or a
// nullable one.
type Text interface{ string | *string }

func match[S Text](op condOp, col *S, s string) Cond {
	return Cond{op: op, col: unsafe.Pointer(col), typ: reflect.TypeFor[S](), val: s}
}

// Contains matches text columns that contain s, literally (wildcards in s
// are escaped) and case-sensitively.
func Contains[S Text](col *S, s string) Cond { return match(opContains, col, s) }

// StartsWith matches text columns that begin with s, literally and
// case-sensitively.
func StartsWith[S Text](col *S, s string) Cond { return match(opStartsWith, col, s) }

// EndsWith matches text columns that end with s, literally and
// case-sensitively.
func EndsWith[S Text](col *S, s string) Cond { return match(opEndsWith, col, s) }

// And matches rows that match every condition. And() matches every row.
func And(conds ...Cond) Cond { return Cond{op: opAnd, kids: conds} }

// Or matches rows that match at least one condition. Or() matches no row.
func Or(conds ...Cond) Cond { return Cond{op: opOr, kids: conds} }

// Not matches rows that do not match c.
func Not(c Cond) Cond { return Cond{op: opNot, kids: []Cond{c}} }

// All matches every row. UpdateMany and DeleteMany need a condition; pass
// All() to change every row on purpose.
func All() Cond { return Cond{op: opAll} }

// Ptr returns a pointer to v, for values of nullable columns:
// forge.Eq(&c.Nickname, forge.Ptr("ada")).
func Ptr[V any](v V) *V { return &v }

// Direction is an ordering direction.
type Direction uint8

// Ordering directions.
const (
	Asc Direction = iota
	Desc
)

// Option shapes a query: Where, OrderBy, Take, Skip, After, Select,
// Include, Cached and NoCache.
type Option struct {
	kind  optKind
	cond  Cond
	col   unsafe.Pointer
	typ   reflect.Type
	dir   Direction
	n     int
	cols  []any
	inc   *include
	after unsafe.Pointer
	ttl   time.Duration // Cached
	stale time.Duration // Cached
}

type optKind uint8

const (
	optWhere optKind = iota + 1
	optOrder
	optTake
	optSkip
	optSelect
	optInclude
	optAfter
	optCache
	optEvery  // Watch's interval, in milliseconds
	optNotify // Watch's notification channel, in cols[0]
)

// Where filters the query; several conditions are combined with AND, as are
// several Where options.
func Where(conds ...Cond) Option {
	if len(conds) == 1 {
		return Option{kind: optWhere, cond: conds[0]}
	}
	return Option{kind: optWhere, cond: Cond{op: opAnd, kids: append([]Cond(nil), conds...)}}
}

// OrderBy orders by a column. Several OrderBy options order by several
// columns, in the order given. NULL sorts as the largest value on every
// database: last ascending, first descending (forge writes NULLS LAST /
// NULLS FIRST, so SQLite orders as PostgreSQL does). When the query also pages (Take, Skip or
// After), the primary key is added as a last ordering column so that pages
// are stable.
func OrderBy[V any](col *V, dir Direction) Option {
	return Option{kind: optOrder, col: unsafe.Pointer(col), typ: reflect.TypeFor[V](), dir: dir}
}

// Take limits the number of rows returned.
func Take(n int) Option { return Option{kind: optTake, n: n} }

// Skip skips the first n rows (OFFSET). Prefer After for deep pages.
func Skip(n int) Option { return Option{kind: optSkip, n: n} }

// Select reads only the given columns (pointers into Cols()); other fields
// are left zero. Keys needed by Include are added automatically.
func Select(cols ...any) Option { return Option{kind: optSelect, cols: cols} }

// After continues a keyset (cursor) pagination after row, the last row of
// the previous page: it selects the rows that come after row in the
// query's ordering. The primary key is added as the last ordering column
// so the order is total. Nullable ordering columns work: NULL sorts as the
// largest value on every database (last ascending, first descending).
func After[T any](row *T) Option {
	return Option{kind: optAfter, after: unsafe.Pointer(row), typ: reflect.TypeFor[T]()}
}

// Include loads a relation (a pointer to a HasMany or BelongsTo field of
// Cols()) with one extra query for all the rows returned, never one per row.
// opts shape the related query: Where, OrderBy, Select and nested Include.
func Include(rel any, opts ...Option) Option {
	return Option{kind: optInclude, inc: &include{rel: rel, opts: opts}}
}

type include struct {
	rel  any
	opts []Option
}

// filter is a Cond resolved against one model: each column is its field,
// found once, when the query's options are parsed. The builder writes a
// filter; nothing after parse looks a column up again.
type filter struct {
	op   condOp
	f    *field
	val  any // as in Cond
	kids []filter
}

// empty reports whether the filter matches every row without saying so.
func (w *filter) empty() bool {
	return w.op == opNone || w.op == opAll || (w.op == opAnd && len(w.kids) == 0)
}

// resolve turns c into a filter over m's fields.
func (m *model) resolve(c *Cond) (filter, error) {
	switch c.op {
	case opErr:
		return filter{}, c.val.(error)
	case opNone, opAll:
		return filter{op: c.op}, nil
	case opAnd, opOr, opNot:
		w := filter{op: c.op}
		if len(c.kids) > 0 {
			w.kids = make([]filter, len(c.kids))
		}
		for i := range c.kids {
			k, err := m.resolve(&c.kids[i])
			if err != nil {
				return filter{}, err
			}
			w.kids[i] = k
		}
		return w, nil
	}
	f, err := m.fieldAt(c.col, c.typ)
	if err != nil {
		return filter{}, err
	}
	if (c.op == opIsNull || c.op == opNotNull) && !f.nullable {
		return filter{}, qerr(m, "IsNull/IsNotNull on %s, which is not nullable", f.name)
	}
	return filter{op: c.op, f: f, val: c.val}, nil
}

// and ANDs x into w, the filter of a whole query.
func (w *filter) and(x filter) {
	switch {
	case x.empty():
		if w.op == opNone {
			*w = x // keeps an explicit All
		}
	case w.empty():
		*w = x
	case w.op == opAnd:
		w.kids = append(w.kids, x)
	default:
		*w = filter{op: opAnd, kids: []filter{*w, x}}
	}
}
