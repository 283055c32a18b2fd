package forge

import (
	"reflect"
	"unsafe"

	"github.com/forge-orm/forge/schema"
)

// relation is a declared belongs-to or has-many relation.
type relation struct {
	owner  *model
	name   string
	offset uintptr
	typ    reflect.Type // []Child or *Parent
	many   bool
	elem   reflect.Type // Child or Parent
	target *model       // resolved by NewSchema

	// HasMany: fkFunc(*Child) returns the child's foreign-key field.
	fkFunc reflect.Value
	// BelongsTo: fkPtr names the owner's foreign-key field.
	fkPtr any
	// fk is the foreign-key field: on the target for HasMany, on the owner
	// for BelongsTo.
	fk       *field
	fkDecl   *fkDecl
	onDelete *schema.Action
}

// RelationBuilder sets a relation's options.
type RelationBuilder struct{ r *relation }

// HasMany declares a one-to-many relation. rel points to a []Child field of
// the template; fk is a func(*Child) *K that returns the child's
// foreign-key field, where K matches this model's primary key (int64 or
// string, or a pointer to one for an optional relation):
//
//	f.HasMany(&u.Posts, func(p *Post) *int64 { return &p.AuthorID })
//
// Load it with Include(&c.Posts): one extra query for all parents.
func (f *Fields) HasMany(rel any, fk any) *RelationBuilder {
	r := f.relation(rel, true)
	if r == nil {
		return &RelationBuilder{r: &relation{}}
	}
	fv := reflect.ValueOf(fk)
	if !fv.IsValid() || fv.Kind() != reflect.Func || fv.IsNil() || fv.Type().NumIn() != 1 || fv.Type().NumOut() != 1 ||
		fv.Type().In(0) != reflect.PointerTo(r.elem) || fv.Type().Out(0).Kind() != reflect.Pointer {
		f.m.errorf(r.name, "HasMany: fk must be a func(*%s) *K returning the child's foreign-key field, got %T", r.elem, fk)
		return &RelationBuilder{r: r}
	}
	r.fkFunc = fv
	return &RelationBuilder{r: r}
}

// BelongsTo declares a many-to-one relation. rel points to a *Parent field
// of the template and fk to this model's foreign-key field (declared with
// f.Int, f.NullInt, f.Text...). It also declares the foreign key to
// Parent's primary key, unless fk already has References.
//
//	f.Int(&p.AuthorID)
//	f.BelongsTo(&p.Author, &p.AuthorID).OnDelete(forge.Cascade)
func (f *Fields) BelongsTo(rel any, fk any) *RelationBuilder {
	r := f.relation(rel, false)
	if r == nil {
		return &RelationBuilder{r: &relation{}}
	}
	r.fkPtr = fk
	return &RelationBuilder{r: r}
}

func (f *Fields) relation(rel any, many bool) *relation {
	m := f.m
	rv := reflect.ValueOf(rel)
	kind := "BelongsTo"
	if many {
		kind = "HasMany"
	}
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() {
		m.errorf("", "%s: want a pointer to a field of the template, got %T", kind, rel)
		return nil
	}
	t := rv.Type().Elem()
	name, off, ok := f.locate(rv.UnsafePointer(), t, kind)
	if !ok {
		return nil
	}
	var elem reflect.Type
	if many {
		if t.Kind() != reflect.Slice || t.Elem().Kind() != reflect.Struct {
			m.errorf(name, "HasMany: the field must be a slice of structs, it is %s", t)
			return nil
		}
		elem = t.Elem()
	} else {
		if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
			m.errorf(name, "BelongsTo: the field must be a pointer to a struct, it is %s", t)
			return nil
		}
		elem = t.Elem()
	}
	for _, other := range m.rels {
		if other.offset == off {
			m.errorf(name, "relation declared twice")
			return nil
		}
	}
	r := &relation{owner: m, name: name, offset: off, typ: t, many: many, elem: elem}
	m.rels = append(m.rels, r)
	return r
}

// OnDelete sets the ON DELETE action of a BelongsTo relation's foreign key.
func (b *RelationBuilder) OnDelete(a schema.Action) *RelationBuilder {
	if b.r.owner == nil {
		return b
	}
	if b.r.many {
		b.r.owner.errorf(b.r.name, "OnDelete belongs on the BelongsTo side of a relation")
		return b
	}
	b.r.onDelete = &a
	return b
}

// resolveLocal resolves what the owner model alone can: the BelongsTo
// foreign-key field and its foreign key declaration.
func (r *relation) resolveLocal() {
	if r.many || r.fkPtr == nil {
		return
	}
	m := r.owner
	fk, err := m.fieldFor(r.fkPtr)
	if err != nil {
		m.errorf(r.name, "BelongsTo: the foreign-key field: %v", err)
		return
	}
	r.fk = fk
	if fk.ref == nil {
		fk.ref = &fkDecl{field: fk, target: r.elem}
		m.fks = append(m.fks, fk.ref)
	} else if fk.ref.target != r.elem {
		m.errorf(r.name, "BelongsTo: field %s references %s, not %s", fk.name, fk.ref.target, r.elem)
	}
	if r.onDelete != nil {
		fk.ref.onDelete = *r.onDelete
	}
	r.fkDecl = fk.ref
}

// ptr returns the address of the relation field in the struct at base.
func (r *relation) ptr(base unsafe.Pointer) unsafe.Pointer { return unsafe.Add(base, r.offset) }

// keys returns the field that holds the key on the owner's rows and the
// field matched with it on the target's rows.
func (r *relation) keys() (owner, target *field) {
	if r.many {
		return r.owner.pk, r.fk
	}
	return r.fk, r.target.pk
}
