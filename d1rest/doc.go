// Package d1rest is forge's driver for Cloudflare D1 through Cloudflare's
// REST API, for programs outside Workers: servers, CI, migrations. Inside a
// Worker use package d1 (the binding), which is faster, carries blobs and
// has an atomic batch.
//
//	conn, err := d1rest.Open(d1rest.Config{
//		AccountID:  os.Getenv("CLOUDFLARE_ACCOUNT_ID"),
//		DatabaseID: os.Getenv("D1_DATABASE_ID"),
//		APIToken:   os.Getenv("CLOUDFLARE_API_TOKEN"), // D1 Read or D1 Edit
//		Fetch:      nethttp.New(nil),                 // jsfetch.New() under GOOS=js
//	})
//	db, err := forge.Open(Schema, conn)
//
// Every call is one request, POST {BaseURL}/accounts/{AccountID}/d1/
// database/{DatabaseID}/raw with "Authorization: Bearer <APIToken>" and
// the body {"sql": ..., "params": [...]}; the reply is Cloudflare's
// envelope {success, errors, messages, result: [{success, meta, results:
// {columns, rows}}]}. The package never imports net/http: requests go
// through the fetch.Fetcher given in Config.
//
// # Capabilities
//
//	forge operation           over D1's REST API
//	------------------------  ---------------------------------------------------------------
//	queries (Query)           /raw; the whole result arrives at once (driver.BufferedRows)
//	writes (Exec)             /raw; RowsAffected from meta.changes, LastInsertID from
//	                          meta.last_row_id for an INSERT or REPLACE (for other statements
//	                          D1 reports the connection's last one, which is not theirs)
//	db.Transaction            *forge.CapabilityError: D1 has no interactive transactions
//	db.Batch, and CreateMany  *forge.CapabilityError: d1rest is not a driver.Batcher (see
//	  over several statements  Atomicity below); write one statement at a time
//	Dialect                   SQLite (STRICT tables, RETURNING) with D1's limit of 100 bound
//	                          parameters per statement (d1.Dialect): forge splits relation
//	                          loads to fit, and refuses a CreateMany that would need several
//	                          INSERTs rather than run them non-atomically
//	context cancellation      the request is abandoned and the call returns ctx's error at
//	                          once; the REST API cannot cancel a query, which runs on (D1
//	                          stops queries after 30 seconds)
//
// Exec also runs scripts of several statements separated by semicolons,
// which the API runs one after the other (RowsAffected is the sum of their
// changes); nothing in Cloudflare's reference says a script is atomic, and
// forge never sends one. Query reads the rows of exactly one statement.
//
// # Atomicity: why d1rest has no Batch
//
// The REST API accepts {"batch": [{"sql", "params"}, ...]}, but its
// reference does not say that a batch is atomic. The pages for the two
// endpoints (https://developers.cloudflare.com/api/resources/d1/subresources/database/methods/query/
// and .../methods/raw/) describe the body as "A single query object or a
// batch query object" and say of sql only "Supports multiple statements,
// joined by semicolons, which will be executed as a batch". All-or-nothing
// behaviour is documented for the Workers binding alone: D1Database::batch()
// (https://developers.cloudflare.com/d1/worker-api/d1-database/) says
// "Batched statements are SQL transactions. If a statement in the sequence
// fails, then an error is returned for that specific statement, and it
// aborts or rolls back the entire sequence." That sentence is not in the
// REST reference, and the REST API's batch cannot be tested without
// Cloudflare's service. forge must never run a "batch" that may apply
// half of its statements, so d1rest does not implement driver.Batcher:
// db.Batch and db.Transaction return forge's *CapabilityError, and so does
// a CreateMany that needs more than one INSERT. If Cloudflare documents
// REST batches as atomic, Batch can be added over {"batch": [...]}.
//
// # Values
//
// The REST API's params are strings (its published schema types them so).
// Arguments, checked before anything is sent (a refused one is a
// *ValueError and nothing runs):
//
//	Go                 sent as                          notes
//	-----------------  -------------------------------  --------------------------------------
//	nil                null                             NULL
//	int64, int32, int  decimal text: "42"               within ±(2^53-1); beyond is refused:
//	                                                    D1 would store it exactly but returns
//	                                                    integers as JavaScript numbers, so it
//	                                                    could never be read back (compare with
//	                                                    such a value by passing it as a string)
//	float64            shortest decimal text: "0.1"     NaN and ±Inf are refused; see below
//	bool               "1" or "0"                       SQLite has no boolean
//	string             as is                            must be valid UTF-8
//	time.Time          dialect.SQLiteTimeLayout text    UTC
//	[]byte             -                                refused: the REST API cannot carry
//	                                                    blobs; use the D1 binding in a Worker
//
// SQLite converts the text to the column's type (type affinity): a STRICT
// INTEGER or REAL column accepts text that converts losslessly, and a
// comparison with a column converts the same way. In an expression without
// a column (SELECT ? + 1) a parameter stays text.
//
// float64 is not always exact. SQLite converts decimal text to REAL with
// its own routine (sqlite3AtoF), which was exact in every test of decimals
// of up to 15 significant digits within 10^±22 (0.1, 19.99, 6.02214076e23:
// the values people type) but is not correctly rounded in general:
// measured against D1's engine, 312 of 2,000 random doubles (those that
// need 16 or 17 digits, or extreme exponents such as -1e-300) were stored
// one, at worst two, units in the last place away. No decimal text avoids
// it (17 or 21 significant digits fare no better than the shortest form),
// and the REST API offers no other form for a parameter. Comparisons with
// a float parameter convert it the same way, so they match what was
// stored. Reading is exact.
//
// Results, converted with driver.Assign (through driver.BufferedRows):
//
//	D1 returns                          read as    notes
//	----------------------------------  ---------  -------------------------------------------
//	null                                nil        NULL into a non-pointer is driver.ErrNull
//	number, integral within ±(2^53-1)   int64
//	any other number                    float64    into an integer destination it is an
//	                                               error, never a rounded value: D1 builds its
//	                                               replies in JavaScript, so 2^53+1 arrives as
//	                                               2^53 and 2^63-1 as 9223372036854776000
//	                                               (read such columns with CAST(col AS TEXT))
//	string                              string     times are parsed from text by Assign
//	array of integers 0..255 (a BLOB)   []byte
//	boolean, object, other array        -          a *ResponseError
//
// # Errors
//
//   - *ConfigError: Open refused the Config.
//   - *ValueError: an argument that cannot be sent exactly; nothing was sent.
//   - *APIError: the envelope said success: false (an SQL error, a bad token,
//     an unknown database), with the HTTP status and each error's code and
//     message.
//   - *driver.ConstraintError, wrapping the *APIError, when the message is
//     SQLite's report of a violated constraint (driver/sqliteerr).
//   - *fetch.StatusError: the reply is not Cloudflare's JSON envelope (an
//     HTML error page from a proxy, a truncated body), or reports success
//     with an error status.
//   - *ResponseError: an envelope whose content is not what the API sends.
//   - the Fetcher's error (wrapping ctx's) when no reply arrived.
//
// Only API tokens are supported (not the legacy X-Auth-Email/X-Auth-Key).
//
// # Tests
//
// There is no network to Cloudflare in forge's tests. They run D1's engine
// locally: testdata/serve.mjs starts Miniflare (workerd) with a pool of D1
// databases and testdata/rest-worker.mjs, a Worker that serves the REST
// endpoints on top of D1 bindings; forge's conformance suite runs against
// it, each test on a fresh database.
package d1rest
