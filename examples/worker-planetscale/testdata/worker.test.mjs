// Runs the worker-planetscale example (built by forge-worker into
// WORKER_DIR) under the real workerd through Miniflare, with
// PLANETSCALE_URL pointing at a forge gateway in front of MySQL whose
// schema the Go test created, and checks its API end to end.
//
//	FORGE_JS_DIR=.../js WORKER_DIR=... PLANETSCALE_URL=http://writer:SECRET@127.0.0.1:PORT node worker.test.mjs
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
		bindings: { PLANETSCALE_URL: process.env.PLANETSCALE_URL },
	});
	await mf.ready;
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
	return { status: res.status, json, text };
};

test("accounts through forge's typed API", async () => {
	let r = await call("GET", "/accounts");
	assert.equal(r.status, 200, r.text);
	assert.deepEqual(r.json, []);
	r = await call("POST", "/accounts", { email: "ada@example.com", name: "Ada 'the' \"first\" \\ 🎉", balance: 1000 });
	assert.equal(r.status, 201, r.text);
	const ada = r.json;
	assert.ok(Number.isInteger(ada.id) && ada.id > 0);
	assert.equal(ada.name, "Ada 'the' \"first\" \\ 🎉");
	assert.ok(ada.created_at.endsWith("Z"), ada.created_at);
	r = await call("GET", `/accounts/${ada.id}`);
	assert.equal(r.status, 200);
	assert.deepEqual(r.json, ada);
	r = await call("GET", "/accounts/999999");
	assert.equal(r.status, 404);
	r = await call("POST", "/accounts", { email: "ada@example.com", name: "Other", balance: 0 });
	assert.equal(r.status, 409, r.text);
	assert.deepEqual(r.json.fields, ["Email"]);
	r = await call("POST", "/accounts", { email: "x@example.com", name: "X", balance: -1 });
	assert.equal(r.status, 400);
});

test("transfers in interactive transactions", async () => {
	const a = (await call("POST", "/accounts", { email: "a@example.com", name: "A", balance: 500 })).json;
	const b = (await call("POST", "/accounts", { email: "b@example.com", name: "B", balance: 0 })).json;
	let r = await call("POST", "/transfer", { from: a.id, to: b.id, amount: 200 });
	assert.equal(r.status, 200, r.text);
	assert.deepEqual(r.json.map((x) => x.balance), [300, 200]);
	// Short funds: the transaction rolls back, nothing moves.
	r = await call("POST", "/transfer", { from: b.id, to: a.id, amount: 201 });
	assert.equal(r.status, 409, r.text);
	// An unknown target after the debit: rolled back too.
	r = await call("POST", "/transfer", { from: a.id, to: 999999, amount: 100 });
	assert.equal(r.status, 404, r.text);
	const after = (await call("GET", `/accounts/${a.id}`)).json;
	assert.equal(after.balance, 300);
	assert.equal((await call("GET", `/accounts/${b.id}`)).json.balance, 200);
	// Concurrent transfers: every one commits or is refused; the total holds.
	const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
		call("POST", "/transfer", i % 2 ? { from: a.id, to: b.id, amount: 10 } : { from: b.id, to: a.id, amount: 10 })));
	for (const res of results) {
		assert.ok(res.status === 200 || res.status === 409, res.text);
	}
	const total = (await call("GET", `/accounts/${a.id}`)).json.balance + (await call("GET", `/accounts/${b.id}`)).json.balance;
	assert.equal(total, 500);
});
