package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/fetch"
)

// JSONEndpoint is an Endpoint that speaks the package's JSON protocol over
// a fetch.Fetcher.
type JSONEndpoint struct {
	URL    string
	Fetch  fetch.Fetcher
	Header fetch.Header // sent with every request (an Authorization, say)
}

// NewJSONEndpoint returns an Endpoint posting to url with f.
func NewJSONEndpoint(url string, f fetch.Fetcher, header fetch.Header) *JSONEndpoint {
	return &JSONEndpoint{URL: url, Fetch: f, Header: header}
}

// Run implements Endpoint.
func (e *JSONEndpoint) Run(ctx context.Context, stmts []Statement, atomic bool) ([]Result, error) {
	if e.Fetch == nil {
		return nil, errors.New("forge/remote: JSONEndpoint.Fetch is nil (nethttp.New(nil) on servers, jsfetch.New() in Workers)")
	}
	req := WireRequest{Atomic: atomic, Statements: make([]WireStatement, len(stmts))}
	for i, s := range stmts {
		req.Statements[i] = WireStatement{SQL: s.SQL, Args: WireValues(s.Args), Rows: s.Rows}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	h := append(fetch.Header{{Name: "Content-Type", Value: "application/json"}}, e.Header...)
	res, err := e.Fetch(ctx, &fetch.Request{Method: "POST", URL: e.URL, Header: h, Body: body})
	if err != nil {
		return nil, err
	}
	if res.Status/100 != 2 {
		var eb WireErrorBody
		if json.Unmarshal(res.Body, &eb) != nil || eb.Error.Message == "" {
			return nil, &fetch.StatusError{Status: res.Status, Body: string(res.Body)}
		}
		return nil, decodeError(eb.Error)
	}
	var wr WireResponse
	if err := json.Unmarshal(res.Body, &wr); err != nil {
		return nil, fmt.Errorf("forge/remote: bad response: %w", err)
	}
	if len(wr.Results) != len(stmts) {
		return nil, fmt.Errorf("forge/remote: %d results for %d statements", len(wr.Results), len(stmts))
	}
	out := make([]Result, len(wr.Results))
	for i, r := range wr.Results {
		out[i] = Result{Columns: r.Columns, RowsAffected: r.RowsAffected, LastInsertID: r.LastInsertID}
		out[i].Rows = make([][]any, len(r.Rows))
		for j, row := range r.Rows {
			if len(row) != len(r.Columns) {
				return nil, fmt.Errorf("forge/remote: a row of %d values for %d columns", len(row), len(r.Columns))
			}
			out[i].Rows[j] = GoValues(row)
		}
	}
	return out, nil
}

// RemoteError is an error reported by the server.
type RemoteError struct{ Message string }

func (e *RemoteError) Error() string { return "forge/remote: " + e.Message }

var kinds = map[string]driver.ConstraintKind{
	driver.Unique.String(): driver.Unique, driver.ForeignKey.String(): driver.ForeignKey,
	driver.NotNull.String(): driver.NotNull, driver.Check.String(): driver.Check,
}

func decodeError(w WireError) error {
	var err error = &RemoteError{Message: w.Message}
	if k, ok := kinds[w.Kind]; ok {
		err = &driver.ConstraintError{Kind: k, Constraint: w.Constraint, Table: w.Table, Columns: w.Columns, Err: err}
	}
	if w.Index != nil {
		err = &StatementError{Index: *w.Index, Err: err}
	}
	return err
}

// EncodeError describes err for the wire; index is the failing statement,
// or -1.
func EncodeError(err error, index int) WireError {
	w := WireError{Message: err.Error()}
	if index >= 0 {
		w.Index = &index
	}
	var ce *driver.ConstraintError
	if errors.As(err, &ce) {
		w.Kind, w.Constraint, w.Table, w.Columns = ce.Kind.String(), ce.Constraint, ce.Table, ce.Columns
		if ce.Err != nil {
			w.Message = ce.Err.Error()
		}
	}
	return w
}
