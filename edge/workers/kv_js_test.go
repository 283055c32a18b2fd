//go:build js && wasm

package workers_test

// These tests run inside workerd, started by TestBindingsUnderWorkerd
// (workers_test.go) through testsvc.WorkerTest; elsewhere they skip.

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"github.com/forge-orm/forge/edge/workers"
)

func testBinding(t *testing.T, name string) js.Value {
	e := js.Global().Get("__forgeTest")
	if e.Type() != js.TypeObject {
		t.Skip("no bindings here: this test runs inside workerd, started by TestBindingsUnderWorkerd")
	}
	return e.Get("env").Get(name)
}

func TestKVInWorker(t *testing.T) {
	kv, err := workers.NewKV(testBinding(t, "KV"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, ok, err := kv.Get(ctx, "missing"); ok || err != nil {
		t.Fatalf("Get of a missing key: %v, %v", ok, err)
	}
	value := []byte{0, 1, 2, 0xff, 'x'}
	if err := kv.Put(ctx, "a", value, nil); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := kv.Get(ctx, "a"); !ok || err != nil || !bytes.Equal(got, value) {
		t.Fatalf("Get: %v, %v, %v", got, ok, err)
	}
	if err := kv.Put(ctx, "empty", nil, &workers.KVPutOptions{ExpirationTTL: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := kv.Get(ctx, "empty"); !ok || err != nil || len(got) != 0 {
		t.Fatalf("Get of an empty value: %v, %v, %v", got, ok, err)
	}
	if err := kv.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := kv.Get(ctx, "a"); ok {
		t.Error("the deleted key is still there")
	}
	if err := kv.Delete(ctx, "never-there"); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}

	// List: a prefix, pages, expirations.
	for i := 0; i < 5; i++ {
		if err := kv.Put(ctx, fmt.Sprintf("p/%d", i), []byte{byte(i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	opts := &workers.KVListOptions{Prefix: "p/", Limit: 2}
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("List does not end")
		}
		l, err := kv.List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range l.Keys {
			names = append(names, k.Name)
		}
		if l.Complete {
			break
		}
		opts.Cursor = l.Cursor
	}
	if strings.Join(names, ",") != "p/0,p/1,p/2,p/3,p/4" {
		t.Errorf("listed %v", names)
	}
	l, err := kv.List(ctx, &workers.KVListOptions{Prefix: "empty"})
	if err != nil || len(l.Keys) != 1 || l.Keys[0].Expiration.IsZero() {
		t.Errorf("the key with a TTL: %+v, %v", l, err)
	}

	// Bad input: clear errors, nothing written.
	if err := kv.Put(ctx, "short", []byte("x"), &workers.KVPutOptions{ExpirationTTL: time.Second}); err == nil || !strings.Contains(err.Error(), "60 seconds") {
		t.Errorf("a TTL under a minute: %v", err)
	}
	if _, ok, _ := kv.Get(ctx, "short"); ok {
		t.Error("a refused Put wrote")
	}
	if err := kv.Put(ctx, "", []byte("x"), nil); err == nil {
		t.Error("an empty key was accepted")
	}
	if _, _, err := kv.Get(ctx, strings.Repeat("k", 513)); err == nil {
		t.Error("a 513-byte key was accepted")
	}
	if _, err := kv.List(ctx, &workers.KVListOptions{Limit: 1001}); err == nil {
		t.Error("a List limit over 1000 was accepted")
	}
	if _, err := workers.NewKV(testBinding(t, "NOT_KV")); err == nil {
		t.Error("NewKV of a text binding succeeded")
	}
}
