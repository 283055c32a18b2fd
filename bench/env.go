package bench

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"

	"github.com/forge-orm/forge/sqlite"
	"github.com/jackc/pgx/v5"
)

// The tables, shared by every library (and by sqlc, which reads them to
// type its queries).
var (
	//go:embed sqlc/postgres/schema.sql
	pgSchema string
	//go:embed sqlc/sqlite/schema.sql
	sqliteSchema string
)

// Env is one prepared database: the tables created afresh and seeded.
type Env struct {
	DB   string // Postgres or SQLite
	DSN  string // PostgreSQL: the connection string
	Path string // SQLite: the database file
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
