package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/migrate"
	forgemysql "github.com/forge-orm/forge/mysql"
	"github.com/forge-orm/forge/sqlite"
	"github.com/forge-orm/forge/stdsql"
	jpgx "github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// dbURL is a parsed --db.
type dbURL struct {
	raw    string
	sqlite string // the SQLite file's path; empty for PostgreSQL
	pg     string // the PostgreSQL connection string
	mysql  string // the MySQL or MariaDB URL
}

// parseDB reads a --db URL: sqlite:PATH, sqlite://PATH, file:PATH,
// postgres://..., postgresql://..., mysql://... or mariadb://...
func parseDB(raw string) (*dbURL, error) {
	s := strings.TrimSpace(raw)
	u := &dbURL{raw: s}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		if _, err := url.Parse(s); err != nil {
			return nil, usagef("--db: not a valid PostgreSQL URL: %v", err)
		}
		u.pg = s
		return u, nil
	case strings.HasPrefix(lower, "mysql://"), strings.HasPrefix(lower, "mariadb://"):
		if _, err := forgemysql.ParseDSN(s); err != nil {
			return nil, usagef("--db: not a valid MySQL URL (mysql://user:password@host:3306/database): %v", err)
		}
		u.mysql = s
		return u, nil
	case strings.HasPrefix(lower, "sqlite://"):
		u.sqlite = s[len("sqlite://"):]
	case strings.HasPrefix(lower, "sqlite:"):
		u.sqlite = s[len("sqlite:"):]
	case strings.HasPrefix(lower, "file:"):
		u.sqlite = s[len("file:"):]
	default:
		return nil, usagef("--db %q: unknown kind of database URL; use sqlite:PATH (or sqlite://PATH, file:PATH), postgres://user@host:5432/db or mysql://user@host:3306/db", redact(s))
	}
	if u.sqlite == "" {
		return nil, usagef("--db %q: the SQLite path is empty (sqlite:app.db)", s)
	}
	if strings.Contains(u.sqlite, "?") {
		return nil, usagef("--db %q: SQLite URLs take no query parameters (forge sets its own pragmas: foreign keys on, WAL, a busy timeout)", s)
	}
	return u, nil
}

// String is the URL with any password hidden.
func (u *dbURL) String() string { return redact(u.raw) }

// redact hides the password of a URL.
func redact(s string) string {
	p, err := url.Parse(s)
	if err != nil || p.User == nil {
		return s
	}
	if _, ok := p.User.Password(); ok {
		p.User = url.UserPassword(p.User.Username(), "xxxxx")
	}
	return p.String()
}

// open connects. With mustExist, a SQLite file that does not exist is an
// error rather than a new empty database (for commands that only read).
func (u *dbURL) open(ctx context.Context, mustExist bool) (driver.Conn, error) {
	if u.sqlite != "" {
		if mustExist && u.sqlite != ":memory:" {
			if _, err := os.Stat(u.sqlite); errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("the SQLite database %s does not exist (check --db; forge push or forge migrate apply creates it)", u.sqlite)
			}
		}
		conn, err := sqlite.Open(u.sqlite)
		if err != nil {
			return nil, err
		}
		if _, err := conn.Exec(ctx, "SELECT 1", nil); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("cannot open the SQLite database %s: %w", u.sqlite, err)
		}
		return conn, nil
	}
	if u.mysql != "" {
		// Open reads the server's version, so it connects.
		conn, err := forgemysql.Open(ctx, u.mysql)
		if err != nil {
			return nil, fmt.Errorf("cannot connect to %s: %w\nIs the server running, and are the host, port, user, password and database right?", u, err)
		}
		return conn, nil
	}
	conn, err := openPostgres(u.pg)
	if err != nil {
		return nil, fmt.Errorf("--db %s: %w", u, err)
	}
	if _, err := conn.Exec(ctx, "SELECT 1", nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("cannot connect to %s: %w\nIs the server running, and are the host, port, user, password and database right?", u, err)
	}
	return conn, nil
}

// openPostgres connects through pgx's database/sql driver and forge's
// stdsql adapter (the combination forge's conformance suite also runs).
//
// Not through github.com/forge-orm/forge/pgx: a requirement on that module
// at v0.0.0, without a replace directive (which go install ...@latest
// refuses), resolves in the repository's go.work only through a replace in
// another module of the workspace. See README.md, "Building and testing".
func openPostgres(dsn string) (*stdsql.Conn, error) {
	cfg, err := jpgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(4)
	return stdsql.New(db, stdsql.Config{Dialect: dialect.Postgres, Name: "pgx (database/sql)"})
}

// dialect is the URL's dialect, known without connecting; for MySQL, whose
// flavour and version only the server knows, MySQL 8.0's (compare names,
// not values, with it).
func (u *dbURL) dialect() dialect.Dialect {
	switch {
	case u.sqlite != "":
		return dialect.SQLite
	case u.mysql != "":
		return dialect.MySQL(dialect.MySQLFlavor, dialect.Version{Major: 8})
	}
	return dialect.Postgres
}

// atomicNote says, for a database that cannot apply a plan atomically
// (MySQL, MariaDB), how forge applies it; "" elsewhere.
func atomicNote(d dialect.Dialect) string {
	if migrate.Atomic(d) {
		return ""
	}
	return "note: MySQL and MariaDB commit each schema change at once, so this plan is NOT atomic: forge applies it\n" +
		"statement by statement under the migration lock, recording each in " + migrate.JournalTable + "; if a statement\n" +
		"fails (or the migrator is killed), the ones before it stay applied, and running the same command again\n" +
		"finishes the plan without repeating them.\n"
}
