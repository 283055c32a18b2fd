// The Vercel half of scripts/edge-bench: under edge-runtime (Vercel's Edge
// runtime emulator, pinned in js/), the first request of a fresh VM and warm
// requests of the examples/worker-neon Vercel Edge Function (forge-worker
// build -target vercel, its .func folder in FUNC_DIR: forge's neon driver)
// against a plain JavaScript Edge Function running the same query with
// @neondatabase/serverless's neon() HTTP client, both through the same
// forge gateway (ENDPOINT, its /sql URL; TOKEN, a token) in front of
// PostgreSQL, whose users table holds 100 users.
//
//	FORGE_JS_DIR=.../js node vercel-bench.mjs FUNC_DIR ENDPOINT TOKEN [WARM_REQUESTS] [COLD_STARTS]
//
// Each function runs as on Vercel: in an EdgeVM with codeGeneration
// {strings: false, wasm: false} (no eval, no compiling WebAssembly from
// bytes), its entry module bundled into one script (what Vercel's bundler
// does: imports inlined, the wasm compiled by the host and handed in as a
// WebAssembly.Module). Measured from Node, calling the function's handler
// with a GET /users?take=10 and reading the whole body:
//   - cold: a fresh Node process per cold start (so that no compiled code,
//     JavaScript or WebAssembly, is shared with an earlier one), a fresh
//     EdgeVM, then: start (the host compiling the wasm, for Go; the bundle's
//     module scope run) and the first request; median, minimum and maximum
//     over COLD_STARTS of each kind, interleaved;
//   - warm: one VM of each kind, 50 requests of warm-up, then WARM_REQUESTS
//     of each, interleaved one by one; median and 90th percentile.
// Also gives what each deploys, gzip -9. Prints a table, then one line
// "VERCEL {json}" for scripts/edge-bench.
//
// Run with --cold go|js FUNC_DIR ENDPOINT TOKEN, it does one cold start and
// prints its times as JSON (what the parent spawns).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { gzipSync } from "node:zlib";

const jsDir = process.env.FORGE_JS_DIR;
if (!jsDir) throw new Error("vercel-bench.mjs: set FORGE_JS_DIR (js/ with node_modules)");
const args = process.argv.slice(2);
const coldKind = args[0] === "--cold" ? args[1] : "";
const [funcDir, endpoint, token, warmArg = "400", coldArg = "7"] = coldKind ? args.slice(2) : args;
const warmN = Number(warmArg), coldN = Number(coldArg);
if (!funcDir || !endpoint || !token || !(warmN > 0) || !(coldN > 0)) {
	throw new Error("usage: node vercel-bench.mjs FUNC_DIR ENDPOINT TOKEN [WARM_REQUESTS] [COLD_STARTS]");
}

// What both functions are given: the connection string (forge gateway
// serves its own database whatever it names), the gateway and its token.
const env = { DATABASE_URL: "postgresql://app:unused@gateway.invalid/app", NEON_ENDPOINT: endpoint, NEON_TOKEN: token };

// The SQL forge writes for Users.FindMany(OrderBy(ID, Asc), Take(10)).
const query = `SELECT "id", "email", "name", "created_at" FROM "users" ORDER BY "id" LIMIT $1`;

// rewrite replaces from by to, which must occur exactly once.
function rewrite(src, from, to, what) {
	const n = src.split(from).length - 1;
	if (n !== 1) throw new Error(`${what} has ${n} of ${JSON.stringify(from)}, not one`);
	return src.replace(from, () => to);
}

// goBundle does what Vercel's bundler does with forge-worker's index.mjs
// (as examples/worker-neon/testdata/vercel.test.mjs): wasm_exec.js inlined,
// the wasm module taken from the injected global, the handler kept as a
// global.
function goBundle() {
	let src = readFileSync(path.join(funcDir, "index.mjs"), "utf8");
	src = rewrite(src, 'import "./wasm_exec.js";', readFileSync(path.join(funcDir, "wasm_exec.js"), "utf8"), "index.mjs");
	src = rewrite(src, 'import wasmModule from "./app.wasm?module";', "const wasmModule = globalThis.__injectedWasm;", "index.mjs");
	src = rewrite(src, "export const config =", "globalThis.__config =", "index.mjs");
	src = rewrite(src, "export default function handler(", "globalThis.__handler = function handler(", "index.mjs");
	if (/^\s*(import|export)\b/m.test(src)) throw new Error("index.mjs has another import or export");
	return `(function () {${src}\n})();`;
}

// jsBundle is the plain JavaScript Edge Function: @neondatabase/serverless
// (one ES module with no imports, its export list at the end, made locals)
// and a handler answering GET /users?take=N with neon()'s rows.
function jsBundle() {
	let src = readFileSync(path.join(jsDir, "node_modules", "@neondatabase", "serverless", "index.mjs"), "utf8");
	const m = src.match(/export\s*\{([^}]*)\};?/);
	if (!m || src.split(m[0]).length !== 2) throw new Error("@neondatabase/serverless's index.mjs has not one export list");
	const names = Object.fromEntries(m[1].split(",").map((s) => {
		const [local, , exported = local] = s.trim().split(/\s+/);
		return [exported, local];
	}));
	if (!names.neon || !names.neonConfig) throw new Error("@neondatabase/serverless exports no neon or neonConfig");
	src = rewrite(src, m[0], `const neon = ${names.neon}, neonConfig = ${names.neonConfig};`, "@neondatabase/serverless");
	return `(function () {${src}
neonConfig.fetchEndpoint = process.env.NEON_ENDPOINT;
const sql = neon(process.env.DATABASE_URL, { authToken: process.env.NEON_TOKEN });
globalThis.__handler = async function handler(request) {
	const url = new URL(request.url);
	if (url.pathname !== "/users" || request.method !== "GET") return Response.json({ error: "not found" }, { status: 404 });
	const take = Number(url.searchParams.get("take") ?? "10");
	if (!Number.isInteger(take) || take < 1 || take > 100) return Response.json({ error: "take must be an integer from 1 to 100" }, { status: 400 });
	return Response.json(await sql.query(${JSON.stringify(query)}, [take]));
};
})();`;
}

const { EdgeVM } = await import(pathToFileURL(path.join(jsDir, "node_modules", "@edge-runtime", "vm", "dist", "index.js")).href);

// start makes a fresh VM running one kind of function and times its start:
// compiling the wasm (Go: the host's work, done at load on Vercel) and
// running the bundle's module scope.
function start(kind, bundle) {
	const t0 = performance.now();
	const wasm = kind === "go" ? new WebAssembly.Module(readFileSync(path.join(funcDir, "app.wasm"))) : null;
	const t1 = performance.now();
	const vm = new EdgeVM({
		codeGeneration: { strings: false, wasm: false },
		extend: (ctx) => {
			if (wasm) ctx.__injectedWasm = wasm;
			ctx.process = { env: { ...env } };
			return ctx;
		},
	});
	const t2 = performance.now();
	vm.evaluate(bundle);
	const t3 = performance.now();
	if (typeof vm.context.__handler !== "function") throw new Error(`the ${kind} bundle defines no handler`);
	return { vm, compile_ms: t1 - t0, vm_ms: t2 - t1, evaluate_ms: t3 - t2 };
}

// get calls the function's handler with GET /users?take=10, reads the whole
// answer and checks it: the first ten of the 100 users.
async function get(vm) {
	const t0 = performance.now();
	const req = new vm.context.Request("https://forge-vercel.test/users?take=10");
	const res = await vm.context.__handler(req, { waitUntil() {} });
	const body = await res.json();
	const ms = performance.now() - t0;
	if (res.status !== 200 || !Array.isArray(body) || body.length !== 10 || Number(body[0].id) !== 1 || Number(body[9].id) !== 10 || body[0].email !== "user0@example.com") {
		throw new Error(`unexpected answer ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
	}
	return ms;
}

const bundles = { go: goBundle, js: jsBundle };

if (coldKind) {
	if (!bundles[coldKind]) throw new Error(`--cold ${coldKind}: want go or js`);
	const bundle = bundles[coldKind]();
	const s = start(coldKind, bundle);
	const first = await get(s.vm);
	const second = await get(s.vm);
	console.log(JSON.stringify({ compile_ms: s.compile_ms, vm_ms: s.vm_ms, evaluate_ms: s.evaluate_ms, first_ms: first, second_ms: second }));
	process.exit(0);
}

const quantile = (xs, q) => {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const median = (xs) => {
	const s = [...xs].sort((a, b) => a - b);
	const h = s.length >> 1;
	return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

// Cold starts, a fresh process each, the kinds interleaved.
const self = fileURLToPath(import.meta.url);
const cold = { go: [], js: [] };
for (let i = 0; i < coldN; i++) {
	for (const kind of Object.keys(cold)) {
		const out = execFileSync(process.execPath, [self, "--cold", kind, funcDir, endpoint, token], { env: process.env, encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "inherit"] });
		cold[kind].push(JSON.parse(out.trim().split("\n").pop()));
	}
}

// Warm requests, interleaved one by one.
const warm = { go: [], js: [] };
const vms = { go: start("go", goBundle()).vm, js: start("js", jsBundle()).vm };
for (let i = 0; i < 50; i++) {
	await get(vms.go);
	await get(vms.js);
}
for (let i = 0; i < warmN; i++) {
	warm.go.push(await get(vms.go));
	warm.js.push(await get(vms.js));
}

// What each deploys, gzip -9: forge-worker counts the function's three files
// one by one; the JavaScript function is its one bundle.
const gz = (b) => gzipSync(b, { level: 9 }).length;
const size_gzip_bytes = {
	go: ["app.wasm", "index.mjs", "wasm_exec.js"].reduce((n, f) => n + gz(readFileSync(path.join(funcDir, f))), 0),
	js: gz(Buffer.from(jsBundle())),
};

const result = { cold_starts: coldN, warm_requests: warmN, size_gzip_bytes };
console.log("function   start ms: compile + module scope (median)   first request ms (median [min, max])   second   warm ms (median, p90)");
for (const kind of ["go", "js"]) {
	const c = cold[kind], w = warm[kind];
	const first = c.map((x) => x.first_ms);
	const r = {
		compile_median_ms: median(c.map((x) => x.compile_ms)),
		evaluate_median_ms: median(c.map((x) => x.evaluate_ms)),
		first_median_ms: median(first),
		first_min_ms: Math.min(...first),
		first_max_ms: Math.max(...first),
		second_median_ms: median(c.map((x) => x.second_ms)),
		start_and_first_median_ms: median(c.map((x) => x.compile_ms + x.evaluate_ms + x.first_ms)),
		warm_median_ms: median(w),
		warm_p90_ms: quantile(w, 0.9),
	};
	result[kind] = r;
	console.log(
		`${kind === "go" ? "Go (forge)" : "JS (neon)"} `.padEnd(11) +
		`${r.compile_median_ms.toFixed(1)} + ${r.evaluate_median_ms.toFixed(1)}`.padEnd(45) +
		`${r.first_median_ms.toFixed(1)} [${r.first_min_ms.toFixed(1)}, ${r.first_max_ms.toFixed(1)}]`.padEnd(39) +
		`${r.second_median_ms.toFixed(2)}`.padEnd(9) +
		`${r.warm_median_ms.toFixed(2)}, ${r.warm_p90_ms.toFixed(2)}`,
	);
}
result.first_ratio = result.go.first_median_ms / result.js.first_median_ms;
result.start_and_first_ratio = result.go.start_and_first_median_ms / result.js.start_and_first_median_ms;
result.warm_ratio = result.go.warm_median_ms / result.js.warm_median_ms;
result.warm_p90_ratio = result.go.warm_p90_ms / result.js.warm_p90_ms;
console.log("VERCEL " + JSON.stringify(result));
