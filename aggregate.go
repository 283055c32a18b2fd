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
	order []aggOrder
	errs  []error
}

// aggOrder orders the result by one of its items.
type aggOrder struct {
	dst  unsafe.Pointer
	desc bool
	item int
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

// OrderBy orders the result by one of its fields, dst (a pointer into the
// result template already mapped by Group or an aggregate), so that "the
// ten authors with the most posts" is
//
//	forge.CountAll(a, &r.Posts)
//	a.OrderBy(&r.Posts, forge.Desc)
//
// with forge.Take(10). Orderings apply in the order given, before any
// OrderBy option; NULL sorts as the largest value, as everywhere.
func (a *Agg) OrderBy(dst any, dir Direction) {
	rv := reflect.ValueOf(dst)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() {
		a.errs = append(a.errs, qerr(a.m, "Aggregate: OrderBy wants a pointer to a field of the result template, got %T", dst))
		return
	}
	a.order = append(a.order, aggOrder{dst: rv.UnsafePointer(), desc: dir == Desc})
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
// opts may hold Where, OrderBy (on group columns), Take and Skip; order by
// an aggregate with Agg.OrderBy. When the query pages (Take or Skip), the
// group columns not already ordered on are added as last orderings, so
// that pages are stable: "top N groups" is Agg.OrderBy or OrderBy, then
// Take(N).
//
// Like the model methods, it is a thin generic shell over untyped code
// (Agg.run), which reads the rows into memory typed as R.
func Aggregate[R any, T any](ctx context.Context, q Querier, m *ModelOf[T], describe func(r *R, a *Agg), opts ...Option) ([]R, error) {
	r, err := m.m.runnerFor(q)
	if err != nil {
		return nil, err
	}
	if describe == nil {
		return nil, qerr(m.m, "Aggregate: nil describe function")
	}
	tmpl := new(R)
	a := &Agg{m: m.m, rbase: unsafe.Pointer(tmpl), rsize: unsafe.Sizeof(*tmpl)}
	describe(tmpl, a)
	buf := rowBuf{size: a.rsize, grow: growRows[R]}
	if err := a.run(ctx, r, opts, &buf); err != nil || buf.n == 0 {
		return nil, err
	}
	return rowsOf[R](&buf), nil
}

// run is Aggregate's untyped body: it builds the query described in a,
// runs it and reads one result row per group into buf.
func (a *Agg) run(ctx context.Context, r *runner, opts []Option, buf *rowBuf) error {
	m := a.m
	if len(a.errs) > 0 {
		return a.errs[0]
	}
	if len(a.items) == 0 {
		return qerr(m, "Aggregate: nothing to compute")
	}
	for i := range a.order {
		o := &a.order[i]
		o.item = -1
		for j, it := range a.items {
			if unsafe.Add(a.rbase, it.dstOff) == o.dst {
				o.item = j
			}
		}
		if o.item < 0 {
			return qerr(m, "Aggregate: OrderBy: the pointer is not a field of the result template mapped by Group or an aggregate")
		}
	}
	sq := selectQuery{agg: true}
	if err := parse(m, &sq, opts, "Aggregate"); err != nil {
		return err
	}
	if sq.fields != nil || len(sq.incs) > 0 || sq.after != nil {
		return qerr(m, "Aggregate takes Where, OrderBy, Take and Skip only")
	}
	var groups []*field
	for _, it := range a.items {
		if it.fn == "" {
			groups = append(groups, it.f)
		}
	}
	order := a.order
	for _, o := range sq.order() {
		item := -1
		for j, it := range a.items {
			if it.fn == "" && it.f == o.f {
				item = j
			}
		}
		if item < 0 {
			return qerr(m, "Aggregate: OrderBy(%s) needs Group on that column (order by an aggregate with Agg.OrderBy)", o.f.name)
		}
		order = append(order, aggOrder{item: item, desc: o.desc})
	}
	if sq.take >= 0 || sq.skip > 0 {
		// A total order for stable pages: the group columns identify a row.
		for j, it := range a.items {
			if it.fn != "" {
				continue
			}
			seen := false
			for _, o := range order {
				seen = seen || a.items[o.item].fn == "" && a.items[o.item].f == it.f
			}
			if !seen {
				order = append(order, aggOrder{item: j})
			}
		}
	}
	d := r.db.d
	b := newBuilder(d, 128)
	b.str("SELECT ")
	exprs := make([][2]int, len(a.items)) // where each item's expression is in b.b
	for i, it := range a.items {
		if i > 0 {
			b.str(", ")
		}
		exprs[i][0] = len(b.b)
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
				b.str(d.CastType(it.cast))
				b.str(")")
			}
		}
		exprs[i][1] = len(b.b)
	}
	b.str(" FROM ")
	b.table(m)
	if err := b.where(&sq.where); err != nil {
		return err
	}
	for i, g := range groups {
		if i == 0 {
			b.str(" GROUP BY ")
		} else {
			b.str(", ")
		}
		b.col(g)
	}
	for i, o := range order {
		if i == 0 {
			b.str(" ORDER BY ")
		} else {
			b.str(", ")
		}
		it := a.items[o.item]
		// The expression as written in the select list: it cannot drift.
		expr := string(b.b[exprs[o.item][0]:exprs[o.item][1]])
		nullable := it.fn != "COUNT"
		if it.fn == "" {
			nullable = it.f.nullable
		}
		b.b = d.AppendOrder(b.b, expr, o.desc, nullable)
	}
	if sq.take >= 0 || sq.skip > 0 {
		b.b = d.AppendLimit(b.b, sq.take, sq.skip)
	}
	return r.query(ctx, b.stmt(OpAggregate, m), func(rows driver.Rows) (int64, error) {
		dests := make([]any, len(a.items))
		tmps := make([]reflect.Value, len(a.items))
		direct := make([]bool, len(a.items))
		for i, it := range a.items {
			// A group column, or a nullable destination (*V, scanned as
			// **V), takes the value directly; other aggregates go through
			// a **V, NULL-safe, and stay zero on NULL.
			direct[i] = it.fn == "" || it.dstTyp.Kind() == reflect.Pointer
			if !direct[i] {
				tmps[i] = reflect.New(reflect.PointerTo(it.dstTyp))
			}
		}
		for rows.Next() {
			base := buf.add()
			for i, it := range a.items {
				if direct[i] {
					dests[i] = reflect.NewAt(it.dstTyp, unsafe.Add(base, it.dstOff)).Interface()
				} else {
					tmps[i].Elem().SetZero()
					dests[i] = tmps[i].Interface()
				}
			}
			if err := rows.Scan(dests...); err != nil {
				return int64(buf.n), err
			}
			for i, it := range a.items {
				if direct[i] {
					continue
				}
				if p := tmps[i].Elem(); !p.IsNil() {
					reflect.NewAt(it.dstTyp, unsafe.Add(base, it.dstOff)).Elem().Set(p.Elem())
				}
			}
		}
		return int64(buf.n), rows.Err()
	})
}
