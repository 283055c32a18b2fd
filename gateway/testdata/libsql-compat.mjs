// A compatibility suite for the real @libsql/client (the version pinned in
// js/package.json) against `forge gateway` started with its default
// limits. Each check throws on a mismatch; the script prints one JSON
// object, {"passed": [names], "failed": {name: message}}, which
// TestLibsqlClientCompat reads.
//
// Environment: FORGE_JS_DIR (js/ with node_modules), LIBSQL_URL (the
// gateway's base URL), LIBSQL_WRITE_TOKEN, LIBSQL_READ_TOKEN.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const pkg = join(process.env.FORGE_JS_DIR, 'node_modules', '@libsql', 'client', 'lib-esm', 'node.js');
const { createClient, LibsqlError } = await import(pathToFileURL(pkg).href);

const url = process.env.LIBSQL_URL;
const client = (extra = {}) => createClient({ url, authToken: process.env.LIBSQL_WRITE_TOKEN, ...extra });
const db = client();
const big = client({ intMode: 'bigint' });
const ro = createClient({ url, authToken: process.env.LIBSQL_READ_TOKEN });

const passed = [];
const failed = {};
async function check(name, fn) {
  try {
    await fn();
    passed.push(name);
  } catch (e) {
    failed[name] = `${e.name}: ${e.message}${e.code ? ` (${e.code})` : ''}`;
  }
}

// rejects checks that p fails with a LibsqlError of the given code.
async function rejects(p, code, pattern) {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LibsqlError, `not a LibsqlError: ${e}`);
    if (code) assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return e;
  }
  assert.fail(`no error, want ${code ?? 'an error'}`);
}

const row = async (c, stmt) => Array.from((await c.execute(stmt)).rows[0]);

// Arguments, every style.
await check('positional ?', async () => assert.deepEqual(await row(db, { sql: 'SELECT ?, ?', args: ['one', 'two'] }), ['one', 'two']));
await check('?NNN', async () => assert.deepEqual(await row(db, { sql: 'SELECT ?2, ?3, ?1', args: ['one', 'two', 'three'] }), ['two', 'three', 'one']));
await check('?NNN with holes', async () => assert.deepEqual(await row(db, { sql: 'SELECT ?3, ?1', args: ['one', 'two', 'three'] }), ['three', 'one']));
await check('?NNN and ?', async () => assert.deepEqual(await row(db, { sql: 'SELECT ?2, ?, ?3', args: ['one', 'two', 'three'] }), ['two', 'three', 'three']));
for (const sign of [':', '@', '$']) {
  await check(`${sign}name`, async () => assert.deepEqual(
    await row(db, { sql: `SELECT ${sign}b, ${sign}a`, args: { a: 'one', [`${sign}b`]: 'two' } }), ['two', 'one']));
  await check(`${sign}name used twice`, async () => assert.deepEqual(
    await row(db, { sql: `SELECT ${sign}b, ${sign}a, ${sign}b || ${sign}a`, args: { a: 'one', [`${sign}b`]: 'two' } }), ['two', 'one', 'twoone']));
  await check(`${sign}name and ?NNN`, async () => assert.deepEqual(
    await row(db, { sql: `SELECT ${sign}b, ${sign}a, ?1`, args: { a: 'one', [`${sign}b`]: 'two' } }), ['two', 'one', 'two']));
}
await check('mixed prefixes', async () => assert.deepEqual(
  await row(db, { sql: 'SELECT :a, @b, $c, ?2', args: { a: 1, '@b': 2, c: 3 } }), [1, 2, 3, 2]));
await check('missing argument', async () => rejects(db.execute({ sql: 'SELECT :a, :b', args: { a: 1 } }), 'ARGS_INVALID'));

// Values, every type.
await check('values', async () => {
  const blob = new Uint8Array([0, 1, 2, 255]);
  const r = await big.execute({
    sql: 'SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?',
    args: [null, 42, 9007199254740993n, -9223372036854775808n, 3.25, 'ünï 🎉 \u0000 nul', blob, blob.buffer, true, false,
      new Date('2024-01-02T03:04:05.678Z')],
  });
  const v = Array.from(r.rows[0]);
  assert.equal(v[0], null);
  assert.equal(v[1], 42); // a JS number is sent as a float
  assert.equal(v[2], 9007199254740993n);
  assert.equal(v[3], -9223372036854775808n);
  assert.equal(v[4], 3.25);
  assert.equal(v[5], 'ünï 🎉 \u0000 nul');
  assert.deepEqual(new Uint8Array(v[6]), blob);
  assert.deepEqual(new Uint8Array(v[7]), blob);
  assert.equal(v[8], 1n);
  assert.equal(v[9], 0n);
  assert.equal(v[10], 1704164645678); // a Date is sent as its milliseconds, a float
});
await check('every text char code', async () => {
  for (let i = 0; i < 256; i += 1) {
    const s = String.fromCharCode(i) + 'x' + String.fromCharCode(i);
    assert.equal((await db.execute({ sql: 'SELECT ?', args: [s] })).rows[0][0], s, `char ${i}`);
  }
});
await check('intMode number and string', async () => {
  const s = client({ intMode: 'string' });
  try {
    assert.equal((await s.execute('SELECT 9007199254740993')).rows[0][0], '9007199254740993');
  } finally {
    s.close();
  }
  // intMode number refuses an integer it cannot hold exactly.
  await assert.rejects(db.execute('SELECT 9007199254740993'), RangeError);
});
await check('float edge values', async () => {
  const v = await row(db, { sql: 'SELECT ?, ?, ?', args: [0.1, -1e308, 5e-324] });
  assert.deepEqual(v, [0.1, -1e308, 5e-324]);
});
await check('result metadata', async () => {
  await db.execute('CREATE TABLE meta (id INTEGER PRIMARY KEY, name TEXT)');
  const ins = await db.execute({ sql: 'INSERT INTO meta (name) VALUES (?), (?)', args: ['a', 'b'] });
  assert.equal(ins.rowsAffected, 2);
  assert.equal(ins.lastInsertRowid, 2n);
  const r = await db.execute('SELECT id, name FROM meta ORDER BY id');
  assert.deepEqual(r.columns, ['id', 'name']);
  assert.deepEqual(r.columnTypes, ['INTEGER', 'TEXT']);
  assert.equal(r.rows[1].name, 'b');
  assert.deepEqual(JSON.parse(JSON.stringify(r.toJSON())).rows, [[1, 'a'], [2, 'b']]);
});

// Batches: every mode, and large ones.
await check('batch write', async () => {
  const rs = await db.batch(['CREATE TABLE bw (a)', { sql: 'INSERT INTO bw VALUES (?)', args: [1] }, 'SELECT count(*) FROM bw'], 'write');
  assert.equal(rs[2].rows[0][0], 1);
});
await check('batch read', async () => {
  const rs = await db.batch(['SELECT count(*) FROM bw', 'SELECT 2'], 'read');
  assert.equal(rs[1].rows[0][0], 2);
  await rejects(db.batch(['INSERT INTO bw VALUES (2)'], 'read'), 'SQLITE_READONLY');
});
await check('batch deferred', async () => {
  const rs = await db.batch(['SELECT 1', { sql: 'INSERT INTO bw VALUES (?)', args: [3] }, 'SELECT count(*) FROM bw'], 'deferred');
  assert.equal(rs[2].rows[0][0], 2);
});
await check('batch without mode', async () => {
  const rs = await db.batch(['SELECT 7']);
  assert.equal(rs[0].rows[0][0], 7);
});
await check('batch of 1000 different statements', async () => {
  const stmts = Array.from({ length: 1000 }, (_, i) => `SELECT ${i}`);
  const rs = await db.batch(stmts, 'read');
  rs.forEach((r, i) => assert.equal(r.rows[0][0], i));
});
await check('batch of 4000 statements', async () => {
  const stmts = [];
  for (let i = 0; i < 20; i += 1) for (let j = 0; j < 200; j += 1) stmts.push({ sql: `SELECT ?, ${j}`, args: [i] });
  const rs = await db.batch(stmts, 'read');
  assert.equal(rs.length, 4000);
  assert.deepEqual(Array.from(rs[3999].rows[0]), [19, 199]);
});
await check('batch of 1500 inserts', async () => {
  const stmts = ['CREATE TABLE bulk (i INTEGER)'];
  for (let i = 0; i < 1500; i += 1) stmts.push({ sql: 'INSERT INTO bulk VALUES (?)', args: [i] });
  await db.batch(stmts, 'write');
  assert.equal((await db.execute('SELECT count(*), sum(i) FROM bulk')).rows[0][1], 1499 * 1500 / 2);
});
await check('failing batch rolls back', async () => {
  const e = await rejects(db.batch([{ sql: 'INSERT INTO bw VALUES (?)', args: [9] }, 'SELECT foobar'], 'write'), 'SQLITE_ERROR');
  assert.equal(e.statementIndex ?? 1, 1);
  assert.equal((await db.execute('SELECT count(*) FROM bw WHERE a = 9')).rows[0][0], 0);
});

// Interactive transactions.
await check('transaction commit', async () => {
  await db.execute('CREATE TABLE tx (a UNIQUE)');
  const tx = await db.transaction('write');
  await tx.execute({ sql: 'INSERT INTO tx VALUES (?)', args: [1] });
  assert.equal((await tx.execute('SELECT count(*) FROM tx')).rows[0][0], 1);
  await tx.batch([{ sql: 'INSERT INTO tx VALUES (?)', args: [2] }, { sql: 'INSERT INTO tx VALUES (?)', args: [3] }]);
  await tx.commit();
  assert.ok(tx.closed);
  assert.equal((await db.execute('SELECT count(*) FROM tx')).rows[0][0], 3);
});
await check('transaction rollback', async () => {
  const tx = await db.transaction('write');
  await tx.execute('INSERT INTO tx VALUES (10)');
  await tx.rollback();
  assert.equal((await db.execute('SELECT count(*) FROM tx WHERE a = 10')).rows[0][0], 0);
});
await check('transaction close', async () => {
  const tx = await db.transaction('write');
  await tx.execute('INSERT INTO tx VALUES (11)');
  tx.close();
  await rejects(tx.execute('SELECT 1'), 'TRANSACTION_CLOSED');
  assert.equal((await db.execute('SELECT count(*) FROM tx WHERE a = 11')).rows[0][0], 0);
});
await check('transaction errors do not roll back', async () => {
  const tx = await db.transaction('write');
  await rejects(tx.execute('SELECT foo'), 'SQLITE_ERROR');
  await tx.execute('INSERT INTO tx VALUES (12)');
  await rejects(tx.execute('INSERT INTO tx VALUES (1)'), 'SQLITE_CONSTRAINT');
  await tx.commit();
  assert.equal((await db.execute('SELECT count(*) FROM tx WHERE a = 12')).rows[0][0], 1);
});
await check('transaction read', async () => {
  const tx = await db.transaction('read');
  assert.equal((await tx.execute('SELECT count(*) FROM tx')).rows[0][0], 4);
  await rejects(tx.execute('INSERT INTO tx VALUES (13)'), 'SQLITE_READONLY');
  await tx.commit();
});
await check('transaction deferred', async () => {
  const tx = await db.transaction('deferred');
  await tx.execute('SELECT 1');
  await tx.execute('INSERT INTO tx VALUES (14)');
  await tx.commit();
  assert.equal((await db.execute('SELECT count(*) FROM tx WHERE a = 14')).rows[0][0], 1);
});
await check('transaction executeMultiple', async () => {
  const tx = await db.transaction('write');
  await tx.executeMultiple('INSERT INTO tx VALUES (15); INSERT INTO tx VALUES (16);');
  await tx.rollback();
  assert.equal((await db.execute('SELECT count(*) FROM tx WHERE a >= 15')).rows[0][0], 0);
});
await check('commit and rollback empty', async () => {
  await (await db.transaction('read')).commit();
  await (await db.transaction('read')).rollback();
});
await check('read token transaction', async () => {
  const tx = await ro.transaction('read');
  assert.equal((await tx.execute('SELECT count(*) FROM tx')).rows[0][0], 5);
  await tx.commit();
  await rejects(ro.execute('INSERT INTO tx VALUES (20)'), 'SQLITE_READONLY');
});

// Concurrency: more requests than the client's own limit (20), batches
// whose transactions must not interleave.
await check('100 concurrent write batches', async () => {
  await db.batch(['CREATE TABLE c1 (a)', 'CREATE TABLE c2 (a)'], 'write');
  const n = 100;
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    const rs = await db.batch([
      { sql: 'INSERT INTO c1 VALUES (?)', args: [i] },
      { sql: 'INSERT INTO c2 VALUES (?)', args: [i * 10] },
      'SELECT sum(a) FROM c1', 'SELECT sum(a) FROM c2'], 'write');
    assert.equal(rs[3].rows[0][0], rs[2].rows[0][0] * 10);
  }));
  assert.equal((await db.execute('SELECT sum(a) FROM c1')).rows[0][0], n * (n - 1) / 2);
});
await check('concurrency 24', async () => {
  const wide = client({ concurrency: 24 }); // under --max-concurrent's 32, with room
  try {
    const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => wide.execute({ sql: 'SELECT ?', args: [i] })));
    rs.forEach((r, i) => assert.equal(r.rows[0][0], i));
  } finally {
    wide.close();
  }
});
await check('concurrent transactions', async () => {
  const txs = await Promise.all(Array.from({ length: 10 }, () => db.transaction('read')));
  for (const tx of txs) assert.equal((await tx.execute('SELECT 1')).rows[0][0], 1);
  await Promise.all(txs.map((tx) => tx.commit()));
});

// executeMultiple and migrate.
await check('executeMultiple', async () => {
  await db.executeMultiple(`
    CREATE TABLE em (a);
    INSERT INTO em VALUES (1);
    -- a comment; with a semicolon
    INSERT INTO em VALUES ('x;y');
  `);
  assert.deepEqual((await db.execute('SELECT a FROM em ORDER BY rowid')).rows.map((r) => r[0]), [1, 'x;y']);
  await rejects(db.executeMultiple('INSERT INTO em VALUES (2); SELEC 1; INSERT INTO em VALUES (3)'), 'SQLITE_ERROR');
});
await check('migrate', async () => {
  assert.equal(typeof db.migrate, 'function');
  await db.migrate([
    'CREATE TABLE parent (id INTEGER PRIMARY KEY)',
    'CREATE TABLE kid (pid INTEGER REFERENCES parent (id))',
    'INSERT INTO kid VALUES (1)', // foreign keys are off during a migration
    'INSERT INTO parent VALUES (1)',
  ]);
  assert.equal((await db.execute('SELECT count(*) FROM kid')).rows[0][0], 1);
  // And on again afterwards.
  await rejects(db.execute('INSERT INTO kid VALUES (2)'), 'SQLITE_CONSTRAINT');
});

// Errors.
await check('constraint violations', async () => {
  await db.execute('CREATE TABLE k (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, n INTEGER CHECK (n > 0))');
  await db.execute("INSERT INTO k VALUES (1, 'a', 1)");
  for (const sql of ["INSERT INTO k VALUES (1, 'b', 1)", "INSERT INTO k VALUES (2, 'a', 1)", 'INSERT INTO k VALUES (3, NULL, 1)',
    "INSERT INTO k VALUES (4, 'd', 0)"]) {
    await rejects(db.execute(sql), 'SQLITE_CONSTRAINT', /constraint failed/);
  }
});
await check('syntax error', async () => rejects(db.execute('SELEC 1'), 'SQLITE_ERROR', /syntax error/));
await check('no such table', async () => rejects(db.execute('SELECT * FROM nope'), 'SQLITE_ERROR', /no such table/));
await check('two statements in execute', async () => rejects(db.execute('SELECT 1; SELECT 2'), 'SQL_MANY_STATEMENTS'));
await check('bad token', async () => {
  const bad = createClient({ url, authToken: 'nope' });
  try {
    await rejects(bad.execute('SELECT 1'), 'UNAUTHORIZED');
  } finally {
    bad.close();
  }
});
await check('refused PRAGMA', async () => rejects(db.execute("PRAGMA temp_store_directory = '/tmp'"), 'SQLITE_AUTH', /not allowed/));

db.close();
big.close();
ro.close();
console.log(JSON.stringify({ passed, failed }));
