// rest-worker.mjs: Cloudflare D1's REST API, served by a Worker on top of
// real D1 bindings, so that forge's d1rest driver can be tested against
// D1's own engine (workerd through Miniflare: serve.mjs) without a network
// to Cloudflare.
//
// Routes, as api.cloudflare.com/client/v4 has them:
//
//	POST /client/v4/accounts/:account/d1/database/:database/query   rows as objects
//	POST /client/v4/accounts/:account/d1/database/:database/raw     rows as arrays
//
// Body {"sql": "...", "params": ["...", null, ...]}. The reply is
// Cloudflare's envelope, {success, errors, messages, result: [{success,
// meta, results}]}; an error is {success: false, errors: [{code, message}]}
// with a 4xx status.
//
// Environment (set by serve.mjs): API_TOKEN, the bearer token to require;
// ACCOUNT_ID, the account in the path; DATABASES, a JSON object mapping
// each database id to the name of its D1 binding.
//
// How each endpoint reaches D1:
//
//   - /query runs env.DB.prepare(sql).bind(...params).all(): the D1Result
//     (rows as objects, and meta) is what /query returns per statement.
//   - /raw needs rows as arrays AND meta, but the binding's raw() returns
//     only the arrays (it drops meta). So /raw sends the request that
//     raw() itself sends, through the same binding's transport (its
//     `fetcher`): POST http://d1/query?resultsFormat=ROWS_AND_COLUMNS with
//     {sql, params}, whose reply {success, meta, results: {columns, rows}}
//     comes from D1's engine unchanged. If a future binding hides that
//     field, /raw answers 500 saying so rather than inventing meta.
//
// Parameters are bound as given: strings (the published schema types them
// as strings) and null. Batches ({"batch": [...]}) are refused: forge's
// d1rest driver does not send them, because Cloudflare does not document
// them as atomic (see the package doc of d1rest).

const json = (status, body) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });

const fail = (status, code, message) =>
  json(status, { success: false, errors: [{ code, message }], messages: [], result: null });

const ok = (result) => json(200, { success: true, errors: [], messages: [], result });

// D1's errors, as the binding throws them, start with a code such as
// "D1_ERROR: "; the underlying message (SQLite's) is in the cause.
const d1Message = (e) =>
  (e && e.cause && typeof e.cause.message === "string" && e.cause.message) ||
  (e && typeof e.message === "string" ? e.message.replace(/^D1_[A-Z_]+: /, "") : String(e));

const route = /^\/client\/v4\/accounts\/([^/]+)\/d1\/database\/([^/]+)\/(query|raw)$/;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const m = route.exec(url.pathname);
    if (!m) {
      return fail(404, 7003, `Could not route to ${url.pathname}, perhaps your object identifier is invalid?`);
    }
    if (request.method !== "POST") {
      return fail(405, 10000, `${request.method} is not allowed; use POST`);
    }
    if (request.headers.get("authorization") !== `Bearer ${env.API_TOKEN}`) {
      return fail(401, 10000, "Authentication error");
    }
    const [, account, databaseId, endpoint] = m;
    if (decodeURIComponent(account) !== env.ACCOUNT_ID) {
      return fail(403, 10000, "Authentication error: the token has no access to this account");
    }
    const binding = JSON.parse(env.DATABASES)[decodeURIComponent(databaseId)];
    const db = binding && env[binding];
    if (!db) {
      return fail(404, 7404, `The database ${decodeURIComponent(databaseId)} could not be found`);
    }

    let body;
    try {
      body = await request.json();
    } catch (e) {
      return fail(400, 7400, `The request body is not JSON: ${e.message}`);
    }
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      return fail(400, 7400, "The request body must be an object {sql, params}");
    }
    if ("batch" in body) {
      return fail(400, 7400, "batch is not served by this test worker (forge's d1rest driver does not send batches)");
    }
    const { sql } = body;
    const params = body.params ?? [];
    if (typeof sql !== "string" || sql.trim() === "") {
      return fail(400, 7400, "sql must be a non-empty string");
    }
    if (!Array.isArray(params) || !params.every((p) => p === null || typeof p === "string")) {
      return fail(400, 7400, "params must be an array of strings (or null)");
    }

    if (endpoint === "query") {
      try {
        const r = await db.prepare(sql).bind(...params).all();
        return ok([{ success: true, meta: r.meta, results: r.results }]);
      } catch (e) {
        return fail(400, 7500, d1Message(e));
      }
    }

    if (!db.fetcher || typeof db.fetcher.fetch !== "function") {
      return fail(500, 7500, "this D1 binding has no fetcher: /raw cannot get meta with the rows (update rest-worker.mjs)");
    }
    let reply;
    try {
      const res = await db.fetcher.fetch("http://d1/query?resultsFormat=ROWS_AND_COLUMNS", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sql, params }),
      });
      reply = JSON.parse(await res.text());
    } catch (e) {
      return fail(500, 7500, d1Message(e));
    }
    const results = Array.isArray(reply) ? reply : [reply];
    const failed = results.find((r) => !r || r.success === false || r.error);
    if (failed) {
      return fail(400, 7500, String((failed && failed.error) || "D1 reported a failure without a message"));
    }
    return ok(results.map((r) => ({ success: true, meta: r.meta, results: r.results ?? { columns: [], rows: [] } })));
  },
};
