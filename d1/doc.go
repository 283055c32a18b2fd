// Package d1 is forge's driver for Cloudflare D1 through a Worker's binding
// (env.DB), for Go compiled to WebAssembly (GOOS=js GOARCH=wasm) and run as
// a Worker with package edge/workers:
//
//	workers.Serve(func(ctx context.Context, req *workers.Request, env *workers.Env) (*workers.Response, error) {
//		conn, err := d1.FromEnv(env, "DB")
//		if err != nil {
//			return nil, err
//		}
//		db, err := forge.Open(Schema, conn) // no I/O: a DB per request costs microseconds
//		if err != nil {
//			return nil, err
//		}
//		users, err := Users.FindMany(ctx, db, forge.Take(10))
//		...
//	})
//
// It calls the binding through syscall/js and does not link net/http. A
// statement's arguments cross into JavaScript as one JSON text (blobs as
// Uint8Arrays) and its rows come back as one (JSON.stringify of D1's
// result): every JavaScript string or object a Go program holds costs it a
// finalizer, far more than parsing a few hundred bytes.
// Outside js/wasm, Open and FromEnv return
// ErrUnsupported (and take an untyped argument, as there is no
// syscall/js): from servers, CI and the CLI, reach D1 with the d1rest
// driver over Cloudflare's REST API.
//
// # Capabilities
//
//	forge operation           on D1
//	------------------------  ---------------------------------------------------------------
//	queries (Query)           prepare(sql).bind(...).raw({columnNames: true})
//	writes (Exec)             prepare(sql).bind(...).run(): RowsAffected from meta.changes,
//	                          LastInsertID from meta.last_row_id (INSERT and REPLACE only)
//	db.Batch, CreateMany      db.batch([...]): one round trip, one transaction; all or nothing
//	  over several statements
//	db.Transaction            *forge.CapabilityError "use db.Batch": D1 has no interactive
//	                          transactions (batch is its only atomic unit), and the driver
//	                          does not pretend otherwise
//	Dialect                   SQLite (STRICT tables, RETURNING, ?NNN placeholders) with D1's
//	                          limit of 100 bound parameters per statement (Dialect), so forge
//	                          splits multi-row inserts to fit
//	context cancellation      checked before each call; a running D1 query cannot be
//	                          stopped: the call returns ctx's error and the query runs on
//
// # Values
//
// Arguments, checked before anything is sent (a refused one is a
// *ValueError and nothing runs):
//
//	Go                        sent to D1 as                  notes
//	------------------------  -----------------------------  ------------------------------------
//	nil                       null                           NULL
//	int64, int32, int         number                         within ±(2^53-1); beyond is an error:
//	                                                         a double cannot hold it (2^53 and
//	                                                         2^53+1 are one number) and D1 refuses
//	                                                         BigInt; store such values as text
//	float64                   number                         NaN and ±Inf are errors
//	bool                      1 or 0                         SQLite has no boolean
//	string                    string                         must be valid UTF-8 (use []byte for
//	                                                         binary data)
//	[]byte                    Uint8Array                     a BLOB; nil is an empty BLOB
//	time.Time                 string                         UTC, dialect.SQLiteTimeLayout
//	anything else             -                              an error
//
// Results, converted with driver.Assign like every driver that decodes
// values itself:
//
//	D1 returns                read as           notes
//	------------------------  ----------------  ---------------------------------------------
//	null                      nil               NULL into a non-pointer is driver.ErrNull
//	number, integral, within  int64
//	  ±(2^53-1)
//	any other number          float64           into an integer destination it is an error
//	                                            (the INTEGER may have been rounded in transit)
//	string                    string            times are parsed from text by Assign
//	array of byte numbers,    []byte
//	  ArrayBuffer or view
//
// # Errors
//
// The binding throws errors whose message starts with a code
// ("D1_ERROR: ..."). A constraint violation (SQLite's "UNIQUE constraint
// failed: users.email") becomes a *driver.ConstraintError (forge adds the
// model and fields); any other is an *Error with the code and message. D1
// does not say which statement of a failed batch failed: the error is a
// *driver.BatchError only when the driver knows (an argument refused before
// sending, or a batch of one statement).
//
// # Read replication
//
// D1 routes reads to its replicas only inside a session (the Sessions
// API): Conn.Session(bookmark) returns a Conn over one, and Bookmark, after
// the request's queries, the bookmark to hand to the client (a cookie or a
// header) and back to Session on its next request, so it reads its own
// writes. forge's Watch on D1 polls a counter table its triggers keep
// (forge.ChangesTable).
package d1
