package forge_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/driver/fakedriver"
)

func TestFakeAggregate(t *testing.T) {
	type Stats struct {
		Small   int32
		Rows    int64
		Noted   int64
		Total   float64
		Mean    float64
		Least   int64
		Most    string
		Biggest int32
	}
	g := Gadgets.Cols()
	describe := func(r *Stats, a *forge.Agg) {
		forge.Group(a, &r.Small, &g.Small)
		forge.CountAll(a, &r.Rows)
		forge.Count(a, &r.Noted, &g.Note)
		forge.Sum(a, &r.Total, &g.Price)
		forge.Avg(a, &r.Mean, &g.Count)
		forge.Min(a, &r.Least, &g.Count)
		forge.Max(a, &r.Most, &g.Name)
		forge.Sum(a, &r.Biggest, &g.Small)
	}
	f, db := openFake(t, dialect.SQLite, fakedriver.All)
	f.On(fakedriver.Prefix("SELECT")).Rows(nil,
		[]any{int64(1), int64(4), int64(2), 9.5, 2.25, int64(1), "z", int64(4)},
		// An empty group: aggregates are NULL and read as zero.
		[]any{int64(2), int64(0), int64(0), nil, nil, nil, nil, nil})
	rows, err := forge.Aggregate(tctx, db, Gadgets, describe, forge.Where(forge.Ne(&g.Name, "")),
		forge.OrderBy(&g.Small, forge.Desc))
	if err != nil {
		t.Fatal(err)
	}
	want := []Stats{{1, 4, 2, 9.5, 2.25, 1, "z", 4}, {Small: 2}}
	if len(rows) != 2 || rows[0] != want[0] || rows[1] != want[1] {
		t.Errorf("rows %+v, want %+v", rows, want)
	}
	if s := f.Statements()[0]; len(s.Args) != 1 || !strings.Contains(s.SQL, "GROUP BY") {
		t.Errorf("sent %s %v", s.SQL, s.Args)
	}
	if _, err := forge.Aggregate(tctx, db, Gadgets, describe, forge.Take(10), forge.Skip(1)); err != nil {
		t.Errorf("a page of groups: %v", err)
	}

	var qe *forge.QueryError
	outside := &Stats{}
	for name, tc := range map[string]struct {
		describe func(r *Stats, a *forge.Agg)
		opts     []forge.Option
	}{
		"nothing":             {func(*Stats, *forge.Agg) {}, nil},
		"destination outside": {func(r *Stats, a *forge.Agg) { forge.CountAll(a, &outside.Rows) }, nil},
		"foreign column":      {func(r *Stats, a *forge.Agg) { forge.Count(a, &r.Rows, &Accounts.Cols().Age) }, nil},
		"json column":         {func(r *Stats, a *forge.Agg) { forge.Count(a, &r.Rows, &g.Meta) }, nil},
		"order by non-group":  {describe, []forge.Option{forge.OrderBy(&g.Name, forge.Asc)}},
		"select":              {describe, []forge.Option{forge.Select(&g.Name)}},
		"include":             {describe, []forge.Option{forge.Include(&g.Parts)}},
		"after":               {describe, []forge.Option{forge.After(&Gadget{})}},
		"bad option":          {describe, []forge.Option{forge.Take(-2)}},
		"bad where":           {describe, []forge.Option{forge.Where(forge.IsNull(&g.Name))}},
	} {
		if _, err := forge.Aggregate(tctx, db, Gadgets, tc.describe, tc.opts...); !errors.As(err, &qe) {
			t.Errorf("%s: want a *QueryError, got %v", name, err)
		}
	}
	if _, err := forge.Aggregate(tctx, nil, Gadgets, describe); !errors.As(err, &qe) {
		t.Errorf("nil querier: %v", err)
	}
	f.Reset()
	f.On(nil).Rows(nil, []any{"x", int64(1), int64(1), 1.0, 1.0, int64(1), "a", int64(1)})
	if _, err := forge.Aggregate(tctx, db, Gadgets, describe); err == nil {
		t.Error("an unreadable group value was accepted")
	}
}

// Constraint errors from the driver get the model and Go field names.
func TestFakeConstraintErrors(t *testing.T) {
	f, db := openFake(t, dialect.Postgres, fakedriver.All)
	cases := []struct {
		name       string
		in         *driver.ConstraintError
		model      string
		constraint string
		fields     string
	}{
		{"unique by columns", &driver.ConstraintError{Kind: driver.Unique, Table: "gadgets", Columns: []string{"name"}},
			"Gadget", "gadgets_name_key", "Name"},
		{"unique index by columns", &driver.ConstraintError{Kind: driver.Unique, Table: "gadgets", Columns: []string{"small", "count"}},
			"Gadget", "gadgets_small_count_key", "Small Count"},
		{"primary key", &driver.ConstraintError{Kind: driver.Unique, Table: "authors", Columns: []string{"id"}},
			"Author", "authors_pkey", "ID"},
		{"by constraint name, other table", &driver.ConstraintError{Kind: driver.ForeignKey, Constraint: "books_author_id_fkey"},
			"Book", "books_author_id_fkey", "AuthorID"},
		{"pkey name", &driver.ConstraintError{Kind: driver.Unique, Constraint: "parts_pkey"},
			"Part", "parts_pkey", "ID"},
		{"by table", &driver.ConstraintError{Kind: driver.NotNull, Table: "parts", Columns: []string{"label"}},
			"Part", "", "Label"},
		{"unknown table", &driver.ConstraintError{Kind: driver.Check, Table: "elsewhere"},
			"", "", ""},
		{"unknown constraint", &driver.ConstraintError{Kind: driver.Check, Table: "x", Constraint: "nope"},
			"", "nope", ""},
		{"already named", &driver.ConstraintError{Kind: driver.Check, Model: "Mine"},
			"Mine", "", ""},
		{"no table", &driver.ConstraintError{Kind: driver.Unique, Columns: []string{"name"}},
			"", "", ""},
	}
	for _, tc := range cases {
		f.Reset()
		f.On(nil).Err(tc.in)
		// Raw SQL: forge knows no model and finds it from what the
		// driver reports.
		_, err := forge.Exec(tctx, db, "INSERT INTO somewhere")
		var ce *forge.ConstraintError
		if !errors.As(err, &ce) {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if ce.Model != tc.model || ce.Constraint != tc.constraint || strings.Join(ce.Fields, " ") != tc.fields {
			t.Errorf("%s: model %q constraint %q fields %v; want %q %q %q", tc.name, ce.Model, ce.Constraint, ce.Fields, tc.model, tc.constraint, tc.fields)
		}
		if msg := err.Error(); tc.model != "" && !strings.Contains(msg, tc.model) {
			t.Errorf("%s: message %q", tc.name, msg)
		}
	}
	// A model's statement: the model, unless the driver names a table.
	f.Reset()
	f.On(nil).Err(&driver.ConstraintError{Kind: driver.Unique, Columns: []string{"name"}})
	_, err := Authors.Create(tctx, db, Author{Name: "x"})
	var ce *forge.ConstraintError
	if !errors.As(err, &ce) || ce.Model != "Author" || ce.Constraint != "authors_name_key" || strings.Join(ce.Fields, " ") != "Name" {
		t.Errorf("a model's statement: %v", err)
	}
	// Through a batch too.
	f.Reset()
	f.On(nil).Err(&driver.ConstraintError{Kind: driver.Unique, Columns: []string{"title"}, Table: "books"})
	_, err = db.Batch(tctx, Books.CreateOp(Book{Title: "x"}))
	if !errors.As(err, &ce) || ce.Model != "Book" || strings.Join(ce.Fields, " ") != "Title" {
		t.Errorf("batch: %v", err)
	}
	var be *forge.BatchError
	if !errors.As(err, &be) || be.Index != 0 {
		t.Errorf("batch error: %v", err)
	}
}

// CreateSchema runs in a transaction, else in a batch, else one statement
// at a time; a failure names the statement.
func TestFakeCreateSchema(t *testing.T) {
	for _, tc := range []struct {
		caps  fakedriver.Caps
		check func(s fakedriver.Stmt) bool
	}{
		// One order everywhere: a batch where the driver has one, else a
		// transaction.
		{fakedriver.All, func(s fakedriver.Stmt) bool { return s.Batch == 1 }},
		{fakedriver.Transactions, func(s fakedriver.Stmt) bool { return s.Tx == 1 }},
		{fakedriver.Batches, func(s fakedriver.Stmt) bool { return s.Batch == 1 }},
		{fakedriver.None, func(s fakedriver.Stmt) bool { return s.Tx == 0 && s.Batch == 0 }},
	} {
		rec := &fakeRecorder{}
		f, db := openFake(t, dialect.SQLite, tc.caps, forge.WithObserver(rec))
		f.On(fakedriver.Prefix("CREATE")).Affected(0)
		if err := db.CreateSchema(tctx); err != nil {
			t.Fatalf("caps %b: %v", tc.caps, err)
		}
		tables := 0
		for _, s := range f.Statements() {
			if s.Kind != fakedriver.Exec {
				continue
			}
			if !tc.check(s) || !strings.Contains(s.SQL, "IF NOT EXISTS") {
				t.Errorf("caps %b: %+v", tc.caps, s)
			}
			if strings.HasPrefix(s.SQL, "CREATE TABLE") {
				tables++
			}
		}
		if tables != len(fakeSchema.Describe().Tables) {
			t.Errorf("caps %b: %d tables created", tc.caps, tables)
		}
		if len(rec.muts) != 0 {
			t.Errorf("caps %b: schema statements reported as mutations", tc.caps)
		}
		f.Reset()
		boom := errors.New("disk full")
		f.On(fakedriver.Prefix("CREATE")).Err(boom)
		err := db.CreateSchema(tctx)
		var be *forge.BatchError
		if errors.As(err, &be) {
			err = errors.Join(errors.New(be.SQL), err)
		}
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "CREATE TABLE") {
			t.Errorf("caps %b: failing CreateSchema: %v", tc.caps, err)
		}
	}
}

// Drift reads the catalog and diffs it with the schema: an empty SQLite
// database lacks every table.
func TestFakeDrift(t *testing.T) {
	f, db := openFake(t, dialect.SQLite, fakedriver.All)
	f.On(fakedriver.Contains(`"sqlite_master"`)).Rows([]string{"name", "sql"})
	plan, err := db.Drift(tctx)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Empty() || !strings.Contains(plan.Describe(), "gadgets") {
		t.Errorf("plan:\n%s", plan.Describe())
	}
	for _, s := range f.Statements() {
		if s.Kind != fakedriver.Query {
			t.Errorf("Drift wrote: %+v", s)
		}
	}
	f.Reset()
	boom := errors.New("no catalog")
	f.On(nil).Err(boom)
	if _, err := db.Drift(tctx); !errors.Is(err, boom) {
		t.Errorf("failing Drift: %v", err)
	}
}

func TestFakeDeclarations(t *testing.T) {
	type Doc struct {
		Key    string
		Title  string
		Parent *string
		Kids   []Doc
		Up     *Doc
		N      int64
	}
	n := 0
	docs := forge.Model("docs", func(d *Doc, f *forge.Fields) {
		f.TextID(&d.Key).Generate(func() string { n++; return "doc-" + string(rune('0'+n)) })
		f.Text(&d.Title).Column("heading")
		f.NullText(&d.Parent).References(forge.Ref[Doc]()).OnDelete(forge.Cascade).OnUpdate(forge.Restrict)
		f.Int(&d.N)
		f.Index(&d.Title, &d.N).Name("docs_by_title")
		f.HasMany(&d.Kids, func(k *Doc) **string { return &k.Parent })
		f.BelongsTo(&d.Up, &d.Parent)
	})
	if err := docs.Err(); err != nil {
		t.Fatal(err)
	}
	if docs.Name() != "Doc" || docs.Table().Name != "docs" || docs.Table().Columns[1].Name != "heading" {
		t.Errorf("descriptor: %s %+v", docs.Name(), docs.Table())
	}
	s, err := forge.NewSchema(docs, docs) // the same model twice is one model
	if err != nil {
		t.Fatal(err)
	}
	tables := s.Describe().Tables
	if len(tables) != 1 || len(tables[0].ForeignKeys) != 1 || tables[0].ForeignKeys[0].OnDelete != forge.Cascade ||
		tables[0].ForeignKeys[0].OnUpdate != forge.Restrict {
		t.Errorf("tables %+v", tables)
	}
	found := false
	for _, ix := range tables[0].Indexes {
		found = found || ix.Name == "docs_by_title"
	}
	if !found {
		t.Errorf("named index missing: %+v", tables[0].Indexes)
	}
	f := fakedriver.New(dialect.SQLite, fakedriver.All)
	db, _ := forge.Open(s, f.Conn())
	f.On(nil).Rows([]string{"key", "heading", "parent", "n"}, []any{"doc-1", "t", nil, int64(0)})
	d, err := docs.Create(tctx, db, Doc{Title: "t"})
	if err != nil || d.Key != "doc-1" {
		t.Errorf("Create with a custom generator: %+v %v", d, err)
	}

	if forge.ColumnName("HTTPServerURL") != "http_server_url" {
		t.Errorf("ColumnName: %s", forge.ColumnName("HTTPServerURL"))
	}

	// Mistakes are collected, each naming the model and field.
	type Bad struct {
		ID   int64
		Name string
		N    int64
		Rel  []Doc
		One  *Doc
		Many []int
		Ptr  *int
		Dup  *Doc
	}
	bad := forge.Model("bads", func(b *Bad, f *forge.Fields) {
		f.ID(&b.ID).Default(int64(1))
		f.Text(&b.Name).Column("").Generate(func() string { return "" }).OnDelete(forge.Cascade).OnUpdate(forge.Cascade)
		f.Int(&b.N).Column("name")
		f.JSON(nil)
		f.Index()
		f.Index(&b.N, "nope")
		f.HasMany(&b.Many, func(*int) *int64 { return nil })
		f.HasMany(nil, nil)
		f.BelongsTo(&b.Ptr, &b.N)
		f.BelongsTo(&b.One, "not a field")
		f.BelongsTo(&b.Dup, &b.N)
		f.BelongsTo(&b.Dup, &b.N)
		f.HasMany(&b.Rel, func(d *Doc) *int64 { return &d.N }).OnDelete(forge.Cascade)
		f.TextID(&b.Name)
	})
	msg := bad.Err().Error()
	for _, want := range []string{
		"field ID: Default: a primary key takes no default",
		"Column: empty column name",
		"Generate: only a TextID field",
		"OnDelete without References",
		"OnUpdate without References",
		`column "name" is also used by field Name`,
		"JSON field: want a pointer",
		"Index: no fields given",
		"Index: forge: Bad: want a pointer to a field",
		"HasMany: the field must be a slice of structs",
		"HasMany: want a pointer",
		"BelongsTo: the field must be a pointer to a struct",
		"BelongsTo: the foreign-key field",
		"relation declared twice",
		"OnDelete belongs on the BelongsTo side",
		"a second primary key",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}

	type NotStruct int
	ns := forge.Model("ns", func(*NotStruct, *forge.Fields) {})
	if err := ns.Err(); err == nil {
		t.Error("a non-struct model")
	}
	// NewSchema refuses it (it used to dereference its missing table).
	if _, err := forge.NewSchema(ns); err == nil || !strings.Contains(err.Error(), "is not a struct") {
		t.Errorf("NewSchema of a non-struct model: %v", err)
	}
	type Empty struct{ ID int64 }
	if err := forge.Model("", (func(*Empty, *forge.Fields))(nil)).Err(); err == nil ||
		!strings.Contains(err.Error(), "table name is empty") || !strings.Contains(err.Error(), "declaration function is nil") {
		t.Errorf("empty table and nil declaration: %v", err)
	}

	// NewSchema: a nil model, two models for one Go type, references and
	// relations that do not resolve.
	type Ref struct {
		ID       int64
		AuthorID int64
		DocID    int64
		Doc      *Doc
		Kids     []Doc
		Tiny     int32
	}
	refs := forge.Model("refs", func(r *Ref, f *forge.Fields) {
		f.ID(&r.ID)
		f.Int(&r.AuthorID).References(forge.Ref[Author]()).OnDelete(forge.SetNull)
		f.Int(&r.DocID).References(forge.Ref[Doc]()).OnDelete(forge.SetNull)
		f.HasMany(&r.Kids, func(d *Doc) **string { return &d.Parent })
		f.Int32(&r.Tiny).References(forge.Ref[Author]())
	})
	docs2 := forge.Model("docs2", func(d *Doc, f *forge.Fields) { f.TextID(&d.Key) })
	_, err = forge.NewSchema(nil, refs, docs, docs2, Authors, Books)
	for _, want := range []string{
		"a nil model",
		"both declared for Go type",
		"field DocID: is int64 but references Doc.Key, which is text id",
		"OnDelete(SetNull) needs a nullable field",
		"HasMany: Doc.Parent is text but Ref's primary key is id",
		"field Tiny: is int32 but references Author.ID",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewSchema error lacks %q: %v", want, err)
		}
	}
	type Nil struct {
		ID   int64
		Kids []Doc
	}
	nilFK := forge.Model("nilfk", func(n *Nil, f *forge.Fields) {
		f.ID(&n.ID)
		f.HasMany(&n.Kids, func(d *Doc) *int64 { return nil })
	})
	if _, err := forge.NewSchema(nilFK, docs); err == nil || !strings.Contains(err.Error(), "returned nil") {
		t.Errorf("nil fk func: %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("MustSchema did not panic")
			}
		}()
		forge.MustSchema(nil)
	}()
}
