// The Node half of scripts/edge-bench's breakdown: runs the Go Worker's wasm
// (GO_DIST/app.wasm) under Node with the same protocol as the entry module
// and a D1 binding that answers from memory, so that what is timed is the
// Go side alone, and reports where its first request goes:
//
//	node breakdown.mjs GO_DIST NAMES.wasm [RUNS]
//
//   - compile (WebAssembly.compile: V8 validates and compiles lazily, as
//     workerd does), instantiate, go.run to workers.Serve, the first
//     request, the second one (medians of RUNS fresh processes);
//   - the WebAssembly function bodies V8 compiled before the first response
//     (V8 compiles each function the first time it runs: the cost that
//     grows with what a program links and runs at start), by package group.
//     before workers.Serve and during the first request. NAMES.wasm is the
//     same program built without -s, for function names.
//
// Each run is a child process started with V8's
// --trace-wasm-compilation-times. Prints a table and "BREAKDOWN {json}".
// (Function bodies are counted once each: V8 compiles a function lazily the
// first time it runs, with Liftoff, then may recompile it with TurboFan in
// the background; only the first compile is on the request's path.)
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";

const [dist, namesWasm, runsArg = "5"] = process.argv.slice(2);

if (process.env.FORGE_BREAKDOWN_CHILD) {
	await child();
} else {
	parent();
}

// child runs the Worker once: two requests, timed, on stdout as JSON.
async function child() {
	await import(path.resolve(dist, "wasm_exec.js"));
	const cols = ["id", "email", "name", "created_at"];
	const rows = Array.from({ length: 10 }, (_, i) => [i + 1, `user${i}@example.com`, `User ${i}`, "2026-01-01T00:00:00.000000000Z"]);
	const stmt = {
		bind: () => stmt,
		raw: () => Promise.resolve([cols, ...rows]),
		all: () => Promise.resolve({ results: [] }),
		run: () => Promise.resolve({ meta: {} }),
	};
	const env = { DB: { prepare: () => stmt, batch: () => Promise.resolve([]) } };
	const t = {};
	let last = performance.now();
	const lap = (k) => {
		const now = performance.now();
		t[k] = now - last;
		last = now;
	};
	const bytes = readFileSync(path.resolve(dist, "app.wasm"));
	last = performance.now();
	const mod = await WebAssembly.compile(bytes);
	lap("compile");
	const go = new Go();
	const inst = await WebAssembly.instantiate(mod, go.importObject);
	lap("instantiate");
	const pending = new Map();
	const served = new Promise((resolve) => {
		globalThis.__forgeWorkers = {
			serve: (handle) => resolve(handle),
			respond: (id, head) => pending.get(id)(head),
			ctx: () => undefined,
		};
	});
	go.run(inst);
	const handle = await served;
	lap("run_to_serve");
	const stop = process.env.FORGE_BREAKDOWN_STOP;
	if (stop === "serve") process.exit(0);
	let id = 1;
	const req = () => new Promise((resolve) => {
		const i = id++;
		pending.set(i, resolve);
		handle(i, "GET\0http://bench.local/users?take=10", null, env);
	});
	const head = await req();
	lap("first_request");
	if (!head.startsWith("200")) throw new Error("the first request answered " + head);
	if (stop === "first") process.exit(0);
	await req();
	lap("second_request");
	process.stderr.write("TIMES " + JSON.stringify(t) + "\n");
	process.exit(0);
}

function parent() {
	const names = functionNames(readFileSync(namesWasm));
	// V8 buffers its trace (standard output) apart from what Node writes,
	// so the compiled functions are counted from runs that stop at a point:
	// at workers.Serve, and after the first response. Timings come from
	// full runs, on standard error.
	const child = (stop) => {
		const r = spawnSync(process.execPath, ["--trace-wasm-compilation-times", fileURLToPath(import.meta.url), dist, namesWasm], {
			env: { ...process.env, FORGE_BREAKDOWN_CHILD: "1", FORGE_BREAKDOWN_STOP: stop },
			maxBuffer: 64 << 20,
			encoding: "utf8",
		});
		if (r.status !== 0) throw new Error(`the child failed (status ${r.status}):\n${r.stderr.slice(-2000)}`);
		return r;
	};
	const atServe = compiledIn(child("serve").stdout);
	const atFirst = compiledIn(child("first").stdout);
	const compiled = tally(atFirst, names);
	compiled.before_serve = tally(atServe, names);
	compiled.first_request = tally(new Map([...atFirst].filter(([i]) => !atServe.has(i))), names);
	const runs = [];
	for (let i = 0; i < Number(runsArg); i++) {
		const times = /^TIMES (.*)$/m.exec(child("").stderr);
		if (!times) throw new Error("no timings from the child");
		runs.push(JSON.parse(times[1]));
	}
	const median = (xs) => {
		const s = [...xs].sort((a, b) => a - b);
		const m = s.length >> 1;
		return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
	};
	const times = {};
	for (const k of Object.keys(runs[0])) times[k] = median(runs.map((r) => r[k]));
	const f = (x) => x.toFixed(2).padStart(8);
	console.log(`the Go side alone under Node ${process.version} (V8 compiles wasm lazily, as workerd does; a D1 stub answers from memory; medians of ${runs.length} processes):`);
	console.log(`  compile the module (validation; functions compile on first call)  ${f(times.compile)} ms`);
	console.log(`  instantiate                                                       ${f(times.instantiate)} ms`);
	console.log(`  go.run -> workers.Serve (runtime start, inits, schema build)      ${f(times.run_to_serve)} ms`);
	console.log(`  first request (Open, FindMany, scan, JSON: no I/O)                ${f(times.first_request)} ms`);
	console.log(`  second request                                                    ${f(times.second_request)} ms`);
	console.log(`WebAssembly compiled lazily before the first response: ${compiled.functions} functions, ${compiled.bytes.toLocaleString("en")} bytes of function bodies`);
	console.log(`  (${compiled.before_serve.bytes.toLocaleString("en")} bytes before workers.Serve, ${compiled.first_request.bytes.toLocaleString("en")} during the first request; by package group:)`);
	for (const [group, v] of Object.entries(compiled.groups).sort((a, b) => b[1].bytes - a[1].bytes)) {
		console.log(`  ${group.padEnd(40)} ${String(v.functions).padStart(5)} functions ${v.bytes.toLocaleString("en").padStart(10)} bytes`);
	}
	console.log("BREAKDOWN " + JSON.stringify({ node_ms: times, compiled }));
}

// compiledIn reads V8's trace ("Compiled function ...#INDEX using Liftoff,
// ... bodysize N"): function index -> body size.
function compiledIn(out) {
	const m = new Map();
	for (const x of out.matchAll(/#(\d+) using Liftoff, took [^;\n]*; bodysize (\d+)/g)) {
		m.set(Number(x[1]), Number(x[2]));
	}
	if (m.size === 0) throw new Error("V8 reported no Liftoff compilation: is --trace-wasm-compilation-times supported by this node?");
	return m;
}

// tally sums function bodies by package group.
function tally(fns, names) {
	const r = { functions: 0, bytes: 0, groups: {} };
	for (const [i, n] of fns) {
		const g = group(names.get(i) ?? "?");
		r.functions++;
		r.bytes += n;
		r.groups[g] ??= { functions: 0, bytes: 0 };
		r.groups[g].functions++;
		r.groups[g].bytes += n;
	}
	return r;
}

// group names a function's package group (names in Go's wasm name section
// read like "github.com_forge_orm_forge_d1.(*Conn).Query").
function group(name) {
	if (name.startsWith("github.com_forge_orm_forge")) {
		const pkg = name.slice(0, name.indexOf(".", "github.com_forge_orm_forge".length));
		return pkg === "github.com_forge_orm_forge" ? "forge" : "forge/" + pkg.slice("github.com_forge_orm_forge_".length);
	}
	if (name.startsWith("main.")) return "main (the Worker)";
	if (/^(runtime|internal_runtime|internal_abi|internal_cpu|internal_bytealg|internal_chacha8rand|internal_godebug|internal_bisect|sync|internal_sync)[._]/.test(name)) {
		return "Go runtime, sync, godebug";
	}
	if (/^(syscall|syscall_js|os|internal_poll|io_fs|context|time)[._]/.test(name)) return "syscall/js, os, context, time";
	return "other Go packages";
}

// functionNames reads the "name" custom section of a wasm module: function
// index -> name.
function functionNames(buf) {
	const names = new Map();
	let p = 8;
	const uleb = () => {
		let r = 0, s = 0, b;
		do {
			b = buf[p++];
			r += (b & 0x7f) * 2 ** s;
			s += 7;
		} while (b & 0x80);
		return r;
	};
	const dec = new TextDecoder();
	while (p < buf.length) {
		const id = buf[p++];
		const size = uleb();
		const end = p + size;
		if (id === 0) {
			const n = uleb();
			const secName = dec.decode(buf.subarray(p, p + n));
			p += n;
			if (secName === "name") {
				while (p < end) {
					const sub = buf[p++];
					const subSize = uleb();
					const subEnd = p + subSize;
					if (sub === 1) {
						const count = uleb();
						for (let i = 0; i < count; i++) {
							const idx = uleb();
							const len = uleb();
							names.set(idx, dec.decode(buf.subarray(p, p + len)));
							p += len;
						}
					}
					p = subEnd;
				}
			}
		}
		p = end;
	}
	if (names.size === 0) throw new Error(`${namesWasm} has no name section: build it without -ldflags=-s`);
	return names;
}
