package forge_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/driver/fakedriver"
)

// The examples run against fakedriver, a scripted driver: each one says
// what the "database" answers, then shows the SQL forge sends and the typed
// values it returns. With a real driver (the sqlite or pgx module) the code
// is the same, minus the scripting.

type Author struct {
	ID    int64
	Name  string
	Books []Book
}

type Book struct {
	ID       int64
	AuthorID int64
	Title    string
	Pages    int64
}

var (
	Authors = forge.Model("authors", func(a *Author, f *forge.Fields) {
		f.ID(&a.ID)
		f.Text(&a.Name).Unique()
		f.HasMany(&a.Books, func(b *Book) *int64 { return &b.AuthorID })
	})
	Books = forge.Model("books", func(b *Book, f *forge.Fields) {
		f.ID(&b.ID)
		f.Int(&b.AuthorID).References(forge.Ref[Author]())
		f.Text(&b.Title)
		f.Int(&b.Pages)
	})
	library = forge.MustSchema(Authors, Books)
)

// FindMany with a filter, an ordering and Include: the books of all the
// authors found are loaded with one more query, not one per author.
func ExampleModelOf_FindMany() {
	fake := fakedriver.New(dialect.SQLite, fakedriver.All)
	fake.On(fakedriver.Contains(`FROM "authors"`)).Rows([]string{"id", "name"},
		[]any{int64(1), "Ursula"},
		[]any{int64(2), "Ursula Vernon"})
	fake.On(fakedriver.Contains(`FROM "books"`)).Rows([]string{"id", "author_id", "title", "pages"},
		[]any{int64(10), int64(1), "The Dispossessed", int64(387)},
		[]any{int64(11), int64(1), "The Lathe of Heaven", int64(184)})
	db, err := forge.Open(library, fake.Conn())
	if err != nil {
		log.Fatal(err)
	}

	c := Authors.Cols()
	authors, err := Authors.FindMany(context.Background(), db,
		forge.Where(forge.StartsWith(&c.Name, "Ursula")),
		forge.OrderBy(&c.Name, forge.Asc),
		forge.Include(&c.Books))
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range fake.Statements() {
		fmt.Println(s.SQL, s.Args)
	}
	for _, a := range authors {
		fmt.Printf("%s: %d books\n", a.Name, len(a.Books))
		for _, b := range a.Books {
			fmt.Printf("  %s (%d pages)\n", b.Title, b.Pages)
		}
	}
	// Output:
	// SELECT "id", "name" FROM "authors" WHERE substr("name", 1, length(?1)) = ?1 ORDER BY "name" [Ursula]
	// SELECT "id", "author_id", "title", "pages" FROM "books" WHERE "author_id" IN (?, ?) ORDER BY "author_id" [1 2]
	// Ursula: 2 books
	//   The Dispossessed (387 pages)
	//   The Lathe of Heaven (184 pages)
	// Ursula Vernon: 0 books
}

// Transaction commits when the function returns nil and rolls back when it
// returns an error or panics.
func ExampleDB_Transaction() {
	fake := fakedriver.New(dialect.SQLite, fakedriver.All)
	fake.On(fakedriver.Prefix(`INSERT INTO "authors"`)).LastInsertID(7)
	fake.On(fakedriver.Prefix(`INSERT INTO "books"`)).LastInsertID(70)
	db, err := forge.Open(library, fake.Conn())
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	err = db.Transaction(ctx, func(tx *forge.Tx) error {
		a, err := Authors.Create(ctx, tx, Author{Name: "Octavia"})
		if err != nil {
			return err
		}
		b, err := Books.Create(ctx, tx, Book{AuthorID: a.ID, Title: "Kindred", Pages: 264})
		fmt.Println("created author", a.ID, "and book", b.ID)
		return err
	})
	fmt.Println("committed:", err == nil)

	errOutOfStock := errors.New("out of stock")
	err = db.Transaction(ctx, func(tx *forge.Tx) error {
		if _, err := Authors.Create(ctx, tx, Author{Name: "N. K."}); err != nil {
			return err
		}
		return errOutOfStock
	})
	fmt.Println("rolled back:", errors.Is(err, errOutOfStock))
	for _, s := range fake.Statements() {
		fmt.Printf("tx %d: %s\n", s.Tx, s.SQL)
	}
	// Output:
	// created author 7 and book 70
	// committed: true
	// rolled back: true
	// tx 1: BEGIN
	// tx 1: INSERT INTO "authors" ("name") VALUES (?)
	// tx 1: INSERT INTO "books" ("author_id", "title", "pages") VALUES (?, ?, ?)
	// tx 1: COMMIT
	// tx 2: BEGIN
	// tx 2: INSERT INTO "authors" ("name") VALUES (?)
	// tx 2: ROLLBACK
}

// Batch applies several writes atomically. On a driver that batches (D1,
// Neon, libSQL) they go in one round trip; on one with transactions, in one
// transaction.
func ExampleDB_Batch() {
	// A driver like D1's: batches, no interactive transactions.
	fake := fakedriver.New(dialect.SQLite, fakedriver.Batches)
	fake.On(fakedriver.Prefix("INSERT")).Affected(1)
	fake.On(fakedriver.Prefix("UPDATE")).Affected(3)
	db, err := forge.Open(library, fake.Conn())
	if err != nil {
		log.Fatal(err)
	}

	c := Books.Cols()
	results, err := db.Batch(context.Background(),
		Books.CreateOp(Book{ID: 12, AuthorID: 1, Title: "Always Coming Home", Pages: 523}),
		Books.UpdateManyOp(forge.Eq(&c.AuthorID, 1), forge.Set(&c.Pages, 0)))
	if err != nil {
		log.Fatal(err)
	}
	for i, s := range fake.Statements() {
		fmt.Printf("batch %d: %s -> %d rows\n", s.Batch, s.SQL, results[i].RowsAffected)
	}
	// Output:
	// batch 1: INSERT INTO "books" ("id", "author_id", "title", "pages") VALUES (?, ?, ?, ?) -> 1 rows
	// batch 1: UPDATE "books" SET "pages" = ? WHERE "author_id" = ? -> 3 rows
}

// Aggregate groups rows and reads each group's aggregates into a struct.
func ExampleAggregate() {
	fake := fakedriver.New(dialect.Postgres, fakedriver.All)
	fake.On(fakedriver.Prefix("SELECT")).Rows([]string{"author_id", "count", "sum"},
		[]any{int64(1), int64(2), int64(571)},
		[]any{int64(2), int64(1), int64(264)})
	db, err := forge.Open(library, fake.Conn())
	if err != nil {
		log.Fatal(err)
	}

	type PerAuthor struct {
		AuthorID int64
		Books    int64
		Pages    int64
	}
	c := Books.Cols()
	rows, err := forge.Aggregate(context.Background(), db, Books, func(r *PerAuthor, a *forge.Agg) {
		forge.Group(a, &r.AuthorID, &c.AuthorID)
		forge.CountAll(a, &r.Books)
		forge.Sum(a, &r.Pages, &c.Pages)
	}, forge.Where(forge.Gt(&c.Pages, 100)), forge.OrderBy(&c.AuthorID, forge.Asc))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(fake.SQL()[0])
	for _, r := range rows {
		fmt.Printf("author %d: %d books, %d pages\n", r.AuthorID, r.Books, r.Pages)
	}
	// Output:
	// SELECT "author_id", COUNT(*), CAST(SUM("pages") AS bigint) FROM "books" WHERE "pages" > $1 GROUP BY "author_id" ORDER BY "author_id"
	// author 1: 2 books, 571 pages
	// author 2: 1 books, 264 pages
}

// An observer sees every statement (for logs, metrics or traces) and, as a
// MutationObserver, every committed change with the keys it wrote (for
// cache invalidation).
func ExampleWithObserver() {
	fake := fakedriver.New(dialect.Postgres, fakedriver.All)
	fake.On(fakedriver.Prefix("UPDATE")).Rows([]string{"id"}, []any{int64(10)}, []any{int64(11)})
	fake.On(fakedriver.Prefix("SELECT")).Rows([]string{"count"}, []any{int64(2)})
	obs := forge.ObserverFuncs{
		End: func(ctx context.Context, e *forge.QueryEvent) {
			fmt.Printf("%s %s: %s (%d args) -> %d rows, err=%v\n", e.Operation, e.Model, e.SQL, e.NumArgs, e.Rows, e.Err)
		},
		OnMutation: func(ctx context.Context, e *forge.MutationEvent) {
			fmt.Printf("changed %s: %d rows, keys %v\n", e.Model, e.Rows, e.Keys)
		},
	}
	db, err := forge.Open(library, fake.Conn(), forge.WithObserver(obs))
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	c := Books.Cols()
	if _, err := Books.UpdateMany(ctx, db, forge.Eq(&c.AuthorID, 1), forge.Set(&c.Pages, 300)); err != nil {
		log.Fatal(err)
	}
	if _, err := Books.Count(ctx, db, forge.Ge(&c.Pages, 300)); err != nil {
		log.Fatal(err)
	}
	// Output:
	// updateMany Book: UPDATE "books" SET "pages" = $1 WHERE "author_id" = $2 RETURNING "id" (2 args) -> 2 rows, err=<nil>
	// changed Book: 2 rows, keys [10 11]
	// count Book: SELECT COUNT(*) FROM "books" WHERE "pages" >= $1 (1 args) -> 1 rows, err=<nil>
}

// Watch yields the current rows, then the rows again whenever they change.
// Here the "database" is PostgreSQL: each poll reads its WAL position, and
// the query runs again only when the position moved. The Create through the
// same DB wakes the watch at once, without waiting for the interval.
func ExampleModelOf_Watch() {
	fake := fakedriver.New(dialect.Postgres, fakedriver.All)
	var mu sync.Mutex
	books := [][]any{{int64(10), int64(1), "The Dispossessed", int64(387)}}
	fake.On(fakedriver.Exact(driver.PostgreSQLPositionSQL)).Func(func(fakedriver.Stmt) fakedriver.Answer {
		mu.Lock()
		defer mu.Unlock()
		return fakedriver.Answer{Columns: []string{"lsn"}, Rows: [][]any{{fmt.Sprintf("0/%X", len(books))}}}
	})
	fake.On(fakedriver.Prefix(`INSERT INTO "books"`)).Func(func(s fakedriver.Stmt) fakedriver.Answer {
		mu.Lock()
		defer mu.Unlock()
		row := []any{int64(11), s.Args[0], s.Args[1], s.Args[2]}
		books = append(books, row)
		return fakedriver.Answer{Columns: []string{"id"}, Rows: [][]any{{int64(11)}}} // RETURNING "id"
	})
	fake.On(fakedriver.Contains(`FROM "books"`)).Func(func(fakedriver.Stmt) fakedriver.Answer {
		mu.Lock()
		defer mu.Unlock()
		return fakedriver.Answer{Columns: []string{"id", "author_id", "title", "pages"}, Rows: append([][]any(nil), books...)}
	})
	db, err := forge.Open(library, fake.Conn())
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := Books.Cols()
	n := 0
	for rows, err := range Books.Watch(ctx, db, forge.OrderBy(&b.ID, forge.Asc), forge.Every(time.Minute)) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(len(rows), "books, the last:", rows[len(rows)-1].Title)
		if n++; n == 2 {
			break
		}
		if _, err := Books.Create(ctx, db, Book{AuthorID: 1, Title: "The Word for World Is Forest", Pages: 189}); err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// 1 books, the last: The Dispossessed
	// 2 books, the last: The Word for World Is Forest
}
