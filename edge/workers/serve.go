//go:build js && wasm

package workers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall/js"

	"github.com/forge-orm/forge/fetch"
	"github.com/forge-orm/forge/fetch/jsfetch"
)

// Handler answers one request. ctx is cancelled when the request ends. A
// returned error becomes a 500 response with a generic body (the error is
// logged with console.error); a nil Response with a nil error is a 204.
type Handler func(ctx context.Context, req *Request, env *Env) (*Response, error)

// Env is the Worker's environment for one request: its vars, secrets and
// bindings, and the execution context behind WaitUntil.
type Env struct {
	env js.Value
	id  int // the request's id with the entry module
	s   *server
	ctx struct {
		sync.Once
		v js.Value // the ExecutionContext, fetched when WaitUntil needs it
	}
}

// execCtx returns the request's ExecutionContext (undefined once the
// request has been answered).
func (e *Env) execCtx() js.Value {
	e.ctx.Do(func() {
		e.ctx.v = js.Undefined()
		if e.s != nil {
			_ = call(func() { e.ctx.v = e.s.hook.Call("ctx", e.id) })
		}
	})
	return e.ctx.v
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
// when f returns, and, like the request's, works with HoldIO. A panic in f
// is logged, not propagated.
func (e *Env) WaitUntil(f func(ctx context.Context)) {
	held := e.hold()
	var resolve js.Value
	executor := js.FuncOf(func(this js.Value, args []js.Value) any {
		resolve = args[0]
		return nil
	})
	promise := js.Global().Get("Promise").New(executor)
	executor.Release()
	ctx := e.execCtx()
	if ctx.Type() != js.TypeObject {
		logError("WaitUntil after the response: f runs without ctx.waitUntil, and may be cut short")
	} else if err := call(func() { ctx.Call("waitUntil", promise) }); err != nil {
		logError("WaitUntil: ctx.waitUntil failed; running f without it: " + err.Error())
	}
	go func() {
		defer resolve.Invoke()
		if held != nil {
			defer held.Release()
		}
		defer func() {
			if p := recover(); p != nil {
				logError(fmt.Sprintf("panic in a WaitUntil function: %v\n%s", p, debug.Stack()))
			}
		}()
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), envKey{}, e))
		defer cancel()
		f(ctx)
	}()
}

// envKey is the context key of a request's *Env.
type envKey struct{}

// ErrNoRequest is HoldIO's error for a context that is not a request's.
var ErrNoRequest = errors.New("forge/workers: the context does not come from a request served by workers.Serve (a Handler's or a WaitUntil function's)")

// RequestIO runs the JavaScript calls that touch a request's I/O objects
// (sockets, streams) inside that request. workerd lets only the request
// that created an I/O object use it, while the Go runtime runs a goroutine
// inside whichever request's callback is running at the time; RequestIO
// hands each call to the request it belongs to. Package sockets uses it;
// code that keeps its own I/O objects across JavaScript calls can too.
type RequestIO struct {
	h    js.Value // {post, release} from the entry module
	once sync.Once
}

// HoldIO returns the RequestIO of the request ctx belongs to (a Handler's
// or a WaitUntil function's context), and keeps the request alive, after
// its response if need be, until Release. It returns ErrNoRequest for
// another context, and an error once the request has ended.
func HoldIO(ctx context.Context) (*RequestIO, error) {
	e, _ := ctx.Value(envKey{}).(*Env)
	if e == nil {
		return nil, ErrNoRequest
	}
	r := e.hold()
	if r == nil {
		return nil, errRequestEnded
	}
	return r, nil
}

var errRequestEnded = errors.New("forge/workers: the request has ended (answered, with nothing left running in WaitUntil): its I/O is closed")

// hold takes a hold on the request's pump (see worker.mjs); nil once the
// request has ended.
func (e *Env) hold() *RequestIO {
	if e.s == nil {
		return nil
	}
	h := js.Null()
	if err := call(func() { h = e.s.hook.Call("hold", e.id) }); err != nil || h.Type() != js.TypeObject {
		return nil
	}
	return &RequestIO{h: h}
}

// Run runs f soon, inside the request's JavaScript context; calls run in
// the order given. f must not block (call JavaScript and return: deliver
// results through channels). Run returns an error, and f does not run,
// once the request has ended or after Release.
func (r *RequestIO) Run(f func()) error {
	var fn js.Func
	fn = js.FuncOf(func(js.Value, []js.Value) any {
		fn.Release()
		f()
		return nil
	})
	posted := false
	if err := call(func() { posted = r.h.Call("post", fn).Truthy() }); err != nil || !posted {
		fn.Release()
		return errRequestEnded
	}
	return nil
}

// await runs start (which returns a promise) inside the request, and
// waits for the promise, or for ctx to end.
func (r *RequestIO) await(ctx context.Context, start func() js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	err := r.Run(func() {
		var p js.Value
		if err := call(func() { p = start() }); err != nil {
			ch <- result{err: err}
			return
		}
		var ok, fail js.Func
		ok = js.FuncOf(func(this js.Value, args []js.Value) any {
			v := js.Undefined()
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
				if m := args[0].Get("message"); args[0].Type() == js.TypeObject && m.Type() == js.TypeString {
					msg = m.String()
				} else {
					msg = js.Global().Get("String").Invoke(args[0]).String()
				}
			}
			ch <- result{err: &jsfetch.JSError{Message: msg}}
			ok.Release()
			fail.Release()
			return nil
		})
		if err := call(func() { p.Call("then", ok, fail) }); err != nil {
			ok.Release()
			fail.Release()
			ch <- result{err: err}
		}
	})
	if err != nil {
		return js.Undefined(), err
	}
	select {
	case res := <-ch:
		return res.v, res.err
	case <-ctx.Done():
		return js.Undefined(), ctx.Err()
	}
}

// Release lets the request end (once it is answered and nothing else holds
// it). Calls posted with Run before Release still run. Releasing twice
// does nothing.
func (r *RequestIO) Release() {
	r.once.Do(func() { _ = call(func() { r.h.Call("release") }) })
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
	s := &server{h: h, hook: hook, respond: hook.Get("respond"), cancels: map[int]context.CancelFunc{}}
	// handle(id, head, body, env) runs inside the JavaScript call:
	// it decodes, starts a goroutine and returns at once, never waiting on
	// anything here (that would deadlock the event loop).
	handle := js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) < 4 {
			logError("handle called with too few arguments")
			return nil
		}
		id := args[0].Int()
		req, err := decodeRequest(args[1].String(), args[2])
		if err != nil {
			logError(err.Error())
			s.write(id, &Response{Status: 400, Body: []byte("bad request\n")})
			return nil
		}
		env := &Env{env: args[3], id: id, s: s}
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), envKey{}, env))
		s.mu.Lock()
		s.cancels[id] = cancel
		s.mu.Unlock()
		go s.serve(ctx, id, req, env)
		return nil
	})
	abort := js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) > 0 {
			s.cancel(args[0].Int())
		}
		return nil
	})
	hook.Call("serve", handle, abort)
	select {}
}

// server is the state of Serve.
type server struct {
	h       Handler
	hook    js.Value // globalThis.__forgeWorkers
	respond js.Value
	mu      sync.Mutex
	cancels map[int]context.CancelFunc // of the requests being served
}

func (s *server) cancel(id int) {
	s.mu.Lock()
	cancel := s.cancels[id]
	delete(s.cancels, id)
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func (s *server) serve(ctx context.Context, id int, req *Request, env *Env) {
	defer s.cancel(id)
	res, err := run(ctx, s.h, req, env)
	if err != nil {
		logError(req.Method + " " + req.URL + ": " + err.Error())
		res = &Response{Status: 500, Header: fetch.Header{{Name: "content-type", Value: "text/plain; charset=utf-8"}}, Body: []byte("internal error\n")}
	}
	s.write(id, res)
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

// decodeRequest reads head (method NUL url (NUL name NUL value)*) and the
// body (a Uint8Array or null).
func decodeRequest(head string, body js.Value) (*Request, error) {
	method, rest, ok := strings.Cut(head, "\x00")
	if !ok {
		return nil, errors.New("reading the request: no URL")
	}
	req := &Request{Method: method}
	req.URL, rest, ok = strings.Cut(rest, "\x00")
	for ok {
		var f fetch.Field
		f.Name, rest, _ = strings.Cut(rest, "\x00")
		f.Value, rest, ok = strings.Cut(rest, "\x00")
		req.Header = append(req.Header, f)
	}
	if body.Type() == js.TypeObject {
		req.Body = make([]byte, body.Length())
		js.CopyBytesToGo(req.Body, body)
	}
	return req, nil
}

// write hands res to the entry module: head is status (NUL name NUL
// value)*, one string.
func (s *server) write(id int, res *Response) {
	status := res.Status
	if status == 0 {
		status = 200
	}
	head := make([]byte, 0, 64)
	head = strconv.AppendInt(head, int64(status), 10)
	for _, f := range res.Header {
		if strings.IndexByte(f.Name, 0) >= 0 || strings.IndexByte(f.Value, 0) >= 0 {
			logError("dropped a response header holding a NUL byte: " + strconv.Quote(f.Name))
			continue
		}
		head = append(head, 0)
		head = append(head, f.Name...)
		head = append(head, 0)
		head = append(head, f.Value...)
	}
	body := js.Null()
	if len(res.Body) > 0 {
		body = jsUint8Array.New(len(res.Body))
		js.CopyBytesToJS(body, res.Body)
	}
	if err := call(func() { s.respond.Invoke(id, string(head), body) }); err != nil {
		logError("responding: " + err.Error())
	}
}

var jsUint8Array = js.Global().Get("Uint8Array")

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
