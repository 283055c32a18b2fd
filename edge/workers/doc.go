// Package workers runs a Go program as a Cloudflare Worker: the Go code is
// compiled to WebAssembly (GOOS=js GOARCH=wasm) and answers the Worker's
// fetch events through a small Request/Response API that does not link
// net/http (which would add about 7 MB to the binary).
//
//	func main() {
//		workers.Serve(func(ctx context.Context, req *workers.Request, env *workers.Env) (*workers.Response, error) {
//			conn, err := d1.FromEnv(env, "DB")
//			if err != nil {
//				return nil, err
//			}
//			db, err := forge.Open(Schema, conn)
//			...
//			return workers.JSON(200, users)
//		})
//	}
//
// Build a deployable folder (the wasm, Go's wasm_exec.js, the JavaScript
// entry module and a wrangler.toml template) with
//
//	go run github.com/forge-orm/forge/edge/workers/cmd/forge-worker build -o dist ./cmd/myworker
//
// # How a request travels
//
// The entry module (js/worker.mjs, returned by [EntryModule]) instantiates
// the Go program at module scope and runs it on the first request (workerd
// forbids what the Go runtime does at start-up, such as asking for random
// bytes, at module scope) and keeps it for the isolate's life: one Go instance serves every request of
// the isolate, concurrently. For each request the entry module calls into Go
// with the method, URL and headers packed in one string, the body and the
// env; Go runs the Handler on a new goroutine and returns at once, so the
// JavaScript event loop never waits inside a Go callback (awaiting a promise
// there would deadlock). The handler's response, or a 500 when it fails, goes
// back the same way: status and headers in one string, and the body. (Every
// JavaScript string or object a Go program holds costs it a finalizer, which
// measured tens of microseconds each in a Worker, so the glue passes few.)
//
//   - A panic in a handler becomes a 500 response (the panic and its stack
//     go to console.error); the instance keeps serving.
//   - A handler's error becomes a 500 response with a generic body; the
//     error goes to console.error. Return a Response to control the status.
//   - The request's context is cancelled when the handler returns, and when
//     the runtime signals that the client went away (request.signal, which
//     workerd fires only with the compatibility flag enable_request_signal;
//     Miniflare's dispatchFetch does not pass a client's abort on, so this
//     path is not covered by the tests here).
//   - [Env.WaitUntil] runs work after the response, kept alive by the
//     runtime's ctx.waitUntil.
//   - If the Go program exits or crashes (a fatal runtime error, a panic on
//     a goroutine the handler started), the requests in flight get a 500 and
//     the next request starts a fresh instance.
//
// # Bindings and a request's I/O
//
// Env.Var and Env.Binding read the environment; Env.KV is a Workers KV
// namespace (Get, Put with an expiration, Delete, List), Env.Cache the
// Cache API's caches.default (Match, Put, Delete), and
// Env.AnalyticsEngine an Analytics Engine dataset (WriteDataPoint; its doc
// shows a query duration histogram fed by forge's query events). Package
// edge/workers/sockets opens TCP sockets (the runtime's connect() as a
// net.Conn), and the hyperdrive module reaches PostgreSQL through them.
//
// workerd lets only the request that created an I/O object (a socket, a
// pending KV call) use it, while the Go runtime runs a goroutine inside
// whichever request's callback happens to be running. So the entry module
// runs a small loop in each request, and HoldIO(ctx) returns a RequestIO
// whose Run executes JavaScript calls in the request of ctx (a Handler's
// or a WaitUntil function's context); the request lasts until it is
// answered and every hold is released. KV (from Env.KV), Cache,
// AnalyticsEngine and sockets use it; use it for other I/O objects kept
// across calls.
//
// # Vercel Edge Functions
//
// The same program runs as a Vercel Edge Function:
//
//	go run github.com/forge-orm/forge/edge/workers/cmd/forge-worker build -target vercel -o . ./cmd/api
//
// writes the Build Output API layout (.vercel/output/functions/api.func/)
// with [VercelEntryModule], which is this glue in Vercel's handler shape,
// the wasm imported pre-compiled ("./app.wasm?module": Vercel refuses to
// compile WebAssembly from bytes at run time). There, Env.Var reads
// process.env, Env.WaitUntil uses the handler context's waitUntil, and
// there are no bindings. The command checks the gzipped size against
// Vercel's caps ([SizeCaps]).
//
// # Platforms
//
// Serve, Handler, Env, KV, Cache, AnalyticsEngine, HoldIO and RequestIO
// exist only in js/wasm builds. Request, Response, JSON, LeanJSON,
// ParseJSON, Text, EntryModule, VercelEntryModule and SizeCaps compile
// everywhere, so handler helpers can be unit-tested with a plain go test.
//
// # Size and start time
//
// A Worker's first request in a fresh isolate waits for the Go runtime to
// start and for V8 to compile every function it runs for the first time, so
// both grow with what the program links and runs. JSON uses encoding/json
// (about 120 KB gzipped, and reflection-heavy code on the first response);
// LeanJSON, AppendJSON, AppendJSONString and ParseJSON read and write JSON
// without reflection, for values built of maps, slices and basic types, or
// types with an AppendJSON method. forge itself links encoding/json only
// when a model declares a JSON field. examples/worker-d1 shows a Worker
// without it; scripts/edge-bench measures the size and where the first
// request's time goes.
//
// # Gotchas of workerd worth knowing
//
// time.Now() does not advance while a request runs (only across I/O), so do
// not derive unique values from the clock alone; forge's text ids use
// crypto.getRandomValues. A Worker's CPU budget is small: keep per-request work (such as
// forge.Open, a few microseconds) cheap and build schemas at package level.
package workers
