package gateway

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/forge-orm/forge/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	msqlite "modernc.org/sqlite"
)

// OpenSQLite opens the SQLite database at path twice: for writing, with
// forge's sqlite.Open (foreign keys on, a 5 s busy timeout, WAL for files),
// and, for a file, read-only: a URI with mode=ro, on which SQLite itself
// refuses every write (SQLITE_READONLY), whatever the SQL, plus
// PRAGMA query_only. ":memory:" has no read-only side (ro is nil).
func OpenSQLite(ctx context.Context, path string) (rw, ro *sql.DB, err error) {
	// No statement cache: the authorizer (sqliteauth.go) decides when a
	// statement is prepared, so every client statement must be prepared
	// anew on its connection, never served from a statement the gateway
	// prepared for itself or for another request.
	conn, err := sqlite.Open(path, sqlite.StatementCache(0))
	if err != nil {
		return nil, nil, err
	}
	rw = conn.DB()
	// Creates the file and puts it in WAL mode before a read-only
	// connection opens it.
	if err := rw.PingContext(ctx); err != nil {
		_ = rw.Close()
		return nil, nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	if path == ":memory:" {
		return rw, nil, nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		_ = rw.Close()
		return nil, nil, err
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(5000)")
	q.Set("_query_only", "1")
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(abs)
	connector, err := msqlite.NewConnector("file:" + esc + "?" + q.Encode())
	if err != nil {
		_ = rw.Close()
		return nil, nil, err
	}
	ro = sql.OpenDB(connector)
	ro.SetMaxIdleConns(4)
	if err := ro.PingContext(ctx); err != nil {
		_ = rw.Close()
		_ = ro.Close()
		return nil, nil, fmt.Errorf("sqlite %s (read-only): %w", path, err)
	}
	return rw, ro, nil
}

// PostgresOptions configures OpenPostgres.
type PostgresOptions struct {
	// MaxConns bounds the pool (0: pgxpool's default, max(4, CPUs)).
	MaxConns int32
	// StatementTimeout is set as statement_timeout on every connection,
	// so that PostgreSQL ends a statement that runs longer (0: none).
	StatementTimeout time.Duration
	// ReadOnly opens the pool of read tokens (--read-dsn): every new
	// connection's role is checked to be unable to write (see
	// checkReadRole) and is refused otherwise.
	ReadOnly bool
	// DangerouslyAllowSuperuser lets the gateway's (write) pool connect
	// as a superuser, or a role that can run programs or read and write
	// files on the database server or signal other sessions. Without it
	// every new connection of such a role is refused with a *RoleError:
	// with it, any token could do those things.
	DangerouslyAllowSuperuser bool
}

// OpenPostgres opens a pool for the gateway: application_name
// forge-gateway, with a StatementTimeout statement_timeout on every
// connection, and no pgx statement cache (statements run unprepared).
// Every new connection's role is checked before use (see
// PostgresOptions.ReadOnly and DangerouslyAllowSuperuser): a connection of
// a role the gateway refuses fails with a *RoleError, so requests get 503
// with its message. It does not wait for the server: a pool opened while
// PostgreSQL is down connects once it is up.
func OpenPostgres(ctx context.Context, dsn string, opts PostgresOptions) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "forge-gateway"
	}
	if opts.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(max(opts.StatementTimeout.Milliseconds(), 1), 10)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	// The gateway runs statements through pgconn, unprepared: no pgx
	// statement cache, so that the session reset after every request can
	// DEALLOCATE ALL in the same round trip.
	cfg.ConnConfig.StatementCacheCapacity = 0
	cfg.ConnConfig.DescriptionCacheCapacity = 0
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
	switch {
	case opts.ReadOnly:
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error { return checkReadRole(ctx, c.PgConn()) }
	case !opts.DangerouslyAllowSuperuser:
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error { return checkGatewayRole(ctx, c.PgConn()) }
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}

// ParseDB splits a --db value into its kind ("postgres", "mysql" or
// "sqlite") and what to open: the URL itself, or the SQLite path (sqlite:PATH,
// sqlite://PATH, sqlite:///abs/path, sqlite::memory:).
func ParseDB(s string) (kind, target string, err error) {
	switch {
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		if _, err := pgxpool.ParseConfig(s); err != nil {
			return "", "", fmt.Errorf("--db %s: %w", redact(s), err)
		}
		return "postgres", s, nil
	case strings.HasPrefix(s, "mysql://"):
		if _, err := ParseMySQLDSN(s); err != nil {
			return "", "", fmt.Errorf("--db %s: %w", redact(s), err)
		}
		return "mysql", s, nil
	case strings.HasPrefix(s, "sqlite:"):
		p := strings.TrimPrefix(s, "sqlite:")
		p = strings.TrimPrefix(p, "//")
		if p == "" {
			return "", "", errors.New("--db sqlite: needs a path (sqlite:./app.db, sqlite::memory:)")
		}
		return "sqlite", p, nil
	}
	return "", "", fmt.Errorf("--db %q: want postgres://..., mysql://... or sqlite:PATH", redact(s))
}

// redact hides a URL's password.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
