package bench

import (
	"context"
	"database/sql"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/mysqldialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/pgdriver"
)

// BUser and BPost are the model's structs for bun.
type BUser struct {
	bun.BaseModel `bun:"table:bench_users,alias:u"`

	ID      int64 `bun:"id,pk,autoincrement"`
	Name    string
	Email   string
	City    string
	Bio     string
	Age     int32
	Active  bool
	Balance int64
	Posts   []BPost `bun:"rel:has-many,join:id=user_id"`
}

// BPost is a bench_posts row for bun.
type BPost struct {
	bun.BaseModel `bun:"table:bench_posts,alias:p"`

	ID     int64 `bun:"id,pk,autoincrement"`
	UserID int64
	Title  string
	Likes  int64
}

func (u *BUser) row() Row {
	return Row{ID: u.ID, Name: u.Name, Email: u.Email, City: u.City, Bio: u.Bio, Age: u.Age, Active: u.Active, Balance: u.Balance}
}

// bunLib is bun. bun writes argument values into the SQL text itself, so
// it sends statements without parameters. On PostgreSQL it runs over its
// own driver (pgdriver) or over pgx's stdlib driver in simple-protocol
// mode, as bun's documentation configures pgx; on SQLite over the shared
// modernc.org/sqlite *sql.DB; on MySQL over go-sql-driver/mysql with the
// shared settings (its statements have no arguments to interpolate).
type bunLib struct {
	db   *bun.DB
	tmpl []BUser
	ids  IDSeq
}

func newBunLib(db *bun.DB) *bunLib {
	l := &bunLib{db: db}
	for _, u := range NewUsers() {
		l.tmpl = append(l.tmpl, BUser{Name: u.Name, Email: u.Email, City: u.City, Bio: u.Bio, Age: u.Age, Active: u.Active, Balance: u.Balance})
	}
	return l
}

func openBunPgdriver(ctx context.Context, e *Env) (Lib, error) {
	sqlDB := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(e.DSN)))
	return newBunLib(bun.NewDB(sqlDB, pgdialect.New())), nil
}

func openBunPgx(ctx context.Context, e *Env) (Lib, error) {
	cfg, err := pgx.ParseConfig(e.DSN)
	if err != nil {
		return nil, err
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	return newBunLib(bun.NewDB(stdlib.OpenDB(*cfg), pgdialect.New())), nil
}

func openBunSQLite(ctx context.Context, e *Env) (Lib, error) {
	sqlDB, err := openSQLDB(e)
	if err != nil {
		return nil, err
	}
	return newBunLib(bun.NewDB(sqlDB, sqlitedialect.New())), nil
}

func openBunMySQL(ctx context.Context, e *Env) (Lib, error) {
	sqlDB, err := openSQLDB(e)
	if err != nil {
		return nil, err
	}
	return newBunLib(bun.NewDB(sqlDB, mysqldialect.New())), nil
}

func (l *bunLib) Close() error { return l.db.Close() }

func (l *bunLib) InsertOne(ctx context.Context, i int) error {
	u := NewUser(i)
	b := BUser{Name: u.Name, Email: u.Email, City: u.City, Bio: u.Bio, Age: u.Age, Active: u.Active, Balance: u.Balance}
	if _, err := l.db.NewInsert().Model(&b).Exec(ctx); err != nil {
		return err
	}
	return l.ids.Next(b.ID)
}

func (l *bunLib) InsertMany(ctx context.Context, i int) error {
	// bun writes the generated ids into the slice: insert a fresh copy.
	rows := make([]BUser, len(l.tmpl))
	copy(rows, l.tmpl)
	if _, err := l.db.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return err
	}
	for k := range rows {
		if err := l.ids.Next(rows[k].ID); err != nil {
			return err
		}
	}
	return CheckCount("insert-100", len(rows), ManyRows)
}

func (l *bunLib) UpdateOne(ctx context.Context, i int) error {
	id, city, balance := UpdateTarget(i)
	res, err := l.db.NewUpdate().Model(&BUser{ID: id, City: city, Balance: balance}).Column("city", "balance").WherePK().Exec(ctx)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	return CheckAffected(n)
}

func (l *bunLib) ReadOne(ctx context.Context, i int) error {
	id := ReadID(i)
	var u BUser
	if err := l.db.NewSelect().Model(&u).Where("id = ?", id).Scan(ctx); err != nil {
		return err
	}
	return CheckUser(u.row(), id)
}

func (l *bunLib) ReadMany(ctx context.Context, i int) error {
	var users []BUser
	if err := l.db.NewSelect().Model(&users).Order("id").Limit(ManyRows).Scan(ctx); err != nil {
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

func (l *bunLib) ReadRelations(ctx context.Context, i int) error {
	var users []BUser
	if err := l.db.NewSelect().Model(&users).Relation("Posts").Order("id").Limit(RelParents).Scan(ctx); err != nil {
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
			if err := CheckPost(PostRow{ID: p.ID, UserID: p.UserID, Title: p.Title, Likes: p.Likes}, u.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// BuildSelect renders the query with String (values written into the SQL).
func (l *bunLib) BuildSelect(i int) error {
	var users []BUser
	sql := l.db.NewSelect().Model(&users).Where("age > ?", BuildMinAge).Where("active = ?", true).Order("id DESC").Limit(BuildLimit).String()
	return CheckBuilt(sql, -1)
}
