// Package sockets opens TCP connections from a Go Cloudflare Worker: the
// runtime's connect() (from "cloudflare:sockets") as a net.Conn, for
// protocols that speak TCP, such as PostgreSQL through Hyperdrive (see the
// hyperdrive module). It does not link net/http.
//
//	conn, err := sockets.Connect(ctx, "db.example.com:5432", nil)
//	if err != nil {
//		return err
//	}
//	defer conn.Close()
//
// It is its own package, not part of edge/workers, because net.Conn links
// package net into the Worker, which a Worker without sockets need not pay
// for.
//
// # How it maps onto the runtime's socket
//
//   - Write writes to socket.writable; Read reads from socket.readable,
//     keeping what a read returned beyond len(p) for the next Read.
//   - At most one JavaScript read is outstanding. When a read deadline
//     passes (SetReadDeadline, SetDeadline), Read returns an error matching
//     os.ErrDeadlineExceeded at once and the outstanding read stays: its
//     bytes go to the next Read. No goroutine is left reading, so no byte is
//     ever lost or taken by a later reader. (A deadline that passes during
//     a Write returns likewise; the chunk may still be written, as the
//     runtime cannot take back a chunk handed to the stream.)
//   - Close closes the socket; a Read or Write blocked in it returns
//     net.ErrClosed. When the peer closes, Read returns io.EOF.
//   - StartTLS upgrades a socket opened with SecureTransport "starttls" to
//     TLS (the runtime's socket.startTls()), for protocols that negotiate
//     TLS in plain text first, such as PostgreSQL's SSLRequest.
//
// # Where it works
//
// Connect needs the entry module of package edge/workers (worker.mjs, which
// imports connect from "cloudflare:sockets" and hands it to Go); in other
// builds and runtimes it returns an error matching errors.ErrUnsupported.
// Under workerd (including Miniflare, where a Worker may connect to
// 127.0.0.1) the rules of the runtime apply: a socket belongs to the request
// that opened it and cannot be used by another, so open sockets per
// request; and port 25 is refused. Under workers.Serve every JavaScript call
// of a socket runs inside the request whose context was given to Connect
// (workers.HoldIO), whichever goroutine makes it, and an open socket keeps
// that request alive after its response: Close it (in the handler, or in
// Env.WaitUntil to finish after the response), or the runtime keeps the
// request until it cuts it short.
package sockets
