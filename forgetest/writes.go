package forgetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge"
)

func testUpsertKeepsDefaults(t *testing.T, h *Harness) {
	ctx := context.Background()
	c := Users.Cols()
	created := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	first, err := Users.Create(ctx, h.DB, User{Email: "k@x", Name: "First", Age: 40, CreatedAt: created})
	must(t, err)
	// CreatedAt (DefaultNow) and Age (Default 18) left zero: not touched.
	got, err := Users.Upsert(ctx, h.DB, User{Email: "k@x", Name: "Second"}, forge.OnConflict(&c.Email))
	must(t, err)
	if got.ID != first.ID || got.Name != "Second" || !got.CreatedAt.Equal(created) || got.Age != 40 {
		t.Errorf("Upsert overwrote defaults it was not given: %+v (first %+v)", got, first)
	}
	// Given fields are updated, also those with a default.
	later := created.Add(time.Hour)
	got, err = Users.Upsert(ctx, h.DB, User{Email: "k@x", Name: "Third", Age: 41, CreatedAt: later}, forge.OnConflict(&c.Email))
	must(t, err)
	if got.Name != "Third" || got.Age != 41 || !got.CreatedAt.Equal(later) {
		t.Errorf("Upsert with every field given: %+v", got)
	}
	// Named with Update, a default column is overwritten even when zero.
	got, err = Users.Upsert(ctx, h.DB, User{Email: "k@x", Name: "Fourth"}, forge.OnConflict(&c.Email).Update(&c.Age))
	must(t, err)
	if got.Name != "Third" || got.Age != 18 {
		t.Errorf("Upsert with Update(Age): %+v, want Age reset to its default 18 and Name kept", got)
	}
	// A new row gets its defaults.
	fresh, err := Users.Upsert(ctx, h.DB, User{Email: "new@x", Name: "New"}, forge.OnConflict(&c.Email))
	must(t, err)
	if fresh.Age != 18 || fresh.CreatedAt.IsZero() {
		t.Errorf("Upsert of a new row: %+v", fresh)
	}
	n, err := Users.Count(ctx, h.DB)
	must(t, err)
	if n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
}

func testExplicitIDs(t *testing.T, h *Harness) {
	ctx := context.Background()
	c := Users.Cols()
	create := func(what string, u User) User {
		t.Helper()
		got, err := Users.Create(ctx, h.DB, u)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return got
	}
	a := create("generated", User{Email: "a@x", Name: "a"})
	create("explicit", User{ID: a.ID + 10, Email: "b@x", Name: "b"})
	if g := create("generated after an explicit id", User{Email: "c@x", Name: "c"}); g.ID <= a.ID+10 {
		t.Errorf("generated id %d after the explicit id %d", g.ID, a.ID+10)
	}
	_, err := Users.CreateMany(ctx, h.DB, []User{{ID: a.ID + 100, Email: "d@x", Name: "d"}, {ID: a.ID + 50, Email: "e@x", Name: "e"}})
	must(t, err)
	if g := create("generated after CreateMany with ids", User{Email: "f@x", Name: "f"}); g.ID <= a.ID+100 {
		t.Errorf("generated id %d after the explicit ids up to %d", g.ID, a.ID+100)
	}
	_, err = Users.Upsert(ctx, h.DB, User{ID: a.ID + 200, Email: "g@x", Name: "g"}, forge.OnConflict())
	must(t, err)
	if g := create("generated after Upsert with an id", User{Email: "h@x", Name: "h"}); g.ID <= a.ID+200 {
		t.Errorf("generated id %d after the upserted id %d", g.ID, a.ID+200)
	}
	last := a
	if atomicMulti(h.DB) {
		_, err = h.DB.Batch(ctx, Users.CreateOp(User{ID: a.ID + 300, Email: "i@x", Name: "i"}), Users.CreateOp(User{ID: a.ID + 250, Email: "j@x", Name: "j"}))
		must(t, err)
		last = create("generated after a Batch with ids", User{Email: "k@x", Name: "k"})
		if last.ID <= a.ID+300 {
			t.Errorf("generated id %d after the batched ids up to %d", last.ID, a.ID+300)
		}
	}
	// A lower explicit id never moves the sequence back.
	create("explicit lower id", User{ID: a.ID + 5, Email: "l@x", Name: "l"})
	if g := create("generated after a lower explicit id", User{Email: "m@x", Name: "m"}); g.ID <= last.ID {
		t.Errorf("generated id %d, not after %d", g.ID, last.ID)
	}
	if requireTx(t, h) {
		err := h.DB.Transaction(ctx, func(tx *forge.Tx) error {
			if _, err := Users.Create(ctx, tx, User{ID: a.ID + 1000, Email: "tx@x", Name: "tx"}); err != nil {
				return err
			}
			_, err := Users.Create(ctx, tx, User{Email: "tx2@x", Name: "tx2"})
			return err
		})
		must(t, err)
	}
	// A failed explicit-id insert writes nothing, the sequence included.
	_, err = Users.Create(ctx, h.DB, User{ID: a.ID + 5000, Email: "a@x", Name: "dup"})
	var ce *forge.ConstraintError
	if !errors.As(err, &ce) {
		t.Errorf("a duplicate email with an explicit id: %v", err)
	}
	if n, _ := Users.Count(ctx, h.DB, forge.Eq(&c.Name, "dup")); n != 0 {
		t.Error("the failed insert wrote a row")
	}
}

func testInLong(t *testing.T, h *Harness) {
	ctx := context.Background()
	c, vc := Users.Cols(), Scalars.Cols()
	us := seedUsers(t, h.DB, 5)
	limit := h.DB.Dialect().MaxParams()
	inline := min(limit, 1000) // about the longest list bound value by value
	for _, n := range []int{3, inline - 1, inline, inline + 1, limit + 1, 2*limit + 3} {
		vals := make([]int64, n)
		for i := range vals {
			vals[i] = -int64(i) // none matches
		}
		vals[n/3], vals[n-1] = us[1].ID, us[3].ID
		got, err := Users.FindMany(ctx, h.DB, forge.Where(forge.In(&c.ID, vals...)), forge.OrderBy(&c.ID, forge.Asc))
		if err != nil {
			t.Errorf("In with %d values (the parameter limit is %d): %v", n, limit, err)
			continue
		}
		if want := []int64{us[1].ID, us[3].ID}; !slices.Equal(ids(got), want) {
			t.Errorf("In with %d values: %v, want %v", n, ids(got), want)
		}
		cnt, err := Users.Count(ctx, h.DB, forge.NotIn(&c.ID, vals...), forge.Ge(&c.Age, 0))
		must(t, err)
		if cnt != 3 {
			t.Errorf("NotIn with %d values: %d rows, want 3", n, cnt)
		}
		del, err := Users.DeleteMany(ctx, h.DB, forge.And(forge.In(&c.ID, vals...), forge.Eq(&c.Name, "nobody")))
		must(t, err)
		if del != 0 {
			t.Errorf("DeleteMany with %d values deleted %d", n, del)
		}
	}
	// Every kind that filters, with a long list.
	sdb := scalarDB(t, h)
	t0 := time.Date(2021, 3, 4, 5, 6, 7, 891000, time.UTC)
	row, err := Scalars.Create(ctx, sdb, Scalar{Text: "it's \"x\" ü <&>", I64: 1 << 50, I32: -7, F: 0.1, B: true, T: t0, NT: &t0})
	must(t, err)
	long := limit + 5
	fill := func(i int) int { return i + 1000 }
	texts, i64s, i32s, fs, ts, nts := make([]string, long), make([]int64, long), make([]int32, long), make([]float64, long), make([]time.Time, long), make([]*time.Time, long)
	for i := 0; i < long; i++ {
		texts[i], i64s[i], i32s[i], fs[i] = fmt.Sprint(fill(i)), int64(fill(i)), int32(fill(i)), float64(fill(i))+0.5
		ts[i] = t0.Add(time.Duration(fill(i)) * time.Second)
		nts[i] = &ts[i]
	}
	texts[7], i64s[8], i32s[9], fs[10], ts[11], nts[12] = row.Text, row.I64, row.I32, row.F, t0, &t0
	n, err := Scalars.Count(ctx, sdb,
		forge.In(&vc.Text, texts...), forge.In(&vc.I64, i64s...), forge.In(&vc.I32, i32s...), forge.In(&vc.F, fs...),
		forge.In(&vc.T, ts...), forge.In(&vc.NT, nts...), forge.In(&vc.B, true), forge.In(&vc.ID, row.ID))
	must(t, err)
	if n != 1 {
		t.Errorf("long In lists on every kind found %d rows, want 1", n)
	}
	bs := make([][]byte, long)
	for i := range bs {
		bs[i] = []byte{byte(i)}
	}
	var qe *forge.QueryError
	if _, err := Values.Count(ctx, h.DB, forge.In(&Values.Cols().Bytes, bs...)); !errors.As(err, &qe) || !strings.Contains(err.Error(), "split the list") {
		t.Errorf("a long In on bytes: %v, want a *forge.QueryError that says the limit", err)
	}
}

// Odd has identifiers that need quoting: a table name with a dot and column
// names with quotes, spaces, commas and parentheses.
type Odd struct {
	ID     int64
	Weird  string
	Comma  string
	Other  string
	Parent *int64
}

// Odds is Odd's model, in a schema of its own (OddSchema).
var Odds = forge.Model("odd.t", func(o *Odd, f *forge.Fields) {
	f.ID(&o.ID)
	f.Text(&o.Weird).Column(`we"ird col`).Unique()
	f.Text(&o.Comma).Column("a, b.c (x)")
	f.Text(&o.Other).Column("o: (p)")
	f.NullInt(&o.Parent).Column("par ent").References(forge.Ref[Odd]())
	f.Index(&o.Comma, &o.Other).Unique().Name("odd_pair")
})

// OddSchema holds Odds.
var OddSchema = forge.MustSchema(Odds)

func testConstraintNames(t *testing.T, h *Harness) {
	ctx := context.Background()
	db, err := forge.Open(OddSchema, h.DB.Driver())
	must(t, err)
	must(t, db.CreateSchema(ctx))
	first, err := Odds.Create(ctx, db, Odd{Weird: "w", Comma: "c"})
	must(t, err)
	var ce *forge.ConstraintError
	_, err = Odds.Create(ctx, db, Odd{Weird: "w", Comma: "other"})
	if !errors.As(err, &ce) || ce.Kind != forge.UniqueViolation || ce.Model != "Odd" || !slices.Equal(ce.Fields, []string{"Weird"}) {
		t.Errorf("unique violation on a quoted column: %v (%#v)", err, ce)
	}
	_, err = Odds.Create(ctx, db, Odd{Weird: "w2", Comma: "c2"})
	must(t, err)
	_, err = Odds.Create(ctx, db, Odd{Weird: "w9", Comma: "c2"})
	if !errors.As(err, &ce) || ce.Kind != forge.UniqueViolation || ce.Model != "Odd" || !slices.Equal(ce.Fields, []string{"Comma", "Other"}) {
		t.Errorf("unique violation on two columns with commas, dots, colons and parentheses in their names: %v (%#v)", err, ce)
	}
	_, err = Odds.Update(ctx, db, forge.Eq(&Odds.Cols().ID, first.ID), forge.Set(&Odds.Cols().Weird, "w2"))
	if !errors.As(err, &ce) || ce.Kind != forge.UniqueViolation || !slices.Equal(ce.Fields, []string{"Weird"}) {
		t.Errorf("unique violation by an update: %v (%#v)", err, ce)
	}
	_, err = Odds.Create(ctx, db, Odd{Weird: "w3", Comma: "c3", Parent: forge.Ptr(first.ID + 999)})
	// Odd has one foreign key: an insert that breaks one breaks that one,
	// also where the database does not say (SQLite).
	if !errors.As(err, &ce) || ce.Kind != forge.ForeignKeyViolation || ce.Model != "Odd" || !slices.Equal(ce.Fields, []string{"Parent"}) {
		t.Errorf("foreign key violation: %v", err)
	}
	n, err := Odds.Count(ctx, db)
	must(t, err)
	if n != 2 {
		t.Errorf("%d rows after the violations, want 2", n)
	}
	// An explicit id moves the sequence of a table whose name needs
	// quoting.
	_, err = Odds.Create(ctx, db, Odd{ID: first.ID + 50, Weird: "e", Comma: "e"})
	must(t, err)
	gen, err := Odds.Create(ctx, db, Odd{Weird: "g", Comma: "g"})
	must(t, err)
	if gen.ID <= first.ID+50 {
		t.Errorf("generated id %d after the explicit id %d", gen.ID, first.ID+50)
	}
	_, err = Posts.Create(ctx, h.DB, Post{AuthorID: 424242, Title: "orphan"})
	if !errors.As(err, &ce) || !slices.Equal(ce.Fields, []string{"AuthorID"}) {
		t.Errorf("orphan post (one foreign key): %v", err)
	}
	// A comment has two foreign keys: the error names the one that failed
	// where the database says (PostgreSQL), else says it is unknown
	// (SQLite), never nothing.
	u, err := Users.Create(ctx, h.DB, User{Email: "fk@x", Name: "fk"})
	must(t, err)
	_, err = Comments.Create(ctx, h.DB, Comment{PostID: 424242, AuthorID: &u.ID, Body: "orphan"})
	if !errors.As(err, &ce) || ce.Kind != forge.ForeignKeyViolation || ce.Model != "Comment" {
		t.Fatalf("orphan comment: %v", err)
	}
	if len(ce.Fields) == 0 && !strings.Contains(err.Error(), "which foreign key is unknown") {
		t.Errorf("a foreign key violation that names no field must say the key is unknown: %v", err)
	}
	if len(ce.Fields) > 0 && !slices.Equal(ce.Fields, []string{"PostID"}) {
		t.Errorf("orphan comment names %v, want PostID", ce.Fields)
	}
	// Deleting a referenced row: the child's key (PostgreSQL), or unknown.
	p, err := Posts.Create(ctx, h.DB, Post{AuthorID: u.ID, Title: "p"})
	must(t, err)
	_, err = Comments.Create(ctx, h.DB, Comment{PostID: p.ID, Body: "c"})
	must(t, err)
	_, err = forge.Exec(ctx, h.DB, `UPDATE "posts" SET "id" = `+placeholders(h.DB, 1)+` WHERE "id" = `+string(h.DB.Dialect().AppendPlaceholder(nil, 2)), p.ID+1000, p.ID)
	if !errors.As(err, &ce) || ce.Kind != forge.ForeignKeyViolation {
		t.Fatalf("moving a referenced key: %v", err)
	}
	if len(ce.Fields) == 0 && !strings.Contains(err.Error(), "which foreign key is unknown") {
		t.Errorf("a foreign key violation that names no field must say the key is unknown: %v", err)
	}
}
