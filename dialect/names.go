package dialect

import (
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
	return name[:cut] + "_" + nameHash(name)
}

// nameHash is 8 hex digits of the 32-bit FNV-1a hash of name: enough to
// keep the few names of one schema apart, and, unlike crypto/sha256, it
// does not bring Go's FIPS crypto module into an edge build.
func nameHash(name string) string {
	const hexDigits = "0123456789abcdef"
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= 16777619
	}
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = hexDigits[h&0xf]
		h >>= 4
	}
	return string(b[:])
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
