//go:build !(js && wasm)

// Package sqlite is forge's embedded driver: SQLite compiled to pure Go by
// modernc.org/sqlite, so a forge program needs no cgo and no server.
//
// Why modernc.org/sqlite: it is a database/sql driver with no cgo and no
// extra runtime, it builds with the standard toolchain on every platform Go
// targets natively, reports context cancellation by interrupting the
// statement, and exposes SQLite's extended error codes, which forge maps to
// typed constraint errors. The alternative, github.com/ncruces/go-sqlite3,
// runs SQLite as WebAssembly inside wazero, which costs start-up time and a
// second runtime.
//
// Each connection turns on foreign keys, waits up to five seconds for a
// lock (busy_timeout), and file databases use WAL. Transactions start with
// BEGIN IMMEDIATE so that two writers queue instead of failing with
// SQLITE_BUSY halfway through.
//
// # Prepared statements
//
// Each connection keeps the statements it ran prepared, in a cache of
// DefaultStatementCacheSize (128) statements keyed by their SQL text and
// evicted least recently used first; StatementCache(n) changes the size and
// StatementCache(0) turns the cache off. Preparing (sqlite3_prepare_v2) is
// about 40 % of the CPU of a short statement, and forge builds the same SQL
// text for the same query shape, so a query runs its prepared statement
// again with new arguments. This holds for every statement run through the
// *sql.DB (Conn.DB), forge's or not, except statements prepared explicitly
// (DB.Prepare: those the caller owns) and texts longer than
// MaxCachedStatementLen.
//
// The cache is safe across schema changes: SQLite recompiles a prepared
// statement whose tables changed (a column added, a table dropped and
// created again with other columns) before running it, and a statement
// whose tables are gone fails as it would have failed to prepare. A
// statement is evicted only once no Rows reads from it, a statement whose
// call fails is finalized rather than kept, the same SQL run while its
// statement is still being read is prepared for that call alone, and
// closing a connection (DB.Close, or database/sql retiring it) finalizes
// its statements. Statements survive COMMIT and ROLLBACK: SQLite prepares
// statements per connection, not per transaction.
package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver/sqliteerr"
	"github.com/forge-orm/forge/stdsql"
	"github.com/forge-orm/forge/stdsql/stmtcache"
	msqlite "modernc.org/sqlite"
)

// Open opens (creating if needed) the SQLite database at path. ":memory:"
// opens a private in-memory database, limited to one connection so that
// every statement sees the same data. Options: StatementCache.
func Open(path string, opts ...Option) (*stdsql.Conn, error) {
	if path == "" {
		return nil, errors.New("forge/sqlite: empty path (use \":memory:\" for an in-memory database)")
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	memory := path == ":memory:"
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(5000)")
	if !memory {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + escapePath(path) + "?" + q.Encode()
	connector, err := msqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("forge/sqlite: %w", err)
	}
	db := sql.OpenDB(stmtcache.New(connector, o.cacheSize, stmtcache.Names("forge/sqlite", "sqlite.StatementCache(0)")))
	if memory {
		db.SetMaxOpenConns(1)
	}
	db.SetMaxIdleConns(4)
	return stdsql.New(db, stdsql.Config{
		Dialect: dialect.SQLite, Name: "sqlite", MapError: MapError,
		// modernc.org/sqlite ignores sql.TxOptions.ReadOnly.
		ReadOnlyOn: "PRAGMA query_only = ON", ReadOnlyOff: "PRAGMA query_only = OFF",
	})
}

func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// MapError turns SQLite constraint errors into *driver.ConstraintError.
func MapError(err error) error {
	var se *msqlite.Error
	if !errors.As(err, &se) || se.Code()&0xff != sqliteConstraint {
		return err
	}
	if ce := sqliteerr.Parse(se.Error(), err); ce != nil {
		return ce
	}
	return err
}

// sqliteConstraint is SQLITE_CONSTRAINT, the primary code of every
// constraint violation's extended code.
const sqliteConstraint = 19
