//go:build js && wasm

package jsfetch

import (
	"context"
	"errors"
	"syscall/js"

	"github.com/forge-orm/forge/fetch"
)

// New returns a Fetcher over globalThis.fetch. The request is aborted (with
// an AbortController) when ctx ends.
func New() fetch.Fetcher {
	return func(ctx context.Context, r *fetch.Request) (*fetch.Response, error) {
		global := js.Global()
		fetchFn := global.Get("fetch")
		if fetchFn.Type() != js.TypeFunction {
			return nil, errors.New("forge/fetch/jsfetch: this runtime has no fetch")
		}
		init := global.Get("Object").New()
		init.Set("method", r.Method)
		headers := global.Get("Headers").New()
		for _, f := range r.Header {
			headers.Call("append", f.Name, f.Value)
		}
		init.Set("headers", headers)
		if len(r.Body) > 0 {
			body := global.Get("Uint8Array").New(len(r.Body))
			js.CopyBytesToJS(body, r.Body)
			init.Set("body", body)
		}
		ctrl := global.Get("AbortController")
		var abort js.Value
		if ctrl.Type() == js.TypeFunction {
			abort = ctrl.New()
			init.Set("signal", abort.Get("signal"))
		}
		res, err := Await(ctx, fetchFn.Invoke(r.URL, init), abort)
		if err != nil {
			return nil, err
		}
		buf, err := Await(ctx, res.Call("arrayBuffer"), abort)
		if err != nil {
			return nil, err
		}
		arr := global.Get("Uint8Array").New(buf)
		out := &fetch.Response{Status: res.Get("status").Int(), Body: make([]byte, arr.Get("length").Int())}
		js.CopyBytesToGo(out.Body, arr)
		it := res.Get("headers").Call("entries")
		for {
			n := it.Call("next")
			if n.Get("done").Bool() {
				break
			}
			kv := n.Get("value")
			out.Header = append(out.Header, fetch.Field{Name: kv.Index(0).String(), Value: kv.Index(1).String()})
		}
		return out, nil
	}
}

// Await waits for a JavaScript promise without blocking the JavaScript
// event loop (the calling goroutine parks; the runtime keeps serving
// callbacks). It returns the resolved value, or the rejection as an error.
// When ctx ends first, abort (an AbortController, if valid) is signalled.
func Await(ctx context.Context, promise js.Value, abort js.Value) (js.Value, error) {
	type result struct {
		v    js.Value
		err  error
		done bool // ctx ended first
	}
	// Room for both the promise's result and ctx's end, so that neither
	// sender ever blocks. (Waiting on one channel rather than a select
	// keeps runtime.selectgo, about 15 KB of WebAssembly, off a Worker's
	// first request, which compiles every function it runs.)
	ch := make(chan result, 2)
	var ok, fail js.Func
	// The callbacks release both functions when the promise settles, which
	// may be after Await has returned on a cancelled context.
	ok = js.FuncOf(func(this js.Value, args []js.Value) any {
		var v js.Value
		if len(args) > 0 {
			v = args[0]
		}
		ch <- result{v: v}
		ok.Release()
		fail.Release()
		return nil
	})
	fail = js.FuncOf(func(this js.Value, args []js.Value) any {
		msg := "promise rejected"
		if len(args) > 0 {
			msg = jsErrorString(args[0])
		}
		ch <- result{err: &JSError{Message: msg}}
		ok.Release()
		fail.Release()
		return nil
	})
	promise.Call("then", ok, fail)
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { ch <- result{done: true} })
		defer stop()
	}
	r := <-ch
	if r.done {
		if abort.Truthy() {
			abort.Call("abort")
		}
		return js.Undefined(), ctx.Err()
	}
	return r.v, r.err
}

// JSError is a JavaScript exception or rejection.
type JSError struct{ Message string }

func (e *JSError) Error() string { return e.Message }

func jsErrorString(v js.Value) string {
	if v.Type() == js.TypeObject {
		if m := v.Get("message"); m.Type() == js.TypeString {
			return m.String()
		}
	}
	return js.Global().Get("String").Invoke(v).String()
}
