package bench

import (
	"context"
	"database/sql"
	"strings"

	"github.com/forge-orm/forge/sqlite"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// stdSQLLib is hand-written database/sql code: over pgx's stdlib driver on
// PostgreSQL, over modernc.org/sqlite on SQLite (the baseline there).
type stdSQLLib struct {
	db  *sql.DB
	pg  bool
	q   handSQL
	ids IDSeq
}

// openSQLDB opens the *sql.DB every database/sql-based library uses: pgx's
// stdlib driver on PostgreSQL; on SQLite the pool forge's sqlite.Open
// configures (modernc.org/sqlite, WAL, synchronous=NORMAL, foreign_keys,
// busy_timeout), so that every library runs on the same driver and
// settings.
func openSQLDB(e *Env) (*sql.DB, error) {
	if e.DB == Postgres {
		return sql.Open("pgx", e.DSN)
	}
	conn, err := sqlite.Open(e.Path)
	if err != nil {
		return nil, err
	}
	return conn.DB(), nil
}

func openStdSQL(ctx context.Context, e *Env) (Lib, error) {
	db, err := openSQLDB(e)
	if err != nil {
		return nil, err
	}
	l := &stdSQLLib{db: db, pg: e.DB == Postgres, q: sqliteSQL}
	if l.pg {
		l.q = pgSQL
	}
	return l, nil
}

func (l *stdSQLLib) Close() error { return l.db.Close() }

func (l *stdSQLLib) InsertOne(ctx context.Context, i int) error {
	u := NewUser(i)
	var id int64
	if l.pg {
		if err := l.db.QueryRowContext(ctx, l.q.insertOne, u.Name, u.Email, u.City, u.Bio, u.Age, u.Active, u.Balance).Scan(&id); err != nil {
			return err
		}
	} else {
		res, err := l.db.ExecContext(ctx, l.q.insertOne, u.Name, u.Email, u.City, u.Bio, u.Age, u.Active, u.Balance)
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	return l.ids.Next(id)
}

func (l *stdSQLLib) InsertMany(ctx context.Context, i int) error {
	src := NewUsers()
	args := make([]any, 0, len(src)*7)
	for k := range src {
		args = userArgs(args, &src[k])
	}
	rows, err := l.db.QueryContext(ctx, l.q.insertMany, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		if err := l.ids.Next(id); err != nil {
			return err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return CheckCount("insert-100", n, ManyRows)
}

func (l *stdSQLLib) UpdateOne(ctx context.Context, i int) error {
	id, city, balance := UpdateTarget(i)
	var res sql.Result
	var err error
	if l.pg {
		res, err = l.db.ExecContext(ctx, l.q.update, id, city, balance)
	} else {
		res, err = l.db.ExecContext(ctx, l.q.update, city, balance, id)
	}
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	return CheckAffected(n)
}

func (l *stdSQLLib) ReadOne(ctx context.Context, i int) error {
	id := ReadID(i)
	var r Row
	if err := l.db.QueryRowContext(ctx, l.q.get, id).Scan(&r.ID, &r.Name, &r.Email, &r.City, &r.Bio, &r.Age, &r.Active, &r.Balance); err != nil {
		return err
	}
	return CheckUser(r, id)
}

func (l *stdSQLLib) ReadMany(ctx context.Context, i int) error {
	rows, err := l.db.QueryContext(ctx, l.q.list, ManyRows)
	if err != nil {
		return err
	}
	defer rows.Close()
	users := make([]Row, 0, ManyRows)
	for rows.Next() {
		var r Row
		if err := rows.Scan(&r.ID, &r.Name, &r.Email, &r.City, &r.Bio, &r.Age, &r.Active, &r.Balance); err != nil {
			return err
		}
		users = append(users, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return checkRows(users)
}

func (l *stdSQLLib) ReadRelations(ctx context.Context, i int) error {
	users, err := l.parents(ctx)
	if err != nil {
		return err
	}
	at := make(map[int64]int, len(users))
	for k := range users {
		at[users[k].ID] = k
	}
	var rows *sql.Rows
	if l.pg {
		ids := make([]int64, len(users))
		for k := range users {
			ids[k] = users[k].ID
		}
		rows, err = l.db.QueryContext(ctx, l.q.posts, ids)
	} else {
		// SQLite has no arrays: one placeholder per key.
		var q strings.Builder
		q.Grow(len(l.q.posts) + 3*len(users))
		q.WriteString(l.q.posts)
		args := make([]any, len(users))
		for k := range users {
			if k > 0 {
				q.WriteString(", ")
			}
			q.WriteByte('?')
			args[k] = users[k].ID
		}
		q.WriteByte(')')
		rows, err = l.db.QueryContext(ctx, q.String(), args...)
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var p PostRow
		if err := rows.Scan(&p.ID, &p.UserID, &p.Title, &p.Likes); err != nil {
			return err
		}
		u := &users[at[p.UserID]]
		u.Posts = append(u.Posts, p)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return checkUserPosts(users)
}

func (l *stdSQLLib) parents(ctx context.Context) ([]UserPosts, error) {
	rows, err := l.db.QueryContext(ctx, l.q.list, RelParents)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	users := make([]UserPosts, 0, RelParents)
	for rows.Next() {
		var r UserPosts
		if err := rows.Scan(&r.ID, &r.Name, &r.Email, &r.City, &r.Bio, &r.Age, &r.Active, &r.Balance); err != nil {
			return nil, err
		}
		users = append(users, r)
	}
	return users, rows.Err()
}

func (l *stdSQLLib) BuildSelect(int) error { return ErrNotApplicable }
