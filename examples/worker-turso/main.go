//go:build js && wasm

// Command worker-turso is a Cloudflare Worker in Go over libSQL (Turso or
// sqld) with a primary and a read replica: reads go to the replica, writes
// to the primary, and a client reads its own writes. See README.md.
//
//	GET  /notes   the notes: from the replica, or from the primary when the
//	              request carries the caller's last write (the
//	              x-forge-token header), which the replica cannot be shown
//	              to have
//	POST /notes   create one from {"text"} on the primary: 201 with the row
//	              and the x-forge-token header to send with the next request
//
// Vars: PRIMARY_URL and REPLICA_URL (libsql://, https:// or http://), and
// the secret AUTH_TOKEN when the servers need one.
package main

import (
	"context"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/edge/workers"
	"github.com/forge-orm/forge/fetch"
	"github.com/forge-orm/forge/fetch/jsfetch"
	"github.com/forge-orm/forge/libsql"
)

// TokenHeader carries forge's consistency token between a client's
// requests.
const TokenHeader = "x-forge-token"

func main() {
	workers.Serve(handle)
}

func open(env *workers.Env) (*forge.DB, error) {
	f := jsfetch.New()
	auth := env.Var("AUTH_TOKEN")
	primary, err := libsql.Open(libsql.Config{URL: env.Var("PRIMARY_URL"), AuthToken: auth, Fetch: f})
	if err != nil {
		return nil, err
	}
	replica, err := libsql.Open(libsql.Config{URL: env.Var("REPLICA_URL"), AuthToken: auth, Fetch: f})
	if err != nil {
		return nil, err
	}
	// Opening is cheap (no I/O): a DB per request, so one client's writes
	// do not send another's reads to the primary.
	return forge.Open(Schema, primary, forge.WithReplicas(replica))
}

func handle(ctx context.Context, req *workers.Request, env *workers.Env) (*workers.Response, error) {
	db, err := open(env)
	if err != nil {
		return nil, err
	}
	// The client's last write, if it sends one: its reads see it.
	ctx = forge.ReadAfter(ctx, forge.Token(req.Header.Get(TokenHeader)))
	switch {
	case req.Path() == "/notes" && req.Method == "GET":
		notes, err := Notes.FindMany(ctx, db, forge.OrderBy(&Notes.Cols().ID, forge.Asc))
		if err != nil {
			return nil, err
		}
		return workers.LeanJSON(200, NoteList(notes))
	case req.Path() == "/notes" && req.Method == "POST":
		v, err := workers.ParseJSON(req.Body)
		m, ok := v.(map[string]any)
		text, _ := m["text"].(string)
		if err != nil || !ok || text == "" {
			return workers.Text(400, `the body must be {"text": "..."} with a non-empty text`)
		}
		n, err := Notes.Create(ctx, db, Note{Text: text})
		if err != nil {
			return nil, err
		}
		res, err := workers.LeanJSON(201, n)
		if err != nil {
			return nil, err
		}
		res.Header = append(res.Header, fetch.Field{Name: TokenHeader, Value: string(db.Token())})
		return res, nil
	}
	return workers.Text(404, "no route for "+req.Method+" "+req.Path())
}
