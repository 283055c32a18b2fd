//go:build js && wasm

package kvcache_test

// Runs inside workerd, started by TestKVCacheUnderWorkerd through
// testsvc.WorkerTest; elsewhere it skips.

import (
	"context"
	"sync/atomic"
	"syscall/js"
	"testing"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/cache"
	"github.com/forge-orm/forge/d1"
	"github.com/forge-orm/forge/edge/workers"
	"github.com/forge-orm/forge/edge/workers/kvcache"
)

type Note struct {
	ID   int64
	Body string
}

var Notes = forge.Model("notes", func(n *Note, f *forge.Fields) {
	f.ID(&n.ID)
	f.Text(&n.Body)
})

type counter struct{ n atomic.Int64 }

func (c *counter) QueryStart(ctx context.Context, _ *forge.QueryEvent) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *counter) QueryEnd(context.Context, *forge.QueryEvent) {}

func TestKVStoreInWorker(t *testing.T) {
	g := js.Global().Get("__forgeTest")
	if g.Type() != js.TypeObject {
		t.Skip("no bindings here: this test runs inside workerd, started by TestKVCacheUnderWorkerd")
	}
	env := g.Get("env")
	ctx := context.Background()
	kv, err := workers.NewKV(env.Get("KV"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := kvcache.New(kv, "t:")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cache.New(store, cache.TTL(10*time.Second)); err == nil {
		t.Fatal("a 10 s TTL in KV was accepted")
	}
	c, err := cache.New(store, cache.TTL(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := d1.Open(env.Get("DB"))
	if err != nil {
		t.Fatal(err)
	}
	sent := &counter{}
	db, err := forge.Open(forge.MustSchema(Notes), conn, forge.WithCache(c, Notes), forge.WithObserver(sent))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := Notes.Create(ctx, db, Note{Body: "one"}); err != nil {
		t.Fatal(err)
	}
	read := func() []Note {
		t.Helper()
		ns, err := Notes.FindMany(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		return ns
	}
	read()
	before := sent.n.Load()
	if ns := read(); len(ns) != 1 || ns[0].Body != "one" {
		t.Fatalf("hit: %+v", ns)
	}
	if d := sent.n.Load() - before; d != 0 {
		t.Fatalf("the second read sent %d statements: not served from KV", d)
	}
	c2 := Notes.Cols()
	if _, err := Notes.Update(ctx, db, forge.Eq(&c2.ID, int64(1)), forge.Set(&c2.Body, "two")); err != nil {
		t.Fatal(err)
	}
	if ns := read(); ns[0].Body != "two" {
		t.Fatalf("stale read in the writing isolate: %+v", ns)
	}
	// Another isolate (a second store over the same namespace) sees the
	// write once KV shows the new generation; in one location, at once.
	other, _ := kvcache.New(kv, "t:")
	oc, _ := cache.New(other, cache.TTL(time.Minute))
	odb, _ := forge.Open(forge.MustSchema(Notes), conn, forge.WithCache(oc, Notes))
	ns, err := Notes.FindMany(ctx, odb)
	if err != nil || ns[0].Body != "two" {
		t.Fatalf("the other isolate: %+v, %v", ns, err)
	}
}
