package d1rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/driver/sqliteerr"
	"github.com/forge-orm/forge/fetch"
)

// maxSafe is Number.MAX_SAFE_INTEGER, 2^53-1: the largest magnitude a
// JavaScript number holds exactly and that no other integer rounds to
// (2^53+1 arrives as 2^53).
const maxSafe = 1<<53 - 1

// encodeArgs converts forge's arguments into the strings (and nulls) of the
// REST API's params. A value that cannot be carried exactly is a
// *ValueError, and nothing is sent.
func encodeArgs(args []any) ([]*string, error) {
	if len(args) == 0 {
		return []*string{}, nil
	}
	out := make([]*string, len(args))
	for i, a := range args {
		s, ok, err := encodeArg(i, a)
		if err != nil {
			return nil, err
		}
		if ok {
			out[i] = &s
		}
	}
	return out, nil
}

// encodeArg returns the text of one argument, or ok == false for NULL.
func encodeArg(i int, v any) (s string, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case int64:
		if x > maxSafe || x < -maxSafe {
			return "", false, &ValueError{Arg: i + 1, Value: v, Reason: fmt.Sprintf("%d is beyond ±(2^53-1): D1 could store it (params are text) but returns integers as JavaScript numbers, so it could never be read back exactly (2^53+1 arrives as 2^53); store such values as text, or compare with them by passing a string", x)}
		}
		return strconv.FormatInt(x, 10), true, nil
	case int32:
		return strconv.FormatInt(int64(x), 10), true, nil
	case int:
		return encodeArg(i, int64(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", false, &ValueError{Arg: i + 1, Value: v, Reason: fmt.Sprintf("%v cannot be stored: SQLite has no NaN or infinity", x)}
		}
		return strconv.FormatFloat(x, 'g', -1, 64), true, nil
	case bool:
		if x {
			return "1", true, nil
		}
		return "0", true, nil
	case string:
		if !utf8.ValidString(x) {
			return "", false, &ValueError{Arg: i + 1, Value: v, Reason: "the string is not valid UTF-8, which JSON cannot carry (its invalid bytes would be replaced); D1's REST API cannot carry binary data either"}
		}
		return x, true, nil
	case []byte:
		return "", false, &ValueError{Arg: i + 1, Value: v, Reason: "D1's REST API cannot carry blobs (its params are strings); use the D1 binding in a Worker (package d1)"}
	case time.Time:
		return x.UTC().Format(dialect.SQLiteTimeLayout), true, nil
	}
	return "", false, &ValueError{Arg: i + 1, Value: v, Reason: "not a type the d1rest driver binds (nil, int64, int32, float64, bool, string, time.Time)"}
}

// result is one statement's outcome, decoded.
type result struct {
	columns      []string
	rows         [][]any
	changes      int64
	lastRowID    int64
	hasLastRowID bool
}

// Wire shapes. Fields stay json.RawMessage until checked, so that a wrong
// shape is reported as such instead of being read as zero values.
type wireEnvelope struct {
	Success  *bool           `json:"success"`
	Errors   json.RawMessage `json:"errors"`
	Messages json.RawMessage `json:"messages"`
	Result   json.RawMessage `json:"result"`
}

type wireMessage struct {
	Code    json.Number `json:"code"`
	Message string      `json:"message"`
}

type wireResult struct {
	Success *bool           `json:"success"`
	Error   json.RawMessage `json:"error"`
	Meta    json.RawMessage `json:"meta"`
	Results json.RawMessage `json:"results"`
}

type wireMeta struct {
	Changes   json.Number `json:"changes"`
	LastRowID json.Number `json:"last_row_id"`
}

type wireRows struct {
	Columns json.RawMessage `json:"columns"`
	Rows    json.RawMessage `json:"rows"`
}

// decodeResponse reads the reply to a /raw call. A reply that is not
// Cloudflare's JSON envelope is a *fetch.StatusError; an envelope that
// reports failure is an *APIError (or a *driver.ConstraintError wrapping
// one); an envelope of the wrong shape is a *ResponseError.
func decodeResponse(status int, body []byte) ([]result, error) {
	var env wireEnvelope
	if err := strictUnmarshal(body, &env); err != nil || env.Success == nil {
		return nil, &fetch.StatusError{Status: status, Body: string(body)}
	}
	if !*env.Success {
		return nil, apiError(status, env.Errors)
	}
	if status < 200 || status > 299 {
		return nil, &fetch.StatusError{Status: status, Body: string(body)}
	}
	var raws []json.RawMessage
	if err := strictUnmarshal(env.Result, &raws); err != nil || raws == nil {
		return nil, &ResponseError{Reason: "result is not an array of statement results"}
	}
	out := make([]result, len(raws))
	for i, raw := range raws {
		r, err := decodeResult(raw)
		if err != nil {
			if len(raws) > 1 {
				if re, ok := err.(*ResponseError); ok {
					re.Reason = fmt.Sprintf("statement %d: %s", i+1, re.Reason)
				}
			}
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// apiError builds the error of an envelope with success: false.
func apiError(status int, raw json.RawMessage) error {
	var msgs []wireMessage
	if err := strictUnmarshal(raw, &msgs); err != nil {
		msgs = nil
	}
	e := &APIError{Status: status}
	for _, m := range msgs {
		code, _ := strconv.Atoi(m.Code.String())
		e.Errors = append(e.Errors, Message{Code: code, Message: m.Message})
	}
	if len(e.Errors) == 0 {
		e.Errors = []Message{{Message: "the API reported failure without an error message"}}
	}
	for _, m := range e.Errors {
		if ce := sqliteerr.Parse(m.Message, e); ce != nil {
			return ce
		}
	}
	return e
}

// decodeResult decodes one statement's result.
func decodeResult(raw json.RawMessage) (result, error) {
	var r result
	var w wireResult
	if err := strictUnmarshal(raw, &w); err != nil {
		return r, &ResponseError{Reason: "a statement result is not an object"}
	}
	if w.Success != nil && !*w.Success {
		msg := "the statement failed"
		var s string
		if json.Unmarshal(w.Error, &s) == nil && s != "" {
			msg = s
		}
		e := &APIError{Status: 200, Errors: []Message{{Message: msg}}}
		if ce := sqliteerr.Parse(msg, e); ce != nil {
			return r, ce
		}
		return r, e
	}
	if !isNull(w.Meta) {
		var m wireMeta
		if err := strictUnmarshal(w.Meta, &m); err != nil {
			return r, &ResponseError{Reason: "meta is not an object"}
		}
		if m.Changes != "" {
			n, ok := safeInt(m.Changes)
			if !ok || n < 0 {
				return r, &ResponseError{Reason: fmt.Sprintf("meta.changes is %s, not a count", m.Changes)}
			}
			r.changes = n
		}
		if m.LastRowID != "" {
			// A row id beyond 2^53-1 may have been rounded: report none
			// rather than a wrong one.
			r.lastRowID, r.hasLastRowID = safeInt(m.LastRowID)
		}
	}
	if isNull(w.Results) || string(bytes.TrimSpace(w.Results)) == "[]" {
		return r, nil // no rows (an empty array is /query's form of it)
	}
	var rs wireRows
	if err := strictUnmarshal(w.Results, &rs); err != nil {
		return r, &ResponseError{Reason: "results is not an object {columns, rows} (was /query called instead of /raw?)"}
	}
	if !isNull(rs.Columns) {
		if err := strictUnmarshal(rs.Columns, &r.columns); err != nil {
			return r, &ResponseError{Reason: "results.columns is not an array of strings"}
		}
	}
	if isNull(rs.Rows) {
		return r, nil
	}
	var rows [][]any
	if err := strictUnmarshal(rs.Rows, &rows); err != nil {
		return r, &ResponseError{Reason: "results.rows is not an array of arrays"}
	}
	for i, row := range rows {
		if row == nil {
			return r, &ResponseError{Reason: fmt.Sprintf("row %d is null", i+1)}
		}
		if len(row) != len(r.columns) {
			return r, &ResponseError{Reason: fmt.Sprintf("row %d: %d values for %d columns", i+1, len(row), len(r.columns))}
		}
		for j, v := range row {
			x, err := decodeValue(v)
			if err != nil {
				return r, &ResponseError{Reason: fmt.Sprintf("row %d, column %d: %v", i+1, j+1, err)}
			}
			row[j] = x
		}
	}
	r.rows = rows
	return r, nil
}

// decodeValue converts one decoded JSON value (decoded with UseNumber)
// into what driver.Assign reads:
//
//	null                                    nil
//	string                                  string
//	number, integral within ±(2^53-1)       int64
//	any other number                        float64 (see rows.Scan)
//	array of integers 0..255 (a BLOB)       []byte
//
// Anything else (a boolean, an object, another array, a number beyond
// float64) is an error.
func decodeValue(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return x, nil
	case json.Number:
		return readNumber(x)
	case bool:
		return nil, fmt.Errorf("unexpected JSON boolean %v (D1 returns numbers, strings, null and byte arrays)", x)
	case []any:
		b := make([]byte, len(x))
		for i, e := range x {
			n, ok := e.(json.Number)
			if !ok {
				return nil, fmt.Errorf("an array holding %T, not a BLOB's bytes", e)
			}
			u, err := strconv.ParseUint(n.String(), 10, 8)
			if err != nil {
				return nil, fmt.Errorf("an array holding %s, not a BLOB's byte (0..255)", n)
			}
			b[i] = byte(u)
		}
		return b, nil
	}
	return nil, fmt.Errorf("unexpected JSON %T (D1 returns numbers, strings, null and byte arrays)", v)
}

// readNumber converts a JSON number. D1 produces its replies in
// JavaScript, where every number is a double: an integer beyond
// ±(2^53-1) may already have been rounded (9007199254740993 arrives as
// 9007199254740992, 2^63-1 as 9223372036854776000), so only integers
// within ±(2^53-1) are read as int64; every other number is a float64,
// which rows.Scan refuses to put into an integer.
func readNumber(n json.Number) (any, error) {
	if i, ok := safeInt(n); ok {
		return i, nil
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	if err != nil {
		return nil, fmt.Errorf("the number %s does not fit a float64", n)
	}
	if f == math.Trunc(f) && f >= -maxSafe && f <= maxSafe {
		return int64(f), nil // written with a fraction or exponent: 1.0, 1e3
	}
	return f, nil
}

// safeInt parses n as an integer within ±(2^53-1).
func safeInt(n json.Number) (int64, bool) {
	i, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil || i > maxSafe || i < -maxSafe {
		return 0, false
	}
	return i, true
}

// strictUnmarshal decodes one JSON value with nothing after it.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// rows is driver.BufferedRows, the shared conversion (driver.Assign), with
// one check in front: a number D1 returned beyond ±(2^53-1) is refused for
// an integer destination. driver.Assign accepts integral floats up to
// ±2^53 inclusive, but 2^53 is also what 2^53+1 arrives as.
type rows struct {
	driver.BufferedRows
	i int // 1-based index of the current row
}

func newRows(cols []string, vals [][]any) *rows {
	if cols == nil {
		cols = []string{}
	}
	return &rows{BufferedRows: driver.BufferedRows{Cols: cols, Values: vals}}
}

// Next implements driver.Rows.
func (r *rows) Next() bool {
	ok := r.BufferedRows.Next()
	if ok {
		r.i++
	} else {
		r.i = len(r.Values) + 1
	}
	return ok
}

// Scan implements driver.Rows.
func (r *rows) Scan(dest ...any) error {
	if r.i >= 1 && r.i <= len(r.Values) {
		row := r.Values[r.i-1]
		for i, d := range dest {
			if i >= len(row) {
				break
			}
			f, ok := row[i].(float64)
			if !ok || f != math.Trunc(f) {
				continue
			}
			switch d.(type) {
			case *int64, *int32, **int64, **int32:
				return fmt.Errorf("column %d (%s): forge/d1rest: %v is beyond ±(2^53-1): D1 returns numbers as JavaScript doubles, so the stored integer may have been rounded (read it as text: CAST(col AS TEXT))", i, r.Cols[i], f)
			}
		}
	}
	return r.BufferedRows.Scan(dest...)
}

// Close implements driver.Rows.
func (r *rows) Close() error {
	r.i = len(r.Values) + 1
	return r.BufferedRows.Close()
}
