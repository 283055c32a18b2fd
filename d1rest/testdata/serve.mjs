// serve.mjs starts Miniflare (workerd, with Cloudflare's D1 engine) running
// rest-worker.mjs, which serves D1's REST API on top of D1 bindings. The
// d1rest tests start it; to run it alone, from the repository's js/
// folder (where miniflare is installed):
//
//	node ../d1rest/testdata/serve.mjs --port 8787 --databases 4
//
// Flags:
//
//	--port N        the TCP port on 127.0.0.1 (required)
//	--databases N   D1 databases forge-test-0 .. forge-test-(N-1), each a
//	                separate empty database (default 1)
//	--token T       the API token the worker requires (default test-api-token)
//	--account A     the account id in the path (default forge-test-account)
//
// It prints "ready <url> pid <pid>" once the worker accepts requests. It
// stops workerd and exits on SIGTERM or SIGINT (through Miniflare's exit
// hook), or when its parent process goes away. Stop it with SIGTERM:
// SIGKILL would leave workerd running.
import { readFileSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

// miniflare is resolved as require() would from the working directory (and
// NODE_PATH): an ES module import would only look beside this file.
const require = createRequire(path.join(process.cwd(), "serve.cjs"));
const { Miniflare } = require("miniflare");

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    databases: { type: "string", default: "1" },
    token: { type: "string", default: "test-api-token" },
    account: { type: "string", default: "forge-test-account" },
  },
});
const port = Number(values.port);
const n = Number(values.databases);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error("serve.mjs: --port must be a TCP port");
  process.exit(2);
}
if (!Number.isInteger(n) || n < 1 || n > 1000) {
  console.error("serve.mjs: --databases must be between 1 and 1000");
  process.exit(2);
}

// D1 bindings are fixed when the worker starts, so the databases are made
// up front: one binding per database id, each its own SQLite database in
// Miniflare's temporary storage.
const d1Databases = {};
const databases = {};
for (let i = 0; i < n; i++) {
  d1Databases[`DB_${i}`] = `forge-test-${i}`;
  databases[`forge-test-${i}`] = `DB_${i}`;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const mf = new Miniflare({
  modules: true,
  // The source, not a path: workerd refuses module paths outside its
  // starting directory (the working directory).
  script: readFileSync(path.join(here, "rest-worker.mjs"), "utf8"),
  compatibilityDate: "2026-07-30",
  host: "127.0.0.1",
  port,
  d1Databases,
  d1Persist: false,
  bindings: {
    API_TOKEN: values.token,
    ACCOUNT_ID: values.account,
    DATABASES: JSON.stringify(databases),
  },
});

let stopping = false;
async function stop(why) {
  if (stopping) return;
  stopping = true;
  let code = 0;
  try {
    await mf.dispose();
  } catch (e) {
    console.error(`serve.mjs: stopping Miniflare: ${e && e.stack || e}`);
    code = 1;
  }
  // Written synchronously: process.exit does not wait for a pipe.
  writeSync(1, `stopped (${why})\n`);
  process.exit(code);
}
// SIGTERM and SIGINT are Miniflare's: its exit hook (signal-exit) kills
// workerd and then the process. A handler here would not run first.

const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop("parent exited");
}, 500);

const url = await mf.ready;
console.log(`ready ${url} pid ${process.pid}`);
