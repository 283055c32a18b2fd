//go:build js && wasm

// Command worker-neon is a users API over Neon's SQL-over-HTTP protocol,
// run as a Vercel Edge Function (or a Cloudflare Worker: the glue is the
// same). See README.md to build, test and deploy it.
//
//	GET    /users?take=N   list users by id (N: 1-100, default 10)
//	POST   /users          create one from {"email", "name"}: 201 with the row,
//	                       409 naming the field when the email is taken
//	GET    /users/{id}     one user, or 404
//	DELETE /users/{id}     delete one user
//	POST   /batch          create {"users": [...]} atomically in one transaction request
//	POST   /tx             shows that Neon's HTTP protocol has no interactive transactions
//
// Environment: DATABASE_URL (postgres://user:password@host/db), and, to go
// through forge gateway instead of Neon, NEON_ENDPOINT (its /sql URL) and
// NEON_TOKEN (a gateway token).
package main

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/edge/workers"
	"github.com/forge-orm/forge/fetch/jsfetch"
	"github.com/forge-orm/forge/neon"
)

func main() {
	workers.Serve(handle)
}

func handle(ctx context.Context, req *workers.Request, env *workers.Env) (*workers.Response, error) {
	// Opening is cheap (no I/O): a driver and a DB per request.
	conn, err := neon.Open(neon.Config{
		ConnectionString: env.Var("DATABASE_URL"),
		Endpoint:         env.Var("NEON_ENDPOINT"),
		AuthToken:        env.Var("NEON_TOKEN"),
		Fetch:            jsfetch.New(),
	})
	if err != nil {
		return nil, err // a configuration error: a 500, logged
	}
	db, err := forge.Open(Schema, conn)
	if err != nil {
		return nil, err
	}
	path := req.Path()
	switch {
	case path == "/users" && req.Method == "GET":
		take := 10
		if s := req.Query("take"); s != "" {
			if take, err = strconv.Atoi(s); err != nil || take < 1 || take > 100 {
				return problem(400, "take must be an integer from 1 to 100")
			}
		}
		c := Users.Cols()
		users, err := Users.FindMany(ctx, db, forge.OrderBy(&c.ID, forge.Asc), forge.Take(take))
		if err != nil {
			return failure(err)
		}
		return workers.LeanJSON(200, UserList(users))
	case path == "/users" && req.Method == "POST":
		v, err := workers.ParseJSON(req.Body)
		in, ok := readUser(v)
		if err != nil || !ok || in.Email == "" || in.Name == "" {
			return problem(400, "the body must be a JSON object {\"email\", \"name\"} of non-empty strings")
		}
		u, err := Users.Create(ctx, db, in)
		if err != nil {
			return failure(err)
		}
		return workers.LeanJSON(201, u)
	case strings.HasPrefix(path, "/users/"):
		id, err := strconv.ParseInt(strings.TrimPrefix(path, "/users/"), 10, 64)
		if err != nil {
			return problem(400, "the user id must be an integer")
		}
		c := Users.Cols()
		switch req.Method {
		case "GET":
			u, err := Users.FindUnique(ctx, db, forge.Eq(&c.ID, id))
			if err != nil {
				return failure(err)
			}
			return workers.LeanJSON(200, u)
		case "DELETE":
			if err := Users.Delete(ctx, db, forge.Eq(&c.ID, id)); err != nil {
				return failure(err)
			}
			return &workers.Response{Status: 204}, nil
		}
		return problem(405, "use GET or DELETE")
	case path == "/batch" && req.Method == "POST":
		const want = "the body must be a JSON object {\"users\": [{\"email\", \"name\"}, ...]}"
		v, err := workers.ParseJSON(req.Body)
		m, _ := v.(map[string]any)
		list, _ := m["users"].([]any)
		if err != nil || len(list) == 0 {
			return problem(400, want)
		}
		ops := make([]*forge.BatchOp, len(list))
		for i, item := range list {
			u, ok := readUser(item)
			if !ok {
				return problem(400, want)
			}
			ops[i] = Users.CreateOp(u)
		}
		if _, err := db.Batch(ctx, ops...); err != nil {
			return failure(err)
		}
		return workers.LeanJSON(201, map[string]any{"written": len(ops)})
	case path == "/tx" && req.Method == "POST":
		err := db.Transaction(ctx, func(tx *forge.Tx) error {
			_, err := Users.Create(ctx, tx, User{Email: "never@example.com", Name: "Never"})
			return err
		})
		if err == nil {
			return problem(500, "an interactive transaction ran over Neon's HTTP protocol")
		}
		return failure(err)
	}
	return problem(404, "no route for "+req.Method+" "+path)
}

// readUser reads {"email", "name"} from a parsed JSON value; ok is false
// when v is not an object or a member is not a string.
func readUser(v any) (u User, ok bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return u, false
	}
	for key, dst := range map[string]*string{"email": &u.Email, "name": &u.Name} {
		switch x := m[key].(type) {
		case nil:
		case string:
			*dst = x
		default:
			return u, false
		}
	}
	return u, true
}

// problem answers a JSON error.
func problem(status int, msg string) (*workers.Response, error) {
	return workers.LeanJSON(status, map[string]any{"error": msg})
}

// failure turns forge's typed errors into responses; anything else is a
// 500 (logged by the glue, not shown to the client).
func failure(err error) (*workers.Response, error) {
	var (
		ce *forge.ConstraintError
		ke *forge.CapabilityError
		qe *forge.QueryError
	)
	switch {
	case errors.Is(err, forge.ErrNotFound):
		return problem(404, "not found")
	case errors.As(err, &ce):
		return workers.LeanJSON(409, map[string]any{"error": strings.Join(ce.Fields, ", ") + " already taken", "kind": ce.Kind.String(), "fields": ce.Fields})
	case errors.As(err, &ke):
		return workers.LeanJSON(501, map[string]any{"error": ke.Error(), "use": ke.Use})
	case errors.As(err, &qe):
		return problem(400, err.Error())
	}
	return nil, err
}
