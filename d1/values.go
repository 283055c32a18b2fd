package d1

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver/sqliteerr"
)

// Dialect is SQLite as D1 runs it: dialect.SQLite with D1's limit of 100
// bound parameters per statement (SQLite's own is 32766), so that forge
// splits multi-row inserts and relation loads to fit.
var Dialect dialect.Dialect = d1Dialect{dialect.SQLite}

type d1Dialect struct{ dialect.Dialect }

// MaxParams is D1's limit on bound parameters per query.
func (d1Dialect) MaxParams() int { return 100 }

// ErrUnsupported is returned by Open and FromEnv outside GOOS=js
// GOARCH=wasm: a D1 binding exists only inside a Worker.
var ErrUnsupported = errors.New("forge/d1: the D1 binding exists only inside a Cloudflare Worker (GOOS=js GOARCH=wasm); from servers, CI and the CLI use the d1rest driver (D1's REST API)")

// maxSafe is Number.MAX_SAFE_INTEGER, 2^53-1: the largest integer
// magnitude that a JavaScript number holds exactly and that no other
// integer rounds to (2^53 and 2^53+1 are the same double).
const maxSafe = 1<<53 - 1

// ValueError reports an argument that D1 cannot receive exactly. Nothing is
// sent when an argument is refused.
type ValueError struct {
	Arg    int // 1-based position of the argument
	Value  any
	Reason string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("forge/d1: argument %d (%T): %s", e.Arg, e.Value, e.Reason)
}

// bindValue checks one argument and converts it to what the D1 binding
// receives: nil, float64 (a JavaScript number), string or []byte. It
// converts exactly or returns a *ValueError.
func bindValue(i int, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int64:
		if x > maxSafe || x < -maxSafe {
			return nil, &ValueError{Arg: i + 1, Value: v, Reason: fmt.Sprintf("%d is beyond ±(2^53-1), JavaScript's safe integers: D1 binds numbers as doubles, where 2^53 and 2^53+1 are the same number, and cannot bind BigInt; store such values as text", x)}
		}
		return float64(x), nil
	case int32:
		return float64(x), nil
	case int:
		return bindValue(i, int64(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, &ValueError{Arg: i + 1, Value: v, Reason: fmt.Sprintf("%v cannot be stored: SQLite has no NaN or infinity", x)}
		}
		return x, nil
	case bool:
		if x {
			return float64(1), nil
		}
		return float64(0), nil
	case string:
		if !utf8.ValidString(x) {
			return nil, &ValueError{Arg: i + 1, Value: v, Reason: "the string is not valid UTF-8, and JavaScript would replace the invalid bytes; bind binary data as []byte"}
		}
		return x, nil
	case []byte:
		if x == nil {
			return []byte{}, nil
		}
		return x, nil
	case time.Time:
		return x.UTC().Format(dialect.SQLiteTimeLayout), nil
	}
	return nil, &ValueError{Arg: i + 1, Value: v, Reason: "not a type the D1 driver binds (nil, int64, int32, float64, bool, string, []byte, time.Time)"}
}

// readNumber converts a number D1 returned into the value driver.Assign
// reads: an int64 when it is a safe integer (within ±(2^53-1), and not
// negative zero), else a float64, which Assign refuses to put into an
// integer from ±2^53 on (its digits may have been lost in transit).
func readNumber(x float64) any {
	if x == math.Trunc(x) && x <= maxSafe && x >= -maxSafe && !(x == 0 && math.Signbit(x)) {
		return int64(x)
	}
	return x
}

// Error is an error reported by D1 or its binding that is not a
// constraint violation (those are *driver.ConstraintError, which wraps an
// *Error).
type Error struct {
	// Code is the binding's prefix, such as "D1_ERROR", "D1_TYPE_ERROR" or
	// "D1_EXEC_ERROR"; "" when the message had none.
	Code string
	// Message is the rest of the message, typically SQLite's.
	Message string
}

func (e *Error) Error() string {
	if e.Code == "" {
		return "forge/d1: " + e.Message
	}
	return "forge/d1: " + e.Code + ": " + e.Message
}

// mapError turns a message thrown by the D1 binding into a
// *driver.ConstraintError (wrapping an *Error) or an *Error.
func mapError(msg string) error {
	e := &Error{Message: msg}
	if code, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(code, "D1_") && strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == "" {
		e.Code, e.Message = code, rest
	}
	if ce := sqliteerr.Parse(e.Message, e); ce != nil {
		return ce
	}
	return e
}

// hasLastInsertID reports whether a statement is an insert, whose
// meta.last_row_id is its own (for other statements D1 reports the
// connection's last one, which may be stale).
func hasLastInsertID(sql string) bool {
	s := strings.TrimLeft(sql, " \t\r\n(")
	for _, kw := range []string{"INSERT", "REPLACE"} {
		if len(s) >= len(kw) && strings.EqualFold(s[:len(kw)], kw) {
			return true
		}
	}
	return false
}

// isArrayIndex reports whether a JavaScript object key is an array index,
// which objects order before every other key.
func isArrayIndex(k string) bool {
	if k == "" || len(k) > 10 || (k[0] == '0' && len(k) > 1) {
		return false
	}
	var n uint64
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return false
		}
		n = n*10 + uint64(k[i]-'0')
	}
	return n < 1<<32-1
}
