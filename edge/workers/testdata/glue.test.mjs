// Runs the glue Worker (testdata/glue, built by forge-worker into
// WORKER_DIR) under the real workerd through Miniflare and checks the
// Request/Response glue. Started by TestGlueUnderWorkerd (workers_test.go):
//
//	FORGE_JS_DIR=.../js WORKER_DIR=... node glue.test.mjs
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
		bindings: { GREETING: "hello", CONFIG: { a: 1 } },
		d1Databases: { DB: "glue-db" },
	});
	await mf.ready;
});
after(async () => {
	await mf?.dispose();
});

const get = (p, init) => mf.dispatchFetch("http://worker.test" + p, init);

test("a request reaches the handler whole, and vars and bindings are visible", async () => {
	const body = new Uint8Array([0, 1, 2, 255, 10]);
	const res = await get("/echo?q=caf%C3%A9&x=1", { method: "POST", headers: { "X-Test": "yes" }, body });
	assert.equal(res.status, 200);
	assert.match(res.headers.get("content-type"), /application\/json/);
	const got = await res.json();
	assert.equal(got.method, "POST");
	assert.equal(got.url, "http://worker.test/echo?q=caf%C3%A9&x=1");
	assert.equal(got.path, "/echo");
	assert.equal(got.q, "café");
	assert.equal(got.header, "yes");
	assert.deepEqual([...Buffer.from(got.body, "base64")], [...body]);
	assert.equal(got.greeting, "hello");
	assert.equal(got.json_var, '{"a":1}');
	assert.equal(got.missing, "");
	assert.equal(got.has_db, true);
	assert.equal(got.no_bind, true);
});

test("status, repeated headers and body come back as the handler set them", async () => {
	const res = await get("/headers");
	assert.equal(res.status, 201);
	assert.equal(res.headers.get("x-one"), "1");
	assert.deepEqual(res.headers.getSetCookie(), ["a=1", "b=2"]);
	assert.equal(await res.text(), "made");
	const empty = await get("/empty");
	assert.equal(empty.status, 204);
	assert.equal(await empty.text(), "");
});

test("a large binary body round-trips", async () => {
	const res = await get("/big?n=1000000");
	const b = new Uint8Array(await res.arrayBuffer());
	assert.equal(b.length, 1000000);
	for (let i = 0; i < b.length; i += 9973) assert.equal(b[i], i & 255);
});

test("a large request body arrives whole", async () => {
	const body = new Uint8Array(3_000_000);
	let sum = 0n;
	for (let i = 0; i < body.length; i++) {
		body[i] = (i * 7) & 255;
		sum = (sum * 31n + BigInt(body[i])) & 0xffffffffffffffffn;
	}
	const got = await (await get("/sum", { method: "PUT", body })).json();
	assert.deepEqual(got, { len: body.length, sum: sum.toString() });
});

test("a panic is a 500 and the instance keeps serving", async () => {
	const before = await (await get("/state?id=x")).json();
	const res = await get("/panic");
	assert.equal(res.status, 500);
	assert.equal(await res.text(), "internal error\n");
	const next = await get("/state?id=x");
	assert.equal(next.status, 200);
	const after = await next.json();
	assert.equal(after.instance, before.instance, "the same Go instance answers after the panic");
	assert.ok(after.served > before.served);
});

test("an error is a 500 that does not leak the error text", async () => {
	const res = await get("/error");
	assert.equal(res.status, 500);
	assert.doesNotMatch(await res.text(), /secret/);
	assert.equal((await get("/bad-status")).status, 500);
	assert.equal((await get("/json-error")).status, 500);
});

test("the request context is cancelled when the request ends", async () => {
	assert.equal((await get("/ctx-after?id=c1")).status, 200);
	const st = await (await get("/state?id=c1")).json();
	assert.equal(st.cancelled, true);
});

test("WaitUntil work finishes after the response", async () => {
	const res = await get("/waituntil?id=w1");
	assert.equal(await res.text(), "scheduled");
	let st;
	for (let i = 0; i < 50; i++) {
		st = await (await get("/state?id=w1")).json();
		if (st.waited) break;
		await new Promise((r) => setTimeout(r, 20));
	}
	assert.equal(st.waited, true);
});

test("32 concurrent requests are all answered, each with its own result", async () => {
	const ids = Array.from({ length: 32 }, (_, i) => String(i));
	const got = await Promise.all(ids.map(async (id) => {
		const res = await get(`/sleep?ms=${(Number(id) * 7) % 40}&id=${id}`);
		return [res.status, await res.text()];
	}));
	assert.deepEqual(got, ids.map((id) => [200, id]));
});

test("a crashed Go instance fails its requests with 500 and the next request starts a new one", async () => {
	const before = await (await get("/state?id=x")).json();
	const res = await get("/crash");
	assert.equal(res.status, 500);
	const next = await get("/state?id=x");
	assert.equal(next.status, 200);
	const after = await next.json();
	assert.notEqual(after.instance, before.instance, "a fresh instance");
	assert.equal(after.served, 0);
});
