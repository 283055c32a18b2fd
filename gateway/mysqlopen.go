package gateway

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/forge-orm/forge/dialect"
	"github.com/go-sql-driver/mysql"
)

// MySQLOptions configures OpenMySQL.
type MySQLOptions struct {
	// MaxConns bounds the pool's connections. 0 means 16.
	MaxConns int
	// StatementTimeout bounds each statement on the server too
	// (MariaDB's max_statement_time; MySQL's max_execution_time, which
	// bounds SELECTs). 0 means none.
	StatementTimeout time.Duration
	// ReadOnly requires a user that can only read: the grants SHOW GRANTS
	// lists for it may be USAGE, SELECT and SHOW VIEW, nothing else (no
	// roles, no PROXY).
	ReadOnly bool
	// DangerouslyAllowSuperuser opens the pool even when the user holds
	// ALL PRIVILEGES, SUPER, FILE, PROCESS, SHUTDOWN or CONNECTION ADMIN
	// on *.*: with it, any token could read and write the server's files,
	// see and end other sessions, or stop the server.
	DangerouslyAllowSuperuser bool
}

// GrantError reports a MySQL user the gateway refuses to serve as.
type GrantError struct {
	User  string
	Grant string // the SHOW GRANTS line that is refused
	Why   string
}

func (e *GrantError) Error() string {
	return "gateway: MySQL user " + e.User + " " + e.Why + " (" + e.Grant + ")"
}

// OpenMySQL opens a pool on a MySQL or MariaDB database for PlanetScale's
// protocol. dsn is a mysql://user:password@host:port/database URL (query
// parameters are go-sql-driver's) or a go-sql-driver DSN. It connects
// once, reads the server's version and checks the user's grants (see
// MySQLOptions): a refused user is a *GrantError. Every connection runs
// with time_zone '+00:00', without multiple statements per query, LOAD
// DATA LOCAL or a client-side placeholder interpolation.
func OpenMySQL(ctx context.Context, dsn string, opts MySQLOptions) (*sql.DB, error) {
	cfg, err := ParseMySQLDSN(dsn)
	if err != nil {
		return nil, err
	}
	cfg.MultiStatements = false
	cfg.AllowAllFiles = false
	cfg.InterpolateParams = false
	cfg.ParseTime = false
	// UPDATE reports the rows it matched, not only those it changed, as
	// on PostgreSQL and SQLite and as forge's drivers expect.
	cfg.ClientFoundRows = true
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	// The flavour decides how the server bounds statements.
	probe, err := openConfig(cfg)
	if err != nil {
		return nil, err
	}
	var version string
	err = probe.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version)
	_ = probe.Close()
	if err != nil {
		return nil, fmt.Errorf("gateway: connecting to MySQL as %s: %w", cfg.User, err)
	}
	flavor, _, err := dialect.ParseMySQLVersion(version)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if opts.StatementTimeout > 0 {
		if flavor == dialect.MariaDBFlavor {
			cfg.Params["max_statement_time"] = strconv.FormatFloat(opts.StatementTimeout.Seconds(), 'f', 3, 64)
		} else {
			cfg.Params["max_execution_time"] = strconv.FormatInt(max(opts.StatementTimeout.Milliseconds(), 1), 10)
		}
	}
	db, err := openConfig(cfg)
	if err != nil {
		return nil, err
	}
	n := opts.MaxConns
	if n <= 0 {
		n = 16
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := checkMySQLGrants(ctx, db, cfg.User, opts); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

func openConfig(cfg *mysql.Config) (*sql.DB, error) {
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(c), nil
}

// ParseMySQLDSN reads mysql://user:password@host:port/database?params or
// a go-sql-driver DSN (user:password@tcp(host:port)/database).
func ParseMySQLDSN(dsn string) (*mysql.Config, error) {
	rest, ok := strings.CutPrefix(dsn, "mysql://")
	if !ok {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			return nil, errors.New("gateway: not a MySQL DSN (want mysql://user:password@host:port/database)")
		}
		return cfg, nil
	}
	u, err := url.Parse("mysql://" + rest)
	if err != nil || u.Host == "" {
		return nil, errors.New("gateway: not a MySQL URL (want mysql://user:password@host:port/database)")
	}
	cfg := mysql.NewConfig()
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr += ":3306"
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	if u.RawQuery != "" {
		// go-sql-driver reads its parameters from a DSN's query string.
		c, err := mysql.ParseDSN("/?" + u.RawQuery)
		if err != nil {
			return nil, fmt.Errorf("gateway: the MySQL URL's parameters: %w", err)
		}
		c.User, c.Passwd, c.Net, c.Addr, c.DBName = cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName
		cfg = c
	}
	return cfg, nil
}

// The global privileges that let a user act on the server beyond its
// databases: files (FILE), other sessions (PROCESS, SUPER, CONNECTION
// ADMIN), the server itself (SHUTDOWN, SUPER).
var mysqlServerPrivileges = []string{"ALL PRIVILEGES", "ALL", "SUPER", "FILE", "PROCESS", "SHUTDOWN", "CONNECTION ADMIN", "CONNECTION_ADMIN"}

// checkMySQLGrants reads SHOW GRANTS of the current user and refuses what
// opts do not allow.
func checkMySQLGrants(ctx context.Context, db *sql.DB, user string, opts MySQLOptions) error {
	rows, err := db.QueryContext(ctx, "SHOW GRANTS FOR CURRENT_USER()")
	if err != nil {
		return fmt.Errorf("gateway: SHOW GRANTS as MySQL user %s: %w", user, err)
	}
	defer rows.Close()
	var grants []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return err
		}
		grants = append(grants, g)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, g := range grants {
		privs, on, ok := splitGrant(g)
		if !ok {
			if opts.ReadOnly {
				return &GrantError{User: user, Grant: g, Why: "is granted a role or a proxy, which the gateway cannot check; give the --read-dsn user SELECT only"}
			}
			continue
		}
		global := on == "*.*"
		for _, p := range privs {
			if global && !opts.DangerouslyAllowSuperuser {
				for _, sp := range mysqlServerPrivileges {
					if p == sp {
						return &GrantError{User: user, Grant: g, Why: "holds " + p + " on *.*, with which any token could read or write the server's files, see or end other sessions or stop the server; use a user with privileges on the application's database only (or --dangerously-allow-superuser for a throwaway database)"}
					}
				}
			}
			if opts.ReadOnly && p != "USAGE" && p != "SELECT" && p != "SHOW VIEW" {
				return &GrantError{User: user, Grant: g, Why: "can do more than read (" + p + "); the --read-dsn user may hold SELECT and SHOW VIEW only"}
			}
		}
	}
	return nil
}

// splitGrant reads "GRANT p1, p2 (col), ... ON obj TO ..." into the
// privileges (upper case, column lists dropped) and the object; ok is false
// for a role or PROXY grant.
func splitGrant(g string) (privs []string, on string, ok bool) {
	rest, found := strings.CutPrefix(g, "GRANT ")
	if !found {
		return nil, "", false
	}
	i := strings.Index(rest, " ON ")
	if i < 0 {
		return nil, "", false // GRANT role TO user
	}
	list, obj := rest[:i], rest[i+4:]
	if j := strings.Index(obj, " TO "); j >= 0 {
		obj = obj[:j]
	}
	obj = strings.ReplaceAll(strings.TrimPrefix(strings.TrimPrefix(obj, "TABLE "), "FUNCTION "), "`", "")
	depth, start := 0, 0
	for k := 0; k <= len(list); k++ {
		if k < len(list) {
			switch list[k] {
			case '(':
				depth++
				continue
			case ')':
				depth--
				continue
			case ',':
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}
		p := strings.TrimSpace(list[start:k])
		if j := strings.IndexByte(p, '('); j >= 0 {
			p = strings.TrimSpace(p[:j])
		}
		if p == "PROXY" {
			return nil, "", false
		}
		privs = append(privs, strings.ToUpper(p))
		start = k + 1
	}
	return privs, obj, true
}
