package dialect

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/forge-orm/forge/schema"
)

// SQLite is the dialect of SQLite 3.37 and later (STRICT tables, RETURNING),
// used by the embedded driver, D1 and libsql.
var SQLite Dialect = sqlite{}

type sqlite struct{}

func (sqlite) Name() string { return "sqlite" }

func (sqlite) AppendPlaceholder(b []byte, n int) []byte { return append(b, '?') }

func (sqlite) AppendIdent(b []byte, name string) []byte { return appendQuoted(b, name, '"') }

// MaxParams is SQLITE_MAX_VARIABLE_NUMBER's default since 3.32.
func (sqlite) MaxParams() int { return 32766 }

func (sqlite) Returning() bool { return true }

func (sqlite) UpdateReturning() bool { return true }

// SQLiteTimeLayout is the text form of times in SQLite: UTC, nine fixed
// fractional digits, so that comparing the text compares the times.
const SQLiteTimeLayout = "2006-01-02T15:04:05.000000000Z"

func (sqlite) EncodeTime(t time.Time) any { return t.UTC().Format(SQLiteTimeLayout) }

// AppendMatch uses instr and substr, which compare bytes exactly: SQLite's
// LIKE ignores ASCII case and GLOB rejects patterns over 50,000 bytes. The
// numbered placeholder ?n lets the condition use the value twice.
func (sqlite) AppendMatch(b []byte, kind MatchKind, column []byte, n int, s string) ([]byte, any) {
	switch kind {
	case Contains:
		b = append(b, "instr("...)
		b = append(b, column...)
		b = append(b, ", ?"...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, ") > 0"...)
	case StartsWith:
		b = append(b, "substr("...)
		b = append(b, column...)
		b = append(b, ", 1, length(?"...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, ")) = ?"...)
		b = strconv.AppendInt(b, int64(n), 10)
	default:
		b = append(b, "substr("...)
		b = append(b, column...)
		b = append(b, ", -length(?"...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, ")) = ?"...)
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return b, s
}

// AppendInJSON reads the list with json_each: its values compare with the
// column as bound values would (JSON integers are INTEGER, strings TEXT).
func (sqlite) AppendInJSON(b []byte, column []byte, not bool, n int, kind schema.Kind) []byte {
	b = append(b, column...)
	if not {
		b = append(b, " NOT"...)
	}
	b = append(b, " IN (SELECT value FROM json_each(?"...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, "))"...)
}

func (sqlite) SyncIdentity(table, column string, maxID int64) (string, []any) { return "", nil }

func (sqlite) ColumnType(c *schema.Column) string {
	switch c.Kind {
	case schema.ID, schema.Int64, schema.Int32, schema.Bool:
		return "INTEGER"
	case schema.Float:
		return "REAL"
	case schema.Bytes:
		return "BLOB"
	}
	return "TEXT"
}

func (d sqlite) CastType(kind schema.Kind) string { return d.ColumnType(&schema.Column{Kind: kind}) }

func (sqlite) AppendLiteral(b []byte, kind schema.Kind, v any) ([]byte, error) {
	b, ok, err := appendCommonLiteral(b, kind, v, func(t time.Time) string { return t.UTC().Format(SQLiteTimeLayout) })
	if ok {
		return b, err
	}
	switch x := v.(type) {
	case bool:
		if x {
			return append(b, '1'), nil
		}
		return append(b, '0'), nil
	case []byte:
		b = append(b, "X'"...)
		b = hex.AppendEncode(b, x)
		return append(b, '\''), nil
	}
	return b, fmt.Errorf("forge: cannot write a %T as a SQLite literal", v)
}

func (sqlite) DefaultNow() string { return "(strftime('%Y-%m-%dT%H:%M:%f000000Z', 'now'))" }

func (sqlite) TableOptions() string { return " STRICT" }

func (d sqlite) AppendUpsert(b []byte, conflict, update []string) []byte {
	return appendUpsert(b, d, conflict, update)
}

func (sqlite) AppendLimit(b []byte, limit, offset int) []byte {
	return appendLimitOffset(b, limit, offset, "-1")
}

func (sqlite) AddConstraint() bool { return false }

func (sqlite) LastInsertID() bool { return true }

// MaxIdentLen is 0: SQLite keeps names of any length.
func (sqlite) MaxIdentLen() int { return 0 }

func (sqlite) AppendOrder(b []byte, expr string, desc, nullable bool) []byte {
	return appendOrderNulls(b, expr, desc, nullable)
}
