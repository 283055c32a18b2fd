// Runs a Go test binary compiled for js/wasm (go test -c) INSIDE the real
// workerd, through Miniflare. The Worker has no database binding: the
// libsql driver reaches sqld servers on 127.0.0.1 through the runtime's own
// fetch (fetch/jsfetch), as a deployed Worker reaches Turso. GO_ENV, a JSON
// object of strings, becomes the Go program's environment (os.Getenv),
// through go.env, plus FORGE_LIBSQL_RUNTIME (navigator.userAgent). Prints
// the test's output and exits with its status. Started by
// TestConformanceInWorker (libsql/worker_test.go):
//
//	FORGE_JS_DIR=.../js TEST_DIR=DIR TEST_ARGS='["-test.v"]' GO_ENV='{"K":"V"}' node gotest.mjs
//
// DIR holds test.wasm and Go's wasm_exec.js. Adapted from d1/testdata/gotest.mjs.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.FORGE_JS_DIR, "package.json"));
const { Miniflare } = require("miniflare");
const dir = process.env.TEST_DIR;
const args = JSON.parse(process.env.TEST_ARGS || "[]");
const goEnv = JSON.parse(process.env.GO_ENV || "{}");

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
		const go = new Go();
		go.argv = ["libsql.test", ...args];
		go.env = {
			...JSON.parse(env.GO_ENV),
			FORGE_LIBSQL_RUNTIME: typeof navigator === "object" ? String(navigator.userAgent) : "",
		};
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

const mf = new Miniflare({
	modules: [
		{ type: "ESModule", path: path.join(dir, "worker.mjs"), contents: worker },
		{ type: "ESModule", path: path.join(dir, "wasm_exec.js") },
		{ type: "CompiledWasm", path: path.join(dir, "test.wasm") },
	],
	modulesRoot: dir,
	compatibilityDate: "2025-06-01",
	bindings: { GO_ENV: JSON.stringify(goEnv) },
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
