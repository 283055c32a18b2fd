//go:build js && wasm

package workers

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"syscall/js"

	"github.com/forge-orm/forge/fetch"
)

// Handler answers one request. ctx is cancelled when the request ends. A
// returned error becomes a 500 response with a generic body (the error is
// logged with console.error); a nil Response with a nil error is a 204.
type Handler func(ctx context.Context, req *Request, env *Env) (*Response, error)

// Env is the Worker's environment for one request: its vars, secrets and
// bindings, and the execution context behind WaitUntil.
type Env struct {
	env js.Value
	ctx js.Value
}

// Var returns the var or secret name as a string: a string value as is,
// any other value (a JSON var) as JSON, and "" when there is none.
func (e *Env) Var(name string) string {
	v := e.env.Get(name)
	switch v.Type() {
	case js.TypeString:
		return v.String()
	case js.TypeUndefined, js.TypeNull:
		return ""
	}
	s := js.Global().Get("JSON").Call("stringify", v)
	if s.Type() != js.TypeString {
		return ""
	}
	return s.String()
}

// Binding returns the binding name (a D1 database, a KV namespace, a
// service...) as a JavaScript value; it is undefined when there is none.
func (e *Env) Binding(name string) js.Value { return e.env.Get(name) }

// JS returns the env object itself.
func (e *Env) JS() js.Value { return e.env }

// WaitUntil runs f on a new goroutine and keeps the Worker alive until f
// returns (the runtime's ctx.waitUntil with a promise that resolves then),
// so that f can outlive the response: logging, cache refreshes, writes the
// client does not wait for. Call it before the handler returns. f's context
// is not the request's (that one ends with the response); it is cancelled
// when f returns. A panic in f is logged, not propagated.
func (e *Env) WaitUntil(f func(ctx context.Context)) {
	var resolve js.Value
	executor := js.FuncOf(func(this js.Value, args []js.Value) any {
		resolve = args[0]
		return nil
	})
	promise := js.Global().Get("Promise").New(executor)
	executor.Release()
	if err := call(func() { e.ctx.Call("waitUntil", promise) }); err != nil {
		logError("WaitUntil: ctx.waitUntil failed; running f without it: " + err.Error())
	}
	go func() {
		defer resolve.Invoke()
		defer func() {
			if p := recover(); p != nil {
				logError(fmt.Sprintf("panic in a WaitUntil function: %v\n%s", p, debug.Stack()))
			}
		}()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		f(ctx)
	}()
}

// Serve answers the Worker's requests with h, and never returns. It must run
// under the entry module of EntryModule (the forge-worker command writes
// it); elsewhere it reports that and exits with status 2.
func Serve(h Handler) {
	hook := js.Global().Get("__forgeWorkers")
	if h == nil || hook.Type() != js.TypeObject || hook.Get("serve").Type() != js.TypeFunction {
		if h == nil {
			fmt.Fprintln(os.Stderr, "forge/workers: Serve(nil)")
		} else {
			fmt.Fprintln(os.Stderr, "forge/workers: Serve must run inside a Worker, started by the entry module worker.mjs (build with: go run github.com/forge-orm/forge/edge/workers/cmd/forge-worker build -o DIR PKG)")
		}
		os.Exit(2)
	}
	handle := js.FuncOf(func(this js.Value, args []js.Value) any {
		// Runs inside the JavaScript call: decode, start a goroutine and
		// return at once, never waiting on anything here.
		if len(args) < 4 {
			logError("handle called with too few arguments")
			return nil
		}
		respond := args[3]
		req, err := decodeRequest(args[0])
		if err != nil {
			logError(err.Error())
			writeResponse(respond, &Response{Status: 400, Body: []byte("bad request\n")})
			return nil
		}
		env := &Env{env: args[1], ctx: args[2]}
		go serveOne(h, req, args[0].Get("signal"), env, respond)
		return nil
	})
	hook.Call("serve", handle)
	select {}
}

func serveOne(h Handler, req *Request, signal js.Value, env *Env, respond js.Value) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if signal.Type() == js.TypeObject && signal.Get("addEventListener").Type() == js.TypeFunction {
		if signal.Get("aborted").Bool() {
			cancel()
		}
		onAbort := js.FuncOf(func(js.Value, []js.Value) any {
			cancel()
			return nil
		})
		signal.Call("addEventListener", "abort", onAbort)
		defer func() {
			signal.Call("removeEventListener", "abort", onAbort)
			onAbort.Release()
		}()
	}
	res, err := run(ctx, h, req, env)
	if err != nil {
		logError(req.Method + " " + req.URL + ": " + err.Error())
		res = &Response{Status: 500, Header: fetch.Header{{Name: "content-type", Value: "text/plain; charset=utf-8"}}, Body: []byte("internal error\n")}
	}
	writeResponse(respond, res)
}

// panicError is what a panicking handler is reported as (in the log).
type panicError struct {
	Value any
	Stack []byte
}

func (e *panicError) Error() string {
	return fmt.Sprintf("panic: %v\n%s", e.Value, e.Stack)
}

func run(ctx context.Context, h Handler, req *Request, env *Env) (res *Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, &panicError{Value: p, Stack: debug.Stack()}
		}
	}()
	res, err = h(ctx, req, env)
	if err == nil && res == nil {
		res = &Response{Status: 204}
	}
	if err == nil {
		err = checkResponse(res)
	}
	return res, err
}

func decodeRequest(v js.Value) (req *Request, err error) {
	err = call(func() {
		req = &Request{Method: v.Get("method").String(), URL: v.Get("url").String()}
		if hs := v.Get("headers"); hs.Type() == js.TypeObject {
			n := hs.Length()
			req.Header = make(fetch.Header, 0, n/2)
			for i := 0; i+1 < n; i += 2 {
				req.Header = append(req.Header, fetch.Field{Name: hs.Index(i).String(), Value: hs.Index(i + 1).String()})
			}
		}
		if b := v.Get("body"); b.Type() == js.TypeObject {
			req.Body = make([]byte, b.Length())
			js.CopyBytesToGo(req.Body, b)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("reading the request: %w", err)
	}
	return req, nil
}

func writeResponse(respond js.Value, res *Response) {
	status := res.Status
	if status == 0 {
		status = 200
	}
	hdrs := make([]any, 0, 2*len(res.Header))
	for _, f := range res.Header {
		hdrs = append(hdrs, f.Name, f.Value)
	}
	body := js.Null()
	if len(res.Body) > 0 {
		body = js.Global().Get("Uint8Array").New(len(res.Body))
		js.CopyBytesToJS(body, res.Body)
	}
	if err := call(func() { respond.Invoke(status, js.ValueOf(hdrs), body) }); err != nil {
		logError("responding: " + err.Error())
	}
}

// call runs f and turns a JavaScript exception thrown inside it into an
// error.
func call(f func()) (err error) {
	defer func() {
		if p := recover(); p != nil {
			je, ok := p.(js.Error)
			if !ok {
				panic(p)
			}
			err = fmt.Errorf("JavaScript exception: %s", je.Error())
		}
	}()
	f()
	return nil
}

func logError(msg string) {
	js.Global().Get("console").Call("error", "forge/workers: "+msg)
}
