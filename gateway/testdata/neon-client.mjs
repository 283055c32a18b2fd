// Runs the real @neondatabase/serverless client (the version pinned in
// js/package.json) against forge's gateway and prints what it got as one
// JSON object, which TestNeonJSClient checks.
//
// Environment: FORGE_JS_DIR (js/ with node_modules), NEON_ENDPOINT (the
// gateway's URL); through the whole gateway, NEON_AUTH_TOKEN (sent as
// neon()'s authToken) and NEON_READ_TOKEN (a read token, whose writes must
// fail).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const pkg = join(process.env.FORGE_JS_DIR, 'node_modules', '@neondatabase', 'serverless', 'index.mjs');
const { neon, neonConfig } = await import(pathToFileURL(pkg).href);

neonConfig.fetchEndpoint = process.env.NEON_ENDPOINT;
const connString = 'postgresql://forge:secret@ep-forge-test-123456.us-east-2.aws.neon.tech/forge_test?sslmode=require';
const auth = process.env.NEON_AUTH_TOKEN ? { authToken: process.env.NEON_AUTH_TOKEN } : {};
const sql = neon(connString, auth);
const out = {};

// An error in a step is recorded, not thrown: the Go test reports it.
async function step(name, fn) {
  try {
    out[name] = await fn();
  } catch (e) {
    out[name] = { error: { name: e.name, message: e.message, code: e.code, constraint: e.constraint, position: e.position, detail: e.detail, table: e.table } };
  }
}

await step('params', () => sql.query(
  'SELECT $1::int AS n, $2::text AS s, $3::bool AS b, $4::int8 AS big, $5::jsonb AS j, $6::bytea AS raw, ' +
  '$7::timestamptz AS at, $8::text[] AS tags, $9::float8 AS f, $10::numeric AS price, $11::text AS gone, $12::int[] AS ints',
  [42, "it's \"quoted\" ünï", true, 9007199254740993n, { a: [1, null] }, Buffer.from([1, 2, 255]),
    new Date('2024-01-02T03:04:05.678Z'), ['x', 'y z', null], 3.5, '12.50', null, [1, 2, 3]]));

await step('template', () => sql`SELECT ${7}::int + 1 AS eight, ${'a'} || ${'b'} AS ab`);

await step('create', () => sql`CREATE TABLE items (id serial PRIMARY KEY, name text UNIQUE, at timestamptz DEFAULT now())`);

await step('insert', () => sql`INSERT INTO items (name) VALUES (${'a'}), (${'b'}) RETURNING id, name`);

await step('update', () => sql.query('UPDATE items SET name = name || $1', ['!'], { fullResults: true }));

await step('arrayMode', () => sql.query('SELECT id, name FROM items ORDER BY id', [], { arrayMode: true }));

await step('txCommit', () => sql.transaction([
  sql`INSERT INTO items (name) VALUES (${'c'})`,
  sql`SELECT count(*)::int AS n FROM items`,
  sql`SHOW transaction_isolation`,
], { isolationLevel: 'Serializable' }));

await step('txFail', () => sql.transaction([
  sql`INSERT INTO items (name) VALUES (${'d'})`,
  sql`INSERT INTO items (name) VALUES (${'e'})`,
  sql`INSERT INTO items (name) VALUES (${'a!'})`,
]));

await step('txReadOnly', () => sql.transaction((tx) => [
  tx`SELECT 1 AS one`,
  tx`INSERT INTO items (name) VALUES (${'ro'})`,
], { readOnly: true }));

await step('after', () => sql`SELECT name FROM items ORDER BY id`);

await step('syntax', () => sql`SELEC 1`);

if (process.env.NEON_READ_TOKEN) {
  const ro = neon(connString, { authToken: process.env.NEON_READ_TOKEN });
  await step('readSelect', () => ro`SELECT count(*)::int AS n FROM items`);
  await step('readInsert', () => ro`INSERT INTO items (name) VALUES (${'ro'})`);
  await step('readCTE', () => ro`WITH gone AS (DELETE FROM items RETURNING id) SELECT count(*) FROM gone`);
  await step('readTx', () => ro.transaction([ro`SELECT 1`, ro`UPDATE items SET name = name || '?'`]));
  await step('badToken', () => neon(connString, { authToken: 'not-a-token' })`SELECT 1`);
}

console.log(JSON.stringify(out));
