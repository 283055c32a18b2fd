package forge

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/schema"
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
// NoCache; Count and Exists, which take no options, follow the model). c
// also receives every mutation event, which is how it invalidates (writes
// through raw SQL are not seen: tell the cache).
func WithCache(c QueryCache, models ...AnyModel) OpenOption {
	return func(db *DB) {
		if c == nil {
			return
		}
		db.cache = cacheRunner{c}
		db.muts = append(db.muts, cacheMutations{c, alsoTables(db.schema)})
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
// and then, for stale longer, while one background load refreshes it. A
// committed write to a table the read depends on makes it a miss at once,
// whatever the ttl. Zero durations take the cache's defaults. Without a
// cache on the DB, or inside a transaction, it does nothing.
func Cached(ttl, stale time.Duration) Option {
	return Option{kind: optCache, n: 1, ttl: ttl, stale: stale}
}

// NoCache makes a read skip the cache, also for a model WithCache caches
// by default.
func NoCache() Option { return Option{kind: optCache, n: -1} }

// cacheMutations passes mutation events to a cache with Also set.
type cacheMutations struct {
	c    QueryCache
	also map[string][]string // by table
}

func (cm cacheMutations) Mutation(ctx context.Context, e *MutationEvent) {
	if e.Operation == OpCreate || e.Operation == OpCreateMany || len(cm.also[e.Table]) == 0 {
		cm.c.Mutation(ctx, e)
		return
	}
	with := *e // other observers keep theirs as it is
	with.Also = cm.also[e.Table]
	cm.c.Mutation(ctx, &with)
}

// alsoTables returns, per table of s, the other tables its deletes and
// updates may change through referential actions, transitively
// (MutationEvent.Also). Only WithCache computes it.
func alsoTables(s *Schema) map[string][]string {
	also := map[string][]string{}
	for _, m := range s.models {
		var out []string
		todo := []string{m.table}
		for len(todo) > 0 {
			ref := todo[len(todo)-1]
			todo = todo[:len(todo)-1]
			for _, o := range s.models {
				if o == m || slices.Contains(out, o.table) {
					continue
				}
				for _, fk := range o.desc.ForeignKeys {
					if fk.RefTable == ref && (acts(fk.OnDelete) || acts(fk.OnUpdate)) {
						out = append(out, o.table)
						todo = append(todo, o.table)
						break
					}
				}
			}
		}
		if out != nil {
			also[m.table] = out
		}
	}
	return also
}

// acts reports whether a referential action changes the referencing rows.
func acts(a schema.Action) bool {
	return a == schema.Cascade || a == schema.SetNull || a == schema.SetDefault
}

// cacheSpec is a query's caching: the option given, whether it consults
// the cache, and the Cached option's durations.
type cacheSpec struct {
	mode       int8 // the option: 1 Cached, -1 NoCache, 0 none
	on         bool // the query consults the cache
	ttl, stale time.Duration
}

// spec returns the caching of a query of m on r.
func (sq *selectQuery) spec(r *runner, m *model) cacheSpec {
	if r.db.cache == nil || r.tx != nil {
		return cacheSpec{}
	}
	c := sq.cache
	switch {
	case c.mode > 0:
		c.on = true
	case c.mode == 0:
		c.on = r.db.cached[m]
	}
	return c
}

// setCache gives every include (recursively) the caching c.
func setCache(incs []includeQuery, c cacheSpec) {
	for i := range incs {
		incs[i].sq.cache = c
		setCache(incs[i].sq.incs, c)
	}
}

// pinnedKey returns the value w compares the primary key pk with through
// Eq (ANDed), or nil.
func pinnedKey(w *filter, pk *field) any {
	switch w.op {
	case opAnd:
		for i := range w.kids {
			if v := pinnedKey(&w.kids[i], pk); v != nil {
				return v
			}
		}
	case opEq:
		if pk != nil && w.f == pk && !isNil(w.val) {
			return w.val
		}
	}
	return nil
}

// readFunc reads a statement's rows; it returns the number of rows read.
type readFunc func(driver.Rows) (int64, error)

// cacher runs the statements of reads through a cache. Its one
// implementation, cacheRunner, is built only by WithCache: a program that
// never calls it does not link the caching path (the edge's binary size).
// Rows travel by value so that the uncached paths' memory stays on the
// stack.
type cacher interface {
	find(ctx context.Context, r *runner, m *model, st stmt, spec cacheSpec, where filter, incs []includeQuery, fields []*field, limit int, buf rowBuf) (rowBuf, error)
	count(ctx context.Context, r *runner, st stmt, op Operation) (int64, error)
	include(ctx context.Context, r *runner, st stmt, spec cacheSpec, t *model, fields []*field, children rowBuf) (rowBuf, error)
	aggregate(ctx context.Context, r *runner, a *Agg, st stmt, spec cacheSpec, buf rowBuf) (rowBuf, error)
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

// findDest is a cached find's cacheDest: one allocation for a hit.
type findDest struct {
	m      *model
	fields []*field
	limit  int
	buf    rowBuf
	plan   scanPlan
}

func (f *findDest) read(rows driver.Rows) (int64, error) {
	return f.buf.scanRows(rows, &f.plan, f.limit)
}

func (f *findDest) scratch() readFunc {
	scratch, plan := f.m.rowBuf(), newScanPlan(f.fields)
	return func(rows driver.Rows) (int64, error) { return scratch.scanRows(rows, plan, f.limit) }
}

func (cr cacheRunner) find(ctx context.Context, r *runner, m *model, st stmt, spec cacheSpec, where filter, incs []includeQuery, fields []*field, limit int, buf rowBuf) (rowBuf, error) {
	setCache(incs, spec)
	var row any
	if st.op == OpFindUnique {
		row = pinnedKey(&where, m.pk)
	}
	f := &findDest{m: m, fields: fields, limit: limit, buf: buf}
	f.plan.init(fields)
	err := cr.query(ctx, r, st, spec, row, f)
	return f.buf, err
}

func (cr cacheRunner) count(ctx context.Context, r *runner, st stmt, op Operation) (int64, error) {
	n := new(int64)
	err := cr.query(ctx, r, st, cacheSpec{on: true}, nil, &funcDest{
		r: func(rows driver.Rows) (int64, error) { return countRows(op, n, rows) },
		s: func() readFunc {
			return func(rows driver.Rows) (int64, error) { return countRows(op, new(int64), rows) }
		},
	})
	return *n, err
}

func (cr cacheRunner) include(ctx context.Context, r *runner, st stmt, spec cacheSpec, t *model, fields []*field, children rowBuf) (rowBuf, error) {
	out, plan := &children, newScanPlan(fields)
	err := cr.query(ctx, r, st, spec, nil, &funcDest{
		r: func(rows driver.Rows) (int64, error) { return out.scanRows(rows, plan, -1) },
		s: func() readFunc {
			scratch, plan := t.rowBuf(), newScanPlan(fields)
			return func(rows driver.Rows) (int64, error) { return scratch.scanRows(rows, plan, -1) }
		},
	})
	return *out, err
}

func (cr cacheRunner) aggregate(ctx context.Context, r *runner, a *Agg, st stmt, spec cacheSpec, buf rowBuf) (rowBuf, error) {
	out := &buf
	err := cr.query(ctx, r, st, spec, nil, &funcDest{
		r: func(rows driver.Rows) (int64, error) { return a.read(out, rows) },
		s: func() readFunc {
			scratch := &rowBuf{size: out.size, grow: out.grow}
			return func(rows driver.Rows) (int64, error) { return a.read(scratch, rows) }
		},
	})
	return *out, err
}

// cacheRunner is the cacher over a QueryCache.
type cacheRunner struct{ c QueryCache }

// query runs st through the cache into dst.
func (cr cacheRunner) query(ctx context.Context, r *runner, st stmt, spec cacheSpec, row any, dst cacheDest) error {
	req := CacheRequest{Model: st.m.name, Table: st.m.table, Op: st.op, SQL: st.sql, Args: st.args, TTL: spec.ttl, Stale: spec.stale, Row: row}
	res, err := cr.c.Read(ctx, &req, func(ctx context.Context) (*CachedResult, error) {
		var out *CachedResult
		// A result is filled from the primary, never a replica: stored
		// under the generation read before this load, it must hold every
		// write committed before then, which a lagging replica may lack.
		err := r.query(Primary(ctx), st, func(rows driver.Rows) (int64, error) {
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
