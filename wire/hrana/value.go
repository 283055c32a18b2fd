package hrana

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/forge-orm/forge/wire/jsonx"
)

// Kind is the type of a [Value].
type Kind uint8

// The kinds of Hrana values. The zero Kind is Null, so the zero Value is
// SQL NULL.
const (
	Null Kind = iota
	Integer
	Float
	Text
	Blob
)

// String returns the kind's name on the wire ("null", "integer", ...).
func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Integer:
		return "integer"
	case Float:
		return "float"
	case Text:
		return "text"
	case Blob:
		return "blob"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one SQL value on the wire. Only the field that matches Kind is
// meaningful. The zero Value is NULL.
//
// JSON forms:
//
//	{"type":"null"}
//	{"type":"integer","value":"-9223372036854775808"}  // a decimal string: exact over the full int64 range
//	{"type":"float","value":1.5}                       // a JSON number; NaN and ±Inf cannot be carried
//	{"type":"text","value":"Zoë"}
//	{"type":"blob","base64":"AQL/"}                    // standard alphabet; padded or unpadded on decode
type Value struct {
	Kind  Kind
	Int   int64
	Float float64
	Text  string
	Blob  []byte
}

// IntegerValue returns an integer Value.
func IntegerValue(v int64) Value { return Value{Kind: Integer, Int: v} }

// FloatValue returns a float Value. Encoding it fails if v is NaN or ±Inf.
func FloatValue(v float64) Value { return Value{Kind: Float, Float: v} }

// TextValue returns a text Value.
func TextValue(v string) Value { return Value{Kind: Text, Text: v} }

// BlobValue returns a blob Value. A nil slice is an empty blob, not NULL.
func BlobValue(v []byte) Value { return Value{Kind: Blob, Blob: v} }

// Any returns the value as nil, int64, float64, string or []byte (never
// nil for a blob: an empty blob is an empty, non-nil slice).
func (v Value) Any() any {
	switch v.Kind {
	case Integer:
		return v.Int
	case Float:
		return v.Float
	case Text:
		return v.Text
	case Blob:
		if v.Blob == nil {
			return []byte{}
		}
		return v.Blob
	}
	return nil
}

// ErrNonFiniteFloat is returned when encoding a float that is NaN or
// ±Inf: JSON numbers cannot represent them.
var ErrNonFiniteFloat = errors.New("hrana: NaN and ±Inf cannot be carried as a JSON number")

// ValueError reports a Value that cannot be encoded or decoded.
type ValueError struct {
	Kind string // the value's type as read or written ("integer", "float", ...)
	Msg  string
	Err  error // the underlying cause, if any
}

func (e *ValueError) Error() string {
	s := "hrana: "
	if e.Kind != "" {
		s += strconv.Quote(e.Kind) + " value: "
	} else {
		s += "value: "
	}
	s += e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *ValueError) Unwrap() error { return e.Err }

// MarshalJSON implements json.Marshaler.
func (v Value) MarshalJSON() ([]byte, error) { return v.AppendJSON(nil) }

// AppendJSON appends the value's JSON form to dst.
func (v Value) AppendJSON(dst []byte) ([]byte, error) {
	switch v.Kind {
	case Null:
		return append(dst, `{"type":"null"}`...), nil
	case Integer:
		dst = append(dst, `{"type":"integer","value":"`...)
		dst = strconv.AppendInt(dst, v.Int, 10)
		return append(dst, `"}`...), nil
	case Float:
		if math.IsNaN(v.Float) || math.IsInf(v.Float, 0) {
			return dst, &ValueError{Kind: "float", Msg: strconv.FormatFloat(v.Float, 'g', -1, 64), Err: ErrNonFiniteFloat}
		}
		dst = append(dst, `{"type":"float","value":`...)
		dst = appendFloat(dst, v.Float)
		return append(dst, '}'), nil
	case Text:
		dst = append(dst, `{"type":"text","value":`...)
		dst = jsonx.AppendString(dst, v.Text)
		return append(dst, '}'), nil
	case Blob:
		dst = append(dst, `{"type":"blob","base64":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, v.Blob)
		return append(dst, `"}`...), nil
	}
	return dst, &ValueError{Msg: "unknown kind " + v.Kind.String()}
}

// appendFloat writes f as encoding/json does (shortest form that reads
// back exactly; exponent form only for very large or small magnitudes).
func appendFloat(dst []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// wireValue is the JSON object of a Value, before validation.
type wireValue struct {
	Type   *string         `json:"type"`
	Value  json.RawMessage `json:"value"`
	Base64 *string         `json:"base64"`
}

// fast fills w from data without reflection when data is a Value object
// of plain members (see fastValue); it reports false when the general
// decoder must decide.
func (w *wireValue) fast(data []byte) bool {
	typ, value, b64, ok := fastValue(data)
	if !ok {
		return false
	}
	if typ != nil && string(typ) != "null" {
		t, ok := jsonString(typ)
		if !ok {
			return false
		}
		w.Type = &t
	}
	w.Value = value
	if b64 != nil && string(b64) != "null" {
		s, ok := jsonString(b64)
		if !ok {
			return false
		}
		w.Base64 = &s
	}
	return true
}

// fastDecode decodes the canonical forms of a valid Value without
// allocating more than the value itself needs. It reports false for
// anything else, including every invalid input, which the general path
// then reads (and rejects with its error).
func (v *Value) fastDecode(data []byte) bool {
	typ, value, b64, ok := fastValue(data)
	if !ok || len(typ) < 2 || typ[0] != '"' {
		return false
	}
	switch string(typ[1 : len(typ)-1]) {
	case "null":
		*v = Value{}
		return true
	case "integer":
		if len(value) < 2 || value[0] != '"' {
			return false
		}
		n, ok := parseInt64(value[1 : len(value)-1])
		if !ok {
			return false
		}
		*v = Value{Kind: Integer, Int: n}
		return true
	case "float":
		if len(value) == 0 || (value[0] != '-' && (value[0] < '0' || value[0] > '9')) {
			return false
		}
		// The text is not kept: an error (and its copy) is dropped.
		f, err := strconv.ParseFloat(unsafe.String(&value[0], len(value)), 64)
		if err != nil {
			return false
		}
		*v = Value{Kind: Float, Float: f}
		return true
	case "text":
		if len(value) < 2 || value[0] != '"' {
			return false
		}
		*v = Value{Kind: Text, Text: string(value[1 : len(value)-1])}
		return true
	case "blob":
		if len(b64) < 2 || b64[0] != '"' {
			return false
		}
		b, err := decodeBase64(b64[1 : len(b64)-1])
		if err != nil {
			return false
		}
		*v = Value{Kind: Blob, Blob: b}
		return true
	}
	return false
}

// parseInt64 reads -?[0-9]+ into an int64, reporting false on anything
// else or on overflow.
func parseInt64(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case neg && u <= 1<<63:
		return int64(-u), true // -(1<<63) wraps to MinInt64
	case !neg && u <= math.MaxInt64:
		return int64(u), true
	}
	return 0, false
}

// UnmarshalJSON implements json.Unmarshaler. It rejects anything that is
// not a well-formed Value: a missing or unknown type, an integer that is
// not a decimal string of an int64, a float that is not a JSON number
// (servers send null for NaN and ±Inf), text that is not a string, and a
// blob that is not valid standard base64 (padded or not).
func (v *Value) UnmarshalJSON(data []byte) error {
	data = trimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return &ValueError{Msg: "not a JSON object: " + abbrev(data)}
	}
	if v.fastDecode(data) {
		return nil
	}
	var w wireValue
	if !w.fast(data) {
		w = wireValue{}
		if err := json.Unmarshal(data, &w); err != nil {
			return &ValueError{Msg: "malformed", Err: err}
		}
	}
	if w.Type == nil {
		return &ValueError{Msg: `missing "type"`}
	}
	switch *w.Type {
	case "null":
		*v = Value{}
		return nil
	case "integer":
		s, ok := jsonString(w.Value)
		if !ok {
			return &ValueError{Kind: "integer", Msg: "the value must be a decimal string, got " + describeRaw(w.Value)}
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return &ValueError{Kind: "integer", Msg: strconv.Quote(abbrevString(s)) + " is not a 64-bit decimal integer", Err: unwrapNum(err)}
		}
		*v = Value{Kind: Integer, Int: n}
		return nil
	case "float":
		raw := trimSpace(w.Value)
		if len(raw) == 0 || string(raw) == "null" {
			return &ValueError{Kind: "float", Msg: "no number (a server sends null for NaN and ±Inf, which JSON cannot carry)"}
		}
		if c := raw[0]; c != '-' && (c < '0' || c > '9') {
			return &ValueError{Kind: "float", Msg: "the value must be a JSON number, got " + describeRaw(raw)}
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return &ValueError{Kind: "float", Msg: abbrev(raw) + " is not a finite float64", Err: unwrapNum(err)}
		}
		*v = Value{Kind: Float, Float: f}
		return nil
	case "text":
		s, ok := jsonString(w.Value)
		if !ok {
			return &ValueError{Kind: "text", Msg: "the value must be a string, got " + describeRaw(w.Value)}
		}
		*v = Value{Kind: Text, Text: s}
		return nil
	case "blob":
		if w.Base64 == nil {
			return &ValueError{Kind: "blob", Msg: `missing "base64" string`}
		}
		b, err := DecodeBase64(*w.Base64)
		if err != nil {
			return &ValueError{Kind: "blob", Msg: "bad base64", Err: err}
		}
		*v = Value{Kind: Blob, Blob: b}
		return nil
	}
	return &ValueError{Kind: *w.Type, Msg: "unknown value type"}
}

// DecodeBase64 decodes standard base64, padded or unpadded. It never
// returns nil for valid input: an empty string is an empty slice.
func DecodeBase64(s string) ([]byte, error) { return decodeBase64([]byte(s)) }

func decodeBase64(s []byte) ([]byte, error) {
	enc := base64.RawStdEncoding
	if len(s)%4 == 0 && len(s) > 0 && s[len(s)-1] == '=' {
		enc = base64.StdEncoding
	}
	out := make([]byte, enc.DecodedLen(len(s)))
	n, err := enc.Decode(out, s)
	if err != nil {
		return nil, err
	}
	return out[:n], nil
}

// jsonString decodes raw as a JSON string.
func jsonString(raw json.RawMessage) (string, bool) {
	raw = trimSpace(raw)
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	// Fast path: no escapes.
	plain := true
	for _, c := range raw[1 : len(raw)-1] {
		if c == '\\' || c == '"' || c < 0x20 {
			plain = false
			break
		}
	}
	if plain && raw[len(raw)-1] == '"' && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

func unwrapNum(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return ne.Err
	}
	return err
}

func describeRaw(raw json.RawMessage) string {
	raw = trimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	return abbrev(raw)
}

func abbrev(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

func abbrevString(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// String describes the value for messages and tests.
func (v Value) String() string {
	switch v.Kind {
	case Null:
		return "NULL"
	case Integer:
		return strconv.FormatInt(v.Int, 10)
	case Float:
		return strconv.FormatFloat(v.Float, 'g', -1, 64)
	case Text:
		return strconv.Quote(v.Text)
	case Blob:
		return fmt.Sprintf("x'%x'", v.Blob)
	}
	return v.Kind.String()
}
