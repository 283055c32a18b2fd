// The Hyperdrive half of scripts/edge-bench: under the real workerd
// (Miniflare), the first request of a fresh isolate and warm requests of the
// Hyperdrive Worker (examples/worker-hyperdrive, built into HD_DIST: PostgreSQL
// through a Hyperdrive binding, one connection per request, KV cache) beside
// the D1 Worker (examples/worker-d1, in D1_DIST).
//
//	FORGE_JS_DIR=.../js node hyperdrive-bench.mjs D1_DIST D1_SCHEMA.sql HD_DIST HD_URL [WARM_REQUESTS] [COLD_STARTS]
//
// HD_URL is a postgres:// URL (with a password, which Miniflare wants) of a
// role whose own schema holds the example's tables. Measured from Node
// through mf.dispatchFetch:
//   - first request: a fresh Miniflare, then one GET (D1: /users?take=10,
//     100 users; Hyperdrive: /orders, the 20 latest of 100 orders, a cache
//     miss: KV is empty in a fresh Miniflare, so the request connects to
//     PostgreSQL); median, minimum and maximum over COLD_STARTS of each,
//     interleaved;
//   - warm: WARM_REQUESTS requests of each after 20 of warm-up; for
//     Hyperdrive each one a miss (the KV entry deleted before it), so each
//     opens its own connection, as every request of a Worker does.
// Prints a table, then one line "HYPERDRIVE {json}".
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";

const require = createRequire(path.join(process.env.FORGE_JS_DIR, "package.json"));
const { Miniflare } = require("miniflare");

const [d1Dist, d1SchemaFile, hdDist, hdURL, warmArg = "100", coldArg = "7"] = process.argv.slice(2);
const warmN = Number(warmArg), coldN = Number(coldArg);
const d1Schema = readFileSync(d1SchemaFile, "utf8").split(/;\s*\n/).map((s) => s.trim()).filter(Boolean);

function goModules(dist) {
	const dir = path.resolve(dist);
	return {
		modules: [
			{ type: "ESModule", path: path.join(dir, "worker.mjs") },
			{ type: "ESModule", path: path.join(dir, "wasm_exec.js") },
			{ type: "CompiledWasm", path: path.join(dir, "app.wasm") },
		],
		modulesRoot: dir,
	};
}

const common = { compatibilityDate: "2025-06-01" };
const kinds = {
	d1: {
		options: () => ({ ...common, ...goModules(d1Dist), d1Databases: { DB: "bench-d1" } }),
		path: "/users?take=10",
		async seed(mf) {
			const db = await mf.getD1Database("DB");
			for (const sql of d1Schema) await db.prepare(sql).run();
			const ins = db.prepare(`INSERT INTO "users" ("email", "name", "created_at") VALUES (?, ?, ?)`);
			await db.batch(Array.from({ length: 100 }, (_, i) =>
				ins.bind(`user${i}@example.com`, `User ${i}`, `2026-01-01T00:00:${String(i % 60).padStart(2, "0")}.000000000Z`)));
		},
	},
	hyperdrive: {
		options: () => ({ ...common, ...goModules(hdDist), kvNamespaces: ["CACHE"], hyperdrives: { HYPERDRIVE: hdURL } }),
		path: "/orders",
		async beforeEach(mf) {
			await (await mf.getKVNamespace("CACHE")).delete("orders:latest");
		},
	},
};

async function get(mf, p) {
	const res = await mf.dispatchFetch("http://bench.test" + p);
	const body = await res.text();
	if (res.status !== 200) throw new Error(`GET ${p}: ${res.status} ${body}`);
	return res.headers.get("x-cache");
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];

// Seed: D1 per Miniflare (in memory, so at each cold start, before the
// timed request: the seeding runs its own queries, not the Go Worker);
// PostgreSQL once, through the Worker.
{
	const mf = new Miniflare(kinds.hyperdrive.options());
	for (let i = 0; i < 100; i++) {
		const res = await mf.dispatchFetch("http://bench.test/orders", { method: "POST", body: JSON.stringify({ customer: `c${i}`, item: "pen", quantity: 1 + (i % 5) }) });
		if (res.status !== 201) throw new Error(`seeding orders: ${res.status} ${await res.text()}`);
	}
	await mf.dispose();
}

const first = { d1: [], hyperdrive: [] };
for (let i = 0; i < coldN; i++) {
	for (const [name, k] of Object.entries(kinds)) {
		const mf = new Miniflare(k.options());
		await mf.ready;
		if (k.seed) await k.seed(mf);
		const t0 = performance.now();
		const cache = await get(mf, k.path);
		first[name].push(performance.now() - t0);
		if (name === "hyperdrive" && cache !== "miss") throw new Error(`the first request was a cache ${cache}`);
		await mf.dispose();
	}
}

const warm = { d1: [], hyperdrive: [] };
{
	const mfs = {};
	for (const [name, k] of Object.entries(kinds)) {
		mfs[name] = new Miniflare(k.options());
		await mfs[name].ready;
		if (k.seed) await k.seed(mfs[name]);
		for (let i = 0; i < 20; i++) {
			if (k.beforeEach) await k.beforeEach(mfs[name]);
			await get(mfs[name], k.path);
		}
	}
	for (let i = 0; i < warmN; i++) {
		for (const [name, k] of Object.entries(kinds)) {
			if (k.beforeEach) await k.beforeEach(mfs[name]);
			const t0 = performance.now();
			await get(mfs[name], k.path);
			warm[name].push(performance.now() - t0);
		}
	}
	for (const mf of Object.values(mfs)) await mf.dispose();
}

const result = {};
console.log("worker       first request ms (median [min, max])   warm ms (median, p90)");
for (const name of Object.keys(kinds)) {
	const f = first[name], w = warm[name];
	result[name] = { first_median_ms: median(f), first_min_ms: Math.min(...f), first_max_ms: Math.max(...f), warm_median_ms: median(w), warm_p90_ms: p90(w) };
	console.log(`${name.padEnd(12)} ${median(f).toFixed(1)} [${Math.min(...f).toFixed(1)}, ${Math.max(...f).toFixed(1)}]`.padEnd(52) + `${median(w).toFixed(2)}, ${p90(w).toFixed(2)}`);
}
result.cold_starts = coldN;
result.warm_requests = warmN;
console.log("HYPERDRIVE " + JSON.stringify(result));
