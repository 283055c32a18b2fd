// Package hyperdrive is forge's driver for PostgreSQL behind Cloudflare
// Hyperdrive, from a Go Cloudflare Worker (GOOS=js GOARCH=wasm, served by
// package edge/workers): it reads the Worker's Hyperdrive binding and
// speaks PostgreSQL's protocol with pgx over the runtime's TCP sockets
// (edge/workers/sockets), through forge's pgx driver (pgx.FromConn).
//
//	workers.Serve(func(ctx context.Context, req *workers.Request, env *workers.Env) (*workers.Response, error) {
//		conn, err := hyperdrive.Open(ctx, env, "HYPERDRIVE")
//		if err != nil {
//			return nil, err
//		}
//		db, err := forge.Open(Schema, conn)
//		...
//	})
//
// # One connection per request
//
// A Worker cannot use a socket opened by another request, so Open dials one
// PostgreSQL connection for the request and closes it after the response,
// through the runtime's waitUntil (the request's context ending triggers
// it); Hyperdrive keeps the pool of connections to the database. The
// driver gives the connection to one caller at a time (see pgx.FromConn).
// Interactive transactions (db.Transaction) run on it, and db.Batch is one
// pipelined round trip. A context ending during a query sends PostgreSQL a
// cancel request (pgx.KeepOnCancel), so the connection stays usable.
//
// # TLS
//
// The binding's connection string says whether to use TLS (sslmode; the
// Hyperdrive of wrangler dev and Miniflare says disable). When it asks for
// TLS, the driver negotiates it as PostgreSQL does (an SSLRequest in plain
// text) and then upgrades the socket with the runtime's startTls(), so
// that the runtime, not Go's crypto/tls, does the TLS; sslmode=require
// fails when the server refuses, prefer (the default) and allow go on in
// plain text.
//
// # Size
//
// It is its own module so that a Worker without PostgreSQL does not link
// pgx: scripts/edge-bench reports the size of a Hyperdrive Worker and its
// first request beside a D1 Worker's.
//
// Outside js/wasm, Open returns an error matching errors.ErrUnsupported:
// use the pgx module there.
package hyperdrive
