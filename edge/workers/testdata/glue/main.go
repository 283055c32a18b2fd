//go:build js && wasm

// Command glue is the Worker that workers_test.go runs under workerd to
// check the glue itself: requests and responses, panics, errors,
// cancellation, WaitUntil, concurrency and a crashed instance restarting.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall/js"
	"time"

	"github.com/forge-orm/forge/edge/workers"
	"github.com/forge-orm/forge/fetch"
	"github.com/forge-orm/forge/fetch/jsfetch"
)

var (
	served    atomic.Int64 // requests this instance has answered
	instance  = strconv.FormatInt(time.Now().UnixNano(), 36)
	mu        sync.Mutex
	cancelled = map[string]bool{}
	waited    = map[string]bool{}
)

// sleep waits on a JavaScript timer (never blocking a callback).
func sleep(ctx context.Context, ms int) error {
	var resolve js.Value
	exec := js.FuncOf(func(this js.Value, args []js.Value) any { resolve = args[0]; return nil })
	p := js.Global().Get("Promise").New(exec)
	exec.Release()
	js.Global().Call("setTimeout", resolve, ms)
	_, err := jsfetch.Await(ctx, p, js.Undefined())
	return err
}

func main() {
	workers.Serve(func(ctx context.Context, req *workers.Request, env *workers.Env) (*workers.Response, error) {
		defer served.Add(1)
		switch req.Path() {
		case "/echo":
			return workers.JSON(200, map[string]any{
				"method":   req.Method,
				"url":      req.URL,
				"path":     req.Path(),
				"q":        req.Query("q"),
				"header":   req.Header.Get("X-Test"),
				"body":     req.Body,
				"greeting": env.Var("GREETING"),
				"json_var": env.Var("CONFIG"),
				"missing":  env.Var("NOPE"),
				"has_db":   env.Binding("DB").Truthy(),
				"no_bind":  env.Binding("NOPE").IsUndefined(),
			})
		case "/headers":
			return &workers.Response{Status: 201, Header: fetch.Header{{Name: "X-One", Value: "1"}, {Name: "Set-Cookie", Value: "a=1"}, {Name: "Set-Cookie", Value: "b=2"}}, Body: []byte("made")}, nil
		case "/empty":
			return nil, nil
		case "/bad-status":
			return &workers.Response{Status: 42}, nil
		case "/panic":
			panic("boom in the handler")
		case "/error":
			return nil, errors.New("secret detail that must not reach the client")
		case "/sleep":
			ms, _ := strconv.Atoi(req.Query("ms"))
			if err := sleep(ctx, ms); err != nil {
				return nil, err
			}
			return workers.Text(200, req.Query("id"))
		case "/ctx-after":
			// The handler's context must be cancelled once the response is out.
			id := req.Query("id")
			go func() {
				<-ctx.Done()
				mu.Lock()
				cancelled[id] = true
				mu.Unlock()
			}()
			return workers.Text(200, "ok")
		case "/waituntil":
			id := req.Query("id")
			env.WaitUntil(func(ctx context.Context) {
				_ = sleep(ctx, 50)
				mu.Lock()
				waited[id] = true
				mu.Unlock()
			})
			return workers.Text(200, "scheduled")
		case "/state":
			id := req.Query("id")
			mu.Lock()
			defer mu.Unlock()
			return workers.JSON(200, map[string]any{"cancelled": cancelled[id], "waited": waited[id], "instance": instance, "served": served.Load()})
		case "/crash":
			// A panic outside the handler's goroutine kills the Go instance.
			go func() { panic("crash on a goroutine of our own") }()
			return nil, sleep(ctx, 1000)
		case "/big":
			n, _ := strconv.Atoi(req.Query("n"))
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(i)
			}
			return &workers.Response{Body: b}, nil
		case "/sum":
			var sum uint64
			for _, b := range req.Body {
				sum = sum*31 + uint64(b)
			}
			return workers.JSON(200, map[string]any{"len": len(req.Body), "sum": strconv.FormatUint(sum, 10)})
		case "/json-error":
			return workers.JSON(200, func() {})
		}
		b, _ := json.Marshal(req.Path())
		return &workers.Response{Status: 404, Body: b}, nil
	})
}
