package bench

import (
	"context"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	forgemysql "github.com/forge-orm/forge/mysql"
	forgepgx "github.com/forge-orm/forge/pgx"
	"github.com/forge-orm/forge/sqlite"
)

// FUser and FPost are the model's structs for forge.
type FUser struct {
	ID      int64
	Name    string
	Email   string
	City    string
	Bio     string
	Age     int32
	Active  bool
	Balance int64
	Posts   []FPost
}

// FPost is a bench_posts row for forge.
type FPost struct {
	ID     int64
	UserID int64
	Title  string
	Likes  int64
}

// FUsers and FPosts declare the tables for forge.
var (
	FUsers = forge.Model("bench_users", func(u *FUser, f *forge.Fields) {
		f.ID(&u.ID)
		f.Text(&u.Name)
		f.Text(&u.Email)
		f.Text(&u.City)
		f.Text(&u.Bio)
		f.Int32(&u.Age)
		f.Bool(&u.Active)
		f.Int(&u.Balance)
		f.HasMany(&u.Posts, func(p *FPost) *int64 { return &p.UserID })
	})
	FPosts = forge.Model("bench_posts", func(p *FPost, f *forge.Fields) {
		f.ID(&p.ID)
		f.Int(&p.UserID).Index().References(forge.Ref[FUser]()).OnDelete(forge.Cascade)
		f.Text(&p.Title)
		f.Int(&p.Likes)
	})
	forgeSchema = forge.MustSchema(FUsers, FPosts)
)

func (u *FUser) row() Row {
	return Row{ID: u.ID, Name: u.Name, Email: u.Email, City: u.City, Bio: u.Bio, Age: u.Age, Active: u.Active, Balance: u.Balance}
}

// forgeLib is forge on its pgx driver (pgx.New over a pgxpool.Pool), on
// its SQLite driver (sqlite.Open: modernc.org/sqlite through stdsql, with
// its statement cache of 128 statements per connection, the default) or on
// its MySQL driver (mysql.OpenConfig: go-sql-driver/mysql through stdsql,
// with the settings it forces, interpolation off).
type forgeLib struct {
	db      *forge.DB
	d       dialect.Dialect
	newRows []FUser
	ids     IDSeq
}

func openForge(ctx context.Context, e *Env) (Lib, error) {
	var db *forge.DB
	var err error
	switch e.DB {
	case Postgres:
		conn, cerr := forgepgx.Open(ctx, e.DSN)
		if cerr != nil {
			return nil, cerr
		}
		db, err = forge.Open(forgeSchema, conn)
	case MySQL:
		conn, cerr := forgemysql.OpenConfig(ctx, e.MySQL)
		if cerr != nil {
			return nil, cerr
		}
		db, err = forge.Open(forgeSchema, conn)
	default:
		conn, cerr := sqlite.Open(e.Path)
		if cerr != nil {
			return nil, cerr
		}
		db, err = forge.Open(forgeSchema, conn)
	}
	if err != nil {
		return nil, err
	}
	l := &forgeLib{db: db, d: db.Dialect()}
	for _, u := range NewUsers() {
		l.newRows = append(l.newRows, FUser{Name: u.Name, Email: u.Email, City: u.City, Bio: u.Bio, Age: u.Age, Active: u.Active, Balance: u.Balance})
	}
	return l, nil
}

func (l *forgeLib) Close() error { return l.db.Close() }

func (l *forgeLib) InsertOne(ctx context.Context, i int) error {
	u := NewUser(i)
	got, err := FUsers.Create(ctx, l.db, FUser{Name: u.Name, Email: u.Email, City: u.City, Bio: u.Bio, Age: u.Age, Active: u.Active, Balance: u.Balance})
	if err != nil {
		return err
	}
	return l.ids.Next(got.ID)
}

func (l *forgeLib) InsertMany(ctx context.Context, i int) error {
	// CreateMany copies its input: the template rows keep their zero ids.
	got, err := FUsers.CreateMany(ctx, l.db, l.newRows)
	if err != nil {
		return err
	}
	for k := range got {
		if err := l.ids.Next(got[k].ID); err != nil {
			return err
		}
	}
	return CheckCount("insert-100", len(got), ManyRows)
}

func (l *forgeLib) UpdateOne(ctx context.Context, i int) error {
	id, city, balance := UpdateTarget(i)
	c := FUsers.Cols()
	n, err := FUsers.UpdateMany(ctx, l.db, forge.Eq(&c.ID, id), forge.Set(&c.City, city), forge.Set(&c.Balance, balance))
	if err != nil {
		return err
	}
	return CheckAffected(n)
}

func (l *forgeLib) ReadOne(ctx context.Context, i int) error {
	id := ReadID(i)
	c := FUsers.Cols()
	u, err := FUsers.FindUnique(ctx, l.db, forge.Eq(&c.ID, id))
	if err != nil {
		return err
	}
	return CheckUser(u.row(), id)
}

func (l *forgeLib) ReadMany(ctx context.Context, i int) error {
	c := FUsers.Cols()
	users, err := FUsers.FindMany(ctx, l.db, forge.OrderBy(&c.ID, forge.Asc), forge.Take(ManyRows))
	if err != nil {
		return err
	}
	if err := CheckCount("read-100", len(users), ManyRows); err != nil {
		return err
	}
	for k := range users {
		if err := CheckUser(users[k].row(), int64(k+1)); err != nil {
			return err
		}
	}
	return nil
}

func (l *forgeLib) ReadRelations(ctx context.Context, i int) error {
	c := FUsers.Cols()
	users, err := FUsers.FindMany(ctx, l.db, forge.OrderBy(&c.ID, forge.Asc), forge.Take(RelParents), forge.Include(&c.Posts))
	if err != nil {
		return err
	}
	if err := CheckCount("parents", len(users), RelParents); err != nil {
		return err
	}
	for k := range users {
		u := &users[k]
		if err := CheckUser(u.row(), int64(k+1)); err != nil {
			return err
		}
		if err := CheckCount("posts", len(u.Posts), PostsPerUser); err != nil {
			return err
		}
		for _, p := range u.Posts {
			if err := CheckPost(PostRow(p), u.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *forgeLib) BuildSelect(i int) error {
	c := FUsers.Cols()
	sql, args, err := FUsers.FindManySQL(l.d,
		forge.Where(forge.Gt(&c.Age, int32(BuildMinAge)), forge.Eq(&c.Active, true)),
		forge.OrderBy(&c.ID, forge.Desc),
		forge.Take(BuildLimit))
	if err != nil {
		return err
	}
	return CheckBuilt(sql, len(args))
}
