//go:build js && wasm

// Command worker-planetscale is a Cloudflare Worker in Go over
// PlanetScale's HTTP API (or forge's gateway in front of MySQL or
// MariaDB): accounts and transfers between them, with forge's typed
// queries and interactive transactions. See README.md to build, run and
// deploy it.
//
//	GET  /accounts          list accounts by id
//	POST /accounts          create one from {"email", "name", "balance"}: 201,
//	                        409 naming the field when the email is taken
//	GET  /accounts/{id}     one account, or 404
//	POST /transfer          move {"from", "to", "amount"} in one transaction:
//	                        200 with both accounts, 409 when funds are short
//	                        (nothing is written), 404 for an unknown account
//
// The Worker reads PLANETSCALE_URL (a secret: mysql://user:password@host,
// or http://token:secret@host:port for a gateway on a private network).
package main

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/edge/workers"
	"github.com/forge-orm/forge/fetch/jsfetch"
	"github.com/forge-orm/forge/planetscale"
)

func main() {
	workers.Serve(handle)
}

// db is opened by the first request and kept by the isolate: the driver
// holds no I/O object, only the URL and its sessions, so later requests
// reuse it (and skip Open's SELECT VERSION()).
var db *forge.DB

func open(ctx context.Context, env *workers.Env) (*forge.DB, error) {
	if db != nil {
		return db, nil
	}
	conn, err := planetscale.Open(ctx, planetscale.Config{URL: env.Var("PLANETSCALE_URL"), Fetch: jsfetch.New()})
	if err != nil {
		return nil, err
	}
	d, err := forge.Open(Schema, conn)
	if err != nil {
		return nil, err
	}
	db = d
	return db, nil
}

func handle(ctx context.Context, req *workers.Request, env *workers.Env) (*workers.Response, error) {
	db, err := open(ctx, env)
	if err != nil {
		return nil, err
	}
	path := req.Path()
	switch {
	case path == "/accounts" && req.Method == "GET":
		c := Accounts.Cols()
		list, err := Accounts.FindMany(ctx, db, forge.OrderBy(&c.ID, forge.Asc), forge.Take(100))
		if err != nil {
			return failure(err)
		}
		return workers.LeanJSON(200, AccountList(list))
	case path == "/accounts" && req.Method == "POST":
		return createAccount(ctx, db, req)
	case strings.HasPrefix(path, "/accounts/") && req.Method == "GET":
		id, err := strconv.ParseInt(strings.TrimPrefix(path, "/accounts/"), 10, 64)
		if err != nil {
			return problem(400, "the account id must be an integer")
		}
		c := Accounts.Cols()
		a, err := Accounts.FindUnique(ctx, db, forge.Eq(&c.ID, id))
		if err != nil {
			return failure(err)
		}
		return workers.LeanJSON(200, a)
	case path == "/transfer" && req.Method == "POST":
		return transfer(ctx, db, req)
	}
	return problem(404, "no route for "+req.Method+" "+path)
}

func createAccount(ctx context.Context, db *forge.DB, req *workers.Request) (*workers.Response, error) {
	v, err := workers.ParseJSON(req.Body)
	m, _ := v.(map[string]any)
	email, _ := m["email"].(string)
	name, _ := m["name"].(string)
	balance, ok := m["balance"].(float64)
	if err != nil || email == "" || name == "" || !ok || balance < 0 || balance != float64(int64(balance)) {
		return problem(400, `the body must be {"email": "...", "name": "...", "balance": whole cents >= 0}`)
	}
	a, err := Accounts.Create(ctx, db, Account{Email: email, Name: name, Balance: int64(balance)})
	if err != nil {
		return failure(err)
	}
	return workers.LeanJSON(201, a)
}

// errShort ends a transfer's transaction when funds are short.
var errShort = errors.New("insufficient funds")

// transfer moves money in one interactive transaction. Each balance is
// changed only if it still holds what was read (compare and set), so two
// transfers at once cannot lose an update; the loser gets 409 and retries.
func transfer(ctx context.Context, db *forge.DB, req *workers.Request) (*workers.Response, error) {
	v, err := workers.ParseJSON(req.Body)
	m, _ := v.(map[string]any)
	from, ok1 := m["from"].(float64)
	to, ok2 := m["to"].(float64)
	amount, ok3 := m["amount"].(float64)
	if err != nil || !ok1 || !ok2 || !ok3 || amount <= 0 || amount != float64(int64(amount)) || from == to {
		return problem(400, `the body must be {"from": id, "to": id, "amount": whole cents > 0}, between two accounts`)
	}
	var out AccountList
	err = db.Transaction(ctx, func(tx *forge.Tx) error {
		out = out[:0]
		c := Accounts.Cols()
		for _, step := range []struct {
			id    int64
			delta int64
		}{{int64(from), -int64(amount)}, {int64(to), int64(amount)}} {
			a, err := Accounts.FindUnique(ctx, tx, forge.Eq(&c.ID, step.id))
			if err != nil {
				return err
			}
			if a.Balance+step.delta < 0 {
				return errShort
			}
			n, err := Accounts.UpdateMany(ctx, tx, forge.And(forge.Eq(&c.ID, a.ID), forge.Eq(&c.Balance, a.Balance)),
				forge.Set(&c.Balance, a.Balance+step.delta))
			if err != nil {
				return err
			}
			if n != 1 {
				return errConflict
			}
			a.Balance += step.delta
			out = append(out, a)
		}
		return nil
	})
	switch {
	case errors.Is(err, errShort):
		return problem(409, "insufficient funds: nothing was transferred")
	case errors.Is(err, errConflict):
		return problem(409, "the balance changed meanwhile: nothing was transferred; retry")
	case err != nil:
		return failure(err)
	}
	return workers.LeanJSON(200, out)
}

var errConflict = errors.New("concurrent change")

// problem answers a JSON error.
func problem(status int, msg string) (*workers.Response, error) {
	return workers.LeanJSON(status, map[string]any{"error": msg})
}

// failure turns forge's typed errors into responses; anything else is a
// 500 (logged by the glue, not shown to the client).
func failure(err error) (*workers.Response, error) {
	var (
		ce *forge.ConstraintError
		pe *planetscale.Error
	)
	switch {
	case errors.Is(err, forge.ErrNotFound):
		return problem(404, "not found")
	case errors.As(err, &pe) && (pe.Number() == 1213 || pe.Number() == 1205):
		// A deadlock or a lock wait timeout: the server rolled back.
		return problem(409, "the transaction met another one and was rolled back: nothing was written; retry")
	case errors.As(err, &ce):
		return workers.LeanJSON(409, map[string]any{"error": strings.Join(ce.Fields, ", ") + " already taken", "fields": ce.Fields})
	}
	return nil, err
}
