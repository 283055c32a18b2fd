// The Worker half of scripts/edge-bench: under the real workerd (Miniflare),
// times the Go Worker (examples/worker-d1, built by forge-worker into
// GO_DIST) against a plain JavaScript Worker running the same D1 query, each
// over its own D1 database holding the same 100 users, and against a Go
// Worker that links nothing of forge (edge/bench/hello, in HELLO_DIST:
// the Go runtime and the glue alone, answering without I/O).
//
//	FORGE_JS_DIR=.../js node edge-bench.mjs GO_DIST HELLO_DIST SCHEMA.sql [WARM_REQUESTS] [COLD_STARTS]
//
// Measures, from Node through mf.dispatchFetch (so all include the same
// loopback hop into workerd):
//   - first request: a fresh Miniflare (the isolate loaded, its module scope
//     run, Go not started), then GET /users?take=10 once; median, minimum
//     and maximum over COLD_STARTS fresh ones of each kind, interleaved;
//   - where the Go Worker's first request goes, from COLD_STARTS more fresh
//     ones traced by trace-entry.mjs (workerd's clock, which advances during
//     a request here): arrival to go.run, go.run to workers.Serve (the Go
//     runtime's start, package initialisation with main's schema build, and
//     main), and workers.Serve to the response (the handler: forge.Open,
//     the D1 query, the JSON);
//   - warm: after 50 requests of warm-up, WARM_REQUESTS requests of each,
//     interleaved one by one; median and 90th percentile.
// Prints tables, then one line "RESULT {json}" for scripts/edge-bench.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";

const require = createRequire(path.join(process.env.FORGE_JS_DIR, "package.json"));
const { Miniflare } = require("miniflare");
const here = path.dirname(fileURLToPath(import.meta.url));

const [goDist, helloDist, schemaFile, warmArg = "400", coldArg = "7"] = process.argv.slice(2);
const warmN = Number(warmArg), coldN = Number(coldArg);
const schema = readFileSync(schemaFile, "utf8").split(/;\s*\n/).map((s) => s.trim()).filter(Boolean);

// The SQL forge writes for Users.FindMany(OrderBy(ID, Asc), Take(10)).
const query = `SELECT "id", "email", "name", "created_at" FROM "users" ORDER BY "id" LIMIT 10`;
const jsWorker = `
export default {
	async fetch(request, env) {
		const url = new URL(request.url);
		if (url.pathname !== "/users") return new Response("not found", { status: 404 });
		const { results } = await env.DB.prepare(${JSON.stringify(query)}).all();
		return Response.json(results);
	},
};
`;

function goModules(dist, traced) {
	const dir = path.resolve(dist);
	const modules = [
		{ type: "ESModule", path: path.join(dir, "worker.mjs") },
		{ type: "ESModule", path: path.join(dir, "wasm_exec.js") },
		{ type: "CompiledWasm", path: path.join(dir, "app.wasm") },
	];
	if (traced) {
		// The entry module comes first; the tracing modules sit beside
		// worker.mjs, which they import.
		for (const name of ["trace-setup.mjs", "trace-entry.mjs"]) {
			modules.unshift({ type: "ESModule", path: path.join(dir, name), contents: readFileSync(path.join(here, name), "utf8") });
		}
	}
	return { modules, modulesRoot: dir };
}

function options(kind) {
	const common = { compatibilityDate: "2025-06-01", d1Databases: { DB: `bench-${kind}` } };
	switch (kind) {
	case "js":
		return { ...common, modules: true, script: jsWorker };
	case "hello":
		return { ...common, ...goModules(helloDist, false) };
	case "traced":
		return { ...common, ...goModules(goDist, true) };
	}
	return { ...common, ...goModules(goDist, false) };
}

async function start(kind) {
	const mf = new Miniflare(options(kind));
	await mf.ready;
	if (kind !== "hello") {
		const db = await mf.getD1Database("DB");
		for (const s of schema) await db.prepare(s).run();
		const ins = db.prepare(`INSERT INTO "users" ("email", "name", "created_at") VALUES (?, ?, ?)`);
		await db.batch(Array.from({ length: 100 }, (_, i) =>
			ins.bind(`user${i}@example.com`, `User ${i}`, `2026-01-01T00:00:${String(i % 60).padStart(2, "0")}.000000000Z`)));
	}
	return mf;
}

async function get(mf) {
	const t0 = performance.now();
	const res = await mf.dispatchFetch("http://bench.local/users?take=10");
	const body = await res.json();
	const ms = performance.now() - t0;
	if (res.status !== 200 || body.length !== 10 || body[0].id !== 1 || body[9].id !== 10) {
		throw new Error(`unexpected answer ${res.status}: ${JSON.stringify(body).slice(0, 200)}`);
	}
	return { ms, trace: res.headers.get("x-forge-trace") };
}

const quantile = (xs, q) => {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const median = (xs) => {
	const s = [...xs].sort((a, b) => a - b);
	const m = s.length >> 1;
	return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// First requests, the kinds interleaved.
const kinds = ["go", "js", "hello", "traced"];
const cold = { go: [], js: [], hello: [] };
const traces = [];
for (let i = 0; i < coldN; i++) {
	for (const kind of kinds) {
		const mf = await start(kind);
		const r = await get(mf);
		await mf.dispose();
		if (kind === "traced") traces.push(JSON.parse(r.trace));
		else cold[kind].push(r.ms);
	}
}

// Warm requests, interleaved one by one.
const warm = { go: [], js: [] };
const mfs = { go: await start("go"), js: await start("js") };
for (let i = 0; i < 50; i++) {
	await get(mfs.go);
	await get(mfs.js);
}
for (let i = 0; i < warmN; i++) {
	warm.go.push((await get(mfs.go)).ms);
	warm.js.push((await get(mfs.js)).ms);
}
await mfs.go.dispose();
await mfs.js.dispose();

// The traced first requests, phase by phase (medians).
const sumInits = (t, f) => t.inits.filter(f).reduce((a, x) => a + x.ms, 0);
const isForge = (x) => x.pkg.startsWith("github.com/forge-orm/forge");
const phases = {
	arrival_to_go_run: median(traces.map((t) => t.run - t.start)),
	go_run_to_serve: median(traces.map((t) => t.serve - t.run)),
	runtime_to_first_init: median(traces.map((t) => t.inits[0]?.at ?? 0)),
	inits_std: median(traces.map((t) => sumInits(t, (x) => !isForge(x) && x.pkg !== "main"))),
	inits_forge: median(traces.map((t) => sumInits(t, isForge))),
	init_main_schema: median(traces.map((t) => sumInits(t, (x) => x.pkg === "main"))),
	serve_to_response: median(traces.map((t) => t.end - t.serve)),
	total_in_worker: median(traces.map((t) => t.end - t.start)),
};

const r = {
	warm_median_ms: { go: median(warm.go), js: median(warm.js) },
	warm_p90_ms: { go: quantile(warm.go, 0.9), js: quantile(warm.js, 0.9) },
	first_request_median_ms: { go: median(cold.go), js: median(cold.js), hello: median(cold.hello) },
	first_request_all_ms: cold,
	first_request_phases_ms: phases,
	warm_requests: warmN,
	cold_starts: coldN,
};
r.warm_ratio = r.warm_median_ms.go / r.warm_median_ms.js;
r.first_ratio = r.first_request_median_ms.go / r.first_request_median_ms.js;
const f = (x) => x.toFixed(2).padStart(8);
const range = (xs) => `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}`;
console.log(`                         Go (forge + D1)   plain JS    ratio   Go hello (no forge, no I/O)`);
console.log(`warm median (ms)         ${f(r.warm_median_ms.go)}        ${f(r.warm_median_ms.js)}   ${r.warm_ratio.toFixed(2)}x`);
console.log(`warm p90 (ms)            ${f(r.warm_p90_ms.go)}        ${f(r.warm_p90_ms.js)}`);
console.log(`first request (ms)       ${f(r.first_request_median_ms.go)}        ${f(r.first_request_median_ms.js)}   ${r.first_ratio.toFixed(2)}x   ${f(r.first_request_median_ms.hello)}   (medians of ${coldN} fresh isolates)`);
console.log(`  range (ms)             ${range(cold.go).padStart(12)}    ${range(cold.js).padStart(12)}           ${range(cold.hello).padStart(12)}`);
console.log("");
console.log(`the Go Worker's first request inside workerd (medians of ${coldN} traced fresh isolates; workerd's clock, ~1 ms steps):`);
console.log(`  arrival -> go.run (glue; the instance was made at module scope)   ${f(phases.arrival_to_go_run)} ms`);
console.log(`  go.run -> workers.Serve (Go runtime start, inits, main)           ${f(phases.go_run_to_serve)} ms`);
console.log(`    runtime start to the first package init                         ${f(phases.runtime_to_first_init)} ms`);
console.log(`    package inits: standard library                                 ${f(phases.inits_std)} ms`);
console.log(`    package inits: forge packages                                   ${f(phases.inits_forge)} ms`);
console.log(`    package init of main (the schema build: forge.Model, MustSchema) ${f(phases.init_main_schema)} ms`);
console.log(`  workers.Serve -> response (the handler: Open, the D1 query, JSON) ${f(phases.serve_to_response)} ms`);
console.log(`  total inside the Worker                                           ${f(phases.total_in_worker)} ms`);
console.log("RESULT " + JSON.stringify(r));
