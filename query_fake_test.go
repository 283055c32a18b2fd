package forge_test

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/driver/fakedriver"
)

var tctx = context.Background()

// Every kind of value comes back into its Go field: NULLs into nil
// pointers, text times parsed in UTC, JSON decoded.
func TestFakeScanEveryKind(t *testing.T) {
	f, db := openFake(t, dialect.SQLite, fakedriver.All)
	full := []any{"g2", "full", "n", int64(3), int64(4), int64(5), int64(6), 2.5, 3.5,
		int64(0), int64(1), "2024-01-02T03:04:05.000000000Z", "2024-02-03T00:00:00.000000000Z",
		[]byte("ab"), []byte{}, `{"a":1}`, `["x","y"]`}
	f.On(fakedriver.Contains(`FROM "gadgets"`)).Rows(gadgetCols, gadgetRow("g1", "bare"), full)
	gs, err := Gadgets.FindMany(tctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 2 {
		t.Fatalf("%d rows", len(gs))
	}
	g := gs[0]
	if g.ID != "g1" || g.Name != "bare" || g.Note != nil || g.Count != 3 || *g.Maybe != 4 || g.Small != 5 ||
		g.MaybeSmall != nil || g.Price != 2.5 || g.MaybePrice != nil || !g.On || g.MaybeOn != nil ||
		!g.Made.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) || g.Seen != nil ||
		string(g.Blob) != "ab" || g.MaybeBlob != nil || g.Meta["a"] != 1.0 || g.Tags != nil {
		t.Errorf("bare row: %+v", g)
	}
	g = gs[1]
	if *g.Note != "n" || *g.MaybeSmall != 6 || *g.MaybePrice != 3.5 || g.On || !*g.MaybeOn ||
		g.Seen.Month() != 2 || g.MaybeBlob == nil || len(g.MaybeBlob) != 0 || !reflect.DeepEqual(g.Tags, []string{"x", "y"}) {
		t.Errorf("full row: %+v", g)
	}
}

// A value the driver cannot convert is an error, not a silent zero; so is
// JSON that does not decode.
func TestFakeScanErrors(t *testing.T) {
	f, db := openFake(t, dialect.SQLite, fakedriver.All)
	bad := gadgetRow("g1", "x")
	bad[3] = "three"
	f.On(fakedriver.Contains(`FROM "gadgets"`)).Once().Rows(gadgetCols, bad)
	if _, err := Gadgets.FindMany(tctx, db); err == nil || !strings.Contains(err.Error(), "three") {
		t.Errorf("text into an int: %v", err)
	}
	badJSON := gadgetRow("g1", "x")
	badJSON[15] = `{"a":`
	f.On(fakedriver.Contains(`FROM "gadgets"`)).Once().Rows(gadgetCols, badJSON)
	var qe *forge.QueryError
	if _, err := Gadgets.FindMany(tctx, db); !errors.As(err, &qe) || !strings.Contains(err.Error(), "Meta") {
		t.Errorf("bad JSON: %v", err)
	}
	cut := errors.New("connection reset")
	f.On(fakedriver.Contains(`FROM "gadgets"`)).Once().Rows(gadgetCols, gadgetRow("g1", "x")).RowsErr(cut)
	if _, err := Gadgets.FindMany(tctx, db); !errors.Is(err, cut) {
		t.Errorf("cursor error: %v", err)
	}
	f.On(fakedriver.Contains(`FROM "gadgets"`)).Once().Err(cut)
	if _, err := Gadgets.FindMany(tctx, db); !errors.Is(err, cut) {
		t.Errorf("query error: %v", err)
	}
}

func TestFakeFindFirstUniqueCountExists(t *testing.T) {
	f, db := openFake(t, dialect.Postgres, fakedriver.All)
	c := Authors.Cols()
	// Rows for the queries that bind "Le Guin", none for the others.
	f.On(func(s fakedriver.Stmt) bool { return len(s.Args) > 0 && s.Args[0] == "Le Guin" }).
		Rows([]string{"id", "name"}, []any{int64(1), "Le Guin"})
	f.On(fakedriver.Prefix(`SELECT COUNT(*)`)).Rows([]string{"count"}, []any{int64(42)})
	f.On(fakedriver.Prefix(`SELECT 1`)).Once().Rows([]string{"one"}, []any{int64(1)})
	f.On(fakedriver.Prefix(`SELECT 1`)).Rows([]string{"one"})
	f.On(fakedriver.Prefix(`SELECT`)).Rows([]string{"id", "name"})

	a, err := Authors.FindUnique(tctx, db, forge.Eq(&c.Name, "Le Guin"))
	if err != nil || a.ID != 1 {
		t.Fatalf("FindUnique: %+v %v", a, err)
	}
	if _, err := Authors.FindUnique(tctx, db, forge.Eq(&c.ID, 9)); !errors.Is(err, forge.ErrNotFound) || !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("FindUnique of nothing: %v", err)
	}
	a, err = Authors.FindFirst(tctx, db, forge.Where(forge.Eq(&c.Name, "Le Guin")), forge.Take(5))
	if err != nil || a.Name != "Le Guin" {
		t.Errorf("FindFirst: %+v %v", a, err)
	}
	// FindFirst asks for one row even when Take asks for more.
	if last := f.Statements()[len(f.Statements())-1]; !strings.Contains(last.SQL, "LIMIT 1") {
		t.Errorf("FindFirst limit: %s", last.SQL)
	}
	if _, err := Authors.FindFirst(tctx, db, forge.Where(forge.Eq(&c.ID, 9))); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("FindFirst of nothing: %v", err)
	}
	if n, err := Authors.Count(tctx, db, forge.Gt(&c.ID, 0)); err != nil || n != 42 {
		t.Errorf("Count: %d %v", n, err)
	}
	if ok, err := Authors.Exists(tctx, db, forge.Gt(&c.ID, 0)); err != nil || !ok {
		t.Errorf("Exists: %v %v", ok, err)
	}
	if ok, err := Authors.Exists(tctx, db); err != nil || ok {
		t.Errorf("Exists of nothing: %v %v", ok, err)
	}
	// Pinning one row: the primary key, a unique field, every column of a
	// unique index; anything else is refused before any I/O.
	n := len(f.Statements())
	g := Gadgets.Cols()
	if _, err := Gadgets.FindUnique(tctx, db, forge.And(forge.Eq(&g.Small, 1), forge.Eq(&g.Count, 2))); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("FindUnique on a unique index: %v", err)
	}
	var qe *forge.QueryError
	for _, where := range []forge.Cond{
		forge.Eq(&g.Small, 1),
		forge.Gt(&g.ID, "x"),
		forge.Eq(&g.Note, nil),
		forge.In(&g.ID, "a", "b"),
	} {
		if _, err := Gadgets.FindUnique(tctx, db, where); !errors.As(err, &qe) {
			t.Errorf("FindUnique(%v) not pinned: %v", where, err)
		}
	}
	if _, err := Gadgets.FindUnique(tctx, db, forge.In(&g.ID)); !errors.Is(err, forge.ErrEmptyList) {
		t.Errorf("FindUnique(In()) : %v", err)
	}
	if got := len(f.Statements()) - n; got != 1 {
		t.Errorf("%d statements sent, want only the unique-index one", got)
	}
}

// Conditions bind their values (never inlined) and refuse what SQL cannot
// express.
func TestFakeConditions(t *testing.T) {
	g := Gadgets.Cols()
	when := time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("x", 3600))
	cases := []struct {
		name string
		cond forge.Cond
		args []any
		err  bool
	}{
		{"ne", forge.Ne(&g.Count, 1), []any{int64(1)}, false},
		{"lt le ge", forge.And(forge.Lt(&g.Price, 1.0), forge.Le(&g.Small, 2), forge.Ge(&g.Name, "a")), []any{1.0, int32(2), "a"}, false},
		{"not in", forge.NotIn(&g.Name, "a", "b"), []any{"a", "b"}, false},
		{"null", forge.Or(forge.IsNull(&g.Note), forge.IsNotNull(&g.Seen)), nil, false},
		{"eq nil", forge.Eq(&g.Note, nil), nil, false},
		{"ne nil", forge.Ne(&g.Maybe, nil), nil, false},
		{"eq ptr", forge.Eq(&g.Maybe, forge.Ptr(int64(3))), []any{int64(3)}, false},
		{"ptr kinds", forge.And(forge.Eq(&g.MaybeSmall, forge.Ptr(int32(1))), forge.Eq(&g.MaybePrice, forge.Ptr(1.5)),
			forge.Eq(&g.MaybeOn, forge.Ptr(true)), forge.Eq(&g.Seen, &when)),
			[]any{int32(1), 1.5, true, "2024-05-06T06:08:09.000000000Z"}, false},
		{"text", forge.Or(forge.Contains(&g.Name, "a%"), forge.EndsWith(&g.Note, "z"), forge.StartsWith(&g.Name, "q")), []any{"a%", "z", "q"}, false},
		{"empty match", forge.Not(forge.Contains(&g.Name, "")), nil, false},
		{"json and bytes", forge.And(forge.Eq(&g.Meta, map[string]any{"k": 1}), forge.Eq(&g.Blob, nil), forge.Eq(&g.MaybeBlob, nil)),
			[]any{`{"k":1}`, []byte{}}, false},
		{"all", forge.All(), nil, false},
		{"empty or", forge.Or(), nil, false},
		{"nested empty and", forge.Or(forge.And(), forge.All()), nil, false},
		{"is null on not null", forge.IsNull(&g.Name), nil, true},
		{"lt nil", forge.Lt(&g.Note, nil), nil, true},
		{"in nil", forge.In(&g.Note, nil), nil, true},
		{"bad json", forge.Eq(&g.Meta, map[string]any{"f": func() {}}), nil, true},
		{"foreign pointer", forge.Eq(&Accounts.Cols().Email, "x"), nil, true},
		{"deref of cols", forge.Eq(&(*g).Name, "x"), []any{"x"}, false},
	}
	for _, tc := range cases {
		sqlText, args, err := Gadgets.FindManySQL(dialect.SQLite, forge.Where(tc.cond))
		if tc.err {
			var qe *forge.QueryError
			if !errors.As(err, &qe) {
				t.Errorf("%s: want a *QueryError, got %v (%s)", tc.name, err, sqlText)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(args, tc.args) && !(len(args) == 0 && len(tc.args) == 0) {
			t.Errorf("%s: args %#v, want %#v", tc.name, args, tc.args)
		}
	}
	// A pointer to a copy of Cols() is not a column.
	cp := *g
	if _, _, err := Gadgets.FindManySQL(dialect.SQLite, forge.Where(forge.Eq(&cp.Name, "x"))); err == nil {
		t.Error("a pointer into a copy of Cols() was accepted")
	}
	// The zero Option is refused.
	if _, _, err := Gadgets.FindManySQL(dialect.SQLite, forge.Option{}); err == nil {
		t.Error("the zero Option was accepted")
	}
}

func TestFakeOptions(t *testing.T) {
	g := Gadgets.Cols()
	var qe *forge.QueryError
	for name, opts := range map[string][]forge.Option{
		"negative take":     {forge.Take(-1)},
		"negative skip":     {forge.Skip(-1)},
		"empty select":      {forge.Select()},
		"select foreign":    {forge.Select(&Accounts.Cols().Email)},
		"select non-ptr":    {forge.Select("name")},
		"order foreign":     {forge.OrderBy(&Accounts.Cols().Age, forge.Asc)},
		"after other model": {forge.After(&Account{})},
		"after nil":         {forge.After[Gadget](nil)},
	} {
		if _, _, err := Gadgets.FindManySQL(dialect.Postgres, opts...); !errors.As(err, &qe) {
			t.Errorf("%s: want a *QueryError, got %v", name, err)
		}
	}

	// Several Where options AND together; Select adds the primary key; a
	// page ordered by a non-unique column is ordered by the key too; five
	// orderings spill past the inline array.
	_, args, err := Gadgets.FindManySQL(dialect.Postgres,
		forge.Where(forge.Eq(&g.Name, "a")), forge.Where(forge.Eq(&g.Count, 2)), forge.Where(forge.Eq(&g.On, true)),
		forge.Select(&g.Name, &g.Name),
		forge.OrderBy(&g.Count, forge.Desc), forge.OrderBy(&g.Small, forge.Asc), forge.OrderBy(&g.Price, forge.Asc),
		forge.OrderBy(&g.On, forge.Asc), forge.OrderBy(&g.Made, forge.Asc),
		forge.Skip(10))
	if err != nil || !reflect.DeepEqual(args, []any{"a", int64(2), true}) {
		t.Fatalf("combined options: %v %v", args, err)
	}

	// After: the rows after the cursor in the query's order, with the key
	// as the tie-breaker.
	cursor := &Gadget{ID: "g7", Count: 3}
	_, args, err = Gadgets.FindManySQL(dialect.Postgres, forge.Where(forge.Eq(&g.On, true)),
		forge.OrderBy(&g.Count, forge.Desc), forge.After(cursor), forge.Take(2))
	if err != nil {
		t.Fatal(err)
	}
	// On, then (count < 3) OR (count = 3 AND id > g7).
	if want := []any{true, int64(3), int64(3), "g7"}; !reflect.DeepEqual(args, want) {
		t.Errorf("After args %#v, want %#v", args, want)
	}
	_, args, err = Gadgets.FindManySQL(dialect.Postgres, forge.After(cursor))
	if err != nil || !reflect.DeepEqual(args, []any{"g7"}) {
		t.Errorf("After alone: %v %v", args, err)
	}
	// A NULL cursor value on a nullable ordering: NULL sorts as the
	// largest value, so after it come only NULLs with a larger key.
	sqlText, args, err := Gadgets.FindManySQL(dialect.Postgres, forge.OrderBy(&g.Note, forge.Asc), forge.After(&Gadget{ID: "x"}))
	if err != nil || !reflect.DeepEqual(args, []any{"x"}) ||
		!strings.Contains(sqlText, `WHERE ((1 = 0) OR ("note" IS NULL AND "id" > $1))`) || !strings.Contains(sqlText, `ORDER BY "note" NULLS LAST, "id"`) {
		t.Errorf("After a NULL cursor value: %s %v %v", sqlText, args, err)
	}

	// Select reads only the selected columns, and the key.
	f, db := openFake(t, dialect.SQLite, fakedriver.All)
	f.On(nil).Rows([]string{"name", "id"}, []any{"n", "k"})
	gs, err := Gadgets.FindMany(tctx, db, forge.Select(&g.Name), forge.Take(2000))
	if err != nil || len(gs) != 1 || gs[0].Name != "n" || gs[0].ID != "k" {
		t.Errorf("Select: %+v %v", gs, err)
	}
	if args := f.Statements()[0].Args; len(args) != 0 {
		t.Errorf("Select args %v", args)
	}
}

// A Querier that is nil, a model outside the DB's schema and a model
// declared wrong all fail before any I/O.
func TestFakeBadQueriers(t *testing.T) {
	f, db := openFake(t, dialect.SQLite, fakedriver.All)
	var qe *forge.QueryError
	if _, err := Authors.FindMany(tctx, nil); !errors.As(err, &qe) {
		t.Errorf("nil querier: %v", err)
	}
	if _, err := Authors.FindMany(tctx, (*forge.DB)(nil)); !errors.As(err, &qe) {
		t.Errorf("nil *DB: %v", err)
	}
	if _, err := Authors.FindMany(tctx, (*forge.Tx)(nil)); !errors.As(err, &qe) {
		t.Errorf("nil *Tx: %v", err)
	}
	if _, err := forge.Exec(tctx, nil, "DELETE FROM x"); !errors.As(err, &qe) {
		t.Errorf("Exec on nil: %v", err)
	}
	type Stray struct{ ID int64 }
	stray := forge.Model("strays", func(s *Stray, f *forge.Fields) { f.ID(&s.ID) })
	if _, err := stray.FindMany(tctx, db); !errors.As(err, &qe) || !strings.Contains(err.Error(), "not part of this DB's schema") {
		t.Errorf("model outside the schema: %v", err)
	}
	type Broken struct{ ID int64 }
	broken := forge.Model("broken", func(b *Broken, f *forge.Fields) {})
	if _, err := broken.Count(tctx, db); err == nil || err != broken.Err() {
		t.Errorf("broken model: %v", err)
	}
	if n := len(f.Statements()); n != 0 {
		t.Errorf("%d statements sent", n)
	}
	// The same model in a second schema is still usable on a DB of each.
	other := forge.MustSchema(Authors, Books)
	db2, err := forge.Open(other, f.Conn())
	if err != nil {
		t.Fatal(err)
	}
	f.On(nil).Rows([]string{"id", "name"})
	if _, err := Books.FindMany(tctx, db); err != nil {
		t.Errorf("model of the first schema: %v", err)
	}
	if _, err := Authors.FindMany(tctx, db2); err != nil {
		t.Errorf("model shared with a second schema: %v", err)
	}
}

func TestFakeCreate(t *testing.T) {
	// SQLite: the id comes back as the last insert id, without RETURNING.
	f, db := openFake(t, dialect.SQLite, fakedriver.All)
	f.On(fakedriver.Prefix(`INSERT INTO "authors"`)).Once().LastInsertID(3)
	a, err := Authors.Create(tctx, db, Author{Name: "x"})
	if err != nil || a.ID != 3 {
		t.Fatalf("Create: %+v %v", a, err)
	}
	if s := f.Statements()[0]; s.Kind != fakedriver.Exec || !reflect.DeepEqual(s.Args, []any{"x"}) {
		t.Errorf("Create sent %+v", s)
	}
	// A driver that reports no id is an error, not an id of 0.
	f.On(fakedriver.Prefix(`INSERT INTO "authors"`)).Once().Affected(1)
	var qe *forge.QueryError
	if _, err := Authors.Create(tctx, db, Author{Name: "y"}); !errors.As(err, &qe) {
		t.Errorf("no last insert id: %v", err)
	}
	// An explicit id is sent and kept.
	f.On(fakedriver.Prefix(`INSERT INTO "authors"`)).Once().Rows([]string{"id", "name"}, []any{int64(9), "z"})
	if a, err := Authors.Create(tctx, db, Author{ID: 9, Name: "z"}); err != nil || a.ID != 9 {
		t.Errorf("explicit id: %+v %v", a, err)
	}

	// PostgreSQL: RETURNING "id".
	pf, pdb := openFake(t, dialect.Postgres, fakedriver.All)
	pf.On(fakedriver.Prefix(`INSERT INTO "authors"`)).Once().Rows([]string{"id"}, []any{int64(11)})
	if a, err := Authors.Create(tctx, pdb, Author{Name: "p"}); err != nil || a.ID != 11 {
		t.Errorf("postgres Create: %+v %v", a, err)
	}
	pf.On(fakedriver.Prefix(`INSERT INTO "authors"`)).Once().Rows([]string{"id"})
	if _, err := Authors.Create(tctx, pdb, Author{Name: "q"}); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("Create with no row returned: %v", err)
	}
	pf.On(fakedriver.Prefix(`INSERT INTO "authors"`)).Once().Rows([]string{"id"}, []any{int64(1)}, []any{int64(2)})
	if _, err := Authors.Create(tctx, pdb, Author{Name: "q"}); !errors.As(err, &qe) {
		t.Errorf("Create with two rows returned: %v", err)
	}

	// Defaults, generated text ids and encodings reach the driver; the
	// stored row comes back whole (times and JSON are read back).
	f.On(fakedriver.Prefix(`INSERT INTO "gadgets"`)).Func(func(s fakedriver.Stmt) fakedriver.Answer {
		return fakedriver.Answer{Columns: gadgetCols, Rows: [][]any{gadgetRow(s.Args[0].(string), s.Args[1].(string))}}
	})
	g, err := Gadgets.Create(tctx, db, Gadget{Name: "new"})
	if err != nil {
		t.Fatal(err)
	}
	sent := f.Statements()[len(f.Statements())-1]
	if len(sent.Args) != len(gadgetCols) {
		t.Fatalf("sent %d args", len(sent.Args))
	}
	id, _ := sent.Args[0].(string)
	if len(id) != 36 || g.ID != id {
		t.Errorf("generated id %q, stored %q", id, g.ID)
	}
	if sent.Args[3] != int64(5) || sent.Args[7] != 1.5 || sent.Args[10] != true || sent.Args[15] != `{"v":1}` ||
		sent.Args[16] != nil || !reflect.DeepEqual(sent.Args[13], []byte{}) || sent.Args[14] != nil {
		t.Errorf("defaults and encodings: %#v", sent.Args)
	}
	if made, ok := sent.Args[11].(string); !ok || len(made) != len(dialect.SQLiteTimeLayout) {
		t.Errorf("DefaultNow sent %#v", sent.Args[11])
	}
	if g.Count != 3 || g.Meta["a"] != 1.0 {
		t.Errorf("the row read back: %+v", g)
	}
	// A value JSON cannot encode fails before anything is sent.
	n := len(f.Statements())
	if _, err := Gadgets.Create(tctx, db, Gadget{Name: "bad", Meta: map[string]any{"f": func() {}}}); !errors.As(err, &qe) {
		t.Errorf("unencodable JSON: %v", err)
	}
	if len(f.Statements()) != n {
		t.Error("a statement was sent for a row that cannot be encoded")
	}
}

func TestFakeCreateMany(t *testing.T) {
	// Book inserts 3 columns; with 7 parameters a statement holds 2 rows.
	d := smallParams{dialect.SQLite, 7}
	books := []Book{{Title: "a"}, {Title: "b"}, {Title: "c"}, {Title: "d"}, {Title: "e"}}
	ids := func(s fakedriver.Stmt) fakedriver.Answer {
		// RETURNING "id" for several rows, the last insert id for one.
		a := fakedriver.Answer{Columns: []string{"id"}, Result: driver.Result{RowsAffected: 1, LastInsertID: 999, HasLastInsertID: true}}
		for i := 0; i < len(s.Args)/3; i++ {
			a.Rows = append(a.Rows, []any{int64(100*s.Tx + 10*s.Batch + i)})
		}
		return a
	}

	// With transactions only: one transaction of three INSERTs, each
	// reading its ids back with RETURNING.
	f, db := openFake(t, d, fakedriver.Transactions)
	f.On(fakedriver.Prefix("INSERT")).Func(ids)
	got, err := Books.CreateMany(tctx, db, books)
	if err != nil || len(got) != 5 || got[0].ID != 100 || got[3].ID != 101 || got[4].ID != 100 {
		t.Fatalf("CreateMany in a transaction: %+v %v", got, err)
	}
	if k := fakeKinds(f); k != "begin, query INSERT, query INSERT, query INSERT, commit" {
		t.Errorf("statements: %s", k)
	}
	// With both, the batch is preferred (the order of runner.atomic).
	f, db = openFake(t, d, fakedriver.All)
	f.On(fakedriver.Prefix("INSERT")).Func(ids)
	if got, err = Books.CreateMany(tctx, db, books); err != nil || got[0].ID != 10 || got[4].ID != 10 {
		t.Fatalf("CreateMany on a driver with both: %+v %v", got, err)
	}
	for _, s := range f.Statements() {
		if s.Batch != 1 || s.Tx != 0 {
			t.Errorf("CreateMany on a driver with both: %+v", s)
		}
	}

	// Batch only: one atomic batch, each statement reading its ids back.
	f = fakedriver.New(d, fakedriver.Batches)
	db, _ = forge.Open(fakeSchema, f.Conn())
	f.On(fakedriver.Prefix("INSERT")).Func(func(s fakedriver.Stmt) fakedriver.Answer {
		if !strings.HasSuffix(s.SQL, ` RETURNING "id"`) {
			return fakedriver.Answer{Err: errors.New("want RETURNING \"id\": " + s.SQL)}
		}
		a := fakedriver.Answer{Columns: []string{"id"}}
		for i := 0; i < len(s.Args)/3; i++ {
			a.Rows = append(a.Rows, []any{int64(10*s.Index + i)})
		}
		return a
	})
	got, err = Books.CreateMany(tctx, db, books)
	if err != nil || len(got) != 5 || got[2].ID != 10 || got[4].Title != "e" {
		t.Fatalf("CreateMany in a batch: %+v %v", got, err)
	}
	for _, s := range f.Statements() {
		if s.Batch != 1 || s.Kind != fakedriver.Query {
			t.Errorf("batched insert %+v", s)
		}
	}
	// A batch that returns fewer rows than written is an error.
	f.Reset()
	f.On(fakedriver.Prefix("INSERT")).Rows([]string{"id"}, []any{int64(1)})
	var qe *forge.QueryError
	if _, err := Books.CreateMany(tctx, db, books); !errors.As(err, &qe) {
		t.Errorf("short batch: %v", err)
	}
	f.Reset()
	f.On(fakedriver.Prefix("INSERT")).Rows([]string{"id"}, []any{int64(1)}, []any{int64(2)}, []any{int64(3)})
	if _, err := Books.CreateMany(tctx, db, books); !errors.As(err, &qe) {
		t.Errorf("long batch: %v", err)
	}

	// Neither: refused, nothing sent.
	f = fakedriver.New(d, fakedriver.Named)
	db, _ = forge.Open(fakeSchema, f.Conn())
	var ce *forge.CapabilityError
	if _, err := Books.CreateMany(tctx, db, books); !errors.As(err, &ce) || ce.Driver != "fake" {
		t.Errorf("CreateMany without atomicity: %v", err)
	}
	if len(f.Statements()) != 0 {
		t.Error("statements were sent")
	}
	// One statement needs no atomicity.
	f.On(nil).Func(ids)
	if got, err := Books.CreateMany(tctx, db, books[:2]); err != nil || len(got) != 2 {
		t.Errorf("one-statement CreateMany: %v", err)
	}
	if got, err := Books.CreateMany(tctx, db, nil); err != nil || got == nil || len(got) != 0 {
		t.Errorf("empty CreateMany: %v %v", got, err)
	}
	if _, err := Books.CreateMany(tctx, db, []Book{{ID: 1}, {}}); !errors.As(err, &qe) {
		t.Errorf("mixed ids: %v", err)
	}
	// With explicit ids a row has 4 columns: 2 rows need 2 statements.
	if _, err := Books.CreateMany(tctx, db, []Book{{ID: 1}, {ID: 2}}); !errors.As(err, &ce) {
		t.Errorf("explicit ids in two statements without atomicity: %v", err)
	}
	// A row wider than the parameter limit.
	_, wdb := openFake(t, smallParams{dialect.SQLite, 2}, fakedriver.All)
	if _, err := Books.CreateMany(tctx, wdb, books); !errors.As(err, &qe) {
		t.Errorf("row wider than the limit: %v", err)
	}
}

func TestFakeUpdateDelete(t *testing.T) {
	f, db := openFake(t, dialect.Postgres, fakedriver.All)
	c := Authors.Cols()
	f.On(fakedriver.Prefix("UPDATE")).Once().Rows([]string{"id", "name"}, []any{int64(1), "new"})
	a, err := Authors.Update(tctx, db, forge.Eq(&c.ID, 1), forge.Set(&c.Name, "new"))
	if err != nil || a.Name != "new" {
		t.Fatalf("Update: %+v %v", a, err)
	}
	f.On(fakedriver.Prefix("UPDATE")).Once().Rows([]string{"id", "name"})
	if _, err := Authors.Update(tctx, db, forge.Eq(&c.ID, 2), forge.Set(&c.Name, "x")); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("Update of nothing: %v", err)
	}
	var qe *forge.QueryError
	g := Gadgets.Cols()
	for name, run := range map[string]func() error{
		"not pinned": func() error {
			_, err := Authors.Update(tctx, db, forge.Gt(&c.ID, 1), forge.Set(&c.Name, "x"))
			return err
		},
		"no sets": func() error { _, err := Authors.Update(tctx, db, forge.Eq(&c.ID, 1)); return err },
		"set id": func() error {
			_, err := Authors.Update(tctx, db, forge.Eq(&c.ID, 1), forge.Set(&c.ID, 2))
			return err
		},
		"set foreign": func() error {
			_, err := Authors.UpdateMany(tctx, db, forge.All(), forge.Set(&Accounts.Cols().Name, "x"))
			return err
		},
		"bad where": func() error {
			_, err := Authors.UpdateMany(tctx, db, forge.Eq(&Accounts.Cols().Name, "x"), forge.Set(&c.Name, "x"))
			return err
		},
		"update many no where": func() error {
			_, err := Authors.UpdateMany(tctx, db, forge.Cond{}, forge.Set(&c.Name, "x"))
			return err
		},
		"delete not pinned":    func() error { return Authors.Delete(tctx, db, forge.Ne(&c.ID, 1)) },
		"delete many no where": func() error { _, err := Authors.DeleteMany(tctx, db, forge.Cond{}); return err },
		"delete bad where":     func() error { _, err := Authors.DeleteMany(tctx, db, forge.Lt(&g.Note, nil)); return err },
	} {
		if err := run(); !errors.As(err, &qe) {
			t.Errorf("%s: want a *QueryError, got %v", name, err)
		}
	}
	if n := len(f.Statements()); n != 2 {
		t.Errorf("%d statements sent, want the 2 Updates", n)
	}
	f.On(fakedriver.Prefix("UPDATE")).Affected(4)
	f.On(fakedriver.Prefix("DELETE")).Once().Affected(1)
	f.On(fakedriver.Prefix("DELETE")).Affected(0)
	if n, err := Gadgets.UpdateMany(tctx, db, forge.All(), forge.Set(&g.Note, nil), forge.Set(&g.Seen, forge.Ptr(time.Now()))); err != nil || n != 4 {
		t.Errorf("UpdateMany: %d %v", n, err)
	}
	if args := f.Statements()[2].Args; len(args) != 2 || args[0] != nil {
		t.Errorf("UpdateMany args %v", args)
	}
	if err := Authors.Delete(tctx, db, forge.Eq(&c.Name, "x")); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if err := Authors.Delete(tctx, db, forge.Eq(&c.Name, "x")); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("Delete of nothing: %v", err)
	}
	if n, err := Authors.DeleteMany(tctx, db, forge.All()); err != nil || n != 0 {
		t.Errorf("DeleteMany: %d %v", n, err)
	}
	if k := fakeKinds(f); k != "query UPDATE, query UPDATE, exec UPDATE, exec DELETE, exec DELETE, exec DELETE" {
		t.Errorf("statements: %s", k)
	}

	// A dialect without UPDATE ... RETURNING (MySQL, MariaDB): Update finds
	// the row's key, updates it and reads it back, in one transaction.
	nf, ndb := openFake(t, noReturning{dialect.SQLite}, fakedriver.All)
	nf.On(fakedriver.Exact(`SELECT "id" FROM "authors" WHERE "name" = ? FOR UPDATE`)).Once().Rows([]string{"id"}, []any{int64(7)})
	nf.On(fakedriver.Prefix(`UPDATE "authors" SET "name" = ? WHERE "name" = ?`)).Affected(1)
	nf.On(fakedriver.Contains(`WHERE "id" = ?`)).Once().Rows([]string{"id", "name"}, []any{int64(7), "x"})
	a, err = Authors.Update(tctx, ndb, forge.Eq(&c.Name, "old"), forge.Set(&c.Name, "x"))
	if err != nil || a.ID != 7 || a.Name != "x" {
		t.Errorf("Update without RETURNING: %+v %v", a, err)
	}
	if k := fakeKinds(nf); k != "begin, query SELECT, exec UPDATE, query SELECT, commit" {
		t.Errorf("Update without RETURNING ran: %s", k)
	}
	if st := nf.Statements(); len(st) != 5 || len(st[3].Args) != 1 || st[3].Args[0] != int64(7) {
		t.Errorf("Update without RETURNING read back with %+v", st)
	}
	// Without transactions it cannot be atomic: refused.
	_, tdb := openFake(t, noReturning{dialect.SQLite}, fakedriver.None)
	var ce *forge.CapabilityError
	if _, err := Authors.Update(tctx, tdb, forge.Eq(&c.ID, 1), forge.Set(&c.Name, "x")); !errors.As(err, &ce) {
		t.Errorf("Update without RETURNING nor transactions: %v", err)
	}
}

// noReturning is a dialect without RETURNING (MySQL-like).
type noReturning struct{ dialect.Dialect }

func (noReturning) Returning() bool       { return false }
func (noReturning) UpdateReturning() bool { return false }

func TestFakeUpsert(t *testing.T) {
	f, db := openFake(t, dialect.SQLite, fakedriver.All)
	c, bc := Authors.Cols(), Books.Cols()
	f.On(fakedriver.Prefix(`INSERT INTO "books"`)).Func(func(s fakedriver.Stmt) fakedriver.Answer {
		return fakedriver.Answer{Columns: []string{"id", "author_id", "title", "pages"},
			Rows: [][]any{{int64(4), int64(1), s.Args[len(s.Args)-2], int64(9)}}}
	})
	b, err := Books.Upsert(tctx, db, Book{ID: 4, AuthorID: 1, Title: "u"}, forge.OnConflict())
	if err != nil || b.ID != 4 || b.Pages != 9 {
		t.Fatalf("Upsert: %+v %v", b, err)
	}
	if s := f.Statements()[0]; !strings.Contains(s.SQL, "ON CONFLICT") || len(s.Args) != 4 {
		t.Errorf("Upsert sent %s %v", s.SQL, s.Args)
	}
	if b, err := Books.Upsert(tctx, db, Book{Title: "v"}, forge.OnConflict(&bc.Title).Update(&bc.Pages)); err != nil || b.Title != "v" {
		t.Errorf("Upsert on a column: %+v %v", b, err)
	}
	if s := f.Statements()[1]; len(s.Args) != 3 {
		t.Errorf("Upsert without an id sent %v", s.Args)
	}
	var qe *forge.QueryError
	if _, err := Authors.Upsert(tctx, db, Author{Name: "u"}, forge.OnConflict(&c.Name)); !errors.As(err, &qe) {
		t.Errorf("nothing to update: %v", err)
	}
	if _, err := Authors.Upsert(tctx, db, Author{Name: "u"}, forge.OnConflict(&Accounts.Cols().Email)); !errors.As(err, &qe) {
		t.Errorf("foreign conflict column: %v", err)
	}
	if _, err := Authors.Upsert(tctx, db, Author{Name: "u"}, forge.OnConflict().Update(&Accounts.Cols().Email)); !errors.As(err, &qe) {
		t.Errorf("foreign update column: %v", err)
	}
	if _, err := Authors.Upsert(tctx, nil, Author{}, forge.OnConflict()); !errors.As(err, &qe) {
		t.Errorf("nil querier: %v", err)
	}
	if len(f.Statements()) != 2 {
		t.Errorf("%d statements sent", len(f.Statements()))
	}
}

func TestFakeRawAndExec(t *testing.T) {
	f, db := openFake(t, dialect.SQLite, fakedriver.All)
	f.On(fakedriver.Prefix("SELECT name, id")).Rows([]string{"name", "id"}, []any{"r", int64(2)})
	f.On(fakedriver.Prefix("SELECT extra")).Rows([]string{"extra"}, []any{"r"})
	f.On(fakedriver.Prefix("VACUUM")).Affected(0)
	got, err := Authors.Raw(tctx, db, "SELECT name, id FROM authors WHERE id = ?", 2)
	if err != nil || len(got) != 1 || got[0].ID != 2 || got[0].Name != "r" {
		t.Fatalf("Raw: %+v %v", got, err)
	}
	if args := f.Statements()[0].Args; !reflect.DeepEqual(args, []any{2}) {
		t.Errorf("Raw args %v", args)
	}
	var qe *forge.QueryError
	if _, err := Authors.Raw(tctx, db, "SELECT extra"); !errors.As(err, &qe) {
		t.Errorf("Raw with a column the model lacks: %v", err)
	}
	if _, err := Authors.Raw(tctx, nil, "SELECT 1"); !errors.As(err, &qe) {
		t.Errorf("Raw on nil: %v", err)
	}
	if _, err := forge.Exec(tctx, db, "VACUUM"); err != nil {
		t.Errorf("Exec: %v", err)
	}
	var na *fakedriver.NoAnswerError
	if _, err := forge.Exec(tctx, db, "ANALYZE"); !errors.As(err, &na) {
		t.Errorf("Exec error passes through: %v", err)
	}
}

func TestFakeDBAccessors(t *testing.T) {
	f, db := openFake(t, dialect.Postgres, fakedriver.All)
	if db.Dialect() != dialect.Postgres || db.Driver() != f.Conn() || db.Schema() != fakeSchema {
		t.Error("accessors")
	}
	if err := db.Close(); err != nil || !f.Closed() {
		t.Errorf("Close: %v", err)
	}
	if _, err := Authors.FindMany(tctx, db); !errors.Is(err, fakedriver.ErrClosed) {
		t.Errorf("query after Close: %v", err)
	}
	if _, err := forge.Open(fakeSchema, nilDialect{f.Conn()}); err == nil {
		t.Error("a driver without a dialect was accepted")
	}
}

type nilDialect struct{ driver.Conn }

func (nilDialect) Dialect() dialect.Dialect { return nil }
