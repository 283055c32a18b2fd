package dialect

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/forge-orm/forge/schema"
)

// Flavor tells MySQL and MariaDB apart: they share a protocol and most of
// their SQL, but not RETURNING, the upsert syntax, collations or error
// numbers.
type Flavor uint8

// The MySQL flavours.
const (
	MySQLFlavor Flavor = iota + 1
	MariaDBFlavor
)

func (f Flavor) String() string {
	switch f {
	case MySQLFlavor:
		return "MySQL"
	case MariaDBFlavor:
		return "MariaDB"
	}
	return "unknown"
}

// Version is a server version, as SELECT VERSION() reports it.
type Version struct{ Major, Minor, Patch int }

// AtLeast reports whether v is major.minor.patch or later.
func (v Version) AtLeast(major, minor, patch int) bool {
	if v.Major != major {
		return v.Major > major
	}
	if v.Minor != minor {
		return v.Minor > minor
	}
	return v.Patch >= patch
}

func (v Version) String() string {
	return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor) + "." + strconv.Itoa(v.Patch)
}

// ParseMySQLVersion reads the flavour and version from the text of SELECT
// VERSION(): "8.0.36", "8.4.0-log", "10.11.19-MariaDB-0+deb12u1" (MariaDB
// names itself; a replication prefix "5.5.5-" before a MariaDB version is
// skipped).
func ParseMySQLVersion(s string) (Flavor, Version, error) {
	f := MySQLFlavor
	if strings.Contains(strings.ToLower(s), "mariadb") {
		f = MariaDBFlavor
		s = strings.TrimPrefix(s, "5.5.5-")
	}
	var v Version
	nums := [3]*int{&v.Major, &v.Minor, &v.Patch}
	rest := s
	for i, p := range nums {
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == 0 || j > 6 {
			return 0, Version{}, fmt.Errorf("forge: cannot read a MySQL or MariaDB version from %q", s)
		}
		*p, _ = strconv.Atoi(rest[:j])
		rest = rest[j:]
		if i < 2 {
			if !strings.HasPrefix(rest, ".") {
				return 0, Version{}, fmt.Errorf("forge: cannot read a MySQL or MariaDB version from %q", s)
			}
			rest = rest[1:]
		}
	}
	return f, v, nil
}

// MySQL returns the dialect of a MySQL (8.0.4 and later) or MariaDB
// (10.6 and later) server of the given version. Drivers read the version
// once when they open (ParseMySQLVersion of SELECT VERSION()).
//
// What it writes, and why:
//   - identifiers in backticks, ? placeholders, at most 65,535 parameters;
//   - text in utf8mb4 with a binary collation without padding (MariaDB
//     utf8mb4_nopad_bin, MySQL 8 utf8mb4_0900_bin; utf8mb4_bin would
//     ignore trailing spaces), set as the table
//     default, so that =, LIKE and UNIQUE compare text byte for byte as on
//     PostgreSQL and SQLite, where the servers' default collations ignore
//     case;
//   - text that is a primary key, unique (alone or with other columns) or
//     a foreign key is VARCHAR(255) (MySQL cannot key a TEXT column whole,
//     and a foreign key's type must match the key it references; the limit
//     is 255 characters), other text LONGTEXT; an index over a LONGTEXT column works on MariaDB (which
//     indexes a prefix, or a hash for UNIQUE) but not on MySQL;
//   - times as DATETIME(6) in UTC (the driver sets the session time zone
//     to +00:00), bool as BOOLEAN (TINYINT(1)), bytes as LONGBLOB, JSON as
//     JSON;
//   - RETURNING on MariaDB for INSERT and DELETE (MariaDB has no UPDATE ...
//     RETURNING; forge reads an updated row back with a SELECT in the same
//     transaction); none on MySQL, where generated ids come from the last
//     insert id;
//   - upserts as ON DUPLICATE KEY UPDATE, with the row alias on MySQL
//     8.0.19 and later (which deprecates VALUES()) and VALUES(col) on
//     MariaDB (which rejects the row alias) and older MySQL. MySQL takes no
//     conflict target: the update applies to a conflict on any unique key.
//
// A driver using this dialect must set, in every session, sql_mode with
// NO_BACKSLASH_ESCAPES (literal text in DDL is written as in standard SQL,
// where a backslash is an ordinary character) and ANSI_QUOTES (forge's own
// statements, such as the migration lock's, and the conformance suite
// quote names with double quotes), and time_zone '+00:00'. forge's mysql
// module does.
func MySQL(f Flavor, v Version) Dialect {
	return mysql{flavor: f, version: v}
}

// MySQLConsecutiveIDs is MySQL(f, v) for a server whose multi-row INSERT
// generates consecutive ids step apart: innodb_autoinc_lock_mode 0 or 1
// ("simple inserts" take their ids in one block), step being
// auto_increment_increment. Drivers read both once when they open; with
// MySQL(f, v) forge inserts rows one by one where it needs their ids and
// the server has no RETURNING (see InsertIDStep).
func MySQLConsecutiveIDs(f Flavor, v Version, step int64) Dialect {
	return mysql{flavor: f, version: v, idStep: step}
}

type mysql struct {
	flavor  Flavor
	version Version
	idStep  int64
}

// InsertIDStep: see the package function.
func (d mysql) InsertIDStep() int64 { return d.idStep }

// MySQLInfo is implemented by the MySQL dialect: the server's flavour and
// version it was made for.
type MySQLInfo interface {
	Flavor() Flavor
	Version() Version
}

func (d mysql) Flavor() Flavor   { return d.flavor }
func (d mysql) Version() Version { return d.version }

func (mysql) Name() string { return "mysql" }

func (mysql) AppendPlaceholder(b []byte, n int) []byte { return append(b, '?') }

func (mysql) AppendIdent(b []byte, name string) []byte { return appendQuoted(b, name, '`') }

// MaxParams is the protocol's limit: COM_STMT_PREPARE counts parameters in
// 16 bits.
func (mysql) MaxParams() int { return 65535 }

// Returning: MariaDB 10.5 has INSERT ... RETURNING and DELETE ...
// RETURNING; MySQL has neither.
func (d mysql) Returning() bool { return d.flavor == MariaDBFlavor && d.version.AtLeast(10, 5, 0) }

// UpdateReturning is false: neither flavour has UPDATE ... RETURNING.
func (mysql) UpdateReturning() bool { return false }

func (mysql) LastInsertID() bool { return true }

// EncodeTime binds times as DATETIME(6) text in UTC: go-sql-driver sends
// the first instant of year 1 (Go's zero time) as the zero date
// '0000-00-00', which strict servers refuse.
func (mysql) EncodeTime(t time.Time) any { return t.UTC().Format(MySQLTimeLayout) }

// AppendMatch uses LIKE, which compares as the column's collation does:
// byte for byte in the binary collation forge's tables have. LIKE's
// metacharacters in s are escaped with '!', which is no escape character
// in string literals whatever the sql_mode (a backslash is one unless
// NO_BACKSLASH_ESCAPES).
func (d mysql) AppendMatch(b []byte, kind MatchKind, column []byte, n int, s string) ([]byte, any) {
	p := escapeLikeWith(s, '!')
	switch kind {
	case Contains:
		p = "%" + p + "%"
	case StartsWith:
		p = p + "%"
	case EndsWith:
		p = "%" + p
	}
	b = append(b, column...)
	b = append(b, " LIKE ? ESCAPE '!'"...)
	return b, p
}

// AppendInJSON reads the list with JSON_TABLE (MySQL 8.0.4, MariaDB
// 10.6). Times arrive as RFC 3339 text in UTC, which DATETIME does not
// parse with its T and Z, so they are rewritten first.
func (d mysql) AppendInJSON(b []byte, column []byte, not bool, n int, kind schema.Kind) []byte {
	b = append(b, column...)
	if not {
		b = append(b, " NOT"...)
	}
	b = append(b, " IN (SELECT "...)
	if kind == schema.Time {
		b = append(b, "CAST(REPLACE(REPLACE(j.v, 'T', ' '), 'Z', '') AS DATETIME(6))"...)
	} else {
		b = append(b, "j.v"...)
	}
	b = append(b, " FROM JSON_TABLE(?, '$[*]' COLUMNS (v "...)
	switch kind {
	case schema.ID, schema.Int64:
		b = append(b, "BIGINT"...)
	case schema.Int32:
		b = append(b, "INT"...)
	case schema.Float:
		b = append(b, "DOUBLE"...)
	case schema.Bool:
		b = append(b, "BOOLEAN"...)
	case schema.Time:
		b = append(b, "VARCHAR(40)"...)
	default:
		b = append(b, "LONGTEXT CHARACTER SET utf8mb4 COLLATE "...)
		b = append(b, d.collation()...)
	}
	return append(b, " PATH '$')) AS j)"...)
}

// SyncIdentity returns "": AUTO_INCREMENT moves past explicit ids itself.
func (mysql) SyncIdentity(table, column string, maxID int64) (string, []any) { return "", nil }

// collation is the binary, unpadded utf8mb4 collation of the server.
func (d mysql) collation() string {
	switch {
	case d.flavor == MariaDBFlavor:
		return "utf8mb4_nopad_bin"
	case d.version.AtLeast(8, 0, 0):
		return "utf8mb4_0900_bin"
	}
	return "utf8mb4_bin"
}

// Collation is the collation of text columns in tables forge creates.
func (d mysql) Collation() string { return d.collation() }

// MaxIndexedText is the length in characters of text columns that are a
// primary key or unique (VARCHAR(255)).
const MaxIndexedText = 255

func (mysql) ColumnType(c *schema.Column) string {
	switch c.Kind {
	case schema.ID:
		return "BIGINT AUTO_INCREMENT"
	case schema.Int64:
		return "BIGINT"
	case schema.Int32:
		return "INT"
	case schema.Float:
		return "DOUBLE"
	case schema.Bool:
		return "BOOLEAN"
	case schema.Time:
		return "DATETIME(6)"
	case schema.Bytes:
		return "LONGBLOB"
	case schema.JSON:
		return "JSON"
	}
	if c.PrimaryKey || c.Unique || c.UniqueKey || c.ForeignKey || c.Kind == schema.TextID {
		return "VARCHAR(255)"
	}
	return "LONGTEXT"
}

// CastType is the type CAST converts to for a value of kind: MySQL's CAST
// knows SIGNED and DOUBLE, not BIGINT.
func (mysql) CastType(kind schema.Kind) string {
	switch kind {
	case schema.ID, schema.Int64, schema.Int32, schema.Bool:
		return "SIGNED"
	case schema.Float:
		return "DOUBLE"
	case schema.Time:
		return "DATETIME(6)"
	case schema.Bytes:
		return "BINARY"
	}
	return "CHAR"
}

// MySQLTimeLayout is a DATETIME(6) literal's text.
const MySQLTimeLayout = "2006-01-02 15:04:05.000000"

// AppendLiteral writes text, bytes and JSON defaults in parentheses: MySQL
// accepts a default on TEXT, BLOB and JSON columns only as an expression.
func (mysql) AppendLiteral(b []byte, kind schema.Kind, v any) ([]byte, error) {
	expr := kind == schema.Text || kind == schema.TextID || kind == schema.JSON || kind == schema.Bytes
	if expr {
		b = append(b, '(')
	}
	b, err := appendMySQLLiteral(b, kind, v)
	if err != nil || !expr {
		return b, err
	}
	return append(b, ')'), nil
}

func appendMySQLLiteral(b []byte, kind schema.Kind, v any) ([]byte, error) {
	b, ok, err := appendCommonLiteral(b, kind, v, func(t time.Time) string {
		return t.UTC().Truncate(time.Microsecond).Format(MySQLTimeLayout)
	})
	if ok {
		return b, err
	}
	switch x := v.(type) {
	case bool: // as information_schema reports a BOOLEAN's default
		if x {
			return append(b, '1'), nil
		}
		return append(b, '0'), nil
	case []byte:
		b = append(b, "X'"...)
		b = hex.AppendEncode(b, x)
		return append(b, '\''), nil
	}
	return b, fmt.Errorf("forge: cannot write a %T as a MySQL literal", v)
}

func (mysql) DefaultNow() string { return "CURRENT_TIMESTAMP(6)" }

// TableOptions makes InnoDB tables (transactions, foreign keys) whose text
// is utf8mb4 in the binary collation.
func (d mysql) TableOptions() string {
	return " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=" + d.collation()
}

// MaxIdentLen is 64: MySQL refuses longer names (it does not truncate).
func (mysql) MaxIdentLen() int { return 64 }

func (mysql) AddConstraint() bool { return true }

// AppendLimit writes LIMIT n OFFSET m; an offset alone needs a LIMIT, the
// largest unsigned 64-bit number, as MySQL's manual suggests.
func (mysql) AppendLimit(b []byte, limit, offset int) []byte {
	return appendLimitOffset(b, limit, offset, "18446744073709551615")
}

// AppendOrder sorts NULL last ascending and first descending with a
// leading "expr IS NULL": MySQL has no NULLS FIRST/LAST and sorts NULL as
// the smallest value.
func (mysql) AppendOrder(b []byte, expr string, desc, nullable bool) []byte {
	if nullable {
		b = append(b, expr...)
		b = append(b, " IS NULL"...)
		if desc {
			b = append(b, " DESC"...)
		}
		b = append(b, ", "...)
	}
	b = append(b, expr...)
	if desc {
		b = append(b, " DESC"...)
	}
	return b
}

// rowAlias names the inserted row in MySQL 8.0.19's upsert form.
const rowAlias = "forge_new"

// AppendUpsert writes ON DUPLICATE KEY UPDATE. MySQL has no conflict
// target, so conflict only matters for "do nothing", written as assigning
// the first conflict column to itself (INSERT IGNORE would also hide other
// errors).
func (d mysql) AppendUpsert(b []byte, conflict, update []string) []byte {
	alias := d.flavor == MySQLFlavor && d.version.AtLeast(8, 0, 19)
	if alias && len(update) > 0 {
		b = append(b, " AS "...)
		b = append(b, rowAlias...)
	}
	b = append(b, " ON DUPLICATE KEY UPDATE "...)
	if len(update) == 0 {
		b = d.AppendIdent(b, conflict[0])
		b = append(b, " = "...)
		return d.AppendIdent(b, conflict[0])
	}
	for i, c := range update {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = d.AppendIdent(b, c)
		if alias {
			b = append(b, " = "+rowAlias+"."...)
			b = d.AppendIdent(b, c)
		} else {
			b = append(b, " = VALUES("...)
			b = d.AppendIdent(b, c)
			b = append(b, ')')
		}
	}
	return b
}
