// Runs a Go test binary compiled for js/wasm (go test -c) INSIDE the real
// workerd, through Miniflare, for testsvc.WorkerTest. The Worker offers the
// test what edge/workers' entry module offers a Go Worker: connect() of
// cloudflare:sockets as globalThis.__forgeWorkers.connect. The request's env
// and ctx are globalThis.__forgeTest.{env, ctx}. Prints the test's output
// and exits with its status:
//
//	FORGE_JS_DIR=.../js TEST_DIR=DIR TEST_ARGS='["-test.v"]' GO_ENV='{"K":"V"}' MF_OPTIONS='{...}' node gotest.mjs
//
// DIR holds test.wasm and Go's wasm_exec.js; MF_OPTIONS are more Miniflare
// options (hyperdrives, kvNamespaces, bindings...).
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.FORGE_JS_DIR, "package.json"));
const { Miniflare } = require("miniflare");
const dir = process.env.TEST_DIR;
const args = JSON.parse(process.env.TEST_ARGS || "[]");
const goEnv = JSON.parse(process.env.GO_ENV || "{}");
const extra = JSON.parse(process.env.MF_OPTIONS || "{}");

// Go starts inside the request (workerd forbids it at module scope).
const worker = `
import { connect } from "cloudflare:sockets";
import "./wasm_exec.js";
import wasm from "./test.wasm";

export default {
	async fetch(request, env, ctx) {
		const args = await request.json();
		let out = "";
		const decoder = new TextDecoder();
		globalThis.fs.writeSync = (fd, buf) => {
			out += decoder.decode(buf);
			return buf.length;
		};
		globalThis.__forgeWorkers = { connect };
		globalThis.__forgeTest = { env, ctx };
		const go = new Go();
		go.argv = ["go.test", ...args];
		go.env = {
			...JSON.parse(env.__GO_ENV),
			FORGE_TEST_RUNTIME: typeof navigator === "object" ? String(navigator.userAgent) : "",
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
	...extra,
	modules: [
		{ type: "ESModule", path: path.join(dir, "worker.mjs"), contents: worker },
		{ type: "ESModule", path: path.join(dir, "wasm_exec.js") },
		{ type: "CompiledWasm", path: path.join(dir, "test.wasm") },
	],
	modulesRoot: dir,
	compatibilityDate: "2025-06-01",
	bindings: { ...(extra.bindings || {}), __GO_ENV: JSON.stringify(goEnv) },
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
