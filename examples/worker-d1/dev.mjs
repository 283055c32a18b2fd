// Runs a Worker built by forge-worker locally, in the real workerd through
// Miniflare (from the repository's js/node_modules), with a local D1
// database, on http://127.0.0.1:8787. Node 20 is enough (wrangler needs 22).
//
//	node examples/worker-d1/dev.mjs DIST [SCHEMA.sql] [PORT]
//
// SCHEMA.sql, if given, is applied first (statements separated by ";"
// at the end of a line, as `go run ./examples/worker-d1 schema` prints
// them). The database lives in DIST/.d1 and survives restarts.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const jsDir = process.env.FORGE_JS_DIR || path.resolve(here, "../../js");
const { Miniflare } = createRequire(path.join(jsDir, "package.json"))("miniflare");

const [dist, schema, port = "8787"] = process.argv.slice(2);
if (!dist) {
	console.error("usage: node dev.mjs DIST [SCHEMA.sql] [PORT]");
	process.exit(2);
}
const dir = path.resolve(dist);
const mf = new Miniflare({
	modules: [
		{ type: "ESModule", path: path.join(dir, "worker.mjs") },
		{ type: "ESModule", path: path.join(dir, "wasm_exec.js") },
		{ type: "CompiledWasm", path: path.join(dir, "app.wasm") },
	],
	modulesRoot: dir,
	compatibilityDate: "2025-06-01",
	d1Databases: { DB: "worker-d1-local" },
	d1Persist: path.join(dir, ".d1"),
	host: "127.0.0.1",
	port: Number(port),
});
const url = await mf.ready;
if (schema) {
	const db = await mf.getD1Database("DB");
	const stmts = readFileSync(schema, "utf8").split(/;\s*\n/).map((s) => s.trim()).filter(Boolean);
	for (const s of stmts) {
		await db.prepare(s).run();
	}
	console.log(`applied ${stmts.length} statements from ${schema}`);
}
console.log(`worker-d1 listening on ${url} (Ctrl-C to stop)`);
const stop = async () => {
	await mf.dispose();
	process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
