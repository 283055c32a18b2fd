//go:build js && wasm

// Command worker-d1 is a Cloudflare Worker in Go: a small users API over
// D1 with forge's typed queries. See README.md to build, run and deploy it.
//
//	GET    /users?take=N   list users by id (N: 1-100, default 10)
//	POST   /users          create one from {"email", "name"}: 201 with the row,
//	                       409 naming the field when the email is taken
//	GET    /users/{id}     one user, or 404
//	PATCH  /users/{id}     change the name from {"name"}
//	DELETE /users/{id}     delete one user
//	POST   /batch          create {"users": [...]} atomically in one D1 batch
//	POST   /tx             shows that D1 has no interactive transactions
//	GET    /panic          a handler that panics: the Worker answers 500
package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/d1"
	"github.com/forge-orm/forge/edge/workers"
)

func main() {
	workers.Serve(handle)
}

func handle(ctx context.Context, req *workers.Request, env *workers.Env) (*workers.Response, error) {
	// Opening is cheap (no I/O): a DB per request is fine.
	conn, err := d1.FromEnv(env, "DB")
	if err != nil {
		return nil, err
	}
	db, err := forge.Open(Schema, conn)
	if err != nil {
		return nil, err
	}
	path := req.Path()
	switch {
	case path == "/users" && req.Method == "GET":
		return listUsers(ctx, db, req)
	case path == "/users" && req.Method == "POST":
		return createUser(ctx, db, req)
	case strings.HasPrefix(path, "/users/"):
		id, err := strconv.ParseInt(strings.TrimPrefix(path, "/users/"), 10, 64)
		if err != nil {
			return problem(400, "the user id must be an integer")
		}
		return oneUser(ctx, db, req, id)
	case path == "/batch" && req.Method == "POST":
		return createBatch(ctx, db, req)
	case path == "/tx" && req.Method == "POST":
		return transaction(ctx, db)
	case path == "/panic":
		panic("a handler that panics")
	}
	return problem(404, "no route for "+req.Method+" "+path)
}

func listUsers(ctx context.Context, db *forge.DB, req *workers.Request) (*workers.Response, error) {
	take := 10
	if s := req.Query("take"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return problem(400, "take must be an integer from 1 to 100")
		}
		take = n
	}
	c := Users.Cols()
	users, err := Users.FindMany(ctx, db, forge.OrderBy(&c.ID, forge.Asc), forge.Take(take))
	if err != nil {
		return failure(err)
	}
	return workers.LeanJSON(200, UserList(users)) // [] when there are none
}

// userInput is a user in a request body.
type userInput struct {
	Email string
	Name  string
}

// readUser reads {"email", "name"} from a parsed JSON value (other members
// are ignored); ok is false when v is not an object or a member is not a
// string.
func readUser(v any) (in userInput, ok bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return in, false
	}
	for key, dst := range map[string]*string{"email": &in.Email, "name": &in.Name} {
		switch x := m[key].(type) {
		case nil:
		case string:
			*dst = x
		default:
			return in, false
		}
	}
	return in, true
}

func createUser(ctx context.Context, db *forge.DB, req *workers.Request) (*workers.Response, error) {
	v, err := workers.ParseJSON(req.Body)
	if err != nil {
		return problem(400, "the body must be a JSON object {\"email\", \"name\"}: "+err.Error())
	}
	in, ok := readUser(v)
	if !ok {
		return problem(400, "the body must be a JSON object {\"email\", \"name\"} of strings")
	}
	if in.Email == "" || in.Name == "" {
		return problem(400, "email and name are required")
	}
	u, err := Users.Create(ctx, db, User{Email: in.Email, Name: in.Name})
	if err != nil {
		return failure(err)
	}
	return workers.LeanJSON(201, u)
}

func oneUser(ctx context.Context, db *forge.DB, req *workers.Request, id int64) (*workers.Response, error) {
	c := Users.Cols()
	byID := forge.Eq(&c.ID, id)
	switch req.Method {
	case "GET":
		u, err := Users.FindUnique(ctx, db, byID)
		if err != nil {
			return failure(err)
		}
		return workers.LeanJSON(200, u)
	case "PATCH":
		v, err := workers.ParseJSON(req.Body)
		in, ok := readUser(v)
		if err != nil || !ok || in.Name == "" {
			return problem(400, "the body must be a JSON object {\"name\"}")
		}
		u, err := Users.Update(ctx, db, byID, forge.Set(&c.Name, in.Name))
		if err != nil {
			return failure(err)
		}
		return workers.LeanJSON(200, u)
	case "DELETE":
		if err := Users.Delete(ctx, db, byID); err != nil {
			return failure(err)
		}
		return &workers.Response{Status: 204}, nil
	}
	return problem(405, "use GET, PATCH or DELETE")
}

// createBatch writes every user or none: D1 runs a batch as one
// transaction, its only atomic unit.
func createBatch(ctx context.Context, db *forge.DB, req *workers.Request) (*workers.Response, error) {
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
		ops[i] = Users.CreateOp(User{Email: u.Email, Name: u.Name})
	}
	if _, err := db.Batch(ctx, ops...); err != nil {
		return failure(err)
	}
	return workers.LeanJSON(201, map[string]any{"written": len(ops)})
}

// transaction shows what db.Transaction says on D1.
func transaction(ctx context.Context, db *forge.DB) (*workers.Response, error) {
	err := db.Transaction(ctx, func(tx *forge.Tx) error {
		_, err := Users.Create(ctx, tx, User{Email: "never@example.com", Name: "Never"})
		return err
	})
	if err == nil {
		return problem(500, "an interactive transaction ran on D1")
	}
	return failure(err)
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
		ve *d1.ValueError
		be *forge.BatchError
	)
	switch {
	case errors.Is(err, forge.ErrNotFound):
		return problem(404, "not found")
	case errors.As(err, &ce):
		body := map[string]any{
			"error":      fmt.Sprintf("%s already taken", strings.Join(ce.Fields, ", ")),
			"kind":       ce.Kind.String(),
			"model":      ce.Model,
			"fields":     ce.Fields,
			"constraint": ce.Constraint,
		}
		if ce.Kind != forge.UniqueViolation {
			body["error"] = ce.Error()
		}
		if errors.As(err, &be) {
			body["statement"] = be.Index
		}
		return workers.LeanJSON(409, body)
	case errors.As(err, &ke):
		return workers.LeanJSON(501, map[string]any{"error": ke.Error(), "op": ke.Op, "driver": ke.Driver, "use": ke.Use})
	case errors.As(err, &qe), errors.As(err, &ve):
		return problem(400, err.Error())
	}
	return nil, err
}
