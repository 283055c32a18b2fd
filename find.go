package forge

import (
	"context"
	"unsafe"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
)

// selectQuery is a parsed list of options: every column is resolved to its
// field and every include to its relation, once, by parse.
type selectQuery struct {
	where    filter       // every Where, ANDed
	orders   [4]orderTerm // the first orderings, inline: no allocation
	norder   int
	overflow []orderTerm // all orderings, once there are more than 4
	take     int         // -1: no limit
	skip     int
	fields   []*field // Select's fields; nil for all
	incs     []includeQuery
	after    unsafe.Pointer
	agg      bool      // an Aggregate: no primary key ordering
	cache    cacheSpec // the Cached or NoCache option; whether the query uses the cache
}

type orderTerm struct {
	f    *field
	desc bool
}

// includeQuery is a parsed Include: the relation, and the query of the
// related rows.
type includeQuery struct {
	r  *relation
	sq selectQuery
}

// parse reads opts for model m into sq; what names the method for errors.
func parse(m *model, sq *selectQuery, opts []Option, what string) error {
	sq.take = -1
	for i := range opts {
		o := &opts[i]
		switch o.kind {
		case optWhere:
			w, err := m.resolve(&o.cond)
			if err != nil {
				return err
			}
			sq.where.and(w)
		case optOrder:
			f, err := m.fieldAt(o.col, o.typ)
			if err != nil {
				return err
			}
			sq.addOrder(orderTerm{f: f, desc: o.dir == Desc})
		case optTake:
			if o.n < 0 {
				return qerr(m, "Take(%d): negative", o.n)
			}
			sq.take = o.n
		case optSkip:
			if o.n < 0 {
				return qerr(m, "Skip(%d): negative", o.n)
			}
			sq.skip = o.n
		case optSelect:
			if len(o.cols) == 0 {
				return qerr(m, "Select with no columns")
			}
			for _, c := range o.cols {
				f, err := m.fieldFor(c)
				if err != nil {
					return err
				}
				sq.fields = appendField(sq.fields, f)
			}
		case optInclude:
			inc, err := parseInclude(m, o.inc)
			if err != nil {
				return err
			}
			sq.incs = append(sq.incs, inc)
		case optAfter:
			if o.typ != m.typ {
				return qerr(m, "After takes a *%s, got *%s", m.typ, o.typ)
			}
			if o.after == nil {
				return qerr(m, "After(nil)")
			}
			sq.after = o.after
		case optCache:
			if what == "Include" {
				return qerr(m, "Include: Cached and NoCache apply to the top-level query (its includes follow it)")
			}
			if o.ttl < 0 || o.stale < 0 {
				return qerr(m, "Cached(%v, %v): negative duration", o.ttl, o.stale)
			}
			sq.cache = cacheSpec{mode: int8(o.n), ttl: o.ttl, stale: o.stale}
		case optEvery, optNotify:
			return qerr(m, "%s: Every and Notify apply to Watch only", what)
		default:
			return qerr(m, "%s: the zero Option", what)
		}
	}
	if sq.fields != nil {
		if m.pk != nil {
			sq.fields = appendField(sq.fields, m.pk)
		}
		// The keys the includes match on.
		for _, inc := range sq.incs {
			if inc.r.many {
				sq.fields = appendField(sq.fields, m.pk)
			} else {
				sq.fields = appendField(sq.fields, inc.r.fk)
			}
		}
	}
	// Pages need a total order: with After, Take or Skip, the primary key
	// breaks ties between equal ordering values. (Aggregate orders its
	// groups by the group columns instead.)
	if m.pk != nil && !sq.agg && (sq.after != nil || (sq.norder > 0 && (sq.take >= 0 || sq.skip > 0))) {
		hasPK := false
		for _, o := range sq.order() {
			hasPK = hasPK || o.f == m.pk
		}
		if !hasPK {
			sq.addOrder(orderTerm{f: m.pk})
		}
	}
	return nil
}

// parseInclude resolves an Include of model m and parses the related
// query. A has-many include orders its rows by the foreign key first, so
// that each parent's rows come back together (see loadRelation).
func parseInclude(m *model, inc *include) (includeQuery, error) {
	r, err := m.relationFor(inc.rel)
	if err != nil {
		return includeQuery{}, err
	}
	if r.target == nil || r.fk == nil {
		return includeQuery{}, qerr(m, "Include: relation %s is not resolved; is its model in the schema?", r.name)
	}
	q := includeQuery{r: r}
	t := r.target
	if r.many {
		q.sq.addOrder(orderTerm{f: r.fk})
	}
	if err := parse(t, &q.sq, inc.opts, "Include"); err != nil {
		return includeQuery{}, err
	}
	if q.sq.take >= 0 || q.sq.skip > 0 || q.sq.after != nil {
		return includeQuery{}, qerr(m, "Include(%s): Take, Skip and After apply to the top-level query only", r.name)
	}
	if q.sq.fields != nil {
		_, matched := r.keys()
		q.sq.fields = appendField(q.sq.fields, matched)
	}
	return q, nil
}

func (sq *selectQuery) addOrder(o orderTerm) {
	if sq.overflow == nil && sq.norder < len(sq.orders) {
		sq.orders[sq.norder] = o
		sq.norder++
		return
	}
	if sq.overflow == nil {
		sq.overflow = append(make([]orderTerm, 0, 2*len(sq.orders)), sq.orders[:]...)
	}
	sq.overflow = append(sq.overflow, o)
	sq.norder++
}

// order returns the orderings.
func (sq *selectQuery) order() []orderTerm {
	if sq.overflow != nil {
		return sq.overflow
	}
	return sq.orders[:sq.norder]
}

func appendField(fs []*field, f *field) []*field {
	if containsField(fs, f) {
		return fs
	}
	return append(fs, f)
}

func containsField(fs []*field, f *field) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

// selected returns the fields a select reads.
func (sq *selectQuery) selected(m *model) []*field {
	if sq.fields != nil {
		return sq.fields
	}
	return m.fields
}

// findSQL is FindManySQL's untyped body.
func (m *model) findSQL(d dialect.Dialect, opts []Option) (string, []any, error) {
	var sq selectQuery
	if err := parse(m, &sq, opts, "FindMany"); err != nil {
		return "", nil, err
	}
	b, err := buildSelect(d, m, &sq, sq.selected(m))
	if err != nil {
		return "", nil, err
	}
	return b.sql(), b.args, nil
}

// find runs a select into buf: the rows matching pin (FindUnique's filter,
// which must pin one row; nil for the others) and opts, at most limit of
// them (all when limit < 0), with their includes.
func (m *model) find(ctx context.Context, q Querier, op Operation, pin *Cond, opts []Option, limit int, buf *rowBuf) error {
	r, err := m.runnerFor(q)
	if err != nil {
		return err
	}
	var sq selectQuery
	if pin != nil {
		if sq.where, err = m.resolve(pin); err != nil {
			return err
		}
		if err := m.requireUnique(&sq.where, string(op)); err != nil {
			return err
		}
	}
	if err := parse(m, &sq, opts, string(op)); err != nil {
		return err
	}
	if limit >= 0 && (sq.take < 0 || sq.take > limit) {
		sq.take = limit
	}
	fields := sq.selected(m)
	b, err := buildSelect(r.db.d, m, &sq, fields)
	if err != nil {
		return err
	}
	plan := newScanPlan(fields)
	if sq.take > 0 && sq.take < 1024 {
		buf.hint = sq.take
	}
	st := b.stmt(op, m)
	if sq.cache = sq.spec(r, m); sq.cache.on {
		*buf, err = r.db.cache.find(ctx, r, m, st, sq.cache, sq.where, sq.incs, fields, limit, *buf)
	} else {
		err = r.query(ctx, st, func(rows driver.Rows) (int64, error) {
			return buf.scanRows(rows, plan, limit)
		})
	}
	if err != nil {
		return err
	}
	if len(sq.incs) > 0 && buf.n > 0 {
		return r.loadIncludes(ctx, m, buf.data, buf.n, sq.incs)
	}
	return nil
}

// count runs Count or Exists.
func (m *model) count(ctx context.Context, q Querier, op Operation, conds []Cond) (int64, error) {
	r, err := m.runnerFor(q)
	if err != nil {
		return 0, err
	}
	var where filter
	for i := range conds {
		w, err := m.resolve(&conds[i])
		if err != nil {
			return 0, err
		}
		where.and(w)
	}
	st, err := buildCount(r.db.d, op, m, &where)
	if err != nil {
		return 0, err
	}
	var n int64
	if r.db.cache != nil && r.tx == nil && r.db.cached[m] {
		return r.db.cache.count(ctx, r, st, op)
	}
	err = r.query(ctx, st, func(rows driver.Rows) (int64, error) { return countRows(op, &n, rows) })
	return n, err
}

// countRows reads the result of Count or Exists into n.
func countRows(op Operation, n *int64, rows driver.Rows) (int64, error) {
	if !rows.Next() {
		return 0, rows.Err()
	}
	if op == OpExists {
		*n = 1
		return 1, nil
	}
	return 1, rows.Scan(n)
}

// requireUnique checks that w pins at most one row: an Eq (ANDed) on the
// primary key, on a unique field, or on every column of a unique index.
func (m *model) requireUnique(w *filter, what string) error {
	var buf [8]*field
	eqs := pinnedEqs(w, buf[:0])
	for _, f := range eqs {
		if f.pk || f.unique {
			return nil
		}
	}
	for _, ix := range m.desc.Indexes {
		if !ix.Unique {
			continue
		}
		all := true
		for _, col := range ix.Columns {
			found := false
			for _, f := range eqs {
				found = found || f.col == col
			}
			all = all && found
		}
		if all {
			return nil
		}
	}
	return qerr(m, "%s needs a filter that pins one row: Eq on the primary key or on unique fields (use the Many variant for several rows)", what)
}

// pinnedEqs appends the fields w compares with Eq to a non-nil value,
// through ANDs.
func pinnedEqs(w *filter, eqs []*field) []*field {
	switch w.op {
	case opAnd:
		for i := range w.kids {
			eqs = pinnedEqs(&w.kids[i], eqs)
		}
	case opEq:
		if !isNil(w.val) {
			eqs = append(eqs, w.f)
		}
	}
	return eqs
}

// raw runs a raw SQL query into buf, matching result columns to the
// model's column names.
func (m *model) raw(ctx context.Context, q Querier, sql string, args []any, buf *rowBuf) error {
	r, err := m.runnerFor(q)
	if err != nil {
		return err
	}
	if args, err = encodeArgs(r.db.d, args); err != nil {
		return err
	}
	err = r.query(ctx, stmt{op: OpRaw, m: m, sql: sql, args: args}, func(rows driver.Rows) (int64, error) {
		cols := rows.Columns()
		fields := make([]*field, len(cols))
		for i, c := range cols {
			for _, f := range m.fields {
				if f.col == c {
					fields[i] = f
				}
			}
			if fields[i] == nil {
				return 0, qerr(m, "Raw: result column %q is not a column of the model", c)
			}
		}
		return buf.scanRows(rows, newScanPlan(fields), -1)
	})
	if err == nil && r.tx == nil && r.db.rp != nil {
		// Raw SQL runs on the primary and may write: what it wrote must be
		// read back (WithReplicas).
		r.db.rp.wrote(ctx, r.db)
	}
	return err
}
