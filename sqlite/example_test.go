package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/sqlite"
)

type Author struct {
	ID        int64
	Name      string
	Email     string
	CreatedAt time.Time
	Books     []Book
}

type Book struct {
	ID       int64
	AuthorID int64
	Title    string
	Year     int32
	Author   *Author
}

var (
	Authors = forge.Model("authors", func(a *Author, f *forge.Fields) {
		f.ID(&a.ID)
		f.Text(&a.Name)
		f.Text(&a.Email).Unique()
		f.Time(&a.CreatedAt).DefaultNow()
		f.HasMany(&a.Books, func(b *Book) *int64 { return &b.AuthorID })
	})
	Books = forge.Model("books", func(b *Book, f *forge.Fields) {
		f.ID(&b.ID)
		f.Int(&b.AuthorID).Index()
		f.Text(&b.Title)
		f.Int32(&b.Year)
		f.BelongsTo(&b.Author, &b.AuthorID).OnDelete(forge.Cascade)
	})
	Library = forge.MustSchema(Authors, Books)
)

func openLibrary() *forge.DB {
	conn, err := sqlite.Open(":memory:")
	if err != nil {
		panic(err)
	}
	db, err := forge.Open(Library, conn)
	if err != nil {
		panic(err)
	}
	if err := db.CreateSchema(context.Background()); err != nil {
		panic(err)
	}
	return db
}

// Models are declared once; queries are typed by the field pointers of
// Cols(), and relations load with one extra query.
func Example() {
	ctx := context.Background()
	db := openLibrary()
	defer db.Close()

	le, _ := Authors.Create(ctx, db, Author{Name: "Ursula K. Le Guin", Email: "ursula@example.com"})
	_, _ = Books.CreateMany(ctx, db, []Book{
		{AuthorID: le.ID, Title: "A Wizard of Earthsea", Year: 1968},
		{AuthorID: le.ID, Title: "The Left Hand of Darkness", Year: 1969},
		{AuthorID: le.ID, Title: "The Dispossessed", Year: 1974},
	})

	a, b := Authors.Cols(), Books.Cols()
	authors, err := Authors.FindMany(ctx, db,
		forge.Where(forge.Contains(&a.Name, "Le Guin")),
		forge.Include(&a.Books,
			forge.Where(forge.Lt(&b.Year, int32(1970))),
			forge.OrderBy(&b.Year, forge.Asc)))
	if err != nil {
		panic(err)
	}
	for _, x := range authors {
		fmt.Println(x.Name)
		for _, bk := range x.Books {
			fmt.Printf("  %d %s\n", bk.Year, bk.Title)
		}
	}
	// Output:
	// Ursula K. Le Guin
	//   1968 A Wizard of Earthsea
	//   1969 The Left Hand of Darkness
}

// A transaction commits when the function returns nil and rolls back on an
// error or a panic. Constraint violations are typed errors.
func ExampleOpen_transaction() {
	ctx := context.Background()
	db := openLibrary()
	defer db.Close()

	err := db.Transaction(ctx, func(tx *forge.Tx) error {
		if _, err := Authors.Create(ctx, tx, Author{Name: "A", Email: "same@example.com"}); err != nil {
			return err
		}
		_, err := Authors.Create(ctx, tx, Author{Name: "B", Email: "same@example.com"})
		return err
	})
	var ce *forge.ConstraintError
	if errors.As(err, &ce) {
		fmt.Println(ce.Kind, ce.Constraint, ce.Model, ce.Fields)
	}
	n, _ := Authors.Count(ctx, db)
	fmt.Println("authors:", n)
	// Output:
	// unique authors_email_key Author [Email]
	// authors: 0
}

// Aggregate maps group columns and aggregates into a result struct.
func ExampleOpen_aggregate() {
	ctx := context.Background()
	db := openLibrary()
	defer db.Close()

	x, _ := Authors.Create(ctx, db, Author{Name: "X", Email: "x@example.com"})
	y, _ := Authors.Create(ctx, db, Author{Name: "Y", Email: "y@example.com"})
	_, _ = Books.CreateMany(ctx, db, []Book{
		{AuthorID: x.ID, Title: "one", Year: 2001},
		{AuthorID: x.ID, Title: "two", Year: 2003},
		{AuthorID: y.ID, Title: "three", Year: 2010},
	})
	type perAuthor struct {
		AuthorID int64
		Books    int64
		First    int32
		AvgYear  float64
	}
	b := Books.Cols()
	rows, _ := forge.Aggregate(ctx, db, Books, func(r *perAuthor, a *forge.Agg) {
		forge.Group(a, &r.AuthorID, &b.AuthorID)
		forge.CountAll(a, &r.Books)
		forge.Min(a, &r.First, &b.Year)
		forge.Avg(a, &r.AvgYear, &b.Year)
	}, forge.OrderBy(&b.AuthorID, forge.Asc))
	for _, r := range rows {
		fmt.Printf("author %d: %d books, first in %d, mean year %.0f\n", r.AuthorID, r.Books, r.First, r.AvgYear)
	}
	// Output:
	// author 1: 2 books, first in 2001, mean year 2002
	// author 2: 1 books, first in 2010, mean year 2010
}

// Keyset pagination: After continues after the last row of a page.
func ExampleOpen_pagination() {
	ctx := context.Background()
	db := openLibrary()
	defer db.Close()

	for i := 0; i < 5; i++ {
		_, _ = Authors.Create(ctx, db, Author{Name: fmt.Sprintf("author %d", i), Email: fmt.Sprintf("a%d@example.com", i)})
	}
	a := Authors.Cols()
	var last *Author
	for page := 1; ; page++ {
		opts := []forge.Option{forge.OrderBy(&a.Name, forge.Desc), forge.Take(2)}
		if last != nil {
			opts = append(opts, forge.After(last))
		}
		rows, _ := Authors.FindMany(ctx, db, opts...)
		if len(rows) == 0 {
			break
		}
		fmt.Print("page ", page, ":")
		for _, r := range rows {
			fmt.Print(" ", r.Name)
		}
		fmt.Println()
		last = &rows[len(rows)-1]
	}
	// Output:
	// page 1: author 4 author 3
	// page 2: author 2 author 1
	// page 3: author 0
}

// StatementCache sizes the per-connection cache of prepared statements
// (128 by default); 0 turns it off.
func ExampleStatementCache() {
	ctx := context.Background()
	conn, err := sqlite.Open(":memory:", sqlite.StatementCache(32))
	if err != nil {
		panic(err)
	}
	db, err := forge.Open(Library, conn)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	if err := db.CreateSchema(ctx); err != nil {
		panic(err)
	}
	// The same query shape is the same SQL text: prepared once, then run
	// again with new arguments.
	for _, name := range []string{"Ada", "Grace"} {
		a, err := Authors.Create(ctx, db, Author{Name: name, Email: name + "@example.com"})
		if err != nil {
			panic(err)
		}
		got, err := Authors.FindUnique(ctx, db, forge.Eq(&Authors.Cols().ID, a.ID))
		if err != nil {
			panic(err)
		}
		fmt.Println(got.ID, got.Name)
	}
	// Output:
	// 1 Ada
	// 2 Grace
}
