//go:build js && wasm

package d1

import (
	"errors"
	"strings"
	"syscall/js"
)

// Session returns a driver over a D1 session (the Sessions API,
// binding.withSession): every query through it is sequentially consistent
// with the ones before it, and with the writes that produced bookmark when
// bookmark is one a previous session returned (Bookmark). This is how D1's
// read replicas give read-your-writes: a Worker reads the client's last
// bookmark from a cookie or header (D1's documentation suggests
// x-d1-bookmark), runs the request in Session(bookmark), and sends back
// Bookmark() after it. An empty bookmark starts at FirstUnconstrained;
// FirstPrimary and FirstUnconstrained are accepted as they are. D1 routes
// the session's queries itself; forge's WithReplicas is not used with D1.
//
// D1 checks bookmarks, not forge: a malformed one makes the queries fail
// with D1's error. Locally (Miniflare) there are no replicas and any
// bookmark is accepted.
func (c *Conn) Session(bookmark string) (*Conn, error) {
	if bookmark == "" {
		bookmark = FirstUnconstrained
	}
	if len(bookmark) > 256 || strings.ContainsFunc(bookmark, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return nil, errors.New("forge/d1: a bookmark is printable ASCII of at most 256 bytes; this one is not (send the value Bookmark returned)")
	}
	if c.db.Get("withSession").Type() != js.TypeFunction {
		return nil, errors.New("forge/d1: the binding has no withSession method: this runtime's D1 has no Sessions API (update the Worker's compatibility date or wrangler)")
	}
	var s js.Value
	if err := call(func() { s = c.db.Call("withSession", bookmark) }); err != nil {
		return nil, err
	}
	return &Conn{db: s}, nil
}

// Bookmark returns the bookmark of the latest query of a session (see
// Session): where the session's view of the database stands, to start the
// next session from. It is "" on a Conn that is not a session, and before
// the session's first query.
func (c *Conn) Bookmark() string {
	f := c.db.Get("getBookmark")
	if f.Type() != js.TypeFunction {
		return ""
	}
	var b js.Value
	if err := call(func() { b = c.db.Call("getBookmark") }); err != nil || b.Type() != js.TypeString {
		return ""
	}
	return b.String()
}
