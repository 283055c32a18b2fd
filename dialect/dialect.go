// Package dialect turns forge's dialect-neutral decisions into SQL text for
// one database: placeholders, identifier quoting, column types, literals for
// DDL defaults, text matching, upserts and limits. It does no I/O.
//
// A Dialect appends to a byte slice so that building a statement costs one
// buffer, not one string per fragment.
package dialect

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/forge-orm/forge/schema"
)

// Dialect writes SQL for one database.
type Dialect interface {
	// Name is a short lower-case name: "sqlite", "postgres", "mysql".
	Name() string
	// AppendPlaceholder appends the n-th (1-based) bind placeholder.
	AppendPlaceholder(b []byte, n int) []byte
	// AppendIdent appends name as a quoted identifier.
	AppendIdent(b []byte, name string) []byte
	// MaxParams is the largest number of bind parameters in one statement.
	MaxParams() int
	// Returning reports whether INSERT ... RETURNING and DELETE ...
	// RETURNING work (UPDATE: see UpdateReturning).
	Returning() bool
	// UpdateReturning reports whether UPDATE ... RETURNING works (MariaDB
	// returns rows from INSERT and DELETE, not from UPDATE).
	UpdateReturning() bool
	// LastInsertID reports whether a single-row INSERT's generated id comes
	// back in the statement's result (SQLite's last_insert_rowid), so that
	// forge can skip RETURNING when the id is all it needs.
	LastInsertID() bool
	// EncodeTime converts a time into the value bound for a time column.
	EncodeTime(t time.Time) any
	// AppendMatch appends a condition that is true when column (already
	// quoted) contains, starts with or ends with s, literally and
	// case-sensitively, and returns the value to bind as parameter n
	// (1-based), which the condition may reference more than once. s is
	// never empty (forge writes "column = column" for that: true for any
	// text, unknown for NULL).
	AppendMatch(b []byte, kind MatchKind, column []byte, n int, s string) ([]byte, any)
	// AppendInJSON appends a condition true when column is (or, with not,
	// is not) one of the values of a JSON array bound as parameter n: how
	// forge sends an In list too long to bind value by value. kind is the
	// column's kind; values are encoded as for the column (times as the
	// dialect binds them), never NULL.
	AppendInJSON(b []byte, column []byte, not bool, n int, kind schema.Kind) []byte
	// SyncIdentity returns the statement that moves the sequence generating
	// table.column's ids past maxID after rows were inserted with explicit
	// ids, so that the next generated id does not collide; "" when the
	// database needs none (SQLite takes the largest rowid plus one). It
	// never moves a sequence backwards.
	SyncIdentity(table, column string, maxID int64) (string, []any)
	// ColumnType is the column's type in DDL, without NULL/DEFAULT.
	ColumnType(c *schema.Column) string
	// CastType is the type to write in CAST(x AS type) for a value of
	// kind (MySQL casts to SIGNED, not to its column type BIGINT).
	CastType(kind schema.Kind) string
	// AppendLiteral appends v as a SQL literal, for DDL defaults.
	AppendLiteral(b []byte, kind schema.Kind, v any) ([]byte, error)
	// DefaultNow is the DDL default expression for the current time.
	DefaultNow() string
	// TableOptions is appended after CREATE TABLE (...), such as " STRICT".
	TableOptions() string
	// MaxIdentLen is the longest identifier the database keeps, in bytes
	// (0: no limit); names longer than that are fitted with FitName.
	MaxIdentLen() int
	// AddConstraint reports whether ALTER TABLE ... ADD CONSTRAINT works
	// (SQLite cannot; it accepts foreign keys to tables created later).
	AddConstraint() bool
	// AppendOrder appends an ORDER BY item: expr, ascending or descending.
	// forge sorts NULL as the largest value on every database (PostgreSQL's
	// default), so for a nullable expr NULLs come last ascending and first
	// descending.
	AppendOrder(b []byte, expr string, desc, nullable bool) []byte
	// AppendLimit appends LIMIT/OFFSET for limit rows (-1: no limit)
	// after offset rows.
	AppendLimit(b []byte, limit, offset int) []byte
	// AppendUpsert appends the conflict clause of an INSERT that updates
	// update when a row with the same conflict columns exists. An empty
	// update means "do nothing".
	AppendUpsert(b []byte, conflict, update []string) []byte
}

// MatchKind selects a text match.
type MatchKind uint8

// Text matches.
const (
	Contains MatchKind = iota + 1
	StartsWith
	EndsWith
)

// appendQuoted appends s between q, doubling any q inside it.
func appendQuoted(b []byte, s string, q byte) []byte {
	if strings.IndexByte(s, q) < 0 {
		b = append(b, q)
		b = append(b, s...)
		return append(b, q)
	}
	b = append(b, q)
	for i := 0; i < len(s); i++ {
		if s[i] == q {
			b = append(b, q)
		}
		b = append(b, s[i])
	}
	return append(b, q)
}

// appendStringLiteral appends a standard SQL string literal.
func appendStringLiteral(b []byte, s string) ([]byte, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return b, fmt.Errorf("forge: a default text value cannot contain a NUL byte")
	}
	return appendQuoted(b, s, '\''), nil
}

// appendCommonLiteral handles the literals both dialects write alike.
func appendCommonLiteral(b []byte, kind schema.Kind, v any, timeText func(time.Time) string) ([]byte, bool, error) {
	switch x := v.(type) {
	case string:
		b, err := appendStringLiteral(b, x)
		return b, true, err
	case int64:
		return strconv.AppendInt(b, x, 10), true, nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), true, nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), true, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return b, true, fmt.Errorf("forge: default %v is not a finite number", x)
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64), true, nil
	case time.Time:
		b, err := appendStringLiteral(b, timeText(x))
		return b, true, err
	}
	return b, false, nil
}

func appendUpsert(b []byte, d Dialect, conflict, update []string) []byte {
	b = append(b, " ON CONFLICT ("...)
	for i, c := range conflict {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = d.AppendIdent(b, c)
	}
	if len(update) == 0 {
		return append(b, ") DO NOTHING"...)
	}
	b = append(b, ") DO UPDATE SET "...)
	for i, c := range update {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = d.AppendIdent(b, c)
		b = append(b, " = excluded."...)
		b = d.AppendIdent(b, c)
	}
	return b
}

// appendLimitOffset writes " LIMIT n OFFSET m". With only an offset it
// writes LIMIT all (SQLite needs a LIMIT before OFFSET: -1; PostgreSQL: ALL).
func appendLimitOffset(b []byte, limit, offset int, all string) []byte {
	if limit >= 0 {
		b = append(b, " LIMIT "...)
		b = strconv.AppendInt(b, int64(limit), 10)
	} else if offset > 0 {
		b = append(b, " LIMIT "...)
		b = append(b, all...)
	}
	if offset > 0 {
		b = append(b, " OFFSET "...)
		b = strconv.AppendInt(b, int64(offset), 10)
	}
	return b
}

// appendOrderNulls writes an ordering with NULLS FIRST/LAST, which
// PostgreSQL and SQLite understand, said only where it matters (SQLite
// sorts NULL first by default).
func appendOrderNulls(b []byte, expr string, desc, nullable bool) []byte {
	b = append(b, expr...)
	switch {
	case desc && nullable:
		b = append(b, " DESC NULLS FIRST"...)
	case desc:
		b = append(b, " DESC"...)
	case nullable:
		b = append(b, " NULLS LAST"...)
	}
	return b
}

// InsertIDStep returns, for a dialect without RETURNING, the distance
// between the ids that one multi-row INSERT generates (the first is the
// statement's last insert id), or 0 when they need not be consecutive, in
// which case forge inserts rows whose ids it needs one statement at a
// time. Dialects say so by implementing InsertIDStep() int64.
func InsertIDStep(d Dialect) int64 {
	if s, ok := d.(interface{ InsertIDStep() int64 }); ok {
		return s.InsertIDStep()
	}
	return 0
}
