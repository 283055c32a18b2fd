//go:build js && wasm

package workers

import (
	"context"
	"errors"
	"fmt"
	"syscall/js"
	"time"

	"github.com/forge-orm/forge/fetch/jsfetch"
)

// KV is a Workers KV namespace (a binding declared under [[kv_namespaces]]
// in wrangler.toml). KV is eventually consistent: a write is seen at once
// by the location that made it, and by others within about a minute.
type KV struct {
	ns  js.Value
	env *Env // the request it came from (Env.KV), if any
}

// KV returns the KV namespace bound as name.
func (e *Env) KV(name string) (*KV, error) {
	b := e.Binding(name)
	if b.IsUndefined() || b.IsNull() {
		return nil, fmt.Errorf("forge/workers: the Worker has no binding named %q; declare it in wrangler.toml:\n[[kv_namespaces]]\nbinding = %q\nid = \"...\"", name, name)
	}
	kv, err := NewKV(b)
	if err != nil {
		return nil, err
	}
	kv.env = e
	return kv, nil
}

// NewKV adapts a KV namespace binding (env.NAME in JavaScript terms).
// Prefer Env.KV in a Handler: its KV runs each call inside the request it
// came from, as workerd wants, whichever goroutine makes it.
func NewKV(binding js.Value) (*KV, error) {
	if binding.Type() != js.TypeObject {
		return nil, fmt.Errorf("forge/workers: the binding is a %s, not a KV namespace", binding.Type())
	}
	for _, m := range []string{"get", "put", "delete", "list"} {
		if binding.Get(m).Type() != js.TypeFunction {
			return nil, fmt.Errorf("forge/workers: the binding has no %s method: it is not a KV namespace", m)
		}
	}
	return &KV{ns: binding}, nil
}

// Get returns the value of key, and false when there is none.
func (kv *KV) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := checkKey(key); err != nil {
		return nil, false, err
	}
	opts := js.Global().Get("Object").New()
	opts.Set("type", "arrayBuffer")
	v, err := kv.await(ctx, "get", func() js.Value { return kv.ns.Call("get", key, opts) })
	if err != nil || v.IsNull() || v.IsUndefined() {
		return nil, false, err
	}
	arr := jsUint8Array.New(v)
	b := make([]byte, arr.Get("length").Int())
	js.CopyBytesToGo(b, arr)
	return b, true, nil
}

// KVPutOptions are Put's options.
type KVPutOptions struct {
	// ExpirationTTL, when not zero, makes the value expire that long after
	// the write; KV wants at least 60 seconds and counts whole seconds.
	ExpirationTTL time.Duration
	// Expiration, when not zero, makes the value expire then (at least 60
	// seconds ahead).
	Expiration time.Time
}

// Put writes value under key (a key is 1-512 bytes; a value up to 25 MiB).
func (kv *KV) Put(ctx context.Context, key string, value []byte, opts *KVPutOptions) error {
	if err := checkKey(key); err != nil {
		return err
	}
	o := js.Global().Get("Object").New()
	if opts != nil {
		if opts.ExpirationTTL != 0 {
			if opts.ExpirationTTL < 60*time.Second {
				return fmt.Errorf("forge/workers: KV ExpirationTTL %v: KV wants at least 60 seconds", opts.ExpirationTTL)
			}
			o.Set("expirationTtl", int64(opts.ExpirationTTL/time.Second))
		}
		if !opts.Expiration.IsZero() {
			o.Set("expiration", opts.Expiration.Unix())
		}
	}
	arr := jsUint8Array.New(len(value))
	js.CopyBytesToJS(arr, value)
	_, err := kv.await(ctx, "put", func() js.Value { return kv.ns.Call("put", key, arr, o) })
	return err
}

// Delete removes key; deleting a key that does not exist is not an error.
func (kv *KV) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	_, err := kv.await(ctx, "delete", func() js.Value { return kv.ns.Call("delete", key) })
	return err
}

// KVListOptions are List's options.
type KVListOptions struct {
	Prefix string // only keys that start with it
	Limit  int    // at most this many keys (KV's default and maximum: 1000)
	Cursor string // where the previous page ended (KVList.Cursor)
}

// KVList is a page of keys, in lexicographic order of their UTF-8 bytes.
type KVList struct {
	Keys     []KVKey
	Complete bool   // no more pages
	Cursor   string // to pass as KVListOptions.Cursor for the next page
}

// KVKey is a key of a KVList.
type KVKey struct {
	Name       string
	Expiration time.Time // zero when it never expires
}

// List returns a page of the namespace's keys.
func (kv *KV) List(ctx context.Context, opts *KVListOptions) (*KVList, error) {
	o := js.Global().Get("Object").New()
	if opts != nil {
		if opts.Prefix != "" {
			o.Set("prefix", opts.Prefix)
		}
		if opts.Limit < 0 || opts.Limit > 1000 {
			return nil, fmt.Errorf("forge/workers: KV List Limit %d: want 1-1000 (0: the default)", opts.Limit)
		}
		if opts.Limit > 0 {
			o.Set("limit", opts.Limit)
		}
		if opts.Cursor != "" {
			o.Set("cursor", opts.Cursor)
		}
	}
	v, err := kv.await(ctx, "list", func() js.Value { return kv.ns.Call("list", o) })
	if err != nil {
		return nil, err
	}
	out := &KVList{Complete: v.Get("list_complete").Truthy()}
	if c := v.Get("cursor"); c.Type() == js.TypeString {
		out.Cursor = c.String()
	}
	keys := v.Get("keys")
	n := keys.Length()
	out.Keys = make([]KVKey, n)
	for i := 0; i < n; i++ {
		k := keys.Index(i)
		out.Keys[i].Name = k.Get("name").String()
		if e := k.Get("expiration"); e.Type() == js.TypeNumber {
			out.Keys[i].Expiration = time.Unix(int64(e.Float()), 0).UTC()
		}
	}
	return out, nil
}

// await calls start (which returns the binding's promise) and waits for
// it; a JavaScript exception or rejection becomes an error naming op.
func (kv *KV) await(ctx context.Context, op string, start func() js.Value) (js.Value, error) {
	var v js.Value
	var err error
	if r := kv.hold(); r != nil {
		v, err = r.await(ctx, start)
		r.Release()
	} else {
		var p js.Value
		if err := call(func() { p = start() }); err != nil {
			return js.Undefined(), fmt.Errorf("forge/workers: KV %s: %w", op, err)
		}
		v, err = jsfetch.Await(ctx, p, js.Undefined())
	}
	if err != nil {
		return js.Undefined(), fmt.Errorf("forge/workers: KV %s: %w", op, err)
	}
	return v, nil
}

// hold returns the RequestIO of the KV's request, or nil.
func (kv *KV) hold() *RequestIO {
	if kv.env == nil {
		return nil
	}
	return kv.env.hold()
}

func checkKey(key string) error {
	switch {
	case key == "":
		return errors.New("forge/workers: a KV key cannot be empty")
	case len(key) > 512:
		return fmt.Errorf("forge/workers: a KV key is at most 512 bytes; this one has %d", len(key))
	case key == "." || key == "..":
		return fmt.Errorf("forge/workers: KV refuses the key %q", key)
	}
	return nil
}
