package main

import (
	"strconv"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/edge/workers"
)

// The models have no build tag: they compile everywhere, so the schema's
// DDL can be printed and tested on any machine (see worker_test.go).

// Order is a customer's order.
type Order struct {
	ID        int64
	Customer  string
	Item      string
	Quantity  int64
	Status    string // "new", "shipped"
	CreatedAt time.Time
}

// AppendJSON writes o as {"id", "customer", "item", "quantity", "status",
// "created_at"} without reflection (workers.LeanJSON).
func (o Order) AppendJSON(b []byte) []byte {
	b = strconv.AppendInt(append(b, `{"id":`...), o.ID, 10)
	b = workers.AppendJSONString(append(b, `,"customer":`...), o.Customer)
	b = workers.AppendJSONString(append(b, `,"item":`...), o.Item)
	b = strconv.AppendInt(append(b, `,"quantity":`...), o.Quantity, 10)
	b = workers.AppendJSONString(append(b, `,"status":`...), o.Status)
	b = o.CreatedAt.AppendFormat(append(b, `,"created_at":"`...), time.RFC3339Nano)
	return append(b, `"}`...)
}

// OrderList writes a list of orders as a JSON array.
type OrderList []Order

// AppendJSON implements workers.JSONAppender.
func (l OrderList) AppendJSON(b []byte) []byte {
	b = append(b, '[')
	for i, o := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = o.AppendJSON(b)
	}
	return append(b, ']')
}

// Orders is the orders table.
var Orders = forge.Model("orders", func(o *Order, f *forge.Fields) {
	f.ID(&o.ID)
	f.Text(&o.Customer)
	f.Text(&o.Item)
	f.Int(&o.Quantity)
	f.Text(&o.Status).Default("new")
	f.Time(&o.CreatedAt).DefaultNow()
})

// Schema is the Worker's schema.
var Schema = forge.MustSchema(Orders)
