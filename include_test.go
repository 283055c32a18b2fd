package forge_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
)

// tableConn is an in-memory driver that answers every SELECT with the rows
// held for the table it names, so a query path can be measured without a
// database. Its Query allocates once (the cursor).
type tableConn struct {
	nullConn
	tables map[string][][]any // quoted table name → rows, in the model's column order
}

func (c *tableConn) Query(_ context.Context, sql string, _ []any) (driver.Rows, error) {
	from := strings.Index(sql, " FROM ")
	name := sql[from+len(" FROM "):]
	if i := strings.IndexByte(name, ' '); i >= 0 {
		name = name[:i]
	}
	return &tableRows{rows: c.tables[name]}, nil
}

type tableRows struct {
	rows [][]any
	i    int
}

func (*tableRows) Columns() []string { return nil }
func (r *tableRows) Next() bool      { r.i++; return r.i <= len(r.rows) }
func (*tableRows) Err() error        { return nil }
func (*tableRows) Close() error      { return nil }
func (r *tableRows) Scan(dest ...any) error {
	row := r.rows[r.i-1]
	for i, d := range dest {
		switch d := d.(type) {
		case *int64:
			*d = row[i].(int64)
		case *string:
			*d = row[i].(string)
		case *float64:
			*d = row[i].(float64)
		case *time.Time:
			*d = row[i].(time.Time)
		}
	}
	return nil
}

func newTableConn() *tableConn {
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return &tableConn{tables: map[string][][]any{
		`"accounts"`: {
			{int64(1), "ada@x", "Ada", int64(36), at},
			{int64(2), "bob@x", "Bob", int64(40), at},
		},
		`"orders"`: {
			{int64(10), int64(1), 9.5},
			{int64(11), int64(2), 3.25},
		},
	}}
}

// BenchmarkInclude measures FindMany with and without Include on an
// in-memory driver (2 accounts, 2 orders): the difference is the include
// path's cost.
func BenchmarkInclude(b *testing.B) {
	ctx := context.Background()
	db, err := forge.Open(testSchema, newTableConn())
	if err != nil {
		b.Fatal(err)
	}
	c := Accounts.Cols()
	b.Run("findMany", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Accounts.FindMany(ctx, db); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("findMany+include", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Accounts.FindMany(ctx, db, forge.Include(&c.Orders)); err != nil {
				b.Fatal(err)
			}
		}
	})
	oc := Orders.Cols()
	b.Run("belongsTo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Orders.FindMany(ctx, db, forge.Include(&oc.Account)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestIncludeOnFakeDriver(t *testing.T) {
	ctx := context.Background()
	db, _ := forge.Open(testSchema, newTableConn())
	c := Accounts.Cols()
	got, err := Accounts.FindMany(ctx, db, forge.Include(&c.Orders))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0].Orders) != 1 || got[0].Orders[0].ID != 10 || len(got[1].Orders) != 1 || got[1].Orders[0].ID != 11 {
		t.Fatalf("has-many include: %+v", got)
	}
	oc := Orders.Cols()
	orders, err := Orders.FindMany(ctx, db, forge.Include(&oc.Account))
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) != 2 || orders[0].Account == nil || orders[0].Account.Name != "Ada" || orders[1].Account.Name != "Bob" {
		t.Fatalf("belongs-to include: %+v", orders)
	}
}

var _ dialect.Dialect = dialect.SQLite
