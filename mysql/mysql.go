// Package mysql is forge's MySQL and MariaDB driver over TCP, built on
// github.com/go-sql-driver/mysql and forge's database/sql adapter
// (stdsql).
//
// Open reads the server's flavour and version once (SELECT VERSION()) and
// picks the dialect for it (dialect.MySQL): MariaDB 10.6 and later, or
// MySQL 8.0.4 and later (JSON_TABLE); older servers are refused at Open.
// On MySQL it also reads innodb_autoinc_lock_mode and
// auto_increment_increment, to know whether the ids of a multi-row INSERT
// are consecutive (dialect.MySQLConsecutiveIDs). Only MariaDB is tested
// against a real server here; what the dialect writes for MySQL is checked
// against golden files. In js/wasm builds Open returns an error naming the
// planetscale driver.
//
// Open forces the connection settings forge's value contract needs,
// whatever the DSN says: times are parsed into time.Time and read and
// written in UTC (parseTime, loc=UTC, the session time_zone '+00:00');
// parameters travel as prepared-statement arguments, never interpolated
// into the SQL text; one statement per call (no multiStatements); UPDATE
// reports the rows it matched, not only those it changed (clientFoundRows,
// as on PostgreSQL and SQLite); and the session's sql_mode is strict
// (values that do not fit are refused, not truncated) with
// NO_BACKSLASH_ESCAPES (a backslash in a literal is a backslash, as the
// dialect writes literals) and ANSI_QUOTES (a double-quoted name is an
// identifier, as in standard SQL, so raw SQL written for PostgreSQL and
// SQLite reads the same; backticks work too).
package mysql

import (
	"context"
	"database/sql"
	sqldriver "database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver/mysqlerr"
	"github.com/forge-orm/forge/stdsql"
	gomysql "github.com/go-sql-driver/mysql"
)

// errEdge is what Open returns in js/wasm builds (Cloudflare Workers,
// browsers), which have no TCP. It matches errors.ErrUnsupported.
var errEdge = fmt.Errorf("forge/mysql: a js/wasm build (Cloudflare Workers, browsers) has no TCP to reach MySQL: use the planetscale driver (PlanetScale's HTTP API, or forge gateway in front of MySQL or MariaDB): %w", errors.ErrUnsupported)

// SQLMode is the sql_mode of every session forge opens.
const SQLMode = "ANSI_QUOTES,STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES,NO_ZERO_IN_DATE,NO_ZERO_DATE," +
	"ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"

// Open connects to the server dsn names, either as a URL,
// mysql://user:password@host:port/database?param=value, or in
// go-sql-driver's form, user:password@tcp(host:port)/database?param=value.
// Parameters are go-sql-driver's (tls, timeout, ...); those forge forces
// (see the package doc) are overridden. Options: StatementCache.
func Open(ctx context.Context, dsn string, opts ...Option) (*stdsql.Conn, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	return OpenConfig(ctx, cfg, opts...)
}

// DefaultStatementCacheSize is how many prepared statements each connection
// keeps when Open is given no StatementCache option.
const DefaultStatementCacheSize = 64

// MaxCachedStatementLen is the length, in bytes, of the longest SQL text the
// statement cache keeps: longer statements (large multi-row inserts, IN
// lists with thousands of keys) rarely repeat exactly, so they are prepared
// for each call, as without a cache.
const MaxCachedStatementLen = 16 << 10

// Option configures Open and OpenConfig.
type Option func(*options)

type options struct {
	cacheSize int
}

// StatementCache sets how many prepared statements each connection keeps
// (see the package doc). n <= 0 turns the cache off: every statement with
// arguments is prepared for its call and closed after it, as
// go-sql-driver/mysql does on its own.
func StatementCache(n int) Option {
	return func(o *options) { o.cacheSize = max(n, 0) }
}

// ParseDSN reads dsn (see Open) into go-sql-driver's configuration, with
// forge's settings applied.
func ParseDSN(dsn string) (*gomysql.Config, error) {
	if strings.HasPrefix(dsn, "mysql://") || strings.HasPrefix(dsn, "mariadb://") {
		var err error
		if dsn, err = urlToDSN(dsn); err != nil {
			return nil, err
		}
	}
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("forge/mysql: %w", err)
	}
	force(cfg)
	return cfg, nil
}

// urlToDSN turns mysql://user:pass@host:port/db?x=y into go-sql-driver's
// user:pass@tcp(host:port)/db?x=y.
func urlToDSN(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("forge/mysql: %w", err)
	}
	if u.Host == "" {
		return "", fmt.Errorf("forge/mysql: %s names no host (want mysql://user:password@host:port/database)", u.Redacted())
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "3306")
	}
	var b strings.Builder
	if u.User != nil {
		b.WriteString(u.User.Username())
		if p, ok := u.User.Password(); ok {
			b.WriteString(":" + p)
		}
		b.WriteString("@")
	}
	b.WriteString("tcp(" + host + ")/")
	b.WriteString(strings.TrimPrefix(u.Path, "/"))
	if u.RawQuery != "" {
		b.WriteString("?" + u.RawQuery)
	}
	return b.String(), nil
}

// force applies the settings forge's value contract needs.
func force(cfg *gomysql.Config) {
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.InterpolateParams = false
	cfg.MultiStatements = false
	cfg.ClientFoundRows = true
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	cfg.Params["sql_mode"] = "'" + SQLMode + "'"
	if cfg.Collation == "" {
		cfg.Collation = "utf8mb4_general_ci"
	}
}

// OpenConfig opens a pool with cfg (after forcing forge's settings, see
// the package doc), reads the server's version and adapts the pool.
// Options: StatementCache.
func OpenConfig(ctx context.Context, cfg *gomysql.Config, opts ...Option) (*stdsql.Conn, error) {
	if runtime.GOOS == "js" {
		return nil, errEdge
	}
	o := options{cacheSize: DefaultStatementCacheSize}
	for _, opt := range opts {
		opt(&o)
	}
	cfg = cfg.Clone()
	force(cfg)
	connector, err := gomysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("forge/mysql: %w", err)
	}
	var dc sqldriver.Connector = connector
	if o.cacheSize > 0 {
		dc = &cachingConnector{base: connector, size: o.cacheSize}
	}
	db := sql.OpenDB(dc)
	db.SetConnMaxIdleTime(5 * time.Minute)
	d, err := probe(ctx, db)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	info := d.(dialect.MySQLInfo)
	keyTable := info.Flavor() == dialect.MySQLFlavor && info.Version().AtLeast(8, 0, 19)
	return stdsql.New(db, stdsql.Config{Dialect: d, Name: "mysql", MapError: func(err error) error { return mapError(err, keyTable) }})
}

// probe reads the server's flavour and version.
func probe(ctx context.Context, db *sql.DB) (dialect.Dialect, error) {
	var v string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return nil, fmt.Errorf("forge/mysql: reading the server version: %w", err)
	}
	f, ver, err := dialect.ParseMySQLVersion(v)
	if err != nil {
		return nil, err
	}
	switch {
	case f == dialect.MariaDBFlavor && !ver.AtLeast(10, 6, 0):
		return nil, fmt.Errorf("forge/mysql: MariaDB %s is too old: forge needs 10.6 or later (RETURNING, JSON_TABLE)", ver)
	case f == dialect.MySQLFlavor && !ver.AtLeast(8, 0, 4):
		return nil, fmt.Errorf("forge/mysql: MySQL %s is too old: forge needs 8.0.4 or later (JSON_TABLE)", ver)
	}
	if f == dialect.MySQLFlavor {
		// No RETURNING: the ids of a multi-row INSERT are the first id
		// plus a step only under lock modes 0 and 1 (see
		// dialect.MySQLConsecutiveIDs).
		var mode, step int64
		err := db.QueryRowContext(ctx, "SELECT @@innodb_autoinc_lock_mode, @@auto_increment_increment").Scan(&mode, &step)
		if err != nil {
			return nil, fmt.Errorf("forge/mysql: reading innodb_autoinc_lock_mode: %w", err)
		}
		if (mode == 0 || mode == 1) && step > 0 {
			return dialect.MySQLConsecutiveIDs(f, ver, step), nil
		}
	}
	return dialect.MySQL(f, ver), nil
}

// mapError turns MySQL's and MariaDB's constraint errors into
// *driver.ConstraintError (keyTable: see mysqlerr.Constraint).
func mapError(err error, keyTable bool) error {
	var me *gomysql.MySQLError
	if !errors.As(err, &me) {
		return err
	}
	if ce := mysqlerr.Constraint(int(me.Number), me.Message, keyTable, err); ce != nil {
		return ce
	}
	return err
}
