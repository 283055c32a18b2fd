// The Worker half of scripts/edge-bench: under the real workerd (Miniflare),
// times the Go Worker (examples/worker-d1, built by forge-worker into
// GO_DIST) against a plain JavaScript Worker running the same D1 query,
// each over its own D1 database holding the same 100 users.
//
//	FORGE_JS_DIR=.../js node edge-bench.mjs GO_DIST SCHEMA.sql [WARM_REQUESTS] [COLD_STARTS]
//
// Measures, from Node through mf.dispatchFetch (so both include the same
// loopback hop into workerd):
//   - first request: a fresh Miniflare (isolate loaded, Go not yet started),
//     then GET /users?take=10 once; the median over COLD_STARTS fresh ones;
//   - warm: after 50 requests of warm-up, WARM_REQUESTS requests of each,
//     interleaved one by one; median and 90th percentile.
// Prints a table, then one line "RESULT {json}" for scripts/edge-bench.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";

const require = createRequire(path.join(process.env.FORGE_JS_DIR, "package.json"));
const { Miniflare } = require("miniflare");

const [goDist, schemaFile, warmArg = "400", coldArg = "7"] = process.argv.slice(2);
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

function options(kind) {
	const common = { compatibilityDate: "2025-06-01", d1Databases: { DB: `bench-${kind}` } };
	if (kind === "js") {
		return { ...common, modules: true, script: jsWorker };
	}
	const dir = path.resolve(goDist);
	return {
		...common,
		modules: [
			{ type: "ESModule", path: path.join(dir, "worker.mjs") },
			{ type: "ESModule", path: path.join(dir, "wasm_exec.js") },
			{ type: "CompiledWasm", path: path.join(dir, "app.wasm") },
		],
		modulesRoot: dir,
	};
}

async function start(kind) {
	const mf = new Miniflare(options(kind));
	await mf.ready;
	const db = await mf.getD1Database("DB");
	for (const s of schema) await db.prepare(s).run();
	const ins = db.prepare(`INSERT INTO "users" ("email", "name", "created_at") VALUES (?, ?, ?)`);
	await db.batch(Array.from({ length: 100 }, (_, i) =>
		ins.bind(`user${i}@example.com`, `User ${i}`, `2026-01-01T00:00:${String(i % 60).padStart(2, "0")}.000000000Z`)));
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
	return ms;
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

// First requests, alternating Go and JS.
const cold = { go: [], js: [] };
for (let i = 0; i < coldN; i++) {
	for (const kind of ["go", "js"]) {
		const mf = await start(kind);
		cold[kind].push(await get(mf));
		await mf.dispose();
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
	warm.go.push(await get(mfs.go));
	warm.js.push(await get(mfs.js));
}
await mfs.go.dispose();
await mfs.js.dispose();

const r = {
	warm_median_ms: { go: median(warm.go), js: median(warm.js) },
	warm_p90_ms: { go: quantile(warm.go, 0.9), js: quantile(warm.js, 0.9) },
	first_request_median_ms: { go: median(cold.go), js: median(cold.js) },
	first_request_all_ms: cold,
	warm_requests: warmN,
	cold_starts: coldN,
};
r.warm_ratio = r.warm_median_ms.go / r.warm_median_ms.js;
const f = (x) => x.toFixed(2).padStart(8);
console.log(`                         Go (forge + D1)   plain JS    ratio`);
console.log(`warm median (ms)         ${f(r.warm_median_ms.go)}        ${f(r.warm_median_ms.js)}   ${r.warm_ratio.toFixed(2)}x`);
console.log(`warm p90 (ms)            ${f(r.warm_p90_ms.go)}        ${f(r.warm_p90_ms.js)}`);
console.log(`first request (ms)       ${f(r.first_request_median_ms.go)}        ${f(r.first_request_median_ms.js)}   (median of ${coldN} fresh isolates)`);
console.log("RESULT " + JSON.stringify(r));
