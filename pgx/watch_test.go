package pgx_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/forgetest"
)

// Watch on PostgreSQL: the WAL position as the change probe. The server is
// shared with other tests, so its WAL moves without this test's writes
// (not Quiet).
func TestWatch(t *testing.T) {
	dsn(t)
	forgetest.RunWatch(t, openSchema, forgetest.WatchOptions{})
}

// Watch with Notify: LISTEN wakes the watch at once when a writer outside
// the watched DB sends NOTIFY (the interval is an hour).
func TestWatchNotify(t *testing.T) {
	dsn(t)
	h := forgetest.Setup(t, openSchema)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	other, err := forge.Open(forgetest.Schema, h.DB.Driver())
	if err != nil {
		t.Fatal(err)
	}
	channel := fmt.Sprintf("forge_watch_%d", time.Now().UnixNano())
	u := forgetest.Users.Cols()
	ch := make(chan []forgetest.User, 4)
	errs := make(chan error, 4)
	go func() {
		defer close(ch)
		for rows, err := range forgetest.Users.Watch(ctx, h.DB, forge.OrderBy(&u.ID, forge.Asc), forge.Every(time.Hour), forge.Notify(channel)) {
			if err != nil {
				errs <- err
				return
			}
			ch <- rows
		}
	}()
	next := func(want int) {
		t.Helper()
		select {
		case rows := <-ch:
			if len(rows) != want {
				t.Fatalf("got %d rows, want %d", len(rows), want)
			}
		case err := <-errs:
			t.Fatal(err)
		case <-time.After(20 * time.Second):
			t.Fatalf("no result within 20s (want %d rows)", want)
		}
	}
	next(0)
	// The listener may not be subscribed yet when the first result comes:
	// notify until the watch delivers (each round adds a row, so the
	// result always changes).
	for i := 1; ; i++ {
		err := other.Transaction(ctx, func(tx *forge.Tx) error {
			if _, err := forgetest.Users.Create(ctx, tx, forgetest.User{Email: fmt.Sprintf("n%d@x", i), Name: "n"}); err != nil {
				return err
			}
			_, err := forge.Exec(ctx, tx, "SELECT pg_notify($1, '')", channel)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case rows := <-ch:
			if len(rows) != i {
				t.Fatalf("got %d rows, want %d", len(rows), i)
			}
			return
		case err := <-errs:
			t.Fatal(err)
		case <-time.After(200 * time.Millisecond):
			if i == 100 {
				t.Fatal("no notification reached the watch")
			}
		}
	}
}

// BenchmarkWatchProbe is what an idle watch costs PostgreSQL per interval:
// the WAL position query (also what WithReplicas asks a standby, and the
// primary after a write).
func BenchmarkWatchProbe(b *testing.B) {
	dsn(b)
	conn := openSchema(b)
	defer conn.Close()
	ctx := context.Background()
	for b.Loop() {
		rows, err := conn.Query(ctx, driver.PostgreSQLPositionSQL, nil)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
		}
		rows.Close()
	}
}
