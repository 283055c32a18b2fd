// Runs the Vercel Edge Function that forge-worker wrote (FUNC_DIR: the
// .func folder) in edge-runtime, Vercel's Edge runtime emulator, the way
// production runs it: code generation from strings and WebAssembly
// compilation from bytes are disabled in the function's context, and the
// wasm is compiled by the host and handed in as a WebAssembly.Module (what
// "import wasm from './app.wasm?module'" gives on Vercel). The function
// reaches PostgreSQL through forge gateway (NEON_ENDPOINT) with forge's
// neon driver.
//
// Environment: FORGE_JS_DIR, FUNC_DIR, DATABASE_URL, NEON_ENDPOINT, NEON_TOKEN.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

const { EdgeVM } = await import(pathToFileURL(join(process.env.FORGE_JS_DIR, "node_modules/@edge-runtime/vm/dist/index.js")).href);
const dir = process.env.FUNC_DIR;

// bundle does what Vercel's bundler does with the entry module, for the
// three imports it has: Go's wasm_exec.js inlined, the wasm module taken
// from the injected global, the default export kept as a global. Each
// rewrite must apply exactly once.
function bundle(entry, wasmExec) {
	const rewrite = (src, from, to) => {
		const n = src.split(from).length - 1;
		assert.equal(n, 1, `the entry module has ${n} of ${JSON.stringify(from)}`);
		return src.replace(from, () => to);
	};
	let src = rewrite(entry, 'import "./wasm_exec.js";', wasmExec);
	src = rewrite(src, 'import wasmModule from "./app.wasm?module";', "const wasmModule = globalThis.__injectedWasm;");
	src = rewrite(src, "export const config =", "globalThis.__config =");
	src = rewrite(src, "export default function handler(", "globalThis.__handler = function handler(");
	assert.ok(!/^\s*(import|export)\b/m.test(src), "the entry module has another import or export");
	return `(function () {${src}\n})();`;
}

const vmEnv = {
	DATABASE_URL: process.env.DATABASE_URL,
	NEON_ENDPOINT: process.env.NEON_ENDPOINT,
	NEON_TOKEN: process.env.NEON_TOKEN,
};
const wasm = new WebAssembly.Module(readFileSync(join(dir, "app.wasm"))); // the host compiles, as Vercel does at deploy
const edge = new EdgeVM({
	codeGeneration: { strings: false, wasm: false },
	extend: (ctx) => {
		ctx.__injectedWasm = wasm;
		ctx.process = { env: vmEnv };
		return ctx;
	},
});
const pendingWork = [];
function call(path, init = {}) {
	const req = new edge.context.Request("https://forge-vercel.test" + path, init);
	return edge.context.__handler(req, { waitUntil: (p) => pendingWork.push(p) });
}
async function json(path, init) {
	const res = await call(path, init);
	return { status: res.status, body: res.status === 204 ? null : await res.json() };
}
const post = (path, body) => json(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

test("the function's context refuses to compile code, as Vercel does", () => {
	assert.throws(() => edge.evaluate("new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))"), /Wasm code generation disallowed/);
	assert.throws(() => edge.evaluate("eval('1')"), /Code generation from strings disallowed/);
});

test("the entry module loads with the pre-compiled wasm and declares the edge runtime", () => {
	const entry = readFileSync(join(dir, "index.mjs"), "utf8");
	const vc = JSON.parse(readFileSync(join(dir, ".vc-config.json"), "utf8"));
	assert.equal(vc.runtime, "edge");
	assert.equal(vc.entrypoint, "index.mjs");
	edge.evaluate(bundle(entry, readFileSync(join(dir, "wasm_exec.js"), "utf8")));
	assert.deepEqual({ ...edge.context.__config }, { runtime: "edge" });
	assert.equal(typeof edge.context.__handler, "function");
});

test("users API over Neon's HTTP protocol through forge gateway", async () => {
	let r = await json("/users");
	assert.equal(r.status, 200, JSON.stringify(r.body));
	assert.deepEqual(r.body, []);

	r = await post("/users", { email: "ada@example.com", name: "Ada" });
	assert.equal(r.status, 201, JSON.stringify(r.body));
	assert.equal(r.body.email, "ada@example.com");
	const id = r.body.id;
	assert.ok(id > 0);

	r = await json(`/users/${id}`);
	assert.equal(r.status, 200);
	assert.equal(r.body.name, "Ada");

	r = await post("/users", { email: "ada@example.com", name: "Ada again" });
	assert.equal(r.status, 409, JSON.stringify(r.body));
	assert.deepEqual(r.body.fields, ["Email"]);

	r = await post("/users", { email: 7 });
	assert.equal(r.status, 400);

	// A batch is one transaction request: the duplicate email in it writes nothing.
	r = await post("/batch", { users: [{ email: "b@example.com", name: "B" }, { email: "ada@example.com", name: "dup" }] });
	assert.equal(r.status, 409, JSON.stringify(r.body));
	r = await json("/users?take=100");
	assert.deepEqual(r.body.map((u) => u.email), ["ada@example.com"]);
	r = await post("/batch", { users: [{ email: "b@example.com", name: "B" }, { email: "c@example.com", name: "C" }] });
	assert.equal(r.status, 201, JSON.stringify(r.body));
	assert.equal(r.body.written, 2);

	r = await post("/tx", {});
	assert.equal(r.status, 501);
	assert.match(r.body.use, /Batch/);

	r = await json(`/users/${id}`, { method: "DELETE" });
	assert.equal(r.status, 204);
	r = await json(`/users/${id}`);
	assert.equal(r.status, 404);

	// Concurrent requests share the one Go instance.
	const many = await Promise.all(Array.from({ length: 16 }, (_, i) => post("/users", { email: `u${i}@example.com`, name: `U${i}` })));
	assert.deepEqual(many.map((x) => x.status), Array(16).fill(201));
	r = await json("/users?take=100");
	assert.equal(r.body.length, 18);
	await Promise.all(pendingWork);
});
