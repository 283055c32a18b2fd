// Runs the worker-d1 example (built by forge-worker into WORKER_DIR) under
// the real workerd through Miniflare, with a D1 database whose schema is
// SCHEMA_SQL (a JSON array of statements that worker_test.go renders with
// migrate.Create), and checks its API end to end.
//
//	FORGE_JS_DIR=.../js WORKER_DIR=... SCHEMA_SQL='["CREATE TABLE ..."]' node worker.test.mjs
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.FORGE_JS_DIR, "package.json"));
const { Miniflare } = require("miniflare");
const dir = process.env.WORKER_DIR;

let mf, d1;
before(async () => {
	mf = new Miniflare({
		modules: [
			{ type: "ESModule", path: path.join(dir, "worker.mjs") },
			{ type: "ESModule", path: path.join(dir, "wasm_exec.js") },
			{ type: "CompiledWasm", path: path.join(dir, "app.wasm") },
		],
		modulesRoot: dir,
		compatibilityDate: "2025-06-01",
		d1Databases: { DB: "worker-d1-test" },
	});
	await mf.ready;
	d1 = await mf.getD1Database("DB");
	for (const sql of JSON.parse(process.env.SCHEMA_SQL)) {
		await d1.prepare(sql).run();
	}
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
const count = async (where = "1=1", ...args) =>
	(await d1.prepare(`SELECT COUNT(*) AS n FROM "users" WHERE ${where}`).bind(...args).first("n"));

test("CRUD through forge's typed API", async () => {
	let r = await call("GET", "/users");
	assert.equal(r.status, 200);
	assert.deepEqual(r.json, []);

	r = await call("POST", "/users", { email: "ada@example.com", name: "Ada 'the' \"first\" 🎉" });
	assert.equal(r.status, 201, r.text);
	const ada = r.json;
	assert.ok(Number.isInteger(ada.id) && ada.id > 0);
	assert.equal(ada.email, "ada@example.com");
	assert.equal(ada.name, "Ada 'the' \"first\" 🎉");
	assert.ok(!Number.isNaN(Date.parse(ada.created_at)) && ada.created_at.endsWith("Z"), ada.created_at);

	// D1 itself holds what forge wrote, times as fixed-width UTC text.
	const row = await d1.prepare(`SELECT * FROM "users" WHERE "id" = ?`).bind(ada.id).first();
	assert.equal(row.email, "ada@example.com");
	assert.match(row.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);

	r = await call("GET", `/users/${ada.id}`);
	assert.equal(r.status, 200);
	assert.deepEqual(r.json, ada);

	r = await call("PATCH", `/users/${ada.id}`, { name: "Ada Lovelace" });
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.name, "Ada Lovelace");
	assert.equal(r.json.email, ada.email);

	r = await call("POST", "/users", { email: "grace@example.com", name: "Grace" });
	assert.equal(r.status, 201);
	r = await call("GET", "/users?take=1");
	assert.equal(r.json.length, 1);
	assert.equal(r.json[0].id, ada.id);
	r = await call("GET", "/users?take=10");
	assert.deepEqual(r.json.map((u) => u.email), ["ada@example.com", "grace@example.com"]);

	r = await call("DELETE", `/users/${r.json[1].id}`);
	assert.equal(r.status, 204);
	r = await call("GET", "/users/999999");
	assert.equal(r.status, 404);
	assert.equal(await count(), 1);
});

test("bad input is a 400, never a 500", async () => {
	for (const body of ["{not json", "[]", JSON.stringify({ email: "x@example.com" })]) {
		const r = await call("POST", "/users", body);
		assert.equal(r.status, 400, body + " -> " + r.text);
		assert.ok(r.json.error);
	}
	assert.equal((await call("GET", "/users?take=abc")).status, 400);
	assert.equal((await call("GET", "/users?take=1000")).status, 400);
	assert.equal((await call("GET", "/users/abc")).status, 400);
	assert.equal((await call("GET", "/nowhere")).status, 404);
});

test("a duplicate email is a 409 that names the field, from forge's ConstraintError", async () => {
	const r = await call("POST", "/users", { email: "ada@example.com", name: "Ada again" });
	assert.equal(r.status, 409, r.text);
	assert.equal(r.json.kind, "unique");
	assert.equal(r.json.model, "User");
	assert.deepEqual(r.json.fields, ["Email"]);
	assert.equal(r.json.constraint, "users_email_key");
	assert.equal(r.json.error, "Email already taken");
	assert.equal(await count(`"name" = ?`, "Ada again"), 0);
});

test("a failing statement inside a batch leaves nothing written", async () => {
	const before = await count();
	let r = await call("POST", "/batch", {
		users: [
			{ email: "b1@example.com", name: "B1" },
			{ email: "b2@example.com", name: "B2" },
			{ email: "ada@example.com", name: "duplicate" },
		],
	});
	assert.equal(r.status, 409, r.text);
	assert.equal(r.json.kind, "unique");
	assert.deepEqual(r.json.fields, ["Email"]);
	assert.equal(await count(), before);
	assert.equal(await count(`"email" IN ('b1@example.com', 'b2@example.com')`), 0);

	r = await call("POST", "/batch", { users: [{ email: "b1@example.com", name: "B1" }, { email: "b2@example.com", name: "B2" }] });
	assert.equal(r.status, 201, r.text);
	assert.deepEqual(r.json, { written: 2 });
	assert.equal(await count(), before + 2);
});

test("db.Transaction on D1 is forge's CapabilityError pointing to Batch", async () => {
	const r = await call("POST", "/tx");
	assert.equal(r.status, 501, r.text);
	assert.equal(r.json.driver, "d1");
	assert.equal(r.json.op, "interactive transactions");
	assert.match(r.json.use, /db\.Batch/);
	assert.equal(await count(`"email" = ?`, "never@example.com"), 0);
});

test("32 concurrent creates: all succeed with distinct ids, and every row is there", async () => {
	const before = await count();
	const results = await Promise.all(Array.from({ length: 32 }, (_, i) =>
		call("POST", "/users", { email: `c${i}@example.com`, name: `Concurrent ${i}` })));
	for (const r of results) assert.equal(r.status, 201, r.text);
	const ids = results.map((r) => r.json.id);
	assert.equal(new Set(ids).size, 32, "distinct ids");
	results.forEach((r, i) => assert.equal(r.json.email, `c${i}@example.com`));
	assert.equal(await count(), before + 32);
	const list = await call("GET", "/users?take=100");
	const listed = new Set(list.json.map((u) => u.id));
	for (const id of ids) assert.ok(listed.has(id), `id ${id} listed`);
	// And 32 concurrent reads agree with each other.
	const reads = await Promise.all(Array.from({ length: 32 }, () => call("GET", "/users?take=100")));
	for (const r of reads) assert.deepEqual(r.json, list.json);
});

test("a panicking handler is a 500 and the next request still works", async () => {
	const r = await call("GET", "/panic");
	assert.equal(r.status, 500);
	const next = await call("GET", "/users?take=1");
	assert.equal(next.status, 200);
	assert.equal(next.json.length, 1);
});
