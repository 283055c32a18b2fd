package main

import (
	"time"

	"github.com/forge-orm/forge"
)

// The models have no build tag: they compile everywhere, so the schema's
// DDL can be printed and tested on any machine (see worker_test.go).

// User is a registered user.
type User struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Users is the users table.
var Users = forge.Model("users", func(u *User, f *forge.Fields) {
	f.ID(&u.ID)
	f.Text(&u.Email).Unique()
	f.Text(&u.Name)
	f.Time(&u.CreatedAt).DefaultNow()
})

// Schema is the Worker's schema.
var Schema = forge.MustSchema(Users)
