// Runs the bindings Worker (testdata/bindings, built by forge-worker into
// WORKER_DIR) under the real workerd through Miniflare: the Cache API,
// Analytics Engine, KV and sockets under workers.Serve, many requests at
// once. ECHO is the address of an echo server. Started by
// TestBindingsUnderServe (workers_test.go):
//
//	FORGE_JS_DIR=.../js WORKER_DIR=... ECHO=127.0.0.1:PORT node bindings.test.mjs
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.FORGE_JS_DIR, "package.json"));
const { Miniflare } = require("miniflare");
const dir = process.env.WORKER_DIR;

let mf;
before(async () => {
	mf = new Miniflare({
		modules: [
			{ type: "ESModule", path: path.join(dir, "worker.mjs") },
			{ type: "ESModule", path: path.join(dir, "wasm_exec.js") },
			{ type: "CompiledWasm", path: path.join(dir, "app.wasm") },
		],
		modulesRoot: dir,
		compatibilityDate: "2025-06-01",
		bindings: { ECHO: process.env.ECHO, TEXT: "text" },
		kvNamespaces: ["KV"],
		analyticsEngineDatasets: { AE: { dataset: "queries" } },
	});
	await mf.ready;
});
after(async () => {
	await mf?.dispose();
});

const get = async (p) => {
	const res = await mf.dispatchFetch("http://worker.test" + p);
	return { status: res.status, text: await res.text() };
};

test("the Cache API", async () => {
	const r = await get("/cache");
	assert.equal(r.status, 200, r.text);
});

test("Analytics Engine", async () => {
	const r = await get("/ae");
	assert.equal(r.status, 200, r.text);
});

test("many requests at once, each with its own KV calls and socket", async () => {
	const rs = await Promise.all([
		...Array.from({ length: 16 }, (_, i) => get(`/kv?key=k${i}`)),
		...Array.from({ length: 16 }, (_, i) => get(`/socket?n=${1 + i * 1000}`)),
	]);
	for (const r of rs) assert.equal(r.status, 200, r.text);
	// Once more, after those requests ended: nothing of theirs is left in use.
	const again = await Promise.all(Array.from({ length: 8 }, (_, i) => get(`/socket?n=${i + 1}`)));
	for (const r of again) assert.equal(r.status, 200, r.text);
});
