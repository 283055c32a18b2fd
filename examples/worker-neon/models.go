package main

import (
	"strconv"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/edge/workers"
)

// The models have no build tag: they compile everywhere, so the schema's
// DDL can be printed and tested on any machine (see worker_test.go).

// User is a registered user.
type User struct {
	ID        int64
	Email     string
	Name      string
	CreatedAt time.Time
}

// AppendJSON writes u as {"id", "email", "name", "created_at"}: the Worker
// answers with workers.LeanJSON, which takes this instead of encoding/json's
// reflection (a smaller function, and a faster first request).
func (u User) AppendJSON(b []byte) []byte {
	b = strconv.AppendInt(append(b, `{"id":`...), u.ID, 10)
	b = workers.AppendJSONString(append(b, `,"email":`...), u.Email)
	b = workers.AppendJSONString(append(b, `,"name":`...), u.Name)
	b = u.CreatedAt.AppendFormat(append(b, `,"created_at":"`...), time.RFC3339Nano)
	return append(b, `"}`...)
}

// UserList writes a list of users as a JSON array.
type UserList []User

// AppendJSON implements workers.JSONAppender.
func (l UserList) AppendJSON(b []byte) []byte {
	b = append(b, '[')
	for i, u := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = u.AppendJSON(b)
	}
	return append(b, ']')
}

// Users is the users table.
var Users = forge.Model("users", func(u *User, f *forge.Fields) {
	f.ID(&u.ID)
	f.Text(&u.Email).Unique()
	f.Text(&u.Name)
	f.Time(&u.CreatedAt).DefaultNow()
})

// Schema is the function's schema.
var Schema = forge.MustSchema(Users)
