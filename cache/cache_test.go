package cache

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver/fakedriver"
)

// The mechanics of the cache, on the scripted driver; the same behaviour
// against real databases and a real Redis is tested in the cache/redis
// module.

// Item has a field of every kind forge maps (TextID aside: text).
type Item struct {
	ID         int64
	Name       string
	Note       *string
	Count      int64
	Maybe      *int64
	Small      int32
	MaybeSmall *int32
	Weight     float64
	Price      *float64
	On         bool
	MaybeOn    *bool
	Made       time.Time
	Seen       *time.Time
	Raw        []byte
	Blob       []byte
	Doc        map[string]any
	Meta       map[string]any
	Tags       []Tag
}

type Tag struct {
	ID     int64
	ItemID int64
	Label  string
}

var (
	Items = forge.Model("items", func(i *Item, f *forge.Fields) {
		f.ID(&i.ID)
		f.Text(&i.Name)
		f.NullText(&i.Note)
		f.Int(&i.Count)
		f.NullInt(&i.Maybe)
		f.Int32(&i.Small)
		f.NullInt32(&i.MaybeSmall)
		f.Float(&i.Weight)
		f.NullFloat(&i.Price)
		f.Bool(&i.On)
		f.NullBool(&i.MaybeOn)
		f.Time(&i.Made)
		f.NullTime(&i.Seen)
		f.Bytes(&i.Raw)
		f.NullBytes(&i.Blob)
		f.JSON(&i.Doc)
		f.NullJSON(&i.Meta)
		f.HasMany(&i.Tags, func(t *Tag) *int64 { return &t.ItemID })
	})
	Tags = forge.Model("tags", func(t *Tag, f *forge.Fields) {
		f.ID(&t.ID)
		f.Int(&t.ItemID).References(forge.Ref[Item]())
		f.Text(&t.Label)
	})
	testSchema = forge.MustSchema(Items, Tags)
)

var itemCols = []string{"id", "name", "note", "count", "maybe", "small", "maybe_small", "weight", "price",
	"on", "maybe_on", "made", "seen", "raw", "blob", "doc", "meta"}

// itemRow is a stored item as SQLite returns it; NULL in half the nullable
// columns.
func itemRow(id int64, name string) []any {
	return []any{id, name, "n", int64(-3), nil, int64(7), int64(-8), 0.25, 2.5,
		int64(1), nil, "2024-01-02T03:04:05.000001000Z", "1999-12-31T23:59:59.000000000Z", []byte{}, []byte("ab"), `{"x":[1,2]}`, `{"a":1}`}
}

// setup returns a fake answering selects of items and tags, a cache over a
// memory store and a DB using it.
func setup(t *testing.T, opts ...Option) (*fakedriver.Fake, *fakedriver.Rule, *Cache, *forge.DB) {
	t.Helper()
	f := fakedriver.New(dialect.SQLite, fakedriver.All)
	sel := f.On(fakedriver.Contains(`FROM "items"`)).Rows(itemCols, itemRow(1, "a"), itemRow(2, "b"))
	f.On(fakedriver.Contains(`FROM "tags"`)).Rows([]string{"id", "item_id", "label"}, []any{int64(1), int64(1), "x"})
	f.On(fakedriver.Prefix("INSERT")).Rows(itemCols, itemRow(3, "c"))
	f.On(fakedriver.Prefix("UPDATE")).Affected(1)
	c, err := New(NewMemory(100), opts...)
	if err != nil {
		t.Fatal(err)
	}
	db, err := forge.Open(testSchema, f.Conn(), forge.WithCache(c))
	if err != nil {
		t.Fatal(err)
	}
	return f, sel, c, db
}

func TestHitIsTheMissResultAndWriteInvalidates(t *testing.T) {
	ctx := context.Background()
	_, sel, _, db := setup(t)
	c := Items.Cols()
	first, err := Items.FindMany(ctx, db, forge.Cached(0, 0), forge.Include(&c.Tags))
	if err != nil {
		t.Fatal(err)
	}
	second, err := Items.FindMany(ctx, db, forge.Cached(0, 0), forge.Include(&c.Tags))
	if err != nil {
		t.Fatal(err)
	}
	if sel.Hits() != 1 {
		t.Fatalf("items selected %d times, want 1 (the second read is a hit)", sel.Hits())
	}
	if !reflect.DeepEqual(first, second) {
		t.Fatalf("hit differs from miss:\n%+v\n%+v", first, second)
	}
	// The hit's rows are the caller's own: changing them changes no later hit.
	second[0].Blob[0] = 'z'
	second[0].Meta["a"] = 2.0
	third, _ := Items.FindMany(ctx, db, forge.Cached(0, 0), forge.Include(&c.Tags))
	if !reflect.DeepEqual(first, third) {
		t.Fatalf("a caller's change reached the cache:\n%+v\n%+v", first, third)
	}
	// Without the option, and with another argument, the cache is not used.
	_, _ = Items.FindMany(ctx, db)
	_, _ = Items.FindMany(ctx, db, forge.Cached(0, 0), forge.Where(forge.Eq(&c.Name, "b")))
	if sel.Hits() != 3 {
		t.Fatalf("items selected %d times, want 3", sel.Hits())
	}
	if _, err := Items.Create(ctx, db, Item{Name: "c"}); err != nil {
		t.Fatal(err)
	}
	_, _ = Items.FindMany(ctx, db, forge.Cached(0, 0), forge.Include(&c.Tags))
	if sel.Hits() != 4 {
		t.Fatalf("items selected %d times, want 4 (the write invalidated the result)", sel.Hits())
	}
}

func TestPerModelCountAndNoCache(t *testing.T) {
	ctx := context.Background()
	f := fakedriver.New(dialect.SQLite, fakedriver.All)
	cnt := f.On(fakedriver.Prefix("SELECT COUNT")).Rows([]string{"n"}, []any{int64(5)})
	sel := f.On(fakedriver.Contains(`FROM "items"`)).Rows(itemCols, itemRow(1, "a"))
	c, _ := New(NewMemory(10))
	db, _ := forge.Open(testSchema, f.Conn(), forge.WithCache(c, Items))
	for range 3 {
		if n, err := Items.Count(ctx, db); err != nil || n != 5 {
			t.Fatal(n, err)
		}
		if _, err := Items.FindMany(ctx, db); err != nil {
			t.Fatal(err)
		}
		if _, err := Items.FindMany(ctx, db, forge.NoCache()); err != nil {
			t.Fatal(err)
		}
	}
	if cnt.Hits() != 1 || sel.Hits() != 4 {
		t.Fatalf("count ran %d times (want 1), select %d (want 1 cached + 3 NoCache)", cnt.Hits(), sel.Hits())
	}
}

func TestTransactionsBypassAndRollbackInvalidatesNothing(t *testing.T) {
	ctx := context.Background()
	_, sel, _, db := setup(t)
	c := Items.Cols()
	read := func(q forge.Querier) {
		t.Helper()
		if _, err := Items.FindMany(ctx, q, forge.Cached(0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	read(db)
	boom := errors.New("boom")
	err := db.Transaction(ctx, func(tx *forge.Tx) error {
		read(tx) // inside: to the database
		read(tx)
		if _, err := Items.UpdateMany(ctx, tx, forge.Eq(&c.ID, int64(1)), forge.Set(&c.Name, "x")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	read(db)
	if sel.Hits() != 3 {
		t.Fatalf("items selected %d times, want 3 (1 miss, 2 in the transaction, then a hit)", sel.Hits())
	}
	// A savepoint rolled back drops its own write only.
	err = db.Transaction(ctx, func(tx *forge.Tx) error {
		_ = tx.Transaction(ctx, func(sub *forge.Tx) error {
			_, _ = Tags.UpdateMany(ctx, sub, forge.All(), forge.Set(&Tags.Cols().Label, "y"))
			return boom
		})
		_, err := Items.UpdateMany(ctx, tx, forge.Eq(&c.ID, int64(1)), forge.Set(&c.Name, "x"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	read(db)
	if sel.Hits() != 4 {
		t.Fatalf("items selected %d times, want 4 (the committed write invalidated)", sel.Hits())
	}
}

func TestOneLoadPerKey(t *testing.T) {
	ctx := context.Background()
	f := fakedriver.New(dialect.SQLite, fakedriver.All)
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(1)
	var once sync.Once
	sel := f.On(fakedriver.Contains(`FROM "items"`)).Func(func(fakedriver.Stmt) fakedriver.Answer {
		once.Do(started.Done)
		<-release
		return fakedriver.Answer{Columns: itemCols, Rows: [][]any{itemRow(1, "a")}}
	})
	c, _ := New(NewMemory(10))
	db, _ := forge.Open(testSchema, f.Conn(), forge.WithCache(c))
	var wg sync.WaitGroup
	var bad atomic.Int32
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows, err := Items.FindMany(ctx, db, forge.Cached(0, 0))
			if err != nil || len(rows) != 1 {
				bad.Add(1)
			}
		}()
	}
	started.Wait()
	for c.flightCount() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if bad.Load() != 0 || sel.Hits() > 20 {
		t.Fatalf("%d readers failed", bad.Load())
	}
	// Readers that arrived while the load ran shared it; any that came
	// after found the entry: at most one load whatever the timing.
	if sel.Hits() != 1 {
		t.Fatalf("%d loads for one key, want 1", sel.Hits())
	}
}

func TestTTLAndStaleWhileRevalidate(t *testing.T) {
	ctx := context.Background()
	_, sel, c, db := setup(t, TTL(10*time.Second), StaleWhileRevalidate(time.Minute))
	var now atomic.Int64
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	c.now, c.mem.now = clock, clock
	read := func() {
		t.Helper()
		if _, err := Items.FindMany(ctx, db, forge.Cached(0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	read()
	now.Add(int64(5 * time.Second))
	read() // fresh
	if sel.Hits() != 1 {
		t.Fatalf("%d selects, want 1", sel.Hits())
	}
	now.Add(int64(10 * time.Second))
	read() // stale: served, refreshed in the background
	c.wait()
	if sel.Hits() != 2 {
		t.Fatalf("%d selects, want 2 (one background refresh)", sel.Hits())
	}
	read() // refreshed: fresh again
	now.Add(int64(2 * time.Minute))
	read() // past the stale window: a miss
	if sel.Hits() != 3 {
		t.Fatalf("%d selects, want 3", sel.Hits())
	}
}

func TestBadOptions(t *testing.T) {
	ctx := context.Background()
	_, _, _, db := setup(t)
	c := Items.Cols()
	var qe *forge.QueryError
	if _, err := Items.FindMany(ctx, db, forge.Cached(-time.Second, 0)); !errors.As(err, &qe) {
		t.Fatalf("negative TTL: %v", err)
	}
	if _, err := Items.FindMany(ctx, db, forge.Include(&c.Tags, forge.Cached(0, 0))); !errors.As(err, &qe) {
		t.Fatalf("Cached in an include: %v", err)
	}
	if _, err := New(nil); err == nil {
		t.Fatal("New(nil) succeeded")
	}
	if _, err := New(NewMemory(1), TTL(0)); err == nil {
		t.Fatal("TTL(0) succeeded")
	}
}

// fakeKV is a consistent KV namespace in memory that records TTLs.
type fakeKV struct {
	mu   sync.Mutex
	m    map[string][]byte
	ttls []time.Duration
}

func (k *fakeKV) Get(_ context.Context, key string) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	return v, ok, nil
}

func (k *fakeKV) Put(_ context.Context, key string, v []byte, ttl time.Duration) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[key] = append([]byte{}, v...)
	k.ttls = append(k.ttls, ttl)
	return nil
}

func TestKVStore(t *testing.T) {
	ctx := context.Background()
	kv := &fakeKV{m: map[string][]byte{}}
	s1, _ := NewKVStore(kv, "app:")
	s2, _ := NewKVStore(kv, "app:")
	if _, err := New(s1, TTL(30*time.Second)); err == nil {
		t.Fatal("a 30 s TTL on KV was accepted")
	}
	if _, err := New(s1, TTL(30*time.Second), StaleWhileRevalidate(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	c1, err := New(s1, TTL(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := New(s2, TTL(time.Minute))
	f := fakedriver.New(dialect.SQLite, fakedriver.All)
	sel := f.On(fakedriver.Contains(`FROM "items"`)).Rows(itemCols, itemRow(1, "a"))
	f.On(fakedriver.Prefix("UPDATE")).Affected(1)
	db1, _ := forge.Open(testSchema, f.Conn(), forge.WithCache(c1))
	db2, _ := forge.Open(testSchema, f.Conn(), forge.WithCache(c2))
	if _, err := Items.FindMany(ctx, db1, forge.Cached(10*time.Second, 0)); err == nil {
		t.Fatal("a per-query TTL below KV's minimum was accepted")
	}
	read := func(db *forge.DB) {
		t.Helper()
		if _, err := Items.FindMany(ctx, db, forge.Cached(0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	read(db1)
	read(db2) // the other isolate finds the entry in KV
	if sel.Hits() != 1 {
		t.Fatalf("%d selects, want 1", sel.Hits())
	}
	c := Items.Cols()
	if _, err := Items.UpdateMany(ctx, db1, forge.All(), forge.Set(&c.Name, "x")); err != nil {
		t.Fatal(err)
	}
	read(db1) // the writer's isolate: a miss at once
	read(db2) // here KV is consistent, so the other isolate sees the new generation too
	if sel.Hits() != 3 {
		t.Fatalf("%d selects, want 3", sel.Hits())
	}
	for _, ttl := range kv.ttls {
		if ttl != 0 && ttl < KVMinTTL {
			t.Fatalf("a KV put with TTL %v", ttl)
		}
	}
}

func TestEntryEncoding(t *testing.T) {
	e := &Entry{Key: "k\x00ey", Gen: 1 << 40, Fresh: -5, Until: 1 << 60, CachedResult: forge.CachedResult{
		Columns: []string{"a", "b"},
		Rows: [][]any{
			{nil, int64(-3), 2.5, true, false, "text", []byte{0, 1}, time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC)},
			{time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), []byte{}, ""},
			nil,
		},
	}}
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got Entry
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	e.Rows[2] = []any{}
	if !reflect.DeepEqual(&got, e) {
		t.Fatalf("round trip:\n%#v\n%#v", got, e)
	}
	for i := range b {
		var x Entry
		if err := x.UnmarshalBinary(b[:i]); err == nil {
			t.Fatalf("a truncated entry (%d of %d bytes) decoded", i, len(b))
		}
	}
	if _, err := (&Entry{CachedResult: forge.CachedResult{Rows: [][]any{{int8(1)}}}}).MarshalBinary(); err == nil {
		t.Fatal("an int8 encoded")
	}
}

// FuzzEntry: any bytes decode to an entry or an error, never a panic; what
// decodes encodes, and that encoding decodes and encodes to the same bytes
// (compared as bytes: a NaN decoded from hostile bytes is not DeepEqual to
// itself).
func FuzzEntry(f *testing.F) {
	e := &Entry{Key: "k", Gen: 3, CachedResult: forge.CachedResult{Columns: []string{"a"}, Rows: [][]any{{int64(1), "x", nil, []byte{1}, 1.5, true, time.Unix(5, 6).UTC()}}}}
	b, _ := e.MarshalBinary()
	f.Add(b)
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Entry
		if e.UnmarshalBinary(data) != nil {
			return
		}
		again, err := e.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var e2 Entry
		if err := e2.UnmarshalBinary(again); err != nil {
			t.Fatalf("a re-encoded entry does not decode: %v", err)
		}
		third, err := e2.MarshalBinary()
		if err != nil || !bytes.Equal(again, third) {
			t.Fatalf("re-encoded entry differs: %v\n%x\n%x", err, again, third)
		}
	})
}

type Doc struct {
	ID    string
	Title string
}

var Docs = forge.Model("docs", func(d *Doc, f *forge.Fields) {
	f.TextID(&d.ID)
	f.Text(&d.Title)
})

// TestMovedKeys: a write that sets the primary key (a TextID can be set)
// reports no keys, so it invalidates every read of the table, not only the
// rows with the new keys.
func TestMovedKeys(t *testing.T) {
	ctx := context.Background()
	f := fakedriver.New(dialect.Postgres, fakedriver.All)
	f.On(fakedriver.Prefix("UPDATE")).Rows([]string{"id"}, []any{"new"})
	sel := f.On(fakedriver.Prefix("SELECT")).Rows([]string{"id", "title"}, []any{"old", "t"})
	var events []*forge.MutationEvent
	c, _ := New(NewMemory(10))
	db, _ := forge.Open(forge.MustSchema(Docs), f.Conn(), forge.WithCache(c),
		forge.WithObserver(forge.ObserverFuncs{OnMutation: func(_ context.Context, e *forge.MutationEvent) { events = append(events, e) }}))
	dc := Docs.Cols()
	read := func() {
		t.Helper()
		if _, err := Docs.FindUnique(ctx, db, forge.Eq(&dc.ID, "old"), forge.Cached(0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	read()
	if _, err := Docs.UpdateMany(ctx, db, forge.Eq(&dc.Title, "x"), forge.Set(&dc.Title, "y")); err != nil {
		t.Fatal(err)
	}
	read() // the write reported key "new": the read of "old" stays cached
	if sel.Hits() != 1 || events[0].Keys == nil {
		t.Fatalf("%d selects, keys %v", sel.Hits(), events[0].Keys)
	}
	if _, err := Docs.UpdateMany(ctx, db, forge.Eq(&dc.ID, "old"), forge.Set(&dc.ID, "new")); err != nil {
		t.Fatal(err)
	}
	if events[1].Keys != nil {
		t.Fatalf("a write that moved keys reported keys %v", events[1].Keys)
	}
	read()
	if sel.Hits() != 2 {
		t.Fatalf("%d selects: the moved key did not invalidate the read of the old one", sel.Hits())
	}
}

// TestFillsFromThePrimary: with replicas, a cached read is filled from the
// primary. A result is stored under the generation read before its load,
// so it must hold every write committed before then, which a lagging
// replica may lack; uncached reads still go to the replica.
func TestFillsFromThePrimary(t *testing.T) {
	ctx := context.Background()
	pgRow := func(name string) []any {
		r := itemRow(1, name)
		r[9] = true
		r[11] = time.Date(2024, 1, 2, 3, 4, 5, 1000, time.UTC)
		r[12] = nil
		return r
	}
	pf := fakedriver.New(dialect.Postgres, fakedriver.All)
	rf := fakedriver.New(dialect.Postgres, fakedriver.All)
	psel := pf.On(fakedriver.Contains(`FROM "items"`)).Rows(itemCols, pgRow("primary"))
	rsel := rf.On(fakedriver.Contains(`FROM "items"`)).Rows(itemCols, pgRow("replica"))
	c, err := New(NewMemory(10))
	if err != nil {
		t.Fatal(err)
	}
	db, err := forge.Open(testSchema, pf.Conn(), forge.WithReplicas(rf.Conn()), forge.WithCache(c))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // a miss, then a hit
		got, err := Items.FindMany(ctx, db, forge.Cached(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Name != "primary" {
			t.Fatalf("cached read %d: %+v, want the primary's row", i, got)
		}
	}
	if psel.Hits() != 1 || rsel.Hits() != 0 {
		t.Fatalf("primary answered %d selects, replica %d; want 1 and 0", psel.Hits(), rsel.Hits())
	}
	got, err := Items.FindMany(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "replica" {
		t.Fatalf("an uncached read: %+v, want the replica's row", got)
	}
}
