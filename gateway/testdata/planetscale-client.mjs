// Runs the real @planetscale/database client (the version pinned in
// js/package.json) against forge's gateway and prints what it got as one
// JSON object, which TestPlanetScaleJSClient checks.
//
// Environment: FORGE_JS_DIR (js/ with node_modules), PS_URL (the write
// token's URL: http://writer:SECRET@127.0.0.1:PORT), PS_READ_URL (a read
// token's), PS_BAD_URL (an unknown secret).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const pkg = join(process.env.FORGE_JS_DIR, 'node_modules', '@planetscale', 'database', 'dist', 'index.js');
const { connect } = await import(pathToFileURL(pkg).href);

const conn = connect({ url: process.env.PS_URL });
const out = {};

// An error in a step is recorded, not thrown: the Go test reports it.
async function step(name, fn) {
  try {
    out[name] = await fn();
  } catch (e) {
    out[name] = { error: { name: e.name, message: e.message, status: e.status, code: e.body?.code } };
  }
}
const rows = (r) => r.rows;
const enc = (v) => (v instanceof Uint8Array ? { bytes: Array.from(v) } : v);
const plain = (r) => r.rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, enc(v)])));

await step('create', async () => {
  await conn.execute(`CREATE TABLE vals (id INT PRIMARY KEY, i8 TINYINT, i64 BIGINT, u64 BIGINT UNSIGNED, f DOUBLE, fl FLOAT,
    d DECIMAL(20,4), dt DATETIME(3), dd DATE, tm TIME, y YEAR, s VARCHAR(50), t LONGTEXT, b VARBINARY(10), bl BLOB, j JSON, e ENUM('x','y'), n INT)`);
  await conn.execute('CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) NOT NULL UNIQUE)');
  return 'ok';
});
await step('insert', async () => {
  const r = await conn.execute('INSERT INTO vals VALUES (?, ?, ?, 18446744073709551615, ?, 0.5, ?, ?, ?, ?, 2024, ?, ?, ?, ?, ?, ?, NULL)',
    [1, -128, 9007199254740993n, 3.25, '12345678901234.5678', new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), '2024-02-29', '-01:02:03',
      "it's \"quoted\" \\ ünï", 'x'.repeat(1000), new Uint8Array([0, 1, 255]), new Uint8Array([]), JSON.stringify({ a: [1, null] }), 'y']);
  return { rowsAffected: r.rowsAffected, insertId: r.insertId };
});
await step('select', async () => plain(await conn.execute('SELECT id, i8, i64, u64, f, fl, d, dt, dd, tm, y, s, CAST(LENGTH(t) AS SIGNED) AS tl, b, bl, j, e, n FROM vals')));
await step('types', async () => (await conn.execute('SELECT id, i64, d, b, n FROM vals')).fields.map((f) => [f.name, f.type]));
await step('arrays', async () => (await conn.execute('SELECT 1 AS a, NULL AS b, ? AS c', ['z'], { as: 'array' })).rows);
await step('named', async () => rows(await conn.execute('SELECT :a AS a, :b AS b', { a: 7, b: 'bee' })));
await step('autoinc', async () => {
  const a = await conn.execute('INSERT INTO items (name) VALUES (?)', ['a']);
  const b = await conn.execute('INSERT INTO items (name) VALUES (?), (?)', ['b', 'c']);
  return [a.insertId, a.rowsAffected, b.insertId, b.rowsAffected];
});
await step('update', async () => (await conn.execute("UPDATE items SET name = CONCAT(name, '!') WHERE name <> ?", ['zzz'])).rowsAffected);
await step('duplicate', () => conn.execute('INSERT INTO items (name) VALUES (?)', ['a!']));
await step('syntax', () => conn.execute('SELEC 1'));
await step('txCommit', async () => {
  const r = await conn.transaction(async (tx) => {
    await tx.execute('INSERT INTO items (name) VALUES (?)', ['tx1']);
    const inside = await tx.execute('SELECT COUNT(*) AS n FROM items');
    return inside.rows[0].n;
  });
  return r;
});
await step('txRollback', async () => {
  try {
    await conn.transaction(async (tx) => {
      await tx.execute('INSERT INTO items (name) VALUES (?)', ['tx2']);
      await tx.execute('INSERT INTO items (name) VALUES (?)', ['a!']); // duplicate: throws
    });
    return 'committed';
  } catch (e) {
    return { rolledBack: e.name };
  }
});
await step('txThrow', async () => {
  try {
    await conn.transaction(async (tx) => {
      await tx.execute('INSERT INTO items (name) VALUES (?)', ['tx3']);
      throw new Error('boom');
    });
  } catch (e) {
    return e.message;
  }
});
await step('concurrent', async () => {
  // Transactions on separate sessions at once, and statements outside.
  const work = [];
  for (let i = 0; i < 6; i++) {
    work.push(conn.transaction(async (tx) => {
      await tx.execute('INSERT INTO items (name) VALUES (?)', ['c' + i]);
      return (await tx.execute('SELECT name FROM items WHERE name = ?', ['c' + i])).rows.length;
    }));
    work.push(conn.execute('SELECT 1 AS one').then((r) => r.rows[0].one));
  }
  return Promise.all(work);
});
await step('after', async () => rows(await conn.execute('SELECT name FROM items ORDER BY name')).map((r) => r.name));
if (process.env.PS_READ_URL) {
  const ro = connect({ url: process.env.PS_READ_URL });
  await step('readSelect', async () => rows(await ro.execute('SELECT COUNT(*) AS n FROM items')));
  await step('readInsert', () => ro.execute("INSERT INTO items (name) VALUES ('r')"));
  await step('readTx', () => ro.transaction(async (tx) => tx.execute("DELETE FROM items")));
  await step('readTxSelect', () => ro.transaction(async (tx) => (await tx.execute('SELECT COUNT(*) AS n FROM items')).rows));
}
if (process.env.PS_BAD_URL) {
  await step('badToken', () => connect({ url: process.env.PS_BAD_URL }).execute('SELECT 1'));
}
console.log(JSON.stringify(out));
