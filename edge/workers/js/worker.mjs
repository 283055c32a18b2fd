// The entry module of a Go Worker built with forge's edge/workers package.
//
// It imports Go's wasm_exec.js (which defines globalThis.Go) and the Go
// program compiled to WebAssembly (a CompiledWasm module), instantiates it at
// module scope, starts the Go program on the first request (workerd forbids,
// at module scope, what the Go runtime does when it starts), and hands every
// fetch event to it. One Go instance serves all the requests of the
// isolate; if it exits or crashes, the requests in flight get a 500 and the
// next request starts a new one.
//
// The protocol with Go (serve.go in package workers). Every JavaScript
// string or object handed to Go costs it a finalizer, so a request crosses
// as one string and the body:
//   - Go's workers.Serve calls globalThis.__forgeWorkers.serve(handle, abort).
//   - For each request, handle(id, head, body, env) with head =
//     method "\0" url ("\0" name "\0" value)* and body a Uint8Array or null.
//     It returns at once; Go runs the handler on a goroutine.
//   - ctx(id) returns the request's ExecutionContext (for waitUntil), until
//     the request is answered.
//   - abort(id) tells Go that the client went away.
//   - Go answers once with __forgeWorkers.respond(id, head, body), head =
//     status ("\0" name "\0" value)*, body a Uint8Array or null.
//   - __forgeWorkers.connect is connect() of cloudflare:sockets, for the Go
//     package edge/workers/sockets (TCP sockets, such as PostgreSQL's).
//   - hold(id) returns {post(fn), release()} for request id, or null once
//     it has ended: post(fn) runs fn (a Go function) soon, inside that
//     request's own JavaScript context (its "pump", a loop the request
//     started), and returns false once it has ended. workerd lets only the
//     request that made an I/O object (a socket) use it, while Go runs a
//     goroutine inside whichever request's callback happens to be running;
//     the pump puts each operation back in its owner. The request lasts
//     (ctx.waitUntil) until it is answered and every hold is released.
import { connect } from "cloudflare:sockets";
import "./wasm_exec.js";
import wasmModule from "./app.wasm";

let started = null; // Promise of the running instance's {handle, abort}
const pending = new Map(); // id -> {resolve, fail} of requests Go has not answered
const pumps = new Map(); // id -> the pump of each request that has not ended
let nextID = 1;

// newPump starts, in the calling request's context, the loop that runs the
// functions Go posts for that request (see hold above). It ends once the
// request is answered and holds no more.
function newPump(id) {
	const queue = [];
	let wake = null;
	let holds = 0;
	let answered = false;
	let ended = false;
	const ring = () => {
		if (wake !== null) {
			const w = wake;
			wake = null;
			w();
		}
	};
	const pump = {
		post(fn) {
			if (ended) return false;
			queue.push(fn);
			ring();
			return true;
		},
		hold() {
			if (ended) return null;
			holds++;
			let held = true;
			return {
				post: pump.post,
				release() {
					if (held) {
						held = false;
						holds--;
						ring();
					}
				},
			};
		},
		answered() {
			answered = true;
			ring();
		},
		kill() {
			answered = true;
			holds = 0;
			queue.length = 0;
			ring();
		},
	};
	pump.done = (async () => {
		for (;;) {
			while (queue.length > 0) {
				try {
					queue.shift()();
				} catch (err) {
					console.error("forge/workers: a posted function failed:", err);
				}
			}
			if (answered && holds === 0) break;
			await new Promise((resolve) => (wake = resolve));
		}
		ended = true;
		pumps.delete(id);
	})();
	pumps.set(id, pump);
	return pump;
}

function internalError(message) {
	return new Response(message, {
		status: 500,
		headers: { "content-type": "text/plain; charset=utf-8" },
	});
}

function respond(id, head, body) {
	const p = pending.get(id);
	if (p === undefined) return;
	let res;
	try {
		const parts = head.split("\0");
		const headers = new Headers();
		for (let i = 1; i + 1 < parts.length; i += 2) {
			headers.append(parts[i], parts[i + 1]);
		}
		res = new Response(body, { status: Number(parts[0]), headers });
	} catch (err) {
		p.fail(err);
		return;
	}
	p.resolve(res);
}

// A Go instance made ready at module scope, so that the first request does
// not wait for it: instantiating (allocating the memory, copying the data
// segments in) is allowed there, running Go is not. If that fails, the first
// request instantiates instead; an instance that exited is replaced on the
// next request the same way.
let spare = null;
try {
	const go = new Go();
	spare = { go, instance: Promise.resolve(new WebAssembly.Instance(wasmModule, go.importObject)) };
} catch {
	spare = null;
}

function startGo() {
	if (started !== null) {
		return started;
	}
	let fresh = spare;
	spare = null;
	if (fresh === null) {
		const go = new Go();
		fresh = { go, instance: WebAssembly.instantiate(wasmModule, go.importObject) };
	}
	const go = fresh.go;
	started = new Promise((resolve, reject) => {
		globalThis.__forgeWorkers = {
			serve: (handle, abort) => resolve({ handle, abort }),
			respond,
			ctx: (id) => pending.get(id)?.ctx,
			hold: (id) => pumps.get(id)?.hold() ?? null,
			connect,
		};
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
			for (const p of Array.from(pending.values())) {
				p.fail(err);
			}
			for (const p of Array.from(pumps.values())) {
				p.kill();
			}
		};
		fresh.instance.then(
			(instance) => {
				go.run(instance).catch(exited);
			},
			(err) => exited(err),
		);
	});
	return started;
}

export default {
	async fetch(request, env, ctx) {
		let go;
		try {
			go = await startGo();
		} catch (err) {
			console.error("forge/workers: the Go program did not start:", err);
			return internalError("internal error: the Go program did not start\n");
		}
		let head = request.method + "\0" + request.url;
		for (const [name, value] of request.headers) {
			head += "\0" + name + "\0" + value;
		}
		const body = request.body === null ? null : new Uint8Array(await request.arrayBuffer());
		const id = nextID++;
		const signal = request.signal;
		const onAbort = () => {
			try {
				go.abort(id);
			} catch {
				// the instance is gone: its requests have failed already
			}
		};
		const pump = newPump(id);
		ctx?.waitUntil?.(pump.done);
		return new Promise((resolve) => {
			const finish = (res) => {
				pending.delete(id);
				pump.answered();
				signal?.removeEventListener?.("abort", onAbort);
				resolve(res);
			};
			pending.set(id, {
				ctx,
				resolve: finish,
				fail: (err) => {
					console.error("forge/workers:", err);
					finish(internalError("internal error\n"));
				},
			});
			signal?.addEventListener?.("abort", onAbort);
			try {
				go.handle(id, head, body, env);
				if (signal?.aborted) onAbort();
			} catch (err) {
				pending.get(id)?.fail(err);
			}
		});
	},
};
