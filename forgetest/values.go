package forgetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/driver"
)

// The value rules (docs/ARCHITECTURE.md, "Values per database"): every value
// round trips exactly or is refused with a *forge.ValueError naming the
// model and field, before anything is written, on every driver.

// Scalar holds a column of every kind but bytes (which D1's REST API cannot
// carry; the Values test covers them), and nullable versions.
type Scalar struct {
	ID    int64
	Text  string
	I64   int64
	I32   int32
	F     float64
	B     bool
	T     time.Time
	JSON  Meta
	NText *string
	NI64  *int64
	NF    *float64
	NT    *time.Time
	NJSON *Meta
}

// Scalars is Scalar's model, in a schema of its own (ScalarSchema), so that
// the value tests run on every driver.
var Scalars = forge.Model("scalars", func(v *Scalar, f *forge.Fields) {
	f.ID(&v.ID)
	f.Text(&v.Text)
	f.Int(&v.I64)
	f.Int32(&v.I32)
	f.Float(&v.F)
	f.Bool(&v.B)
	f.Time(&v.T)
	f.JSON(&v.JSON)
	f.NullText(&v.NText)
	f.NullInt(&v.NI64)
	f.NullFloat(&v.NF)
	f.NullTime(&v.NT)
	f.NullJSON(&v.NJSON)
})

// ScalarSchema holds Scalars.
var ScalarSchema = forge.MustSchema(Scalars)

// scalarDB opens ScalarSchema on the harness's driver and creates it.
func scalarDB(t *testing.T, h *Harness) *forge.DB {
	t.Helper()
	db, err := forge.Open(ScalarSchema, h.DB.Driver())
	must(t, err)
	must(t, db.CreateSchema(context.Background()))
	return db
}

// normScalar makes scalars comparable with reflect.DeepEqual.
func normScalar(v Scalar) Scalar {
	v.T = time.Unix(0, v.T.UnixNano()).UTC()
	if v.NT != nil {
		t := time.Unix(0, v.NT.UnixNano()).UTC()
		v.NT = &t
	}
	return v
}

// diffScalars reports each field of got that differs from want.
func diffScalars(t *testing.T, what string, got, want Scalar) {
	t.Helper()
	gv, wv := reflect.ValueOf(normScalar(got)), reflect.ValueOf(normScalar(want))
	for i := 0; i < gv.NumField(); i++ {
		g, w := gv.Field(i), wv.Field(i)
		if !reflect.DeepEqual(g.Interface(), w.Interface()) {
			gs, ws := fmt.Sprintf("%#v", g.Interface()), fmt.Sprintf("%#v", w.Interface())
			if g.Kind() == reflect.Pointer && !g.IsNil() && !w.IsNil() {
				gs, ws = fmt.Sprintf("&%#v", g.Elem().Interface()), fmt.Sprintf("&%#v", w.Elem().Interface())
			}
			t.Errorf("%s: %s = %s, want %s", what, gv.Type().Field(i).Name, gs, ws)
		}
	}
}

// badValue is one value forge must refuse, with the write that tries it.
type badValue struct {
	name  string
	field string // the Go field the error must name
	row   Scalar
}

func badValues() []badValue {
	nan, inf := math.NaN(), math.Inf(1)
	nul, bad := "a\x00b", "caf\xe9"
	y0 := time.Date(0, 12, 31, 23, 59, 59, 0, time.UTC)
	y10k := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	// In UTC+1 this is year 1 locally but year 0 in UTC.
	early := time.Date(1, 1, 1, 0, 30, 0, 0, time.FixedZone("UTC+1", 3600))
	return []badValue{
		{"NaN", "F", Scalar{F: nan}},
		{"+Inf", "F", Scalar{F: inf}},
		{"-Inf", "F", Scalar{F: -inf}},
		{"NaN in a nullable float", "NF", Scalar{NF: &nan}},
		{"Inf in a nullable float", "NF", Scalar{NF: &inf}},
		{"NUL in text", "Text", Scalar{Text: nul}},
		{"NUL at the end of text", "Text", Scalar{Text: "abc\x00"}},
		{"NUL after non-ASCII text", "Text", Scalar{Text: "ü\x00"}},
		{"invalid UTF-8", "Text", Scalar{Text: bad}},
		{"NUL in nullable text", "NText", Scalar{NText: &nul}},
		{"invalid UTF-8 in nullable text", "NText", Scalar{NText: &bad}},
		{"year 0", "T", Scalar{T: y0}},
		{"year 10000", "T", Scalar{T: y10k}},
		{"year 0 in UTC", "T", Scalar{T: early}},
		{"year -1", "T", Scalar{T: time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC)}},
		{"year 10000 in a nullable time", "NT", Scalar{NT: &y10k}},
		{"NUL in JSON", "JSON", Scalar{JSON: Meta{Tags: []string{"x\x00"}}}},
		{"NUL in nullable JSON", "NJSON", Scalar{NJSON: &Meta{Attrs: map[string]string{"k\x00": "v"}}}},
		{"invalid UTF-8 in JSON", "JSON", Scalar{JSON: Meta{Tags: []string{"ok", "caf\xe9"}}}},
		{"invalid UTF-8 in a JSON key", "NJSON", Scalar{NJSON: &Meta{Attrs: map[string]string{"\xff": "v"}}}},
	}
}

func checkValueError(t *testing.T, what string, err error, field string) {
	t.Helper()
	var ve *forge.ValueError
	if !errors.As(err, &ve) {
		t.Errorf("%s: %v, want a *forge.ValueError", what, err)
		return
	}
	if ve.Model != "Scalar" || ve.Field != field {
		t.Errorf("%s: the error names model %q field %q, want Scalar.%s: %v", what, ve.Model, ve.Field, field, err)
	}
}

// goodRow fills the fields a bad value leaves zero with good ones, so that
// only the bad value can be refused.
func goodRow(v Scalar) Scalar {
	if v.T.IsZero() {
		v.T = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return v
}

func testValueRefusals(t *testing.T, h *Harness) {
	ctx := context.Background()
	db := scalarDB(t, h)
	c := Scalars.Cols()
	ok, err := Scalars.Create(ctx, db, goodRow(Scalar{Text: "keep"}))
	must(t, err)
	for _, bv := range badValues() {
		row := goodRow(bv.row)
		_, err := Scalars.Create(ctx, db, row)
		checkValueError(t, bv.name+": Create", err, bv.field)
		_, err = Scalars.CreateMany(ctx, db, []Scalar{goodRow(Scalar{Text: "first"}), row})
		checkValueError(t, bv.name+": CreateMany", err, bv.field)
		_, err = Scalars.Upsert(ctx, db, row, forge.OnConflict())
		checkValueError(t, bv.name+": Upsert", err, bv.field)
		_, err = db.Batch(ctx, Scalars.CreateOp(goodRow(Scalar{Text: "first"})), Scalars.CreateOp(row))
		checkValueError(t, bv.name+": Batch", err, bv.field)
	}
	// Updates and filters follow the same rules.
	nan := math.NaN()
	y0 := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	pin := forge.Eq(&c.ID, ok.ID)
	_, err = Scalars.Update(ctx, db, pin, forge.Set(&c.F, nan))
	checkValueError(t, "Update to NaN", err, "F")
	_, err = Scalars.UpdateMany(ctx, db, forge.All(), forge.Set(&c.T, y0))
	checkValueError(t, "UpdateMany to year 0", err, "T")
	_, err = Scalars.UpdateMany(ctx, db, forge.All(), forge.Set(&c.NText, forge.Ptr("x\x00")))
	checkValueError(t, "UpdateMany to NUL text", err, "NText")
	_, err = db.Batch(ctx, Scalars.UpdateManyOp(forge.All(), forge.Set(&c.F, 1.0)), Scalars.UpdateManyOp(forge.All(), forge.Set(&c.F, nan)))
	checkValueError(t, "a Batch whose second op sets NaN", err, "F")
	for name, cond := range map[string]forge.Cond{
		"Eq NaN":            forge.Eq(&c.F, nan),
		"Gt year 0":         forge.Gt(&c.T, y0),
		"In with NUL":       forge.In(&c.Text, "a", "b\x00"),
		"Contains NUL":      forge.Contains(&c.Text, "\x00"),
		"StartsWith NUL":    forge.StartsWith(&c.Text, "k\x00"),
		"EndsWith NUL":      forge.EndsWith(&c.NText, "\x00p"),
		"EndsWith bad UTF8": forge.EndsWith(&c.Text, "\xff"),
	} {
		_, err := Scalars.FindMany(ctx, db, forge.Where(cond))
		var ve *forge.ValueError
		if !errors.As(err, &ve) || ve.Model != "Scalar" {
			t.Errorf("filter %s: %v, want a *forge.ValueError", name, err)
		}
	}
	// Nothing was written, and the table still reads.
	all, err := Scalars.FindMany(ctx, db)
	must(t, err)
	if len(all) != 1 || all[0].Text != "keep" || all[0].F != 0 {
		t.Errorf("after refused writes the table holds %+v, want only the first row unchanged", all)
	}
}

func testValueEdges(t *testing.T, h *Harness) {
	ctx := context.Background()
	db := scalarDB(t, h)
	c := Scalars.Cols()
	negZero := math.Copysign(0, -1)
	cases := []struct {
		name string
		in   Scalar
		want func(v *Scalar) // the value as stored, from the input
	}{
		{"first instant of year 1", Scalar{T: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)}, nil},
		{"last microsecond of year 9999", Scalar{T: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)}, nil},
		{"year 9999 from a zone east of UTC", Scalar{T: time.Date(10000, 1, 1, 0, 30, 0, 0, time.FixedZone("UTC+1", 3600))}, nil},
		{"nanoseconds are truncated to microseconds", Scalar{T: time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC), NT: forge.Ptr(time.Date(2024, 5, 6, 7, 8, 9, 123456001, time.UTC))},
			func(v *Scalar) {
				v.T = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
				v.NT = forge.Ptr(time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC))
			}},
		{"before 1970, truncated toward the past", Scalar{T: time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC)},
			func(v *Scalar) { v.T = time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC) }},
		{"a monotonic clock reading", Scalar{T: time.Now()}, func(v *Scalar) { v.T = v.T.Round(0).UTC().Truncate(time.Microsecond) }},
		{"-0 is stored as 0", Scalar{T: time.Unix(0, 0), F: negZero, NF: &negZero}, func(v *Scalar) { v.F = 0; v.NF = forge.Ptr(0.0) }},
		{"the largest floats", Scalar{T: time.Unix(0, 0), F: -math.MaxFloat64, NF: forge.Ptr(math.MaxFloat64)}, nil},
		{"every Unicode plane and a tab", Scalar{T: time.Unix(0, 0), Text: "\t\u007f\u0080\u07ff\u0800\uffff\U00010000\U0010ffff"}, nil},
		{"a backslash-u0000 text in JSON", Scalar{T: time.Unix(0, 0), JSON: Meta{Tags: []string{`\u0000`, `\\u0000`, `\ufffd`}}}, nil},
		{"U+FFFD itself in JSON", Scalar{T: time.Unix(0, 0), JSON: Meta{Tags: []string{"\ufffd"}, Attrs: map[string]string{"\ufffd": "\ufffd"}}}, nil},
	}
	for _, tc := range cases {
		want := tc.in
		if tc.want != nil {
			tc.want(&want)
		}
		out, err := Scalars.Create(ctx, db, tc.in)
		if err != nil {
			t.Errorf("%s: Create: %v", tc.name, err)
			continue
		}
		want.ID = out.ID
		got, err := Scalars.FindUnique(ctx, db, forge.Eq(&c.ID, out.ID))
		must(t, err)
		diffScalars(t, tc.name+": read back", got, want)
		diffScalars(t, tc.name+": Create returned", out, want)
		if got.F == 0 && math.Signbit(got.F) {
			t.Errorf("%s: read back -0", tc.name)
		}
		// The stored value is found by the value given (forge encodes
		// filter values as it encodes stored ones).
		n, err := Scalars.Count(ctx, db, forge.Eq(&c.ID, out.ID), forge.Eq(&c.T, tc.in.T), forge.Eq(&c.F, tc.in.F), forge.Eq(&c.Text, tc.in.Text))
		must(t, err)
		if n != 1 {
			t.Errorf("%s: filtering by the values given found %d rows", tc.name, n)
		}
		// Range filters on times compare the stored time with the exact
		// bound, also for bounds between two microseconds.
		stored := want.T
		for _, d := range []time.Duration{0, -1, 1, -999, 999, -time.Microsecond, time.Microsecond} {
			x := tc.in.T.Add(d)
			if y := x.UTC().Year(); y < 1 || y > 9999 {
				continue
			}
			for _, op := range []struct {
				name string
				cond forge.Cond
				want bool
			}{
				{"Lt", forge.Lt(&c.T, x), stored.Before(x)},
				{"Le", forge.Le(&c.T, x), !stored.After(x)},
				{"Gt", forge.Gt(&c.T, x), stored.After(x)},
				{"Ge", forge.Ge(&c.T, x), !stored.Before(x)},
				{"Lt nullable", forge.Lt(&c.NT, &x), want.NT != nil && want.NT.Before(x)},
			} {
				n, err := Scalars.Count(ctx, db, forge.Eq(&c.ID, out.ID), op.cond)
				must(t, err)
				if (n == 1) != op.want {
					t.Errorf("%s: %s(T, stored %s %+dns) matched %d rows, want %v", tc.name, op.name, stored.Format(time.RFC3339Nano), x.Sub(stored), n, op.want)
				}
			}
		}
	}
}

// placeholders returns n placeholders of the DB's dialect, comma separated.
func placeholders(db *forge.DB, n int) string {
	var b []byte
	for i := 1; i <= n; i++ {
		if i > 1 {
			b = append(b, ", "...)
		}
		b = db.Dialect().AppendPlaceholder(b, i)
	}
	return string(b)
}

func testRawArgs(t *testing.T, h *Harness) {
	ctx := context.Background()
	db := scalarDB(t, h)
	c := Scalars.Cols()
	insert := `INSERT INTO "scalars" ("text", "i64", "i32", "f", "b", "t", "json") VALUES (` + placeholders(db, 7) + `)`
	now := time.Now() // carries a monotonic reading: String() would add "m=+..."
	loc := time.Date(2001, 2, 3, 4, 5, 6, 7008009, time.FixedZone("x", -7*3600))
	for i, tm := range []time.Time{now, loc} {
		_, err := forge.Exec(ctx, db, insert, "raw"+strconv.Itoa(i), int64(1), int32(2), 1.5, true, tm, `{"tags":[]}`)
		must(t, err)
		got, err := Scalars.FindFirst(ctx, db, forge.Where(forge.Eq(&c.Text, "raw"+strconv.Itoa(i))))
		if err != nil {
			t.Fatalf("reading a row written by Exec with a time.Time: %v", err)
		}
		if want := tm.UTC().Truncate(time.Microsecond); !got.T.Equal(want) {
			t.Errorf("Exec stored the time %v as %v", want, got.T)
		}
		// Typed filters compare with it correctly.
		for name, cond := range map[string]forge.Cond{
			"Eq": forge.Eq(&c.T, tm),
			"Ge": forge.Ge(&c.T, tm.Truncate(time.Microsecond)), // stored truncated
			"Le": forge.Le(&c.T, tm),
			"Gt": forge.Gt(&c.T, tm.Add(-time.Microsecond)),
			"Lt": forge.Lt(&c.T, tm.Add(time.Microsecond)),
		} {
			n, err := Scalars.Count(ctx, db, cond, forge.Eq(&c.Text, "raw"+strconv.Itoa(i)))
			must(t, err)
			if n != 1 {
				t.Errorf("time %d: filter %s on a time written by Exec found %d rows", i, name, n)
			}
		}
		// Raw queries bind times the same way.
		q := `SELECT "id", "text" FROM "scalars" WHERE "t" = ` + placeholders(db, 1)
		rows, err := Scalars.Raw(ctx, db, q, tm)
		must(t, err)
		if len(rows) != 1 {
			t.Errorf("time %d: Raw with a time.Time argument found %d rows", i, len(rows))
		}
	}
	// Raw arguments follow the value rules, and nothing runs.
	for name, args := range map[string][]any{
		"NaN":       {"bad", int64(1), int32(2), math.NaN(), true, now, `{}`},
		"year 0":    {"bad", int64(1), int32(2), 1.0, true, time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), `{}`},
		"NUL text":  {"b\x00d", int64(1), int32(2), 1.0, true, now, `{}`},
		"bad UTF-8": {"\xc3", int64(1), int32(2), 1.0, true, now, `{}`},
	} {
		_, err := forge.Exec(ctx, db, insert, args...)
		var ve *forge.ValueError
		if !errors.As(err, &ve) || ve.Arg == 0 || ve.Model != "" {
			t.Errorf("Exec with %s: %v, want a *forge.ValueError naming the argument", name, err)
		}
		_, err = db.Batch(ctx, forge.ExecOp(insert, args...))
		if !errors.As(err, &ve) {
			t.Errorf("ExecOp with %s: %v, want a *forge.ValueError", name, err)
		}
	}
	n, err := Scalars.Count(ctx, db)
	must(t, err)
	if n != 2 {
		t.Errorf("%d rows, want the 2 good ones", n)
	}
}

type scoreGroup struct {
	AuthorID int64
	Posts    int64
	Score    float64
	Words    int32
}

type timeRange struct {
	First, Last   time.Time
	NFirst, NLast *time.Time
	MinAge        int64
	MaxNick       *string
}

func testAggregatePaging(t *testing.T, h *Harness) {
	ctx := context.Background()
	us := seedUsers(t, h.DB, 6)
	pc := Posts.Cols()
	// Author i has i+1 posts; scores tie for authors 1 and 2.
	var posts []Post
	for i, u := range us {
		for j := 0; j <= i; j++ {
			score := float64(i)
			if i == 2 {
				score = 1
			}
			posts = append(posts, Post{AuthorID: u.ID, Title: "p", Words: int32(j), Score: score})
		}
	}
	for _, p := range posts { // one by one: D1's REST API has no atomic multi-statement insert
		_, err := Posts.Create(ctx, h.DB, p)
		must(t, err)
	}
	describe := func(order func(r *scoreGroup, a *forge.Agg)) func(r *scoreGroup, a *forge.Agg) {
		return func(r *scoreGroup, a *forge.Agg) {
			forge.Group(a, &r.AuthorID, &pc.AuthorID)
			forge.CountAll(a, &r.Posts)
			forge.Max(a, &r.Score, &pc.Score)
			forge.Max(a, &r.Words, &pc.Words)
			if order != nil {
				order(r, a)
			}
		}
	}
	authors := func(gs []scoreGroup) []int64 {
		var out []int64
		for _, g := range gs {
			out = append(out, g.AuthorID)
		}
		return out
	}
	// Top 3 authors by post count.
	top, err := forge.Aggregate(ctx, h.DB, Posts, describe(func(r *scoreGroup, a *forge.Agg) { a.OrderBy(&r.Posts, forge.Desc) }), forge.Take(3))
	must(t, err)
	if want := []int64{us[5].ID, us[4].ID, us[3].ID}; !slices.Equal(authors(top), want) || top[0].Posts != 6 {
		t.Errorf("top 3 by count: %+v, want authors %v", top, want)
	}
	// Page 2 of the groups ordered by a group column.
	page, err := forge.Aggregate(ctx, h.DB, Posts, describe(nil), forge.OrderBy(&pc.AuthorID, forge.Desc), forge.Skip(2), forge.Take(2))
	must(t, err)
	if want := []int64{us[3].ID, us[2].ID}; !slices.Equal(authors(page), want) {
		t.Errorf("OrderBy a group column with Skip/Take: %v, want %v", authors(page), want)
	}
	// Ties on an aggregate are broken by the group columns: pages are
	// stable and cover every group once.
	var seen []int64
	for skip := 0; skip < len(us); skip += 2 {
		p, err := forge.Aggregate(ctx, h.DB, Posts, describe(func(r *scoreGroup, a *forge.Agg) { a.OrderBy(&r.Score, forge.Asc) }), forge.Skip(skip), forge.Take(2))
		must(t, err)
		seen = append(seen, authors(p)...)
	}
	if want := []int64{us[0].ID, us[1].ID, us[2].ID, us[3].ID, us[4].ID, us[5].ID}; !slices.Equal(seen, want) {
		t.Errorf("pages ordered by a tied aggregate: %v, want %v", seen, want)
	}
	// Ordering by a field that is not mapped is a QueryError.
	var qe *forge.QueryError
	_, err = forge.Aggregate(ctx, h.DB, Posts, func(r *scoreGroup, a *forge.Agg) {
		forge.CountAll(a, &r.Posts)
		a.OrderBy(&r.Score, forge.Desc)
	})
	if !errors.As(err, &qe) {
		t.Errorf("OrderBy an unmapped result field: %v", err)
	}

	// Min and Max of times (and of nullable columns) into their Go types.
	uc := Users.Cols()
	t0 := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, u := range us {
		_, err := Users.Update(ctx, h.DB, forge.Eq(&uc.ID, u.ID), forge.Set(&uc.CreatedAt, t0.AddDate(i, 0, 0)))
		must(t, err)
	}
	_, err = Users.Update(ctx, h.DB, forge.Eq(&uc.ID, us[1].ID), forge.Set(&uc.Nickname, forge.Ptr("zed")))
	must(t, err)
	tr, err := forge.Aggregate(ctx, h.DB, Users, func(r *timeRange, a *forge.Agg) {
		forge.Min(a, &r.First, &uc.CreatedAt)
		forge.Max(a, &r.Last, &uc.CreatedAt)
		forge.Min(a, &r.MinAge, &uc.Age)
		forge.Max(a, &r.MaxNick, &uc.Nickname)
	})
	must(t, err)
	if len(tr) != 1 || !tr[0].First.Equal(t0) || !tr[0].Last.Equal(t0.AddDate(5, 0, 0)) || tr[0].MinAge != 20 || tr[0].MaxNick == nil || *tr[0].MaxNick != "zed" {
		t.Errorf("Min/Max of times: %+v", tr)
	}
	sdb := scalarDB(t, h)
	vc := Scalars.Cols()
	_, err = Scalars.CreateMany(ctx, sdb, []Scalar{{T: t0}, {T: t0.Add(time.Hour), NT: forge.Ptr(t0.Add(-time.Hour))}})
	must(t, err)
	nr, err := forge.Aggregate(ctx, sdb, Scalars, func(r *timeRange, a *forge.Agg) {
		forge.Min(a, &r.NFirst, &vc.NT)
		forge.Max(a, &r.NLast, &vc.NT)
	}, forge.Where(forge.IsNull(&vc.NT)))
	must(t, err)
	if len(nr) != 1 || nr[0].NFirst != nil || nr[0].NLast != nil {
		t.Errorf("Min/Max of only NULL times: %+v", nr)
	}
	nr, err = forge.Aggregate(ctx, sdb, Scalars, func(r *timeRange, a *forge.Agg) {
		forge.Min(a, &r.NFirst, &vc.NT)
	})
	must(t, err)
	if len(nr) != 1 || nr[0].NFirst == nil || !nr[0].NFirst.Equal(t0.Add(-time.Hour)) {
		t.Errorf("Min of a nullable time: %+v", nr)
	}
}

func testNullOrder(t *testing.T, h *Harness) {
	ctx := context.Background()
	c := Users.Cols()
	nicks := []*string{forge.Ptr("b"), nil, forge.Ptr("a"), nil, forge.Ptr("c"), forge.Ptr("a")}
	var us []User
	for i, n := range nicks {
		u, err := Users.Create(ctx, h.DB, User{Email: fmt.Sprintf("n%d@x", i), Name: "n", Nickname: n})
		must(t, err)
		us = append(us, u)
	}
	// The expected order: NULL is the largest value, ties by id.
	expect := func(desc bool) []int64 {
		s := slices.Clone(us)
		slices.SortStableFunc(s, func(a, b User) int {
			r := 0
			switch {
			case a.Nickname == nil && b.Nickname == nil:
			case a.Nickname == nil:
				r = 1
			case b.Nickname == nil:
				r = -1
			default:
				r = compareStrings(*a.Nickname, *b.Nickname)
			}
			if desc {
				r = -r
			}
			if r == 0 {
				r = compareInts(a.ID, b.ID)
			}
			return r
		})
		return ids(s)
	}
	for _, dir := range []forge.Direction{forge.Asc, forge.Desc} {
		want := expect(dir == forge.Desc)
		got, err := Users.FindMany(ctx, h.DB, forge.OrderBy(&c.Nickname, dir), forge.OrderBy(&c.ID, forge.Asc))
		must(t, err)
		if !slices.Equal(ids(got), want) {
			t.Errorf("OrderBy(Nickname, %v): %v, want %v (NULL sorts as the largest value)", dir, ids(got), want)
		}
		// Keyset pages over the nullable column visit every row once, in
		// that order, for every page size.
		for size := 1; size <= 4; size++ {
			var seen []int64
			opts := []forge.Option{forge.OrderBy(&c.Nickname, dir), forge.Take(size)}
			page, err := Users.FindMany(ctx, h.DB, opts...)
			must(t, err)
			for len(page) > 0 && len(seen) <= len(us) {
				seen = append(seen, ids(page)...)
				last := page[len(page)-1]
				page, err = Users.FindMany(ctx, h.DB, append(opts, forge.After(&last))...)
				must(t, err)
			}
			if !slices.Equal(seen, want) {
				t.Errorf("After over Nickname %v, pages of %d: %v, want %v", dir, size, seen, want)
			}
		}
	}
}

// testNullOrderTwoColumns pages over two orderings, a nullable and a
// non-null one, in every combination of directions, with ties and NULLs:
// keyset pages and Skip/Take pages visit the rows of the full ordering once,
// in order, and the full ordering is the one forge documents.
func testNullOrderTwoColumns(t *testing.T, h *Harness) {
	ctx := context.Background()
	c := Users.Cols()
	nicks := []*string{nil, forge.Ptr("x"), forge.Ptr("y"), nil, forge.Ptr("x")}
	var us []User
	for i := 0; i < 15; i++ {
		u, err := Users.Create(ctx, h.DB, User{Email: fmt.Sprintf("t%02d@x", i), Name: fmt.Sprintf("n%d", i%3), Nickname: nicks[(i*7)%len(nicks)]})
		must(t, err)
		us = append(us, u)
	}
	cmpNick := func(a, b *string) int {
		switch {
		case a == nil && b == nil:
			return 0
		case a == nil:
			return 1
		case b == nil:
			return -1
		}
		return compareStrings(*a, *b)
	}
	for _, d1 := range []forge.Direction{forge.Asc, forge.Desc} {
		for _, d2 := range []forge.Direction{forge.Asc, forge.Desc} {
			want := slices.Clone(us)
			slices.SortStableFunc(want, func(a, b User) int {
				r := cmpNick(a.Nickname, b.Nickname)
				if d1 == forge.Desc {
					r = -r
				}
				if r == 0 {
					r = compareStrings(a.Name, b.Name)
					if d2 == forge.Desc {
						r = -r
					}
				}
				if r == 0 {
					r = compareInts(a.ID, b.ID)
				}
				return r
			})
			order := []forge.Option{forge.OrderBy(&c.Nickname, d1), forge.OrderBy(&c.Name, d2)}
			for _, size := range []int{1, 2, 4} {
				var keyset, skipped []int64
				page, err := Users.FindMany(ctx, h.DB, append(order, forge.Take(size))...)
				must(t, err)
				for len(page) > 0 && len(keyset) <= len(us) {
					keyset = append(keyset, ids(page)...)
					last := page[len(page)-1]
					page, err = Users.FindMany(ctx, h.DB, append(order, forge.Take(size), forge.After(&last))...)
					must(t, err)
				}
				for skip := 0; skip < len(us); skip += size {
					p, err := Users.FindMany(ctx, h.DB, append(order, forge.Skip(skip), forge.Take(size))...)
					must(t, err)
					skipped = append(skipped, ids(p)...)
				}
				if !slices.Equal(keyset, ids(want)) {
					t.Errorf("Nickname %v, Name %v, keyset pages of %d: %v, want %v", d1, d2, size, keyset, ids(want))
				}
				if !slices.Equal(skipped, ids(want)) {
					t.Errorf("Nickname %v, Name %v, Skip/Take pages of %d: %v, want %v", d1, d2, size, skipped, ids(want))
				}
			}
		}
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareInts(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testNilDB(t *testing.T, h *Harness) {
	ctx := context.Background()
	var db *forge.DB
	var tx *forge.Tx
	c := Users.Cols()
	cases := map[string]error{}
	cases["Transaction"] = db.Transaction(ctx, func(*forge.Tx) error { return nil })
	_, cases["Batch"] = db.Batch(ctx, Users.CreateOp(User{Email: "x"}))
	cases["CreateSchema"] = db.CreateSchema(ctx)
	_, cases["Drift"] = db.Drift(ctx)
	cases["Close"] = db.Close()
	cases["Tx.Transaction"] = tx.Transaction(ctx, func(*forge.Tx) error { return nil })
	_, cases["Tx.Batch"] = tx.Batch(ctx, Users.CreateOp(User{Email: "x"}))
	_, cases["Exec"] = forge.Exec(ctx, db, "SELECT 1")
	_, cases["Aggregate"] = forge.Aggregate(ctx, db, Users, func(r *struct{ N int64 }, a *forge.Agg) { forge.CountAll(a, &r.N) })
	_, cases["Raw"] = Users.Raw(ctx, db, "SELECT 1")
	_, cases["FindMany"] = Users.FindMany(ctx, db)
	_, cases["Update"] = Users.Update(ctx, db, forge.Eq(&c.ID, 1), forge.Set(&c.Name, "x"))
	_, cases["Upsert"] = Users.Upsert(ctx, db, User{Email: "x"}, forge.OnConflict(&c.Email))
	cases["zero DB Transaction"] = (&forge.DB{}).Transaction(ctx, func(*forge.Tx) error { return nil })
	_, cases["zero DB Batch"] = (&forge.DB{}).Batch(ctx)
	cases["nil function"] = h.DB.Transaction(ctx, nil)
	for name, err := range cases {
		var qe *forge.QueryError
		if !errors.As(err, &qe) {
			t.Errorf("%s on a nil *DB: %v, want a *forge.QueryError", name, err)
		}
	}
	if db.Dialect() != nil || db.Driver() != nil || db.Schema() != nil {
		t.Error("the accessors of a nil *DB return something")
	}
}

// driverLimits are the per-driver limits of the value classes that forge
// cannot lift: D1 (binding and REST) refuses integers beyond ±(2^53-1) with
// its driver's error, since it returns JavaScript numbers; D1's REST API
// sends floats as text, which SQLite's text-to-REAL conversion does not
// read back exactly at every value (see d1rest's expected failures).
func driverLimits(db *forge.DB) (maxInt int64, anyFloat bool) {
	switch driver.Name(db.Driver()) {
	case "d1":
		return 1<<53 - 1, true
	case "d1rest":
		return 1<<53 - 1, false
	}
	return math.MaxInt64, true
}

// randomText returns valid UTF-8 without NUL: ASCII (quotes, wildcards,
// backslashes, controls), two- to four-byte runes and U+FFFD.
func randomText(r *rand.Rand) string {
	pools := [][2]rune{{1, 0x7f}, {0x80, 0x7ff}, {0x800, 0xd7ff}, {0xe000, 0xfffd}, {0x10000, 0x10ffff}}
	var b []rune
	for n := r.IntN(40); len(b) < n; {
		p := pools[r.IntN(len(pools))]
		b = append(b, p[0]+rune(r.IntN(int(p[1]-p[0]+1))))
	}
	return string(b)
}

// testValueRandom round-trips random values of every kind, at random
// magnitudes, and checks that random text made invalid is refused.
func testValueRandom(t *testing.T, h *Harness) {
	ctx := context.Background()
	db := scalarDB(t, h)
	c := Scalars.Cols()
	r := rand.New(rand.NewPCG(7, 11))
	maxInt, anyFloat := driverLimits(h.DB)
	lo, hi := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	randInt := func() int64 {
		v := int64(r.Uint64() >> r.IntN(64))
		if r.IntN(2) == 0 {
			v = -v
		}
		if v > maxInt || v < -maxInt {
			v %= maxInt
		}
		return v
	}
	randFloat := func() float64 {
		if !anyFloat {
			return float64(randInt()%(1<<40)) / 1024
		}
		for {
			if f := math.Float64frombits(r.Uint64()); !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f
			}
		}
	}
	randTime := func() time.Time {
		zone := time.FixedZone("z", (r.IntN(49)-24)*1800)
		for {
			t := time.Unix(lo+r.Int64N(hi-lo), r.Int64N(1e9)).In(zone)
			if y := t.UTC().Year(); y >= 1 && y <= 9999 {
				return t
			}
		}
	}
	for i := 0; i < 30; i++ {
		in := Scalar{
			Text: randomText(r), I64: randInt(), I32: int32(r.Uint32()), F: randFloat(), B: r.IntN(2) == 0, T: randTime(),
			JSON: Meta{Tags: []string{randomText(r), randomText(r)}, Attrs: map[string]string{randomText(r): randomText(r)}, N: randInt()},
		}
		if r.IntN(2) == 0 {
			in.NText, in.NI64, in.NF = forge.Ptr(randomText(r)), forge.Ptr(randInt()), forge.Ptr(randFloat())
			in.NT, in.NJSON = forge.Ptr(randTime()), &Meta{Tags: []string{}, N: randInt()}
		}
		want := in
		want.T = in.T.UTC().Truncate(time.Microsecond)
		if in.NT != nil {
			want.NT = forge.Ptr(in.NT.UTC().Truncate(time.Microsecond))
		}
		if want.F == 0 {
			want.F = 0 // -0 is stored as 0
		}
		if want.NF != nil && *want.NF == 0 {
			want.NF = forge.Ptr(0.0)
		}
		out, err := Scalars.Create(ctx, db, in)
		if err != nil {
			t.Errorf("random row %d: Create(%+v): %v", i, in, err)
			continue
		}
		want.ID = out.ID
		got, err := Scalars.FindUnique(ctx, db, forge.Eq(&c.ID, out.ID))
		must(t, err)
		diffScalars(t, fmt.Sprintf("random row %d: read back", i), got, want)
		diffScalars(t, fmt.Sprintf("random row %d: Create returned", i), out, want)
		n, err := Scalars.Count(ctx, db, forge.Eq(&c.Text, in.Text), forge.Eq(&c.I64, in.I64), forge.Eq(&c.I32, in.I32),
			forge.Eq(&c.F, in.F), forge.Eq(&c.B, in.B), forge.Eq(&c.T, in.T), forge.Eq(&c.NT, in.NT), forge.Eq(&c.NF, in.NF),
			forge.StartsWith(&c.Text, in.Text), forge.EndsWith(&c.Text, in.Text))
		must(t, err)
		if n != 1 {
			t.Errorf("random row %d: filtering by its values found %d rows", i, n)
		}
		// The same text made invalid is refused, and writes nothing.
		bad := in
		s := []byte(in.Text)
		at := r.IntN(len(s) + 1)
		if r.IntN(2) == 0 {
			bad.Text = string(s[:at]) + "\x00" + string(s[at:])
		} else {
			bad.Text = string(s[:at]) + "\xff" + string(s[at:])
		}
		var ve *forge.ValueError
		if _, err := Scalars.Create(ctx, db, bad); !errors.As(err, &ve) || ve.Field != "Text" {
			t.Errorf("random row %d: Create with text %q: %v, want a *forge.ValueError", i, bad.Text, err)
		}
	}
	n, err := Scalars.Count(ctx, db)
	must(t, err)
	if n != 30 {
		t.Errorf("%d rows, want 30", n)
	}
}
