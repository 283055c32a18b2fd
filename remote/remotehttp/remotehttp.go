// Package remotehttp serves forge's remote JSON protocol over net/http in
// front of any forge driver, so that remote.NewJSONEndpoint (for example in
// a Worker, over the runtime's fetch) can reach a database the edge cannot
// open itself. It is for servers: edge builds use package remote only.
package remotehttp

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"time"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/remote"
)

// Options configure Handler.
type Options struct {
	// Token, when set, is required as "Authorization: Bearer <Token>".
	Token string
	// MaxBody limits the request body (default 4 MiB).
	MaxBody int64
	// MaxStatements limits statements per request (default 1000).
	MaxStatements int
}

// Handler serves the protocol in front of conn. Atomic requests run in a
// transaction (or one batch, on drivers that only batch); a driver with
// neither refuses them.
func Handler(conn driver.Conn, opts Options) http.Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = 4 << 20
	}
	if opts.MaxStatements <= 0 {
		opts.MaxStatements = 1000
	}
	return &handler{conn: conn, opts: opts}
}

type handler struct {
	conn driver.Conn
	opts Options
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		fail(w, http.StatusMethodNotAllowed, errors.New("use POST"), -1)
		return
	}
	if h.opts.Token != "" {
		want := "Bearer " + h.opts.Token
		got := r.Header.Get("Authorization")
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			fail(w, http.StatusUnauthorized, errors.New("missing or wrong bearer token"), -1)
			return
		}
	}
	var req remote.WireRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, h.opts.MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		status := http.StatusBadRequest
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			status = http.StatusRequestEntityTooLarge
		}
		fail(w, status, fmt.Errorf("bad request body: %w", err), -1)
		return
	}
	if len(req.Statements) == 0 || len(req.Statements) > h.opts.MaxStatements {
		fail(w, http.StatusBadRequest, fmt.Errorf("a request holds 1 to %d statements, not %d", h.opts.MaxStatements, len(req.Statements)), -1)
		return
	}
	results, idx, err := h.run(r.Context(), req)
	if err != nil {
		status := http.StatusBadRequest
		var ce *driver.CapabilityError
		if errors.As(err, &ce) {
			status = http.StatusNotImplemented
		}
		fail(w, status, err, idx)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(remote.WireResponse{Results: results})
}

func fail(w http.ResponseWriter, status int, err error, idx int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(remote.WireErrorBody{Error: remote.EncodeError(err, idx)})
}

// run executes the request; on failure it returns the failing index (-1
// when none applies).
func (h *handler) run(ctx context.Context, req remote.WireRequest) ([]remote.WireResult, int, error) {
	stmts := make([]driver.Stmt, len(req.Statements))
	for i, s := range req.Statements {
		stmts[i] = driver.Stmt{SQL: s.SQL, Args: remote.GoValues(s.Args), Rows: s.Rows}
	}
	if !req.Atomic {
		return runEach(ctx, h.conn, stmts)
	}
	if b, ok := h.conn.(driver.Beginner); ok {
		tx, err := b.Begin(ctx, driver.TxOptions{})
		if err != nil {
			return nil, -1, err
		}
		out, idx, err := runEach(ctx, tx, stmts)
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			return nil, idx, err
		}
		if err := tx.Commit(ctx); err != nil {
			return nil, -1, err
		}
		return out, -1, nil
	}
	if b, ok := h.conn.(driver.Batcher); ok {
		res, err := b.Batch(ctx, stmts)
		if err != nil {
			var be *driver.BatchError
			if errors.As(err, &be) {
				return nil, be.Index, be.Err
			}
			return nil, -1, err
		}
		out := make([]remote.WireResult, len(res))
		for i, r := range res {
			out[i] = fromResult(r.Result)
			if r.Rows != nil {
				if err := readRows(r.Rows, &out[i]); err != nil {
					return nil, i, err
				}
			}
		}
		return out, -1, nil
	}
	return nil, -1, &driver.CapabilityError{Op: "atomic requests", Driver: driver.Name(h.conn), Use: "send statements with atomic=false"}
}

func runEach(ctx context.Context, q driver.Querier, stmts []driver.Stmt) ([]remote.WireResult, int, error) {
	out := make([]remote.WireResult, len(stmts))
	for i, s := range stmts {
		if !s.Rows {
			res, err := q.Exec(ctx, s.SQL, s.Args)
			if err != nil {
				return nil, i, err
			}
			out[i] = fromResult(res)
			continue
		}
		rows, err := q.Query(ctx, s.SQL, s.Args)
		if err != nil {
			return nil, i, err
		}
		err = readRows(rows, &out[i])
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, i, err
		}
	}
	return out, -1, nil
}

func fromResult(r driver.Result) remote.WireResult {
	out := remote.WireResult{RowsAffected: r.RowsAffected}
	if r.HasLastInsertID {
		id := r.LastInsertID
		out.LastInsertID = &id
	}
	return out
}

func readRows(rows driver.Rows, out *remote.WireResult) error {
	out.Columns = rows.Columns()
	n := len(out.Columns)
	vals := make([]any, n)
	dests := make([]any, n)
	for i := range vals {
		dests[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(dests...); err != nil {
			return err
		}
		row := make([]remote.WireValue, n)
		for i, v := range vals {
			nv, err := normalize(v)
			if err != nil {
				return fmt.Errorf("column %s: %w", out.Columns[i], err)
			}
			row[i] = remote.WireValue{V: nv}
		}
		out.Rows = append(out.Rows, row)
		out.RowsAffected++
	}
	return rows.Err()
}

// normalize turns a scanned value into one the protocol carries.
func normalize(v any) (any, error) {
	switch x := v.(type) {
	case nil, int64, float64, bool, string, []byte, time.Time:
		return v, nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int:
		return int64(x), nil
	case float32:
		return float64(x), nil
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Map, reflect.Slice:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	}
	return nil, fmt.Errorf("forge/remote: cannot carry a %T", v)
}
