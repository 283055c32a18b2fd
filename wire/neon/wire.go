// Package neon is the wire format of Neon's SQL over HTTP protocol, as the
// `neon()` function of @neondatabase/serverless 1.2 speaks it: the JSON
// bodies of requests and responses, the header names, the error body, and
// the text codecs of parameters and result cells. It does no I/O: forge's
// neon driver and forge's gateway both build on it.
//
// # Requests
//
// One statement is `{"query": "...", "params": [...]}`; a transaction is
// `{"queries": [{"query": ..., "params": [...]}, ...]}`, run by the server
// in one transaction. Parameters travel as PostgreSQL text (a JSON string)
// or NULL (JSON null): see [Param] and [EncodeParam].
//
// # Responses
//
// A statement's result is a [Result]: its fields (name and type OID of each
// column) and its rows. With the headers Neon-Raw-Text-Output: true and
// Neon-Array-Mode: true (which the real client always sends) every row is a
// JSON array and every cell PostgreSQL's text output as a JSON string, or
// null. A transaction's response is {"results": [...]}. A PostgreSQL error
// is HTTP 400 with an [Error] body.
//
// # Values
//
// [EncodeParam] writes a Go value as PostgreSQL text; [DecodeCell] reads a
// cell back by its type OID:
//
//	PostgreSQL type (OID)                  Go value of a cell     parameter from Go
//	int2 (21), int4 (23), int8 (20)        int64                  int64, int32, int: decimal
//	float4 (700), float8 (701)             float64 (NaN, ±Inf)    float64: strconv 'g' -1, NaN, Infinity, -Infinity
//	numeric (1700)                         string (exact)         -
//	bool (16)                              bool                   bool: true / false
//	bytea (17)                             []byte                 []byte: \x + hex (nil: NULL)
//	timestamptz (1184), timestamp (1114),  time.Time in UTC       time.Time: RFC 3339 in UTC, nanoseconds
//	date (1082)                                                     (years before 1: ... BC)
//	json (114), jsonb (3802)               string (the JSON text) -
//	text, varchar, uuid, anything else     string                 string: as is (must be UTF-8)
//	NULL                                   nil                    nil: JSON null
//
// A timestamp without time zone is read as UTC. ±infinity timestamps and
// malformed text are a [*CellError], never a panic or a silent change.
package neon

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The request headers of the protocol.
const (
	// HeaderConnectionString names the database: postgres://user:password@host/db.
	HeaderConnectionString = "Neon-Connection-String"
	// HeaderRawTextOutput "true" asks for every cell as PostgreSQL text.
	HeaderRawTextOutput = "Neon-Raw-Text-Output"
	// HeaderArrayMode "true" asks for rows as arrays rather than objects.
	HeaderArrayMode = "Neon-Array-Mode"
	// HeaderBatchIsolationLevel sets a transaction request's isolation level
	// (one of the Isolation constants).
	HeaderBatchIsolationLevel = "Neon-Batch-Isolation-Level"
	// HeaderBatchReadOnly "true" makes a transaction request read-only.
	HeaderBatchReadOnly = "Neon-Batch-Read-Only"
	// HeaderBatchDeferrable "true" makes a transaction request deferrable.
	HeaderBatchDeferrable = "Neon-Batch-Deferrable"
)

// The values of HeaderBatchIsolationLevel.
const (
	ReadUncommitted = "ReadUncommitted"
	ReadCommitted   = "ReadCommitted"
	RepeatableRead  = "RepeatableRead"
	Serializable    = "Serializable"
)

// IsolationSQL returns the SQL spelling ("REPEATABLE READ") of an isolation
// level header value, and false for a value the protocol does not know.
func IsolationSQL(level string) (string, bool) {
	switch level {
	case ReadUncommitted:
		return "READ UNCOMMITTED", true
	case ReadCommitted:
		return "READ COMMITTED", true
	case RepeatableRead:
		return "REPEATABLE READ", true
	case Serializable:
		return "SERIALIZABLE", true
	}
	return "", false
}

// HeaderTrue reports whether a boolean header is on. As on Neon's server,
// only the exact value "true" counts.
func HeaderTrue(value string) bool { return value == "true" }

// Param is one query parameter in PostgreSQL's text format. Valid false is
// SQL NULL (JSON null).
type Param struct {
	Text  string
	Valid bool
}

// TextParam returns a non-NULL parameter.
func TextParam(s string) Param { return Param{Text: s, Valid: true} }

// MarshalJSON writes the parameter as a JSON string, or null.
func (p Param) MarshalJSON() ([]byte, error) {
	if !p.Valid {
		return []byte("null"), nil
	}
	return marshalString(p.Text), nil
}

// UnmarshalJSON reads a parameter as Neon's server does: a string is the
// text itself, null is NULL, true/false and numbers become their JSON text,
// an object its JSON text, and an array a PostgreSQL array literal
// (`[1,"a",null,[2]]` becomes `{"1","a",NULL,{"2"}}`).
func (p *Param) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return &RequestError{Msg: "empty parameter"}
	}
	switch b[0] {
	case 'n':
		if string(b) != "null" {
			return &RequestError{Msg: "malformed parameter " + clip(string(b))}
		}
		*p = Param{}
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*p = TextParam(s)
	case '{':
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return err
		}
		*p = TextParam(buf.String())
	case '[':
		var v []any
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return err
		}
		s, err := appendArrayLiteral(nil, v)
		if err != nil {
			return err
		}
		*p = TextParam(string(s))
	default: // true, false or a number: its JSON text
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*p = TextParam(string(b))
	}
	return nil
}

// appendArrayLiteral writes a JSON array as a PostgreSQL array literal.
// Every element but NULL and nested arrays is double-quoted, with `"` and
// `\` escaped, so any element type reads it.
func appendArrayLiteral(b []byte, v []any) ([]byte, error) {
	b = append(b, '{')
	for i, e := range v {
		if i > 0 {
			b = append(b, ',')
		}
		var text string
		switch x := e.(type) {
		case nil:
			b = append(b, "NULL"...)
			continue
		case []any:
			var err error
			if b, err = appendArrayLiteral(b, x); err != nil {
				return nil, err
			}
			continue
		case string:
			text = x
		case bool:
			text = strconv.FormatBool(x)
		case json.Number:
			text = string(x)
		default: // an object
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(x); err != nil {
				return nil, err
			}
			text = strings.TrimSuffix(buf.String(), "\n")
		}
		b = append(b, '"')
		for j := 0; j < len(text); j++ {
			if c := text[j]; c == '"' || c == '\\' {
				b = append(b, '\\')
			}
			b = append(b, text[j])
		}
		b = append(b, '"')
	}
	return append(b, '}'), nil
}

// Query is one statement of a request.
type Query struct {
	Query  string  `json:"query"`
	Params []Param `json:"params"`
	// ArrayMode, when set, overrides the Neon-Array-Mode header for this
	// statement (the server accepts it; the JavaScript client never sends it).
	ArrayMode *bool `json:"arrayMode,omitempty"`
}

// Request is a request body: one statement, or a transaction of several.
type Request struct {
	// Transaction tells the forms apart: false is {query, params} with
	// exactly one element in Queries; true is {queries: [...]}.
	Transaction bool
	Queries     []Query
}

// MarshalJSON writes the request in its form. Nil params are written as [].
func (r Request) MarshalJSON() ([]byte, error) {
	qs := make([]Query, len(r.Queries))
	for i, q := range r.Queries {
		if q.Params == nil {
			q.Params = []Param{}
		}
		qs[i] = q
	}
	if r.Transaction {
		return json.Marshal(struct {
			Queries []Query `json:"queries"`
		}{qs})
	}
	if len(qs) != 1 {
		return nil, &RequestError{Msg: "a single-statement request needs exactly one query, not " + strconv.Itoa(len(qs))}
	}
	return json.Marshal(qs[0])
}

// RequestError reports a request body that is not a Neon request, or a
// request that cannot be written.
type RequestError struct{ Msg string }

func (e *RequestError) Error() string { return "neon: bad request: " + e.Msg }

// DecodeRequest reads a request body. As on Neon's server, an object with a
// "query" key is one statement and one with "queries" a transaction;
// unknown keys are ignored, and keys are case-sensitive. Anything else,
// including a body that is not valid UTF-8, is a *RequestError.
func DecodeRequest(body []byte) (*Request, error) {
	if !utf8.Valid(body) {
		return nil, &RequestError{Msg: "the body is not valid UTF-8"}
	}
	top, err := decodeObject(body, "the body")
	if err != nil {
		return nil, err
	}
	if _, ok := top["query"]; ok {
		q, err := decodeQuery(top, "")
		if err != nil {
			return nil, err
		}
		return &Request{Queries: []Query{q}}, nil
	}
	raw, ok := top["queries"]
	if !ok {
		return nil, &RequestError{Msg: `the body has neither "query" nor "queries"`}
	}
	var list []json.RawMessage
	if isNull(raw) || json.Unmarshal(raw, &list) != nil {
		return nil, &RequestError{Msg: `"queries" must be an array`}
	}
	req := &Request{Transaction: true, Queries: make([]Query, len(list))}
	for i, item := range list {
		where := "queries[" + strconv.Itoa(i) + "]"
		obj, err := decodeObject(item, where)
		if err != nil {
			return nil, err
		}
		if req.Queries[i], err = decodeQuery(obj, where+"."); err != nil {
			return nil, err
		}
	}
	return req, nil
}

func decodeObject(b []byte, what string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		var se *json.SyntaxError
		if len(bytes.TrimSpace(b)) == 0 {
			return nil, &RequestError{Msg: what + " is empty"}
		} else if errors.As(err, &se) {
			return nil, &RequestError{Msg: what + " is not valid JSON: " + err.Error()}
		}
		return nil, &RequestError{Msg: what + " must be a JSON object"}
	}
	if m == nil {
		return nil, &RequestError{Msg: what + " must be a JSON object, not null"}
	}
	return m, nil
}

func decodeQuery(m map[string]json.RawMessage, prefix string) (Query, error) {
	var q Query
	raw := m["query"]
	if raw == nil || isNull(raw) || json.Unmarshal(raw, &q.Query) != nil {
		return q, &RequestError{Msg: `"` + prefix + `query" must be a string`}
	}
	if raw, ok := m["params"]; ok && !isNull(raw) {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			return q, &RequestError{Msg: `"` + prefix + `params" must be an array`}
		}
		q.Params = make([]Param, len(list))
		for i, item := range list {
			if err := q.Params[i].UnmarshalJSON(item); err != nil {
				return q, &RequestError{Msg: `"` + prefix + `params[` + strconv.Itoa(i) + `]": ` + err.Error()}
			}
		}
	}
	if raw, ok := m["arrayMode"]; ok && !isNull(raw) {
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return q, &RequestError{Msg: `"` + prefix + `arrayMode" must be a boolean`}
		}
		q.ArrayMode = &b
	}
	return q, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// Field describes one column of a result.
type Field struct {
	Name             string `json:"name"`
	DataTypeID       uint32 `json:"dataTypeID"`
	TableID          uint32 `json:"tableID"`
	ColumnID         int    `json:"columnID"`
	DataTypeSize     int    `json:"dataTypeSize"`
	DataTypeModifier int32  `json:"dataTypeModifier"`
	Format           string `json:"format"`
}

// Result is the response to one statement in raw text, array mode: each
// row is an array of cells, each cell PostgreSQL's text output or nil for
// NULL. Fields and Rows must not be nil when it is written: the JavaScript
// client maps over both.
type Result struct {
	Command    string      `json:"command"`
	RowCount   *int64      `json:"rowCount"`
	RowAsArray bool        `json:"rowAsArray"`
	Fields     []Field     `json:"fields"`
	Rows       [][]*string `json:"rows"`
}

// TransactionResponse is the response to a transaction request.
type TransactionResponse struct {
	Results []Result `json:"results"`
}

// ParseCommandTag splits a PostgreSQL command tag as Neon's server does:
// the command is the first word and the row count the number after it
// (after the oid for INSERT), or nil when the tag has none ("CREATE TABLE").
func ParseCommandTag(tag string) (command string, rowCount *int64) {
	name, rest, ok := strings.Cut(tag, " ")
	if !ok {
		return tag, nil
	}
	if name == "INSERT" {
		if _, rest, ok = strings.Cut(rest, " "); !ok {
			return name, nil
		}
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return name, nil
	}
	return name, &n
}

// ResponseError reports a response that does not follow the protocol.
type ResponseError struct {
	Msg string
	Err error
}

func (e *ResponseError) Error() string {
	s := "neon: malformed response: " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *ResponseError) Unwrap() error { return e.Err }

// DecodeResult reads a single-statement response in raw text, array mode
// and checks its shape: fields and rows present, every row as long as the
// fields.
func DecodeResult(body []byte) (*Result, error) {
	var r Result
	if err := decodeResult(body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// DecodeTransactionResponse reads a transaction response and checks the
// shape of each result.
func DecodeTransactionResponse(body []byte) ([]Result, error) {
	var top struct {
		Results []json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, &ResponseError{Msg: "not a transaction response", Err: err}
	}
	if top.Results == nil {
		return nil, &ResponseError{Msg: `no "results" array`}
	}
	out := make([]Result, len(top.Results))
	for i, raw := range top.Results {
		if err := decodeResult(raw, &out[i]); err != nil {
			return nil, &ResponseError{Msg: "results[" + strconv.Itoa(i) + "]", Err: err}
		}
	}
	return out, nil
}

func decodeResult(body []byte, r *Result) error {
	if err := json.Unmarshal(body, r); err != nil {
		return &ResponseError{Msg: "not a result in raw text, array mode", Err: err}
	}
	if r.Fields == nil {
		return &ResponseError{Msg: `no "fields" array`}
	}
	if r.Rows == nil {
		return &ResponseError{Msg: `no "rows" array`}
	}
	for i, row := range r.Rows {
		if len(row) != len(r.Fields) {
			return &ResponseError{Msg: "row " + strconv.Itoa(i) + " has " + strconv.Itoa(len(row)) + " cells for " + strconv.Itoa(len(r.Fields)) + " fields"}
		}
	}
	return nil
}

// Error is a PostgreSQL error as Neon reports it (HTTP 400): Code is the
// SQLSTATE. Requests the server cannot read are reported with Message only.
type Error struct {
	Message          string `json:"message"`
	Code             string `json:"code,omitempty"`
	Severity         string `json:"severity,omitempty"`
	Detail           string `json:"detail,omitempty"`
	Hint             string `json:"hint,omitempty"`
	Position         string `json:"position,omitempty"`
	InternalPosition string `json:"internalPosition,omitempty"`
	InternalQuery    string `json:"internalQuery,omitempty"`
	Where            string `json:"where,omitempty"`
	Schema           string `json:"schema,omitempty"`
	Table            string `json:"table,omitempty"`
	Column           string `json:"column,omitempty"`
	DataType         string `json:"dataType,omitempty"`
	Constraint       string `json:"constraint,omitempty"`
	File             string `json:"file,omitempty"`
	Line             string `json:"line,omitempty"`
	Routine          string `json:"routine,omitempty"`
}

func (e *Error) Error() string {
	s := "neon: "
	if e.Severity != "" {
		s += e.Severity + ": "
	}
	s += e.Message
	if e.Code != "" {
		s += " (SQLSTATE " + e.Code + ")"
	}
	return s
}

// DecodeError reads an error body. Fields may be strings, numbers or null
// (servers differ on "position" and "line"); a body without a message is a
// *ResponseError.
func DecodeError(body []byte) (*Error, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, &ResponseError{Msg: "not an error object", Err: err}
	}
	text := func(key string) string {
		raw, ok := m[key]
		if !ok || isNull(raw) {
			return ""
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return string(bytes.TrimSpace(raw))
	}
	e := &Error{
		Message: text("message"), Code: text("code"), Severity: text("severity"),
		Detail: text("detail"), Hint: text("hint"), Position: text("position"),
		InternalPosition: text("internalPosition"), InternalQuery: text("internalQuery"),
		Where: text("where"), Schema: text("schema"), Table: text("table"),
		Column: text("column"), DataType: text("dataType"), Constraint: text("constraint"),
		File: text("file"), Line: text("line"), Routine: text("routine"),
	}
	if e.Message == "" {
		return nil, &ResponseError{Msg: `an error body without "message"`}
	}
	return e, nil
}

// marshalString writes s as a JSON string without HTML escaping.
func marshalString(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
