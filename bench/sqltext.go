package bench

import (
	"strconv"
	"strings"
)

// The SQL of the hand-written implementations (pgx and database/sql). It is
// the same SQL the sqlc queries hold, apart from insert-100, which sqlc
// cannot write as a multi-row VALUES list.
type handSQL struct {
	insertOne  string // one row, RETURNING id (PostgreSQL) or LastInsertId (SQLite, MySQL)
	insertMany string // ManyRows rows in one VALUES list, RETURNING id (not on MySQL)
	update     string // args: id, city, balance
	get        string
	list       string // arg: the limit
	posts      string // PostgreSQL: user_id = ANY($1); SQLite, MySQL: IN (...) per call
}

const userCols = "id, name, email, city, bio, age, active, balance"

var pgSQL = handSQL{
	insertOne:  "INSERT INTO bench_users (name, email, city, bio, age, active, balance) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
	insertMany: insertValuesSQL(ManyRows, true),
	update:     "UPDATE bench_users SET city = $2, balance = $3 WHERE id = $1",
	get:        "SELECT " + userCols + " FROM bench_users WHERE id = $1",
	list:       "SELECT " + userCols + " FROM bench_users ORDER BY id LIMIT $1",
	posts:      "SELECT id, user_id, title, likes FROM bench_posts WHERE user_id = ANY($1)",
}

var sqliteSQL = handSQL{
	insertOne:  "INSERT INTO bench_users (name, email, city, bio, age, active, balance) VALUES (?, ?, ?, ?, ?, ?, ?)",
	insertMany: insertValuesSQL(ManyRows, false),
	update:     "UPDATE bench_users SET city = ?, balance = ? WHERE id = ?",
	get:        "SELECT " + userCols + " FROM bench_users WHERE id = ?",
	list:       "SELECT " + userCols + " FROM bench_users ORDER BY id LIMIT ?",
	posts:      "SELECT id, user_id, title, likes FROM bench_posts WHERE user_id IN (",
}

// mysqlSQL is the SQL on MySQL and MariaDB: insert-100 reads the ids from
// LastInsertId and the row count (consecutive ids, as under InnoDB's
// default lock modes for a multi-row INSERT), without RETURNING.
var mysqlSQL = handSQL{
	insertOne:  sqliteSQL.insertOne,
	insertMany: strings.TrimSuffix(insertValuesSQL(ManyRows, false), " RETURNING id"),
	update:     sqliteSQL.update,
	get:        sqliteSQL.get,
	list:       sqliteSQL.list,
	posts:      sqliteSQL.posts,
}

// insertValuesSQL writes INSERT ... VALUES (...), ... RETURNING id for n rows.
func insertValuesSQL(n int, pg bool) string {
	var b strings.Builder
	b.WriteString("INSERT INTO bench_users (name, email, city, bio, age, active, balance) VALUES ")
	p := 0
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := 0; j < 7; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			p++
			if pg {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(p))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	b.WriteString(" RETURNING id")
	return b.String()
}

// userArgs appends the seven inserted columns of u.
func userArgs(args []any, u *Row) []any {
	return append(args, u.Name, u.Email, u.City, u.Bio, u.Age, u.Active, u.Balance)
}
