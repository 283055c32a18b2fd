package cache

import (
	"context"
	"testing"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver/fakedriver"
)

type Row struct {
	ID    int64
	Name  string
	Email string
	Age   int64
	On    bool
}

var Rows = forge.Model("rows", func(r *Row, f *forge.Fields) {
	f.ID(&r.ID)
	f.Text(&r.Name)
	f.Text(&r.Email)
	f.Int(&r.Age)
	f.Bool(&r.On)
})

// BenchmarkHit is a cache hit of a 10-row FindMany with a filter from the
// memory store: building the statement, the lookup and scanning the rows.
func BenchmarkHit(b *testing.B) {
	ctx := context.Background()
	f := fakedriver.New(dialect.SQLite, fakedriver.All)
	var rows [][]any
	for i := range 10 {
		rows = append(rows, []any{int64(i), "name", "user@example.com", int64(30 + i), int64(1)})
	}
	f.On(fakedriver.Any()).Rows([]string{"id", "name", "email", "age", "on"}, rows...)
	c, _ := New(NewMemory(1000))
	db, _ := forge.Open(forge.MustSchema(Rows), f.Conn(), forge.WithCache(c))
	cols := Rows.Cols()
	opts := []forge.Option{forge.Where(forge.Gt(&cols.Age, int64(18))), forge.Cached(0, 0)}
	if got, err := Rows.FindMany(ctx, db, opts...); err != nil || len(got) != 10 {
		b.Fatal(len(got), err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := Rows.FindMany(ctx, db, opts...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNoCache is the same FindMany without the cache, on the
// scripted driver (whose own cost is part of it), for comparison.
func BenchmarkNoCache(b *testing.B) {
	ctx := context.Background()
	f := fakedriver.New(dialect.SQLite, fakedriver.All)
	var rows [][]any
	for i := range 10 {
		rows = append(rows, []any{int64(i), "name", "user@example.com", int64(30 + i), int64(1)})
	}
	f.On(fakedriver.Any()).Rows([]string{"id", "name", "email", "age", "on"}, rows...)
	db, _ := forge.Open(forge.MustSchema(Rows), f.Conn())
	cols := Rows.Cols()
	opts := []forge.Option{forge.Where(forge.Gt(&cols.Age, int64(18)))}
	b.ReportAllocs()
	for range b.N {
		if _, err := Rows.FindMany(ctx, db, opts...); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHitAllocations holds a cache hit of a 10-row FindMany at 10
// allocations or fewer (the bar; the time is BenchmarkHit's).
func TestHitAllocations(t *testing.T) {
	res := testing.Benchmark(BenchmarkHit)
	if a := res.AllocsPerOp(); a > 10 {
		t.Fatalf("a cache hit allocates %d times, want at most 10", a)
	}
}
