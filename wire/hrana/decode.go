package hrana

import (
	"encoding/json"
	"strconv"
)

// DecodeError reports a message that is not valid JSON or does not have
// the protocol's shape: a missing field, a field of the wrong JSON type,
// an unknown request, response or value type, a malformed value.
type DecodeError struct {
	What string // "pipeline response", "pipeline request", ...
	Err  error
}

func (e *DecodeError) Error() string {
	return "hrana: malformed " + e.What + ": " + e.Err.Error()
}

func (e *DecodeError) Unwrap() error { return e.Err }

// shapeError is a protocol-shape problem found after JSON decoding.
type shapeError string

func (e shapeError) Error() string { return string(e) }

func shapef(parts ...string) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	return shapeError(b)
}

func itoa(i int) string { return strconv.Itoa(i) }

// DecodePipelineResponse decodes the body of a pipeline response. Any
// malformed input gives a *DecodeError; it never panics.
func DecodePipelineResponse(data []byte) (*PipelineResponse, error) {
	r, err := decodePipelineResponse(data)
	if err != nil {
		return nil, &DecodeError{What: "pipeline response", Err: err}
	}
	return r, nil
}

// DecodePipelineRequest decodes the body of a pipeline request, checking
// every request's required fields. Any malformed input gives a
// *DecodeError; it never panics.
func DecodePipelineRequest(data []byte) (*PipelineRequest, error) {
	r, err := decodePipelineRequest(data)
	if err != nil {
		return nil, &DecodeError{What: "pipeline request", Err: err}
	}
	return r, nil
}

// DecodeErrorBody decodes an error object such as the JSON body of a non-2xx
// pipeline response ({"message": ..., "code": ...}).
func DecodeErrorBody(data []byte) (*Error, error) {
	var w *wError
	if err := unmarshalObject(data, &w); err != nil {
		return nil, &DecodeError{What: "error", Err: err}
	}
	e, err := w.convert("error")
	if err != nil {
		return nil, &DecodeError{What: "error", Err: err}
	}
	return e, nil
}

// UnmarshalJSON implements json.Unmarshaler with DecodePipelineResponse's
// checks.
func (r *PipelineResponse) UnmarshalJSON(data []byte) error {
	out, err := decodePipelineResponse(data)
	if err != nil {
		return err
	}
	*r = *out
	return nil
}

// UnmarshalJSON implements json.Unmarshaler with DecodePipelineRequest's
// checks.
func (r *PipelineRequest) UnmarshalJSON(data []byte) error {
	out, err := decodePipelineRequest(data)
	if err != nil {
		return err
	}
	*r = *out
	return nil
}

// unmarshalObject decodes data, which must be a JSON object, into v.
func unmarshalObject(data []byte, v any) error {
	t := trimSpace(data)
	if len(t) == 0 || t[0] != '{' {
		if len(t) == 0 {
			return shapeError("empty input, want a JSON object")
		}
		if json.Valid(t) {
			return shapef("want a JSON object, got ", abbrev(t))
		}
	}
	return json.Unmarshal(data, v)
}

// ---- responses ----

type wPipelineResponse struct {
	Baton   *string          `json:"baton"`
	BaseURL *string          `json:"base_url"`
	Results []*wStreamResult `json:"results"`
}

type wStreamResult struct {
	Type     *string          `json:"type"`
	Response *wStreamResponse `json:"response"`
	Error    *wError          `json:"error"`
}

type wStreamResponse struct {
	Type         *string       `json:"type"`
	Result       *wResultUnion `json:"result"`
	IsAutocommit *bool         `json:"is_autocommit"`
}

// wResultUnion has the fields of every kind of "result" (a StmtResult, a
// BatchResult, a DescribeResult), so that a response is decoded in one
// pass whatever the order of "type" and "result"; the response's type
// then says which fields must be there.
type wResultUnion struct {
	wStmtResult
	StepResults []*wStmtResult    `json:"step_results"`
	StepErrors  []*wError         `json:"step_errors"`
	Params      []*wDescribeParam `json:"params"`
	IsExplain   *bool             `json:"is_explain"`
	IsReadonly  *bool             `json:"is_readonly"`
}

type wError struct {
	Message *string `json:"message"`
	Code    *string `json:"code"`
}

type wCol struct {
	Name     *string `json:"name"`
	Decltype *string `json:"decltype"`
}

type wStmtResult struct {
	Cols             []*wCol   `json:"cols"`
	Rows             [][]Value `json:"rows"`
	AffectedRowCount *uint64   `json:"affected_row_count"`
	LastInsertRowID  *string   `json:"last_insert_rowid"`
	RowsRead         *uint64   `json:"rows_read"`
	RowsWritten      *uint64   `json:"rows_written"`
	QueryDurationMS  *float64  `json:"query_duration_ms"`
	ReplicationIndex *string   `json:"replication_index"`
}

type wBatchResult struct {
	StepResults []*wStmtResult `json:"step_results"`
	StepErrors  []*wError      `json:"step_errors"`
}

type wDescribeParam struct {
	Name *string `json:"name"`
}

type wDescribeCol struct {
	Name     *string `json:"name"`
	Decltype *string `json:"decltype"`
}

type wDescribeResult struct {
	Params     []*wDescribeParam `json:"params"`
	Cols       []*wDescribeCol   `json:"cols"`
	IsExplain  *bool             `json:"is_explain"`
	IsReadonly *bool             `json:"is_readonly"`
}

func decodePipelineResponse(data []byte) (*PipelineResponse, error) {
	var w wPipelineResponse
	if !fastPipelineResponse(data, &w) {
		w = wPipelineResponse{}
		if err := unmarshalObject(data, &w); err != nil {
			return nil, err
		}
	}
	return w.convert()
}

func (w *wPipelineResponse) convert() (*PipelineResponse, error) {
	if w.Results == nil {
		return nil, shapeError(`missing "results" array`)
	}
	out := &PipelineResponse{Baton: w.Baton, BaseURL: w.BaseURL, Results: make([]StreamResult, len(w.Results))}
	for i, r := range w.Results {
		res, err := r.convert("results[" + itoa(i) + "]")
		if err != nil {
			return nil, err
		}
		out.Results[i] = res
	}
	return out, nil
}

func (r *wStreamResult) convert(where string) (StreamResult, error) {
	if r == nil {
		return StreamResult{}, shapef(where, " is null")
	}
	if r.Type == nil {
		return StreamResult{}, shapef(where, `: missing "type"`)
	}
	switch *r.Type {
	case "ok":
		if r.Response == nil {
			return StreamResult{}, shapef(where, `: "ok" result without a "response"`)
		}
		resp, err := r.Response.convert(where + ".response")
		if err != nil {
			return StreamResult{}, err
		}
		return StreamResult{Response: resp}, nil
	case "error":
		e, err := r.Error.convert(where + ".error")
		if err != nil {
			return StreamResult{}, err
		}
		return StreamResult{Error: e}, nil
	}
	return StreamResult{}, shapef(where, ": unknown result type ", strconv.Quote(*r.Type))
}

func (w *wError) convert(where string) (*Error, error) {
	if w == nil {
		return nil, shapef(where, ": missing error object")
	}
	if w.Message == nil {
		return nil, shapef(where, `: missing "message"`)
	}
	e := &Error{Message: *w.Message}
	if w.Code != nil {
		e.Code = *w.Code
	}
	return e, nil
}

func (w *wStreamResponse) convert(where string) (*StreamResponse, error) {
	if w.Type == nil {
		return nil, shapef(where, `: missing "type"`)
	}
	out := &StreamResponse{Type: *w.Type}
	var err error
	switch *w.Type {
	case TypeExecute, TypeBatch, TypeDescribe:
		if w.Result == nil {
			return nil, shapef(where, ": ", strconv.Quote(*w.Type), ` response without a "result" object`)
		}
	}
	rw := where + ".result"
	switch *w.Type {
	case TypeExecute:
		if out.Execute, err = w.Result.wStmtResult.convert(rw); err != nil {
			return nil, err
		}
	case TypeBatch:
		br := wBatchResult{StepResults: w.Result.StepResults, StepErrors: w.Result.StepErrors}
		if out.Batch, err = br.convert(rw); err != nil {
			return nil, err
		}
	case TypeDescribe:
		cols := make([]*wDescribeCol, len(w.Result.Cols))
		for i, c := range w.Result.Cols {
			if c != nil {
				cols[i] = &wDescribeCol{Name: c.Name, Decltype: c.Decltype}
			}
		}
		if w.Result.Cols == nil {
			cols = nil
		}
		dr := wDescribeResult{Params: w.Result.Params, Cols: cols, IsExplain: w.Result.IsExplain, IsReadonly: w.Result.IsReadonly}
		if out.Describe, err = dr.convert(rw); err != nil {
			return nil, err
		}
	case TypeGetAutocommit:
		if w.IsAutocommit == nil {
			return nil, shapef(where, `: get_autocommit response without "is_autocommit"`)
		}
		out.IsAutocommit = *w.IsAutocommit
	case TypeSequence, TypeStoreSQL, TypeCloseSQL, TypeClose:
	default:
		return nil, shapef(where, ": unknown response type ", strconv.Quote(*w.Type))
	}
	return out, nil
}

// wrapWhere prefixes an error with where it happened, keeping its type
// reachable through Unwrap.
func wrapWhere(where string, err error) error { return &whereError{where: where, err: err} }

type whereError struct {
	where string
	err   error
}

func (e *whereError) Error() string { return e.where + ": " + e.err.Error() }
func (e *whereError) Unwrap() error { return e.err }

func (w *wStmtResult) convert(where string) (*StmtResult, error) {
	if w.Cols == nil {
		return nil, shapef(where, `: missing "cols" array`)
	}
	if w.Rows == nil {
		return nil, shapef(where, `: missing "rows" array`)
	}
	if w.AffectedRowCount == nil {
		return nil, shapef(where, `: missing "affected_row_count"`)
	}
	out := &StmtResult{
		Cols:             make([]Col, len(w.Cols)),
		Rows:             w.Rows,
		AffectedRowCount: *w.AffectedRowCount,
		RowsRead:         w.RowsRead,
		RowsWritten:      w.RowsWritten,
		QueryDurationMS:  w.QueryDurationMS,
	}
	if w.ReplicationIndex != nil {
		n, err := strconv.ParseUint(*w.ReplicationIndex, 10, 64)
		if err != nil {
			return nil, shapef(where, `: "replication_index" is not an unsigned integer`)
		}
		out.ReplicationIndex = &n
	}
	for i, c := range w.Cols {
		if c == nil {
			return nil, shapef(where, ".cols[", itoa(i), "] is null")
		}
		out.Cols[i] = Col{Name: c.Name, Decltype: c.Decltype}
	}
	for i, row := range w.Rows {
		if row == nil {
			return nil, shapef(where, ".rows[", itoa(i), "] is not an array")
		}
		if len(row) != len(w.Cols) {
			return nil, shapef(where, ".rows[", itoa(i), "] has ", itoa(len(row)), " values for ", itoa(len(w.Cols)), " columns")
		}
	}
	if w.LastInsertRowID != nil {
		id, err := strconv.ParseInt(*w.LastInsertRowID, 10, 64)
		if err != nil {
			return nil, shapef(where, `: "last_insert_rowid" `, strconv.Quote(abbrevString(*w.LastInsertRowID)), " is not a 64-bit decimal integer")
		}
		out.LastInsertRowID = &id
	}
	return out, nil
}

func (w *wBatchResult) convert(where string) (*BatchResult, error) {
	if w.StepResults == nil {
		return nil, shapef(where, `: missing "step_results" array`)
	}
	if w.StepErrors == nil {
		return nil, shapef(where, `: missing "step_errors" array`)
	}
	if len(w.StepResults) != len(w.StepErrors) {
		return nil, shapef(where, ": ", itoa(len(w.StepResults)), " step results but ", itoa(len(w.StepErrors)), " step errors")
	}
	out := &BatchResult{StepResults: make([]*StmtResult, len(w.StepResults)), StepErrors: make([]*Error, len(w.StepErrors))}
	for i, r := range w.StepResults {
		if r == nil {
			continue
		}
		sr, err := r.convert(where + ".step_results[" + itoa(i) + "]")
		if err != nil {
			return nil, err
		}
		out.StepResults[i] = sr
	}
	for i, e := range w.StepErrors {
		if e == nil {
			continue
		}
		if out.StepResults[i] != nil {
			return nil, shapef(where, ": step ", itoa(i), " has both a result and an error")
		}
		ce, err := e.convert(where + ".step_errors[" + itoa(i) + "]")
		if err != nil {
			return nil, err
		}
		out.StepErrors[i] = ce
	}
	return out, nil
}

func (w *wDescribeResult) convert(where string) (*DescribeResult, error) {
	if w.Params == nil || w.Cols == nil || w.IsExplain == nil || w.IsReadonly == nil {
		return nil, shapef(where, `: a describe result needs "params", "cols", "is_explain" and "is_readonly"`)
	}
	out := &DescribeResult{Params: make([]DescribeParam, len(w.Params)), Cols: make([]DescribeCol, len(w.Cols)), IsExplain: *w.IsExplain, IsReadonly: *w.IsReadonly}
	for i, p := range w.Params {
		if p == nil {
			return nil, shapef(where, ".params[", itoa(i), "] is null")
		}
		out.Params[i] = DescribeParam{Name: p.Name}
	}
	for i, c := range w.Cols {
		if c == nil || c.Name == nil {
			return nil, shapef(where, ".cols[", itoa(i), `] needs a "name"`)
		}
		out.Cols[i] = DescribeCol{Name: *c.Name, Decltype: c.Decltype}
	}
	return out, nil
}

// ---- requests ----

type wPipelineRequest struct {
	Baton    *string           `json:"baton"`
	Requests []*wStreamRequest `json:"requests"`
}

type wStreamRequest struct {
	Type  *string `json:"type"`
	Stmt  *wStmt  `json:"stmt"`
	Batch *wBatch `json:"batch"`
	SQL   *string `json:"sql"`
	SQLID *int32  `json:"sql_id"`
}

type wStmt struct {
	SQL       *string      `json:"sql"`
	SQLID     *int32       `json:"sql_id"`
	Args      valueArray   `json:"args"`
	NamedArgs []*wNamedArg `json:"named_args"`
	WantRows  *bool        `json:"want_rows"`
}

type wNamedArg struct {
	Name  *string `json:"name"`
	Value *Value  `json:"value"`
}

type wBatch struct {
	Steps []*wBatchStep `json:"steps"`
}

type wBatchStep struct {
	Condition json.RawMessage `json:"condition"`
	Stmt      *wStmt          `json:"stmt"`
}

type wCond struct {
	Type  *string           `json:"type"`
	Step  *uint32           `json:"step"`
	Cond  json.RawMessage   `json:"cond"`
	Conds []json.RawMessage `json:"conds"`
}

func decodePipelineRequest(data []byte) (*PipelineRequest, error) {
	var w wPipelineRequest
	if err := unmarshalObject(data, &w); err != nil {
		return nil, err
	}
	if w.Requests == nil {
		return nil, shapeError(`missing "requests" array`)
	}
	out := &PipelineRequest{Baton: w.Baton, Requests: make([]StreamRequest, len(w.Requests))}
	for i, q := range w.Requests {
		where := "requests[" + itoa(i) + "]"
		if q == nil {
			return nil, shapef(where, " is null")
		}
		r, err := q.convert(where)
		if err != nil {
			return nil, err
		}
		out.Requests[i] = r
	}
	return out, nil
}

func (w *wStreamRequest) convert(where string) (StreamRequest, error) {
	if w.Type == nil {
		return StreamRequest{}, shapef(where, `: missing "type"`)
	}
	out := StreamRequest{Type: *w.Type}
	switch *w.Type {
	case TypeExecute:
		if w.Stmt == nil {
			return out, shapef(where, `: execute request without a "stmt"`)
		}
		s, err := w.Stmt.convert(where + ".stmt")
		if err != nil {
			return out, err
		}
		out.Stmt = &s
	case TypeBatch:
		if w.Batch == nil {
			return out, shapef(where, `: batch request without a "batch"`)
		}
		b, err := w.Batch.convert(where + ".batch")
		if err != nil {
			return out, err
		}
		out.Batch = b
	case TypeSequence, TypeDescribe:
		if (w.SQL == nil) == (w.SQLID == nil) {
			return out, shapef(where, ": ", *w.Type, ` request needs exactly one of "sql" and "sql_id"`)
		}
		out.SQL, out.SQLID = w.SQL, w.SQLID
	case TypeStoreSQL:
		if w.SQL == nil || w.SQLID == nil {
			return out, shapef(where, `: store_sql request needs "sql" and "sql_id"`)
		}
		out.SQL, out.SQLID = w.SQL, w.SQLID
	case TypeCloseSQL:
		if w.SQLID == nil {
			return out, shapef(where, `: close_sql request needs "sql_id"`)
		}
		out.SQLID = w.SQLID
	case TypeGetAutocommit, TypeClose:
	default:
		return out, shapef(where, ": unknown request type ", strconv.Quote(*w.Type))
	}
	return out, nil
}

func (w *wBatch) convert(where string) (*Batch, error) {
	if w.Steps == nil {
		return nil, shapef(where, `: missing "steps" array`)
	}
	b := &Batch{Steps: make([]BatchStep, len(w.Steps))}
	for i, st := range w.Steps {
		sw := where + ".steps[" + itoa(i) + "]"
		if st == nil || st.Stmt == nil {
			return nil, shapef(sw, `: a step needs a "stmt"`)
		}
		s, err := st.Stmt.convert(sw + ".stmt")
		if err != nil {
			return nil, err
		}
		b.Steps[i].Stmt = s
		if raw := trimSpace(st.Condition); len(raw) > 0 && string(raw) != "null" {
			c, err := decodeCond(raw, sw+".condition", 0)
			if err != nil {
				return nil, err
			}
			b.Steps[i].Condition = &c
		}
	}
	return b, nil
}

func (w *wStmt) convert(where string) (Stmt, error) {
	if (w.SQL == nil) == (w.SQLID == nil) {
		return Stmt{}, shapef(where, `: a stmt needs exactly one of "sql" and "sql_id"`)
	}
	out := Stmt{SQL: w.SQL, SQLID: w.SQLID, WantRows: w.WantRows}
	if len(w.Args) > 0 {
		out.Args = []Value(w.Args)
	}
	if len(w.NamedArgs) > 0 {
		out.NamedArgs = make([]NamedArg, len(w.NamedArgs))
		for i, a := range w.NamedArgs {
			if a == nil || a.Name == nil || a.Value == nil {
				return Stmt{}, shapef(where, ".named_args[", itoa(i), `] needs a "name" and a "value"`)
			}
			out.NamedArgs[i] = NamedArg{Name: *a.Name, Value: *a.Value}
		}
	}
	return out, nil
}

func decodeCond(raw []byte, where string, depth int) (BatchCond, error) {
	if depth > maxCondDepth {
		return BatchCond{}, shapef(where, ": conditions nested deeper than ", itoa(maxCondDepth))
	}
	var w wCond
	if err := unmarshalObject(raw, &w); err != nil {
		return BatchCond{}, wrapWhere(where, err)
	}
	if w.Type == nil {
		return BatchCond{}, shapef(where, `: missing "type"`)
	}
	out := BatchCond{Type: *w.Type}
	switch *w.Type {
	case CondTypeOK, CondTypeError:
		if w.Step == nil {
			return out, shapef(where, ": ", *w.Type, ` condition without a "step"`)
		}
		out.Step = *w.Step
	case CondTypeNot:
		inner := trimSpace(w.Cond)
		if len(inner) == 0 || string(inner) == "null" {
			return out, shapef(where, `: not condition without a "cond"`)
		}
		c, err := decodeCond(inner, where+".cond", depth+1)
		if err != nil {
			return out, err
		}
		out.Cond = &c
	case CondTypeAnd, CondTypeOr:
		if w.Conds == nil {
			return out, shapef(where, ": ", *w.Type, ` condition without "conds"`)
		}
		out.Conds = make([]BatchCond, len(w.Conds))
		for i, r := range w.Conds {
			c, err := decodeCond(r, where+".conds["+itoa(i)+"]", depth+1)
			if err != nil {
				return out, err
			}
			out.Conds[i] = c
		}
	case CondTypeIsAutocommit:
	default:
		return out, shapef(where, ": unknown condition type ", strconv.Quote(*w.Type))
	}
	return out, nil
}

// ---- json.Unmarshalers: the same checks as the decoders ----

// decodeInto decodes data, a JSON object, into the wire form W and
// converts it.
func decodeInto[W any, T any](data []byte, what string, convert func(*W, string) (T, error)) (T, error) {
	var w W
	var zero T
	if err := unmarshalObject(data, &w); err != nil {
		return zero, &DecodeError{What: what, Err: err}
	}
	out, err := convert(&w, what)
	if err != nil {
		return zero, &DecodeError{What: what, Err: err}
	}
	return out, nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (q *StreamRequest) UnmarshalJSON(data []byte) error {
	v, err := decodeInto(data, "stream request", (*wStreamRequest).convert)
	if err == nil {
		*q = v
	}
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *Stmt) UnmarshalJSON(data []byte) error {
	v, err := decodeInto(data, "stmt", (*wStmt).convert)
	if err == nil {
		*s = v
	}
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *Batch) UnmarshalJSON(data []byte) error {
	v, err := decodeInto(data, "batch", (*wBatch).convert)
	if err == nil {
		*b = *v
	}
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *BatchCond) UnmarshalJSON(data []byte) error {
	v, err := decodeCond(data, "condition", 0)
	if err != nil {
		return &DecodeError{What: "batch condition", Err: err}
	}
	*c = v
	return nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *StreamResult) UnmarshalJSON(data []byte) error {
	v, err := decodeInto(data, "stream result", (*wStreamResult).convert)
	if err == nil {
		*r = v
	}
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *StreamResponse) UnmarshalJSON(data []byte) error {
	v, err := decodeInto(data, "stream response", (*wStreamResponse).convert)
	if err == nil {
		*r = *v
	}
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *StmtResult) UnmarshalJSON(data []byte) error {
	v, err := decodeInto(data, "statement result", (*wStmtResult).convert)
	if err == nil {
		*r = *v
	}
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *BatchResult) UnmarshalJSON(data []byte) error {
	v, err := decodeInto(data, "batch result", (*wBatchResult).convert)
	if err == nil {
		*r = *v
	}
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *DescribeResult) UnmarshalJSON(data []byte) error {
	v, err := decodeInto(data, "describe result", (*wDescribeResult).convert)
	if err == nil {
		*r = *v
	}
	return err
}

// UnmarshalJSON implements json.Unmarshaler.
func (e *Error) UnmarshalJSON(data []byte) error {
	v, err := decodeInto(data, "error", (*wError).convert)
	if err == nil {
		*e = *v
	}
	return err
}

// valueArray is a JSON array of values decoded into a slice of exactly
// its length: encoding/json grows a slice as it reads, which for the
// largest requests (hundreds of thousands of arguments) allocated about
// five times the final slice.
type valueArray []Value

func (a *valueArray) UnmarshalJSON(data []byte) error {
	data = trimSpace(data)
	if string(data) == "null" {
		*a = nil
		return nil
	}
	n := 0
	if !eachElement(data, func([]byte) bool { n++; return true }) {
		return &ValueError{Msg: "want a JSON array of values, got " + abbrev(data)}
	}
	out := make([]Value, n)
	i := 0
	var err error
	eachElement(data, func(elem []byte) bool {
		err = out[i].UnmarshalJSON(elem)
		i++
		return err == nil
	})
	if err != nil {
		return err
	}
	*a = out
	return nil
}

// eachElement calls fn with each element of the JSON array data (which
// encoding/json has checked), until fn returns false. It reports false if
// data is not an array.
func eachElement(data []byte, fn func([]byte) bool) bool {
	if len(data) < 2 || data[0] != '[' || data[len(data)-1] != ']' {
		return false
	}
	body := data[1 : len(data)-1]
	depth, start := 0, 0
	inString := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case c == ',' && depth == 0:
			if !fn(body[start:i]) {
				return true
			}
			start = i + 1
		}
	}
	if len(trimSpace(body[start:])) > 0 {
		fn(body[start:])
	}
	return true
}
