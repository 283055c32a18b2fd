// Package sqliteerr reads SQLite's constraint-violation messages, which
// every SQLite-speaking driver (embedded, D1, libSQL) reports as text, into
// a *driver.ConstraintError.
//
// It is shared by forge's SQLite drivers (embedded, D1, libSQL) and is
// public for third-party drivers that speak to SQLite: give Parse the
// error's text.
package sqliteerr

import (
	"strings"

	"github.com/forge-orm/forge/driver"
)

// Parse returns the constraint violation described by msg, or nil when msg
// describes none. It recognises SQLite's texts such as
// "UNIQUE constraint failed: users.email, users.name",
// "NOT NULL constraint failed: users.name", "FOREIGN KEY constraint failed"
// and "CHECK constraint failed: name", wherever they appear in msg. err is
// kept as the cause.
func Parse(msg string, err error) *driver.ConstraintError {
	for _, k := range kinds {
		i := strings.Index(msg, k.prefix)
		if i < 0 {
			continue
		}
		ce := &driver.ConstraintError{Kind: k.kind, Err: err}
		detail := msg[i+len(k.prefix):]
		if !strings.HasPrefix(detail, ": ") {
			return ce
		}
		detail = detail[2:]
		// Drop what drivers append: " (2067)", ": SQLITE_CONSTRAINT", a newline.
		for _, cut := range []string{" (", ": SQLITE_", "\n", ": "} {
			if j := strings.Index(detail, cut); j >= 0 {
				detail = detail[:j]
			}
		}
		switch k.kind {
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
		return ce
	}
	return nil
}

var kinds = []struct {
	prefix string
	kind   driver.ConstraintKind
}{
	{"UNIQUE constraint failed", driver.Unique},
	{"PRIMARY KEY constraint failed", driver.Unique},
	{"NOT NULL constraint failed", driver.NotNull},
	{"FOREIGN KEY constraint failed", driver.ForeignKey},
	{"CHECK constraint failed", driver.Check},
}
