package otel_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/forgetest"
	forgeotel "github.com/forge-orm/forge/otel"
	"github.com/forge-orm/forge/pgx"
	"github.com/forge-orm/forge/sqlite"
)

// The observer on real databases (a SQLite file; PostgreSQL through pgx
// for a batch sent in one round trip), with the SDK's in-memory exporter
// and a manual metric reader.

type User struct {
	ID    int64
	Email string
	Posts []Post
}

type Post struct {
	ID     int64
	UserID int64
	Title  string
}

var (
	Users = forge.Model("users", func(u *User, f *forge.Fields) {
		f.ID(&u.ID)
		f.Text(&u.Email).Unique()
		f.HasMany(&u.Posts, func(p *Post) *int64 { return &p.UserID })
	})
	Posts = forge.Model("posts", func(p *Post, f *forge.Fields) {
		f.ID(&p.ID)
		f.Int(&p.UserID).References(forge.Ref[User]())
		f.Text(&p.Title)
	})
	schema = forge.MustSchema(Users, Posts)
)

type harness struct {
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
	tracer trace.Tracer
	obs    *forgeotel.Observer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{spans: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(h.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	h.tracer = tp.Tracer("test")
	var err error
	h.obs, err = forgeotel.New(forgeotel.WithTracerProvider(tp), forgeotel.WithMeterProvider(mp),
		forgeotel.Namespace("main"), forgeotel.Server("db.internal", 5433))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// sqliteDB opens a SQLite file with two users (the first with a post),
// observed by h; the spans of the setup are dropped.
func (h *harness) sqliteDB(t *testing.T) *forge.DB {
	t.Helper()
	conn, err := sqlite.Open(filepath.Join(t.TempDir(), "otel.db"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := forge.Open(schema, conn, forge.WithObserver(h.obs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fill(t, db)
	h.spans.Reset()
	return db
}

func fill(t *testing.T, db *forge.DB) {
	t.Helper()
	ctx := context.Background()
	if err := db.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := Users.Create(ctx, db, User{Email: "a@x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Posts.Create(ctx, db, Post{UserID: u.ID, Title: "t"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Users.Create(ctx, db, User{Email: "b@x"}); err != nil {
		t.Fatal(err)
	}
}

func attrs(s tracetest.SpanStub) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	for _, kv := range s.Attributes {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

func find(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	for _, s := range spans {
		if s.Name == name {
			return s
		}
	}
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
	}
	t.Fatalf("no span %q among %q", name, names)
	return tracetest.SpanStub{}
}

func wantAttrs(t *testing.T, s tracetest.SpanStub, want map[string]any) {
	t.Helper()
	got := attrs(s)
	for k, v := range want {
		if g, ok := got[k]; !ok || g.String() != fmt.Sprint(v) {
			t.Errorf("span %q: %s = %v, want %v", s.Name, k, g.String(), v)
		}
	}
}

func TestFindAndInclude(t *testing.T) {
	h := newHarness(t)
	db := h.sqliteDB(t)
	ctx, root := h.tracer.Start(context.Background(), "request")
	c := Users.Cols()
	us, err := Users.FindMany(ctx, db, forge.Where(forge.Eq(&c.Email, "a@x")), forge.Include(&c.Posts))
	root.End()
	if err != nil || len(us) != 1 || len(us[0].Posts) != 1 {
		t.Fatal(us, err)
	}
	spans := h.spans.GetSpans()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 3 (the find, its include, the request)", len(spans))
	}
	req, sel, inc := find(t, spans, "request"), find(t, spans, "SELECT users"), find(t, spans, "SELECT posts")
	for _, s := range []tracetest.SpanStub{sel, inc} {
		if s.Parent.SpanID() != req.SpanContext.SpanID() || s.SpanContext.TraceID() != req.SpanContext.TraceID() {
			t.Errorf("span %q is not a child of the caller's span", s.Name)
		}
		if s.SpanKind != trace.SpanKindClient {
			t.Errorf("span %q: kind %v", s.Name, s.SpanKind)
		}
		text := attrs(s)["db.query.text"].AsString()
		if strings.Contains(text, "a@x") || !strings.Contains(text, "?") {
			t.Errorf("span %q: query text %q: want parameters, never values", s.Name, text)
		}
	}
	wantAttrs(t, sel, map[string]any{
		"db.system.name": "sqlite", "db.namespace": "main", "db.collection.name": "users",
		"db.operation.name": "SELECT", "db.query.summary": "SELECT users", "server.address": "db.internal",
		"server.port": 5433, "forge.operation": "findMany", "db.response.returned_rows": 1,
	})
	wantAttrs(t, inc, map[string]any{"db.collection.name": "posts", "forge.operation": "include"})
	if _, ok := attrs(sel)["db.operation.batch.size"]; ok {
		t.Error("a single statement has db.operation.batch.size")
	}

	// The histogram.
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "db.client.operation.duration" {
				continue
			}
			found = true
			if m.Unit != "s" {
				t.Errorf("unit %q", m.Unit)
			}
			hist, ok := m.Data.(metricdata.Histogram[float64])
			if !ok || len(hist.DataPoints) == 0 {
				t.Fatalf("not a histogram with points: %T", m.Data)
			}
			for _, dp := range hist.DataPoints {
				if v, ok := dp.Attributes.Value("db.system.name"); !ok || v.AsString() != "sqlite" {
					t.Errorf("a point without db.system.name: %v", dp.Attributes)
				}
				if _, ok := dp.Attributes.Value("db.query.text"); ok {
					t.Error("the histogram carries the query text")
				}
			}
		}
	}
	if !found {
		t.Fatal("no db.client.operation.duration")
	}
}

func TestTransaction(t *testing.T) {
	h := newHarness(t)
	db := h.sqliteDB(t)
	ctx, root := h.tracer.Start(context.Background(), "request")
	err := db.Transaction(ctx, func(tx *forge.Tx) error {
		u, err := Users.Create(ctx, tx, User{Email: "c@x"})
		if err != nil {
			return err
		}
		_, err = Posts.Create(ctx, tx, Post{UserID: u.ID, Title: "p"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = db.Transaction(ctx, func(tx *forge.Tx) error {
		if _, err := Users.Create(ctx, tx, User{Email: "d@x"}); err != nil {
			return err
		}
		return boom
	})
	root.End()
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	spans := h.spans.GetSpans()
	req := find(t, spans, "request")
	var txs []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == "transaction" {
			txs = append(txs, s)
		}
	}
	if len(txs) != 2 {
		t.Fatalf("%d transaction spans, want 2", len(txs))
	}
	for i, tx := range txs {
		if tx.Parent.SpanID() != req.SpanContext.SpanID() {
			t.Errorf("transaction %d is not a child of the caller's span", i)
		}
		children := 0
		for _, s := range spans {
			if s.Parent.SpanID() == tx.SpanContext.SpanID() {
				children++
				if !strings.HasPrefix(s.Name, "INSERT ") {
					t.Errorf("transaction %d: child %q", i, s.Name)
				}
			}
		}
		want, event := 2, "commit"
		if i == 1 {
			want, event = 1, "rollback"
		}
		if children != want {
			t.Errorf("transaction %d: %d child spans, want %d", i, children, want)
		}
		if len(tx.Events) == 0 || tx.Events[len(tx.Events)-1].Name != event {
			t.Errorf("transaction %d: events %v, want %s last", i, tx.Events, event)
		}
		wantAttrs(t, tx, map[string]any{"db.system.name": "sqlite", "db.operation.name": "BEGIN"})
	}
	wantAttrs(t, find(t, spans, "INSERT posts"), map[string]any{"db.collection.name": "posts", "forge.operation": "create"})
}

// TestFailingBatch: a batch whose second insert breaks a unique key, on
// SQLite (in a transaction: spans per statement under the transaction's)
// and on PostgreSQL through pgx (one round trip: one span with the batch
// size).
func TestFailingBatch(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		h := newHarness(t)
		db := h.sqliteDB(t)
		ctx, root := h.tracer.Start(context.Background(), "request")
		_, err := db.Batch(ctx, Users.CreateOp(User{Email: "new@x"}), Users.CreateOp(User{Email: "a@x"}))
		root.End()
		var ce *forge.ConstraintError
		if !errors.As(err, &ce) {
			t.Fatalf("want a constraint error, got %v", err)
		}
		spans := h.spans.GetSpans()
		tx := find(t, spans, "transaction")
		var failed []tracetest.SpanStub
		for _, s := range spans {
			if s.Status.Code == codes.Error {
				failed = append(failed, s)
			}
		}
		if len(failed) != 1 || failed[0].Name != "INSERT users" || failed[0].Parent.SpanID() != tx.SpanContext.SpanID() {
			t.Fatalf("failed spans %v: want one INSERT users under the transaction", failed)
		}
		wantAttrs(t, failed[0], map[string]any{"error.type": "constraint"})
		if tx.Events[len(tx.Events)-1].Name != "rollback" {
			t.Errorf("transaction events %v", tx.Events)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("FORGE_TEST_PG_DSN")
		if dsn == "" {
			forgetest.RequireService(t, "PostgreSQL (FORGE_TEST_PG_DSN)")
		}
		ctx := context.Background()
		name := fmt.Sprintf("forgeotel_%x", rand.Uint32())
		admin, err := pgx.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		adb, _ := forge.Open(schema, admin)
		defer adb.Close()
		if _, err := forge.Exec(ctx, adb, "CREATE SCHEMA "+name); err != nil {
			t.Fatal(err)
		}
		defer forge.Exec(context.Background(), adb, "DROP SCHEMA "+name+" CASCADE")
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		conn, err := pgx.Open(ctx, dsn+sep+"search_path="+name)
		if err != nil {
			t.Fatal(err)
		}
		h := newHarness(t)
		db, _ := forge.Open(schema, conn, forge.WithObserver(h.obs))
		defer db.Close()
		fill(t, db)
		h.spans.Reset()
		ctx, root := h.tracer.Start(ctx, "request")
		_, err = db.Batch(ctx, Users.CreateOp(User{Email: "new@x"}), Users.CreateOp(User{Email: "a@x"}))
		root.End()
		var ce *forge.ConstraintError
		if !errors.As(err, &ce) {
			t.Fatalf("want a constraint error, got %v", err)
		}
		spans := h.spans.GetSpans()
		if len(spans) != 2 {
			t.Fatalf("%d spans, want 2 (the batch, the request)", len(spans))
		}
		b := find(t, spans, "BATCH INSERT users")
		if b.Parent.SpanID() != find(t, spans, "request").SpanContext.SpanID() {
			t.Error("the batch is not a child of the caller's span")
		}
		if b.Status.Code != codes.Error {
			t.Errorf("batch status %v", b.Status)
		}
		wantAttrs(t, b, map[string]any{"db.system.name": "postgresql", "db.operation.batch.size": 2,
			"db.operation.name": "BATCH INSERT", "db.collection.name": "users", "error.type": "constraint", "forge.operation": "batch"})
		if text := attrs(b)["db.query.text"].AsString(); strings.Contains(text, "new@x") || !strings.Contains(text, "$1") {
			t.Errorf("query text %q", text)
		}
	})
}
