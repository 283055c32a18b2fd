package hrana

import (
	"math"
	"strconv"

	"github.com/forge-orm/forge/wire/jsonx"
)

// PipelineRequest is the body of POST /v2/pipeline (or /v3/pipeline): the
// stream's baton (nil on a stream's first request) and the requests to run
// on it, in order.
type PipelineRequest struct {
	Baton    *string
	Requests []StreamRequest
}

// PipelineResponse is the body of a 200 response to a pipeline request.
// Baton is nil when the server closed the stream; BaseURL, when set, is
// where the client must send the stream's next request.
type PipelineResponse struct {
	Baton   *string
	BaseURL *string
	Results []StreamResult // one per request, in order
}

// The types of stream requests (and of their responses).
const (
	TypeExecute       = "execute"
	TypeBatch         = "batch"
	TypeSequence      = "sequence"
	TypeDescribe      = "describe"
	TypeStoreSQL      = "store_sql"
	TypeCloseSQL      = "close_sql"
	TypeGetAutocommit = "get_autocommit" // Hrana 3
	TypeClose         = "close"
)

// StreamRequest is one request of a pipeline. Type says which fields are
// used:
//
//	execute         Stmt
//	batch           Batch
//	sequence        SQL or SQLID (several ';'-separated statements, rows ignored)
//	describe        SQL or SQLID
//	store_sql       SQLID and SQL (the text is remembered for the stream)
//	close_sql       SQLID
//	get_autocommit  (Hrana 3)
//	close           (closes the stream)
type StreamRequest struct {
	Type  string
	Stmt  *Stmt
	Batch *Batch
	SQL   *string
	SQLID *int32
}

// ExecuteRequest returns an execute request.
func ExecuteRequest(s Stmt) StreamRequest { return StreamRequest{Type: TypeExecute, Stmt: &s} }

// BatchRequest returns a batch request.
func BatchRequest(steps ...BatchStep) StreamRequest {
	return StreamRequest{Type: TypeBatch, Batch: &Batch{Steps: steps}}
}

// SequenceRequest returns a sequence request for sql.
func SequenceRequest(sql string) StreamRequest { return StreamRequest{Type: TypeSequence, SQL: &sql} }

// DescribeRequest returns a describe request for sql.
func DescribeRequest(sql string) StreamRequest { return StreamRequest{Type: TypeDescribe, SQL: &sql} }

// StoreSQLRequest returns a store_sql request.
func StoreSQLRequest(id int32, sql string) StreamRequest {
	return StreamRequest{Type: TypeStoreSQL, SQLID: &id, SQL: &sql}
}

// CloseSQLRequest returns a close_sql request.
func CloseSQLRequest(id int32) StreamRequest { return StreamRequest{Type: TypeCloseSQL, SQLID: &id} }

// GetAutocommitRequest returns a get_autocommit request (Hrana 3).
func GetAutocommitRequest() StreamRequest { return StreamRequest{Type: TypeGetAutocommit} }

// CloseRequest returns a close request.
func CloseRequest() StreamRequest { return StreamRequest{Type: TypeClose} }

// Stmt is one SQL statement with its arguments. Exactly one of SQL and
// SQLID is set. Args are positional, NamedArgs named (names as the user
// wrote them, with or without a prefix); servers reject both at once.
// WantRows nil means true.
type Stmt struct {
	SQL       *string
	SQLID     *int32
	Args      []Value
	NamedArgs []NamedArg
	WantRows  *bool
}

// NewStmt returns a statement of sql with positional args.
func NewStmt(sql string, args []Value, wantRows bool) Stmt {
	return Stmt{SQL: &sql, Args: args, WantRows: &wantRows}
}

// WantsRows reports whether the statement asks for rows (the default).
func (s *Stmt) WantsRows() bool { return s.WantRows == nil || *s.WantRows }

// NamedArg is a named argument.
type NamedArg struct {
	Name  string `json:"name"`
	Value Value  `json:"value"`
}

// Batch is a list of steps run in order on one stream; a step with a
// condition runs only when the condition holds.
type Batch struct {
	Steps []BatchStep
}

// BatchStep is one step of a batch.
type BatchStep struct {
	Condition *BatchCond
	Stmt      Stmt
}

// The types of batch conditions.
const (
	CondTypeOK           = "ok"
	CondTypeError        = "error"
	CondTypeNot          = "not"
	CondTypeAnd          = "and"
	CondTypeOr           = "or"
	CondTypeIsAutocommit = "is_autocommit" // Hrana 3
)

// BatchCond is a condition on earlier steps of a batch:
//
//	ok             Step succeeded
//	error          Step failed
//	not            Cond does not hold
//	and, or        of Conds
//	is_autocommit  the connection is outside a transaction (Hrana 3)
type BatchCond struct {
	Type  string
	Step  uint32
	Cond  *BatchCond
	Conds []BatchCond
}

// CondOK holds when step succeeded.
func CondOK(step uint32) BatchCond { return BatchCond{Type: CondTypeOK, Step: step} }

// CondError holds when step failed.
func CondError(step uint32) BatchCond { return BatchCond{Type: CondTypeError, Step: step} }

// CondNot holds when c does not.
func CondNot(c BatchCond) BatchCond { return BatchCond{Type: CondTypeNot, Cond: &c} }

// CondAnd holds when every one of cs holds.
func CondAnd(cs ...BatchCond) BatchCond { return BatchCond{Type: CondTypeAnd, Conds: cs} }

// CondOr holds when any of cs holds.
func CondOr(cs ...BatchCond) BatchCond { return BatchCond{Type: CondTypeOr, Conds: cs} }

// CondIsAutocommit holds when the connection is in autocommit mode (Hrana 3).
func CondIsAutocommit() BatchCond { return BatchCond{Type: CondTypeIsAutocommit} }

// StreamResult is the outcome of one stream request: Error when it
// failed, else Response.
type StreamResult struct {
	Response *StreamResponse
	Error    *Error
}

// StreamResponse is the response to a successful stream request. Type
// matches the request's; the field for that type is set.
type StreamResponse struct {
	Type         string
	Execute      *StmtResult     // execute
	Batch        *BatchResult    // batch
	Describe     *DescribeResult // describe
	IsAutocommit bool            // get_autocommit
}

// StmtResult is the result of one statement.
type StmtResult struct {
	Cols             []Col
	Rows             [][]Value
	AffectedRowCount uint64
	LastInsertRowID  *int64 // nil when the statement inserted no row
	// Optional (Hrana 3; sqld sends them on v2 too).
	RowsRead        *uint64
	RowsWritten     *uint64
	QueryDurationMS *float64
	// ReplicationIndex is sqld's position in its replication log after the
	// statement (a string on the wire); nil when the server sends none.
	ReplicationIndex *uint64
}

// Col describes a result column; Name and Decltype may be null.
type Col struct {
	Name     *string `json:"name"`
	Decltype *string `json:"decltype"`
}

// BatchResult holds one entry per step: the step's result, or its error,
// or neither when the step did not run (its condition was false).
type BatchResult struct {
	StepResults []*StmtResult
	StepErrors  []*Error
}

// DescribeResult describes a statement without running it.
type DescribeResult struct {
	Params     []DescribeParam
	Cols       []DescribeCol
	IsExplain  bool
	IsReadonly bool
}

// DescribeParam is a statement parameter; Name is nil for "?".
type DescribeParam struct {
	Name *string `json:"name"`
}

// DescribeCol is a column of a described statement.
type DescribeCol struct {
	Name     string  `json:"name"`
	Decltype *string `json:"decltype"`
}

// Error is an error reported by the server, for one request or step, or
// for a whole pipeline (the JSON body of a non-2xx response). Code is
// optional, such as "SQLITE_CONSTRAINT" or "STREAM_EXPIRED".
type Error struct {
	Message string
	Code    string
}

func (e *Error) Error() string {
	if e.Code == "" {
		return e.Message
	}
	return e.Code + ": " + e.Message
}

// Version returns the lowest protocol version that can carry r: 3 when it
// uses get_autocommit or an is_autocommit condition, else 2.
func (r *PipelineRequest) Version() int {
	for i := range r.Requests {
		q := &r.Requests[i]
		if q.Type == TypeGetAutocommit {
			return 3
		}
		if q.Batch != nil {
			for _, s := range q.Batch.Steps {
				if s.Condition != nil && s.Condition.usesAutocommit(0) {
					return 3
				}
			}
		}
	}
	return 2
}

func (c *BatchCond) usesAutocommit(depth int) bool {
	if c == nil || depth > maxCondDepth {
		return false
	}
	switch c.Type {
	case CondTypeIsAutocommit:
		return true
	case CondTypeNot:
		return c.Cond.usesAutocommit(depth + 1)
	}
	for i := range c.Conds {
		if c.Conds[i].usesAutocommit(depth + 1) {
			return true
		}
	}
	return false
}

// maxCondDepth bounds the nesting of batch conditions, on encode and
// decode.
const maxCondDepth = 64

// ---- encoding ----

// EncodeError reports a message that cannot be encoded: a required field
// missing, an unknown type, a float JSON cannot carry.
type EncodeError struct {
	Msg string
	Err error
}

func (e *EncodeError) Error() string {
	s := "hrana: cannot encode " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *EncodeError) Unwrap() error { return e.Err }

func encErr(msg string) error { return &EncodeError{Msg: msg} }

// MarshalJSON implements json.Marshaler.
func (r PipelineRequest) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil) }

// AppendJSON appends r's JSON form to dst.
func (r *PipelineRequest) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, '{')
	if r.Baton != nil {
		dst = append(dst, `"baton":`...)
		dst = jsonx.AppendString(dst, *r.Baton)
		dst = append(dst, ',')
	}
	dst = append(dst, `"requests":[`...)
	for i := range r.Requests {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = r.Requests[i].AppendJSON(dst); err != nil {
			return dst, wrapEnc("request "+strconv.Itoa(i), err)
		}
	}
	return append(dst, "]}"...), nil
}

func wrapEnc(where string, err error) error {
	if ee, ok := err.(*EncodeError); ok {
		return &EncodeError{Msg: where + ": " + ee.Msg, Err: ee.Err}
	}
	return &EncodeError{Msg: where, Err: err}
}

// MarshalJSON implements json.Marshaler.
func (q StreamRequest) MarshalJSON() ([]byte, error) { return q.AppendJSON(nil) }

// AppendJSON appends q's JSON form to dst.
func (q *StreamRequest) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"type":`...)
	dst = jsonx.AppendString(dst, q.Type)
	var err error
	switch q.Type {
	case TypeExecute:
		if q.Stmt == nil {
			return dst, encErr("execute request without a stmt")
		}
		dst = append(dst, `,"stmt":`...)
		if dst, err = q.Stmt.AppendJSON(dst); err != nil {
			return dst, err
		}
	case TypeBatch:
		if q.Batch == nil {
			return dst, encErr("batch request without a batch")
		}
		dst = append(dst, `,"batch":`...)
		if dst, err = q.Batch.AppendJSON(dst); err != nil {
			return dst, err
		}
	case TypeSequence, TypeDescribe:
		if (q.SQL == nil) == (q.SQLID == nil) {
			return dst, encErr(q.Type + " request needs exactly one of sql and sql_id")
		}
		dst = appendSQL(dst, q.SQL, q.SQLID)
	case TypeStoreSQL:
		if q.SQL == nil || q.SQLID == nil {
			return dst, encErr("store_sql request needs sql and sql_id")
		}
		dst = append(dst, `,"sql_id":`...)
		dst = strconv.AppendInt(dst, int64(*q.SQLID), 10)
		dst = append(dst, `,"sql":`...)
		dst = jsonx.AppendString(dst, *q.SQL)
	case TypeCloseSQL:
		if q.SQLID == nil {
			return dst, encErr("close_sql request without a sql_id")
		}
		dst = append(dst, `,"sql_id":`...)
		dst = strconv.AppendInt(dst, int64(*q.SQLID), 10)
	case TypeGetAutocommit, TypeClose:
	default:
		return dst, encErr("request of unknown type " + strconv.Quote(q.Type))
	}
	return append(dst, '}'), nil
}

func appendSQL(dst []byte, sql *string, id *int32) []byte {
	if sql != nil {
		dst = append(dst, `,"sql":`...)
		return jsonx.AppendString(dst, *sql)
	}
	dst = append(dst, `,"sql_id":`...)
	return strconv.AppendInt(dst, int64(*id), 10)
}

// MarshalJSON implements json.Marshaler.
func (s Stmt) MarshalJSON() ([]byte, error) { return s.AppendJSON(nil) }

// AppendJSON appends s's JSON form to dst. args and named_args are always
// written (as the JavaScript client does); want_rows when set.
func (s *Stmt) AppendJSON(dst []byte) ([]byte, error) {
	if (s.SQL == nil) == (s.SQLID == nil) {
		return dst, encErr("stmt needs exactly one of sql and sql_id")
	}
	dst = append(dst, '{')
	if s.SQL != nil {
		dst = append(dst, `"sql":`...)
		dst = jsonx.AppendString(dst, *s.SQL)
	} else {
		dst = append(dst, `"sql_id":`...)
		dst = strconv.AppendInt(dst, int64(*s.SQLID), 10)
	}
	dst = append(dst, `,"args":[`...)
	var err error
	for i, a := range s.Args {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, err = a.AppendJSON(dst); err != nil {
			return dst, wrapEnc("argument "+strconv.Itoa(i+1), err)
		}
	}
	dst = append(dst, `],"named_args":[`...)
	for i, a := range s.NamedArgs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"name":`...)
		dst = jsonx.AppendString(dst, a.Name)
		dst = append(dst, `,"value":`...)
		if dst, err = a.Value.AppendJSON(dst); err != nil {
			return dst, wrapEnc("argument "+strconv.Quote(a.Name), err)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if s.WantRows != nil {
		dst = append(dst, `,"want_rows":`...)
		dst = strconv.AppendBool(dst, *s.WantRows)
	}
	return append(dst, '}'), nil
}

// AppendJSON appends b's JSON form to dst.
func (b *Batch) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"steps":[`...)
	var err error
	for i := range b.Steps {
		st := &b.Steps[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '{')
		if st.Condition != nil {
			dst = append(dst, `"condition":`...)
			if dst, err = st.Condition.appendJSON(dst, 0); err != nil {
				return dst, wrapEnc("batch step "+strconv.Itoa(i), err)
			}
			dst = append(dst, ',')
		}
		dst = append(dst, `"stmt":`...)
		if dst, err = st.Stmt.AppendJSON(dst); err != nil {
			return dst, wrapEnc("batch step "+strconv.Itoa(i), err)
		}
		dst = append(dst, '}')
	}
	return append(dst, "]}"...), nil
}

// MarshalJSON implements json.Marshaler.
func (c BatchCond) MarshalJSON() ([]byte, error) { return c.appendJSON(nil, 0) }

func (c *BatchCond) appendJSON(dst []byte, depth int) ([]byte, error) {
	if depth > maxCondDepth {
		return dst, encErr("batch condition nested deeper than " + strconv.Itoa(maxCondDepth))
	}
	dst = append(dst, `{"type":`...)
	dst = jsonx.AppendString(dst, c.Type)
	var err error
	switch c.Type {
	case CondTypeOK, CondTypeError:
		dst = append(dst, `,"step":`...)
		dst = strconv.AppendUint(dst, uint64(c.Step), 10)
	case CondTypeNot:
		if c.Cond == nil {
			return dst, encErr("not condition without a cond")
		}
		dst = append(dst, `,"cond":`...)
		if dst, err = c.Cond.appendJSON(dst, depth+1); err != nil {
			return dst, err
		}
	case CondTypeAnd, CondTypeOr:
		dst = append(dst, `,"conds":[`...)
		for i := range c.Conds {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = c.Conds[i].appendJSON(dst, depth+1); err != nil {
				return dst, err
			}
		}
		dst = append(dst, ']')
	case CondTypeIsAutocommit:
	default:
		return dst, encErr("batch condition of unknown type " + strconv.Quote(c.Type))
	}
	return append(dst, '}'), nil
}

// MarshalJSON implements json.Marshaler.
func (r PipelineResponse) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil) }

// MarshalJSON implements json.Marshaler.
func (r StreamResult) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil) }

// MarshalJSON implements json.Marshaler.
func (r StreamResponse) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil) }

// MarshalJSON implements json.Marshaler.
func (r StmtResult) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil) }

// MarshalJSON implements json.Marshaler.
func (r BatchResult) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil) }

// MarshalJSON implements json.Marshaler.
func (r DescribeResult) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// MarshalJSON implements json.Marshaler.
func (e Error) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil), nil }

// MarshalJSON implements json.Marshaler.
func (b Batch) MarshalJSON() ([]byte, error) { return b.AppendJSON(nil) }

// AppendJSON appends r's JSON form to dst (baton and base_url always
// present, null when nil).
func (r *PipelineResponse) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"baton":`...)
	dst = appendOptString(dst, r.Baton)
	dst = append(dst, `,"base_url":`...)
	dst = appendOptString(dst, r.BaseURL)
	dst = append(dst, `,"results":[`...)
	var err error
	for i := range r.Results {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, err = r.Results[i].AppendJSON(dst); err != nil {
			return dst, wrapEnc("result "+strconv.Itoa(i), err)
		}
	}
	return append(dst, "]}"...), nil
}

func appendOptString(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return jsonx.AppendString(dst, *s)
}

// AppendJSON appends r's JSON form to dst.
func (r *StreamResult) AppendJSON(dst []byte) ([]byte, error) {
	if r.Error != nil {
		dst = append(dst, `{"type":"error","error":`...)
		dst = r.Error.AppendJSON(dst)
		return append(dst, '}'), nil
	}
	if r.Response == nil {
		return dst, encErr("stream result with neither a response nor an error")
	}
	dst = append(dst, `{"type":"ok","response":`...)
	dst, err := r.Response.AppendJSON(dst)
	if err != nil {
		return dst, err
	}
	return append(dst, '}'), nil
}

// AppendJSON appends e's JSON form to dst.
func (e *Error) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"message":`...)
	dst = jsonx.AppendString(dst, e.Message)
	if e.Code != "" {
		dst = append(dst, `,"code":`...)
		dst = jsonx.AppendString(dst, e.Code)
	}
	return append(dst, '}')
}

// AppendJSON appends r's JSON form to dst.
func (r *StreamResponse) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"type":`...)
	dst = jsonx.AppendString(dst, r.Type)
	var err error
	switch r.Type {
	case TypeExecute:
		if r.Execute == nil {
			return dst, encErr("execute response without a result")
		}
		dst = append(dst, `,"result":`...)
		if dst, err = r.Execute.AppendJSON(dst); err != nil {
			return dst, err
		}
	case TypeBatch:
		if r.Batch == nil {
			return dst, encErr("batch response without a result")
		}
		dst = append(dst, `,"result":`...)
		if dst, err = r.Batch.AppendJSON(dst); err != nil {
			return dst, err
		}
	case TypeDescribe:
		if r.Describe == nil {
			return dst, encErr("describe response without a result")
		}
		dst = append(dst, `,"result":`...)
		dst = r.Describe.AppendJSON(dst)
	case TypeGetAutocommit:
		dst = append(dst, `,"is_autocommit":`...)
		dst = strconv.AppendBool(dst, r.IsAutocommit)
	case TypeSequence, TypeStoreSQL, TypeCloseSQL, TypeClose:
	default:
		return dst, encErr("response of unknown type " + strconv.Quote(r.Type))
	}
	return append(dst, '}'), nil
}

// AppendJSON appends r's JSON form to dst.
func (r *StmtResult) AppendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"cols":[`...)
	for i, c := range r.Cols {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"name":`...)
		dst = appendOptString(dst, c.Name)
		dst = append(dst, `,"decltype":`...)
		dst = appendOptString(dst, c.Decltype)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"rows":[`...)
	var err error
	for i, row := range r.Rows {
		if len(row) != len(r.Cols) {
			return dst, encErr("row " + strconv.Itoa(i) + " has " + strconv.Itoa(len(row)) + " values for " + strconv.Itoa(len(r.Cols)) + " columns")
		}
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		for j, v := range row {
			if j > 0 {
				dst = append(dst, ',')
			}
			if dst, err = v.AppendJSON(dst); err != nil {
				return dst, wrapEnc("row "+strconv.Itoa(i)+" column "+strconv.Itoa(j), err)
			}
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `],"affected_row_count":`...)
	dst = strconv.AppendUint(dst, r.AffectedRowCount, 10)
	dst = append(dst, `,"last_insert_rowid":`...)
	if r.LastInsertRowID == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '"')
		dst = strconv.AppendInt(dst, *r.LastInsertRowID, 10)
		dst = append(dst, '"')
	}
	if r.RowsRead != nil {
		dst = append(dst, `,"rows_read":`...)
		dst = strconv.AppendUint(dst, *r.RowsRead, 10)
	}
	if r.RowsWritten != nil {
		dst = append(dst, `,"rows_written":`...)
		dst = strconv.AppendUint(dst, *r.RowsWritten, 10)
	}
	if r.ReplicationIndex != nil {
		dst = append(dst, `,"replication_index":"`...)
		dst = strconv.AppendUint(dst, *r.ReplicationIndex, 10)
		dst = append(dst, '"')
	}
	if r.QueryDurationMS != nil {
		d := *r.QueryDurationMS
		if math.IsNaN(d) || math.IsInf(d, 0) {
			return dst, encErr("query_duration_ms that is not finite")
		}
		dst = append(dst, `,"query_duration_ms":`...)
		dst = appendFloat(dst, d)
	}
	return append(dst, '}'), nil
}

// AppendJSON appends r's JSON form to dst.
func (r *BatchResult) AppendJSON(dst []byte) ([]byte, error) {
	if len(r.StepResults) != len(r.StepErrors) {
		return dst, encErr("batch result with " + strconv.Itoa(len(r.StepResults)) + " step results and " + strconv.Itoa(len(r.StepErrors)) + " step errors")
	}
	dst = append(dst, `{"step_results":[`...)
	var err error
	for i, s := range r.StepResults {
		if i > 0 {
			dst = append(dst, ',')
		}
		if s == nil {
			dst = append(dst, "null"...)
			continue
		}
		if dst, err = s.AppendJSON(dst); err != nil {
			return dst, wrapEnc("step "+strconv.Itoa(i), err)
		}
	}
	dst = append(dst, `],"step_errors":[`...)
	for i, e := range r.StepErrors {
		if i > 0 {
			dst = append(dst, ',')
		}
		if e == nil {
			dst = append(dst, "null"...)
			continue
		}
		dst = e.AppendJSON(dst)
	}
	return append(dst, "]}"...), nil
}

// AppendJSON appends r's JSON form to dst.
func (r *DescribeResult) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"params":[`...)
	for i, p := range r.Params {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"name":`...)
		dst = appendOptString(dst, p.Name)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"cols":[`...)
	for i, c := range r.Cols {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"name":`...)
		dst = jsonx.AppendString(dst, c.Name)
		dst = append(dst, `,"decltype":`...)
		dst = appendOptString(dst, c.Decltype)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"is_explain":`...)
	dst = strconv.AppendBool(dst, r.IsExplain)
	dst = append(dst, `,"is_readonly":`...)
	dst = strconv.AppendBool(dst, r.IsReadonly)
	return append(dst, '}')
}
