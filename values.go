package forge

import (
	"time"
	"unicode/utf8"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
)

// The value rules: every value forge sends, for a field (through its
// codec's encode) or as a raw SQL argument, is checked here once, before
// any statement is built.

// encodeScalar checks one non-NULL value (driver.CheckValue) and converts
// it as forge stores it: times in UTC truncated to microseconds and in the
// dialect's form, -0 as 0. f names the field, or arg the raw argument.
func encodeScalar(d dialect.Dialect, f *field, arg int, v any) (any, error) {
	switch x := v.(type) {
	case string:
		if reason := checkText(x); reason != "" {
			return nil, valueError(f, arg, v, reason)
		}
	case float64:
		if reason := driver.CheckValue(x); reason != "" {
			return nil, valueError(f, arg, v, reason)
		}
		if x == 0 {
			return float64(0), nil // -0 is stored as 0 (SQLite drops the sign)
		}
	case time.Time:
		if reason := driver.CheckValue(x); reason != "" {
			return nil, valueError(f, arg, v, reason)
		}
		return d.EncodeTime(driver.NormalizeTime(x)), nil
	}
	return v, nil
}

// checkText is driver.CheckValue for text, with a fast path for short
// ASCII.
func checkText(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= utf8.RuneSelf {
			return driver.CheckValue(s)
		}
	}
	return ""
}

func valueError(f *field, arg int, v any, reason string) error {
	if f == nil {
		return &ValueError{Arg: arg, Value: v, Reason: reason}
	}
	return &ValueError{Model: f.m.name, Field: f.name, Value: v, Reason: reason}
}

// jsonProblem returns why encoded JSON cannot be stored exactly, or "": a
// \u0000 escape (PostgreSQL's jsonb cannot store it), or a \ufffd escape,
// which is how encoding/json writes (silently replaces) invalid UTF-8 in a
// string; a valid U+FFFD it writes as is. An escaped backslash followed by
// "u0000" is text, not an escape.
func jsonProblem(b []byte) string {
	for i := 0; i+5 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] == 'u' {
			switch string(b[i+2 : i+6]) {
			case "0000":
				return "the JSON holds a NUL character (\\u0000); PostgreSQL's jsonb cannot store it, so forge refuses it everywhere"
			case "fffd":
				return "the JSON holds a string that is not valid UTF-8 (encoding/json would replace it with U+FFFD); forge refuses it everywhere"
			}
		}
		i++ // skip the escaped character
	}
	return ""
}

// encodeArgs applies the value rules to raw SQL arguments (Exec, Raw,
// ExecOp): text, floats and times are checked like field values, and a
// time.Time is bound the way forge stores times on the dialect (never its
// String() form). args is copied only when a value changes.
func encodeArgs(d dialect.Dialect, args []any) ([]any, error) {
	out := args
	for i, a := range args {
		switch a.(type) {
		case string, float64, time.Time:
		default:
			continue
		}
		v, err := encodeScalar(d, nil, i+1, a)
		if err != nil {
			return nil, err
		}
		if _, isTime := a.(time.Time); isTime || v != a {
			if &out[0] == &args[0] {
				out = append([]any(nil), args...)
			}
			out[i] = v
		}
	}
	return out, nil
}
