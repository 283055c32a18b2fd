package forge

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/schema"
)

// Schema is a validated set of models. Build it once, at start-up, and
// share it: [Open] only binds it to a driver.
type Schema struct {
	models []*model
	byType map[reflect.Type]*model
	desc   *schema.Schema
}

// NewSchema validates the models together (references, relations, names)
// and returns every problem found in any of them, each naming its model and
// field.
func NewSchema(models ...AnyModel) (*Schema, error) {
	s := &Schema{byType: map[reflect.Type]*model{}}
	var errs []error
	tables := map[string]*model{}
	for _, am := range models {
		if am == nil {
			errs = append(errs, errors.New("forge: NewSchema: a nil model"))
			continue
		}
		m := am.model()
		if m.err != nil {
			errs = append(errs, m.errs...)
		}
		if prev, ok := s.byType[m.typ]; ok {
			if prev == m {
				continue
			}
			errs = append(errs, fmt.Errorf("forge: models %s and %s are both declared for Go type %s", prev.table, m.table, m.typ))
			continue
		}
		if prev, ok := tables[m.table]; ok {
			errs = append(errs, fmt.Errorf("forge: models %s and %s both use table %q", prev.name, m.name, m.table))
			continue
		}
		tables[m.table] = m
		s.byType[m.typ] = m
		s.models = append(s.models, m)
	}
	for _, m := range s.models {
		errs = append(errs, s.resolve(m)...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, m := range s.models {
		m.schema = s
	}
	s.desc = &schema.Schema{}
	for _, m := range sortByDependency(s.models) {
		s.desc.Tables = append(s.desc.Tables, m.desc)
	}
	return s, nil
}

// MustSchema is NewSchema that panics on error, for package-level vars
// whose models are fixed at compile time.
func MustSchema(models ...AnyModel) *Schema {
	s, err := NewSchema(models...)
	if err != nil {
		panic(err)
	}
	return s
}

// Describe returns the schema's plain descriptor: tables in dependency
// order (a table after those it references).
func (s *Schema) Describe() *schema.Schema { return s.desc }

func (s *Schema) resolve(m *model) []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &SchemaError{Model: m.name, Table: m.table, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	m.desc.ForeignKeys = m.desc.ForeignKeys[:0]
	for _, fk := range m.fks {
		t, ok := s.byType[fk.target]
		if !ok {
			bad(fk.field.name, "references %s, which is not a model of this schema", fk.target)
			continue
		}
		if t.pk == nil {
			continue // reported on t
		}
		if !keyCompatible(fk.field.kind, t.pk.kind) {
			bad(fk.field.name, "is %s but references %s.%s, which is %s", fk.field.kind, t.name, t.pk.name, t.pk.kind)
			continue
		}
		if fk.onDelete == schema.SetNull && !fk.field.nullable {
			bad(fk.field.name, "OnDelete(SetNull) needs a nullable field")
		}
		fk.resolved = t
		name := fk.name
		if name == "" {
			name = dialect.ObjectName(m.table, []string{fk.field.col}, "fkey")
		}
		m.desc.ForeignKeys = append(m.desc.ForeignKeys, &schema.ForeignKey{
			Name: name, Columns: []string{fk.field.col}, RefTable: t.table,
			RefColumns: []string{t.pk.col}, OnDelete: fk.onDelete, OnUpdate: fk.onUpdate,
		})
	}
	for _, r := range m.rels {
		t, ok := s.byType[r.elem]
		if !ok {
			bad(r.name, "relation to %s, which is not a model of this schema", r.elem)
			continue
		}
		r.target = t
		if !r.many {
			continue
		}
		if !r.fkFunc.IsValid() {
			continue // reported at declaration
		}
		out := r.fkFunc.Call([]reflect.Value{reflect.NewAt(t.typ, t.tmpl)})[0]
		if out.IsNil() {
			bad(r.name, "HasMany: the fk func returned nil")
			continue
		}
		fk, err := t.fieldAt(out.UnsafePointer(), out.Type().Elem())
		if err != nil {
			bad(r.name, "HasMany: the fk func: %v", err)
			continue
		}
		if m.pk != nil && !keyCompatible(fk.kind, m.pk.kind) {
			bad(r.name, "HasMany: %s.%s is %s but %s's primary key is %s", t.name, fk.name, fk.kind, m.name, m.pk.kind)
			continue
		}
		r.fk = fk
	}
	return errs
}

// keyCompatible reports whether a column of kind fk can hold a key of kind pk.
func keyCompatible(fk, pk schema.Kind) bool {
	switch pk {
	case schema.ID, schema.Int64:
		return fk == schema.Int64 || fk == schema.ID
	case schema.TextID, schema.Text:
		return fk == schema.Text || fk == schema.TextID
	case schema.Int32:
		return fk == schema.Int32
	}
	return false
}

// sortByDependency orders models so that referenced tables come first,
// keeping declaration order otherwise. Cycles keep declaration order.
func sortByDependency(ms []*model) []*model {
	out := make([]*model, 0, len(ms))
	state := map[*model]int{} // 1 visiting, 2 done
	var visit func(m *model)
	visit = func(m *model) {
		if state[m] != 0 {
			return
		}
		state[m] = 1
		for _, fk := range m.fks {
			if fk.resolved != nil && fk.resolved != m {
				visit(fk.resolved)
			}
		}
		state[m] = 2
		out = append(out, m)
	}
	for _, m := range ms {
		visit(m)
	}
	return out
}
