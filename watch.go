package forge

import (
	"context"
	"errors"
	"iter"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/migrate"
)

// DefaultWatchInterval is how often Watch polls without Every.
const DefaultWatchInterval = time.Second

// Every sets how often Watch polls the database for a change (default
// DefaultWatchInterval). It applies to Watch only; other queries refuse it.
func Every(d time.Duration) Option {
	return Option{kind: optEvery, n: int(min(d, time.Hour*24) / time.Millisecond)}
}

// Notify makes Watch also listen for notifications on a channel of the
// database server and run the query at once when one arrives, instead of at
// the next interval (polling goes on, so a lost notification delays a
// change by one interval at most). The driver must implement
// driver.Listener (the pgx module: PostgreSQL's LISTEN); writers send the
// notification, with NOTIFY in their transaction or from a trigger:
//
//	CREATE FUNCTION users_changed() RETURNS trigger LANGUAGE plpgsql AS
//	  $$BEGIN PERFORM pg_notify('users', ''); RETURN NULL; END$$;
//	CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE ON users
//	  FOR EACH STATEMENT EXECUTE FUNCTION users_changed();
//
// LISTEN holds a connection of its own for the watch's lifetime and does not
// work through a pooler in transaction mode (PgBouncer's transaction
// pooling, Neon's pooled endpoint).
func Notify(channel string) Option { return Option{kind: optNotify, cols: []any{channel}} }

// Watch runs the query of opts and yields its rows, then yields them again
// each time they change, until ctx ends or the loop stops. It polls a cheap
// change probe of the database every interval (see Every) and runs the
// query again only when the probe moved, so an unchanged database costs one
// tiny query per interval:
//
//   - PostgreSQL (every driver): the WAL position, pg_current_wal_insert_lsn()
//     (a standby's pg_last_wal_replay_lsn()); it moves with any write to the
//     server, so a busy server re-runs the query at every interval.
//   - a driver with driver.Positioner (libSQL: sqld's replication index;
//     watch a primary, as a sqld replica's index can move before its reads
//     show the change, and the watch would then miss it until the next).
//   - SQLite through a driver that pins sessions (the sqlite module, a
//     database file): PRAGMA data_version on a connection the watch holds,
//     which changes when another connection commits.
//   - other SQLite (D1, an in-memory database, which has one connection
//     and cannot be pinned): the sum of the watched tables' counters in
//     ChangesTable, which triggers that Watch creates raise on every write.
//   - when none of these can be had (the triggers cannot be created, a
//     database of another kind): no probe; the query runs at every
//     interval.
//
// Writes made through the same *DB wake the watches on it at once, without
// waiting for the interval: a model's writes (also in a batch, or in a
// transaction when it commits) the watches that read the model, raw SQL
// (forge.Exec, an ExecOp) every watch. A result equal to the last one
// yielded (reflect.DeepEqual) is not yielded again.
//
// A failing probe or query yields the error (with nil rows) and the watch
// goes on at the next interval; break out of the loop to stop. An error in
// the query itself (a *QueryError) ends it. Watch runs on a *DB, not inside
// a transaction; with replicas (WithReplicas) it reads the primary, where
// the probe looks.
func (m *ModelOf[T]) Watch(ctx context.Context, db *DB, opts ...Option) iter.Seq2[[]T, error] {
	return func(yield func([]T, error) bool) {
		var last []T
		first := true
		m.m.watch(ctx, db, opts, func(buf *rowBuf, err error) bool {
			if err != nil {
				return yield(nil, err)
			}
			rows := rowsOf[T](buf)
			if !first && reflect.DeepEqual(rows, last) {
				return true
			}
			first, last = false, rows
			return yield(rows, nil)
		})
	}
}

// watch polls for m's query of opts and calls emit with each result (or
// error) until ctx ends or emit returns false.
func (m *model) watch(ctx context.Context, db *DB, opts []Option, emit func(*rowBuf, error) bool) {
	if !db.ok() {
		emit(nil, errNilDB())
		return
	}
	if err := m.check(&db.r); err != nil {
		emit(nil, err)
		return
	}
	every := DefaultWatchInterval
	var channel string
	query := make([]Option, 0, len(opts))
	for _, o := range opts {
		if o.kind == optNotify {
			channel, _ = o.cols[0].(string)
			if channel == "" {
				emit(nil, qerr(m, "Notify: empty channel name"))
				return
			}
			continue
		}
		if o.kind == optEvery {
			if o.n < 1 {
				emit(nil, qerr(m, "Every: the interval must be at least a millisecond"))
				return
			}
			every = time.Duration(o.n) * time.Millisecond
			continue
		}
		query = append(query, o)
	}
	var sq selectQuery
	if err := parse(m, &sq, query, "Watch"); err != nil {
		emit(nil, err)
		return
	}
	var listener driver.Listener
	if channel != "" {
		l, ok := db.conn.(driver.Listener)
		if !ok {
			emit(nil, &CapabilityError{Op: "Notify (LISTEN)", Driver: driver.Name(db.conn), Use: "watch without Notify: Watch polls every interval (see Every)"})
			return
		}
		listener = l
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	read := modelsRead(m, &sq, nil)
	names := make([]string, len(read))
	for i, x := range read {
		names[i] = x.name
	}
	w := db.subscribe(names)
	defer db.unsubscribe(w)
	listenErr := make(chan error, 1)
	notified := &watcher{wake: make(chan struct{}, 1)}
	if listener != nil {
		go func() {
			err := listener.Listen(ctx, channel, notified.signal)
			if ctx.Err() == nil {
				listenErr <- err
			}
		}()
	}
	p := newProbe(ctx, db, read)
	defer p.close()

	// The probe reads the primary: so must the query (WithReplicas).
	qctx := Primary(ctx)
	run := func() bool {
		buf := m.rowBuf()
		err := m.find(qctx, db, OpFindMany, nil, query, -1, &buf)
		if ctx.Err() != nil {
			return false
		}
		var qe *QueryError
		if errors.As(err, &qe) {
			emit(nil, err)
			return false
		}
		if err != nil {
			return emit(nil, err)
		}
		return emit(&buf, nil)
	}
	// The probe is read before the query: a change that commits between
	// the two moves it again and the next poll runs the query again.
	mark, err := p.read(ctx)
	if err != nil && ctx.Err() == nil && !emit(nil, err) {
		return
	}
	known := err == nil
	if !run() {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		case <-notified.wake:
			// A notification says something changed: run the query.
			if !run() {
				return
			}
			continue
		case err := <-listenErr:
			// Listening stopped (a lost connection, say): say so, and go
			// on polling.
			if !emit(nil, err) {
				return
			}
			continue
		}
		now, err := p.read(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			known = false
			if !emit(nil, err) {
				return
			}
			continue
		}
		// Without a probe (p.none) the mark never moves: run every time.
		if known && now == mark && !p.none {
			continue
		}
		mark, known = now, true
		if !run() {
			return
		}
	}
}

// modelsRead appends the models a query reads: m and its includes'.
func modelsRead(m *model, sq *selectQuery, dst []*model) []*model {
	dst = append(dst, m)
	for i := range sq.incs {
		dst = modelsRead(sq.incs[i].r.target, &sq.incs[i].sq, dst)
	}
	return dst
}

// probe reads a value that changes when the database commits a change.
type probe struct {
	read  func(ctx context.Context) (string, error)
	close func()
	none  bool // no probe: the query runs at every interval
}

// newProbe picks the cheapest change probe db's driver and database offer
// for a query that reads the tables of models.
func newProbe(ctx context.Context, db *DB, models []*model) *probe {
	conn := db.conn
	if pos, ok := conn.(driver.Positioner); ok {
		var unknown uint64
		return &probe{read: func(ctx context.Context) (string, error) {
			n, err := pos.Position(ctx)
			if errors.Is(err, driver.ErrNoPosition) {
				// No position: a mark of its own each time, so the query runs.
				unknown++
				return "?" + strconv.FormatUint(unknown, 10), nil
			}
			return strconv.FormatUint(n, 10), err
		}, close: func() {}}
	}
	switch db.d.Name() {
	case "postgres":
		return &probe{read: func(ctx context.Context) (string, error) {
			return queryText(ctx, conn, driver.PostgreSQLPositionSQL)
		}, close: func() {}}
	case "sqlite":
		if s, ok := conn.(driver.Sessioner); ok && !oneConnection(conn) {
			return sqliteProbe(s)
		}
		if p, err := changesTableProbe(ctx, db, models); err == nil {
			return p
		}
	}
	// No probe: the query runs at every interval.
	return &probe{read: func(context.Context) (string, error) { return "", nil }, close: func() {}, none: true}
}

// ChangesTable is the table where SQLite databases without another change
// probe (D1, an in-memory SQLite database, a remote endpoint) count writes
// for Watch: one row per watched table, its counter raised by triggers
// (named forge_changes_<table>_insert, _update and _delete) that the first
// Watch of the table creates. migrate leaves the table out of schemas and
// plans.
const ChangesTable = migrate.ChangesTable

// changesTableProbe creates, if need be, ChangesTable and the triggers that
// count writes to the tables of models, and returns a probe that sums their
// counters.
func changesTableProbe(ctx context.Context, db *DB, models []*model) (*probe, error) {
	d, conn := db.d, db.conn
	ct := string(d.AppendIdent(nil, ChangesTable))
	stmts := []string{"CREATE TABLE IF NOT EXISTS " + ct + ` ("tbl" TEXT PRIMARY KEY, "n" INTEGER NOT NULL) WITHOUT ROWID`}
	var sel []byte
	sel = append(sel, `SELECT coalesce(sum("n"), 0) FROM `...)
	sel = append(sel, ct...)
	sel = append(sel, ` WHERE "tbl" IN (`...)
	args := make([]any, 0, len(models))
	for i, m := range models {
		lit := "'" + strings.ReplaceAll(m.table, "'", "''") + "'"
		for _, ev := range [...]string{"INSERT", "UPDATE", "DELETE"} {
			name := string(d.AppendIdent(nil, ChangesTable+"_"+m.table+"_"+strings.ToLower(ev)))
			stmts = append(stmts, "CREATE TRIGGER IF NOT EXISTS "+name+" AFTER "+ev+" ON "+string(d.AppendIdent(nil, m.table))+
				" BEGIN INSERT INTO "+ct+` ("tbl", "n") VALUES (`+lit+`, 1) ON CONFLICT ("tbl") DO UPDATE SET "n" = "n" + 1; END`)
		}
		if i > 0 {
			sel = append(sel, ", "...)
		}
		sel = d.AppendPlaceholder(sel, i+1)
		args = append(args, m.table)
	}
	sel = append(sel, ')')
	for _, st := range stmts {
		if _, err := conn.Exec(ctx, st, nil); err != nil {
			return nil, err
		}
	}
	q := string(sel)
	return &probe{read: func(ctx context.Context) (string, error) {
		return queryText(ctx, conn, q, args...)
	}, close: func() {}}, nil
}

// oneConnection reports whether conn is limited to one connection (an
// in-memory SQLite database), which a watch must not pin.
func oneConnection(conn driver.Conn) bool {
	c, ok := conn.(interface{ MaxOpenConns() int })
	return ok && c.MaxOpenConns() == 1
}

// sqliteProbe reads PRAGMA data_version on a pinned session, taken at the
// first read and kept until the watch ends: the value is per connection
// and changes when another connection commits.
func sqliteProbe(s driver.Sessioner) *probe {
	var (
		mu   sync.Mutex
		sess driver.Session
	)
	p := &probe{}
	p.read = func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if sess == nil {
			var err error
			if sess, err = s.Session(ctx); err != nil {
				return "", err
			}
		}
		v, err := queryText(ctx, sess, "PRAGMA data_version")
		if err != nil {
			// A broken connection is not reused; the next read pins another.
			_ = sess.Close()
			sess = nil
		}
		return v, err
	}
	p.close = func() {
		mu.Lock()
		defer mu.Unlock()
		if sess != nil {
			_ = sess.Close()
			sess = nil
		}
	}
	return p
}

// queryText runs a query of one row and one column and returns its value
// as text.
func queryText(ctx context.Context, q driver.Querier, sql string, args ...any) (string, error) {
	rows, err := q.Query(ctx, sql, args)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var v any
	if rows.Next() {
		if err := rows.Scan(&v); err != nil {
			return "", err
		}
	} else if err := rows.Err(); err != nil {
		return "", err
	}
	if err := rows.Close(); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case nil:
		return "", nil
	}
	return "", errors.New("forge: change probe " + strconv.Quote(sql) + " returned a value of unexpected type")
}

// watcher is one Watch's subscription to the writes made through its DB.
type watcher struct {
	models []string
	wake   chan struct{}
}

// signal wakes the watch; a wake already pending covers this one.
func (w *watcher) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// watchHub holds a DB's watchers. notify is h.changed, set where the hub
// is made (by Watch): a program that never watches does not link it.
type watchHub struct {
	mu     sync.Mutex
	subs   map[*watcher]struct{}
	notify func(model string)
}

func (db *DB) subscribe(models []string) *watcher {
	h := db.hub.Load()
	if h == nil {
		nh := &watchHub{subs: map[*watcher]struct{}{}}
		nh.notify = nh.changed
		db.hub.CompareAndSwap(nil, nh)
		h = db.hub.Load()
	}
	w := &watcher{models: models, wake: make(chan struct{}, 1)}
	h.mu.Lock()
	h.subs[w] = struct{}{}
	h.mu.Unlock()
	return w
}

func (db *DB) unsubscribe(w *watcher) {
	h := db.hub.Load()
	h.mu.Lock()
	delete(h.subs, w)
	h.mu.Unlock()
}

// changed wakes the watchers that read model ("" for raw SQL: all of them)
// after a write through db committed.
func (db *DB) changed(model string) {
	if h := db.hub.Load(); h != nil {
		h.notify(model)
	}
}

func (h *watchHub) changed(model string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.subs {
		if model == "" || containsString(w.models, model) {
			w.signal()
		}
	}
}

func containsString(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
