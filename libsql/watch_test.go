package libsql_test

import (
	"context"
	"errors"
	"testing"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/forgetest"
)

// Watch over Hrana: sqld's replication index is the change probe.
func TestWatch(t *testing.T) {
	forgetest.RunWatch(t, func(t testing.TB) driver.Conn { return open(t) }, forgetest.WatchOptions{Quiet: true})
}

// Position reads the replication index: it moves with each commit, and a
// replica sqld reaches the primary's after replicating.
func TestPosition(t *testing.T) {
	ctx := context.Background()
	c := open(t)
	if _, err := c.Position(ctx); !errors.Is(err, driver.ErrNoPosition) {
		t.Fatalf("Position of an empty database: %v, want driver.ErrNoPosition", err)
	}
	exec(t, c, "CREATE TABLE t (a)")
	p0, err := c.Position(ctx)
	must(t, err)
	exec(t, c, "INSERT INTO t VALUES (1)")
	p1, err := c.Position(ctx)
	must(t, err)
	if p1 <= p0 {
		t.Fatalf("position %d after two writes, %d before", p1, p0)
	}
	p2, err := c.Position(ctx)
	must(t, err)
	if p2 != p1 {
		t.Fatalf("position moved from %d to %d without a write", p1, p2)
	}
}

// BenchmarkWatchProbe is what an idle watch costs sqld per interval (and
// what WithReplicas asks a replica): one request reading the replication
// index.
func BenchmarkWatchProbe(b *testing.B) {
	c := open(b)
	ctx := context.Background()
	exec(b, c, "CREATE TABLE t (a)")
	for b.Loop() {
		if _, err := c.Position(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
