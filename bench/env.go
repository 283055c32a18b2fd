package bench

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	forgemysql "github.com/forge-orm/forge/mysql"
	"github.com/forge-orm/forge/sqlite"
	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// The tables, shared by every library (and by sqlc, which reads them to
// type its queries).
var (
	//go:embed sqlc/postgres/schema.sql
	pgSchema string
	//go:embed sqlc/sqlite/schema.sql
	sqliteSchema string
	//go:embed sqlc/mysql/schema.sql
	mysqlSchema string
)

// Env is one prepared database: the tables created afresh and seeded.
type Env struct {
	DB   string // Postgres, SQLite or MySQL
	DSN  string // PostgreSQL: the connection string
	Path string // SQLite: the database file
	// MySQL: the connection settings (database included) that forge's
	// mysql.ParseDSN gives; each library clones it and sets only
	// InterpolateParams (see mysqlConfig).
	MySQL *gomysql.Config
}

// PGDSN returns the PostgreSQL to benchmark against: FORGE_BENCH_PG_DSN,
// else FORGE_TEST_PG_DSN, else "".
func PGDSN() string {
	if s := os.Getenv("FORGE_BENCH_PG_DSN"); s != "" {
		return s
	}
	return os.Getenv("FORGE_TEST_PG_DSN")
}

// PreparePG drops and recreates the benchmark's tables in the database at
// dsn and seeds them.
func PreparePG(ctx context.Context, dsn string) (*Env, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS bench_posts, bench_users CASCADE"); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, pgSchema); err != nil {
		return nil, fmt.Errorf("creating the tables: %w", err)
	}
	users := pgx.CopyFromSlice(len(seedUsers), func(i int) ([]any, error) {
		u := &seedUsers[i]
		return []any{u.ID, u.Name, u.Email, u.City, u.Bio, u.Age, u.Active, u.Balance}, nil
	})
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"bench_users"},
		[]string{"id", "name", "email", "city", "bio", "age", "active", "balance"}, users); err != nil {
		return nil, fmt.Errorf("seeding bench_users: %w", err)
	}
	posts := pgx.CopyFromSlice(len(seedPosts), func(i int) ([]any, error) {
		p := &seedPosts[i]
		return []any{p.ID, p.UserID, p.Title, p.Likes}, nil
	})
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"bench_posts"}, []string{"id", "user_id", "title", "likes"}, posts); err != nil {
		return nil, fmt.Errorf("seeding bench_posts: %w", err)
	}
	// The rows were copied with their ids: move the identity sequences past them.
	for _, q := range []string{
		"SELECT setval(pg_get_serial_sequence('bench_users', 'id'), (SELECT max(id) FROM bench_users))",
		"SELECT setval(pg_get_serial_sequence('bench_posts', 'id'), (SELECT max(id) FROM bench_posts))",
		"VACUUM ANALYZE bench_users, bench_posts",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	return &Env{DB: Postgres, DSN: dsn}, nil
}

// PrepareSQLite creates a new SQLite database file in dir with the
// benchmark's tables, seeded.
func PrepareSQLite(ctx context.Context, dir string) (*Env, error) {
	path := filepath.Join(dir, "bench.db")
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return nil, err
		}
	}
	conn, err := sqlite.Open(path)
	if err != nil {
		return nil, err
	}
	db := conn.DB()
	defer db.Close()
	if _, err := db.ExecContext(ctx, sqliteSchema); err != nil {
		return nil, fmt.Errorf("creating the tables: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	insUser, err := tx.PrepareContext(ctx, "INSERT INTO bench_users (id, name, email, city, bio, age, active, balance) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
	if err != nil {
		return nil, err
	}
	for i := range seedUsers {
		u := &seedUsers[i]
		if _, err := insUser.ExecContext(ctx, u.ID, u.Name, u.Email, u.City, u.Bio, u.Age, u.Active, u.Balance); err != nil {
			return nil, fmt.Errorf("seeding bench_users: %w", err)
		}
	}
	insPost, err := tx.PrepareContext(ctx, "INSERT INTO bench_posts (id, user_id, title, likes) VALUES (?, ?, ?, ?)")
	if err != nil {
		return nil, err
	}
	for i := range seedPosts {
		p := &seedPosts[i]
		if _, err := insPost.ExecContext(ctx, p.ID, p.UserID, p.Title, p.Likes); err != nil {
			return nil, fmt.Errorf("seeding bench_posts: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		return nil, err
	}
	return &Env{DB: SQLite, Path: path}, nil
}

// MySQLDSN returns the MySQL or MariaDB to benchmark against:
// FORGE_BENCH_MYSQL_DSN, else FORGE_TEST_MYSQL_DSN, else "". Either form
// forge's mysql.Open reads (mysql://user@host:port/db or go-sql-driver's
// user@tcp(host:port)/db); without a database name the benchmark uses (and
// creates) MySQLDatabase.
func MySQLDSN() string {
	if s := os.Getenv("FORGE_BENCH_MYSQL_DSN"); s != "" {
		return s
	}
	return os.Getenv("FORGE_TEST_MYSQL_DSN")
}

// MySQLDatabase is the database the benchmark creates and uses when the DSN
// names none.
const MySQLDatabase = "forge_bench"

// PrepareMySQL drops and recreates the benchmark's tables in the database
// dsn names (MySQLDatabase when it names none, created if missing) and
// seeds them.
func PrepareMySQL(ctx context.Context, dsn string) (*Env, error) {
	cfg, err := forgemysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.DBName == "" {
		cfg.DBName = MySQLDatabase
		server := cfg.Clone()
		server.DBName = ""
		db, err := openMySQLConfig(server)
		if err != nil {
			return nil, err
		}
		_, err = db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+MySQLDatabase)
		db.Close()
		if err != nil {
			return nil, fmt.Errorf("creating database %s: %w", MySQLDatabase, err)
		}
	}
	db, err := openMySQLConfig(cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one session: the statements run in order
	stmts := []string{"DROP TABLE IF EXISTS bench_posts", "DROP TABLE IF EXISTS bench_users"}
	for _, q := range strings.Split(mysqlSchema, ";") {
		if strings.Contains(q, "CREATE") {
			stmts = append(stmts, q)
		}
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("creating the tables: %s: %w", strings.TrimSpace(q), err)
		}
	}
	// Seeded with their ids, in multi-row INSERTs (at most 65535
	// parameters each).
	users := make([]any, 0, len(seedUsers)*8)
	for i := range seedUsers {
		u := &seedUsers[i]
		users = append(users, u.ID, u.Name, u.Email, u.City, u.Bio, u.Age, u.Active, u.Balance)
	}
	if err := insertRows(ctx, db, "bench_users", "id, name, email, city, bio, age, active, balance", 8, users); err != nil {
		return nil, err
	}
	posts := make([]any, 0, len(seedPosts)*4)
	for i := range seedPosts {
		p := &seedPosts[i]
		posts = append(posts, p.ID, p.UserID, p.Title, p.Likes)
	}
	if err := insertRows(ctx, db, "bench_posts", "id, user_id, title, likes", 4, posts); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, "ANALYZE TABLE bench_users, bench_posts"); err != nil {
		return nil, err
	}
	return &Env{DB: MySQL, MySQL: cfg}, nil
}

// insertRows inserts args, ncols per row, into table in statements of at
// most 1000 rows.
func insertRows(ctx context.Context, db *sql.DB, table, cols string, ncols int, args []any) error {
	row := "(?" + strings.Repeat(", ?", ncols-1) + ")"
	for len(args) > 0 {
		n := min(len(args)/ncols, 1000)
		q := "INSERT INTO " + table + " (" + cols + ") VALUES " + row + strings.Repeat(", "+row, n-1)
		if _, err := db.ExecContext(ctx, q, args[:n*ncols]...); err != nil {
			return fmt.Errorf("seeding %s: %w", table, err)
		}
		args = args[n*ncols:]
	}
	return nil
}
