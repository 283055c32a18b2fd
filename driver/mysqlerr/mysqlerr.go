// Package mysqlerr turns MySQL and MariaDB error numbers and messages into
// a *driver.ConstraintError.
//
// It is shared by forge's MySQL drivers (the mysql module over TCP, the
// PlanetScale HTTP driver, which reads the number from Vitess's
// "(errno 1062)") and is public for third-party drivers that speak to
// MySQL: give Constraint the server's error number and message.
package mysqlerr

import (
	"strings"

	"github.com/forge-orm/forge/driver"
)

// The server error numbers of constraint violations.
const (
	DupEntry          = 1062 // ER_DUP_ENTRY: a unique key or the primary key
	RowIsReferenced   = 1451 // ER_ROW_IS_REFERENCED_2: a parent row still referenced
	NoReferencedRow   = 1452 // ER_NO_REFERENCED_ROW_2: no parent row
	BadNull           = 1048 // ER_BAD_NULL_ERROR: NULL into NOT NULL
	NoDefaultForField = 1364 // ER_NO_DEFAULT_FOR_FIELD: NOT NULL column left out (strict mode)
	CheckViolated     = 3819 // MySQL's ER_CHECK_CONSTRAINT_VIOLATED
	MariaDBCheck      = 4025 // MariaDB's ER_CONSTRAINT_FAILED
)

// Constraint returns the constraint violation that error number with
// message msg reports, or nil. err is kept as the cause. keyTable says
// that the server names a duplicate key as table.key (MySQL 8.0.19 and
// later; MariaDB names the key alone): the name is then split at its first
// dot, which misreads a table whose name has a dot. It reads the names from
// texts such as:
//
//	Duplicate entry 'a@x' for key 'users_email_key'       (MySQL 8: 'users.users_email_key')
//	Cannot add or update a child row: a foreign key constraint fails (`db`.`posts`, CONSTRAINT `posts_author_id_fkey` FOREIGN KEY ...)
//	Column 'name' cannot be null
//	Field 'name' doesn't have a default value
//	Check constraint 'age_positive' is violated.
//	CONSTRAINT `age_positive` failed for `db`.`users`
func Constraint(number int, msg string, keyTable bool, err error) *driver.ConstraintError {
	ce := &driver.ConstraintError{Err: err}
	switch number {
	case DupEntry:
		ce.Kind = driver.Unique
		// The entry may itself contain " for key '": the key is after the last one.
		if i := strings.LastIndex(msg, " for key '"); i >= 0 {
			name, _ := quoted(msg[i+len(" for key "):], '\'')
			if j := strings.IndexByte(name, '.'); keyTable && j >= 0 {
				ce.Table, name = name[:j], name[j+1:]
			}
			if name != "PRIMARY" {
				ce.Constraint = name
			}
		}
	case RowIsReferenced, NoReferencedRow:
		ce.Kind = driver.ForeignKey
		if i := strings.Index(msg, "foreign key constraint fails ("); i >= 0 {
			rest := msg[i+len("foreign key constraint fails ("):]
			// `db`.`table`, CONSTRAINT `name` ...
			if _, r, ok := quotedNext(rest, '`'); ok && strings.HasPrefix(r, ".") {
				ce.Table, _ = quoted(r[1:], '`')
			}
			if j := strings.Index(rest, "CONSTRAINT `"); j >= 0 {
				ce.Constraint, _ = quoted(rest[j+len("CONSTRAINT "):], '`')
			}
		}
	case BadNull:
		ce.Kind = driver.NotNull
		if rest, ok := strings.CutPrefix(msg, "Column "); ok {
			if c, _ := quoted(rest, '\''); c != "" {
				ce.Columns = []string{c}
			}
		}
	case NoDefaultForField:
		ce.Kind = driver.NotNull
		if rest, ok := strings.CutPrefix(msg, "Field "); ok {
			if c, _ := quoted(rest, '\''); c != "" {
				ce.Columns = []string{c}
			}
		}
	case CheckViolated:
		ce.Kind = driver.Check
		if rest, ok := strings.CutPrefix(msg, "Check constraint "); ok {
			ce.Constraint, _ = quoted(rest, '\'')
		}
	case MariaDBCheck:
		ce.Kind = driver.Check
		if rest, ok := strings.CutPrefix(msg, "CONSTRAINT "); ok {
			name, r, _ := quotedNext(rest, '`')
			ce.Constraint = name
			if i := strings.Index(r, " for `"); i >= 0 {
				if _, r2, ok := quotedNext(r[i+len(" for "):], '`'); ok && strings.HasPrefix(r2, ".") {
					ce.Table, _ = quoted(r2[1:], '`')
				}
			}
		}
	default:
		return nil
	}
	return ce
}

// quoted reads the name quoted by q at the start of s (a doubled q stands
// for one); "" when s does not start with a complete one.
func quoted(s string, q byte) (string, bool) {
	name, _, ok := quotedNext(s, q)
	return name, ok
}

// quotedNext is quoted that also returns what follows the name.
func quotedNext(s string, q byte) (name, rest string, ok bool) {
	if len(s) == 0 || s[0] != q {
		return "", s, false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != q {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == q && q == '`' {
			b.WriteByte(q)
			i++
			continue
		}
		return b.String(), s[i+1:], true
	}
	return "", s, false
}
