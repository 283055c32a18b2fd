// Package libsql is forge's driver for libSQL servers — sqld, Turso — over
// Hrana's HTTP protocol (POST /v2/pipeline with JSON, what @libsql/client
// speaks for http:, https: and libsql: URLs). It imports neither net/http
// nor syscall/js: the HTTP transport is a fetch.Fetcher, so the same code
// runs on a server and, compiled to WebAssembly, in Cloudflare Workers.
//
// # Opening
//
// On a server or in CI, with net/http:
//
//	conn, err := libsql.Open(libsql.Config{
//		URL:       "libsql://my-db-my-org.turso.io", // or http://127.0.0.1:8080 for a local sqld
//		AuthToken: os.Getenv("TURSO_AUTH_TOKEN"),
//		Fetch:     nethttp.New(nil), // github.com/forge-orm/forge/fetch/nethttp
//	})
//	db, err := forge.Open(schema, conn)
//
// In a Worker (GOOS=js GOARCH=wasm), with the runtime's fetch, so that
// net/http is never linked:
//
//	conn, err := libsql.Open(libsql.Config{URL: url, AuthToken: token, Fetch: jsfetch.New()})
//
// libsql://host means https://host (libsql://host?tls=0 means http); a
// URL may carry ?authToken=... instead of Config.AuthToken. A path is
// kept as a directory: https://host/db posts to https://host/db/v2/pipeline
// (@libsql/client would post to https://host/v2/pipeline unless the URL
// ends in "/"). ws:// and wss:// URLs are refused: this driver speaks
// HTTP only. Open does no I/O, and a Conn holds no connection: it is safe
// for concurrent use and costs nothing to keep or to create per request.
//
// # Statements and capabilities
//
// Query and Exec are one POST each: [execute, close], no stream kept.
//
// Batch (driver.Batcher; what db.Batch and multi-statement CreateMany
// use) is one POST and atomic, exactly like @libsql/client's
// batch("write"): a Hrana batch of BEGIN IMMEDIATE, each statement on the
// condition that the step before it succeeded, COMMIT if the last
// statement succeeded, ROLLBACK unless COMMIT succeeded, then close. A
// failing statement leaves nothing written and returns a
// *driver.BatchError with that statement's index. Each statement returns
// its rows affected and last insert id and, when it asks for rows, its
// rows as a *driver.BufferedRows.
//
// Begin (driver.Beginner; db.Transaction) runs an interactive
// transaction on a Hrana stream: the driver keeps the stream's baton,
// sends one request at a time on it (waiting for the previous one; the
// wait honours the context), and follows the server's base_url when it
// names another address for the stream. BEGIN IMMEDIATE travels with the
// first statement, in the same round trip, as a batch in which the
// statement runs only if BEGIN succeeded; a transaction that runs nothing
// sends nothing. Commit and Rollback send COMMIT or ROLLBACK and close the
// stream: a transaction of n statements costs n+1 round trips. Savepoints
// (forge's nested transactions) are plain statements on the stream.
//
//   - Isolation: SQLite runs every transaction SERIALIZABLE, so every
//     standard level is accepted (each gets at least the guarantees it
//     asks for); any other level is a *driver.CapabilityError.
//   - ReadOnly: BEGIN TRANSACTION READONLY, which sqld accepts (and may
//     use to serve the transaction from a replica) but does not enforce:
//     sqld 0.24 runs an INSERT inside it, and refuses PRAGMA query_only.
//     So in a read-only transaction each statement travels with a
//     describe request in the same round trip, and a statement that is
//     not read-only rolls the whole transaction back and returns a
//     *ReadOnlyError: nothing it wrote can be committed.
//   - The stream lives on the server, which bounds it. Measured on sqld
//     0.24: a stream idle for about 10 s expires (HTTP 400,
//     STREAM_EXPIRED); a transaction that holds the write lock while
//     another writer waits is ended after about 5 s (TRANSACTION_TIMEOUT)
//     and the waiting writer proceeds; a request abandoned because its
//     context ended makes sqld roll the transaction back at once. After
//     any of these, or any HTTP error, the transaction's calls return an
//     error wrapping ErrStreamLost: nothing of it can be committed.
//
// # Values
//
// Arguments (forge's driver contract, plus Go's other integer types):
//
//	Go                        Hrana value
//	nil, []byte(nil)          null
//	int64, int32, int, ...    integer, as a decimal string: exact over all of int64
//	uint64, uint              integer; above math.MaxInt64 is an *ArgError
//	bool                      integer 1 or 0 (SQLite has no boolean)
//	float64, float32          float (a JSON number); NaN and ±Inf are an *ArgError
//	string                    text
//	[]byte                    blob, base64 (an empty non-nil slice is an empty blob)
//	time.Time                 text, UTC, dialect.SQLiteTimeLayout (fixed width: text order is time order)
//	anything else             *ArgError (ErrUnsupportedArg)
//
// Results are decoded to null → nil, integer → int64 (exact),
// float → float64, text → string, blob → []byte, and scanned by
// driver.BufferedRows and driver.Assign like every forge driver's: into
// *int64, *float64, *bool, *string, *[]byte, *time.Time (from text), their
// pointer-to-pointer forms for NULL, or *any. Column names are the
// result's cols[].name.
//
// What cannot be carried: JSON has no NaN or ±Inf, so such an argument is
// an *ArgError wrapping hrana.ErrNonFiniteFloat, and a result holding one
// (sqld sends {"type":"float","value":null}) fails with a *ProtocolError
// naming the value; store such floats as text if you need them.
//
// # Errors
//
//   - A statement's error is an *Error with the server's code and message
//     (SQLITE_ERROR, SQL_PARSE_ERROR, ...); a constraint violation
//     (SQLITE_CONSTRAINT) is a *driver.ConstraintError (forge's
//     *forge.ConstraintError) wrapping it, with kind, table and columns.
//   - A non-2xx response is an *Error with Status set when its body is a
//     JSON error ({"message":..., "code":...}, such as STREAM_EXPIRED),
//     else a *fetch.StatusError with the status and body.
//   - A response that breaks the protocol (not JSON, a missing field, a
//     value of an unknown type, an integer that is not an int64, bad
//     base64, the wrong number of results) is a *ProtocolError; the
//     driver never panics on a server's response.
//   - When the context ends the driver stops waiting at once and returns
//     an error for which errors.Is(err, ctx.Err()) holds; the Fetcher
//     gets the context and abandons the request (sqld then stops the
//     statement). A request already sent may still have taken effect:
//     after a Batch or Commit whose context ended, the outcome is unknown
//     (a Batch is still all or nothing).
//
// # Positions
//
// Conn implements driver.Positioner with sqld's replication index, which
// every result carries: forge's Watch polls it (one SELECT 1 per interval)
// and forge.WithReplicas records the primary's after a write. A replica
// sqld (--primary-grpc-url) also reports one, but it was measured ahead of
// the rows the replica's reads return, and going back between requests:
// forge does not use it to decide that a replica has a write (see
// forge.WithReplicas).
package libsql
