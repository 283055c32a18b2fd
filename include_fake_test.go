package forge_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver/fakedriver"
)

// Include loads a relation with one query per chunk of keys, whatever the
// number of parents, keeping the include's own filter in every chunk.
func TestFakeIncludeChunks(t *testing.T) {
	// A limit of 3 parameters; the include's filter binds one, so each
	// chunk holds 2 keys.
	f, db := openFake(t, smallParams{dialect.Postgres, 3}, fakedriver.All)
	var authors [][]any
	for i := 1; i <= 5; i++ {
		authors = append(authors, []any{int64(i), "a"})
	}
	authors = append(authors, []any{int64(1), "dup"}) // a duplicate key is sent once
	f.On(fakedriver.Contains(`FROM "authors"`)).Rows([]string{"id", "name"}, authors...)
	f.On(fakedriver.Contains(`FROM "books"`)).Func(func(s fakedriver.Stmt) fakedriver.Answer {
		// One book per key asked for, as the database would answer.
		a := fakedriver.Answer{Columns: []string{"id", "author_id", "title", "pages"}}
		for _, k := range s.Args[1:] { // the filter's value, then the keys
			a.Rows = append(a.Rows, []any{k.(int64) * 10, k, "t", int64(200)})
		}
		return a
	})
	bc := Books.Cols()
	got, err := Authors.FindMany(tctx, db, forge.Include(&Authors.Cols().Books, forge.Where(forge.Gt(&bc.Pages, 100))))
	if err != nil {
		t.Fatal(err)
	}
	var chunks []int
	for _, s := range f.Statements()[1:] {
		chunks = append(chunks, len(s.Args)-1)
		if s.Args[0] != int64(100) {
			t.Errorf("the include's filter is missing: %v", s.Args)
		}
	}
	if len(chunks) != 3 || chunks[0] != 2 || chunks[1] != 2 || chunks[2] != 1 {
		t.Errorf("key chunks %v, want [2 2 1]", chunks)
	}
	if len(got) != 6 {
		t.Fatalf("%d authors", len(got))
	}
	for _, a := range got {
		if len(a.Books) != 1 || a.Books[0].AuthorID != a.ID || a.Books[0].ID != a.ID*10 {
			t.Errorf("author %d: books %+v", a.ID, a.Books)
		}
	}
}

// BelongsTo, a nullable key (NULL parents get nil, the keys bind as
// values) and a nested include.
func TestFakeIncludeBelongsToNullableNested(t *testing.T) {
	f, db := openFake(t, dialect.SQLite, fakedriver.All)
	f.On(fakedriver.Contains(`FROM "parts"`)).Rows([]string{"id", "gadget_id", "label"},
		[]any{int64(1), "g1", "a"}, []any{int64(2), nil, "b"}, []any{int64(3), "g1", "c"}, []any{int64(4), "g9", "d"})
	f.On(fakedriver.Contains(`FROM "gadgets"`)).Once().Rows(gadgetCols, gadgetRow("g1", "one"))
	// Nested: the gadget's parts, by a nullable key.
	f.On(fakedriver.Contains(`FROM "parts"`)).Rows([]string{"id", "gadget_id", "label"},
		[]any{int64(1), "g1", "a"}, []any{int64(3), "g1", "c"})
	pc, gc := Parts.Cols(), Gadgets.Cols()
	parts, err := Parts.FindMany(tctx, db, forge.Include(&pc.Gadget, forge.Include(&gc.Parts)))
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 4 || parts[0].Gadget == nil || parts[0].Gadget.Name != "one" || parts[1].Gadget != nil ||
		parts[2].Gadget != parts[0].Gadget || parts[3].Gadget != nil {
		t.Fatalf("parts %+v", parts)
	}
	if n := len(parts[0].Gadget.Parts); n != 2 {
		t.Errorf("nested include: %d parts", n)
	}
	log := f.Statements()
	if len(log) != 3 {
		t.Fatalf("%d statements", len(log))
	}
	if a := log[1].Args; len(a) != 2 || a[0] != "g1" || a[1] != "g9" {
		t.Errorf("BelongsTo keys %v", a)
	}
	if a := log[2].Args; len(a) != 1 || a[0] != "g1" {
		t.Errorf("nested HasMany keys through a nullable key: %v", a)
	}
}

// Select with Include reads the keys the relation needs; FindMany of no
// rows sends no include query.
func TestFakeIncludeSelect(t *testing.T) {
	f, db := openFake(t, dialect.SQLite, fakedriver.All)
	ac, bc := Authors.Cols(), Books.Cols()
	f.On(fakedriver.Contains(`FROM "authors"`)).Once().Rows([]string{"name", "id"}, []any{"n", int64(1)})
	f.On(fakedriver.Contains(`FROM "books"`)).Rows([]string{"title", "id", "author_id"}, []any{"t", int64(3), int64(1)})
	got, err := Authors.FindMany(tctx, db, forge.Select(&ac.Name), forge.Include(&ac.Books, forge.Select(&bc.Title)))
	if err != nil || len(got) != 1 || len(got[0].Books) != 1 || got[0].Books[0].Title != "t" {
		t.Fatalf("%+v %v", got, err)
	}
	if k := f.Statements(); len(k) != 2 || len(k[1].Args) != 1 {
		t.Errorf("statements %+v", k)
	}
	f.Reset()
	f.On(nil).Rows([]string{"id", "name"})
	if _, err := Authors.FindMany(tctx, db, forge.Include(&ac.Books)); err != nil || len(f.Statements()) != 1 {
		t.Errorf("no parents: %v, %d statements", err, len(f.Statements()))
	}
}

func TestFakeIncludeErrors(t *testing.T) {
	f, db := openFake(t, dialect.SQLite, fakedriver.All)
	f.On(fakedriver.Contains(`FROM "authors"`)).Rows([]string{"id", "name"}, []any{int64(1), "n"})
	ac, bc := Authors.Cols(), Books.Cols()
	var qe *forge.QueryError
	for name, inc := range map[string]forge.Option{
		"not a pointer":        forge.Include("Books"),
		"other model's field":  forge.Include(&Accounts.Cols().Orders),
		"take in include":      forge.Include(&ac.Books, forge.Take(1)),
		"after in include":     forge.Include(&ac.Books, forge.After(&Book{})),
		"bad include option":   forge.Include(&ac.Books, forge.Where(forge.Eq(&ac.Name, "x"))),
		"bad nested include":   forge.Include(&ac.Books, forge.Include(&ac.Books)),
		"bad include select":   forge.Include(&ac.Books, forge.Select(&ac.Name)),
		"bad include ordering": forge.Include(&ac.Books, forge.OrderBy(&ac.Name, forge.Asc)),
	} {
		if _, err := Authors.FindMany(tctx, db, inc); !errors.As(err, &qe) {
			t.Errorf("%s: want a *QueryError, got %v", name, err)
		}
	}
	// The related query failing fails the FindMany.
	boom := errors.New("boom")
	f.On(fakedriver.Contains(`FROM "books"`)).Once().Err(boom)
	if _, err := Authors.FindMany(tctx, db, forge.Include(&ac.Books)); !errors.Is(err, boom) {
		t.Errorf("include query error: %v", err)
	}
	f.On(fakedriver.Contains(`FROM "books"`)).Once().Rows([]string{"id", "author_id", "title", "pages"}, []any{"x", int64(1), "t", int64(1)})
	if _, err := Authors.FindMany(tctx, db, forge.Include(&ac.Books)); err == nil {
		t.Error("an unreadable related row was accepted")
	}
	f.On(fakedriver.Contains(`FROM "books"`)).Rows([]string{"id", "author_id", "title", "pages"}, []any{int64(2), int64(1), "t", int64(1)})
	f.On(fakedriver.Contains(`FROM "authors"`)).Rows([]string{"id", "name"}, []any{int64(1), "n"})
	_, err := Authors.FindMany(tctx, db, forge.Include(&ac.Books, forge.Include(&bc.ID)))
	if !errors.As(err, &qe) || !strings.Contains(err.Error(), "not a relation") {
		t.Errorf("nested include of a non-relation: %v", err)
	}
	// A relation whose target is not in the DB's schema.
	type Shelf struct {
		ID    int64
		Books []Book
	}
	shelves := forge.Model("shelves", func(s *Shelf, f *forge.Fields) {
		f.ID(&s.ID)
		f.HasMany(&s.Books, func(b *Book) *int64 { return &b.AuthorID })
	})
	if _, err := shelves.FindMany(tctx, db, forge.Include(&shelves.Cols().Books)); !errors.As(err, &qe) {
		t.Errorf("model outside the schema: %v", err)
	}
}
