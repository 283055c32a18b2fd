//go:build js && wasm

// Command worker-hyperdrive is a Cloudflare Worker in Go: an orders API
// over PostgreSQL behind Hyperdrive, with a read-through cache in Workers
// KV that forge's mutation events keep true. See README.md.
//
//	GET    /orders            the 20 latest orders (cached)
//	POST   /orders            create one from {"customer", "item", "quantity"}
//	GET    /orders/{id}       one order (cached), or 404
//	POST   /orders/{id}/ship  mark it shipped, in a transaction; with ?fail=1
//	                          the transaction fails after its write (a 502),
//	                          which rolls it back: nothing changes, in the
//	                          database or in the cache
//	DELETE /orders/{id}       delete one order
//
// Reads answer the header x-cache: hit (from KV) or miss (from PostgreSQL,
// then stored in KV for 5 minutes). A write deletes the cache entries it
// makes stale when it commits (forge's MutationEvent), never for a
// rolled-back write.
package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall/js"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/edge/workers"
	"github.com/forge-orm/forge/fetch"
	"github.com/forge-orm/forge/hyperdrive"
)

func main() {
	workers.Serve(handle)
}

// cacheTTL is how long a cached read lives at most.
const cacheTTL = 5 * time.Minute

const listKey = "orders:latest"

func orderKey(id any) string { return fmt.Sprintf("order:%v", id) }

func handle(ctx context.Context, req *workers.Request, env *workers.Env) (*workers.Response, error) {
	cache, err := env.KV("CACHE")
	if err != nil {
		return nil, err
	}
	path := req.Path()
	id := int64(0)
	rest := ""
	if s, ok := strings.CutPrefix(path, "/orders/"); ok {
		s, rest, _ = strings.Cut(s, "/")
		id, err = strconv.ParseInt(s, 10, 64)
		if err != nil || id < 1 {
			return problem(400, "the order id must be a positive integer")
		}
	} else if path != "/orders" {
		return problem(404, "no route for "+req.Method+" "+path)
	}

	// A cached read needs no database connection at all.
	if req.Method == "GET" && rest == "" {
		key := listKey
		if id != 0 {
			key = orderKey(id)
		}
		if b, ok, err := cache.Get(ctx, key); err == nil && ok {
			return cached(b, "hit"), nil
		} else if err != nil {
			logError("reading the cache: " + err.Error())
		}
	}

	// One connection per request, closed after the response.
	conn, err := hyperdrive.Open(ctx, env, "HYPERDRIVE")
	if err != nil {
		return nil, err
	}
	db, err := forge.Open(Schema, conn, forge.WithObserver(invalidator(cache)))
	if err != nil {
		return nil, err
	}
	switch {
	case path == "/orders" && req.Method == "GET":
		c := Orders.Cols()
		list, err := Orders.FindMany(ctx, db, forge.OrderBy(&c.ID, forge.Desc), forge.Take(20))
		if err != nil {
			return failure(err)
		}
		return store(ctx, cache, listKey, OrderList(list))
	case path == "/orders" && req.Method == "POST":
		return createOrder(ctx, db, req)
	case rest == "" && req.Method == "GET":
		o, err := Orders.FindUnique(ctx, db, forge.Eq(&Orders.Cols().ID, id))
		if err != nil {
			return failure(err)
		}
		return store(ctx, cache, orderKey(id), o)
	case rest == "" && req.Method == "DELETE":
		if err := Orders.Delete(ctx, db, forge.Eq(&Orders.Cols().ID, id)); err != nil {
			return failure(err)
		}
		return &workers.Response{Status: 204}, nil
	case rest == "ship" && req.Method == "POST":
		return ship(ctx, db, id, req.Query("fail") == "1")
	}
	return problem(405, "no route for "+req.Method+" "+path)
}

// invalidator deletes the cache entries a committed write makes stale:
// the orders it wrote (by key) and the list. forge delivers a mutation
// event when the statement succeeds outside a transaction, or when the
// transaction commits; never for a rolled-back write.
func invalidator(cache *workers.KV) forge.Observer {
	return forge.ObserverFuncs{OnMutation: func(ctx context.Context, e *forge.MutationEvent) {
		if e.Model != Orders.Name() {
			return
		}
		keys := []string{listKey}
		for _, k := range e.Keys {
			keys = append(keys, orderKey(k))
		}
		if e.Keys == nil && e.Rows > 0 {
			// The driver could not say which rows: forget every order.
			l, err := cache.List(ctx, &workers.KVListOptions{Prefix: "order:"})
			if err != nil {
				logError("listing the cache: " + err.Error())
			}
			for l != nil {
				for _, k := range l.Keys {
					keys = append(keys, k.Name)
				}
				if l.Complete {
					break
				}
				if l, err = cache.List(ctx, &workers.KVListOptions{Prefix: "order:", Cursor: l.Cursor}); err != nil {
					logError("listing the cache: " + err.Error())
				}
			}
		}
		for _, k := range keys {
			if err := cache.Delete(ctx, k); err != nil {
				logError("deleting " + k + " from the cache: " + err.Error())
			}
		}
	}}
}

// store answers v as JSON (a miss) and keeps it in the cache.
func store(ctx context.Context, cache *workers.KV, key string, v workers.JSONAppender) (*workers.Response, error) {
	b := v.AppendJSON(nil)
	if err := cache.Put(ctx, key, b, &workers.KVPutOptions{ExpirationTTL: cacheTTL}); err != nil {
		logError("writing the cache: " + err.Error())
	}
	return cached(b, "miss"), nil
}

func cached(body []byte, state string) *workers.Response {
	return &workers.Response{Status: 200, Body: body, Header: fetch.Header{
		{Name: "content-type", Value: "application/json; charset=utf-8"},
		{Name: "x-cache", Value: state},
	}}
}

func createOrder(ctx context.Context, db *forge.DB, req *workers.Request) (*workers.Response, error) {
	const want = `the body must be a JSON object {"customer", "item", "quantity"}: two non-empty strings and a positive integer`
	v, err := workers.ParseJSON(req.Body)
	m, _ := v.(map[string]any)
	customer, _ := m["customer"].(string)
	item, _ := m["item"].(string)
	qty, _ := m["quantity"].(float64)
	if err != nil || customer == "" || item == "" || qty < 1 || qty != float64(int64(qty)) || qty > 1e6 {
		return problem(400, want)
	}
	o, err := Orders.Create(ctx, db, Order{Customer: customer, Item: item, Quantity: int64(qty), Status: "new"})
	if err != nil {
		return failure(err)
	}
	return workers.LeanJSON(201, o)
}

// errCarrier stands for a downstream call failing after the write.
var errCarrier = errors.New("the carrier refused the shipment")

// ship marks an order shipped in an interactive transaction: read, check,
// write, and (with fail) a failure after the write that rolls it all back.
func ship(ctx context.Context, db *forge.DB, id int64, fail bool) (*workers.Response, error) {
	c := Orders.Cols()
	var shipped Order
	err := db.Transaction(ctx, func(tx *forge.Tx) error {
		o, err := Orders.FindUnique(ctx, tx, forge.Eq(&c.ID, id))
		if err != nil {
			return err
		}
		if o.Status != "new" {
			return fmt.Errorf("%w: order %d is %s", errConflict, id, o.Status)
		}
		if shipped, err = Orders.Update(ctx, tx, forge.Eq(&c.ID, id), forge.Set(&c.Status, "shipped")); err != nil {
			return err
		}
		if fail {
			return errCarrier
		}
		return nil
	})
	switch {
	case errors.Is(err, errCarrier):
		return problem(502, err.Error()+"; nothing changed")
	case errors.Is(err, errConflict):
		return problem(409, err.Error())
	case err != nil:
		return failure(err)
	}
	return workers.LeanJSON(200, shipped)
}

var errConflict = errors.New("conflict")

// problem answers a JSON error.
func problem(status int, msg string) (*workers.Response, error) {
	return workers.LeanJSON(status, map[string]any{"error": msg})
}

// failure turns forge's typed errors into responses; anything else is a
// 500 (logged by the glue, not shown to the client).
func failure(err error) (*workers.Response, error) {
	var qe *forge.QueryError
	switch {
	case errors.Is(err, forge.ErrNotFound):
		return problem(404, "not found")
	case errors.As(err, &qe):
		return problem(400, err.Error())
	}
	return nil, err
}

func logError(msg string) {
	js.Global().Get("console").Call("error", "worker-hyperdrive: "+msg)
}
