package dialect

import (
	"crypto/sha256"
	"encoding/hex"
	"unicode/utf8"
)

// PortableIdentLen is the length, in bytes, that the names forge
// generates (indexes, unique keys, foreign keys) keep to, so that one
// schema gets the same names on every database: PostgreSQL keeps 63 bytes
// of an identifier (MySQL 64, SQL Server 128; SQLite has no limit).
const PortableIdentLen = 63

// hashLen is the length of the suffix FitName appends: "_" and 8 hex digits.
const hashLen = 9

// FitName returns name when it is at most max bytes long (max <= 0: no
// limit); else the start of name, cut at a UTF-8 boundary, followed by "_"
// and 8 hex digits of name's SHA-256, at most max bytes in all. The result
// depends only on name and max, and two long names that share their first
// max bytes get different results (unless their hashes collide, one chance
// in four billion), where a database that truncates would give both the
// same name.
func FitName(name string, max int) string {
	if max <= 0 || len(name) <= max {
		return name
	}
	if max <= hashLen {
		max = hashLen + 1
	}
	cut := max - hashLen
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	sum := sha256.Sum256([]byte(name))
	return name[:cut] + "_" + hex.EncodeToString(sum[:4])
}

// ObjectName derives the name forge gives an object of table over columns
// when the schema names none: table_col1_col2_suffix ("key" for a unique
// index, "idx" for an index, "fkey" for a foreign key), fitted to
// PortableIdentLen. Models, introspection and pull all derive names here,
// so that they agree.
func ObjectName(table string, columns []string, suffix string) string {
	n := len(table) + len(suffix) + 1
	for _, c := range columns {
		n += len(c) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, table...)
	for _, c := range columns {
		b = append(b, '_')
		b = append(b, c...)
	}
	b = append(b, '_')
	b = append(b, suffix...)
	return FitName(string(b), PortableIdentLen)
}
