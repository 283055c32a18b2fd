// Runs the worker-turso example (built by forge-worker into WORKER_DIR)
// under the real workerd through Miniflare, with PRIMARY_URL and
// REPLICA_URL pointing at a primary sqld and its replica (through logging
// proxies, see worker_test.go), and checks read-your-writes end to end.
//
//	FORGE_JS_DIR=.../js WORKER_DIR=... PRIMARY_URL=... REPLICA_URL=... node worker.test.mjs
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
		bindings: { PRIMARY_URL: process.env.PRIMARY_URL, REPLICA_URL: process.env.REPLICA_URL },
	});
	await mf.ready;
});
after(async () => {
	await mf?.dispose();
});

const call = async (method, p, body, token) => {
	const headers = {};
	if (token !== undefined) headers["x-forge-token"] = token;
	const init = { method, headers };
	if (body !== undefined) init.body = JSON.stringify(body);
	const res = await mf.dispatchFetch("http://worker.test" + p, init);
	const text = await res.text();
	let json;
	try {
		json = JSON.parse(text);
	} catch {
		json = undefined;
	}
	return { status: res.status, json, text, token: res.headers.get("x-forge-token") };
};
const texts = (r) => r.json.map((n) => n.text);

test("each write is read back at once through its token", async () => {
	let token;
	for (const text of ["one", "two", "three"]) {
		const w = await call("POST", "/notes", { text }, token);
		assert.equal(w.status, 201, w.text);
		assert.equal(w.json.text, text);
		assert.match(w.token, /^\d+$/, "a token after the write");
		assert.ok(token === undefined || BigInt(w.token) > BigInt(token), "the token moves forward");
		token = w.token;
		const r = await call("GET", "/notes", undefined, token);
		assert.equal(r.status, 200, r.text);
		assert.ok(texts(r).includes(text), `read after writing ${text}: ${r.text}`);
	}
});

test("without a token reads go to the replica, which catches up", async () => {
	// The replica replicates on its own: bounded wait until it has all three.
	for (let i = 0; ; i++) {
		const r = await call("GET", "/notes");
		assert.equal(r.status, 200, r.text);
		if (texts(r).length === 3) break;
		assert.ok(i < 200, `the replica never caught up: ${r.text}`);
		await new Promise((res) => setTimeout(res, 50));
	}
});

test("a read with a token, even one from the future, reads the primary", async () => {
	const r = await call("GET", "/notes", undefined, "999999999999");
	assert.equal(r.status, 200, r.text);
	assert.deepEqual(texts(r), ["one", "two", "three"]);
});

test("bad input", async () => {
	const r = await call("POST", "/notes", { text: "" });
	assert.equal(r.status, 400);
	assert.equal((await call("GET", "/nope")).status, 404);
	// A malformed token is no error: the read goes to the primary.
	assert.equal((await call("GET", "/notes", undefined, "not-a-token")).status, 200);
});
