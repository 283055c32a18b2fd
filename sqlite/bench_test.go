package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/sqlite"
	"github.com/forge-orm/forge/stdsql"
)

type benchRow struct {
	ID        int64
	Name      string
	Email     string
	Age       int64
	Score     float64
	Active    bool
	CreatedAt time.Time
}

var benchRows = forge.Model("bench_rows", func(r *benchRow, f *forge.Fields) {
	f.ID(&r.ID)
	f.Text(&r.Name)
	f.Text(&r.Email)
	f.Int(&r.Age)
	f.Float(&r.Score)
	f.Bool(&r.Active)
	f.Time(&r.CreatedAt)
})

var benchSchema = forge.MustSchema(benchRows)

func benchDB(b *testing.B, n int) *forge.DB {
	b.Helper()
	conn, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	db, err := forge.Open(benchSchema, conn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := db.CreateSchema(ctx); err != nil {
		b.Fatal(err)
	}
	rows := make([]benchRow, n)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		rows[i] = benchRow{Name: fmt.Sprintf("name %d", i), Email: fmt.Sprintf("u%d@example.com", i), Age: int64(i % 90), Score: float64(i) / 3, Active: i%2 == 0, CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
	}
	if _, err := benchRows.CreateMany(ctx, db, rows); err != nil {
		b.Fatal(err)
	}
	return db
}

const scanQuery = `SELECT "id", "name", "email", "age", "score", "active", "created_at" FROM "bench_rows" ORDER BY "id" LIMIT 100`

// BenchmarkScan100 compares forge's FindMany of 100 rows into structs with
// a hand-written database/sql loop running the same query on the same
// connection pool (the budget: forge at most 1.15x).
func BenchmarkScan100(b *testing.B) {
	db := benchDB(b, 1000)
	ctx := context.Background()
	c := benchRows.Cols()
	b.Run("forge", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, err := benchRows.FindMany(ctx, db, forge.OrderBy(&c.ID, forge.Asc), forge.Take(100))
			if err != nil || len(out) != 100 || out[99].ID != 100 {
				b.Fatal(err, len(out))
			}
		}
	})
	b.Run("database-sql", func(b *testing.B) {
		sqlDB := db.Driver().(*stdsql.Conn).DB()
		b.ReportAllocs()
		for b.Loop() {
			rows, err := sqlDB.QueryContext(ctx, scanQuery)
			if err != nil {
				b.Fatal(err)
			}
			out := make([]benchRow, 0, 100)
			for rows.Next() {
				var r benchRow
				var created string
				if err := rows.Scan(&r.ID, &r.Name, &r.Email, &r.Age, &r.Score, &r.Active, &created); err != nil {
					b.Fatal(err)
				}
				if r.CreatedAt, err = time.Parse(dialect.SQLiteTimeLayout, created); err != nil {
					b.Fatal(err)
				}
				out = append(out, r)
			}
			if err := rows.Close(); err != nil || len(out) != 100 || out[99].ID != 100 {
				b.Fatal(err, len(out))
			}
		}
	})
}
