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
	"github.com/forge-orm/forge/driver"
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
	return stdsql.New(db, stdsql.Config{Dialect: dialect.SQLite, Name: "sqlite", MapError: MapError})
}

func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// SQLite extended result codes for constraint violations.
const (
	codeCheck      = 275
	codeForeignKey = 787
	codeNotNull    = 1299
	codePrimaryKey = 1555
	codeUnique     = 2067
)

// MapError turns SQLite constraint errors into *driver.ConstraintError.
func MapError(err error) error {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	ce := &driver.ConstraintError{Err: err}
	switch se.Code() {
	case codeUnique, codePrimaryKey:
		ce.Kind = driver.Unique
	case codeForeignKey:
		ce.Kind = driver.ForeignKey
	case codeNotNull:
		ce.Kind = driver.NotNull
	case codeCheck:
		ce.Kind = driver.Check
	default:
		return err
	}
	// "UNIQUE constraint failed: users.email, users.name (2067)"
	msg := se.Error()
	if i := strings.Index(msg, " constraint failed: "); i >= 0 {
		detail := msg[i+len(" constraint failed: "):]
		if j := strings.LastIndex(detail, " ("); j >= 0 {
			detail = detail[:j]
		}
		switch ce.Kind {
		case driver.Check:
			ce.Constraint = detail
		case driver.Unique, driver.NotNull:
			for _, part := range strings.Split(detail, ", ") {
				table, col, ok := strings.Cut(part, ".")
				if !ok {
					continue
				}
				ce.Table = table
				ce.Columns = append(ce.Columns, col)
			}
		}
	}
	return ce
}
