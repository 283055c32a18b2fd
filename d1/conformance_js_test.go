//go:build js && wasm

package d1_test

// These tests run inside the real workerd, with real D1 databases: the test
// binary is compiled for js/wasm and started in a Worker by
// TestConformanceUnderWorkerd (workerd_test.go). Run elsewhere (under Node
// with go_js_wasm_exec), they skip: there is no D1 there.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync/atomic"
	"syscall/js"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/d1"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/forgetest"
)

var next atomic.Int32

// testEnv is the test Worker's env (testsvc.WorkerTest), with the D1
// databases DB00, DB01, ... that TestConformanceUnderWorkerd binds.
func testEnv(t testing.TB) js.Value {
	e := js.Global().Get("__forgeTest")
	if e.Type() != js.TypeObject || e.Get("env").Get("DB00").IsUndefined() {
		t.Skip("no D1 here: these tests run inside workerd, started by TestConformanceUnderWorkerd")
	}
	return e.Get("env")
}

// open returns a fresh, empty D1 database.
func open(t testing.TB) driver.Conn {
	env := testEnv(t)
	name := fmt.Sprintf("DB%02d", int(next.Add(1))-1)
	if env.Get(name).IsUndefined() {
		t.Fatalf("the test Worker has no D1 database %s: bind more in workerd_test.go", name)
	}
	conn, err := d1.FromEnv(envOf{env}, name)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

type envOf struct{ v js.Value }

func (e envOf) Binding(name string) js.Value { return e.v.Get(name) }

// skipped are the conformance tests that cannot hold on D1, with the reason.
var skipped = map[string]string{
	// Replaced by TestValues below: a JavaScript number holds integers
	// exactly only within ±(2^53-1), so the suite's math.MaxInt64 cannot
	// travel through the binding; the D1 driver refuses it with a clear
	// error.
	"Values": "int64 beyond ±(2^53-1) cannot travel through the D1 binding; see TestValues",
	// The binding cannot cancel a running query: the slow query would keep
	// the database busy after its context ended.
	"ContextCancel": "D1 offers no way to cancel a running query",
}

func TestConformance(t *testing.T) {
	testEnv(t)
	for _, tc := range forgetest.Tests {
		t.Run(tc.Name, func(t *testing.T) {
			if why, ok := skipped[tc.Name]; ok {
				t.Skip(why)
			}
			tc.Run(t, forgetest.Setup(t, open))
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestValues round-trips every kind at D1's edges: integers at ±2^53,
// floats, bools, unicode text with quotes, bytes with zero bytes, NULL of
// every type, times in other zones and JSON.
func TestValues(t *testing.T) {
	h := forgetest.Setup(t, open)
	ctx := context.Background()
	V := forgetest.Values
	c := V.Cols()
	s := "it's \"quoted\" — ünïcödé 🎉 \\ %_*?[ nul" // text with NUL is refused everywhere (forgetest ValueRefusals)
	loc := time.FixedZone("UTC+05:30", 5*3600+1800)
	tm := time.Date(1999, 12, 31, 23, 59, 59, 123456789, loc)
	cases := []forgetest.Value{
		{
			Text: s, I64: 1<<53 - 1, I32: math.MinInt32, F: math.MaxFloat64, B: true,
			T:     time.Date(2024, 2, 29, 12, 30, 45, 999999999, time.FixedZone("", -8*3600)),
			Bytes: []byte{0, 1, 2, 255, 0, '\'', '"'}, JSON: forgetest.Meta{Tags: []string{"a", "b\"c"}, Attrs: map[string]string{"k": "v"}, N: math.MaxInt64},
			NText: &s, NI64: ptr(int64(-(1<<53 - 1))), NI32: ptr(int32(math.MaxInt32)), NF: ptr(0.1), NB: ptr(false), NT: &tm,
			NBytes: []byte{0}, NJSON: &forgetest.Meta{Tags: []string{}, N: math.MinInt64},
		},
		{
			Text: "", I64: -(1<<53 - 1), I32: math.MaxInt32, F: -1.5e-300, B: false,
			T: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), Bytes: []byte{},
		},
		{
			Text: "9007199254740993", I64: 0, F: math.SmallestNonzeroFloat64, B: true,
			T: time.Date(2262, 4, 11, 23, 47, 16, 854775807, time.UTC), Bytes: bytes.Repeat([]byte{0xAB, 0}, 5000),
			NI64: ptr(int64(1 << 52)), NF: ptr(3.0), NBytes: []byte{},
		},
		{Text: "integral floats", F: 1e300, NF: ptr(-2.0), I64: -1, I32: -1, Bytes: []byte{}},
	}
	// Times are stored in whole microseconds, truncated, on every database.
	norm := func(v forgetest.Value) forgetest.Value {
		v.T = time.Unix(0, v.T.UnixNano()).UTC().Truncate(time.Microsecond)
		if v.NT != nil {
			v.NT = ptr(time.Unix(0, v.NT.UnixNano()).UTC().Truncate(time.Microsecond))
		}
		return v
	}
	for i, in := range cases {
		out, err := V.Create(ctx, h.DB, in)
		must(t, err)
		got, err := V.FindUnique(ctx, h.DB, forge.Eq(&c.ID, out.ID))
		must(t, err)
		want := norm(in)
		want.ID = out.ID
		for what, g := range map[string]forgetest.Value{"read back": got, "Create returned": out} {
			g = norm(g)
			gv, wv := reflect.ValueOf(g), reflect.ValueOf(want)
			for f := 0; f < gv.NumField(); f++ {
				if !reflect.DeepEqual(gv.Field(f).Interface(), wv.Field(f).Interface()) {
					t.Errorf("case %d, %s: %s = %#v, want %#v", i, what, gv.Type().Field(f).Name, gv.Field(f).Interface(), wv.Field(f).Interface())
				}
			}
		}
		if !got.T.Equal(in.T.Truncate(time.Microsecond)) || got.T.Location() != time.UTC {
			t.Errorf("case %d: time %v, want the instant %v in UTC", i, got.T, in.T)
		}
	}

	// Filters on every kind find the row.
	in := cases[0]
	n, err := V.Count(ctx, h.DB,
		forge.Eq(&c.Text, in.Text), forge.Eq(&c.I64, in.I64), forge.Eq(&c.I32, in.I32),
		forge.Eq(&c.F, in.F), forge.Eq(&c.B, true), forge.Eq(&c.T, in.T),
		forge.Eq(&c.NText, in.NText), forge.Eq(&c.NI64, in.NI64), forge.Eq(&c.NT, in.NT), forge.Eq(&c.NF, in.NF),
		forge.Gt(&c.T, in.T.Add(-time.Microsecond)), forge.Lt(&c.T, in.T.Add(time.Microsecond)))
	must(t, err)
	if n != 1 {
		t.Errorf("filtering on every kind found %d rows, want 1", n)
	}
	// NULL of every type.
	n, err = V.Count(ctx, h.DB, forge.IsNull(&c.NText), forge.IsNull(&c.NI64), forge.IsNull(&c.NI32), forge.IsNull(&c.NF),
		forge.IsNull(&c.NB), forge.IsNull(&c.NT), forge.IsNull(&c.NBytes), forge.IsNull(&c.NJSON))
	must(t, err)
	if n != 1 {
		t.Errorf("rows with every nullable column NULL: %d, want 1", n)
	}

	// Beyond ±2^53, and values SQLite cannot store: a clear error, and
	// nothing written.
	total, err := V.Count(ctx, h.DB)
	must(t, err)
	var ve *d1.ValueError
	for name, v := range map[string]forgetest.Value{
		"int64 2^53":        {I64: 1 << 53, Bytes: []byte{}},
		"int64 -2^53":       {I64: -(1 << 53), Bytes: []byte{}},
		"int64 2^53+1":      {I64: 1<<53 + 1, Bytes: []byte{}},
		"nullable MaxInt64": {NI64: ptr(int64(math.MaxInt64)), Bytes: []byte{}},
	} {
		_, err := V.Create(ctx, h.DB, v)
		if !errors.As(err, &ve) {
			t.Errorf("%s: Create returned %v, want a *d1.ValueError", name, err)
		} else if strings.HasPrefix(name, "int64") && !strings.Contains(err.Error(), "2^53") {
			t.Errorf("%s: %v does not explain the limit", name, err)
		}
	}
	// What no database stores exactly is refused by forge, on every driver.
	var fe *forge.ValueError
	for name, v := range map[string]forgetest.Value{
		"NaN":           {F: math.NaN(), Bytes: []byte{}},
		"+Inf":          {NF: ptr(math.Inf(1)), Bytes: []byte{}},
		"invalid UTF-8": {Text: "\xff\xfe", Bytes: []byte{}},
		"NUL in text":   {Text: "a\x00b", Bytes: []byte{}},
	} {
		if _, err := V.Create(ctx, h.DB, v); !errors.As(err, &fe) {
			t.Errorf("%s: Create returned %v, want a *forge.ValueError", name, err)
		}
	}
	if _, err := V.FindMany(ctx, h.DB, forge.Where(forge.Eq(&c.I64, int64(math.MaxInt64)))); !errors.As(err, &ve) {
		t.Errorf("a filter beyond 2^53: %v, want a *d1.ValueError", err)
	}
	if n, _ := V.Count(ctx, h.DB); n != total {
		t.Errorf("refused values wrote rows: %d, want %d", n, total)
	}
	// A value beyond 2^53 already in the database (written with a literal)
	// reads as an error, not as a silently rounded number.
	_, err = forge.Exec(ctx, h.DB, `UPDATE "all_values" SET "i64" = 9007199254740993 WHERE "text" = 'integral floats'`)
	must(t, err)
	_, err = V.FindFirst(ctx, h.DB, forge.Where(forge.Eq(&c.Text, "integral floats")))
	if err == nil || !strings.Contains(err.Error(), "2^53") {
		t.Errorf("reading an int64 beyond 2^53: %v, want an error naming the limit", err)
	}
}

// TestDriver checks the driver's own surface: results, rows, batches,
// errors and Open's checks.
func TestDriver(t *testing.T) {
	conn := open(t).(*d1.Conn)
	ctx := context.Background()
	if conn.DriverName() != "d1" || conn.Dialect().Name() != "sqlite" || conn.Dialect().MaxParams() != 100 {
		t.Errorf("name %q, dialect %q, max params %d", conn.DriverName(), conn.Dialect().Name(), conn.Dialect().MaxParams())
	}
	if _, ok := driver.Conn(conn).(driver.Beginner); ok {
		t.Error("the D1 driver claims interactive transactions")
	}
	_, err := conn.Exec(ctx, `CREATE TABLE "t" ("id" INTEGER PRIMARY KEY, "v" TEXT NOT NULL UNIQUE, "b" BLOB) STRICT`, nil)
	must(t, err)
	res, err := conn.Exec(ctx, `INSERT INTO "t" ("v", "b") VALUES (?, ?), (?, ?)`, []any{"a", []byte{0, 1}, "b", nil})
	must(t, err)
	if res.RowsAffected != 2 || !res.HasLastInsertID || res.LastInsertID != 2 {
		t.Errorf("insert result %+v", res)
	}
	res, err = conn.Exec(ctx, `UPDATE "t" SET "v" = "v" || '!'`, nil)
	must(t, err)
	if res.RowsAffected != 2 || res.HasLastInsertID {
		t.Errorf("update result %+v", res)
	}
	rows, err := conn.Query(ctx, `SELECT "id", "v", "b", 1.5 AS "f", NULL AS "n" FROM "t" ORDER BY "id"`, nil)
	must(t, err)
	if cols := rows.Columns(); !reflect.DeepEqual(cols, []string{"id", "v", "b", "f", "n"}) {
		t.Errorf("columns %v", cols)
	}
	var got [][]any
	for rows.Next() {
		var id, v, b, f, n any
		must(t, rows.Scan(&id, &v, &b, &f, &n))
		got = append(got, []any{id, v, b, f, n})
	}
	want := [][]any{{int64(1), "a!", []byte{0, 1}, 1.5, nil}, {int64(2), "b!", nil, 1.5, nil}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows %#v, want %#v", got, want)
	}
	// An empty result still names its columns.
	rows, err = conn.Query(ctx, `SELECT "id", "v" FROM "t" WHERE 0`, nil)
	must(t, err)
	if rows.Next() || !reflect.DeepEqual(rows.Columns(), []string{"id", "v"}) {
		t.Errorf("an empty result: columns %v", rows.Columns())
	}

	// A batch with rows, then a failing batch that writes nothing.
	brs, err := conn.Batch(ctx, []driver.Stmt{
		{SQL: `INSERT INTO "t" ("v") VALUES (?)`, Args: []any{"c"}},
		{SQL: `SELECT "v", "id" FROM "t" ORDER BY "id" DESC`, Rows: true},
	})
	must(t, err)
	if len(brs) != 2 || brs[0].RowsAffected != 1 || !brs[0].HasLastInsertID || brs[0].LastInsertID != 3 || brs[1].Rows == nil {
		t.Fatalf("batch results %+v", brs)
	}
	if cols := brs[1].Rows.Columns(); !reflect.DeepEqual(cols, []string{"v", "id"}) {
		t.Errorf("batch columns %v", cols)
	}
	var vs []string
	for brs[1].Rows.Next() {
		var v string
		var id int64
		must(t, brs[1].Rows.Scan(&v, &id))
		vs = append(vs, v)
	}
	if !reflect.DeepEqual(vs, []string{"c", "b!", "a!"}) {
		t.Errorf("batch rows %v", vs)
	}
	_, err = conn.Batch(ctx, []driver.Stmt{
		{SQL: `INSERT INTO "t" ("v") VALUES (?)`, Args: []any{"d"}},
		{SQL: `INSERT INTO "t" ("v") VALUES (?)`, Args: []any{"c"}},
	})
	var ce *driver.ConstraintError
	var de *d1.Error
	if !errors.As(err, &ce) || ce.Kind != driver.Unique || ce.Table != "t" || !reflect.DeepEqual(ce.Columns, []string{"v"}) || !errors.As(err, &de) || de.Code != "D1_ERROR" {
		t.Errorf("failing batch: %v", err)
	}
	// An argument refused before sending: a BatchError with its index.
	_, err = conn.Batch(ctx, []driver.Stmt{
		{SQL: `INSERT INTO "t" ("v") VALUES (?)`, Args: []any{"e"}},
		{SQL: `INSERT INTO "t" ("v") VALUES (?)`, Args: []any{struct{}{}}},
	})
	var be *driver.BatchError
	var ve *d1.ValueError
	if !errors.As(err, &be) || be.Index != 1 || !errors.As(err, &ve) || ve.Arg != 1 {
		t.Errorf("a refused argument in a batch: %v", err)
	}
	// A batch statement whose column is named like an integer is refused
	// (D1 returns batch rows as objects, which reorder such keys).
	_, err = conn.Batch(ctx, []driver.Stmt{{SQL: `SELECT 1 AS "x", 2 AS "7"`, Rows: true}})
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "integer-like") {
		t.Errorf("an integer-named column in a batch: %v", err)
	}
	rows, err = conn.Query(ctx, `SELECT COUNT(*) FROM "t"`, nil)
	must(t, err)
	var count int64
	if !rows.Next() {
		t.Fatal("no count")
	}
	must(t, rows.Scan(&count))
	if count != 3 {
		t.Errorf("%d rows after the failed batches, want 3", count)
	}

	// SQL errors are typed, with D1's code.
	_, err = conn.Query(ctx, `SELECT * FROM "missing"`, nil)
	if !errors.As(err, &de) || de.Code != "D1_ERROR" || !strings.Contains(de.Message, "no such table") {
		t.Errorf("a missing table: %#v", err)
	}
	// At and beyond 2^53 in a computed column: Scan refuses (2^53+1
	// arrives as 2^53), and *any gets the float.
	for _, q := range []string{`SELECT 9007199254740991, 9007199254740992`, `SELECT -9007199254740991, -9007199254740993`} {
		rows, err = conn.Query(ctx, q, nil)
		must(t, err)
		rows.Next()
		var safe, big int64
		if err := rows.Scan(&safe, &big); err == nil || !strings.Contains(err.Error(), "2^53") {
			t.Errorf("%s: %v", q, err)
		}
		var a, b any
		must(t, rows.Scan(&a, &b))
		if a != int64(1<<53-1) && a != -int64(1<<53-1) || reflect.TypeOf(b) != reflect.TypeOf(0.0) {
			t.Errorf("%s into *any: %#v, %#v", q, a, b)
		}
	}
	// A cancelled context stops before sending.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := conn.Exec(cctx, `DELETE FROM "t"`, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled context: %v", err)
	}

	// Open and FromEnv check what they are given.
	for name, v := range map[string]js.Value{
		"undefined":    js.Undefined(),
		"a string":     js.ValueOf("DB"),
		"an object":    js.ValueOf(map[string]any{"prepare": 1}),
		"only prepare": js.Global().Get("Object").Call("fromEntries", js.ValueOf([]any{[]any{"prepare", js.Global().Get("String")}})),
	} {
		if c, err := d1.Open(v); err == nil || c != nil {
			t.Errorf("Open(%s) = %v, %v", name, c, err)
		}
	}
	if _, err := d1.FromEnv(envOf{js.ValueOf(map[string]any{})}, "DB"); err == nil || !strings.Contains(err.Error(), "[[d1_databases]]") {
		t.Errorf("FromEnv without the binding: %v", err)
	}
	if _, err := d1.FromEnv(nil, "DB"); err == nil {
		t.Error("FromEnv(nil) succeeded")
	}
}

// TestCapabilities checks what forge says about D1's missing transactions
// and that Batch and CreateMany over several statements are atomic.
func TestCapabilities(t *testing.T) {
	h := forgetest.Setup(t, open)
	ctx := context.Background()
	ran := false
	err := h.DB.Transaction(ctx, func(*forge.Tx) error { ran = true; return nil })
	var ke *forge.CapabilityError
	if !errors.As(err, &ke) || ran || ke.Driver != "d1" || !strings.Contains(ke.Use, "db.Batch") {
		t.Errorf("Transaction: %v (ran %v)", err, ran)
	}
	// 40 users need 3 INSERTs of at most 100 parameters: one atomic batch.
	us := make([]forgetest.User, 40)
	for i := range us {
		us[i] = forgetest.User{Email: "u" + string(rune('A'+i)) + "@x", Name: "many"}
	}
	us[39].Email = us[0].Email
	if _, err := forgetest.Users.CreateMany(ctx, h.DB, us); err == nil {
		t.Fatal("CreateMany with a duplicate in its last statement succeeded")
	}
	if n, _ := forgetest.Users.Count(ctx, h.DB); n != 0 {
		t.Errorf("a failed CreateMany left %d rows", n)
	}
	us[39].Email = "last@x"
	out, err := forgetest.Users.CreateMany(ctx, h.DB, us)
	must(t, err)
	if len(out) != 40 || out[39].ID == 0 || out[0].ID == out[39].ID {
		t.Errorf("CreateMany returned %d rows, ids %d..%d", len(out), out[0].ID, out[39].ID)
	}
	// A user's In list over D1's 100 parameters is bound as one JSON
	// array: it works.
	ids := make([]int64, 150)
	for i := range ids {
		ids[i] = out[0].ID + int64(i)
	}
	c := forgetest.Users.Cols()
	got, err := forgetest.Users.FindMany(ctx, h.DB, forge.Where(forge.In(&c.ID, ids...)))
	if err != nil || len(got) != 40 {
		t.Errorf("In with 150 values: %d rows, %v; want the 40 users", len(got), err)
	}
}

// TestIncludeOnD1 checks that Include loads relations correctly on D1 (the
// suite's Include test also counts queries, which D1's parameter limit
// changes: see skipped).
func TestIncludeOnD1(t *testing.T) {
	h := forgetest.Setup(t, open)
	ctx := context.Background()
	U, P := forgetest.Users, forgetest.Posts
	us := make([]forgetest.User, 3)
	for i := range us {
		us[i] = forgetest.User{Email: "i" + string(rune('a'+i)) + "@x", Name: "inc"}
	}
	us, err := U.CreateMany(ctx, h.DB, us)
	must(t, err)
	var posts []forgetest.Post
	for i, u := range us {
		for j := 0; j <= i; j++ {
			posts = append(posts, forgetest.Post{AuthorID: u.ID, Title: string(rune('a'+i)) + string(rune('0'+j))})
		}
	}
	_, err = P.CreateMany(ctx, h.DB, posts)
	must(t, err)
	c, pc := U.Cols(), P.Cols()
	got, err := U.FindMany(ctx, h.DB, forge.OrderBy(&c.ID, forge.Asc), forge.Include(&c.Posts, forge.OrderBy(&pc.Title, forge.Desc)))
	must(t, err)
	if len(got) != 3 {
		t.Fatalf("%d users", len(got))
	}
	for i, u := range got {
		if len(u.Posts) != i+1 || u.Posts[0].Title != string(rune('a'+i))+string(rune('0'+i)) || u.Posts[0].AuthorID != u.ID {
			t.Errorf("user %d: posts %+v", i, u.Posts)
		}
	}
	ps, err := P.FindMany(ctx, h.DB, forge.Include(&pc.Author))
	must(t, err)
	for _, p := range ps {
		if p.Author == nil || p.Author.ID != p.AuthorID {
			t.Errorf("post %+v: author %+v", p, p.Author)
		}
	}
}

// fakeBinding is a D1-shaped object whose statements answer result (for
// raw) and batchResult (for batch), to reach what real D1 does not return
// today: blobs as ArrayBuffers or typed arrays, which JSON does not carry.
func fakeBinding(result, batchResult js.Value) js.Value {
	obj := js.Global().Get("Object")
	promise := js.Global().Get("Promise")
	var keep []js.Func
	fn := func(f func(args []js.Value) any) js.Func {
		jf := js.FuncOf(func(this js.Value, args []js.Value) any { return f(args) })
		keep = append(keep, jf)
		return jf
	}
	stmt := obj.New()
	stmt.Set("bind", fn(func([]js.Value) any { return stmt }))
	stmt.Set("raw", fn(func([]js.Value) any { return promise.Call("resolve", result) }))
	db := obj.New()
	db.Set("prepare", fn(func([]js.Value) any { return stmt }))
	db.Set("batch", fn(func([]js.Value) any { return promise.Call("resolve", batchResult) }))
	return db
}

func TestBlobsOutsideJSON(t *testing.T) {
	u8 := js.Global().Get("Uint8Array")
	ab := u8.New(js.ValueOf([]any{0, 1, 255})).Get("buffer")
	view := u8.New(js.ValueOf([]any{9, 8, 7, 6})).Call("subarray", 1, 3)
	raw := js.ValueOf([]any{[]any{"a", "b", "c", "d"}, []any{ab, view, []any{1, 2}, "x"}})
	row := js.Global().Get("Object").New()
	row.Set("a", ab)
	row.Set("n", 5)
	batch := js.ValueOf([]any{map[string]any{"meta": map[string]any{"changes": 0}, "results": []any{row}}})
	conn, err := d1.Open(fakeBinding(raw, batch))
	must(t, err)
	ctx := context.Background()
	rows, err := conn.Query(ctx, "SELECT", []any{"x"})
	must(t, err)
	if !rows.Next() {
		t.Fatal("no row")
	}
	var a, b, c []byte
	var d string
	must(t, rows.Scan(&a, &b, &c, &d))
	if !bytes.Equal(a, []byte{0, 1, 255}) || !bytes.Equal(b, []byte{8, 7}) || !bytes.Equal(c, []byte{1, 2}) || d != "x" {
		t.Errorf("blobs %v %v %v %q", a, b, c, d)
	}
	brs, err := conn.Batch(ctx, []driver.Stmt{{SQL: "SELECT", Rows: true}})
	must(t, err)
	var ba []byte
	var n int64
	if !brs[0].Rows.Next() {
		t.Fatal("no batch row")
	}
	must(t, brs[0].Rows.Scan(&ba, &n))
	if !bytes.Equal(ba, []byte{0, 1, 255}) || n != 5 {
		t.Errorf("batch row %v %d", ba, n)
	}
	// A value the driver cannot read is an error, not a guess.
	bad := js.ValueOf([]any{[]any{"a"}, []any{map[string]any{"x": 1}}})
	conn, err = d1.Open(fakeBinding(bad, batch))
	must(t, err)
	if _, err := conn.Query(ctx, "SELECT", nil); err == nil || !strings.Contains(err.Error(), "cannot read") {
		t.Errorf("an object cell: %v", err)
	}
}

// Watch on D1: the forge_changes table and its triggers are the change
// probe (D1 has no other that a Worker can read).
func TestWatch(t *testing.T) {
	testEnv(t)
	forgetest.RunWatch(t, open, forgetest.WatchOptions{Quiet: true})
}

// D1's Sessions API: a session's bookmark, carried to the next session,
// keeps the next session's reads at or after the write (locally there are
// no replicas: this checks the plumbing and the bookmarks' order).
func TestSessions(t *testing.T) {
	ctx := context.Background()
	h := forgetest.Setup(t, open)
	conn := h.DB.Driver().(*d1.Conn)
	if b := conn.Bookmark(); b != "" {
		t.Errorf("a Conn that is not a session has bookmark %q", b)
	}
	s, err := conn.Session("")
	if err != nil {
		t.Fatal(err)
	}
	db, err := forge.Open(forgetest.Schema, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := forgetest.Users.Create(ctx, db, forgetest.User{Email: "s@x", Name: "s"}); err != nil {
		t.Fatal(err)
	}
	b1 := s.Bookmark()
	if b1 == "" {
		t.Fatal("no bookmark after a write")
	}
	s2, err := conn.Session(b1)
	if err != nil {
		t.Fatal(err)
	}
	db2, err := forge.Open(forgetest.Schema, s2)
	if err != nil {
		t.Fatal(err)
	}
	u := forgetest.Users.Cols()
	if _, err := forgetest.Users.FindUnique(ctx, db2, forge.Eq(&u.Email, "s@x")); err != nil {
		t.Fatalf("read in the session started from the write's bookmark: %v", err)
	}
	if b2 := s2.Bookmark(); b2 < b1 {
		t.Errorf("bookmark went back from %q to %q", b1, b2)
	}
	if _, err := conn.Session(d1.FirstPrimary); err != nil {
		t.Error(err)
	}
	if _, err := conn.Session("bad bookmark\n"); err == nil {
		t.Error("a bookmark with a space and a newline was accepted")
	}
}
