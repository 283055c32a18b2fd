package edge_test

// The per-request costs of an edge handler, on a 20-model schema: a Worker
// builds its schema once (package-level variables, at the first request of
// an isolate) and opens a forge.DB over the request's D1 binding on every
// request. Run them natively, and as WebAssembly under Node for numbers
// closer to a Worker's:
//
//	go test -run '^$' -bench . -benchmem ./edge
//	GOOS=js GOARCH=wasm PATH="$(go env GOROOT)/lib/wasm:$PATH" go test -run '^$' -bench . -benchmem ./edge
//
// scripts/edge-bench runs both and reports them with the Worker's size and
// latencies under workerd.

import (
	"context"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/d1"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
)

type M01 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
}

type M02 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M01
}

type M03 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M02
}

type M04 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M03
}

type M05 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M04
}

type M06 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M05
}

type M07 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M06
}

type M08 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M07
}

type M09 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M08
}

type M10 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M09
}

type M11 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M10
}

type M12 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M11
}

type M13 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M12
}

type M14 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M13
}

type M15 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M14
}

type M16 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M15
}

type M17 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M16
}

type M18 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M17
}

type M19 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M18
}

type M20 struct {
	ID        int64
	Name      string
	Email     string
	Count     int64
	Score     float64
	Active    bool
	Note      *string
	CreatedAt time.Time
	ParentID  int64
	Parent    *M19
}

// declareModels declares the 20 models, as package initialisation does
// once per isolate.
func declareModels() []forge.AnyModel {
	var (
		M01s = forge.Model("m01s", func(m *M01, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
		})
		M02s = forge.Model("m02s", func(m *M02, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M03s = forge.Model("m03s", func(m *M03, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M04s = forge.Model("m04s", func(m *M04, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M05s = forge.Model("m05s", func(m *M05, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M06s = forge.Model("m06s", func(m *M06, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M07s = forge.Model("m07s", func(m *M07, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M08s = forge.Model("m08s", func(m *M08, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M09s = forge.Model("m09s", func(m *M09, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M10s = forge.Model("m10s", func(m *M10, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M11s = forge.Model("m11s", func(m *M11, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M12s = forge.Model("m12s", func(m *M12, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M13s = forge.Model("m13s", func(m *M13, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M14s = forge.Model("m14s", func(m *M14, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M15s = forge.Model("m15s", func(m *M15, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M16s = forge.Model("m16s", func(m *M16, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M17s = forge.Model("m17s", func(m *M17, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M18s = forge.Model("m18s", func(m *M18, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M19s = forge.Model("m19s", func(m *M19, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
		M20s = forge.Model("m20s", func(m *M20, f *forge.Fields) {
			f.ID(&m.ID)
			f.Text(&m.Name).Index()
			f.Text(&m.Email).Unique()
			f.Int(&m.Count).Default(int64(0))
			f.Float(&m.Score)
			f.Bool(&m.Active).Default(true)
			f.NullText(&m.Note)
			f.Time(&m.CreatedAt).DefaultNow()
			f.Int(&m.ParentID).Index()
			f.BelongsTo(&m.Parent, &m.ParentID).OnDelete(forge.Cascade)
		})
	)
	return []forge.AnyModel{M01s, M02s, M03s, M04s, M05s, M06s, M07s, M08s, M09s, M10s, M11s, M12s, M13s, M14s, M15s, M16s, M17s, M18s, M19s, M20s}
}

// schema20 is the 20-model schema, built once as a Worker builds it.
var (
	models20 = declareModels()
	schema20 = forge.MustSchema(models20...)
	m01s     = models20[0].(*forge.ModelOf[M01])
)

// bufferedConn is a driver.Conn with D1's dialect whose queries return the
// rows it holds, as the D1 driver buffers them: it measures forge's own
// work on a request, without the database.
type bufferedConn struct{ rows [][]any }

func (c *bufferedConn) Dialect() dialect.Dialect { return d1.Dialect }
func (c *bufferedConn) Close() error             { return nil }
func (c *bufferedConn) Exec(context.Context, string, []any) (driver.Result, error) {
	return driver.Result{RowsAffected: 1}, nil
}
func (c *bufferedConn) Query(context.Context, string, []any) (driver.Rows, error) {
	return &driver.BufferedRows{Cols: []string{"id", "name", "email", "count", "score", "active", "note", "created_at"}, Values: c.rows}, nil
}

// BenchmarkOpen20Models is what every request pays before its first query:
// forge.Open of the 20-model schema over the request's connection (budget:
// 50 µs).
func BenchmarkOpen20Models(b *testing.B) {
	conn := &bufferedConn{}
	b.ReportAllocs()
	for b.Loop() {
		db, err := forge.Open(schema20, conn)
		if err != nil {
			b.Fatal(err)
		}
		_ = db
	}
}

// BenchmarkSchema20Models is the once-per-isolate cost: declaring the 20
// models and resolving them into a schema (at a Worker's first request).
func BenchmarkSchema20Models(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := forge.NewSchema(declareModels()...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRequest20Models is forge's CPU work for a request that opens the
// DB and reads 10 rows (FindMany, take 10) decoded as the D1 driver decodes
// them: everything but the database round trip.
func BenchmarkRequest20Models(b *testing.B) {
	rows := make([][]any, 10)
	for i := range rows {
		rows[i] = []any{int64(i + 1), "name", "user@example.com", int64(i), 1.5, int64(1), nil, "2026-01-02T03:04:05.000000000Z"}
	}
	conn := &bufferedConn{rows: rows}
	ctx := context.Background()
	c := m01s.Cols()
	b.ReportAllocs()
	for b.Loop() {
		db, err := forge.Open(schema20, conn)
		if err != nil {
			b.Fatal(err)
		}
		got, err := m01s.FindMany(ctx, db, forge.OrderBy(&c.ID, forge.Asc), forge.Take(10))
		if err != nil || len(got) != 10 {
			b.Fatal(err, len(got))
		}
	}
}

func TestSchema20Models(t *testing.T) {
	if len(schema20.Describe().Tables) != 20 {
		t.Fatalf("%d tables", len(schema20.Describe().Tables))
	}
}
