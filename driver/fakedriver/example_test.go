package fakedriver_test

import (
	"context"
	"fmt"
	"log"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver/fakedriver"
)

type User struct {
	ID    int64
	Email string
}

var Users = forge.Model("users", func(u *User, f *forge.Fields) {
	f.ID(&u.ID)
	f.Text(&u.Email).Unique()
})

// A test scripts what the database answers, runs the code under test on
// the fake, and checks what it got and what was sent.
func Example() {
	fake := fakedriver.New(dialect.Postgres, fakedriver.All)
	fake.On(fakedriver.Prefix("SELECT")).Rows([]string{"id", "email"},
		[]any{int64(1), "ada@example.com"})
	db, err := forge.Open(forge.MustSchema(Users), fake.Conn())
	if err != nil {
		log.Fatal(err)
	}

	c := Users.Cols()
	u, err := Users.FindUnique(context.Background(), db, forge.Eq(&c.Email, "ada@example.com"))
	fmt.Println(u.ID, err)

	// Nothing scripted answers an INSERT: the test sees an error, not a
	// made-up success.
	_, err = Users.Create(context.Background(), db, User{Email: "bob@example.com"})
	fmt.Println(err != nil)

	for _, s := range fake.Statements() {
		fmt.Println(s.Kind, s.Args)
	}
	// Output:
	// 1 <nil>
	// true
	// query [ada@example.com]
	// query [bob@example.com]
}
