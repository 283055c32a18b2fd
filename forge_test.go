package forge_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
)

type Account struct {
	ID        int64
	Email     string
	Name      string
	Age       int64
	CreatedAt time.Time
	Orders    []Order
}

type Order struct {
	ID        int64
	AccountID int64
	Total     float64
	Account   *Account
}

var (
	Accounts = forge.Model("accounts", func(a *Account, f *forge.Fields) {
		f.ID(&a.ID)
		f.Text(&a.Email).Unique()
		f.Text(&a.Name)
		f.Int(&a.Age)
		f.Time(&a.CreatedAt).DefaultNow()
		f.HasMany(&a.Orders, func(o *Order) *int64 { return &o.AccountID })
	})
	Orders = forge.Model("orders", func(o *Order, f *forge.Fields) {
		f.ID(&o.ID)
		f.Int(&o.AccountID)
		f.Float(&o.Total)
		f.BelongsTo(&o.Account, &o.AccountID)
	})
	testSchema = forge.MustSchema(Accounts, Orders)
)

func TestFindManySQL(t *testing.T) {
	c := Accounts.Cols()
	since := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := []forge.Option{
		forge.Where(forge.Eq(&c.Email, "a@x"), forge.Or(forge.Gt(&c.CreatedAt, since), forge.In(&c.Age, 1, 2))),
		forge.OrderBy(&c.Name, forge.Desc),
		forge.Take(10), forge.Skip(5),
	}
	for _, tc := range []struct {
		d    dialect.Dialect
		sql  string
		args []any
	}{
		{dialect.SQLite,
			`SELECT "id", "email", "name", "age", "created_at" FROM "accounts" WHERE ("email" = ? AND ("created_at" > ? OR "age" IN (?, ?))) ORDER BY "name" DESC, "id" LIMIT 10 OFFSET 5`,
			[]any{"a@x", "2024-01-01T00:00:00.000000000Z", int64(1), int64(2)}},
		{dialect.Postgres,
			`SELECT "id", "email", "name", "age", "created_at" FROM "accounts" WHERE ("email" = $1 AND ("created_at" > $2 OR "age" IN ($3, $4))) ORDER BY "name" DESC, "id" LIMIT 10 OFFSET 5`,
			[]any{"a@x", since, int64(1), int64(2)}},
	} {
		sql, args, err := Accounts.FindManySQL(tc.d, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if sql != tc.sql {
			t.Errorf("%s:\n got  %s\n want %s", tc.d.Name(), sql, tc.sql)
		}
		if len(args) != len(tc.args) {
			t.Fatalf("%s: args %v, want %v", tc.d.Name(), args, tc.args)
		}
		for i := range args {
			if args[i] != tc.args[i] {
				t.Errorf("%s: arg %d = %#v, want %#v", tc.d.Name(), i, args[i], tc.args[i])
			}
		}
	}
}

func TestIdentifiersAreQuoted(t *testing.T) {
	type Odd struct {
		ID   int64
		Name string
	}
	odd := forge.Model(`we"ird table`, func(o *Odd, f *forge.Fields) {
		f.ID(&o.ID)
		f.Text(&o.Name).Column(`na"me; DROP TABLE x`)
	})
	if _, err := forge.NewSchema(odd); err != nil {
		t.Fatal(err)
	}
	sql, _, err := odd.FindManySQL(dialect.Postgres, forge.Where(forge.Eq(&odd.Cols().Name, "x")))
	if err != nil {
		t.Fatal(err)
	}
	want := `SELECT "id", "na""me; DROP TABLE x" FROM "we""ird table" WHERE "na""me; DROP TABLE x" = $1`
	if sql != want {
		t.Errorf("got  %s\nwant %s", sql, want)
	}
}

func TestSchemaErrorsNameModelAndField(t *testing.T) {
	type Bad struct {
		ID    int64
		Other int64
		Name  string
		Meta  map[string]any
		Child []Account
		X     int
	}
	var stranger int64
	bad := forge.Model("bad", func(b *Bad, f *forge.Fields) {
		f.Int(&b.Other)
		f.Text(&b.Name).Default(42)       // wrong default type
		f.Text(&b.Name)                   // declared twice
		f.Int(&stranger)                  // not a field
		f.Int(&b.ID).DefaultNow()         // DefaultNow on an int
		f.NullJSON(&b.X)                  // cannot be nil
		f.HasMany(&b.Child, "not a func") // bad fk
		f.Int(&b.Other).References(forge.ModelRef{})
	})
	err := bad.Err()
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		"model Bad (table bad): field Name: Default: value 42 has type int, the field holds string",
		"model Bad (table bad): field Name: declared twice",
		"not a field of the model's template",
		"model Bad (table bad): field ID: DefaultNow: the field is int64, not a time",
		"NullJSON field of type int",
		"model Bad (table bad): field Child: HasMany: fk must be a func",
		"no primary key",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	var se *forge.SchemaError
	if !errors.As(err, &se) || se.Model != "Bad" {
		t.Errorf("errors.As(*SchemaError): %v", se)
	}
	if _, err := forge.NewSchema(bad); err == nil {
		t.Error("NewSchema accepted a bad model")
	}
	// The model refuses queries rather than panicking.
	if _, _, err := bad.FindManySQL(dialect.SQLite); err == nil {
		// FindManySQL builds only; running checks the model.
		_ = err
	}
}

func TestSchemaCrossModelErrors(t *testing.T) {
	type Lonely struct {
		ID      int64
		OwnerID string
		Owner   *Account
	}
	lonely := forge.Model("lonely", func(l *Lonely, f *forge.Fields) {
		f.ID(&l.ID)
		f.Text(&l.OwnerID)
		f.BelongsTo(&l.Owner, &l.OwnerID)
	})
	if _, err := forge.NewSchema(lonely); err == nil || !strings.Contains(err.Error(), "not a model of this schema") {
		t.Errorf("reference to a model outside the schema: %v", err)
	}
	_, err := forge.NewSchema(lonely, Accounts, Orders)
	if err == nil || !strings.Contains(err.Error(), "field OwnerID: is text but references Account.ID, which is id") {
		t.Errorf("key type mismatch: %v", err)
	}
	dup := forge.Model("accounts", func(o *Order, f *forge.Fields) { f.ID(&o.ID) })
	if _, err := forge.NewSchema(Accounts, dup); err == nil || !strings.Contains(err.Error(), `both use table "accounts"`) {
		t.Errorf("duplicate table: %v", err)
	}
}

func TestSnakeCaseColumns(t *testing.T) {
	type Names struct {
		ID         int64
		UserID     int64
		HTTPServer string
		CreatedAt  time.Time
		URL2Path   string
		Embedded   struct{ InnerName string }
	}
	m := forge.Model("names", func(n *Names, f *forge.Fields) {
		f.ID(&n.ID)
		f.Int(&n.UserID)
		f.Text(&n.HTTPServer)
		f.Time(&n.CreatedAt)
		f.Text(&n.URL2Path)
		f.Text(&n.Embedded.InnerName)
	})
	if err := m.Err(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range m.Table().Columns {
		got = append(got, c.Name)
	}
	want := "id user_id http_server created_at url2_path embedded_inner_name"
	if strings.Join(got, " ") != want {
		t.Errorf("columns %v, want %s", got, want)
	}
}

// nullConn is a driver with no transactions and no batches.
type nullConn struct{}

func (nullConn) Dialect() dialect.Dialect { return dialect.SQLite }
func (nullConn) Query(context.Context, string, []any) (driver.Rows, error) {
	return &emptyRows{}, nil
}
func (nullConn) Exec(context.Context, string, []any) (driver.Result, error) {
	return driver.Result{RowsAffected: 1}, nil
}
func (nullConn) Close() error       { return nil }
func (nullConn) DriverName() string { return "null" }

type emptyRows struct{}

func (*emptyRows) Columns() []string { return nil }
func (*emptyRows) Next() bool        { return false }
func (*emptyRows) Scan(...any) error { return nil }
func (*emptyRows) Err() error        { return nil }
func (*emptyRows) Close() error      { return nil }

// batchOnly can batch but has no interactive transactions.
type batchOnly struct{ nullConn }

func (batchOnly) Batch(ctx context.Context, stmts []driver.Stmt) ([]driver.BatchResult, error) {
	return make([]driver.BatchResult, len(stmts)), nil
}

func TestCapabilityErrors(t *testing.T) {
	ctx := context.Background()
	db, err := forge.Open(testSchema, nullConn{})
	if err != nil {
		t.Fatal(err)
	}
	var ce *forge.CapabilityError
	ran := false
	err = db.Transaction(ctx, func(*forge.Tx) error { ran = true; return nil })
	if !errors.As(err, &ce) || ran {
		t.Fatalf("Transaction on a driver without transactions: %v (ran %v)", err, ran)
	}
	if _, err := db.Batch(ctx, forge.ExecOp("DELETE FROM x")); !errors.As(err, &ce) {
		t.Errorf("Batch on a driver without batches or transactions: %v", err)
	}
	bdb, _ := forge.Open(testSchema, batchOnly{})
	err = bdb.Transaction(ctx, func(*forge.Tx) error { return nil })
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "use db.Batch") {
		t.Errorf("Transaction on a batching driver should name Batch: %v", err)
	}
	if _, err := bdb.Batch(ctx, forge.ExecOp("DELETE FROM x")); err != nil {
		t.Errorf("Batch on a batching driver: %v", err)
	}
	// CreateMany that needs several statements is refused, not split
	// non-atomically.
	many := make([]Account, 10000)
	for i := range many {
		many[i].Email = "x"
	}
	if _, err := Accounts.CreateMany(ctx, db, many); !errors.As(err, &ce) {
		t.Errorf("multi-statement CreateMany without transactions: %v", err)
	}
}

func TestOpenRejectsNil(t *testing.T) {
	if _, err := forge.Open(nil, nullConn{}); err == nil {
		t.Error("nil schema accepted")
	}
	if _, err := forge.Open(testSchema, nil); err == nil {
		t.Error("nil driver accepted")
	}
}

func TestUUIDv7(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for i := 0; i < 1000; i++ {
		u := forge.NewUUIDv7()
		if len(u) != 36 || u[14] != '7' || !strings.ContainsRune("89ab", rune(u[19])) {
			t.Fatalf("not a UUIDv7: %s", u)
		}
		if seen[u] {
			t.Fatalf("duplicate %s", u)
		}
		seen[u] = true
		if u[:13] < prev[:min(len(prev), 13)] {
			t.Fatalf("time prefix went backwards: %s after %s", u, prev)
		}
		prev = u
	}
}

// BenchmarkFindManySQL builds a FindMany with two conditions, an order and
// a limit into SQL, as the budget states (<= 1 µs, <= 6 allocs).
func BenchmarkFindManySQL(b *testing.B) {
	c := Accounts.Cols()
	for _, d := range []dialect.Dialect{dialect.Postgres, dialect.SQLite} {
		b.Run(d.Name(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _, err := Accounts.FindManySQL(d,
					forge.Where(forge.Eq(&c.Email, "ada@example.com"), forge.Gt(&c.Age, 30)),
					forge.OrderBy(&c.Name, forge.Asc),
					forge.Take(20))
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEventPath runs a statement through forge's execution path on a
// driver that does no work: with no observer it allocates nothing.
func BenchmarkEventPath(b *testing.B) {
	ctx := context.Background()
	b.Run("no-observer", func(b *testing.B) {
		db, _ := forge.Open(testSchema, nullConn{})
		b.ReportAllocs()
		for b.Loop() {
			if _, err := forge.Exec(ctx, db, "UPDATE x SET y = 1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("observer", func(b *testing.B) {
		db, _ := forge.Open(testSchema, nullConn{}, forge.WithObserver(forge.ObserverFuncs{}))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := forge.Exec(ctx, db, "UPDATE x SET y = 1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestEventPathAllocatesNothing(t *testing.T) {
	db, _ := forge.Open(testSchema, nullConn{})
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = forge.Exec(ctx, db, "UPDATE x SET y = 1")
	})
	if allocs != 0 {
		t.Errorf("the statement path without observers allocates %v times", allocs)
	}
}
