package forge

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/schema"
)

// Model describes how a Go struct T maps to a table. Declare models once, as
// package-level variables:
//
//	var Users = forge.Model("users", func(u *User, f *forge.Fields) {
//		f.ID(&u.ID)
//		f.Text(&u.Email).Unique()
//	})
//
// The declaration function runs once, immediately, against a template value
// of T; the pointers it passes name the fields. Problems are collected, not
// panicked: [ModelOf.Err] returns them, [NewSchema] reports every problem of
// every model, and a model with problems refuses every query.
func Model[T any](table string, declare func(t *T, f *Fields)) *ModelOf[T] {
	tmpl := new(T)
	m := &model{
		table: table,
		typ:   reflect.TypeFor[T](),
		tmpl:  unsafe.Pointer(tmpl),
		grow:  growRows[T],
		copyRow: func(dst, src unsafe.Pointer) {
			*(*T)(dst) = *(*T)(src)
		},
	}
	m.name = m.typ.Name()
	if m.name == "" {
		m.name = table
	}
	if m.typ.Kind() != reflect.Struct {
		m.errorf("", "the model type %s is not a struct", m.typ)
		m.finish() // sets Err and an empty descriptor, so NewSchema reports it
		return &ModelOf[T]{m: m, cols: tmpl}
	}
	m.size = m.typ.Size()
	if table == "" {
		m.errorf("", "the table name is empty")
	}
	f := &Fields{m: m}
	if declare == nil {
		m.errorf("", "the declaration function is nil")
	} else {
		declare(tmpl, f)
	}
	m.finish()
	return &ModelOf[T]{m: m, cols: tmpl}
}

// ModelOf is a declared model of the Go struct T. Its methods run queries;
// see [Model].
type ModelOf[T any] struct {
	m    *model
	cols *T
}

// Cols returns the model's template value. Pointers to its fields name
// columns in filters, orderings and selections: with c := Users.Cols(),
// &c.Email is the email column, typed as *string. Never write to it.
func (m *ModelOf[T]) Cols() *T { return m.cols }

// Err returns every problem found when the model was declared, or nil.
func (m *ModelOf[T]) Err() error { return m.m.err }

// Name is the model's name (the Go type's name).
func (m *ModelOf[T]) Name() string { return m.m.name }

// Table returns the model's table descriptor.
func (m *ModelOf[T]) Table() *schema.Table { return m.m.desc }

func (m *ModelOf[T]) model() *model { return m.m }

// AnyModel is any *ModelOf[T].
type AnyModel interface {
	model() *model
}

// model is the untyped core of a ModelOf.
type model struct {
	name   string
	table  string
	typ    reflect.Type
	tmpl   unsafe.Pointer
	size   uintptr
	fields []*field
	pk     *field
	pkOnly []*field // just pk, for RETURNING lists
	rels   []*relation
	idx    []*schema.Index
	fks    []*fkDecl
	errs   []error
	err    error
	desc   *schema.Table
	schema *Schema

	// grow and copyRow are the typed code the untyped core needs (set by
	// Model[T]): grow allocates room for c rows of the model's type and
	// copies the first n rows at data there (see rowBuf).
	grow func(data unsafe.Pointer, n, c int) unsafe.Pointer
	// copyRow copies the row at src to dst.
	copyRow func(dst, src unsafe.Pointer)

	pendingIdx []*IndexBuilder
	quoted     atomic.Pointer[quotedNames]
}

// growRows is model.grow for rows of type T.
func growRows[T any](data unsafe.Pointer, n, c int) unsafe.Pointer {
	s := make([]T, c)
	if n > 0 {
		copy(s, unsafe.Slice((*T)(data), n))
	}
	return unsafe.Pointer(unsafe.SliceData(s))
}

func (m *model) errorf(field, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	m.errs = append(m.errs, &SchemaError{Model: m.name, Table: m.table, Field: field, Msg: msg})
}

// field is one mapped struct field.
type field struct {
	m        *model
	idx      int    // position in m.fields
	name     string // Go field name (dotted for nested fields)
	col      string
	kind     schema.Kind
	nullable bool
	offset   uintptr
	typ      reflect.Type // the Go field's type
	unique   bool
	index    bool
	pk       bool
	auto     bool
	def      *schema.Default
	gen      func() string // TextID generator
	ref      *fkDecl
	codec    *codec     // what forge does with the field's values (see codecs)
	json     *jsonCodec // of a JSON field: encoding/json, linked only when a model declares one
}

func (f *field) ptr(base unsafe.Pointer) unsafe.Pointer { return unsafe.Add(base, f.offset) }

// fkDecl is a foreign key declared on a field, resolved by NewSchema.
type fkDecl struct {
	field    *field
	target   reflect.Type
	onDelete schema.Action
	onUpdate schema.Action
	name     string
	resolved *model
}

// Fields declares a model's fields. Each method takes a pointer to a field
// of the template and returns a builder for its modifiers.
type Fields struct {
	m *model
}

// locate finds the struct field at p with Go type t.
func (f *Fields) locate(p unsafe.Pointer, t reflect.Type, what string) (name string, off uintptr, ok bool) {
	m := f.m
	if p == nil {
		m.errorf("", "%s: nil pointer", what)
		return "", 0, false
	}
	base := uintptr(m.tmpl)
	if uintptr(p) < base || uintptr(p) >= base+m.size {
		m.errorf("", "%s: the pointer is not a field of the model's template (use the value passed to the declaration function)", what)
		return "", 0, false
	}
	off = uintptr(p) - base
	name, ok = fieldName(m.typ, off, t, "")
	if !ok {
		m.errorf("", "%s: no field of type %s at that address", what, t)
		return "", 0, false
	}
	return name, off, true
}

// fieldName finds the (possibly nested) field of type t at offset off.
func fieldName(st reflect.Type, off uintptr, t reflect.Type, prefix string) (string, bool) {
	for i := 0; i < st.NumField(); i++ {
		sf := st.Field(i)
		if off < sf.Offset || off >= sf.Offset+sf.Type.Size() && sf.Type.Size() > 0 {
			if !(sf.Type.Size() == 0 && off == sf.Offset) {
				continue
			}
		}
		if off == sf.Offset && sf.Type == t {
			return prefix + sf.Name, true
		}
		if sf.Type.Kind() == reflect.Struct {
			if n, ok := fieldName(sf.Type, off-sf.Offset, t, prefix+sf.Name+"."); ok {
				return n, true
			}
		}
	}
	return "", false
}

func (f *Fields) add(p unsafe.Pointer, t reflect.Type, kind schema.Kind, nullable bool) *FieldBuilder {
	m := f.m
	name, off, ok := f.locate(p, t, kind.String()+" field")
	if !ok {
		return &FieldBuilder{f: &field{m: m, kind: kind}, bad: true}
	}
	for _, other := range m.fields {
		if other.offset == off && other.typ == t {
			m.errorf(name, "declared twice")
			return &FieldBuilder{f: other, bad: true}
		}
	}
	fl := &field{m: m, idx: len(m.fields), name: name, col: snakeCase(name), kind: kind, nullable: nullable, offset: off, typ: t,
		codec: codecFor(kind, nullable)}
	m.fields = append(m.fields, fl)
	return &FieldBuilder{f: fl}
}

// ID declares an int64 primary key that the database generates
// (auto-increment). A zero value on Create means "let the database choose".
func (f *Fields) ID(p *int64) *FieldBuilder {
	b := f.add(unsafe.Pointer(p), reflect.TypeFor[int64](), schema.ID, false)
	b.f.pk, b.f.auto = true, true
	return b
}

// TextID declares a text primary key that forge generates on Create when it
// is empty: a UUIDv7 (48 bits of milliseconds and 74 random bits from
// crypto/rand), unless Generate sets another generator.
func (f *Fields) TextID(p *string) *FieldBuilder {
	b := f.add(unsafe.Pointer(p), reflect.TypeFor[string](), schema.TextID, false)
	b.f.pk = true
	b.f.gen = NewUUIDv7
	return b
}

// Text declares a non-null text column. Text must be valid UTF-8 without
// NUL bytes (a *ValueError otherwise): use Bytes for binary data.
func (f *Fields) Text(p *string) *FieldBuilder {
	return f.add(unsafe.Pointer(p), reflect.TypeFor[string](), schema.Text, false)
}

// NullText declares a nullable text column; nil is NULL.
func (f *Fields) NullText(p **string) *FieldBuilder {
	return f.add(unsafe.Pointer(p), reflect.TypeFor[*string](), schema.Text, true)
}

// Int declares a non-null 64-bit integer column.
func (f *Fields) Int(p *int64) *FieldBuilder {
	return f.add(unsafe.Pointer(p), reflect.TypeFor[int64](), schema.Int64, false)
}

// NullInt declares a nullable 64-bit integer column.
func (f *Fields) NullInt(p **int64) *FieldBuilder {
	return f.add(unsafe.Pointer(p), reflect.TypeFor[*int64](), schema.Int64, true)
}

// Int32 declares a non-null 32-bit integer column.
func (f *Fields) Int32(p *int32) *FieldBuilder {
	return f.add(unsafe.Pointer(p), reflect.TypeFor[int32](), schema.Int32, false)
}

// NullInt32 declares a nullable 32-bit integer column.
func (f *Fields) NullInt32(p **int32) *FieldBuilder {
	return f.add(unsafe.Pointer(p), reflect.TypeFor[*int32](), schema.Int32, true)
}

// Float declares a non-null float64 column. NaN and ±Inf are refused with
// a *ValueError; -0 is stored as 0.
func (f *Fields) Float(p *float64) *FieldBuilder {
	return f.add(unsafe.Pointer(p), reflect.TypeFor[float64](), schema.Float, false)
}

// NullFloat declares a nullable float64 column.
func (f *Fields) NullFloat(p **float64) *FieldBuilder {
	return f.add(unsafe.Pointer(p), reflect.TypeFor[*float64](), schema.Float, true)
}

// Bool declares a non-null boolean column.
func (f *Fields) Bool(p *bool) *FieldBuilder {
	return f.add(unsafe.Pointer(p), reflect.TypeFor[bool](), schema.Bool, false)
}

// NullBool declares a nullable boolean column.
func (f *Fields) NullBool(p **bool) *FieldBuilder {
	return f.add(unsafe.Pointer(p), reflect.TypeFor[*bool](), schema.Bool, true)
}

// Time declares a non-null time column. Times are stored in UTC, truncated
// to whole microseconds, and read back in UTC; a time outside years 1 to
// 9999 (UTC) is refused with a *ValueError.
func (f *Fields) Time(p *time.Time) *FieldBuilder {
	return f.add(unsafe.Pointer(p), reflect.TypeFor[time.Time](), schema.Time, false)
}

// NullTime declares a nullable time column.
func (f *Fields) NullTime(p **time.Time) *FieldBuilder {
	return f.add(unsafe.Pointer(p), reflect.TypeFor[*time.Time](), schema.Time, true)
}

// Bytes declares a non-null binary column. A nil slice is stored as empty.
func (f *Fields) Bytes(p *[]byte) *FieldBuilder {
	return f.add(unsafe.Pointer(p), reflect.TypeFor[[]byte](), schema.Bytes, false)
}

// NullBytes declares a nullable binary column: a nil slice is NULL.
func (f *Fields) NullBytes(p *[]byte) *FieldBuilder {
	return f.add(unsafe.Pointer(p), reflect.TypeFor[[]byte](), schema.Bytes, true)
}

// JSON declares a non-null column holding the field's value as JSON. p must
// point to a field of the template; its type may be anything encoding/json
// handles.
func (f *Fields) JSON(p any) *FieldBuilder { return f.json(p, false) }

// NullJSON declares a nullable JSON column: a nil pointer, map, slice or
// interface is NULL. The field's type must be one of those.
func (f *Fields) NullJSON(p any) *FieldBuilder { return f.json(p, true) }

func (f *Fields) json(p any, nullable bool) *FieldBuilder {
	rv := reflect.ValueOf(p)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() {
		f.m.errorf("", "JSON field: want a pointer to a field of the template, got %T", p)
		return &FieldBuilder{f: &field{m: f.m, kind: schema.JSON, json: &stdJSON}, bad: true}
	}
	t := rv.Type().Elem()
	if nullable && !nilable(t) {
		f.m.errorf("", "NullJSON field of type %s: the type cannot be nil; use a pointer, map, slice or interface", t)
	}
	b := f.add(rv.UnsafePointer(), t, schema.JSON, nullable)
	b.f.json = &stdJSON
	return b
}

func nilable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		return true
	}
	return false
}

// Index declares an index over one or more fields (pointers into the
// template), in order.
func (f *Fields) Index(fields ...any) *IndexBuilder {
	ix := &schema.Index{}
	b := &IndexBuilder{m: f.m, ix: ix}
	if len(fields) == 0 {
		f.m.errorf("", "Index: no fields given")
		return b
	}
	b.fields = fields
	f.m.idx = append(f.m.idx, ix)
	f.m.pendingIdx = append(f.m.pendingIdx, b)
	return b
}

// IndexBuilder sets an index's options.
type IndexBuilder struct {
	m      *model
	ix     *schema.Index
	fields []any
}

// Unique makes the index unique.
func (b *IndexBuilder) Unique() *IndexBuilder { b.ix.Unique = true; return b }

// Name sets the index name (default: table_col1_col2_idx or _key).
func (b *IndexBuilder) Name(name string) *IndexBuilder { b.ix.Name = name; return b }

// FieldBuilder sets a field's modifiers.
type FieldBuilder struct {
	f   *field
	bad bool
}

// Unique adds a unique constraint on the column.
func (b *FieldBuilder) Unique() *FieldBuilder { b.f.unique = true; return b }

// Index adds a (non-unique) index on the column.
func (b *FieldBuilder) Index() *FieldBuilder { b.f.index = true; return b }

// Column sets the column name (default: the field name in snake_case).
func (b *FieldBuilder) Column(name string) *FieldBuilder {
	if name == "" {
		b.f.m.errorf(b.f.name, "Column: empty column name")
		return b
	}
	b.f.col = name
	return b
}

// Default sets the column's default: in the DDL, and on Create when the
// field holds its zero value (nil for nullable fields). v must have the
// field's Go type (or its element type for nullable fields).
func (b *FieldBuilder) Default(v any) *FieldBuilder {
	if b.bad {
		return b
	}
	f := b.f
	val, err := defaultValue(f, v)
	if err != nil {
		f.m.errorf(f.name, "Default: %v", err)
		return b
	}
	f.def = &schema.Default{Value: val}
	return b
}

// DefaultNow makes the column default to the current time, in the DDL and
// on Create when the field is the zero time (or nil).
func (b *FieldBuilder) DefaultNow() *FieldBuilder {
	if b.f.kind != schema.Time {
		b.f.m.errorf(b.f.name, "DefaultNow: the field is %s, not a time", b.f.kind)
		return b
	}
	b.f.def = &schema.Default{Now: true}
	return b
}

// Generate replaces the generator of a TextID field.
func (b *FieldBuilder) Generate(gen func() string) *FieldBuilder {
	if b.f.kind != schema.TextID || gen == nil {
		b.f.m.errorf(b.f.name, "Generate: only a TextID field takes a (non-nil) generator")
		return b
	}
	b.f.gen = gen
	return b
}

// References adds a foreign key from this column to the primary key of the
// model of Go type T, named with [Ref]: f.Int(&p.AuthorID).References(forge.Ref[User]()).
func (b *FieldBuilder) References(target ModelRef) *FieldBuilder {
	if b.bad {
		return b
	}
	if target.t == nil {
		b.f.m.errorf(b.f.name, "References: the zero ModelRef; use forge.Ref[T]()")
		return b
	}
	fk := &fkDecl{field: b.f, target: target.t}
	b.f.ref = fk
	b.f.m.fks = append(b.f.m.fks, fk)
	return b
}

// OnDelete sets the referential action of the field's foreign key.
func (b *FieldBuilder) OnDelete(a schema.Action) *FieldBuilder {
	if b.f.ref == nil {
		b.f.m.errorf(b.f.name, "OnDelete without References")
		return b
	}
	b.f.ref.onDelete = a
	return b
}

// OnUpdate sets the ON UPDATE action of the field's foreign key.
func (b *FieldBuilder) OnUpdate(a schema.Action) *FieldBuilder {
	if b.f.ref == nil {
		b.f.m.errorf(b.f.name, "OnUpdate without References")
		return b
	}
	b.f.ref.onUpdate = a
	return b
}

// Referential actions for OnDelete and OnUpdate.
const (
	NoAction   = schema.NoAction
	Cascade    = schema.Cascade
	SetNull    = schema.SetNull
	Restrict   = schema.Restrict
	SetDefault = schema.SetDefault
)

// ModelRef names a model by its Go type, so that models can refer to each
// other (and to themselves) without an initialization cycle.
type ModelRef struct{ t reflect.Type }

// Ref names the model of Go type T.
func Ref[T any]() ModelRef { return ModelRef{t: reflect.TypeFor[T]()} }

// defaultValue checks a declared default and returns it as stored in the
// schema descriptor (see codec.checkDefault).
func defaultValue(f *field, v any) (any, error) {
	if v == nil {
		return nil, errors.New("nil default; a nullable field is NULL by default")
	}
	if f.pk {
		return nil, errors.New("a primary key takes no default")
	}
	return f.codec.checkDefault(f, v)
}

// finish validates the declaration and builds the table descriptor.
func (m *model) finish() {
	seen := map[string]*field{}
	for _, f := range m.fields {
		if f.name == "" {
			continue
		}
		if prev, ok := seen[f.col]; ok {
			m.errorf(f.name, "column %q is also used by field %s", f.col, prev.name)
		}
		seen[f.col] = f
		if f.pk {
			if m.pk != nil {
				m.errorf(f.name, "a second primary key (the first is %s)", m.pk.name)
				continue
			}
			m.pk = f
		}
	}
	if m.pk != nil {
		m.pkOnly = []*field{m.pk}
	}
	if m.pk == nil && m.typ.Kind() == reflect.Struct {
		m.errorf("", "no primary key: declare one field with f.ID or f.TextID")
	}
	for _, b := range m.pendingIdx {
		for _, p := range b.fields {
			fl, err := m.fieldFor(p)
			if err != nil {
				m.errorf("", "Index: %v", err)
				continue
			}
			b.ix.Columns = append(b.ix.Columns, fl.col)
		}
	}
	m.pendingIdx = nil
	for _, r := range m.rels {
		r.resolveLocal()
	}
	m.buildDesc()
	if len(m.errs) > 0 {
		m.err = errors.Join(m.errs...)
	}
}

// buildDesc builds the schema.Table descriptor from the fields.
func (m *model) buildDesc() {
	t := &schema.Table{Name: m.table}
	for _, f := range m.fields {
		if f.name == "" {
			continue
		}
		c := &schema.Column{
			Name: f.col, Field: f.name, Kind: f.kind, Nullable: f.nullable,
			PrimaryKey: f.pk, AutoIncrement: f.auto, Unique: f.unique, Default: f.def,
			ForeignKey: f.ref != nil,
		}
		t.Columns = append(t.Columns, c)
		if f.pk {
			t.PrimaryKey = []string{f.col}
		}
		if f.unique {
			t.Indexes = append(t.Indexes, &schema.Index{Name: dialect.ObjectName(m.table, []string{f.col}, "key"), Columns: []string{f.col}, Unique: true})
		} else if f.index {
			t.Indexes = append(t.Indexes, &schema.Index{Name: dialect.ObjectName(m.table, []string{f.col}, "idx"), Columns: []string{f.col}})
		}
	}
	for _, ix := range m.idx {
		if len(ix.Columns) == 0 {
			continue
		}
		if ix.Unique {
			for _, col := range ix.Columns {
				if c := t.Column(col); c != nil {
					c.UniqueKey = true
				}
			}
		}
		if ix.Name == "" {
			suffix := "idx"
			if ix.Unique {
				suffix = "key"
			}
			ix.Name = dialect.ObjectName(m.table, ix.Columns, suffix)
		}
		t.Indexes = append(t.Indexes, ix)
	}
	m.desc = t
}

// fieldFor returns the field that p (a pointer into the template) names.
func (m *model) fieldFor(p any) (*field, error) {
	rv := reflect.ValueOf(p)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, &QueryError{Model: m.name, Msg: fmt.Sprintf("want a pointer to a field of %s's Cols(), got %T", m.name, p)}
	}
	return m.fieldAt(rv.UnsafePointer(), rv.Type().Elem())
}

// fieldAt returns the field at address p with Go type t.
func (m *model) fieldAt(p unsafe.Pointer, t reflect.Type) (*field, error) {
	base := uintptr(m.tmpl)
	if uintptr(p) >= base && uintptr(p) < base+m.size {
		off := uintptr(p) - base
		for _, f := range m.fields {
			if f.offset == off && f.typ == t {
				return f, nil
			}
		}
		if name, ok := fieldName(m.typ, off, t, ""); ok {
			return nil, &QueryError{Model: m.name, Msg: "field " + name + " is not a column of the model"}
		}
	}
	return nil, &QueryError{Model: m.name, Msg: "the pointer is not a field of " + m.name + "'s Cols() (a field of another model, or of a copy?)"}
}

// ColumnName is the column name forge gives a Go field name by default
// (Column overrides it): snake_case, so CreatedAt → created_at, UserID →
// user_id, HTTPServer → http_server, and a nested A.B → a_b.
func ColumnName(field string) string { return snakeCase(field) }

// snakeCase turns a Go field name into a column name: CreatedAt →
// created_at, UserID → user_id, HTTPServer → http_server, A.B → a_b.
func snakeCase(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	rs := []rune(s)
	for i, r := range rs {
		if r == '.' {
			b.WriteByte('_')
			continue
		}
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 && rs[i-1] != '.' {
			prevLower := rs[i-1] >= 'a' && rs[i-1] <= 'z' || rs[i-1] >= '0' && rs[i-1] <= '9'
			nextLower := i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z'
			prevUpper := rs[i-1] >= 'A' && rs[i-1] <= 'Z'
			if prevLower || (prevUpper && nextLower) {
				b.WriteByte('_')
			}
		}
		if upper {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// runnerFor returns q's runner after checking q and the model.
func (m *model) runnerFor(q Querier) (*runner, error) {
	r, err := runnerOf(q)
	if err != nil {
		return nil, err
	}
	return r, m.check(r)
}

// check returns the model's declaration error, or an error if the model is
// not part of the runner's schema.
func (m *model) check(r *runner) error {
	if m.err != nil {
		return m.err
	}
	if m.schema != r.db.schema {
		for _, x := range r.db.schema.models {
			if x == m {
				return nil
			}
		}
		return qerr(m, "the model is not part of this DB's schema")
	}
	return nil
}
