// The entry module of a Go Worker built with forge's edge/workers package.
//
// It imports Go's wasm_exec.js (which defines globalThis.Go) and the Go
// program compiled to WebAssembly (a CompiledWasm module), starts the Go
// instance lazily on the first request (workerd forbids, at module scope,
// what the Go runtime does when it starts), and hands every fetch event to
// it. One Go instance serves all the requests of the isolate; if it exits or
// crashes, the requests in flight get a 500 and the next request starts a
// new one.
//
// The protocol with Go (see serve.go in package workers): Go's workers.Serve
// calls globalThis.__forgeWorkers.serve(handle); handle(req, env, ctx,
// respond) returns at once, and Go later calls respond(status, headers,
// body) exactly once, where headers is a flat [name, value, ...] array and
// body a Uint8Array or null.
import "./wasm_exec.js";
import wasmModule from "./app.wasm";

let started = null; // Promise of the running instance's handle function
const inflight = new Set(); // fail callbacks of requests Go has not answered

function startGo() {
	if (started !== null) {
		return started;
	}
	const go = new Go();
	started = new Promise((resolve, reject) => {
		globalThis.__forgeWorkers = { serve: resolve };
		// Go calls go.exit synchronously when the program ends: when main
		// returns, on os.Exit, and on a fatal error or an unrecovered panic.
		// The promise go.run returns would also settle then, but it was
		// created by the request that started Go, and workerd drops
		// continuations of a promise settled from another request once its
		// creator has completed. So exits are handled here, and that promise
		// is left alone.
		const exit = go.exit;
		go.exit = (code) => {
			exit.call(go, code);
			exited(new Error(`the Go program exited (code ${code})`));
		};
		go._resolveExitPromise = () => {};
		const exited = (err) => {
			started = null;
			reject(new Error(`${err.message} before calling workers.Serve`)); // no effect once Serve was called
			for (const fail of Array.from(inflight)) {
				fail(err);
			}
		};
		WebAssembly.instantiate(wasmModule, go.importObject).then(
			(instance) => {
				go.run(instance).catch(exited);
			},
			(err) => exited(err),
		);
	});
	return started;
}

function internalError(message) {
	return new Response(message, {
		status: 500,
		headers: { "content-type": "text/plain; charset=utf-8" },
	});
}

export default {
	async fetch(request, env, ctx) {
		let handle;
		try {
			handle = await startGo();
		} catch (err) {
			console.error("forge/workers: the Go program did not start:", err);
			return internalError("internal error: the Go program did not start\n");
		}
		const headers = [];
		for (const [name, value] of request.headers) {
			headers.push(name, value);
		}
		const body = request.body === null ? null : new Uint8Array(await request.arrayBuffer());
		const req = { method: request.method, url: request.url, headers, body, signal: request.signal };
		return new Promise((resolve) => {
			let done = false;
			const fail = (err) => {
				if (done) return;
				done = true;
				inflight.delete(fail);
				console.error("forge/workers:", err);
				resolve(internalError("internal error\n"));
			};
			const respond = (status, hdrs, out) => {
				if (done) return;
				let res;
				try {
					const h = new Headers();
					for (let i = 0; i + 1 < hdrs.length; i += 2) {
						h.append(hdrs[i], hdrs[i + 1]);
					}
					res = new Response(out, { status, headers: h });
				} catch (err) {
					fail(err);
					return;
				}
				done = true;
				inflight.delete(fail);
				resolve(res);
			};
			inflight.add(fail);
			try {
				handle(req, env, ctx, respond);
			} catch (err) {
				fail(err);
			}
		});
	},
};
