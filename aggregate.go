package forge

import (
	"context"
	"reflect"
	"unsafe"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/schema"
)

// Agg describes the columns of an aggregate query: which result fields
// receive which group columns and aggregates. See Aggregate.
type Agg struct {
	m     *model
	rbase unsafe.Pointer
	rsize uintptr
	items []aggItem
	errs  []error
}

type aggItem struct {
	fn     string // "" for a group column
	f      *field // nil for COUNT(*)
	dstOff uintptr
	dstTyp reflect.Type
	cast   schema.Kind
}

// Number is the constraint of Sum and Avg.
type Number interface{ int64 | int32 | float64 }

func (a *Agg) add(fn string, dst unsafe.Pointer, dstTyp reflect.Type, col unsafe.Pointer, colTyp reflect.Type, cast schema.Kind) {
	if uintptr(dst) < uintptr(a.rbase) || uintptr(dst) >= uintptr(a.rbase)+a.rsize {
		a.errs = append(a.errs, qerr(a.m, "Aggregate: the destination is not a field of the result template"))
		return
	}
	it := aggItem{fn: fn, dstOff: uintptr(dst) - uintptr(a.rbase), dstTyp: dstTyp, cast: cast}
	if col != nil {
		f, err := a.m.fieldAt(col, colTyp)
		if err != nil {
			a.errs = append(a.errs, err)
			return
		}
		if f.kind == schema.JSON || f.kind == schema.Bytes {
			a.errs = append(a.errs, qerr(a.m, "Aggregate: %s is %s and cannot be grouped or aggregated", f.name, f.kind))
			return
		}
		it.f = f
	}
	a.items = append(a.items, it)
}

// Group groups by col and stores each group's value in dst.
func Group[V any](a *Agg, dst *V, col *V) {
	a.add("", unsafe.Pointer(dst), reflect.TypeFor[V](), unsafe.Pointer(col), reflect.TypeFor[V](), 0)
}

// CountAll stores COUNT(*) in dst.
func CountAll(a *Agg, dst *int64) {
	a.add("COUNT", unsafe.Pointer(dst), reflect.TypeFor[int64](), nil, nil, 0)
}

// Count stores the number of non-NULL values of col in dst.
func Count[V any](a *Agg, dst *int64, col *V) {
	a.add("COUNT", unsafe.Pointer(dst), reflect.TypeFor[int64](), unsafe.Pointer(col), reflect.TypeFor[V](), 0)
}

// Sum stores the sum of col in dst (zero when there are no rows).
func Sum[V Number](a *Agg, dst *V, col *V) {
	cast := schema.Int64
	if reflect.TypeFor[V]().Kind() == reflect.Float64 {
		cast = schema.Float
	}
	a.add("SUM", unsafe.Pointer(dst), reflect.TypeFor[V](), unsafe.Pointer(col), reflect.TypeFor[V](), cast)
}

// Avg stores the mean of col in dst (zero when there are no rows).
func Avg[V Number](a *Agg, dst *float64, col *V) {
	a.add("AVG", unsafe.Pointer(dst), reflect.TypeFor[float64](), unsafe.Pointer(col), reflect.TypeFor[V](), schema.Float)
}

// Min stores the smallest value of col in dst (zero when there are no rows).
func Min[V any](a *Agg, dst *V, col *V) {
	a.add("MIN", unsafe.Pointer(dst), reflect.TypeFor[V](), unsafe.Pointer(col), reflect.TypeFor[V](), 0)
}

// Max stores the largest value of col in dst (zero when there are no rows).
func Max[V any](a *Agg, dst *V, col *V) {
	a.add("MAX", unsafe.Pointer(dst), reflect.TypeFor[V](), unsafe.Pointer(col), reflect.TypeFor[V](), 0)
}

// Aggregate runs an aggregate query over model m and returns one R per
// group (one R in all without Group). describe maps fields of a result
// template r to group columns and aggregates of m's Cols():
//
//	type ByAuthor struct {
//		AuthorID int64
//		Posts    int64
//		Words    int64
//	}
//	c := Posts.Cols()
//	rows, err := forge.Aggregate(ctx, db, Posts, func(r *ByAuthor, a *forge.Agg) {
//		forge.Group(a, &r.AuthorID, &c.AuthorID)
//		forge.CountAll(a, &r.Posts)
//		forge.Sum(a, &r.Words, &c.Words)
//	}, forge.Where(forge.Eq(&c.Draft, false)), forge.OrderBy(&c.AuthorID, forge.Asc))
//
// opts may hold Where, OrderBy (on group columns), Take and Skip.
func Aggregate[R any, T any](ctx context.Context, q Querier, m *ModelOf[T], describe func(r *R, a *Agg), opts ...Option) ([]R, error) {
	mm := m.m
	r, err := mm.runnerFor(q)
	if err != nil {
		return nil, err
	}
	tmpl := new(R)
	a := &Agg{m: mm, rbase: unsafe.Pointer(tmpl), rsize: reflect.TypeFor[R]().Size()}
	describe(tmpl, a)
	if len(a.errs) > 0 {
		return nil, a.errs[0]
	}
	if len(a.items) == 0 {
		return nil, qerr(mm, "Aggregate: nothing to compute")
	}
	var sq selectQuery
	if err := parse(mm, &sq, opts, "Aggregate"); err != nil {
		return nil, err
	}
	if sq.fields != nil || len(sq.incs) > 0 || sq.after != nil {
		return nil, qerr(mm, "Aggregate takes Where, OrderBy, Take and Skip only")
	}
	var groups []*field
	for _, it := range a.items {
		if it.fn == "" {
			groups = append(groups, it.f)
		}
	}
	for _, o := range sq.order() {
		if !containsField(groups, o.f) {
			return nil, qerr(mm, "Aggregate: OrderBy(%s) needs Group on that column", o.f.name)
		}
	}
	d := r.db.d
	b := newBuilder(d, 128)
	b.str("SELECT ")
	for i, it := range a.items {
		if i > 0 {
			b.str(", ")
		}
		switch {
		case it.fn == "":
			b.col(it.f)
		case it.f == nil:
			b.str("COUNT(*)")
		default:
			if it.cast != 0 {
				b.str("CAST(")
			}
			b.str(it.fn)
			b.str("(")
			b.col(it.f)
			b.str(")")
			if it.cast != 0 {
				b.str(" AS ")
				b.str(d.ColumnType(&schema.Column{Kind: it.cast}))
				b.str(")")
			}
		}
	}
	b.str(" FROM ")
	b.table(mm)
	if err := b.where(&sq.where); err != nil {
		return nil, err
	}
	for i, g := range groups {
		if i == 0 {
			b.str(" GROUP BY ")
		} else {
			b.str(", ")
		}
		b.col(g)
	}
	b.orderAndLimit(&sq)
	var out []R
	err = r.query(ctx, b.stmt(OpAggregate, mm), func(rows driver.Rows) (int64, error) {
		dests := make([]any, len(a.items))
		tmps := make([]reflect.Value, len(a.items))
		for i, it := range a.items {
			if it.fn != "" {
				tmps[i] = reflect.New(reflect.PointerTo(it.dstTyp)) // **V: NULL-safe
			}
		}
		var zero R
		for rows.Next() {
			out = append(out, zero)
			base := unsafe.Pointer(&out[len(out)-1])
			for i, it := range a.items {
				if it.fn == "" {
					dests[i] = reflect.NewAt(it.dstTyp, unsafe.Add(base, it.dstOff)).Interface()
				} else {
					tmps[i].Elem().SetZero()
					dests[i] = tmps[i].Interface()
				}
			}
			if err := rows.Scan(dests...); err != nil {
				return int64(len(out)), err
			}
			for i, it := range a.items {
				if it.fn == "" {
					continue
				}
				if p := tmps[i].Elem(); !p.IsNil() {
					reflect.NewAt(it.dstTyp, unsafe.Add(base, it.dstOff)).Elem().Set(p.Elem())
				}
			}
		}
		return int64(len(out)), rows.Err()
	})
	return out, err
}
