package forgetest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/driver"
)

// Tests is the conformance suite.
var Tests = []Test{
	{"CreateAndFind", testCreateAndFind},
	{"TextID", testTextID},
	{"Values", testValues},
	{"Filters", testFilters},
	{"TextMatchIsLiteral", testTextMatch},
	{"TextEqualityIsLiteral", testTextEquality},
	{"OrderTakeSkip", testOrderTakeSkip},
	{"CursorPagination", testCursor},
	{"Select", testSelect},
	{"Include", testInclude},
	{"CountExists", testCountExists},
	{"CreateManySplits", testCreateManySplits},
	{"UpdateDelete", testUpdateDelete},
	{"Upsert", testUpsert},
	{"Aggregate", testAggregate},
	{"Raw", testRaw},
	{"Transaction", testTransaction},
	{"NestedTransaction", testNestedTransaction},
	{"Batch", testBatch},
	{"ConstraintErrors", testConstraintErrors},
	{"ContextCancel", testContextCancel},
	{"Events", testEvents},
	{"BadInput", testBadInput},
	{"ValueRefusals", testValueRefusals},
	{"ValueEdges", testValueEdges},
	{"ValueRandom", testValueRandom},
	{"RawArgs", testRawArgs},
	{"AggregatePaging", testAggregatePaging},
	{"NullOrder", testNullOrder},
	{"NullOrderTwoColumns", testNullOrderTwoColumns},
	{"NilDB", testNilDB},
	{"UpsertKeepsDefaults", testUpsertKeepsDefaults},
	{"ExplicitIDs", testExplicitIDs},
	{"InLong", testInLong},
	{"ConstraintNames", testConstraintNames},
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func seedUsers(t *testing.T, db *forge.DB, n int) []User {
	t.Helper()
	us := make([]User, n)
	for i := range us {
		us[i] = User{Email: fmt.Sprintf("user%02d@example.com", i), Name: fmt.Sprintf("User %02d", i), Age: int64(20 + i%5)}
	}
	if !atomicMulti(db) {
		// A driver that cannot make several statements atomic refuses a
		// CreateMany over its parameter limit; seed row by row.
		for i := range us {
			u, err := Users.Create(context.Background(), db, us[i])
			must(t, err)
			us[i] = u
		}
		return us
	}
	out, err := Users.CreateMany(context.Background(), db, us)
	must(t, err)
	return out
}

// atomicMulti reports whether the driver can apply several statements
// atomically (interactive transactions or batches).
func atomicMulti(db *forge.DB) bool {
	_, begins := db.Driver().(driver.Beginner)
	_, batches := db.Driver().(driver.Batcher)
	return begins || batches
}

func ids(us []User) []int64 {
	out := make([]int64, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func testCreateAndFind(t *testing.T, h *Harness) {
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	u, err := Users.Create(ctx, h.DB, User{Email: "ada@example.com", Name: "Ada"})
	must(t, err)
	if u.ID == 0 {
		t.Fatal("Create did not return the generated id")
	}
	if u.Age != 18 {
		t.Errorf("Default(18) not applied: age %d", u.Age)
	}
	if u.CreatedAt.Before(before) || u.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("DefaultNow gave %v", u.CreatedAt)
	}
	c := Users.Cols()
	got, err := Users.FindUnique(ctx, h.DB, forge.Eq(&c.ID, u.ID))
	must(t, err)
	if got.Email != "ada@example.com" || got.Name != "Ada" || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("FindUnique = %+v, want %+v", got, u)
	}
	_, err = Users.FindUnique(ctx, h.DB, forge.Eq(&c.Email, "nobody@example.com"))
	if !errors.Is(err, forge.ErrNotFound) || !errors.Is(err, sql.ErrNoRows) {
		t.Errorf("FindUnique of a missing row: %v, want ErrNotFound matching sql.ErrNoRows", err)
	}
	_, err = Users.FindFirst(ctx, h.DB, forge.Where(forge.Eq(&c.Name, "Nobody")))
	if !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("FindFirst of a missing row: %v", err)
	}
	first, err := Users.FindFirst(ctx, h.DB, forge.Where(forge.Eq(&c.Name, "Ada")))
	must(t, err)
	if first.ID != u.ID {
		t.Errorf("FindFirst = %d", first.ID)
	}
	// A filter that does not pin one row is refused by FindUnique.
	var qe *forge.QueryError
	if _, err := Users.FindUnique(ctx, h.DB, forge.Eq(&c.Name, "Ada")); !errors.As(err, &qe) {
		t.Errorf("FindUnique on a non-unique field: %v, want a *forge.QueryError", err)
	}
}

func testTextID(t *testing.T, h *Harness) {
	ctx := context.Background()
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		p, err := Profiles.Create(ctx, h.DB, Profile{Bio: "bio"})
		must(t, err)
		if len(p.ID) != 36 || p.ID[14] != '7' {
			t.Fatalf("generated id %q is not a UUIDv7", p.ID)
		}
		if seen[p.ID] {
			t.Fatalf("duplicate id %q", p.ID)
		}
		seen[p.ID] = true
	}
	p, err := Profiles.Create(ctx, h.DB, Profile{ID: "my-own-id", Bio: "x"})
	must(t, err)
	if p.ID != "my-own-id" {
		t.Errorf("an explicit text id was replaced: %q", p.ID)
	}
}

// valueCases are rows with every kind at its edges.
func valueCases() []Value {
	loc := time.FixedZone("UTC+05:30", 5*3600+1800)
	s := "it's \"quoted\" — ünïcödé 🎉 \\ %_*?["
	i64, i32, f, b := int64(math.MinInt64), int32(math.MaxInt32), 0.1, false
	tm := time.Date(1999, 12, 31, 23, 59, 59, 123456000, loc)
	return []Value{
		{
			Text: s, I64: math.MaxInt64, I32: math.MinInt32, F: math.MaxFloat64, B: true,
			T:     time.Date(2024, 2, 29, 12, 30, 45, 999999000, loc),
			Bytes: []byte{0, 1, 2, 255, '\'', '"'}, JSON: Meta{Tags: []string{"a", "b\"c"}, Attrs: map[string]string{"k": "v"}, N: 1 << 53},
			NText: &s, NI64: &i64, NI32: &i32, NF: &f, NB: &b, NT: &tm, NBytes: []byte{}, NJSON: &Meta{Tags: []string{}, N: -1},
		},
		{
			Text: "", I64: math.MinInt64, I32: math.MaxInt32, F: -1.5e-300, B: false,
			T: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), Bytes: []byte{}, JSON: Meta{N: math.MaxInt64},
		},
		{
			Text: "9007199254740993", I64: 1<<53 + 1, I32: 0, F: math.SmallestNonzeroFloat64, B: true,
			T: time.Date(2262, 4, 11, 23, 47, 16, 854775000, time.UTC), Bytes: bytes.Repeat([]byte{0xAB}, 1000),
		},
	}
}

// normValue makes values comparable with reflect.DeepEqual: times are
// rebuilt from their instant (time.Time's internal encoding varies).
func normValue(v Value) Value {
	v.T = time.Unix(0, v.T.UnixNano()).UTC()
	if v.NT != nil {
		t := time.Unix(0, v.NT.UnixNano()).UTC()
		v.NT = &t
	}
	if v.Bytes == nil {
		v.Bytes = []byte{}
	}
	if v.JSON.Tags == nil {
		v.JSON.Tags = nil
	}
	return v
}

// diffValues reports each field of got that differs from want.
func diffValues(t *testing.T, what string, got, want Value) {
	t.Helper()
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
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

func testValues(t *testing.T, h *Harness) {
	ctx := context.Background()
	for i, in := range valueCases() {
		out, err := Values.Create(ctx, h.DB, in)
		must(t, err)
		got, err := Values.FindUnique(ctx, h.DB, forge.Eq(&Values.Cols().ID, out.ID))
		must(t, err)
		want := normValue(in)
		want.ID = out.ID
		diffValues(t, fmt.Sprintf("case %d: round trip", i), normValue(got), want)
		diffValues(t, fmt.Sprintf("case %d: Create returned", i), normValue(out), want)
		if !got.T.Equal(in.T) || got.T.Location() != time.UTC {
			t.Errorf("case %d: time %v, want the instant %v in UTC", i, got.T, in.T)
		}
	}
	// Filters on every kind find the row.
	c := Values.Cols()
	in := valueCases()[0]
	n, err := Values.Count(ctx, h.DB,
		forge.Eq(&c.Text, in.Text), forge.Eq(&c.I64, in.I64), forge.Eq(&c.I32, in.I32),
		forge.Eq(&c.F, in.F), forge.Eq(&c.B, true), forge.Eq(&c.T, in.T),
		forge.Eq(&c.NText, in.NText), forge.Eq(&c.NI64, in.NI64), forge.Eq(&c.NT, in.NT),
		forge.Gt(&c.T, in.T.Add(-time.Microsecond)), forge.Lt(&c.T, in.T.Add(time.Microsecond)))
	must(t, err)
	if n != 1 {
		t.Errorf("filtering on every kind found %d rows, want 1", n)
	}
	n, err = Values.Count(ctx, h.DB, forge.IsNull(&c.NText), forge.IsNull(&c.NJSON), forge.IsNull(&c.NBytes), forge.Eq(&c.NI32, nil))
	must(t, err)
	if n != 2 {
		t.Errorf("IsNull found %d rows, want 2", n)
	}
}

func testFilters(t *testing.T, h *Harness) {
	ctx := context.Background()
	us := seedUsers(t, h.DB, 10) // ages 20..24 twice
	nick := "nick"
	c := Users.Cols()
	_, err := Users.Update(ctx, h.DB, forge.Eq(&c.ID, us[3].ID), forge.Set(&c.Nickname, &nick))
	must(t, err)
	check := func(name string, cond forge.Cond, want func(u User) bool) {
		t.Helper()
		got, err := Users.FindMany(ctx, h.DB, forge.Where(cond), forge.OrderBy(&c.ID, forge.Asc))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		var exp []int64
		for _, u := range us {
			if u.ID == us[3].ID {
				u.Nickname = &nick
			}
			if want(u) {
				exp = append(exp, u.ID)
			}
		}
		if !slices.Equal(ids(got), exp) && !(len(exp) == 0 && len(got) == 0) {
			t.Errorf("%s: got ids %v, want %v", name, ids(got), exp)
		}
	}
	check("Eq", forge.Eq(&c.Age, 22), func(u User) bool { return u.Age == 22 })
	check("Ne", forge.Ne(&c.Age, 22), func(u User) bool { return u.Age != 22 })
	check("Lt", forge.Lt(&c.Age, 22), func(u User) bool { return u.Age < 22 })
	check("Le", forge.Le(&c.Age, 22), func(u User) bool { return u.Age <= 22 })
	check("Gt", forge.Gt(&c.Age, 22), func(u User) bool { return u.Age > 22 })
	check("Ge", forge.Ge(&c.Age, 22), func(u User) bool { return u.Age >= 22 })
	check("In", forge.In(&c.Age, 20, 24), func(u User) bool { return u.Age == 20 || u.Age == 24 })
	check("NotIn", forge.NotIn(&c.Age, 20, 24), func(u User) bool { return u.Age != 20 && u.Age != 24 })
	check("IsNull", forge.IsNull(&c.Nickname), func(u User) bool { return u.Nickname == nil })
	check("IsNotNull", forge.IsNotNull(&c.Nickname), func(u User) bool { return u.Nickname != nil })
	check("EqNil", forge.Eq(&c.Nickname, nil), func(u User) bool { return u.Nickname == nil })
	check("EqPtr", forge.Eq(&c.Nickname, forge.Ptr("nick")), func(u User) bool { return u.Nickname != nil })
	check("And", forge.And(forge.Ge(&c.Age, 21), forge.Le(&c.Age, 22)), func(u User) bool { return u.Age >= 21 && u.Age <= 22 })
	check("Or", forge.Or(forge.Eq(&c.Age, 20), forge.Eq(&c.Email, us[9].Email)), func(u User) bool { return u.Age == 20 || u.ID == us[9].ID })
	check("Not", forge.Not(forge.Eq(&c.Age, 20)), func(u User) bool { return u.Age != 20 })
	check("EmptyAnd", forge.And(), func(User) bool { return true })
	check("EmptyOr", forge.Or(), func(User) bool { return false })
	check("Nested", forge.And(forge.Or(forge.Eq(&c.Age, 20), forge.Eq(&c.Age, 21)), forge.Not(forge.StartsWith(&c.Email, "user0"))),
		func(u User) bool { return (u.Age == 20 || u.Age == 21) && !strings.HasPrefix(u.Email, "user0") })
	check("StartsWith", forge.StartsWith(&c.Email, "user0"), func(u User) bool { return strings.HasPrefix(u.Email, "user0") })
	check("EndsWith", forge.EndsWith(&c.Name, "5"), func(u User) bool { return strings.HasSuffix(u.Name, "5") })
	check("Contains", forge.Contains(&c.Email, "r0"), func(u User) bool { return strings.Contains(u.Email, "r0") })
	check("ContainsNullable", forge.Contains(&c.Nickname, "ic"), func(u User) bool { return u.Nickname != nil })
	// Several Where options are ANDed.
	got, err := Users.FindMany(ctx, h.DB, forge.Where(forge.Ge(&c.Age, 21)), forge.Where(forge.Le(&c.Age, 21)))
	must(t, err)
	if len(got) != 2 {
		t.Errorf("two Where options: %d rows, want 2", len(got))
	}
}

// testTextEquality: Eq, In and a unique key compare text byte for byte:
// case and trailing spaces count (MySQL's and MariaDB's default
// collations ignore both).
func testTextEquality(t *testing.T, h *Harness) {
	ctx := context.Background()
	c := Users.Cols()
	for i, e := range []string{"ada@x", "Ada@x", "ADA@X", "ada@x ", "ada@x  "} {
		if _, err := Users.Create(ctx, h.DB, User{Email: e, Name: fmt.Sprintf("n%d", i)}); err != nil {
			t.Fatalf("unique email %q refused: %v", e, err)
		}
	}
	var ce *forge.ConstraintError
	if _, err := Users.Create(ctx, h.DB, User{Email: "Ada@x", Name: "dup"}); !errors.As(err, &ce) || ce.Kind != forge.UniqueViolation {
		t.Errorf("a duplicate email: %v", err)
	}
	for _, probe := range []string{"ada@x", "Ada@x", "ada@x "} {
		got, err := Users.FindMany(ctx, h.DB, forge.Where(forge.Eq(&c.Email, probe)))
		must(t, err)
		if len(got) != 1 || got[0].Email != probe {
			t.Errorf("Eq(%q) found %d rows: %+v", probe, len(got), got)
		}
		u, err := Users.FindUnique(ctx, h.DB, forge.Eq(&c.Email, probe))
		if err != nil || u.Email != probe {
			t.Errorf("FindUnique(%q) = %q, %v", probe, u.Email, err)
		}
	}
	got, err := Users.FindMany(ctx, h.DB, forge.Where(forge.In(&c.Email, "ADA@X", "ada@X")))
	must(t, err)
	if len(got) != 1 || got[0].Email != "ADA@X" {
		t.Errorf("In found %+v", got)
	}
	if n, err := Users.Count(ctx, h.DB, forge.Ne(&c.Email, "ada@x")); err != nil || n != 4 {
		t.Errorf("Ne counted %d (%v), want 4", n, err)
	}
}

func testTextMatch(t *testing.T, h *Harness) {
	ctx := context.Background()
	names := []string{"100%", "1000", "a_b", "axb", `back\slash`, "backxslash", "star*", "starx", "q?", "qx", "[br]", "b", "Case", "case", "ÜNÏ", "'; DROP TABLE users; --"}
	for i, n := range names {
		_, err := Users.Create(ctx, h.DB, User{Email: fmt.Sprintf("m%d@x", i), Name: n})
		must(t, err)
	}
	c := Users.Cols()
	for _, probe := range []string{"%", "_", `\`, "*", "?", "[", "[br]", "C", "c", "Ï", "'", "DROP TABLE", "", "0%"} {
		for _, kind := range []struct {
			name string
			cond func(s string) forge.Cond
			fn   func(s, sub string) bool
		}{
			{"Contains", func(s string) forge.Cond { return forge.Contains(&c.Name, s) }, strings.Contains},
			{"StartsWith", func(s string) forge.Cond { return forge.StartsWith(&c.Name, s) }, strings.HasPrefix},
			{"EndsWith", func(s string) forge.Cond { return forge.EndsWith(&c.Name, s) }, strings.HasSuffix},
		} {
			got, err := Users.FindMany(ctx, h.DB, forge.Where(kind.cond(probe)), forge.OrderBy(&c.ID, forge.Asc))
			must(t, err)
			var gotNames, want []string
			for _, u := range got {
				gotNames = append(gotNames, u.Name)
			}
			for _, n := range names {
				if kind.fn(n, probe) {
					want = append(want, n)
				}
			}
			if !slices.Equal(gotNames, want) {
				t.Errorf("%s(%q) = %q, want %q", kind.name, probe, gotNames, want)
			}
		}
	}
	n, err := Users.Count(ctx, h.DB)
	must(t, err)
	if n != int64(len(names)) {
		t.Errorf("rows after hostile strings: %d", n)
	}
	// Long values match like short ones (SQLite's GLOB refuses patterns
	// over 50,000 bytes; forge does not use it).
	long := strings.Repeat("*?[%_", 15000)
	_, err = Users.Create(ctx, h.DB, User{Email: "long@x", Name: "<" + long + ">"})
	must(t, err)
	for _, cond := range []forge.Cond{forge.Contains(&c.Name, long), forge.StartsWith(&c.Name, "<"+long), forge.EndsWith(&c.Name, long+">")} {
		got, err := Users.FindMany(ctx, h.DB, forge.Where(cond), forge.Select(&c.Email))
		must(t, err)
		if len(got) != 1 || got[0].Email != "long@x" {
			t.Errorf("a 75,000-byte match found %d rows", len(got))
		}
	}
}

func testOrderTakeSkip(t *testing.T, h *Harness) {
	ctx := context.Background()
	us := seedUsers(t, h.DB, 10)
	c := Users.Cols()
	got, err := Users.FindMany(ctx, h.DB, forge.OrderBy(&c.Age, forge.Desc), forge.OrderBy(&c.Email, forge.Asc), forge.Skip(2), forge.Take(3))
	must(t, err)
	want := slices.Clone(us)
	slices.SortFunc(want, func(a, b User) int {
		if a.Age != b.Age {
			return int(b.Age - a.Age)
		}
		return strings.Compare(a.Email, b.Email)
	})
	if !slices.Equal(ids(got), ids(want[2:5])) {
		t.Errorf("order/skip/take: %v, want %v", ids(got), ids(want[2:5]))
	}
	all, err := Users.FindMany(ctx, h.DB, forge.Skip(8), forge.OrderBy(&c.ID, forge.Asc))
	must(t, err)
	if !slices.Equal(ids(all), ids(us[8:])) {
		t.Errorf("skip without take: %v", ids(all))
	}
	none, err := Users.FindMany(ctx, h.DB, forge.Take(0))
	must(t, err)
	if len(none) != 0 {
		t.Errorf("Take(0) returned %d rows", len(none))
	}
}

func testCursor(t *testing.T, h *Harness) {
	ctx := context.Background()
	us := seedUsers(t, h.DB, 23)
	c := Users.Cols()
	for _, dir := range []forge.Direction{forge.Asc, forge.Desc} {
		want, err := Users.FindMany(ctx, h.DB, forge.OrderBy(&c.Age, dir), forge.OrderBy(&c.ID, forge.Asc))
		must(t, err)
		var pages []User
		var last *User
		for i := 0; i < 10; i++ {
			opts := []forge.Option{forge.OrderBy(&c.Age, dir), forge.Take(5)}
			if last != nil {
				opts = append(opts, forge.After(last))
			}
			page, err := Users.FindMany(ctx, h.DB, opts...)
			must(t, err)
			if len(page) == 0 {
				break
			}
			pages = append(pages, page...)
			last = &page[len(page)-1]
		}
		if !slices.Equal(ids(pages), ids(want)) || len(pages) != len(us) {
			t.Errorf("dir %v: pages %v, want %v", dir, ids(pages), ids(want))
		}
	}
}

func testSelect(t *testing.T, h *Harness) {
	ctx := context.Background()
	seedUsers(t, h.DB, 3)
	c := Users.Cols()
	got, err := Users.FindMany(ctx, h.DB, forge.Select(&c.Email), forge.OrderBy(&c.ID, forge.Asc))
	must(t, err)
	if len(got) != 3 {
		t.Fatalf("%d rows", len(got))
	}
	for _, u := range got {
		if u.Email == "" || u.ID == 0 {
			t.Errorf("selected fields missing: %+v", u)
		}
		if u.Name != "" || u.Age != 0 || !u.CreatedAt.IsZero() {
			t.Errorf("unselected fields were read: %+v", u)
		}
	}
}

func testInclude(t *testing.T, h *Harness) {
	ctx := context.Background()
	us := seedUsers(t, h.DB, 4)
	var posts []Post
	for i, u := range us[:3] {
		for j := 0; j <= i; j++ {
			posts = append(posts, Post{AuthorID: u.ID, Title: fmt.Sprintf("p%d-%d", i, j), Words: int32(j), Draft: j == 1})
		}
	}
	posts, err := Posts.CreateMany(ctx, h.DB, posts)
	must(t, err)
	_, err = Comments.CreateMany(ctx, h.DB, []Comment{
		{PostID: posts[0].ID, Body: "c1", AuthorID: &us[3].ID},
		{PostID: posts[0].ID, Body: "c2"},
		{PostID: posts[5].ID, Body: "c3", AuthorID: &us[0].ID},
	})
	must(t, err)
	h.Events.Reset()
	c, pc, cc := Users.Cols(), Posts.Cols(), Comments.Cols()
	got, err := Users.FindMany(ctx, h.Observed,
		forge.OrderBy(&c.ID, forge.Asc),
		forge.Include(&c.Posts,
			forge.OrderBy(&pc.Title, forge.Asc),
			forge.Include(&pc.Comments, forge.OrderBy(&cc.Body, forge.Asc), forge.Include(&cc.Author))))
	must(t, err)
	if n := len(h.Events.Queries); n != 4 {
		t.Errorf("Include ran %d queries, want 4 (users, posts, comments, comment authors)", n)
	}
	for i, u := range got {
		want := i + 1
		if i == 3 {
			want = 0
		}
		if len(u.Posts) != want {
			t.Errorf("user %d has %d posts, want %d", i, len(u.Posts), want)
		}
		if u.Posts == nil {
			t.Errorf("user %d: Posts is nil, want an empty slice", i)
		}
		for _, p := range u.Posts {
			if p.AuthorID != u.ID {
				t.Errorf("post %d of user %d belongs to %d", p.ID, u.ID, p.AuthorID)
			}
		}
	}
	p0 := got[0].Posts[0]
	if len(p0.Comments) != 2 || p0.Comments[0].Body != "c1" || p0.Comments[0].Author == nil || p0.Comments[0].Author.ID != us[3].ID || p0.Comments[1].Author != nil {
		t.Errorf("nested include: %+v", p0.Comments)
	}
	// Belongs-to, with a filter on the included rows.
	ps, err := Posts.FindMany(ctx, h.DB, forge.Include(&pc.Author), forge.OrderBy(&pc.ID, forge.Asc))
	must(t, err)
	for _, p := range ps {
		if p.Author == nil || p.Author.ID != p.AuthorID {
			t.Errorf("post %d: author %+v", p.ID, p.Author)
		}
	}
	got, err = Users.FindMany(ctx, h.DB, forge.Where(forge.Eq(&c.ID, us[2].ID)),
		forge.Include(&c.Posts, forge.Where(forge.Eq(&pc.Draft, false))), forge.Select(&c.Email))
	must(t, err)
	if len(got) != 1 || len(got[0].Posts) != 2 {
		t.Errorf("filtered include with Select: %+v", got)
	}
}

func testCountExists(t *testing.T, h *Harness) {
	ctx := context.Background()
	c := Users.Cols()
	ok, err := Users.Exists(ctx, h.DB)
	must(t, err)
	if ok {
		t.Error("Exists on an empty table")
	}
	seedUsers(t, h.DB, 7)
	n, err := Users.Count(ctx, h.DB)
	must(t, err)
	if n != 7 {
		t.Errorf("Count = %d", n)
	}
	n, err = Users.Count(ctx, h.DB, forge.Eq(&c.Age, 21))
	must(t, err)
	if n != 2 {
		t.Errorf("Count(age=21) = %d", n)
	}
	ok, err = Users.Exists(ctx, h.DB, forge.Eq(&c.Age, 99))
	must(t, err)
	if ok {
		t.Error("Exists(age=99)")
	}
	ok, err = Users.Exists(ctx, h.DB, forge.Eq(&c.Age, 24))
	must(t, err)
	if !ok {
		t.Error("!Exists(age=24)")
	}
}

func testCreateManySplits(t *testing.T, h *Harness) {
	ctx := context.Background()
	if !atomicMulti(h.DB) {
		_, err := Users.CreateMany(ctx, h.DB, make([]User, h.DB.Dialect().MaxParams()))
		var ce *forge.CapabilityError
		if !errors.As(err, &ce) {
			t.Errorf("a multi-statement CreateMany on a driver that cannot make it atomic: %v", err)
		}
		return
	}
	perStmt := h.DB.Dialect().MaxParams() / 6 // a user row binds 6 values
	n := perStmt + perStmt/2
	us := make([]User, n)
	for i := range us {
		us[i] = User{Email: fmt.Sprintf("bulk%06d@x", i), Name: "bulk"}
	}
	h.Events.Reset()
	out, err := Users.CreateMany(ctx, h.Observed, us)
	must(t, err)
	inserts := 0
	for _, q := range h.Events.Queries {
		if q.Operation == forge.OpCreateMany {
			// One event per statement, or one for a batch of statements.
			n := strings.Count(q.SQL, "INSERT INTO")
			inserts += n
			if n == 1 && q.NumArgs > h.DB.Dialect().MaxParams() {
				t.Errorf("a statement bound %d args, over the limit %d", q.NumArgs, h.DB.Dialect().MaxParams())
			}
		}
	}
	if inserts != 2 {
		t.Errorf("CreateMany of %d rows used %d INSERTs, want 2", n, inserts)
	}
	seen := map[int64]bool{}
	for i, u := range out {
		if u.ID == 0 || seen[u.ID] || u.Email != us[i].Email {
			t.Fatalf("row %d came back as %+v", i, u)
		}
		seen[u.ID] = true
	}
	cnt, err := Users.Count(ctx, h.DB)
	must(t, err)
	if cnt != int64(n) {
		t.Errorf("%d rows stored, want %d", cnt, n)
	}
	// A duplicate in the second statement leaves nothing written.
	us2 := make([]User, n)
	for i := range us2 {
		us2[i] = User{Email: fmt.Sprintf("again%06d@x", i), Name: "again"}
	}
	us2[n-1].Email = us2[0].Email
	if _, err := Users.CreateMany(ctx, h.DB, us2); err == nil {
		t.Fatal("CreateMany with a duplicate succeeded")
	}
	c := Users.Cols()
	cnt, err = Users.Count(ctx, h.DB, forge.Eq(&c.Name, "again"))
	must(t, err)
	if cnt != 0 {
		t.Errorf("a failed multi-statement CreateMany left %d rows", cnt)
	}
}

func testUpdateDelete(t *testing.T, h *Harness) {
	ctx := context.Background()
	us := seedUsers(t, h.DB, 6)
	c := Users.Cols()
	u, err := Users.Update(ctx, h.DB, forge.Eq(&c.Email, us[0].Email), forge.Set(&c.Name, "Renamed"), forge.Set(&c.Age, 99))
	must(t, err)
	if u.Name != "Renamed" || u.Age != 99 || u.ID != us[0].ID {
		t.Errorf("Update returned %+v", u)
	}
	if _, err := Users.Update(ctx, h.DB, forge.Eq(&c.ID, -1), forge.Set(&c.Name, "x")); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("Update of a missing row: %v", err)
	}
	var qe *forge.QueryError
	if _, err := Users.Update(ctx, h.DB, forge.Eq(&c.Age, 20), forge.Set(&c.Name, "x")); !errors.As(err, &qe) {
		t.Errorf("Update with a non-unique filter: %v", err)
	}
	n, err := Users.UpdateMany(ctx, h.DB, forge.Lt(&c.Age, 22), forge.Set(&c.Nickname, forge.Ptr("young")))
	must(t, err)
	if n != 2 {
		t.Errorf("UpdateMany changed %d rows, want 2", n)
	}
	if _, err := Users.UpdateMany(ctx, h.DB, forge.Cond{}, forge.Set(&c.Name, "x")); !errors.As(err, &qe) {
		t.Errorf("UpdateMany without a condition: %v", err)
	}
	n, err = Users.UpdateMany(ctx, h.DB, forge.All(), forge.Set(&c.Nickname, nil))
	must(t, err)
	if n != 6 {
		t.Errorf("UpdateMany(All) = %d", n)
	}
	must(t, Users.Delete(ctx, h.DB, forge.Eq(&c.ID, us[1].ID)))
	if err := Users.Delete(ctx, h.DB, forge.Eq(&c.ID, us[1].ID)); !errors.Is(err, forge.ErrNotFound) {
		t.Errorf("second Delete: %v", err)
	}
	n, err = Users.DeleteMany(ctx, h.DB, forge.Ge(&c.Age, 23)) // 99, 23 and 24
	must(t, err)
	if n != 3 {
		t.Errorf("DeleteMany = %d, want 3", n)
	}
	if _, err := Users.DeleteMany(ctx, h.DB, forge.Cond{}); !errors.As(err, &qe) {
		t.Errorf("DeleteMany without a condition: %v", err)
	}
	left, err := Users.Count(ctx, h.DB)
	must(t, err)
	if left != 2 {
		t.Errorf("%d rows left, want 2", left)
	}
	n, err = Users.DeleteMany(ctx, h.DB, forge.All())
	must(t, err)
	if n != 2 {
		t.Errorf("DeleteMany(All) = %d", n)
	}
}

func testUpsert(t *testing.T, h *Harness) {
	ctx := context.Background()
	c := Users.Cols()
	a, err := Users.Upsert(ctx, h.DB, User{Email: "u@x", Name: "First", Age: 30}, forge.OnConflict(&c.Email))
	must(t, err)
	b, err := Users.Upsert(ctx, h.DB, User{Email: "u@x", Name: "Second", Age: 31}, forge.OnConflict(&c.Email).Update(&c.Name))
	must(t, err)
	if b.ID != a.ID || b.Name != "Second" || b.Age != 30 {
		t.Errorf("Upsert on conflict: %+v (first %+v)", b, a)
	}
	n, err := Users.Count(ctx, h.DB)
	must(t, err)
	if n != 1 {
		t.Errorf("%d rows after two upserts", n)
	}
	tg := Tags.Cols()
	_, err = Tags.Upsert(ctx, h.DB, Tag{Scope: "s", Name: "n"}, forge.OnConflict(&tg.Scope, &tg.Name).Update(&tg.Name))
	must(t, err)
	_, err = Tags.Upsert(ctx, h.DB, Tag{Scope: "s", Name: "n"}, forge.OnConflict(&tg.Scope, &tg.Name).Update(&tg.Name))
	must(t, err)
	n, err = Tags.Count(ctx, h.DB)
	must(t, err)
	if n != 1 {
		t.Errorf("composite-key upsert left %d rows", n)
	}
}

type ageStats struct {
	Age      int64
	N        int64
	Named    int64
	SumAge   int64
	AvgWords float64
	MinName  string
	MaxTime  time.Time
}

func testAggregate(t *testing.T, h *Harness) {
	ctx := context.Background()
	c := Users.Cols()
	describe := func(r *ageStats, a *forge.Agg) {
		forge.Group(a, &r.Age, &c.Age)
		forge.CountAll(a, &r.N)
		forge.Count(a, &r.Named, &c.Nickname)
		forge.Sum(a, &r.SumAge, &c.Age)
		forge.Min(a, &r.MinName, &c.Name)
		forge.Max(a, &r.MaxTime, &c.CreatedAt)
	}
	empty, err := forge.Aggregate(ctx, h.DB, Users, func(r *ageStats, a *forge.Agg) {
		forge.CountAll(a, &r.N)
		forge.Sum(a, &r.SumAge, &c.Age)
		forge.Min(a, &r.MinName, &c.Name)
	})
	must(t, err)
	if len(empty) != 1 || empty[0].N != 0 || empty[0].SumAge != 0 || empty[0].MinName != "" {
		t.Errorf("aggregate of an empty table: %+v", empty)
	}
	us := seedUsers(t, h.DB, 10)
	_, err = Users.UpdateMany(ctx, h.DB, forge.Eq(&c.ID, us[0].ID), forge.Set(&c.Nickname, forge.Ptr("n")))
	must(t, err)
	got, err := forge.Aggregate(ctx, h.DB, Users, describe, forge.Where(forge.Ne(&c.Age, 24)), forge.OrderBy(&c.Age, forge.Desc))
	must(t, err)
	if len(got) != 4 {
		t.Fatalf("%d groups, want 4: %+v", len(got), got)
	}
	for i, g := range got {
		age := int64(23 - i)
		if g.Age != age || g.N != 2 || g.SumAge != 2*age || g.MinName != fmt.Sprintf("User %02d", age-20) || g.MaxTime.IsZero() {
			t.Errorf("group %d: %+v", i, g)
		}
	}
	if got[3].Named != 1 || got[0].Named != 0 {
		t.Errorf("Count(nickname): %+v", got)
	}
	ps := Posts.Cols()
	_, err = Posts.CreateMany(ctx, h.DB, []Post{{AuthorID: us[0].ID, Words: 10, Score: 1.5}, {AuthorID: us[0].ID, Words: 21, Score: 2.25}})
	must(t, err)
	type wordStats struct {
		Avg   float64
		Sum   int32
		Score float64
		Max   int32
	}
	ws, err := forge.Aggregate(ctx, h.DB, Posts, func(r *wordStats, a *forge.Agg) {
		forge.Avg(a, &r.Avg, &ps.Words)
		forge.Sum(a, &r.Sum, &ps.Words)
		forge.Sum(a, &r.Score, &ps.Score)
		forge.Max(a, &r.Max, &ps.Words)
	})
	must(t, err)
	if len(ws) != 1 || ws[0].Avg != 15.5 || ws[0].Sum != 31 || ws[0].Score != 3.75 || ws[0].Max != 21 {
		t.Errorf("aggregates: %+v", ws)
	}
}

func testRaw(t *testing.T, h *Harness) {
	ctx := context.Background()
	us := seedUsers(t, h.DB, 3)
	q := `SELECT "id", "email", "age" FROM "users" WHERE "age" >= ? ORDER BY "id"`
	if h.DB.Dialect().Name() == "postgres" {
		q = strings.Replace(q, "?", "$1", 1)
	}
	got, err := Users.Raw(ctx, h.DB, q, int64(21))
	must(t, err)
	if len(got) != 2 || got[0].ID != us[1].ID || got[0].Email != us[1].Email || got[0].Age != 21 {
		t.Errorf("Raw = %+v", got)
	}
	var qe *forge.QueryError
	if _, err := Users.Raw(ctx, h.DB, `SELECT "id", 1 AS "nope" FROM "users"`); !errors.As(err, &qe) {
		t.Errorf("Raw with an unknown column: %v", err)
	}
	res, err := forge.Exec(ctx, h.DB, `DELETE FROM "users"`)
	must(t, err)
	if res.RowsAffected != 3 {
		t.Errorf("Exec affected %d", res.RowsAffected)
	}
}

var errBoom = errors.New("boom")

// requireTx reports whether the driver has interactive transactions; when
// it has not, it checks that Transaction says so with a *CapabilityError
// and runs nothing.
func requireTx(t *testing.T, h *Harness) bool {
	t.Helper()
	if _, ok := h.DB.Driver().(driver.Beginner); ok {
		return true
	}
	ran := false
	err := h.DB.Transaction(context.Background(), func(*forge.Tx) error { ran = true; return nil })
	var ce *forge.CapabilityError
	if !errors.As(err, &ce) || ran {
		t.Errorf("Transaction on a driver without transactions: %v (ran: %v)", err, ran)
	}
	return false
}

func testTransaction(t *testing.T, h *Harness) {
	if !requireTx(t, h) {
		return
	}
	ctx := context.Background()
	c := Users.Cols()
	h.Events.Reset()
	err := h.Observed.Transaction(ctx, func(tx *forge.Tx) error {
		_, err := Users.Create(ctx, tx, User{Email: "in@tx", Name: "tx"})
		if err != nil {
			return err
		}
		if n := len(h.Events.Mutations); n != 0 {
			t.Errorf("a mutation event before commit (%d)", n)
		}
		return nil
	})
	must(t, err)
	if n := len(h.Events.Mutations); n != 1 {
		t.Errorf("%d mutation events after commit, want 1", n)
	}
	h.Events.Reset()
	err = h.Observed.Transaction(ctx, func(tx *forge.Tx) error {
		if _, err := Users.Create(ctx, tx, User{Email: "rolled@back", Name: "tx"}); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("Transaction returned %v, want the function's error", err)
	}
	if len(h.Events.Mutations) != 0 {
		t.Errorf("mutation events for a rolled-back transaction: %+v", h.Events.Mutations)
	}
	func() {
		defer func() {
			if p := recover(); p != errBoom {
				t.Errorf("recovered %v, want the re-panicked value", p)
			}
		}()
		_ = h.DB.Transaction(ctx, func(tx *forge.Tx) error {
			if _, err := Users.Create(ctx, tx, User{Email: "pan@ic", Name: "tx"}); err != nil {
				return err
			}
			panic(errBoom)
		})
	}()
	n, err := Users.Count(ctx, h.DB, forge.Eq(&c.Name, "tx"))
	must(t, err)
	if n != 1 {
		t.Errorf("%d rows after commit, rollback and panic; want 1", n)
	}
	err = h.DB.Transaction(ctx, func(tx *forge.Tx) error {
		_, err := Users.FindMany(ctx, tx)
		return err
	}, forge.ReadOnly(), forge.WithIsolation(driver.Serializable))
	must(t, err)
	// A read-only transaction refuses writes, whatever the SQL.
	err = h.DB.Transaction(ctx, func(tx *forge.Tx) error {
		_, err := Users.Create(ctx, tx, User{Email: "ro@x", Name: "ro"})
		return err
	}, forge.ReadOnly())
	if err == nil {
		t.Error("a write succeeded in a read-only transaction")
	}
	if n, _ := Users.Count(ctx, h.DB, forge.Eq(&c.Email, "ro@x")); n != 0 {
		t.Error("a read-only transaction wrote a row")
	}
	// The connection is writable again afterwards.
	_, err = Users.Create(ctx, h.DB, User{Email: "rw@x", Name: "rw"})
	must(t, err)
}

func testNestedTransaction(t *testing.T, h *Harness) {
	if !requireTx(t, h) {
		return
	}
	ctx := context.Background()
	c := Users.Cols()
	h.Events.Reset()
	err := h.Observed.Transaction(ctx, func(tx *forge.Tx) error {
		if _, err := Users.Create(ctx, tx, User{Email: "outer@x", Name: "nest"}); err != nil {
			return err
		}
		err := tx.Transaction(ctx, func(inner *forge.Tx) error {
			if _, err := Users.Create(ctx, inner, User{Email: "inner@x", Name: "nest"}); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Errorf("inner Transaction returned %v", err)
		}
		return tx.Transaction(ctx, func(inner *forge.Tx) error {
			_, err := Users.Create(ctx, inner, User{Email: "kept@x", Name: "nest"})
			return err
		})
	})
	must(t, err)
	got, err := Users.FindMany(ctx, h.DB, forge.Where(forge.Eq(&c.Name, "nest")), forge.OrderBy(&c.Email, forge.Asc))
	must(t, err)
	if len(got) != 2 || got[0].Email != "kept@x" || got[1].Email != "outer@x" {
		t.Errorf("after a rolled-back savepoint: %+v", got)
	}
	if n := len(h.Events.Mutations); n != 2 {
		t.Errorf("%d mutation events, want 2 (the rolled-back savepoint's is dropped)", n)
	}
}

func testBatch(t *testing.T, h *Harness) {
	ctx := context.Background()
	c := Users.Cols()
	if !atomicMulti(h.DB) {
		_, err := h.DB.Batch(ctx, Users.CreateOp(User{Email: "b0@x", Name: "batch"}))
		var ce *forge.CapabilityError
		if !errors.As(err, &ce) {
			t.Errorf("Batch on a driver with neither batches nor transactions: %v", err)
		}
		if n, _ := Users.Count(ctx, h.DB); n != 0 {
			t.Error("a refused batch wrote a row")
		}
		return
	}
	us := seedUsers(t, h.DB, 2)
	res, err := h.DB.Batch(ctx,
		Users.CreateOp(User{Email: "b1@x", Name: "batch"}),
		Users.UpdateManyOp(forge.Eq(&c.ID, us[0].ID), forge.Set(&c.Name, "batched")),
		Users.DeleteManyOp(forge.Eq(&c.ID, us[1].ID)))
	must(t, err)
	if len(res) != 3 || res[0].RowsAffected != 1 || res[1].RowsAffected != 1 || res[2].RowsAffected != 1 {
		t.Errorf("batch results %+v", res)
	}
	// A failing statement in the middle leaves nothing written.
	_, err = h.DB.Batch(ctx,
		Users.CreateOp(User{Email: "b2@x", Name: "batch"}),
		Users.CreateOp(User{Email: "b1@x", Name: "duplicate"}),
		Users.UpdateManyOp(forge.All(), forge.Set(&c.Name, "clobbered")))
	var ce *forge.ConstraintError
	if !errors.As(err, &ce) || ce.Kind != forge.UniqueViolation {
		t.Errorf("failing batch: %v, want a unique ConstraintError", err)
	}
	got, err := Users.FindMany(ctx, h.DB, forge.OrderBy(&c.Email, forge.Asc))
	must(t, err)
	var emails []string
	for _, u := range got {
		emails = append(emails, u.Email+"="+u.Name)
	}
	want := []string{"b1@x=batch", us[0].Email + "=batched"}
	if !slices.Equal(emails, want) {
		t.Errorf("after a failed batch: %v, want %v", emails, want)
	}
	// Bad input fails before anything is sent.
	if _, err := h.DB.Batch(ctx, Users.CreateOp(User{Email: "b3@x"}), Users.DeleteManyOp(forge.Cond{})); err == nil {
		t.Error("a batch with an unconditioned DeleteManyOp ran")
	}
	if n, _ := Users.Count(ctx, h.DB, forge.Eq(&c.Email, "b3@x")); n != 0 {
		t.Error("a rejected batch wrote a row")
	}
}

func testConstraintErrors(t *testing.T, h *Harness) {
	ctx := context.Background()
	u, err := Users.Create(ctx, h.DB, User{Email: "dup@x", Name: "a"})
	must(t, err)
	_, err = Users.Create(ctx, h.DB, User{Email: "dup@x", Name: "b"})
	var ce *forge.ConstraintError
	if !errors.As(err, &ce) || ce.Kind != forge.UniqueViolation || ce.Model != "User" || !slices.Equal(ce.Fields, []string{"Email"}) || ce.Constraint != "users_email_key" {
		t.Errorf("unique violation: %#v", ce)
	}
	_, err = Tags.Create(ctx, h.DB, Tag{Scope: "s", Name: "n"})
	must(t, err)
	_, err = Tags.Create(ctx, h.DB, Tag{Scope: "s", Name: "n"})
	if !errors.As(err, &ce) || ce.Kind != forge.UniqueViolation || ce.Model != "Tag" || !slices.Equal(ce.Fields, []string{"Scope", "Name"}) {
		t.Errorf("composite unique violation: %#v", ce)
	}
	_, err = Posts.Create(ctx, h.DB, Post{AuthorID: u.ID + 1000, Title: "orphan"})
	if !errors.As(err, &ce) || ce.Kind != forge.ForeignKeyViolation {
		t.Errorf("foreign key violation: %v", err)
	}
	null := `INSERT INTO "users" ("email", "name", "age", "created_at") VALUES ('n@x', NULL, 1, '2020-01-01T00:00:00.000000000Z')`
	_, err = forge.Exec(ctx, h.DB, null)
	if h.DB.Dialect().Name() == "mysql" {
		// MySQL's error 1048 names the column, not the table: raw SQL
		// (no model known) gets the column only.
		if !errors.As(err, &ce) || ce.Kind != forge.NotNullViolation || !slices.Equal(ce.Columns, []string{"name"}) {
			t.Errorf("not null violation: %v", err)
		}
	} else if !errors.As(err, &ce) || ce.Kind != forge.NotNullViolation || ce.Model != "User" || !slices.Equal(ce.Fields, []string{"Name"}) {
		t.Errorf("not null violation: %v", err)
	}
	_, err = forge.Exec(ctx, h.DB, `CREATE TABLE "checked" ("n" INTEGER NOT NULL, CONSTRAINT "n_positive" CHECK ("n" > 0))`)
	must(t, err)
	_, err = forge.Exec(ctx, h.DB, `INSERT INTO "checked" ("n") VALUES (-1)`)
	if !errors.As(err, &ce) || ce.Kind != forge.CheckViolation || ce.Constraint != "n_positive" {
		t.Errorf("check violation: %v", err)
	}
	// Deleting a referenced row cascades, as declared.
	p, err := Posts.Create(ctx, h.DB, Post{AuthorID: u.ID, Title: "t"})
	must(t, err)
	must(t, Users.Delete(ctx, h.DB, forge.Eq(&Users.Cols().ID, u.ID)))
	if ok, _ := Posts.Exists(ctx, h.DB, forge.Eq(&Posts.Cols().ID, p.ID)); ok {
		t.Error("ON DELETE CASCADE did not delete the post")
	}
}

func testContextCancel(t *testing.T, h *Harness) {
	slow := `WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 1000000000) SELECT COUNT(*) FROM r`
	switch h.DB.Dialect().Name() {
	case "postgres":
		slow = `SELECT pg_sleep(30)`
	case "mysql": // MariaDB stops a recursive CTE after max_recursive_iterations, silently
		slow = `SELECT SLEEP(30)`
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := forge.Exec(ctx, h.DB, slow)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a query past its deadline succeeded")
		}
		if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(strings.ToLower(err.Error()), "interrupt") && !strings.Contains(err.Error(), "cancel") {
			t.Errorf("deadline error: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the query did not stop when its context ended")
	}
	// The connection is still usable.
	_, err := Users.Count(context.Background(), h.DB)
	must(t, err)
}

func testEvents(t *testing.T, h *Harness) {
	ctx := context.Background()
	c := Users.Cols()
	h.Events.Reset()
	u, err := Users.Create(ctx, h.Observed, User{Email: "e@x", Name: "ev"})
	must(t, err)
	_, err = Users.FindMany(ctx, h.Observed, forge.Where(forge.Eq(&c.Name, "ev")))
	must(t, err)
	_, err = Users.UpdateMany(ctx, h.Observed, forge.Eq(&c.Name, "ev"), forge.Set(&c.Age, 40))
	must(t, err)
	_, err = Users.Create(ctx, h.Observed, User{Email: "e@x", Name: "dup"})
	if err == nil {
		t.Fatal("duplicate create succeeded")
	}
	must(t, Users.Delete(ctx, h.Observed, forge.Eq(&c.ID, u.ID)))
	qs := h.Events.Queries
	if !h.DB.Dialect().UpdateReturning() {
		// Without UPDATE ... RETURNING, UpdateMany reads the keys first, in
		// a transaction: BEGIN, SELECT ... FOR UPDATE, UPDATE, COMMIT.
		var kept []forge.QueryEvent
		for i, q := range qs {
			if i >= 2 && i <= 5 && !strings.HasPrefix(q.SQL, "UPDATE") {
				continue
			}
			kept = append(kept, q)
		}
		qs = kept
	}
	if len(qs) != 5 {
		for _, q := range qs {
			t.Logf("event %s %s", q.Operation, q.SQL)
		}
		t.Fatalf("%d query events, want 5", len(qs))
	}
	wantOps := []forge.Operation{forge.OpCreate, forge.OpFindMany, forge.OpUpdateMany, forge.OpCreate, forge.OpDelete}
	for i, q := range qs {
		// A duration may be 0: workerd's clock moves only with I/O, and a
		// statement refused by the database may take none of it.
		if q.Operation != wantOps[i] || q.Model != "User" || q.SQL == "" || q.Duration < 0 || q.Start.IsZero() {
			t.Errorf("event %d: %+v", i, q)
		}
		if i != 3 && q.Err != nil {
			t.Errorf("event %d: unexpected error %v", i, q.Err)
		}
	}
	if qs[1].NumArgs != 1 || qs[1].Rows != 1 || !strings.Contains(qs[1].SQL, "SELECT") {
		t.Errorf("findMany event: %+v", qs[1])
	}
	var ce *forge.ConstraintError
	if !errors.As(qs[3].Err, &ce) {
		t.Errorf("the failing statement's event carries %v", qs[3].Err)
	}
	ms := h.Events.Mutations
	if len(ms) != 3 {
		t.Fatalf("%d mutation events, want 3: %+v", len(ms), ms)
	}
	for i, want := range []forge.Operation{forge.OpCreate, forge.OpUpdateMany, forge.OpDelete} {
		m := ms[i]
		if m.Operation != want || m.Model != "User" || m.Rows != 1 || len(m.Keys) != 1 || m.Keys[0] != u.ID {
			t.Errorf("mutation %d: %+v, want %s of key %d", i, m, want, u.ID)
		}
	}
}

func testBadInput(t *testing.T, h *Harness) {
	ctx := context.Background()
	c, pc := Users.Cols(), Posts.Cols()
	var qe *forge.QueryError
	other := User{}
	cases := map[string]error{}
	_, cases["a field of another model"] = Users.FindMany(ctx, h.DB, forge.Where(forge.Eq(&pc.Title, "x")))
	_, cases["a field of a copy"] = Users.FindMany(ctx, h.DB, forge.Where(forge.Eq(&other.Name, "x")))
	_, cases["ordering by another model"] = Users.FindMany(ctx, h.DB, forge.OrderBy(&pc.ID, forge.Asc))
	_, cases["an unknown relation"] = Users.FindMany(ctx, h.DB, forge.Include(&c.Name))
	_, cases["a nil relation"] = Users.FindMany(ctx, h.DB, forge.Include(nil))
	_, cases["a nil select"] = Users.FindMany(ctx, h.DB, forge.Select(nil))
	_, cases["a nil cursor"] = Users.FindMany(ctx, h.DB, forge.After[User](nil))
	_, cases["a cursor of another model"] = Users.FindMany(ctx, h.DB, forge.After(&Post{}))
	_, cases["the zero option"] = Users.FindMany(ctx, h.DB, forge.Option{})
	_, cases["a negative take"] = Users.FindMany(ctx, h.DB, forge.Take(-1))
	_, cases["IsNull on a non-null column"] = Users.FindMany(ctx, h.DB, forge.Where(forge.IsNull(&c.Name)))
	_, cases["Update with no Set"] = Users.Update(ctx, h.DB, forge.Eq(&c.ID, 1))
	_, cases["Set on another model"] = Users.UpdateMany(ctx, h.DB, forge.All(), forge.Set(&pc.Title, "x"))
	_, cases["Upsert conflict on another model"] = Users.Upsert(ctx, h.DB, User{Email: "x"}, forge.OnConflict(&pc.ID))
	_, cases["a nil querier"] = Users.FindMany(ctx, nil)
	_, cases["a nil *DB"] = Users.Create(ctx, (*forge.DB)(nil), User{Email: "x"})
	_, cases["a nil *Tx"] = Users.Count(ctx, (*forge.Tx)(nil))
	for name, err := range cases {
		if !errors.As(err, &qe) {
			t.Errorf("%s: %v, want a *forge.QueryError", name, err)
		}
	}
	_, err := Users.FindMany(ctx, h.DB, forge.Where(forge.In(&c.ID)))
	if !errors.Is(err, forge.ErrEmptyList) {
		t.Errorf("an empty In: %v", err)
	}
	if _, err := Users.DeleteMany(ctx, h.DB, forge.NotIn(&c.ID)); !errors.Is(err, forge.ErrEmptyList) {
		t.Errorf("an empty NotIn in DeleteMany: %v", err)
	}
	// Nothing above wrote anything.
	n, err := Users.Count(ctx, h.DB)
	must(t, err)
	if n != 0 {
		t.Errorf("bad input wrote %d rows", n)
	}
}
