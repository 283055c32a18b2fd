package bench

import (
	"context"
	"encoding/json"

	"github.com/forge-orm/forge/bench/sqlc/litedb"
	"github.com/forge-orm/forge/bench/sqlc/mydb"
	"github.com/forge-orm/forge/bench/sqlc/pgdb"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The sqlc implementations run the code sqlc v1.31.1 generated from
// sqlc/sqlc.yaml: package pgdb (sql_package pgx/v5, on a pgxpool.Pool) and
// package litedb (database/sql, on the shared modernc.org/sqlite *sql.DB) and
// package mydb (database/sql, on go-sql-driver/mysql with interpolation
// on, as the hand-written baseline).
// sqlc writes no eager loading: the relation read is its two generated
// queries (parents, then children of those parents) joined in Go, as a
// sqlc user writes it.

func openSqlc(ctx context.Context, e *Env) (Lib, error) {
	if e.DB == Postgres {
		pool, err := pgxpool.New(ctx, e.DSN)
		if err != nil {
			return nil, err
		}
		return &sqlcPG{pool: pool, q: pgdb.New(pool)}, nil
	}
	db, err := openSQLDB(e)
	if err != nil {
		return nil, err
	}
	if e.DB == MySQL {
		return &sqlcMy{close: db.Close, q: mydb.New(db)}, nil
	}
	return &sqlcLite{close: db.Close, q: litedb.New(db)}, nil
}

type sqlcPG struct {
	pool *pgxpool.Pool
	q    *pgdb.Queries
	ids  IDSeq
}

func (l *sqlcPG) Close() error { l.pool.Close(); return nil }

func (l *sqlcPG) InsertOne(ctx context.Context, i int) error {
	u := NewUser(i)
	id, err := l.q.InsertUser(ctx, pgdb.InsertUserParams{Name: u.Name, Email: u.Email, City: u.City, Bio: u.Bio, Age: u.Age, Active: u.Active, Balance: u.Balance})
	if err != nil {
		return err
	}
	return l.ids.Next(id)
}

// InsertMany inserts the rows with one statement over arrays (unnest).
func (l *sqlcPG) InsertMany(ctx context.Context, i int) error {
	src := NewUsers()
	n := len(src)
	p := pgdb.InsertUsersParams{
		Names: make([]string, n), Emails: make([]string, n), Cities: make([]string, n), Bios: make([]string, n),
		Ages: make([]int32, n), Actives: make([]bool, n), Balances: make([]int64, n),
	}
	for k := range src {
		u := &src[k]
		p.Names[k], p.Emails[k], p.Cities[k], p.Bios[k] = u.Name, u.Email, u.City, u.Bio
		p.Ages[k], p.Actives[k], p.Balances[k] = u.Age, u.Active, u.Balance
	}
	ids, err := l.q.InsertUsers(ctx, p)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := l.ids.Next(id); err != nil {
			return err
		}
	}
	return CheckCount("insert-100", len(ids), ManyRows)
}

func (l *sqlcPG) UpdateOne(ctx context.Context, i int) error {
	id, city, balance := UpdateTarget(i)
	n, err := l.q.UpdateUser(ctx, pgdb.UpdateUserParams{ID: id, City: city, Balance: balance})
	if err != nil {
		return err
	}
	return CheckAffected(n)
}

func pgRow(u *pgdb.BenchUser) Row {
	return Row{ID: u.ID, Name: u.Name, Email: u.Email, City: u.City, Bio: u.Bio, Age: u.Age, Active: u.Active, Balance: u.Balance}
}

func (l *sqlcPG) ReadOne(ctx context.Context, i int) error {
	id := ReadID(i)
	u, err := l.q.GetUser(ctx, id)
	if err != nil {
		return err
	}
	return CheckUser(pgRow(&u), id)
}

func (l *sqlcPG) ReadMany(ctx context.Context, i int) error {
	users, err := l.q.ListUsers(ctx, ManyRows)
	if err != nil {
		return err
	}
	if err := CheckCount("read-100", len(users), ManyRows); err != nil {
		return err
	}
	for k := range users {
		if err := CheckUser(pgRow(&users[k]), int64(k+1)); err != nil {
			return err
		}
	}
	return nil
}

func (l *sqlcPG) ReadRelations(ctx context.Context, i int) error {
	users, err := l.q.ListUsers(ctx, RelParents)
	if err != nil {
		return err
	}
	ids := make([]int64, len(users))
	for k := range users {
		ids[k] = users[k].ID
	}
	posts, err := l.q.ListPostsByUserIDs(ctx, ids)
	if err != nil {
		return err
	}
	byUser := make(map[int64][]pgdb.BenchPost, len(users))
	for _, p := range posts {
		byUser[p.UserID] = append(byUser[p.UserID], p)
	}
	if err := CheckCount("parents", len(users), RelParents); err != nil {
		return err
	}
	for k := range users {
		u := &users[k]
		if err := CheckUser(pgRow(u), int64(k+1)); err != nil {
			return err
		}
		mine := byUser[u.ID]
		if err := CheckCount("posts", len(mine), PostsPerUser); err != nil {
			return err
		}
		for _, p := range mine {
			if err := CheckPost(PostRow{ID: p.ID, UserID: p.UserID, Title: p.Title, Likes: p.Likes}, u.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *sqlcPG) BuildSelect(int) error { return ErrNotApplicable }

type sqlcLite struct {
	close func() error
	q     *litedb.Queries
	ids   IDSeq
}

func (l *sqlcLite) Close() error { return l.close() }

func (l *sqlcLite) InsertOne(ctx context.Context, i int) error {
	u := NewUser(i)
	id, err := l.q.InsertUser(ctx, litedb.InsertUserParams{Name: u.Name, Email: u.Email, City: u.City, Bio: u.Bio, Age: int64(u.Age), Active: u.Active, Balance: u.Balance})
	if err != nil {
		return err
	}
	return l.ids.Next(id)
}

// jsonUser is one row of the JSON array InsertUsersJSON reads.
type jsonUser struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	City    string `json:"city"`
	Bio     string `json:"bio"`
	Age     int32  `json:"age"`
	Active  bool   `json:"active"`
	Balance int64  `json:"balance"`
}

// InsertMany inserts the rows with one statement over a JSON array
// (json_each): SQLite has no arrays and sqlc no variable VALUES lists.
func (l *sqlcLite) InsertMany(ctx context.Context, i int) error {
	src := NewUsers()
	rows := make([]jsonUser, len(src))
	for k := range src {
		u := &src[k]
		rows[k] = jsonUser{Name: u.Name, Email: u.Email, City: u.City, Bio: u.Bio, Age: u.Age, Active: u.Active, Balance: u.Balance}
	}
	doc, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	ids, err := l.q.InsertUsersJSON(ctx, string(doc))
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := l.ids.Next(id); err != nil {
			return err
		}
	}
	return CheckCount("insert-100", len(ids), ManyRows)
}

func (l *sqlcLite) UpdateOne(ctx context.Context, i int) error {
	id, city, balance := UpdateTarget(i)
	n, err := l.q.UpdateUser(ctx, litedb.UpdateUserParams{ID: id, City: city, Balance: balance})
	if err != nil {
		return err
	}
	return CheckAffected(n)
}

func liteRow(u *litedb.BenchUser) Row {
	return Row{ID: u.ID, Name: u.Name, Email: u.Email, City: u.City, Bio: u.Bio, Age: int32(u.Age), Active: u.Active, Balance: u.Balance}
}

func (l *sqlcLite) ReadOne(ctx context.Context, i int) error {
	id := ReadID(i)
	u, err := l.q.GetUser(ctx, id)
	if err != nil {
		return err
	}
	return CheckUser(liteRow(&u), id)
}

func (l *sqlcLite) ReadMany(ctx context.Context, i int) error {
	users, err := l.q.ListUsers(ctx, ManyRows)
	if err != nil {
		return err
	}
	if err := CheckCount("read-100", len(users), ManyRows); err != nil {
		return err
	}
	for k := range users {
		if err := CheckUser(liteRow(&users[k]), int64(k+1)); err != nil {
			return err
		}
	}
	return nil
}

func (l *sqlcLite) ReadRelations(ctx context.Context, i int) error {
	users, err := l.q.ListUsers(ctx, RelParents)
	if err != nil {
		return err
	}
	ids := make([]int64, len(users))
	for k := range users {
		ids[k] = users[k].ID
	}
	posts, err := l.q.ListPostsByUserIDs(ctx, ids)
	if err != nil {
		return err
	}
	byUser := make(map[int64][]litedb.BenchPost, len(users))
	for _, p := range posts {
		byUser[p.UserID] = append(byUser[p.UserID], p)
	}
	if err := CheckCount("parents", len(users), RelParents); err != nil {
		return err
	}
	for k := range users {
		u := &users[k]
		if err := CheckUser(liteRow(u), int64(k+1)); err != nil {
			return err
		}
		mine := byUser[u.ID]
		if err := CheckCount("posts", len(mine), PostsPerUser); err != nil {
			return err
		}
		for _, p := range mine {
			if err := CheckPost(PostRow{ID: p.ID, UserID: p.UserID, Title: p.Title, Likes: p.Likes}, u.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *sqlcLite) BuildSelect(int) error { return ErrNotApplicable }

// sqlcMy is sqlc's MySQL engine. It has no insert-100: the engine parses
// neither a multi-row VALUES list of variable length nor JSON_TABLE, MySQL
// has no arrays, and :copyfrom (LOAD DATA LOCAL INFILE) returns no ids.
type sqlcMy struct {
	close func() error
	q     *mydb.Queries
	ids   IDSeq
}

func (l *sqlcMy) Close() error { return l.close() }

func (l *sqlcMy) InsertOne(ctx context.Context, i int) error {
	u := NewUser(i)
	id, err := l.q.InsertUser(ctx, mydb.InsertUserParams{Name: u.Name, Email: u.Email, City: u.City, Bio: u.Bio, Age: u.Age, Active: u.Active, Balance: u.Balance})
	if err != nil {
		return err
	}
	return l.ids.Next(id)
}

func (l *sqlcMy) InsertMany(ctx context.Context, i int) error { return ErrNotApplicable }

func (l *sqlcMy) UpdateOne(ctx context.Context, i int) error {
	id, city, balance := UpdateTarget(i)
	n, err := l.q.UpdateUser(ctx, mydb.UpdateUserParams{ID: id, City: city, Balance: balance})
	if err != nil {
		return err
	}
	return CheckAffected(n)
}

func myRow(u *mydb.BenchUser) Row { return Row(*u) }

func (l *sqlcMy) ReadOne(ctx context.Context, i int) error {
	id := ReadID(i)
	u, err := l.q.GetUser(ctx, id)
	if err != nil {
		return err
	}
	return CheckUser(myRow(&u), id)
}

func (l *sqlcMy) ReadMany(ctx context.Context, i int) error {
	users, err := l.q.ListUsers(ctx, ManyRows)
	if err != nil {
		return err
	}
	if err := CheckCount("read-100", len(users), ManyRows); err != nil {
		return err
	}
	for k := range users {
		if err := CheckUser(myRow(&users[k]), int64(k+1)); err != nil {
			return err
		}
	}
	return nil
}

func (l *sqlcMy) ReadRelations(ctx context.Context, i int) error {
	users, err := l.q.ListUsers(ctx, RelParents)
	if err != nil {
		return err
	}
	ids := make([]int64, len(users))
	for k := range users {
		ids[k] = users[k].ID
	}
	posts, err := l.q.ListPostsByUserIDs(ctx, ids)
	if err != nil {
		return err
	}
	byUser := make(map[int64][]mydb.BenchPost, len(users))
	for _, p := range posts {
		byUser[p.UserID] = append(byUser[p.UserID], p)
	}
	if err := CheckCount("parents", len(users), RelParents); err != nil {
		return err
	}
	for k := range users {
		u := &users[k]
		if err := CheckUser(myRow(u), int64(k+1)); err != nil {
			return err
		}
		mine := byUser[u.ID]
		if err := CheckCount("posts", len(mine), PostsPerUser); err != nil {
			return err
		}
		for _, p := range mine {
			if err := CheckPost(PostRow(p), u.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

func (l *sqlcMy) BuildSelect(int) error { return ErrNotApplicable }
