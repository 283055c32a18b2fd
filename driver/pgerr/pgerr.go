// Package pgerr turns PostgreSQL error fields (SQLSTATE, constraint, table,
// column, detail), as pgx and the Neon protocol report them, into a
// *driver.ConstraintError.
//
// It is shared by forge's PostgreSQL drivers (pgx, the Neon HTTP driver)
// and is public for third-party drivers that speak to PostgreSQL: give
// Constraint the fields of the server's error and return what it gives.
package pgerr

import (
	"strings"

	"github.com/forge-orm/forge/driver"
)

// Fields are the parts of a PostgreSQL error that matter here.
type Fields struct {
	Code       string // SQLSTATE
	Constraint string
	Table      string
	Column     string
	Detail     string
}

// Constraint returns the constraint violation f describes (SQLSTATE class
// 23), or nil. err is kept as the cause.
func Constraint(f Fields, err error) *driver.ConstraintError {
	ce := &driver.ConstraintError{Constraint: f.Constraint, Table: f.Table, Err: err}
	switch f.Code {
	case "23505":
		ce.Kind = driver.Unique
	case "23503":
		ce.Kind = driver.ForeignKey
	case "23502":
		ce.Kind = driver.NotNull
	case "23514":
		ce.Kind = driver.Check
	default:
		return nil
	}
	if f.Column != "" {
		ce.Columns = []string{f.Column}
	} else if cols := keyColumns(f.Detail); cols != nil && ce.Kind != driver.ForeignKey {
		// A foreign key's detail may name the referenced table's columns;
		// forge finds the referencing ones from the constraint name.
		ce.Columns = cols
	}
	return ce
}

// keyColumns reads the columns of a detail such as
// `Key (email, "Odd ""Name"")=(a@b.c, x) already exists.`: PostgreSQL
// quotes an identifier that needs it (spaces, quotes, capitals) and doubles
// the quotes inside, so the list is read identifier by identifier, never
// split on commas or parentheses that may be part of a name or a value. A
// list it cannot read (an expression index) gives nil.
func keyColumns(detail string) []string {
	rest, ok := strings.CutPrefix(detail, "Key (")
	if !ok {
		return nil
	}
	var cols []string
	for {
		var col string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i := 1
			for {
				j := strings.IndexByte(rest[i:], '"')
				if j < 0 {
					return nil
				}
				b.WriteString(rest[i : i+j])
				i += j + 1
				if i < len(rest) && rest[i] == '"' { // a doubled quote
					b.WriteByte('"')
					i++
					continue
				}
				break
			}
			col, rest = b.String(), rest[i:]
		} else {
			j := strings.IndexAny(rest, ",)( \"")
			if j <= 0 {
				return nil
			}
			col, rest = rest[:j], rest[j:]
		}
		cols = append(cols, col)
		switch {
		case strings.HasPrefix(rest, ", "):
			rest = rest[2:]
		case strings.HasPrefix(rest, ")=("):
			return cols
		default:
			return nil
		}
	}
}
