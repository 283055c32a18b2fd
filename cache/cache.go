// Package cache is forge's query cache: read-through caching of query
// results with exact, commit-aware invalidation.
//
// A *Cache is given to forge.Open with forge.WithCache; reads opt in per
// query (forge.Cached) or per model (the models given to WithCache). Each
// statement of a cached read (a FindMany, FindFirst, FindUnique, Count,
// Exists or Aggregate, and each query of its includes) is cached under its
// table, SQL and arguments.
//
// Invalidation is by generation: every table has a generation in the
// store, which each committed mutation of the table changes before the
// writing call returns (forge delivers mutation events at commit, and never
// for a rolled-back change). A cached result carries the generation of its
// table as it was before the statement ran, and is served only while the
// table still has it. A FindUnique by primary key depends on its row's
// generation instead (and on the table's writes whose keys are unknown),
// so writes that report other keys leave it cached; a delete or update
// also changes the generations of the tables its foreign keys' referential
// actions may change (forge.MutationEvent.Also). So a read that starts after a write returned never
// sees a result from before the write, in this process and, with a shared
// store (Redis), in every process using it. Results also expire after their
// TTL; within a further stale window they are served while one background
// load refreshes them. Concurrent misses of one key run one load.
//
// What a store allows:
//   - Memory: exact within the process; other processes' writes are not seen
//     (results from before them are served until their TTL ends).
//   - Redis (module github.com/forge-orm/forge/cache/redis): exact across
//     every process sharing the Redis.
//   - Workers KV (KVStore): eventually consistent. Exact within the isolate
//     that wrote; elsewhere a write is seen when KV propagates it (60 seconds
//     or more), so a result can be that stale. KV keeps values at least 60
//     seconds: a TTL plus stale window below that is refused.
//
// Writes forge does not see (raw SQL through forge.Exec, other programs,
// triggers) do not invalidate: call Invalidate for their tables.
package cache

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	"github.com/forge-orm/forge"
)

// Store holds cached results and generations. Memory, the Redis module's
// Store and KVStore implement it. Methods are safe for concurrent use.
//
// A generation is named: a table's ("users"), and, for reads of one row
// by its primary key, the table's writes whose rows are not known
// ("users!") and a bucket of the table's keys ("users#17"). An entry is
// valid while the generations it depends on are those it was read under.
type Store interface {
	// Get returns the entry saved under key (nil when there is none, or it
	// expired) and a value that changes whenever one of the generations
	// named changes (for one name, its generation).
	Get(ctx context.Context, key string, gens []string) (*Entry, uint64, error)
	// Put saves e under key for ttl.
	Put(ctx context.Context, key string, e *Entry, ttl time.Duration) error
	// Bump changes each generation named, so that no entry saved under an
	// old one is served again.
	Bump(ctx context.Context, gens []string) error
}

// MinTTLer is implemented by stores that cannot keep an entry for less
// than some time (Workers KV: 60 seconds). The cache refuses a TTL plus
// stale window shorter than that.
type MinTTLer interface {
	MinTTL() time.Duration
}

// Entry is one cached statement result.
type Entry struct {
	Key   string // the full key; a store that addresses entries by a hash of it checks it
	Gen   uint64 // the generations it depends on, before the statement ran (see Store.Get)
	Fresh int64  // served as fresh until then (Unix nanoseconds)
	Until int64  // served stale, while refreshed, until then
	forge.CachedResult
}

// Cache is a forge.QueryCache over a Store.
type Cache struct {
	store      Store
	mem        *Memory // store, when it is a *Memory (the allocation-free path)
	ttl, stale time.Duration
	now        func() time.Time

	mu      sync.Mutex
	flights map[flightKey]*flight
	failed  map[string]bool // tables whose last Bump failed: not cached until one succeeds
	bg      sync.WaitGroup  // background refreshes
}

// Option configures New.
type Option func(*Cache)

// TTL sets how long a result is served as fresh (default 1 minute).
func TTL(d time.Duration) Option { return func(c *Cache) { c.ttl = d } }

// StaleWhileRevalidate sets how long after its TTL a result is still
// served while one background load refreshes it (default 0). A write
// invalidates a result at once whatever this window.
func StaleWhileRevalidate(d time.Duration) Option { return func(c *Cache) { c.stale = d } }

// New returns a cache over store.
func New(store Store, opts ...Option) (*Cache, error) {
	if store == nil {
		return nil, errors.New("forge/cache: New: nil store")
	}
	c := &Cache{store: store, ttl: time.Minute, now: time.Now, flights: map[flightKey]*flight{}, failed: map[string]bool{}}
	c.mem, _ = store.(*Memory)
	for _, o := range opts {
		o(c)
	}
	if c.ttl <= 0 || c.stale < 0 {
		return nil, fmt.Errorf("forge/cache: New: TTL %v and stale window %v: the TTL must be positive and the window not negative", c.ttl, c.stale)
	}
	if err := c.checkTTL(c.ttl, c.stale); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Cache) checkTTL(ttl, stale time.Duration) error {
	if m, ok := c.store.(MinTTLer); ok && ttl+stale < m.MinTTL() {
		return fmt.Errorf("forge/cache: TTL %v plus stale window %v is below the store's minimum of %v (Workers KV keeps values at least 60 seconds): use a longer TTL, or another store", ttl, stale, m.MinTTL())
	}
	return nil
}

type flightKey struct {
	key string
	gen uint64
}

var errLoadPanicked = errors.New("forge/cache: the load of this result panicked")

type flight struct {
	done chan struct{}
	res  *forge.CachedResult
	err  error
}

// Read implements forge.QueryCache.
func (c *Cache) Read(ctx context.Context, req *forge.CacheRequest, load func(context.Context) (*forge.CachedResult, error)) (*forge.CachedResult, error) {
	ttl, stale := req.TTL, req.Stale
	if ttl == 0 {
		ttl = c.ttl
		if req.Stale == 0 {
			stale = c.stale
		}
	}
	if ttl != c.ttl || stale != c.stale {
		if err := c.checkTTL(ttl, stale); err != nil {
			return nil, err
		}
	}
	if c.bumpFailed(ctx, req.Table) {
		return load(ctx)
	}
	bp := bufs.Get().(*[]byte)
	kb := appendKey((*bp)[:0], req)
	defer func() {
		if cap(kb) <= 64<<10 {
			*bp = kb[:0]
			bufs.Put(bp)
		}
	}()
	var (
		e   *Entry
		gen uint64
		key string
		err error
	)
	if c.mem != nil && req.Row == nil {
		e, gen = c.mem.getTable(kb, req.Table) // no allocation
	} else {
		key = string(kb)
		if e, gen, err = c.store.Get(ctx, key, dependsOn(req, nil)); err != nil {
			return load(ctx) // the store is down: the database still answers
		}
		if e != nil && e.Key != key {
			e = nil // another key with the same hash
		}
	}
	now := c.now().UnixNano()
	if e != nil && e.Gen == gen {
		if now < e.Fresh {
			return &e.CachedResult, nil
		}
		if now < e.Until {
			if key == "" {
				key = string(kb)
			}
			c.refresh(ctx, key, gen, ttl, stale, load)
			return &e.CachedResult, nil
		}
	}
	if key == "" {
		key = string(kb)
	}
	return c.loadOnce(ctx, key, gen, ttl, stale, load)
}

// loadOnce runs load for key and generation gen, once for all the callers
// that ask at the same time, and saves the result.
func (c *Cache) loadOnce(ctx context.Context, key string, gen uint64, ttl, stale time.Duration, load func(context.Context) (*forge.CachedResult, error)) (*forge.CachedResult, error) {
	fk := flightKey{key, gen}
	c.mu.Lock()
	if f, ok := c.flights[fk]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.res, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{}), err: errLoadPanicked}
	c.flights[fk] = f
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.flights, fk)
		c.mu.Unlock()
		close(f.done)
	}()
	f.res, f.err = load(ctx)
	if f.err == nil {
		start := c.now()
		e := &Entry{Key: key, Gen: gen, Fresh: start.Add(ttl).UnixNano(), Until: start.Add(ttl + stale).UnixNano(), CachedResult: *f.res}
		_ = c.store.Put(ctx, key, e, ttl+stale) // a store that fails to save only costs a later miss
	}
	return f.res, f.err
}

// refresh reloads key in the background, unless a load of it runs.
func (c *Cache) refresh(ctx context.Context, key string, gen uint64, ttl, stale time.Duration, load func(context.Context) (*forge.CachedResult, error)) {
	c.mu.Lock()
	_, busy := c.flights[flightKey{key, gen}]
	c.mu.Unlock()
	if busy {
		return
	}
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		_, _ = c.loadOnce(context.WithoutCancel(ctx), key, gen, ttl, stale, load)
	}()
}

// Mutation implements forge.QueryCache: it bumps the generations of what
// the write changed: its table; the keys it reports (or, when it reports
// none or many, all the table's rows); and the tables its foreign keys'
// referential actions may have changed (e.Also). When the store cannot,
// the table is not cached in this process until a later bump succeeds
// (other processes sharing the store may serve results from before the
// write until their TTL ends).
func (c *Cache) Mutation(ctx context.Context, e *forge.MutationEvent) {
	if e == nil || e.Table == "" {
		return
	}
	gens := []string{e.Table}
	if e.Keys != nil && int64(len(e.Keys)) >= e.Rows && len(e.Keys) <= maxKeyBumps {
		var b []byte
		for _, k := range e.Keys {
			b = appendKeyGen(b[:0], e.Table, k)
			gens = append(gens, string(b))
		}
	} else {
		gens = append(gens, e.Table+"!")
	}
	for _, t := range e.Also {
		gens = append(gens, t, t+"!")
	}
	_ = c.bump(ctx, e.Table, gens)
	for _, t := range e.Also {
		c.mu.Lock()
		if c.failed[e.Table] {
			c.failed[t] = true
		}
		c.mu.Unlock()
	}
}

// maxKeyBumps is the most keys a write bumps one by one; beyond, it bumps
// all the table's rows at once.
const maxKeyBumps = 64

// keyBuckets is how many key generations a table has: keys share them by
// hash, so the generations stay bounded whatever the rows written (a
// shared bucket only costs a miss).
const keyBuckets = 4096

// dependsOn returns the generations req's result depends on.
func dependsOn(req *forge.CacheRequest, deps []string) []string {
	if req.Row == nil {
		return append(deps, req.Table)
	}
	return append(deps, req.Table+"!", string(appendKeyGen(nil, req.Table, req.Row)))
}

// appendKeyGen writes the name of the generation of key's bucket in table.
func appendKeyGen(b []byte, table string, key any) []byte {
	h := fnv.New64a()
	h.Write(appendValue(nil, key))
	b = append(b, table...)
	b = append(b, '#')
	return strconv.AppendUint(b, h.Sum64()%keyBuckets, 10)
}

// Invalidate makes every cached result of the tables a miss, for writes
// forge does not see (raw SQL, other programs).
func (c *Cache) Invalidate(ctx context.Context, tables ...string) error {
	var errs []error
	for _, t := range tables {
		errs = append(errs, c.bump(ctx, t, []string{t, t + "!"}))
	}
	return errors.Join(errs...)
}

// bump bumps gens, all of table's; a failure marks table as not cached.
func (c *Cache) bump(ctx context.Context, table string, gens []string) error {
	err := c.store.Bump(context.WithoutCancel(ctx), gens)
	c.mu.Lock()
	if err != nil {
		c.failed[table] = true
	} else {
		delete(c.failed, table)
	}
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("forge/cache: invalidating table %s: %w", table, err)
	}
	return nil
}

// bumpFailed reports whether table's last bump failed and a retry fails
// again.
func (c *Cache) bumpFailed(ctx context.Context, table string) bool {
	c.mu.Lock()
	failed := c.failed[table]
	c.mu.Unlock()
	return failed && c.bump(ctx, table, []string{table, table + "!"}) != nil
}

var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// appendKey writes the key of req: the table, the SQL and the arguments,
// each value tagged with its type.
func appendKey(b []byte, req *forge.CacheRequest) []byte {
	b = appendString(b, req.Table)
	b = appendString(b, req.SQL)
	for _, a := range req.Args {
		b = appendValue(b, a)
	}
	return b
}

// flightCount returns the number of loads running (for tests).
func (c *Cache) flightCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.flights)
}

// wait waits for the background refreshes started so far (for tests).
func (c *Cache) wait() { c.bg.Wait() }
