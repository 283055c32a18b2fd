package forgetest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/driver"
)

// Opener returns a fresh, empty database for one test. It should register
// any cleanup with t.Cleanup; Run closes the returned Conn.
type Opener func(t testing.TB) driver.Conn

// Harness is what each test gets: a DB without observers (the fast path)
// and one over the same connection that records every event.
type Harness struct {
	DB       *forge.DB
	Observed *forge.DB
	Events   *Recorder
}

// Test is one conformance test.
type Test struct {
	Name string
	Run  func(t *testing.T, h *Harness)
}

// Run runs every test of the suite, each on a fresh database from open.
func Run(t *testing.T, open Opener) {
	for _, tc := range Tests {
		t.Run(tc.Name, func(t *testing.T) {
			tc.Run(t, Setup(t, open))
		})
	}
}

// Setup opens a fresh database, creates the suite's schema and returns the
// harness.
func Setup(t testing.TB, open Opener) *Harness {
	t.Helper()
	conn := open(t)
	t.Cleanup(func() { _ = conn.Close() })
	db, err := forge.Open(Schema, conn)
	if err != nil {
		t.Fatal(err)
	}
	rec := &Recorder{}
	odb, err := forge.Open(Schema, conn, forge.WithObserver(rec))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSchema(context.Background()); err != nil {
		t.Fatalf("CreateSchema: %v", err)
	}
	return &Harness{DB: db, Observed: odb, Events: rec}
}

// Recorder is an observer that keeps every event.
type Recorder struct {
	mu        sync.Mutex
	Queries   []forge.QueryEvent
	Mutations []forge.MutationEvent
}

type ctxKey struct{}

// QueryStart implements forge.Observer; it puts a marker in the context
// that QueryEnd checks, to prove the context flows from one to the other.
func (r *Recorder) QueryStart(ctx context.Context, e *forge.QueryEvent) context.Context {
	return context.WithValue(ctx, ctxKey{}, e.SQL)
}

// QueryEnd implements forge.Observer.
func (r *Recorder) QueryEnd(ctx context.Context, e *forge.QueryEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if got, _ := ctx.Value(ctxKey{}).(string); got != e.SQL {
		e.Err = fmt.Errorf("forgetest: the context from QueryStart did not reach QueryEnd (got %q)", got)
	}
	r.Queries = append(r.Queries, *e)
}

// Mutation implements forge.MutationObserver.
func (r *Recorder) Mutation(ctx context.Context, e *forge.MutationEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Mutations = append(r.Mutations, *e)
}

// Reset forgets the events recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Queries, r.Mutations = nil, nil
}

// RequireService fails the test under CI (CI=true) and skips it, loudly,
// elsewhere: a test that needs a server that is not configured.
func RequireService(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not available, and CI=true: a missing service is a failure, not a skip", what)
	}
	t.Skipf("SKIPPED: %s is not available (run ./scripts/test to start one)", what)
}
