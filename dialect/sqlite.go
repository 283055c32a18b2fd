package dialect

import (
	"encoding/hex"
	"fmt"
	"strings"
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

// SQLiteTimeLayout is the text form of times in SQLite: UTC, nine fixed
// fractional digits, so that comparing the text compares the times.
const SQLiteTimeLayout = "2006-01-02T15:04:05.000000000Z"

func (sqlite) EncodeTime(t time.Time) any { return t.UTC().Format(SQLiteTimeLayout) }

// Match uses GLOB, which is case-sensitive like PostgreSQL's LIKE (SQLite's
// LIKE ignores ASCII case). The GLOB metacharacters in s are bracketed.
func (sqlite) Match(kind MatchKind, s string) (string, string, string) {
	var b strings.Builder
	b.Grow(len(s) + 2)
	if kind != StartsWith {
		b.WriteByte('*')
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '*', '?', '[':
			b.WriteByte('[')
			b.WriteByte(c)
			b.WriteByte(']')
		default:
			b.WriteByte(c)
		}
	}
	if kind != EndsWith {
		b.WriteByte('*')
	}
	return " GLOB ", b.String(), ""
}

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
