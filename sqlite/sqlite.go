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
package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/internal/sqliteerr"
	"github.com/forge-orm/forge/stdsql"
	msqlite "modernc.org/sqlite"
)

// Open opens (creating if needed) the SQLite database at path. ":memory:"
// opens a private in-memory database, limited to one connection so that
// every statement sees the same data.
func Open(path string) (*stdsql.Conn, error) {
	if path == "" {
		return nil, errors.New("forge/sqlite: empty path (use \":memory:\" for an in-memory database)")
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
	db := sql.OpenDB(connector)
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
