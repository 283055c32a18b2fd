// Command quickstart shows forge on the embedded SQLite driver: it creates
// a database file and its schema, writes, reads with a filter and an
// include, runs a transaction that rolls back, and prints every event.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/sqlite"
)

type User struct {
	ID        int64
	Email     string
	Name      string
	CreatedAt time.Time
	Posts     []Post
}

type Post struct {
	ID       int64
	AuthorID int64
	Title    string
	Draft    bool
	Author   *User
}

var Users = forge.Model("users", func(u *User, f *forge.Fields) {
	f.ID(&u.ID)
	f.Text(&u.Email).Unique()
	f.Text(&u.Name)
	f.Time(&u.CreatedAt).DefaultNow()
	f.HasMany(&u.Posts, func(p *Post) *int64 { return &p.AuthorID })
})

var Posts = forge.Model("posts", func(p *Post, f *forge.Fields) {
	f.ID(&p.ID)
	f.Int(&p.AuthorID).Index()
	f.Text(&p.Title)
	f.Bool(&p.Draft).Default(false)
	f.BelongsTo(&p.Author, &p.AuthorID).OnDelete(forge.Cascade)
})

var Schema = forge.MustSchema(Users, Posts)

// printer prints every statement and every committed mutation.
type printer struct{}

func (printer) QueryStart(ctx context.Context, e *forge.QueryEvent) context.Context { return ctx }

func (printer) QueryEnd(ctx context.Context, e *forge.QueryEvent) {
	status := "ok"
	if e.Err != nil {
		status = "error: " + e.Err.Error()
	}
	fmt.Printf("  [query] %-10s %-5s rows=%d args=%d %s\n          %s\n", e.Operation, e.Model, e.Rows, e.NumArgs, status, e.SQL)
}

func (printer) Mutation(ctx context.Context, e *forge.MutationEvent) {
	fmt.Printf("  [mutation] %s %s rows=%d keys=%v\n", e.Operation, e.Model, e.Rows, e.Keys)
}

func main() {
	if err := run(context.Background(), "forge-quickstart.db"); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, path string) error {
	os.Remove(path)
	conn, err := sqlite.Open(path)
	if err != nil {
		return err
	}
	db, err := forge.Open(Schema, conn, forge.WithObserver(printer{}))
	if err != nil {
		return err
	}
	defer db.Close()

	fmt.Println("create the schema:")
	if err := db.CreateSchema(ctx); err != nil {
		return err
	}

	fmt.Println("write:")
	ada, err := Users.Create(ctx, db, User{Email: "ada@example.com", Name: "Ada"})
	if err != nil {
		return err
	}
	if _, err := Posts.CreateMany(ctx, db, []Post{
		{AuthorID: ada.ID, Title: "Notes on the Analytical Engine"},
		{AuthorID: ada.ID, Title: "Untitled", Draft: true},
	}); err != nil {
		return err
	}

	fmt.Println("read with a filter and an include:")
	u, p := Users.Cols(), Posts.Cols()
	users, err := Users.FindMany(ctx, db,
		forge.Where(forge.StartsWith(&u.Email, "ada@")),
		forge.Include(&u.Posts, forge.Where(forge.Eq(&p.Draft, false))),
		forge.OrderBy(&u.ID, forge.Asc),
		forge.Take(10))
	if err != nil {
		return err
	}
	for _, x := range users {
		fmt.Printf("  => %s <%s> has %d published post(s)\n", x.Name, x.Email, len(x.Posts))
	}

	fmt.Println("a transaction that rolls back:")
	err = db.Transaction(ctx, func(tx *forge.Tx) error {
		if _, err := Users.Create(ctx, tx, User{Email: "grace@example.com", Name: "Grace"}); err != nil {
			return err
		}
		// The same email again violates the unique constraint: the whole
		// transaction rolls back, Grace included.
		_, err := Users.Create(ctx, tx, User{Email: "ada@example.com", Name: "Ada again"})
		return err
	})
	var ce *forge.ConstraintError
	if !errors.As(err, &ce) {
		return fmt.Errorf("expected a constraint error, got %v", err)
	}
	fmt.Printf("  => rolled back: %s constraint %s on %s.%v\n", ce.Kind, ce.Constraint, ce.Model, ce.Fields)
	n, err := Users.Count(ctx, db)
	if err != nil {
		return err
	}
	fmt.Printf("  => users after the rollback: %d\n", n)
	return nil
}
