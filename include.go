package forge

import (
	"context"
	"reflect"
	"unsafe"

	"github.com/forge-orm/forge/driver"
)

// relationFor finds the relation that rel (a pointer into Cols()) names.
func (m *model) relationFor(rel any) (*relation, error) {
	rv := reflect.ValueOf(rel)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, qerr(m, "Include: want a pointer to a relation field of Cols(), got %T", rel)
	}
	p := uintptr(rv.UnsafePointer())
	base := uintptr(m.tmpl)
	if p >= base && p < base+m.size {
		for _, r := range m.rels {
			if r.offset == p-base && r.typ == rv.Type().Elem() {
				return r, nil
			}
		}
	}
	return nil, qerr(m, "Include: not a relation of %s (declare it with HasMany or BelongsTo on this model's Cols())", m.name)
}

// loadIncludes loads each include for the n rows of model m stored
// contiguously at data: one query per relation (per chunk of keys).
func (r *runner) loadIncludes(ctx context.Context, m *model, data unsafe.Pointer, n int, incs []includeQuery) error {
	for i := range incs {
		if err := r.loadRelation(ctx, m, &incs[i], data, n); err != nil {
			return err
		}
	}
	return nil
}

// span is where the related rows of one key lie among the loaded rows.
type span struct{ start, end int }

// sliceHeader is the memory layout of a slice.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

// noRows is where an empty has-many slice points: empty, not nil.
var noRows struct{}

// loadRelation loads one include for the n parents at data:
//  1. the parents' distinct keys become the IN list, bound as the key
//     column's values (no conversion through the field's Go type);
//  2. one SELECT per chunk of keys reads the related rows into one array
//     of the target's type; a has-many include orders them by the foreign
//     key, so each parent's rows are contiguous;
//  3. each parent gets a slice of that array (has-many, its capacity
//     limited to its length) or a pointer into it (belongs-to).
func (r *runner) loadRelation(ctx context.Context, m *model, inc *includeQuery, data unsafe.Pointer, n int) error {
	rel, t, sq := inc.r, inc.r.target, &inc.sq
	parentKey, targetCol := rel.keys()
	keys := make([]any, 0, n)
	spans := make(map[relKey]span, n)
	for i := 0; i < n; i++ {
		k, ok := parentKey.key(unsafe.Add(data, uintptr(i)*m.size))
		if !ok {
			continue
		}
		if _, dup := spans[k]; !dup {
			spans[k] = span{}
			keys = append(keys, targetCol.codec.keyArg(k))
		}
	}
	children := t.rowBuf()
	children.hint = len(keys)
	fields := sq.selected(t)
	plan := newScanPlan(fields)
	d := r.db.d
	for start := 0; start < len(keys); {
		b := newBuilder(d, 64+16*len(fields)+8*(len(keys)-start))
		b.str("SELECT ")
		b.columns(fields)
		b.str(" FROM ")
		b.table(t)
		if err := b.where(&sq.where); err != nil {
			return err
		}
		// The include's own filter binds its values first; the keys take
		// the rest of the dialect's parameter limit.
		end := min(start+max(d.MaxParams()-len(b.args), 1), len(keys))
		if b.hasWhere {
			b.str(" AND ")
		} else {
			b.str(" WHERE ")
		}
		b.col(targetCol)
		b.str(" IN (")
		for i, k := range keys[start:end] {
			if i > 0 {
				b.str(", ")
			}
			b.arg(k)
		}
		b.str(")")
		b.orderAndLimit(sq)
		var err error
		if st := b.stmt(OpInclude, t); sq.cache.on {
			children, err = r.db.cache.include(ctx, r, st, sq.cache, t, fields, children)
		} else {
			err = r.query(ctx, st, func(rows driver.Rows) (int64, error) {
				return children.scanRows(rows, plan, -1)
			})
		}
		if err != nil {
			return err
		}
		start = end
	}
	if children.n > 0 && len(sq.incs) > 0 {
		if err := r.loadIncludes(ctx, t, children.data, children.n, sq.incs); err != nil {
			return err
		}
	}
	if !spanRows(t, targetCol, &children, spans) {
		// The driver did not honour ORDER BY: group the rows here.
		groupRows(t, targetCol, &children)
		clear(spans)
		spanRows(t, targetCol, &children, spans)
	}
	for i := 0; i < n; i++ {
		base := unsafe.Add(data, uintptr(i)*m.size)
		var s span
		if k, ok := parentKey.key(base); ok {
			s = spans[k]
		}
		dst := rel.ptr(base)
		switch {
		case rel.many && s.end > s.start:
			*(*sliceHeader)(dst) = sliceHeader{data: children.at(s.start), len: s.end - s.start, cap: s.end - s.start}
		case rel.many:
			*(*sliceHeader)(dst) = sliceHeader{data: unsafe.Pointer(&noRows)}
		case s.end > s.start:
			*(*unsafe.Pointer)(dst) = children.at(s.start)
		default:
			*(*unsafe.Pointer)(dst) = nil
		}
	}
	return nil
}

// spanRows records in spans where the rows of each key lie in buf; it
// reports false if the rows of one key are not contiguous.
func spanRows(t *model, col *field, buf *rowBuf, spans map[relKey]span) bool {
	for i := 0; i < buf.n; {
		k, _ := col.key(buf.at(i))
		j := i + 1
		for j < buf.n {
			if kj, _ := col.key(buf.at(j)); kj != k {
				break
			}
			j++
		}
		if spans[k].end != 0 {
			return false
		}
		spans[k] = span{i, j}
		i = j
	}
	return true
}

// groupRows reorders the rows in buf so that the rows of each key are
// contiguous, keeping their order otherwise (a stable counting sort into a
// new array).
func groupRows(t *model, col *field, buf *rowBuf) {
	group := make(map[relKey]int)
	of := make([]int, buf.n)
	var counts []int
	for i := 0; i < buf.n; i++ {
		k, _ := col.key(buf.at(i))
		g, ok := group[k]
		if !ok {
			g = len(counts)
			group[k] = g
			counts = append(counts, 0)
		}
		of[i] = g
		counts[g]++
	}
	next := make([]int, len(counts))
	for g := 1; g < len(counts); g++ {
		next[g] = next[g-1] + counts[g-1]
	}
	data := t.grow(nil, 0, buf.n)
	for i := 0; i < buf.n; i++ {
		t.copyRow(unsafe.Add(data, uintptr(next[of[i]])*t.size), buf.at(i))
		next[of[i]]++
	}
	buf.data, buf.c = data, buf.n
}
