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

// prepareIncludes checks includes and adds the keys they need to a Select.
func (m *model) prepareIncludes(sq *selectQuery) error {
	for _, inc := range sq.incs {
		r, err := m.relationFor(inc.rel)
		if err != nil {
			return err
		}
		if r.target == nil || r.fk == nil {
			return qerr(m, "Include: relation %s is not resolved; is its model in the schema?", r.name)
		}
		if sq.fields != nil {
			if r.many {
				sq.fields = appendField(sq.fields, m.pk)
			} else {
				sq.fields = appendField(sq.fields, r.fk)
			}
		}
	}
	return nil
}

// loadIncludes loads each include for the n structs of model m stored
// contiguously at data: one query per relation (per chunk of keys).
func (s *session) loadIncludes(ctx context.Context, m *model, data unsafe.Pointer, n int, incs []*include) error {
	for _, inc := range incs {
		r, err := m.relationFor(inc.rel)
		if err != nil {
			return err
		}
		if err := s.loadRelation(ctx, m, r, data, n, inc.opts); err != nil {
			return err
		}
	}
	return nil
}

func (s *session) loadRelation(ctx context.Context, m *model, r *relation, data unsafe.Pointer, n int, opts []Option) error {
	t := r.target
	var sq selectQuery
	if err := parse(t, &sq, opts, "Include"); err != nil {
		return err
	}
	if sq.take >= 0 || sq.skip > 0 || sq.after != nil {
		return qerr(m, "Include(%s): Take, Skip and After apply to the top-level query only", r.name)
	}
	if err := t.prepareIncludes(&sq); err != nil {
		return err
	}
	// The key on each parent, and the column matched on the target.
	parentKey, targetCol := m.pk, t.pk
	if r.many {
		targetCol = r.fk
	} else {
		parentKey = r.fk
	}
	if sq.fields != nil {
		sq.fields = appendField(sq.fields, targetCol)
	}
	keys := make([]any, 0, n)
	seen := make(map[any]struct{}, n)
	for i := 0; i < n; i++ {
		k := parentKey.key(unsafe.Add(data, uintptr(i)*m.size))
		if k == nil {
			continue
		}
		if _, dup := seen[k]; !dup {
			seen[k] = struct{}{}
			keys = append(keys, k)
		}
	}
	// Children of all parents, in one slice of the target's type.
	children := reflect.MakeSlice(reflect.SliceOf(t.typ), 0, len(keys))
	fields := sq.selected(t)
	plan := newScanPlan(fields)
	zero := reflect.Zero(t.typ)
	// Each query binds the keys and the include's own filter values.
	probe := newBuilder(s.db.d, 64)
	if err := sq.writeWhere(&probe, t); err != nil {
		return err
	}
	chunk := max(s.db.d.MaxParams()-len(probe.args), 1)
	for start := 0; start < len(keys); start += chunk {
		part := keys[start:min(start+chunk, len(keys))]
		in := Cond{op: opIn, col: targetCol.ptr(t.tmpl), typ: targetCol.typ, val: part}
		if targetCol.nullable {
			in.val = pointerKeys(targetCol, part)
		}
		q := sq
		q.where = And(in, sq.where)
		q.extra = sq.extra
		b, err := buildSelect(s.db.d, t, &q, fields)
		if err != nil {
			return err
		}
		err = s.query(ctx, stmt{op: OpInclude, m: t, sql: b.sql(), args: b.args}, func(rows driver.Rows) (int64, error) {
			var got int64
			for rows.Next() {
				children = reflect.Append(children, zero)
				el := children.Index(children.Len() - 1).Addr().UnsafePointer()
				if err := plan.scan(rows, el); err != nil {
					return got, err
				}
				got++
			}
			return got, rows.Err()
		})
		if err != nil {
			return err
		}
	}
	cn := children.Len()
	var cdata unsafe.Pointer
	if cn > 0 {
		cdata = children.Index(0).Addr().UnsafePointer()
		if len(sq.incs) > 0 {
			if err := s.loadIncludes(ctx, t, cdata, cn, sq.incs); err != nil {
				return err
			}
		}
	}
	if r.many {
		groups := make(map[any][]int, len(keys))
		for i := 0; i < cn; i++ {
			k := targetCol.key(unsafe.Add(cdata, uintptr(i)*t.size))
			groups[k] = append(groups[k], i)
		}
		for i := 0; i < n; i++ {
			base := unsafe.Add(data, uintptr(i)*m.size)
			idx := groups[parentKey.key(base)]
			sl := reflect.MakeSlice(r.typ, len(idx), len(idx))
			for j, ci := range idx {
				sl.Index(j).Set(children.Index(ci))
			}
			reflect.NewAt(r.typ, r.ptr(base)).Elem().Set(sl)
		}
		return nil
	}
	byKey := make(map[any]unsafe.Pointer, cn)
	for i := 0; i < cn; i++ {
		el := unsafe.Add(cdata, uintptr(i)*t.size)
		byKey[targetCol.key(el)] = el
	}
	for i := 0; i < n; i++ {
		base := unsafe.Add(data, uintptr(i)*m.size)
		dst := reflect.NewAt(r.typ, r.ptr(base)).Elem()
		if p, ok := byKey[parentKey.key(base)]; ok {
			dst.Set(reflect.NewAt(t.typ, p))
		} else {
			dst.SetZero()
		}
	}
	return nil
}

// pointerKeys turns keys into the pointer values a nullable column's
// conditions take.
func pointerKeys(f *field, keys []any) []any {
	out := make([]any, len(keys))
	for i, k := range keys {
		switch x := k.(type) {
		case int64:
			if f.typ == reflect.TypeFor[*int32]() {
				v := int32(x)
				out[i] = &v
			} else {
				out[i] = &x
			}
		case string:
			out[i] = &x
		}
	}
	return out
}
