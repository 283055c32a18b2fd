package bench

import (
	"context"
	"database/sql"
	"errors"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	benchent "github.com/forge-orm/forge/bench/ent"
	"github.com/forge-orm/forge/bench/ent/user"
)

// entLib is ent's generated client (./ent, from ./ent/schema) over
// database/sql: pgx's stdlib driver on PostgreSQL, the shared
// modernc.org/sqlite *sql.DB on SQLite, go-sql-driver/mysql with the
// shared settings and interpolation on on MySQL.
type entLib struct {
	client *benchent.Client
	build  *benchent.Client // on captureDriver, for build-select
	cap    *captureDriver
	ids    IDSeq
}

func openEnt(ctx context.Context, e *Env) (Lib, error) {
	sqlDB, err := openSQLDB(e)
	if err != nil {
		return nil, err
	}
	name := dialect.Postgres
	switch e.DB {
	case SQLite:
		name = dialect.SQLite
	case MySQL:
		name = dialect.MySQL
	}
	cap := &captureDriver{dialect: name}
	return &entLib{
		client: benchent.NewClient(benchent.Driver(entsql.OpenDB(name, sqlDB))),
		build:  benchent.NewClient(benchent.Driver(cap)),
		cap:    cap,
	}, nil
}

func (l *entLib) Close() error { return l.client.Close() }

func (l *entLib) create(u *Row) *benchent.UserCreate {
	return l.client.User.Create().SetName(u.Name).SetEmail(u.Email).SetCity(u.City).SetBio(u.Bio).
		SetAge(u.Age).SetActive(u.Active).SetBalance(u.Balance)
}

func (l *entLib) InsertOne(ctx context.Context, i int) error {
	u, err := l.create(NewUser(i)).Save(ctx)
	if err != nil {
		return err
	}
	return l.ids.Next(u.ID)
}

func (l *entLib) InsertMany(ctx context.Context, i int) error {
	src := NewUsers()
	builders := make([]*benchent.UserCreate, len(src))
	for k := range src {
		builders[k] = l.create(&src[k])
	}
	users, err := l.client.User.CreateBulk(builders...).Save(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := l.ids.Next(u.ID); err != nil {
			return err
		}
	}
	return CheckCount("insert-100", len(users), ManyRows)
}

func (l *entLib) UpdateOne(ctx context.Context, i int) error {
	id, city, balance := UpdateTarget(i)
	n, err := l.client.User.Update().Where(user.ID(id)).SetCity(city).SetBalance(balance).Save(ctx)
	if err != nil {
		return err
	}
	return CheckAffected(int64(n))
}

func entRow(u *benchent.User) Row {
	return Row{ID: u.ID, Name: u.Name, Email: u.Email, City: u.City, Bio: u.Bio, Age: u.Age, Active: u.Active, Balance: u.Balance}
}

func (l *entLib) ReadOne(ctx context.Context, i int) error {
	id := ReadID(i)
	u, err := l.client.User.Get(ctx, id)
	if err != nil {
		return err
	}
	return CheckUser(entRow(u), id)
}

func (l *entLib) ReadMany(ctx context.Context, i int) error {
	users, err := l.client.User.Query().Order(user.ByID()).Limit(ManyRows).All(ctx)
	if err != nil {
		return err
	}
	if err := CheckCount("read-100", len(users), ManyRows); err != nil {
		return err
	}
	for k, u := range users {
		if err := CheckUser(entRow(u), int64(k+1)); err != nil {
			return err
		}
	}
	return nil
}

func (l *entLib) ReadRelations(ctx context.Context, i int) error {
	users, err := l.client.User.Query().Order(user.ByID()).Limit(RelParents).WithPosts().All(ctx)
	if err != nil {
		return err
	}
	if err := CheckCount("parents", len(users), RelParents); err != nil {
		return err
	}
	for k, u := range users {
		if err := CheckUser(entRow(u), int64(k+1)); err != nil {
			return err
		}
		if err := CheckCount("posts", len(u.Edges.Posts), PostsPerUser); err != nil {
			return err
		}
		for _, p := range u.Edges.Posts {
			if err := CheckPost(PostRow{ID: p.ID, UserID: p.UserID, Title: p.Title, Likes: p.Likes}, u.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// BuildSelect runs the generated query on captureDriver, which records the
// statement and returns no rows: ent has no public way to render a
// generated query's SQL without running it.
func (l *entLib) BuildSelect(i int) error {
	users, err := l.build.User.Query().
		Where(user.AgeGT(BuildMinAge), user.Active(true)).
		Order(user.ByID(entsql.OrderDesc())).
		Limit(BuildLimit).
		All(context.Background())
	if err != nil {
		return err
	}
	if len(users) != 0 {
		return errors.New("ent build-select: rows from the capture driver")
	}
	return CheckBuilt(l.cap.query, l.cap.nargs)
}

// captureDriver is an ent dialect.Driver that records the last query and
// returns no rows.
type captureDriver struct {
	dialect string
	query   string
	nargs   int
}

var errCapture = errors.New("captureDriver runs queries only")

func (d *captureDriver) Exec(ctx context.Context, query string, args, v any) error { return errCapture }

func (d *captureDriver) Query(ctx context.Context, query string, args, v any) error {
	rows, ok := v.(*entsql.Rows)
	if !ok {
		return errCapture
	}
	argv, _ := args.([]any)
	d.query, d.nargs = query, len(argv)
	*rows = entsql.Rows{ColumnScanner: noRows{}}
	return nil
}

func (d *captureDriver) Tx(context.Context) (dialect.Tx, error) { return nil, errCapture }
func (d *captureDriver) Close() error                           { return nil }
func (d *captureDriver) Dialect() string                        { return d.dialect }

// noRows is an empty result.
type noRows struct{}

func (noRows) Close() error                            { return nil }
func (noRows) ColumnTypes() ([]*sql.ColumnType, error) { return nil, nil }
func (noRows) Columns() ([]string, error)              { return nil, nil }
func (noRows) Err() error                              { return nil }
func (noRows) Next() bool                              { return false }
func (noRows) NextResultSet() bool                     { return false }
func (noRows) Scan(...any) error                       { return errCapture }
