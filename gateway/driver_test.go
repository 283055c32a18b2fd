package gateway_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/fetch"
	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/neon"
)

// queryOne runs a one-cell query through the driver and returns the cell.
func queryOne(t *testing.T, c driver.Conn, sql string, args ...any) any {
	t.Helper()
	rows, err := c.Query(context.Background(), sql, args)
	if err != nil {
		t.Fatalf("%s %v: %v", sql, args, err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("%s: no row", sql)
	}
	var v any
	if err := rows.Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func same(a, b any) bool {
	switch x := a.(type) {
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y) && x != nil
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y) && x.Location() == time.UTC
	case float64:
		y, ok := b.(float64)
		return ok && (x == y && math.Signbit(x) == math.Signbit(y) || math.IsNaN(x) && math.IsNaN(y))
	}
	return a == b
}

// TestNeonDriverValues sends every kind of value through the driver, the
// gateway and PostgreSQL, and reads it back.
func TestNeonDriverValues(t *testing.T) {
	pool, _ := openPool(t, "")
	c := openDriver(t, serve(t, pool, gateway.NeonOptions{}))
	loc := time.FixedZone("+05:30", 5*3600+1800)
	utc := func(y int, m time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, m, d, h, mi, s, ns, time.UTC)
	}
	cases := []struct {
		typ      string
		in, want any
	}{
		{"int2", int64(-32768), int64(-32768)},
		{"int4", int32(math.MaxInt32), int64(math.MaxInt32)},
		{"int8", int64(math.MinInt64), int64(math.MinInt64)},
		{"int8", int64(1<<53 + 1), int64(1<<53 + 1)},
		{"int8", 7, int64(7)},
		{"float8", math.MaxFloat64, math.MaxFloat64},
		{"float8", math.SmallestNonzeroFloat64, math.SmallestNonzeroFloat64},
		{"float8", -1.5e-300, -1.5e-300},
		{"float8", 0.1, 0.1},
		{"float8", math.Copysign(0, -1), math.Copysign(0, -1)},
		{"float8", math.NaN(), math.NaN()},
		{"float8", math.Inf(1), math.Inf(1)},
		{"float8", math.Inf(-1), math.Inf(-1)},
		{"float4", 0.1, float64(float32(0.1))},
		{"numeric", "123456789012345678901234567890.000000000001", "123456789012345678901234567890.000000000001"},
		{"numeric", int64(math.MaxInt64), "9223372036854775807"},
		{"numeric", 12.5, "12.5"},
		{"bool", true, true},
		{"bool", false, false},
		{"bytea", []byte{0, 1, 0xff, '\\', 'x'}, []byte{0, 1, 0xff, '\\', 'x'}},
		{"bytea", bytes.Repeat([]byte{0xab}, 100000), bytes.Repeat([]byte{0xab}, 100000)},
		{"timestamptz", time.Date(2024, 2, 29, 12, 30, 45, 999999000, loc), utc(2024, 2, 29, 7, 0, 45, 999999000)},
		{"timestamptz", utc(2024, 1, 2, 3, 4, 5, 123456789), utc(2024, 1, 2, 3, 4, 5, 123457000)},
		{"timestamptz", utc(1970, 1, 1, 0, 0, 0, 0), utc(1970, 1, 1, 0, 0, 0, 0)},
		{"timestamptz", utc(0, 6, 1, 12, 0, 0, 0), utc(0, 6, 1, 12, 0, 0, 0)},
		{"timestamptz", utc(-4712, 1, 1, 0, 0, 0, 0), utc(-4712, 1, 1, 0, 0, 0, 0)},
		{"timestamptz", utc(12345, 6, 7, 8, 9, 10, 0), utc(12345, 6, 7, 8, 9, 10, 0)},
		{"timestamp", utc(2024, 1, 2, 3, 4, 5, 600000), utc(2024, 1, 2, 3, 4, 5, 600000)},
		{"date", utc(2024, 2, 29, 0, 0, 0, 0), utc(2024, 2, 29, 0, 0, 0, 0)},
		{"date", utc(-99, 3, 1, 0, 0, 0, 0), utc(-99, 3, 1, 0, 0, 0, 0)},
		{"jsonb", `{"b": 1, "a": [true, null, "x"]}`, `{"a": [true, null, "x"], "b": 1}`},
		{"json", `{"b":1,  "a":2}`, `{"b":1,  "a":2}`},
		{"text", "it's \"quoted\" — ünïcödé 🎉 \\ %_*?[ \x01\t\n", "it's \"quoted\" — ünïcödé 🎉 \\ %_*?[ \x01\t\n"},
		{"text", "", ""},
		{"varchar(5)", "abc", "abc"},
		{"uuid", "0190A4B4-8D6A-7C3E-9D55-2A1C7D6F3E21", "0190a4b4-8d6a-7c3e-9d55-2a1c7d6f3e21"},
		{"text[]", `{a,"b c",NULL}`, `{a,"b c",NULL}`},
		{"interval", "1 day 02:03:04", "1 day 02:03:04"},
		{"int8", nil, nil},
		{"bytea", []byte(nil), nil},
	}
	for _, cs := range cases {
		got := queryOne(t, c, "SELECT $1::"+cs.typ, cs.in)
		if !same(got, cs.want) {
			t.Errorf("%s %#v: read back %#v, want %#v", cs.typ, cs.in, got, cs.want)
		}
	}
	// Into typed destinations, through driver.Assign.
	rows, err := c.Query(context.Background(), `SELECT 12.50::numeric, 3000000000::int8, '{"a":1}'::jsonb, NULL::text, 7::int2`, nil)
	must(t, err)
	var f float64
	var n int64
	var j []byte
	var s *string
	var small int32
	if !rows.Next() {
		t.Fatal("no row")
	}
	must(t, rows.Scan(&f, &n, &j, &s, &small))
	if f != 12.5 || n != 3000000000 || string(j) != `{"a": 1}` || s != nil || small != 7 {
		t.Errorf("typed scan: %v %v %s %v %v", f, n, j, s, small)
	}
	// An empty bytea is an empty, non-nil []byte. (Scanned into *any,
	// driver.Assign copies it with append([]byte(nil), ...), which gives nil.)
	rows, err = c.Query(context.Background(), `SELECT $1::bytea`, []any{[]byte{}})
	must(t, err)
	rows.Next()
	var empty []byte
	if err := rows.Scan(&empty); err != nil || empty == nil || len(empty) != 0 {
		t.Errorf("empty bytea: %#v %v", empty, err)
	}
	// A value its destination cannot hold is an error, not a wrap-around.
	rows, err = c.Query(context.Background(), `SELECT 3000000000::int8`, nil)
	must(t, err)
	rows.Next()
	if err := rows.Scan(&small); err == nil {
		t.Errorf("3000000000 scanned into an int32 as %d", small)
	}
	// What has no time.Time is an error.
	if _, err := c.Query(context.Background(), `SELECT 'infinity'::timestamptz`, nil); err == nil || !strings.Contains(err.Error(), "infinity") {
		t.Errorf("infinity: %v", err)
	}
	var ce *neon.CellError
	if _, err := c.Query(context.Background(), `SELECT '-infinity'::date`, nil); !errors.As(err, &ce) {
		t.Errorf("-infinity: %v, want a *neon.CellError", err)
	}
}

// TestNeonDriverTimeZones reads timestamps from sessions in other time
// zones, whose text output carries other offsets (with seconds, for local
// mean time before 1900s standard time).
func TestNeonDriverTimeZones(t *testing.T) {
	for _, tz := range []string{"Asia/Kolkata", "Europe/Amsterdam", "America/St_Johns", "Pacific/Kiritimati"} {
		pool, _ := openPool(t, tz)
		c := openDriver(t, serve(t, pool, gateway.NeonOptions{}))
		for _, tm := range []time.Time{
			time.Date(2024, 7, 1, 12, 0, 0, 123456000, time.UTC),
			time.Date(1890, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		} {
			got := queryOne(t, c, "SELECT $1::timestamptz", tm)
			if !same(got, tm) {
				t.Errorf("%s: %v read back as %v", tz, tm, got)
			}
		}
	}
}

func TestNeonDriverErrors(t *testing.T) {
	pool, schema := openPool(t, "")
	url := serve(t, pool, gateway.NeonOptions{MaxResponseBytes: 1 << 16, Logger: quiet})
	c := openDriver(t, url)
	ctx := context.Background()
	mustExec(t, pool, `CREATE TABLE users (id int PRIMARY KEY, email text CONSTRAINT users_email_key UNIQUE, n int CHECK (n > 0))`)
	mustExec(t, pool, `INSERT INTO users VALUES (1, 'a@b.co', 1)`)

	_, err := c.Exec(ctx, `SELEC 1`, nil)
	var ne *neon.Error
	if !errors.As(err, &ne) || ne.Code != "42601" || ne.Position != "1" || ne.Severity != "ERROR" {
		t.Errorf("syntax error: %#v", err)
	}
	_, err = c.Exec(ctx, `INSERT INTO users VALUES ($1, $2, $3)`, []any{int64(2), "a@b.co", int64(1)})
	var cerr *driver.ConstraintError
	if !errors.As(err, &cerr) || cerr.Kind != driver.Unique || cerr.Constraint != "users_email_key" || cerr.Table != "users" || !slices.Equal(cerr.Columns, []string{"email"}) {
		t.Errorf("unique violation: %#v", err)
	}
	if !errors.As(err, &ne) || ne.Code != "23505" || ne.Schema != schema || ne.Detail != "Key (email)=(a@b.co) already exists." {
		t.Errorf("the constraint error does not wrap the Neon error: %#v", err)
	}
	_, err = c.Exec(ctx, `INSERT INTO users VALUES (3, 'c', 0)`, nil)
	if !errors.As(err, &cerr) || cerr.Kind != driver.Check || cerr.Constraint != "users_n_check" {
		t.Errorf("check violation: %v", err)
	}
	_, err = c.Exec(ctx, `INSERT INTO users (email) VALUES ('d')`, nil)
	if !errors.As(err, &cerr) || cerr.Kind != driver.NotNull || !slices.Equal(cerr.Columns, []string{"id"}) {
		t.Errorf("not null violation: %v", err)
	}
	// Arguments the driver cannot send fail before any request.
	var pe *neon.ParamError
	if _, err := c.Query(ctx, `SELECT $1, $2`, []any{int64(1), uint64(2)}); !errors.As(err, &pe) || pe.Index != 1 {
		t.Errorf("a uint64 argument: %v", err)
	}
	if _, err := c.Batch(ctx, []driver.Stmt{{SQL: `SELECT 1`}, {SQL: `SELECT $1`, Args: []any{struct{}{}}}}); !errors.As(err, &pe) {
		t.Errorf("a struct argument in a batch: %v", err)
	}
	// Other statuses are *fetch.StatusError.
	var se *fetch.StatusError
	if _, err := c.Query(ctx, `SELECT repeat('x', 100000)`, nil); !errors.As(err, &se) || se.Status != 507 {
		t.Errorf("a response over the limit: %v", err)
	}
	// A failed batch leaves nothing written and returns the database's error.
	_, err = c.Batch(ctx, []driver.Stmt{
		{SQL: `INSERT INTO users VALUES (10, 'x', 1)`},
		{SQL: `INSERT INTO users VALUES (11, 'a@b.co', 1)`},
	})
	if !errors.As(err, &cerr) || cerr.Kind != driver.Unique {
		t.Errorf("failing batch: %v", err)
	}
	if n := count(t, pool, "users"); n != 1 {
		t.Errorf("a failed batch left %d rows", n)
	}
	// After Close.
	_ = c.Close()
	if _, err := c.Exec(ctx, `SELECT 1`, nil); !errors.Is(err, neon.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestNeonDriverBatch(t *testing.T) {
	pool, _ := openPool(t, "")
	c := openDriver(t, serve(t, pool, gateway.NeonOptions{}))
	ctx := context.Background()
	mustExec(t, pool, `CREATE TABLE t (id int PRIMARY KEY, s text)`)
	res, err := c.Batch(ctx, []driver.Stmt{
		{SQL: `INSERT INTO t VALUES ($1, $2), ($3, $4) RETURNING id, s`, Args: []any{int64(1), "a", int64(2), nil}, Rows: true},
		{SQL: `UPDATE t SET s = 'b' WHERE s IS NULL`},
		{SQL: `CREATE INDEX t_s ON t (s)`},
		{SQL: `SELECT id FROM t ORDER BY id`, Rows: true},
	})
	must(t, err)
	if len(res) != 4 || res[0].RowsAffected != 2 || res[1].RowsAffected != 1 || res[2].RowsAffected != 0 || res[1].Rows != nil {
		t.Fatalf("results %+v", res)
	}
	var ids []int64
	for res[3].Rows.Next() {
		var id int64
		must(t, res[3].Rows.Scan(&id))
		ids = append(ids, id)
	}
	if !slices.Equal(ids, []int64{1, 2}) || !slices.Equal(res[0].Rows.Columns(), []string{"id", "s"}) {
		t.Errorf("rows %v %v", ids, res[0].Rows.Columns())
	}
	// Options go in the Neon-Batch-* headers.
	show := []driver.Stmt{{SQL: `SHOW transaction_isolation`, Rows: true}, {SQL: `SHOW transaction_read_only`, Rows: true}, {SQL: `SHOW transaction_deferrable`, Rows: true}}
	res, err = c.BatchWith(ctx, neon.BatchOptions{Isolation: driver.Serializable, ReadOnly: true, Deferrable: true}, show)
	must(t, err)
	var got []string
	for _, r := range res {
		r.Rows.Next()
		var s string
		must(t, r.Rows.Scan(&s))
		got = append(got, s)
	}
	if !slices.Equal(got, []string{"serializable", "on", "on"}) {
		t.Errorf("batch options: %v", got)
	}
	if _, err := c.BatchWith(ctx, neon.BatchOptions{ReadOnly: true}, []driver.Stmt{{SQL: `DELETE FROM t`}}); err == nil {
		t.Error("a write in a read-only batch succeeded")
	}
	if _, err := c.BatchWith(ctx, neon.BatchOptions{Isolation: "SNAPSHOT"}, show); err == nil {
		t.Error("an unknown isolation level was sent")
	}
	// forge refuses interactive transactions and points to Batch.
	db, err := forge.Open(forge.MustSchema(), c)
	must(t, err)
	err = db.Transaction(ctx, func(*forge.Tx) error { return nil })
	var capErr *forge.CapabilityError
	if !errors.As(err, &capErr) || capErr.Driver != "neon" || !strings.Contains(capErr.Use, "Batch") {
		t.Errorf("Transaction: %v", err)
	}
}
