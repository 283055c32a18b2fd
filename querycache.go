package forge

import (
	"context"
	"fmt"
	"time"

	"github.com/forge-orm/forge/driver"
)

// QueryCache is a read-through cache of query results, given to Open with
// WithCache; the cache package's *cache.Cache is the one forge provides.
//
// forge consults it for each statement of a read that opted in (the Cached
// option, or a model named in WithCache): FindMany, FindFirst, FindUnique,
// Count, Exists, Aggregate and each statement of their includes. Never
// inside a transaction, never for Raw or Exec.
type QueryCache interface {
	// Read returns the result of the statement req describes: from the
	// cache, or from load, which runs the statement on the database and
	// returns its rows. The result is shared: neither side changes it
	// after it is returned.
	Read(ctx context.Context, req *CacheRequest, load func(context.Context) (*CachedResult, error)) (*CachedResult, error)
	// Mutation is told of every committed mutation (see MutationEvent),
	// before the writing call returns, so that no result read from a
	// table it changed is served afterwards.
	Mutation(ctx context.Context, e *MutationEvent)
}

// CacheRequest describes one cacheable statement. Its fields are valid
// only during the call to Read.
type CacheRequest struct {
	Model string    // the model read
	Table string    // the table read; a mutation of it invalidates the result
	Op    Operation // the operation the statement is part of
	SQL   string
	Args  []any // bound arguments, in driver form (see driver.CheckValue)
	// Row is, for a FindUnique pinned by an Eq on the primary key, that
	// key (nil otherwise): the result depends on that row only, so a
	// mutation that reports other keys leaves it valid.
	Row any
	// TTL and Stale are the Cached option's; zero means the cache's
	// defaults.
	TTL, Stale time.Duration
}

// CachedResult is a statement's result held by a cache: the column names
// and the rows, each value one of nil, int64, float64, bool, string,
// []byte or time.Time (the driver value set). It must not be changed once
// built.
type CachedResult struct {
	Columns []string
	Rows    [][]any
}

// WithCache makes the DB consult c for reads that opt in with the Cached
// option, and for every read of the models given (unless the read says
// NoCache). c also receives every mutation event, which is how it
// invalidates (writes through raw SQL are not seen: tell the cache).
func WithCache(c QueryCache, models ...AnyModel) OpenOption {
	return func(db *DB) {
		if c == nil {
			return
		}
		db.cache = cacheRunner{c}
		db.muts = append(db.muts, c)
		for _, m := range models {
			if m != nil {
				if db.cached == nil {
					db.cached = map[*model]bool{}
				}
				db.cached[m.model()] = true
			}
		}
	}
}

// Cached makes a read consult the DB's cache (see WithCache): its result
// is served from the cache while fresh, for at most ttl after it was read
// and then, for stale more, while it is refreshed in the background. A
// committed write to a table the read depends on makes it a miss at once,
// whatever the ttl. Zero durations take the cache's defaults. Without a
// cache on the DB, or inside a transaction, it does nothing.
func Cached(ttl, stale time.Duration) Option {
	return Option{kind: optCache, n: 1, ttl: ttl, stale: stale}
}

// NoCache makes a read skip the cache, also for a model WithCache caches
// by default.
func NoCache() Option { return Option{kind: optCache, n: -1} }

// cacheSpec is a statement's caching: whether it consults the cache, the
// Cached option's durations and, for a read of one row by its primary key,
// that key.
type cacheSpec struct {
	on         bool
	ttl, stale time.Duration
	row        any
}

// spec returns the caching of a query of m on r.
func (sq *selectQuery) spec(r *runner, m *model) cacheSpec {
	if r.db.cache == nil || r.tx != nil {
		return cacheSpec{}
	}
	switch {
	case sq.cache.n > 0:
		return cacheSpec{on: true, ttl: sq.cache.ttl, stale: sq.cache.stale}
	case sq.cache.n < 0:
		return cacheSpec{}
	}
	return cacheSpec{on: r.db.cached[m]}
}

// setCache gives every include of sq (recursively) the caching c.
func (sq *selectQuery) setCache(c cacheSpec) {
	for i := range sq.incs {
		sq.incs[i].sq.c = c
		sq.incs[i].sq.setCache(c)
	}
}

// readFunc reads a statement's rows; it returns the number of rows read.
type readFunc func(driver.Rows) (int64, error)

// cacher runs a statement through a cache. Its one implementation,
// cacheRunner, is built only by WithCache: a program that never calls it
// does not link the caching code (the edge's binary size).
type cacher interface {
	query(ctx context.Context, r *runner, st stmt, spec cacheSpec, dst cacheDest) error
}

// cacheDest is where a cached statement's rows go: read scans them into
// the caller's memory; scratch returns a readFunc into throwaway memory of
// the same shape, which a load uses to capture the values.
type cacheDest interface {
	read(driver.Rows) (int64, error)
	scratch() readFunc
}

// funcDest is a cacheDest of two functions.
type funcDest struct {
	r readFunc
	s func() readFunc
}

func (f *funcDest) read(rows driver.Rows) (int64, error) { return f.r(rows) }
func (f *funcDest) scratch() readFunc                    { return f.s() }

// cachedQuery runs st through the DB's cache: read gets the rows, from the
// cache or from the database; scratch returns a readFunc into throwaway
// memory of the same shape, which the load uses to capture the values.
func (r *runner) cachedQuery(ctx context.Context, st stmt, spec cacheSpec, read readFunc, scratch func() readFunc) error {
	return r.db.cache.query(ctx, r, st, spec, &funcDest{read, scratch})
}

// cacheRunner is the cacher over a QueryCache.
type cacheRunner struct{ c QueryCache }

func (cr cacheRunner) query(ctx context.Context, r *runner, st stmt, spec cacheSpec, dst cacheDest) error {
	req := CacheRequest{Model: st.m.name, Table: st.m.table, Op: st.op, SQL: st.sql, Args: st.args, TTL: spec.ttl, Stale: spec.stale, Row: spec.row}
	res, err := cr.c.Read(ctx, &req, func(ctx context.Context) (*CachedResult, error) {
		var out *CachedResult
		err := r.query(ctx, st, func(rows driver.Rows) (int64, error) {
			rec := recorder{in: rows}
			n, err := dst.scratch()(&rec)
			out = &CachedResult{Columns: rows.Columns(), Rows: rec.rows}
			if err == nil {
				err = rec.err
			}
			return n, err
		})
		if err != nil {
			return nil, err
		}
		return out, nil
	})
	if err != nil {
		return err
	}
	rows := driver.BufferedRows{Cols: res.Columns, Values: res.Rows}
	if _, err := dst.read(&rows); err != nil {
		return r.db.enrich(err, st.m, st.op)
	}
	return nil
}

// recorder passes rows through and keeps a copy of every value scanned, in
// driver form, read back from forge's typed destinations (so the copy is
// what forge itself reads, whatever the driver's representation).
type recorder struct {
	in   driver.Rows
	rows [][]any
	err  error
}

func (c *recorder) Columns() []string { return c.in.Columns() }
func (c *recorder) Err() error        { return c.in.Err() }
func (c *recorder) Close() error      { return c.in.Close() }

func (c *recorder) Next() bool {
	if !c.in.Next() {
		return false
	}
	c.rows = append(c.rows, nil) // a row read without Scan (Exists) has no values
	return true
}

func (c *recorder) Scan(dest ...any) error {
	if err := c.in.Scan(dest...); err != nil {
		return err
	}
	row := make([]any, len(dest))
	for i, d := range dest {
		v, err := snapshot(d)
		if err != nil && c.err == nil {
			c.err = err
		}
		row[i] = v
	}
	c.rows[len(c.rows)-1] = row
	return nil
}

// snapshot returns the value at a scan destination in driver form.
func snapshot(dest any) (any, error) {
	switch d := dest.(type) {
	case *string:
		return *d, nil
	case *int64:
		return *d, nil
	case *int32:
		return int64(*d), nil
	case *float64:
		return *d, nil
	case *bool:
		return *d, nil
	case *time.Time:
		return *d, nil
	case *[]byte:
		if *d == nil {
			return nil, nil
		}
		return append([]byte{}, *d...), nil
	case **string:
		return deref(*d), nil
	case **int64:
		return deref(*d), nil
	case **int32:
		if *d == nil {
			return nil, nil
		}
		return int64(**d), nil
	case **float64:
		return deref(*d), nil
	case **bool:
		return deref(*d), nil
	case **time.Time:
		return deref(*d), nil
	case **[]byte:
		if *d == nil {
			return nil, nil
		}
		return snapshot(*d)
	}
	return nil, fmt.Errorf("forge: cannot cache a value scanned into %T", dest)
}

func deref[V any](p *V) any {
	if p == nil {
		return nil
	}
	return *p
}
