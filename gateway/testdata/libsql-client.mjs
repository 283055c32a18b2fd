// Runs the real @libsql/client (the version pinned in js/package.json)
// against forge's gateway and prints what it got as one JSON object,
// which TestLibsqlJSClient checks.
//
// Environment: FORGE_JS_DIR (js/ with node_modules), LIBSQL_URL (the
// gateway's base URL), LIBSQL_WRITE_TOKEN, LIBSQL_READ_TOKEN.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const pkg = join(process.env.FORGE_JS_DIR, 'node_modules', '@libsql', 'client', 'lib-esm', 'node.js');
const { createClient } = await import(pathToFileURL(pkg).href);

const url = process.env.LIBSQL_URL;
const db = createClient({ url, authToken: process.env.LIBSQL_WRITE_TOKEN, intMode: 'bigint' });
const ro = createClient({ url, authToken: process.env.LIBSQL_READ_TOKEN, intMode: 'bigint' });
const nobody = createClient({ url, authToken: 'not-a-token' });
const out = {};

// Values JSON cannot hold are tagged, as in the captured vectors.
function plain(v) {
  if (typeof v === 'bigint') return { $bigint: v.toString() };
  if (v instanceof ArrayBuffer) return { $bytes_b64: Buffer.from(v).toString('base64') };
  if (v instanceof Date) return { $date: v.toISOString() };
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

function rs(r) {
  return {
    columns: r.columns, columnTypes: r.columnTypes,
    rows: r.rows.map((row) => Array.from(row, plain)),
    rowsAffected: r.rowsAffected, lastInsertRowid: plain(r.lastInsertRowid),
  };
}

// An error in a step is recorded, not thrown: the Go test reports it.
async function step(name, fn) {
  try {
    out[name] = await fn();
  } catch (e) {
    out[name] = { error: { name: e.name, message: e.message, code: e.code, index: e.statementIndex } };
  }
}

await step('create', async () => rs(await db.execute(
  'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE, big INTEGER, f REAL, ok INTEGER, raw BLOB, at TEXT, meta TEXT)')));

await step('params', async () => rs(await db.execute({
  sql: 'SELECT ? AS big, ? AS neg, ? AS f, ? AS ok, ? AS s, ? AS raw, ? AS empty, ? AS nul, ? AS at, ? AS meta, ? AS ms',
  args: [9007199254740993n, -9223372036854775808n, 3.141592653589793, true, "it's \"quoted\" — ünï 🎉", new Uint8Array([1, 2, 255]),
    new Uint8Array([]), null, '2024-01-02T03:04:05.678+05:30', JSON.stringify({ a: [1, null, 'x'] }), new Date('2024-01-02T03:04:05.678Z')],
})));

await step('named', async () => rs(await db.execute({ sql: 'SELECT :a AS a, @b AS b, $c AS c', args: { a: 1n, b: 'x', c: null } })));

await step('insert', async () => rs(await db.execute({
  sql: 'INSERT INTO items (name, big, f, ok, raw, at, meta) VALUES (?, ?, ?, ?, ?, ?, ?), (?, NULL, NULL, NULL, NULL, NULL, NULL) RETURNING id, name, big',
  args: ['a', 9223372036854775807n, 0.1, false, new Uint8Array([0, 0]), '2024-06-01T12:00:00-07:00', '{"k":"v"}', 'b'],
})));

await step('select', async () => rs(await db.execute('SELECT id, name, big, f, ok, raw, at, meta FROM items ORDER BY id')));

await step('batchCommit', async () => (await db.batch([
  { sql: 'INSERT INTO items (name) VALUES (?)', args: ['c'] },
  { sql: 'UPDATE items SET f = ? WHERE name = ?', args: [2.5, 'c'] },
  'SELECT count(*) AS n FROM items',
], 'write')).map(rs));

await step('batchFail', async () => (await db.batch([
  { sql: 'INSERT INTO items (name) VALUES (?)', args: ['d'] },
  { sql: 'INSERT INTO items (name) VALUES (?)', args: ['a'] },
  { sql: 'INSERT INTO items (name) VALUES (?)', args: ['e'] },
], 'write')).map(rs));

await step('txCommit', async () => {
  const tx = await db.transaction('write');
  await tx.execute({ sql: 'INSERT INTO items (name) VALUES (?)', args: ['t1'] });
  const n = await tx.execute('SELECT count(*) AS n FROM items');
  await tx.commit();
  return rs(n);
});

await step('txRollback', async () => {
  const tx = await db.transaction('write');
  await tx.execute({ sql: 'INSERT INTO items (name) VALUES (?)', args: ['t2'] });
  await tx.rollback();
  return 'rolled back';
});

await step('txFail', async () => {
  const tx = await db.transaction('write');
  try {
    await tx.execute({ sql: 'INSERT INTO items (name) VALUES (?)', args: ['t3'] });
    await tx.execute({ sql: 'INSERT INTO items (name) VALUES (?)', args: ['a'] });
    await tx.commit();
    return 'committed';
  } finally {
    tx.close();
  }
});

await step('after', async () => rs(await db.execute('SELECT name FROM items ORDER BY id')));

await step('multiple', async () => {
  await db.executeMultiple("CREATE TABLE m (a INTEGER); INSERT INTO m VALUES (1); INSERT INTO m VALUES (2);");
  return rs(await db.execute('SELECT sum(a) AS s FROM m'));
});

await step('readOk', async () => rs(await ro.execute('SELECT count(*) AS n FROM items')));
await step('readBatch', async () => (await ro.batch(['SELECT count(*) AS n FROM items', 'SELECT 1 AS one'], 'read')).map(rs));
await step('readWrite', async () => rs(await ro.execute("INSERT INTO items (name) VALUES ('ro')")));
await step('readWriteCTE', async () => rs(await ro.execute("WITH x AS (SELECT 1) DELETE FROM items WHERE id IN (SELECT * FROM x)")));
await step('readBatchWrite', async () => (await ro.batch(["INSERT INTO items (name) VALUES ('ro2')"], 'write')).map(rs));
await step('readOnlyTx', async () => (await db.batch(["INSERT INTO items (name) VALUES ('ro3')"], 'read')).map(rs));
await step('badToken', async () => rs(await nobody.execute('SELECT 1')));
await step('syntax', async () => rs(await db.execute('SELEC 1')));
await step('final', async () => rs(await db.execute('SELECT count(*) AS n FROM items')));

db.close();
ro.close();
nobody.close();
console.log(JSON.stringify(out));
