// Runs a Go test binary compiled for js/wasm (go test -c) INSIDE the real
// workerd, through Miniflare, with fresh D1 databases bound as DB00, DB01,
// ...: the test code reaches them through globalThis.__forgeD1Test. Prints
// the test's output and exits with its status. Started by
// TestConformanceUnderWorkerd (workerd_test.go):
//
//	FORGE_JS_DIR=.../js TEST_DIR=DIR TEST_ARGS='["-test.v"]' node gotest.mjs
//
// DIR holds test.wasm and Go's wasm_exec.js.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.FORGE_JS_DIR, "package.json"));
const { Miniflare } = require("miniflare");
const dir = process.env.TEST_DIR;
const args = JSON.parse(process.env.TEST_ARGS || "[]");
const databases = Number(process.env.DATABASES || "40");

// The Worker: on a request, run the Go test binary once with the given
// arguments, capture what it writes, and answer its exit code and output.
// Go starts inside the request (workerd forbids it at module scope).
const worker = `
import "./wasm_exec.js";
import wasm from "./test.wasm";

export default {
	async fetch(request, env) {
		const args = await request.json();
		let out = "";
		const decoder = new TextDecoder();
		globalThis.fs.writeSync = (fd, buf) => {
			out += decoder.decode(buf);
			return buf.length;
		};
		globalThis.__forgeD1Test = {
			env,
			databases: Object.keys(env).filter((k) => /^DB\\d+$/.test(k)).sort(),
		};
		const go = new Go();
		go.argv = ["d1.test", ...args];
		let code = -1;
		go.exit = (c) => { code = c; };
		try {
			const instance = await WebAssembly.instantiate(wasm, go.importObject);
			await go.run(instance);
		} catch (err) {
			out += "\\nthe Go test binary failed: " + (err && err.stack || err) + "\\n";
			if (code === 0) code = -1;
		}
		return Response.json({ code, out });
	},
};
`;

const d1Databases = {};
for (let i = 0; i < databases; i++) {
	d1Databases[`DB${String(i).padStart(2, "0")}`] = `forge-d1-test-${i}`;
}
const mf = new Miniflare({
	modules: [
		{ type: "ESModule", path: path.join(dir, "worker.mjs"), contents: worker },
		{ type: "ESModule", path: path.join(dir, "wasm_exec.js") },
		{ type: "CompiledWasm", path: path.join(dir, "test.wasm") },
	],
	modulesRoot: dir,
	compatibilityDate: "2025-06-01",
	d1Databases,
});
let code = 1;
try {
	const res = await mf.dispatchFetch("http://test.local/", { method: "POST", body: JSON.stringify(args) });
	const text = await res.text();
	let result;
	try {
		result = JSON.parse(text);
	} catch {
		throw new Error(`the test Worker answered ${res.status}: ${text}`);
	}
	process.stdout.write(result.out);
	code = result.code;
} finally {
	await mf.dispose();
}
process.exit(code);
