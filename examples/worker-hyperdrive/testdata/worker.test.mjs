// Runs the worker-hyperdrive example (built by forge-worker into WORKER_DIR)
// under the real workerd through Miniflare, with a KV namespace (CACHE) and
// a Hyperdrive binding to HYPERDRIVE_URL (a JSON string: a postgres:// URL
// whose tables worker_test.go made), and checks its API and its cache.
//
//	FORGE_JS_DIR=.../js WORKER_DIR=... HYPERDRIVE_URL='"postgres://..."' node worker.test.mjs
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.FORGE_JS_DIR, "package.json"));
const { Miniflare } = require("miniflare");
const dir = process.env.WORKER_DIR;

let mf, kv;
before(async () => {
	mf = new Miniflare({
		modules: [
			{ type: "ESModule", path: path.join(dir, "worker.mjs") },
			{ type: "ESModule", path: path.join(dir, "wasm_exec.js") },
			{ type: "CompiledWasm", path: path.join(dir, "app.wasm") },
		],
		modulesRoot: dir,
		compatibilityDate: "2025-06-01",
		kvNamespaces: ["CACHE"],
		hyperdrives: { HYPERDRIVE: JSON.parse(process.env.HYPERDRIVE_URL) },
	});
	await mf.ready;
	kv = await mf.getKVNamespace("CACHE");
});
after(async () => {
	await mf?.dispose();
});

const call = async (method, p, body) => {
	const init = { method };
	if (body !== undefined) {
		init.body = typeof body === "string" ? body : JSON.stringify(body);
		init.headers = { "content-type": "application/json" };
	}
	const res = await mf.dispatchFetch("http://worker.test" + p, init);
	const text = await res.text();
	let json;
	try {
		json = JSON.parse(text);
	} catch {
		json = undefined;
	}
	return { status: res.status, json, text, cache: res.headers.get("x-cache") };
};

test("reads are misses, then hits; a committed write makes the next read a miss", async () => {
	let r = await call("POST", "/orders", { customer: "ada", item: "lamp", quantity: 2 });
	assert.equal(r.status, 201, r.text);
	const order = r.json;
	assert.equal(order.status, "new");
	assert.equal(order.quantity, 2);
	const p = `/orders/${order.id}`;

	r = await call("GET", p);
	assert.equal(r.status, 200, r.text);
	assert.equal(r.cache, "miss");
	assert.deepEqual(r.json, order);
	r = await call("GET", p);
	assert.equal(r.cache, "hit");
	assert.deepEqual(r.json, order);
	assert.ok(await kv.get(`order:${order.id}`), "the entry is in KV");

	r = await call("GET", "/orders");
	assert.equal(r.cache, "miss");
	assert.equal(r.json[0].id, order.id);
	assert.equal((await call("GET", "/orders")).cache, "hit");

	// Ship it (an interactive transaction): its commit deletes both entries.
	r = await call("POST", `${p}/ship`);
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.status, "shipped");
	assert.equal(await kv.get(`order:${order.id}`), null);
	r = await call("GET", p);
	assert.equal(r.cache, "miss");
	assert.equal(r.json.status, "shipped");
	assert.equal((await call("GET", p)).cache, "hit");
	r = await call("GET", "/orders");
	assert.equal(r.cache, "miss");
	assert.equal(r.json[0].status, "shipped");

	// A new order makes the list a miss again.
	r = await call("POST", "/orders", { customer: "bob", item: "desk", quantity: 1 });
	assert.equal(r.status, 201);
	r = await call("GET", "/orders");
	assert.equal(r.cache, "miss");
	assert.equal(r.json.length, 2);

	// Delete: the entry goes, and the next read is a 404 miss.
	assert.equal((await call("DELETE", p)).status, 204);
	r = await call("GET", p);
	assert.equal(r.status, 404);
	assert.equal(await kv.get(`order:${order.id}`), null);
});

test("a failed transaction changes nothing, in the database or in the cache", async () => {
	let r = await call("POST", "/orders", { customer: "cy", item: "chair", quantity: 4 });
	const order = r.json;
	const p = `/orders/${order.id}`;
	assert.equal((await call("GET", p)).cache, "miss");
	assert.equal((await call("GET", "/orders")).cache, "miss");
	const cachedOrder = await kv.get(`order:${order.id}`);
	const cachedList = await kv.get("orders:latest");

	r = await call("POST", `${p}/ship?fail=1`);
	assert.equal(r.status, 502, r.text);
	assert.match(r.json.error, /nothing changed/);
	// The cache still holds its entries, unchanged, and they are still true.
	assert.equal(await kv.get(`order:${order.id}`), cachedOrder);
	assert.equal(await kv.get("orders:latest"), cachedList);
	r = await call("GET", p);
	assert.equal(r.cache, "hit");
	assert.equal(r.json.status, "new");
	// The database agrees: shipping now works, as the order is still new.
	await kv.delete(`order:${order.id}`);
	r = await call("GET", p);
	assert.equal(r.cache, "miss");
	assert.equal(r.json.status, "new");
	r = await call("POST", `${p}/ship`);
	assert.equal(r.status, 200);
	r = await call("POST", `${p}/ship`);
	assert.equal(r.status, 409, r.text);
});

test("bad input", async () => {
	for (const body of ["{", "[]", { customer: "x", item: "y" }, { customer: "", item: "y", quantity: 1 }, { customer: "x", item: "y", quantity: 1.5 }, { customer: "x", item: "y", quantity: -1 }]) {
		const r = await call("POST", "/orders", body);
		assert.equal(r.status, 400, JSON.stringify(body) + ": " + r.text);
	}
	assert.equal((await call("GET", "/orders/abc")).status, 400);
	assert.equal((await call("GET", "/orders/0")).status, 400);
	assert.equal((await call("GET", "/nope")).status, 404);
	assert.equal((await call("PUT", "/orders/1")).status, 405);
	assert.equal((await call("GET", "/orders/999999")).status, 404);
});

test("concurrent requests, each with its own connection", async () => {
	const created = await Promise.all(
		Array.from({ length: 12 }, (_, i) => call("POST", "/orders", { customer: `c${i}`, item: "pen", quantity: i + 1 })),
	);
	for (const r of created) assert.equal(r.status, 201, r.text);
	const reads = await Promise.all(created.map((r) => call("GET", `/orders/${r.json.id}`)));
	for (const [i, r] of reads.entries()) {
		assert.equal(r.status, 200, r.text);
		assert.equal(r.cache, "miss");
		assert.equal(r.json.quantity, created[i].json.quantity);
	}
	const ships = await Promise.all(created.map((r) => call("POST", `/orders/${r.json.id}/ship`)));
	for (const r of ships) assert.equal(r.status, 200, r.text);
});
