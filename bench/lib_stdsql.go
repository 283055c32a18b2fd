package bench

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/forge-orm/forge/sqlite"
	gomysql "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// stdSQLLib is hand-written database/sql code: over pgx's stdlib driver on
// PostgreSQL, over modernc.org/sqlite on SQLite and over
// go-sql-driver/mysql on MySQL (the baseline on both). With prepared set
// (database-sql-prepared, SQLite and MySQL) it runs the same SQL
// through statements it prepared once (*sql.Stmt, which database/sql
// prepares once per pooled connection), as an expert does by hand when
// preparing costs as much as running.
type stdSQLLib struct {
	db  *sql.DB
	pg  bool
	my  bool // MySQL
	q   handSQL
	ids IDSeq

	prepared                                 bool
	insertOne, insertMany, update, get, list *sql.Stmt
	posts                                    map[int]*sql.Stmt // by number of keys

	// row is read-one's destination: database/sql's Scan takes pointers
	// as any, which escape, so a local Row would be allocated each call.
	row Row
}

// openSQLDB opens the *sql.DB every database/sql-based library uses: pgx's
// stdlib driver on PostgreSQL; on MySQL go-sql-driver/mysql with
// interpolation on (see mysqlConfig); on SQLite the pool forge's sqlite.Open
// configures (modernc.org/sqlite, WAL, synchronous=NORMAL, foreign_keys,
// busy_timeout), so that every library runs on the same driver and
// settings, without forge's statement cache: the other libraries run on
// modernc.org/sqlite as it comes, preparing each statement for its call
// unless they prepare it themselves.
func openSQLDB(e *Env) (*sql.DB, error) {
	switch e.DB {
	case Postgres:
		return sql.Open("pgx", e.DSN)
	case MySQL:
		return openMySQLConfig(mysqlConfig(e, true))
	}
	conn, err := sqlite.Open(e.Path, sqlite.StatementCache(0))
	if err != nil {
		return nil, err
	}
	return conn.DB(), nil
}

// mysqlConfig returns the connection settings of a library on MySQL: those
// forge's mysql.ParseDSN forces (parseTime, loc=UTC, the session time_zone
// and sql_mode, clientFoundRows: UPDATE reports matched rows, as on the
// other databases), for every library alike, with client-side
// interpolation of the arguments into the SQL text on or off. On, a
// statement with arguments is one round trip (text protocol); off,
// go-sql-driver prepares, executes and closes a statement per call, unless
// the library prepares it once itself.
func mysqlConfig(e *Env, interpolate bool) *gomysql.Config {
	cfg := e.MySQL.Clone()
	cfg.InterpolateParams = interpolate
	return cfg
}

func openMySQLConfig(cfg *gomysql.Config) (*sql.DB, error) {
	c, err := gomysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

func openStdSQL(ctx context.Context, e *Env) (Lib, error) {
	db, err := openSQLDB(e)
	if err != nil {
		return nil, err
	}
	return newStdSQL(db, e), nil
}

func newStdSQL(db *sql.DB, e *Env) *stdSQLLib {
	l := &stdSQLLib{db: db, pg: e.DB == Postgres, my: e.DB == MySQL, q: sqliteSQL}
	switch e.DB {
	case Postgres:
		l.q = pgSQL
	case MySQL:
		l.q = mysqlSQL
	}
	return l
}

// openStdSQLPrepared prepares its statements once; on MySQL over a pool
// without interpolation (statements run prepared, binary protocol).
func openStdSQLPrepared(ctx context.Context, e *Env) (Lib, error) {
	var db *sql.DB
	var err error
	if e.DB == MySQL {
		db, err = openMySQLConfig(mysqlConfig(e, false))
	} else {
		db, err = openSQLDB(e)
	}
	if err != nil {
		return nil, err
	}
	l := newStdSQL(db, e)
	l.prepared, l.posts = true, map[int]*sql.Stmt{}
	for _, s := range []struct {
		st **sql.Stmt
		q  string
	}{{&l.insertOne, l.q.insertOne}, {&l.insertMany, l.q.insertMany}, {&l.update, l.q.update}, {&l.get, l.q.get}, {&l.list, l.q.list}} {
		if *s.st, err = l.db.PrepareContext(ctx, s.q); err != nil {
			l.Close()
			return nil, fmt.Errorf("preparing %s: %w", s.q, err)
		}
	}
	return l, nil
}

func (l *stdSQLLib) Close() error {
	for _, st := range []*sql.Stmt{l.insertOne, l.insertMany, l.update, l.get, l.list} {
		if st != nil {
			st.Close()
		}
	}
	for _, st := range l.posts {
		st.Close()
	}
	return l.db.Close()
}

// The three ways a statement runs: through st when the statements are
// prepared, else as text.

func (l *stdSQLLib) queryRow(ctx context.Context, st *sql.Stmt, q string, args ...any) *sql.Row {
	if l.prepared {
		return st.QueryRowContext(ctx, args...)
	}
	return l.db.QueryRowContext(ctx, q, args...)
}

func (l *stdSQLLib) query(ctx context.Context, st *sql.Stmt, q string, args ...any) (*sql.Rows, error) {
	if l.prepared {
		return st.QueryContext(ctx, args...)
	}
	return l.db.QueryContext(ctx, q, args...)
}

func (l *stdSQLLib) exec(ctx context.Context, st *sql.Stmt, q string, args ...any) (sql.Result, error) {
	if l.prepared {
		return st.ExecContext(ctx, args...)
	}
	return l.db.ExecContext(ctx, q, args...)
}

func (l *stdSQLLib) InsertOne(ctx context.Context, i int) error {
	u := NewUser(i)
	var id int64
	if l.pg {
		if err := l.queryRow(ctx, l.insertOne, l.q.insertOne, u.Name, u.Email, u.City, u.Bio, u.Age, u.Active, u.Balance).Scan(&id); err != nil {
			return err
		}
	} else {
		res, err := l.exec(ctx, l.insertOne, l.q.insertOne, u.Name, u.Email, u.City, u.Bio, u.Age, u.Active, u.Balance)
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
	if l.my {
		return l.insertManyMySQL(ctx, args)
	}
	rows, err := l.query(ctx, l.insertMany, l.q.insertMany, args...)
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

// insertManyMySQL reads the ids of the inserted rows as an expert does on
// MySQL: the first from LastInsertId, the others following it (InnoDB
// gives a multi-row INSERT consecutive ids under its default lock modes).
func (l *stdSQLLib) insertManyMySQL(ctx context.Context, args []any) error {
	res, err := l.exec(ctx, l.insertMany, l.q.insertMany, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	first, err := res.LastInsertId()
	if err != nil {
		return err
	}
	for k := range n {
		if err := l.ids.Next(first + k); err != nil {
			return err
		}
	}
	return CheckCount("insert-100", int(n), ManyRows)
}

func (l *stdSQLLib) UpdateOne(ctx context.Context, i int) error {
	id, city, balance := UpdateTarget(i)
	var res sql.Result
	var err error
	if l.pg {
		res, err = l.exec(ctx, l.update, l.q.update, id, city, balance)
	} else {
		res, err = l.exec(ctx, l.update, l.q.update, city, balance, id)
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
	r := &l.row
	if err := l.queryRow(ctx, l.get, l.q.get, id).Scan(&r.ID, &r.Name, &r.Email, &r.City, &r.Bio, &r.Age, &r.Active, &r.Balance); err != nil {
		return err
	}
	return CheckUser(*r, id)
}

func (l *stdSQLLib) ReadMany(ctx context.Context, i int) error {
	rows, err := l.query(ctx, l.list, l.q.list, ManyRows)
	if err != nil {
		return err
	}
	defer rows.Close()
	users := make([]Row, 0, ManyRows)
	for rows.Next() {
		// Scanned in place: a Row per iteration would escape to the heap.
		users = append(users, Row{})
		r := &users[len(users)-1]
		if err := rows.Scan(&r.ID, &r.Name, &r.Email, &r.City, &r.Bio, &r.Age, &r.Active, &r.Balance); err != nil {
			return err
		}
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
		// SQLite and MySQL have no arrays: one placeholder per key.
		args := make([]any, len(users))
		for k := range users {
			args[k] = users[k].ID
		}
		st := l.posts[len(users)]
		if l.prepared && st == nil {
			if st, err = l.db.PrepareContext(ctx, postsSQL(l.q.posts, len(users))); err != nil {
				return err
			}
			l.posts[len(users)] = st
		}
		if l.prepared {
			rows, err = st.QueryContext(ctx, args...)
		} else {
			rows, err = l.db.QueryContext(ctx, postsSQL(l.q.posts, len(users)), args...)
		}
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	var p PostRow // one destination for every row (it escapes)
	for rows.Next() {
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
	rows, err := l.query(ctx, l.list, l.q.list, RelParents)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	users := make([]UserPosts, 0, RelParents)
	for rows.Next() {
		users = append(users, UserPosts{})
		r := &users[len(users)-1]
		if err := rows.Scan(&r.ID, &r.Name, &r.Email, &r.City, &r.Bio, &r.Age, &r.Active, &r.Balance); err != nil {
			return nil, err
		}
	}
	return users, rows.Err()
}

func (l *stdSQLLib) BuildSelect(int) error { return ErrNotApplicable }

// postsSQL completes the SQLite and MySQL children query for n keys.
func postsSQL(prefix string, n int) string {
	var q strings.Builder
	q.Grow(len(prefix) + 3*n)
	q.WriteString(prefix)
	for k := range n {
		if k > 0 {
			q.WriteString(", ")
		}
		q.WriteByte('?')
	}
	q.WriteByte(')')
	return q.String()
}
