package main

import (
	"strconv"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/edge/workers"
)

// The models have no build tag: they compile everywhere, so the schema's
// DDL can be printed on any machine (go run . schema).

// Account is a customer's account.
type Account struct {
	ID        int64
	Email     string
	Name      string
	Balance   int64 // in cents
	CreatedAt time.Time
}

// AppendJSON writes a as {"id", "email", "name", "balance", "created_at"}
// (workers.LeanJSON takes it instead of encoding/json's reflection).
func (a Account) AppendJSON(b []byte) []byte {
	b = strconv.AppendInt(append(b, `{"id":`...), a.ID, 10)
	b = workers.AppendJSONString(append(b, `,"email":`...), a.Email)
	b = workers.AppendJSONString(append(b, `,"name":`...), a.Name)
	b = strconv.AppendInt(append(b, `,"balance":`...), a.Balance, 10)
	b = a.CreatedAt.AppendFormat(append(b, `,"created_at":"`...), time.RFC3339Nano)
	return append(b, `"}`...)
}

// AccountList writes a list of accounts as a JSON array.
type AccountList []Account

// AppendJSON implements workers.JSONAppender.
func (l AccountList) AppendJSON(b []byte) []byte {
	b = append(b, '[')
	for i, a := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = a.AppendJSON(b)
	}
	return append(b, ']')
}

// Accounts is the accounts table.
var Accounts = forge.Model("accounts", func(a *Account, f *forge.Fields) {
	f.ID(&a.ID)
	f.Text(&a.Email).Unique()
	f.Text(&a.Name)
	f.Int(&a.Balance)
	f.Time(&a.CreatedAt).DefaultNow()
})

// Schema is the Worker's schema.
var Schema = forge.MustSchema(Accounts)
