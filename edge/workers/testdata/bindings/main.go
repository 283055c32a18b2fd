//go:build js && wasm

// Command bindings is the Worker that workers_test.go runs under workerd to
// check, under workers.Serve, the Cache API, Analytics Engine, KV from
// Env.KV and sockets: each request's I/O run inside that request while many
// run at once.
package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/forge-orm/forge/edge/workers"
	"github.com/forge-orm/forge/edge/workers/sockets"
	"github.com/forge-orm/forge/fetch"
)

func main() {
	workers.Serve(func(ctx context.Context, req *workers.Request, env *workers.Env) (*workers.Response, error) {
		switch req.Path() {
		case "/cache":
			return cache(ctx, env)
		case "/ae":
			return analytics(env)
		case "/kv":
			return kv(ctx, env, req.Query("key"))
		case "/socket":
			n, _ := strconv.Atoi(req.Query("n"))
			return echo(ctx, env, n)
		}
		return workers.Text(404, "no route")
	})
}

// check collects failures as lines of text.
type check []string

func (c *check) fail(msg string) { *c = append(*c, msg) }

func (c check) answer() (*workers.Response, error) {
	if len(c) > 0 {
		return workers.Text(500, strings.Join(c, "\n"))
	}
	return workers.Text(200, "ok")
}

func cache(ctx context.Context, env *workers.Env) (*workers.Response, error) {
	var c check
	cc, err := env.Cache()
	if err != nil {
		return nil, err
	}
	const u = "https://cache.test/a"
	if _, ok, err := cc.Match(ctx, u); ok || err != nil {
		c.fail("a match before any put: " + strconv.FormatBool(ok) + " " + errString(err))
	}
	res := &workers.Response{Status: 200, Body: []byte{0, 1, 2, 255}, Header: fetch.Header{
		{Name: "Cache-Control", Value: "max-age=60"},
		{Name: "X-Kind", Value: "test"},
	}}
	if err := cc.Put(ctx, u, res); err != nil {
		c.fail("put: " + err.Error())
	}
	got, ok, err := cc.Match(ctx, u)
	if !ok || err != nil || got.Status != 200 || !bytes.Equal(got.Body, res.Body) || got.Header.Get("x-kind") != "test" {
		c.fail("match after put: " + strconv.FormatBool(ok) + " " + errString(err))
	}
	// Without a Cache-Control allowing it, the runtime keeps nothing.
	if err := cc.Put(ctx, "https://cache.test/b", &workers.Response{Body: []byte("x")}); err != nil {
		c.fail("put without Cache-Control: " + err.Error())
	}
	if _, ok, _ := cc.Match(ctx, "https://cache.test/b"); ok {
		c.fail("a response without Cache-Control was kept")
	}
	if gone, err := cc.Delete(ctx, u); !gone || err != nil {
		c.fail("delete: " + errString(err))
	}
	if gone, err := cc.Delete(ctx, u); gone || err != nil {
		c.fail("a second delete: " + errString(err))
	}
	if err := cc.Put(ctx, "/relative", res); err == nil {
		c.fail("a relative URL was accepted")
	}
	if err := cc.Put(ctx, u, &workers.Response{Status: 99}); err == nil {
		c.fail("status 99 was accepted")
	}
	named, err := env.OpenCache(ctx, "named")
	if err != nil {
		c.fail("OpenCache: " + err.Error())
	} else if _, ok, err := named.Match(ctx, u); ok || err != nil {
		c.fail("a named cache's match: " + errString(err))
	}
	return c.answer()
}

func analytics(env *workers.Env) (*workers.Response, error) {
	var c check
	ae, err := env.AnalyticsEngine("AE")
	if err != nil {
		return nil, err
	}
	if err := ae.WriteDataPoint(workers.DataPoint{Indexes: []string{"User"}, Blobs: []string{"find_many"}, Doubles: []float64{1.25, 10, 0}}); err != nil {
		c.fail("a data point: " + err.Error())
	}
	for name, p := range map[string]workers.DataPoint{
		"two indexes":  {Indexes: []string{"a", "b"}},
		"a long index": {Indexes: []string{strings.Repeat("i", 97)}},
		"21 doubles":   {Doubles: make([]float64, 21)},
		"21 blobs":     {Blobs: make([]string, 21)},
		"big blobs":    {Blobs: []string{strings.Repeat("b", 16*1024+1)}},
	} {
		if err := ae.WriteDataPoint(p); err == nil {
			c.fail(name + " was accepted")
		}
	}
	if _, err := env.AnalyticsEngine("NOPE"); err == nil || !strings.Contains(err.Error(), "analytics_engine_datasets") {
		c.fail("a missing binding: " + errString(err))
	}
	if _, err := env.AnalyticsEngine("TEXT"); err == nil {
		c.fail("a text binding was accepted")
	}
	return c.answer()
}

// kv writes, reads back and deletes key through Env.KV.
func kv(ctx context.Context, env *workers.Env, key string) (*workers.Response, error) {
	var c check
	ns, err := env.KV("KV")
	if err != nil {
		return nil, err
	}
	if err := ns.Put(ctx, key, []byte(key), nil); err != nil {
		c.fail("put: " + err.Error())
	}
	if v, ok, err := ns.Get(ctx, key); !ok || err != nil || string(v) != key {
		c.fail("get: " + errString(err))
	}
	if err := ns.Delete(ctx, key); err != nil {
		c.fail("delete: " + err.Error())
	}
	if _, err := env.KV("NOPE"); err == nil || !strings.Contains(err.Error(), "kv_namespaces") {
		c.fail("a missing binding: " + errString(err))
	}
	return c.answer()
}

// echo opens a socket to the echo server, sends n bytes and reads them
// back, and closes it after the response, from WaitUntil.
func echo(ctx context.Context, env *workers.Env, n int) (*workers.Response, error) {
	conn, err := sockets.Connect(ctx, env.Var("ECHO"), nil)
	if err != nil {
		return nil, err
	}
	env.WaitUntil(func(context.Context) {
		<-ctx.Done() // the response has gone: the socket still works here
		if _, err := conn.Write([]byte("z")); err != nil {
			panic("a write from WaitUntil: " + err.Error())
		}
		conn.Close()
	})
	data := bytes.Repeat([]byte{byte(n)}, n)
	go conn.Write(data)
	got := make([]byte, n)
	if _, err := io.ReadFull(conn, got); err != nil {
		return nil, err
	}
	if !bytes.Equal(got, data) {
		return nil, errors.New("the echo differs")
	}
	return workers.Text(200, strconv.Itoa(n))
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
