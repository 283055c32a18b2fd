package forgetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/forge-orm/forge"
)

// WatchOptions describes what a driver's database lets RunWatch check.
type WatchOptions struct {
	// Quiet: nothing else writes to the database server, so an unchanged
	// database must not re-run the watched query (false on a shared
	// PostgreSQL server, whose WAL position moves with other databases'
	// writes).
	Quiet bool
}

// RunWatch checks forge's Watch on a fresh database from open: the first
// result, a change written through another *forge.DB over the same
// connection (found by the driver's change probe), a change written
// through the watched DB (which wakes it without waiting for the
// interval), an included model's change, and that the watch ends with its
// context.
func RunWatch(t *testing.T, open Opener, o WatchOptions) {
	h := Setup(t, open)
	ctx := context.Background()
	other, err := forge.Open(Schema, h.DB.Driver())
	if err != nil {
		t.Fatal(err)
	}
	u := Users.Cols()
	watched := forge.Where(forge.Eq(&u.Name, "watched"))
	if _, err := Users.Create(ctx, h.DB, User{Email: "w1@x", Name: "watched"}); err != nil {
		t.Fatal(err)
	}

	t.Run("Errors", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			run  func() error
		}{
			{"Every(0)", func() error {
				for _, err := range Users.Watch(ctx, h.DB, forge.Every(0)) {
					return err
				}
				return nil
			}},
			{"Every on FindMany", func() error {
				_, err := Users.FindMany(ctx, h.DB, forge.Every(time.Second))
				return err
			}},
			{"nil DB", func() error {
				for _, err := range Users.Watch(ctx, nil) {
					return err
				}
				return nil
			}},
		} {
			var qe *forge.QueryError
			if err := tc.run(); !errors.As(err, &qe) {
				t.Errorf("%s: got %v, want a *forge.QueryError", tc.name, err)
			}
		}
	})

	// watch starts a watch in a goroutine; its results arrive on the
	// channel, which is closed when the watch ends.
	watch := func(ctx context.Context, db *forge.DB, opts ...forge.Option) <-chan []User {
		ch := make(chan []User, 16)
		go func() {
			defer close(ch)
			for rows, err := range Users.Watch(ctx, db, opts...) {
				if err != nil {
					t.Errorf("Watch: %v", err)
					return
				}
				ch <- rows
			}
		}()
		return ch
	}
	next := func(t *testing.T, ch <-chan []User, want int) []User {
		t.Helper()
		select {
		case rows, ok := <-ch:
			if !ok {
				t.Fatal("the watch ended")
			}
			if len(rows) != want {
				t.Fatalf("got %d rows, want %d: %+v", len(rows), want, rows)
			}
			return rows
		case <-time.After(20 * time.Second):
			t.Fatalf("no result within 20s (want %d rows)", want)
		}
		return nil
	}

	t.Run("OtherWriter", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		h.Events.Reset()
		ch := watch(ctx, h.Observed, watched, forge.OrderBy(&u.ID, forge.Asc), forge.Every(10*time.Millisecond))
		next(t, ch, 1)
		if o.Quiet {
			// Several intervals of an unchanged database: the probe runs,
			// the query does not. (A slow machine polls fewer times; the
			// check holds either way.)
			time.Sleep(100 * time.Millisecond)
			if n := countOps(h.Events, forge.OpFindMany); n != 1 {
				t.Errorf("the query ran %d times on an unchanged database, want 1", n)
			}
		}
		if _, err := Users.Create(ctx, other, User{Email: "w2@x", Name: "watched"}); err != nil {
			t.Fatal(err)
		}
		rows := next(t, ch, 2)
		if rows[1].Email != "w2@x" {
			t.Errorf("got %+v", rows)
		}
		// A change that does not change the result is not delivered: the
		// next result is the delete's.
		if _, err := Users.Create(ctx, other, User{Email: "w3@x", Name: "unwatched"}); err != nil {
			t.Fatal(err)
		}
		if err := Users.Delete(ctx, other, forge.Eq(&u.Email, "w2@x")); err != nil {
			t.Fatal(err)
		}
		next(t, ch, 1)
		cancel()
		for range ch {
		}
	})

	t.Run("SameDBWakes", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		// An hour's interval: only the write's wake can deliver in time.
		ch := watch(ctx, h.DB, watched, forge.Include(&u.Posts), forge.Every(time.Hour))
		first := next(t, ch, 1)
		if _, err := Users.Update(ctx, h.DB, forge.Eq(&u.ID, first[0].ID), forge.Set(&u.Age, int64(77))); err != nil {
			t.Fatal(err)
		}
		if rows := next(t, ch, 1); rows[0].Age != 77 {
			t.Errorf("Age = %d, want 77", rows[0].Age)
		}
		// A write to an included model wakes it too.
		if _, err := Posts.Create(ctx, h.DB, Post{AuthorID: first[0].ID, Title: "hello"}); err != nil {
			t.Fatal(err)
		}
		if rows := next(t, ch, 1); len(rows[0].Posts) != 1 {
			t.Errorf("Posts = %+v, want the new post", rows[0].Posts)
		}
		// So does a committed transaction, and raw SQL through forge.Exec.
		err := h.DB.Transaction(ctx, func(tx *forge.Tx) error {
			_, err := Users.Create(ctx, tx, User{Email: "w4@x", Name: "watched"})
			return err
		})
		if isCapability(err) {
			_, err = Users.Create(ctx, h.DB, User{Email: "w4@x", Name: "watched"})
		}
		if err != nil {
			t.Fatal(err)
		}
		next(t, ch, 2)
		// Raw SQL through forge.Exec wakes every watch on the DB.
		if _, err := forge.Exec(ctx, h.DB, `UPDATE "users" SET "age" = 5 WHERE "name" = 'watched'`); err != nil {
			t.Fatal(err)
		}
		if rows := next(t, ch, 2); rows[0].Age != 5 || rows[1].Age != 5 {
			t.Errorf("after a raw UPDATE: %+v", rows)
		}
		cancel()
		select {
		case _, ok := <-ch:
			if ok {
				for range ch {
				}
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the watch did not end with its context")
		}
	})

	// What a watch may leave in the database (forge_changes and its
	// triggers on SQLite) is no drift from the schema.
	plan, err := h.DB.Drift(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Changes) != 0 {
		t.Errorf("drift after watching: %v", plan.Changes)
	}
}

func isCapability(err error) bool {
	var ce *forge.CapabilityError
	return errors.As(err, &ce)
}

func countOps(r *Recorder, op forge.Operation) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.Queries {
		if e.Operation == op {
			n++
		}
	}
	return n
}
