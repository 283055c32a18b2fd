package sqlite_test

import (
	"context"
	"testing"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/forgetest"
	"github.com/forge-orm/forge/sqlite"
)

// Watch on a database file: PRAGMA data_version on a pinned connection.
func TestWatch(t *testing.T) {
	forgetest.RunWatch(t, openTemp, forgetest.WatchOptions{Quiet: true})
}

// Watch on an in-memory database (one connection, which a watch cannot
// pin): the forge_changes table and its triggers.
func TestWatchInMemory(t *testing.T) {
	forgetest.RunWatch(t, func(t testing.TB) driver.Conn {
		conn, err := sqlite.Open(":memory:")
		if err != nil {
			t.Fatal(err)
		}
		return conn
	}, forgetest.WatchOptions{Quiet: true})
}

// BenchmarkWatchProbe is what an idle watch costs a SQLite file per
// interval: PRAGMA data_version on its pinned connection.
func BenchmarkWatchProbe(b *testing.B) {
	conn := openTemp(b)
	defer conn.Close()
	s, err := conn.(driver.Sessioner).Session(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		rows, err := s.Query(context.Background(), "PRAGMA data_version", nil)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
		}
		rows.Close()
	}
}
