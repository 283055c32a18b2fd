// Package planetscale is the wire format of PlanetScale's HTTP API, as the
// @planetscale/database 1.20 client ("database-js") speaks it: the JSON
// bodies of requests and responses, the encoding of rows, the reading of
// cells by their Vitess type, the error body, and the MySQL literals that
// stand in for parameters (the protocol has none: the client sends the
// final SQL). It does no I/O: forge's planetscale driver and forge's
// gateway both build on it.
//
// # Requests
//
// POST /psdb.v1alpha1.Database/Execute with {"query": "<SQL>", "session":
// <the last response's session, or null>}; POST
// /psdb.v1alpha1.Database/CreateSession with {} returns a new session.
// Authentication is HTTP Basic (user name and password).
//
// # Responses
//
// Always HTTP 200 for a statement, with the session to send next and either
// a [Result] or an [Error] ({code, message}; a MySQL error's message ends
// "(errno N) (sqlstate S)"). A row is {"lengths": ["2", "-1", ...],
// "values": base64}: the cells' MySQL text bytes concatenated, each cell's
// byte length in lengths, -1 for NULL.
//
// # Values
//
// [Decoder] reads a cell by its field's Vitess type:
//
//	Vitess type                                Go value
//	INT8..INT64, UINT8..UINT32, YEAR           int64
//	UINT64                                     int64 (exact), or string when above math.MaxInt64
//	FLOAT32, FLOAT64                           float64 (FLOAT32 exactly as float32)
//	DECIMAL                                    string (exact decimal text)
//	DATETIME, TIMESTAMP, DATE                  time.Time in UTC
//	TIME                                       string
//	JSON                                       string (the JSON text)
//	BINARY, VARBINARY, BLOB, BIT, GEOMETRY,
//	  any field with charset 63 not above      []byte
//	VARCHAR, CHAR, TEXT, ENUM, SET, ...        string
//	NULL (length -1)                           nil
//
// A cell its type cannot hold (a zero date, an integer out of range) is a
// [*CellError], never a panic or a silent change.
package planetscale

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The API paths, served at the root of the origin.
const (
	PathExecute       = "/psdb.v1alpha1.Database/Execute"
	PathCreateSession = "/psdb.v1alpha1.Database/CreateSession"
	PathCloseSession  = "/psdb.v1alpha1.Database/CloseSession"
)

// BinaryCharset is the MySQL collation id of binary strings (charset 63).
const BinaryCharset = 63

// Request is the body of an Execute call.
type Request struct {
	Query string `json:"query"`
	// Session is the session the previous response returned, or null.
	Session json.RawMessage `json:"session"`
}

// Response is the body of an answer to Execute or CreateSession.
type Response struct {
	Session json.RawMessage `json:"session,omitempty"`
	Result  *Result         `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
	// Timing is the statement's time in seconds.
	Timing float64 `json:"timing,omitempty"`
}

// Result is a statement's result.
type Result struct {
	Fields       []Field `json:"fields,omitempty"`
	Rows         []Row   `json:"rows,omitempty"`
	RowsAffected Uint    `json:"rowsAffected,omitempty"`
	InsertID     Uint    `json:"insertId,omitempty"`
}

// Field describes a result column.
type Field struct {
	Name         string `json:"name"`
	Type         string `json:"type,omitempty"` // a Vitess type name; absent for an untyped NULL
	Table        string `json:"table,omitempty"`
	OrgTable     string `json:"orgTable,omitempty"`
	Database     string `json:"database,omitempty"`
	OrgName      string `json:"orgName,omitempty"`
	ColumnLength uint32 `json:"columnLength,omitempty"`
	Charset      uint32 `json:"charset,omitempty"`
	Flags        uint32 `json:"flags,omitempty"`
	Decimals     uint32 `json:"decimals,omitempty"`
}

// Row is one encoded row: the cells' bytes concatenated in Values (base64
// in JSON), each cell's length in Lengths (-1 for NULL).
type Row struct {
	Lengths []Int  `json:"lengths"`
	Values  []byte `json:"values,omitempty"`
}

// Int is a 64-bit integer sent as a JSON string ("-1"), as protobuf's JSON
// mapping does; a JSON number is accepted too.
type Int int64

// MarshalJSON implements json.Marshaler.
func (n Int) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, strconv.FormatInt(int64(n), 10)), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseInt(string(unquoteNumber(b)), 10, 64)
	if err != nil {
		return fmt.Errorf("want a 64-bit integer, got %s", clip(string(b)))
	}
	*n = Int(v)
	return nil
}

// Uint is an unsigned 64-bit integer sent as a JSON string ("43").
type Uint uint64

// MarshalJSON implements json.Marshaler.
func (n Uint) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, strconv.FormatUint(uint64(n), 10)), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Uint) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseUint(string(unquoteNumber(b)), 10, 64)
	if err != nil {
		return fmt.Errorf("want an unsigned 64-bit integer, got %s", clip(string(b)))
	}
	*n = Uint(v)
	return nil
}

func unquoteNumber(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}

// Error is an error the server reports: Code is a Vitess code name
// (ALREADY_EXISTS, INVALID_ARGUMENT, ...); a MySQL error's message carries
// its number and SQLSTATE, which [Error.Number] and [Error.SQLState] read.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if e.Code == "" {
		return "planetscale: " + e.Message
	}
	return "planetscale: " + e.Code + ": " + e.Message
}

// Number returns the MySQL error number the message carries ("(errno
// 1062)"), or 0.
func (e *Error) Number() int {
	s := lastTag(e.Message, "(errno ")
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}

// SQLState returns the SQLSTATE the message carries ("(sqlstate 23000)"),
// or "".
func (e *Error) SQLState() string { return lastTag(e.Message, "(sqlstate ") }

func lastTag(msg, tag string) string {
	i := strings.LastIndex(msg, tag)
	if i < 0 {
		return ""
	}
	rest := msg[i+len(tag):]
	j := strings.IndexByte(rest, ')')
	if j < 0 {
		return ""
	}
	return rest[:j]
}

// MySQLMessage returns the message of a MySQL error as this protocol
// carries it: "<text> (errno N) (sqlstate S)".
func MySQLMessage(text string, number int, sqlState string) string {
	return text + " (errno " + strconv.Itoa(number) + ") (sqlstate " + sqlState + ")"
}

// CodeFor returns the Vitess code name PlanetScale reports for a MySQL
// error number.
func CodeFor(number int) string {
	switch number {
	case 1062, 1022, 1050, 1007: // duplicate key, table or database exists
		return "ALREADY_EXISTS"
	case 1146, 1049, 1051, 1054, 1091: // unknown table, database, column or key
		return "NOT_FOUND"
	case 1044, 1045, 1142, 1143, 1227, 1370: // access denied
		return "PERMISSION_DENIED"
	case 1205, 1213: // lock wait timeout, deadlock
		return "ABORTED"
	case 3024, 1969: // max_execution_time, max_statement_time
		return "DEADLINE_EXCEEDED"
	case 1040, 1203: // too many connections
		return "RESOURCE_EXHAUSTED"
	}
	return "INVALID_ARGUMENT"
}

// ResponseError reports a response that does not follow the protocol.
type ResponseError struct {
	Msg string
	Err error
}

func (e *ResponseError) Error() string {
	s := "planetscale: malformed response: " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *ResponseError) Unwrap() error { return e.Err }

// DecodeResponse reads an Execute or CreateSession response and checks its
// shape: a session, and a result or an error.
func DecodeResponse(body []byte) (*Response, error) {
	var r Response
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&r); err != nil {
		return nil, &ResponseError{Msg: "not a response body", Err: err}
	}
	if dec.More() {
		return nil, &ResponseError{Msg: "data after the response body"}
	}
	if r.Error != nil && r.Result != nil {
		return nil, &ResponseError{Msg: "both a result and an error"}
	}
	if r.Result != nil {
		for i, row := range r.Result.Rows {
			if err := checkRow(row, len(r.Result.Fields)); err != nil {
				return nil, &ResponseError{Msg: "row " + strconv.Itoa(i) + ": " + err.Error()}
			}
		}
	}
	return &r, nil
}

// DecodeError reads the {"error": {...}} body of a non-2xx response.
func DecodeError(body []byte) (*Error, bool) {
	var r struct {
		Error *Error `json:"error"`
	}
	if json.Unmarshal(body, &r) != nil || r.Error == nil || r.Error.Message == "" && r.Error.Code == "" {
		return nil, false
	}
	return r.Error, true
}

func checkRow(row Row, nfields int) error {
	if len(row.Lengths) != nfields {
		return errors.New(strconv.Itoa(len(row.Lengths)) + " cells for " + strconv.Itoa(nfields) + " fields")
	}
	total := int64(0)
	for _, n := range row.Lengths {
		if n < -1 {
			return errors.New("a negative cell length")
		}
		if n > 0 {
			total += int64(n)
			if total > int64(len(row.Values)) {
				return errors.New("cell lengths beyond the row's " + strconv.Itoa(len(row.Values)) + " bytes")
			}
		}
	}
	if total != int64(len(row.Values)) {
		return errors.New("cell lengths sum to " + strconv.FormatInt(total, 10) + " of the row's " + strconv.Itoa(len(row.Values)) + " bytes")
	}
	return nil
}

// Cells splits a row into its cells (nil for NULL), sharing row.Values.
// The row must have passed DecodeResponse's check (or come from
// EncodeRow).
func Cells(row Row) ([][]byte, error) {
	if err := checkRow(row, len(row.Lengths)); err != nil {
		return nil, &ResponseError{Msg: err.Error()}
	}
	out := make([][]byte, len(row.Lengths))
	off := 0
	for i, n := range row.Lengths {
		if n < 0 {
			continue
		}
		if n == 0 {
			out[i] = []byte{}
			continue
		}
		out[i] = row.Values[off : off+int(n) : off+int(n)]
		off += int(n)
	}
	return out, nil
}

// AppendRow appends the JSON of a row of cells (nil for NULL) to b.
func AppendRow(b []byte, cells [][]byte) []byte {
	b = append(b, `{"lengths":[`...)
	total := 0
	for i, c := range cells {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		if c == nil {
			b = append(b, "-1"...)
		} else {
			b = strconv.AppendInt(b, int64(len(c)), 10)
			total += len(c)
		}
		b = append(b, '"')
	}
	b = append(b, ']')
	if total > 0 {
		b = append(b, `,"values":"`...)
		n := base64.StdEncoding.EncodedLen(total)
		start := len(b)
		b = append(b, make([]byte, n)...)
		raw := make([]byte, 0, total)
		for _, c := range cells {
			raw = append(raw, c...)
		}
		base64.StdEncoding.Encode(b[start:], raw)
		b = append(b, '"')
	}
	return append(b, '}')
}

// RowSize is the number of bytes AppendRow appends for cells, at most.
func RowSize(cells [][]byte) int {
	n, total := 32, 0
	for _, c := range cells {
		n += 24
		total += len(c)
	}
	return n + base64.StdEncoding.EncodedLen(total)
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
