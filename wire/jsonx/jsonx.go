// Package jsonx reads and writes JSON by hand, without encoding/json's
// reflection: strings for the codecs that build JSON into a byte slice (the
// Hrana codec, the gateway, the D1 driver), and whole values (Append, Parse)
// for Workers, where encoding/json costs about 120 KB gzipped and its first
// use a noticeable part of a cold start.
package jsonx

import "unicode/utf8"

// AppendString appends s (text or bytes) as a JSON string, escaped as
// encoding/json escapes it (but for <, > and &, which need no escape here). Bytes that are
// not UTF-8 (from a SQL_ASCII database, say) become U+FFFD, as JSON holds
// text only.
func AppendString[S ~string | ~[]byte](b []byte, s S) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			// Valid JSON, but not valid JavaScript source: escaped, as
			// encoding/json does.
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
