package redis_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/cache"
	"github.com/forge-orm/forge/cache/redis"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/sqlite"
)

// The query cache against real databases (SQLite files, one per test) and
// a real Redis (FORGE_TEST_REDIS_URL, started by ./scripts/test).

type Author struct {
	ID    int64
	Name  string
	N     int64
	Books []Book
}

type Book struct {
	ID       int64
	AuthorID int64
	Title    string
}

var (
	Authors = forge.Model("authors", func(a *Author, f *forge.Fields) {
		f.ID(&a.ID)
		f.Text(&a.Name)
		f.Int(&a.N)
		f.HasMany(&a.Books, func(b *Book) *int64 { return &b.AuthorID })
	})
	Books = forge.Model("books", func(b *Book, f *forge.Fields) {
		f.ID(&b.ID)
		f.Int(&b.AuthorID).References(forge.Ref[Author]()).OnDelete(forge.Cascade)
		f.Text(&b.Title)
	})
	schema = forge.MustSchema(Authors, Books)
)

// redisClient returns a client of the test Redis; the test's keys live
// under prefix, removed at the end.
func redisClient(t *testing.T) (goredis.UniversalClient, string) {
	t.Helper()
	url := os.Getenv("FORGE_TEST_REDIS_URL")
	if url == "" {
		forgetest.RequireService(t, "Redis (FORGE_TEST_REDIS_URL)")
	}
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatalf("FORGE_TEST_REDIS_URL: %v", err)
	}
	rdb := goredis.NewClient(opt)
	prefix := fmt.Sprintf("forgetest:%x:", rand.Uint64())
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := rdb.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		rdb.Close()
	})
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("Redis at FORGE_TEST_REDIS_URL: %v", err)
	}
	return rdb, prefix
}

// counter counts the statements a DB sends.
type counter struct{ n atomic.Int64 }

func (c *counter) QueryStart(ctx context.Context, _ *forge.QueryEvent) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *counter) QueryEnd(context.Context, *forge.QueryEvent) {}

// openDB opens the SQLite database at path with a cache over store.
func openDB(t *testing.T, path string, store cache.Store) (*forge.DB, *counter) {
	t.Helper()
	conn, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := cache.New(store)
	if err != nil {
		t.Fatal(err)
	}
	n := &counter{}
	db, err := forge.Open(schema, conn, forge.WithCache(c), forge.WithObserver(n))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	caches.Store(db, c)
	return db, n
}

var caches sync.Map // *forge.DB -> *cache.Cache

func cacheOf(t *testing.T, db *forge.DB) *cache.Cache {
	c, ok := caches.Load(db)
	if !ok {
		t.Fatal("no cache for this DB")
	}
	return c.(*cache.Cache)
}

// newDB creates a database file with two authors and a book each.
func newDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cache.db")
	conn, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db, _ := forge.Open(schema, conn)
	defer db.Close()
	ctx := context.Background()
	if err := db.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		a, err := Authors.Create(ctx, db, Author{Name: fmt.Sprint("a", i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Books.Create(ctx, db, Book{AuthorID: a.ID, Title: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// stores runs f with each store: memory, and Redis.
func stores(t *testing.T, f func(t *testing.T, newStore func() cache.Store)) {
	t.Run("memory", func(t *testing.T) {
		f(t, func() cache.Store { return cache.NewMemory(1000) })
	})
	t.Run("redis", func(t *testing.T) {
		rdb, prefix := redisClient(t)
		f(t, func() cache.Store { return redis.New(rdb, prefix) })
	})
}

func TestNoStaleReadAfterWrite(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() cache.Store) {
		ctx := context.Background()
		db, sent := openDB(t, newDB(t), newStore())
		ac, bc := Authors.Cols(), Books.Cols()
		read := func() []Author {
			t.Helper()
			as, err := Authors.FindMany(ctx, db, forge.Cached(0, 0), forge.OrderBy(&ac.ID, forge.Asc), forge.Include(&ac.Books))
			if err != nil {
				t.Fatal(err)
			}
			return as
		}
		read()
		read()
		before := sent.n.Load()
		read()
		if d := sent.n.Load() - before; d != 0 {
			t.Fatalf("a hit sent %d statements", d)
		}
		// A write to the included table invalidates the include.
		if _, err := Books.UpdateMany(ctx, db, forge.All(), forge.Set(&bc.Title, "new")); err != nil {
			t.Fatal(err)
		}
		if got := read(); got[0].Books[0].Title != "new" || got[1].Books[0].Title != "new" {
			t.Fatalf("stale include after a committed write: %+v", got)
		}
		// A committed transaction invalidates at commit.
		err := db.Transaction(ctx, func(tx *forge.Tx) error {
			_, err := Authors.Update(ctx, tx, forge.Eq(&ac.ID, int64(1)), forge.Set(&ac.Name, "renamed"))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := read(); got[0].Name != "renamed" {
			t.Fatalf("stale read after a committed transaction: %+v", got)
		}
		// Count and FindUnique.
		if _, err := Authors.Create(ctx, db, Author{Name: "third"}); err != nil {
			t.Fatal(err)
		}
		u, err := Authors.FindUnique(ctx, db, forge.Eq(&ac.ID, int64(3)), forge.Cached(0, 0))
		if err != nil || u.Name != "third" {
			t.Fatal(u, err)
		}
		if err := Authors.Delete(ctx, db, forge.Eq(&ac.ID, int64(3))); err != nil {
			t.Fatal(err)
		}
		if _, err := Authors.FindUnique(ctx, db, forge.Eq(&ac.ID, int64(3)), forge.Cached(0, 0)); !errors.Is(err, forge.ErrNotFound) {
			t.Fatalf("a deleted row was served from the cache: %v", err)
		}
		// A delete that cascades in the database invalidates the table it
		// cascaded to.
		books := func() []Book {
			t.Helper()
			bs, err := Books.FindMany(ctx, db, forge.Cached(0, 0))
			if err != nil {
				t.Fatal(err)
			}
			return bs
		}
		for range 2 { // a miss, then a hit
			if len(books()) != 2 {
				t.Fatal("want 2 books")
			}
		}
		if err := Authors.Delete(ctx, db, forge.Eq(&ac.ID, int64(1))); err != nil {
			t.Fatal(err)
		}
		if bs := books(); len(bs) != 1 {
			t.Fatalf("books deleted by ON DELETE CASCADE were served from the cache: %+v", bs)
		}
	})
}

func TestRollbackInvalidatesNothing(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() cache.Store) {
		ctx := context.Background()
		db, sent := openDB(t, newDB(t), newStore())
		ac := Authors.Cols()
		read := func() []Author {
			t.Helper()
			as, err := Authors.FindMany(ctx, db, forge.Cached(0, 0), forge.OrderBy(&ac.ID, forge.Asc))
			if err != nil {
				t.Fatal(err)
			}
			return as
		}
		read()
		boom := errors.New("boom")
		err := db.Transaction(ctx, func(tx *forge.Tx) error {
			if _, err := Authors.UpdateMany(ctx, tx, forge.All(), forge.Set(&ac.Name, "x")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		before := sent.n.Load()
		if got := read(); got[0].Name != "a0" {
			t.Fatalf("rolled-back change visible: %+v", got)
		}
		if d := sent.n.Load() - before; d != 0 {
			t.Fatalf("the rollback invalidated the result: the read sent %d statements", d)
		}
	})
}

// TestConcurrentWritersSeeTheirWrites: readers keep filling the cache
// while writers change rows; every writer, right after its write returns,
// reads through the cache and must see it.
func TestConcurrentWritersSeeTheirWrites(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() cache.Store) {
		ctx := context.Background()
		db, _ := openDB(t, newDB(t), newStore())
		ac := Authors.Cols()
		stop := make(chan struct{})
		var readers sync.WaitGroup
		for range 4 {
			readers.Add(1)
			go func() {
				defer readers.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := Authors.FindMany(ctx, db, forge.Cached(0, 0), forge.OrderBy(&ac.ID, forge.Asc)); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		var writers sync.WaitGroup
		for w := range 2 {
			writers.Add(1)
			go func() {
				defer writers.Done()
				id := int64(w + 1)
				for k := int64(1); k <= 40; k++ {
					if _, err := Authors.Update(ctx, db, forge.Eq(&ac.ID, id), forge.Set(&ac.N, k)); err != nil {
						t.Error(err)
						return
					}
					as, err := Authors.FindMany(ctx, db, forge.Cached(0, 0), forge.OrderBy(&ac.ID, forge.Asc))
					if err != nil {
						t.Error(err)
						return
					}
					if as[id-1].N != k {
						t.Errorf("writer %d wrote %d and read %d back through the cache", id, k, as[id-1].N)
						return
					}
				}
			}()
		}
		writers.Wait()
		close(stop)
		readers.Wait()
	})
}

// TestAcrossProcesses: two clients (each its own connection, cache and
// Redis client, as two processes would have) share one Redis; a write by
// one is a miss for the other at once.
func TestAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	rdb1, prefix := redisClient(t)
	opt, _ := goredis.ParseURL(os.Getenv("FORGE_TEST_REDIS_URL"))
	rdb2 := goredis.NewClient(opt)
	defer rdb2.Close()
	path := newDB(t)
	db1, _ := openDB(t, path, redis.New(rdb1, prefix))
	db2, sent2 := openDB(t, path, redis.New(rdb2, prefix))
	ac := Authors.Cols()
	read := func(db *forge.DB) []Author {
		t.Helper()
		as, err := Authors.FindMany(ctx, db, forge.Cached(0, 0), forge.OrderBy(&ac.ID, forge.Asc))
		if err != nil {
			t.Fatal(err)
		}
		return as
	}
	read(db1)
	before := sent2.n.Load()
	read(db2)
	if d := sent2.n.Load() - before; d != 0 {
		t.Fatalf("the second client did not find the first one's entry in Redis (%d statements)", d)
	}
	if _, err := Authors.Update(ctx, db1, forge.Eq(&ac.ID, int64(1)), forge.Set(&ac.Name, "changed")); err != nil {
		t.Fatal(err)
	}
	if got := read(db2); got[0].Name != "changed" {
		t.Fatalf("the other client read a result from before the write: %+v", got)
	}
}

func TestCorruptEntryIsAMiss(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redisClient(t)
	db, _ := openDB(t, newDB(t), redis.New(rdb, prefix))
	ac := Authors.Cols()
	for range 2 {
		if _, err := Authors.FindMany(ctx, db, forge.Cached(0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	keys, _ := rdb.Keys(ctx, prefix+"q:*").Result()
	if len(keys) == 0 {
		t.Fatal("nothing cached")
	}
	for _, k := range keys {
		rdb.Set(ctx, k, "\x01garbage", 0)
	}
	as, err := Authors.FindMany(ctx, db, forge.Cached(0, 0))
	if err != nil || len(as) != 2 {
		t.Fatal(as, err)
	}
	_ = ac
}

// TestPerRowInvalidation: a FindUnique by primary key depends on its row
// only: a write that reports other keys leaves it cached; a write of its
// row, a write that reports no keys and a create of its key invalidate it.
func TestPerRowInvalidation(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() cache.Store) {
		ctx := context.Background()
		db, sent := openDB(t, newDB(t), newStore())
		ac := Authors.Cols()
		byID := func(id int64) (Author, int64) {
			t.Helper()
			before := sent.n.Load()
			a, err := Authors.FindUnique(ctx, db, forge.Eq(&ac.ID, id), forge.Cached(0, 0))
			if err != nil && !errors.Is(err, forge.ErrNotFound) {
				t.Fatal(err)
			}
			return a, sent.n.Load() - before
		}
		byID(1)
		byID(2)
		byID(3) // not found: cached too
		if _, n := byID(1); n != 0 {
			t.Fatal("not cached")
		}
		if _, err := Authors.Update(ctx, db, forge.Eq(&ac.ID, int64(2)), forge.Set(&ac.Name, "two")); err != nil {
			t.Fatal(err)
		}
		if _, n := byID(1); n != 0 {
			t.Errorf("a write of row 2 invalidated row 1's read")
		}
		if a, n := byID(2); n == 0 || a.Name != "two" {
			t.Errorf("row 2 after its write: %+v, %d statements", a, n)
		}
		if _, err := Authors.Create(ctx, db, Author{Name: "three"}); err != nil {
			t.Fatal(err)
		}
		if a, _ := byID(3); a.Name != "three" {
			t.Errorf("the created row 3 was served as not found from the cache: %+v", a)
		}
		// UpdateMany reports its keys (RETURNING): rows it did not touch
		// stay cached; DeleteMany too.
		byID(1)
		if _, err := Authors.UpdateMany(ctx, db, forge.Eq(&ac.ID, int64(2)), forge.Set(&ac.N, int64(5))); err != nil {
			t.Fatal(err)
		}
		if _, n := byID(1); n != 0 {
			t.Errorf("UpdateMany of row 2 invalidated row 1's read")
		}
		// Raw SQL reports nothing: Invalidate the table.
		if _, err := forge.Exec(ctx, db, `UPDATE "authors" SET "name" = 'raw'`); err != nil {
			t.Fatal(err)
		}
		if a, _ := byID(1); a.Name == "raw" {
			t.Fatal("the cache saw a raw write: the test is wrong")
		}
		c := cacheOf(t, db)
		if err := c.Invalidate(ctx, "authors"); err != nil {
			t.Fatal(err)
		}
		if a, _ := byID(1); a.Name != "raw" {
			t.Errorf("after Invalidate: %+v", a)
		}
	})
}

// TestRedisDown: with the store unreachable, reads and writes go on,
// uncached, and nothing stale is served.
func TestRedisDown(t *testing.T) {
	ctx := context.Background()
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	defer rdb.Close()
	db, sent := openDB(t, newDB(t), redis.New(rdb, "down:"))
	ac := Authors.Cols()
	for i := range 3 {
		before := sent.n.Load()
		as, err := Authors.FindMany(ctx, db, forge.Cached(0, 0), forge.OrderBy(&ac.ID, forge.Asc))
		if err != nil || len(as) != 2 {
			t.Fatal(as, err)
		}
		if sent.n.Load() == before {
			t.Fatal("served from a store that is down")
		}
		if _, err := Authors.Update(ctx, db, forge.Eq(&ac.ID, int64(1)), forge.Set(&ac.N, int64(i))); err != nil {
			t.Fatalf("a write failed because the cache is down: %v", err)
		}
	}
}
