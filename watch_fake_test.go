package forge_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/driver/fakedriver"
)

// scripted answers the PostgreSQL position probe and the parts query from
// values the test changes.
type scripted struct {
	mu      sync.Mutex
	pos     string
	posErr  error
	label   string
	queries int // the parts queries run
}

func (s *scripted) set(f func(s *scripted)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *scripted) rules(f *fakedriver.Fake) {
	f.On(fakedriver.Exact(driver.PostgreSQLPositionSQL)).Func(func(fakedriver.Stmt) fakedriver.Answer {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.posErr != nil {
			return fakedriver.Answer{Err: s.posErr}
		}
		return fakedriver.Answer{Columns: []string{"text"}, Rows: [][]any{{s.pos}}}
	})
	f.On(fakedriver.Contains(`FROM "parts"`)).Func(func(fakedriver.Stmt) fakedriver.Answer {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.queries++
		return fakedriver.Answer{Columns: []string{"id", "gadget_id", "label"}, Rows: [][]any{{int64(1), nil, s.label}}}
	})
}

func (s *scripted) ran() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries
}

// The query runs again only when the probe moves; a result equal to the
// last is not yielded; a probe error is yielded and the watch goes on; the
// watch ends with its context.
func TestWatchProbe(t *testing.T) {
	f := fakedriver.New(dialect.Postgres, fakedriver.None)
	s := &scripted{pos: "0/10", label: "a"}
	s.rules(f)
	db, err := forge.Open(fakeSchema, f.Conn())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type res struct {
		label string
		err   error
	}
	ch := make(chan res, 8)
	go func() {
		defer close(ch)
		for rows, err := range Parts.Watch(ctx, db, forge.Every(time.Millisecond)) {
			if err != nil {
				ch <- res{err: err}
				continue
			}
			ch <- res{label: rows[0].Label}
		}
	}()
	next := func() res {
		t.Helper()
		select {
		case r := <-ch:
			return r
		case <-time.After(10 * time.Second):
			t.Fatal("nothing from the watch in 10s")
		}
		return res{}
	}
	if r := next(); r.label != "a" {
		t.Fatalf("first: %+v", r)
	}
	// An unchanged position: polls, no query. Wait for some polls.
	polls := func() int {
		n := 0
		for _, st := range f.Statements() {
			if st.SQL == driver.PostgreSQLPositionSQL {
				n++
			}
		}
		return n
	}
	for p := polls(); polls() < p+5; {
		time.Sleep(time.Millisecond)
	}
	if n := s.ran(); n != 1 {
		t.Fatalf("the query ran %d times on an unchanged position", n)
	}
	// The position moves but the result does not: nothing is yielded; then
	// both move.
	s.set(func(s *scripted) { s.pos = "0/20" })
	for s.ran() < 2 {
		time.Sleep(time.Millisecond)
	}
	s.set(func(s *scripted) { s.pos, s.label = "0/30", "b" })
	if r := next(); r.label != "b" {
		t.Fatalf("after a change: %+v", r)
	}
	// A failing probe is yielded, and the watch goes on.
	boom := errors.New("boom")
	s.set(func(s *scripted) { s.posErr = boom })
	if r := next(); !errors.Is(r.err, boom) {
		t.Fatalf("got %+v, want the probe's error", r)
	}
	s.set(func(s *scripted) { s.posErr, s.pos, s.label = nil, "0/40", "c" })
	for {
		r := next()
		if errors.Is(r.err, boom) {
			continue // more polls failed before the fix
		}
		if r.label != "c" {
			t.Fatalf("after the probe recovered: %+v", r)
		}
		break
	}
	cancel()
	for range ch {
	}
}

// Notify needs a driver.Listener.
func TestWatchNotifyCapability(t *testing.T) {
	_, db := openFake(t, dialect.SQLite, fakedriver.None)
	for _, err := range Parts.Watch(context.Background(), db, forge.Notify("ch")) {
		var ce *forge.CapabilityError
		if !errors.As(err, &ce) {
			t.Fatalf("got %v, want a *forge.CapabilityError", err)
		}
		break
	}
	for _, err := range Parts.Watch(context.Background(), db, forge.Notify("")) {
		var qe *forge.QueryError
		if !errors.As(err, &qe) {
			t.Fatalf("got %v, want a *forge.QueryError", err)
		}
		break
	}
}

// Open refuses replicas it cannot read positions from, of another
// dialect, or nil.
func TestReplicasOpenErrors(t *testing.T) {
	pg := func() driver.Conn { return fakedriver.New(dialect.Postgres, fakedriver.None).Conn() }
	lite := func() driver.Conn { return fakedriver.New(dialect.SQLite, fakedriver.None).Conn() }
	for name, tc := range map[string]struct {
		primary  driver.Conn
		replicas []driver.Conn
	}{
		"sqlite without positions": {lite(), []driver.Conn{lite()}},
		"another dialect":          {pg(), []driver.Conn{lite()}},
		"nil replica":              {pg(), []driver.Conn{nil}},
	} {
		if _, err := forge.Open(fakeSchema, tc.primary, forge.WithReplicas(tc.replicas...)); err == nil {
			t.Errorf("%s: Open accepted it", name)
		}
	}
	if _, err := forge.Open(fakeSchema, pg(), forge.WithReplicas(pg(), pg())); err != nil {
		t.Errorf("two PostgreSQL replicas: %v", err)
	}
}

// A replica whose position cannot be read is skipped; a read then goes to
// the primary.
func TestReplicaDown(t *testing.T) {
	pf := fakedriver.New(dialect.Postgres, fakedriver.None)
	rf := fakedriver.New(dialect.Postgres, fakedriver.None)
	ps := &scripted{pos: "0/10", label: "primary"}
	rs := &scripted{pos: "0/10", label: "replica"}
	ps.rules(pf)
	rs.rules(rf)
	db, err := forge.Open(fakeSchema, pf.Conn(), forge.WithReplicas(rf.Conn()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	read := func(ctx context.Context) string {
		t.Helper()
		p, err := Parts.FindFirst(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		return p.Label
	}
	if got := read(ctx); got != "replica" {
		t.Fatalf("no writes yet: read from %s", got)
	}
	// A write moves the primary ahead; the replica is behind.
	pf.On(fakedriver.Prefix("UPDATE")).Affected(1)
	ps.set(func(s *scripted) { s.pos = "0/20" })
	if _, err := Parts.UpdateMany(ctx, db, forge.All(), forge.Set(&Parts.Cols().Label, "x")); err != nil {
		t.Fatal(err)
	}
	if got := read(ctx); got != "primary" {
		t.Fatalf("a lagging replica served the read")
	}
	if db.Token() != forge.Token("32") {
		t.Errorf("Token = %q, want 32 (0/20)", db.Token())
	}
	// The replica catches up, then goes down.
	rs.set(func(s *scripted) { s.pos = "0/20" })
	if got := read(ctx); got != "replica" {
		t.Fatalf("a caught-up replica was not used")
	}
	if got := read(forge.Primary(ctx)); got != "primary" {
		t.Fatalf("Primary read from %s", got)
	}
	ps.set(func(s *scripted) { s.pos = "0/30" })
	if _, err := Parts.UpdateMany(ctx, db, forge.All(), forge.Set(&Parts.Cols().Label, "y")); err != nil {
		t.Fatal(err)
	}
	rs.set(func(s *scripted) { s.posErr = errors.New("connection refused") })
	if got := read(ctx); got != "primary" {
		t.Fatalf("an unreachable replica served the read")
	}
	// A token from another request: a replica must have reached it.
	rs.set(func(s *scripted) { s.posErr, s.pos = nil, "0/30" })
	if got := read(forge.ReadAfter(ctx, "64")); got != "primary" {
		t.Fatalf("a replica behind the token served the read")
	}
}
