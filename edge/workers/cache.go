//go:build js && wasm

package workers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall/js"

	"github.com/forge-orm/forge/fetch"
	"github.com/forge-orm/forge/fetch/jsfetch"
)

// Cache is a Cache API cache of the runtime (caches.default, or one opened
// by name), keyed by GET request URLs. The runtime decides what it keeps:
// a response needs a Cache-Control header allowing it (such as
// "max-age=60"), and a Worker on a workers.dev subdomain has no cache at
// all (its puts do nothing). Entries are per data centre.
type Cache struct {
	c   js.Value
	env *Env
}

// Cache returns the runtime's default cache, caches.default.
func (e *Env) Cache() (*Cache, error) {
	caches := js.Global().Get("caches")
	if caches.Type() != js.TypeObject || caches.Get("default").Type() != js.TypeObject {
		return nil, errors.New("forge/workers: this runtime has no Cache API (caches.default)")
	}
	return &Cache{c: caches.Get("default"), env: e}, nil
}

// OpenCache returns the cache called name (caches.open).
func (e *Env) OpenCache(ctx context.Context, name string) (*Cache, error) {
	caches := js.Global().Get("caches")
	if caches.Type() != js.TypeObject {
		return nil, errors.New("forge/workers: this runtime has no Cache API (caches)")
	}
	v, err := e.await(ctx, func() js.Value { return caches.Call("open", name) })
	if err != nil {
		return nil, fmt.Errorf("forge/workers: opening the cache %q: %w", name, err)
	}
	return &Cache{c: v, env: e}, nil
}

// Match returns the cached response for a GET of url, and false when there
// is none.
func (c *Cache) Match(ctx context.Context, url string) (*Response, bool, error) {
	if err := checkCacheURL(url); err != nil {
		return nil, false, err
	}
	v, err := c.env.await(ctx, func() js.Value { return c.c.Call("match", url) })
	if err != nil {
		return nil, false, fmt.Errorf("forge/workers: cache match: %w", err)
	}
	if v.Type() != js.TypeObject {
		return nil, false, nil
	}
	res := &Response{Status: v.Get("status").Int()}
	it := v.Get("headers").Call("entries")
	for {
		n := it.Call("next")
		if n.Get("done").Bool() {
			break
		}
		kv := n.Get("value")
		res.Header = append(res.Header, fetch.Field{Name: kv.Index(0).String(), Value: kv.Index(1).String()})
	}
	buf, err := c.env.await(ctx, func() js.Value { return v.Call("arrayBuffer") })
	if err != nil {
		return nil, false, fmt.Errorf("forge/workers: reading a cached response: %w", err)
	}
	arr := jsUint8Array.New(buf)
	res.Body = make([]byte, arr.Get("length").Int())
	js.CopyBytesToGo(res.Body, arr)
	return res, true, nil
}

// Put stores res as the response to a GET of url. The runtime refuses a
// 206 response and one with "Vary: *"; it keeps nothing that HTTP caching
// does not let it: a status it may cache (200 is, 201 is not) and a
// Cache-Control allowing it (see Cache).
func (c *Cache) Put(ctx context.Context, url string, res *Response) error {
	if err := checkCacheURL(url); err != nil {
		return err
	}
	if res == nil {
		return errors.New("forge/workers: cache put of a nil Response")
	}
	if err := checkResponse(res); err != nil {
		return err
	}
	_, err := c.env.await(ctx, func() js.Value {
		init := js.Global().Get("Object").New()
		status := res.Status
		if status == 0 {
			status = 200
		}
		init.Set("status", status)
		headers := js.Global().Get("Headers").New()
		for _, f := range res.Header {
			headers.Call("append", f.Name, f.Value)
		}
		init.Set("headers", headers)
		body := js.Null()
		if len(res.Body) > 0 {
			body = jsUint8Array.New(len(res.Body))
			js.CopyBytesToJS(body, res.Body)
		}
		return c.c.Call("put", url, js.Global().Get("Response").New(body, init))
	})
	if err != nil {
		return fmt.Errorf("forge/workers: cache put: %w", err)
	}
	return nil
}

// Delete removes the cached response for a GET of url, reporting whether
// there was one.
func (c *Cache) Delete(ctx context.Context, url string) (bool, error) {
	if err := checkCacheURL(url); err != nil {
		return false, err
	}
	v, err := c.env.await(ctx, func() js.Value { return c.c.Call("delete", url) })
	if err != nil {
		return false, fmt.Errorf("forge/workers: cache delete: %w", err)
	}
	return v.Truthy(), nil
}

func checkCacheURL(url string) error {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return fmt.Errorf("forge/workers: a cache key is an absolute http(s) URL, not %q", url)
	}
	return nil
}

// await runs start (which returns a promise) inside e's request when there
// is one (see HoldIO), else here, and waits for the promise.
func (e *Env) await(ctx context.Context, start func() js.Value) (js.Value, error) {
	if e != nil {
		if r := e.hold(); r != nil {
			defer r.Release()
			return r.await(ctx, start)
		}
	}
	var p js.Value
	if err := call(func() { p = start() }); err != nil {
		return js.Undefined(), err
	}
	return jsfetch.Await(ctx, p, js.Undefined())
}
