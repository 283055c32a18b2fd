package libsql

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/wire/hrana"
)

// Batch implements driver.Batcher in one POST, as @libsql/client's
// batch("write") does: one Hrana batch whose steps are
//
//	0      BEGIN IMMEDIATE
//	1..n   statement i, if step i succeeded
//	n+1    COMMIT, if step n succeeded
//	n+2    ROLLBACK, unless COMMIT succeeded
//
// then a close of the stream. A failing statement skips the rest and
// rolls everything back; the error is a *driver.BatchError naming the
// statement (its Err is a *driver.ConstraintError for a constraint
// violation). A SQL text used more than once is sent once (store_sql).
func (c *Conn) Batch(ctx context.Context, stmts []driver.Stmt) ([]driver.BatchResult, error) {
	if len(stmts) == 0 {
		if c.closed.Load() {
			return nil, ErrClosed
		}
		return []driver.BatchResult{}, nil
	}
	n := len(stmts)
	var reqs []hrana.StreamRequest

	// Store each SQL text that appears more than once.
	seen := make(map[string]int, n)
	for _, s := range stmts {
		seen[s.SQL]++
	}
	ids := map[string]int32{}
	for _, s := range stmts {
		if seen[s.SQL] > 1 {
			if _, ok := ids[s.SQL]; !ok {
				id := int32(len(ids))
				ids[s.SQL] = id
				reqs = append(reqs, hrana.StoreSQLRequest(id, s.SQL))
			}
		}
	}

	steps := make([]hrana.BatchStep, 0, n+3)
	steps = append(steps, hrana.BatchStep{Stmt: hrana.NewStmt("BEGIN IMMEDIATE", nil, false)})
	for i, s := range stmts {
		args, err := encodeArgs(s.Args)
		if err != nil {
			return nil, &driver.BatchError{Index: i, SQL: s.SQL, Err: err}
		}
		want := s.Rows
		st := hrana.Stmt{Args: args, WantRows: &want}
		if id, ok := ids[s.SQL]; ok {
			st.SQLID = &id
		} else {
			sql := s.SQL
			st.SQL = &sql
		}
		cond := hrana.CondOK(uint32(i))
		steps = append(steps, hrana.BatchStep{Condition: &cond, Stmt: st})
	}
	commitCond := hrana.CondOK(uint32(n))
	steps = append(steps, hrana.BatchStep{Condition: &commitCond, Stmt: hrana.NewStmt("COMMIT", nil, false)})
	rollbackCond := hrana.CondNot(hrana.CondOK(uint32(n + 1)))
	steps = append(steps, hrana.BatchStep{Condition: &rollbackCond, Stmt: hrana.NewStmt("ROLLBACK", nil, false)})

	batchAt := len(reqs)
	reqs = append(reqs, hrana.BatchRequest(steps...), hrana.CloseRequest())
	resp, err := c.pipeline(ctx, c.endpoint, nil, reqs)
	if err != nil {
		return nil, err
	}
	for i := 0; i < batchAt; i++ {
		if e := resp.Results[i].Error; e != nil {
			return nil, fmt.Errorf("forge/libsql: storing a batch statement's SQL failed, nothing ran: %w", stmtError(e))
		}
	}
	r := resp.Results[batchAt]
	if r.Error != nil {
		return nil, fmt.Errorf("forge/libsql: the batch was refused, nothing ran: %w", stmtError(r.Error))
	}
	if r.Response.Type != hrana.TypeBatch || r.Response.Batch == nil {
		return nil, &ProtocolError{Msg: "a batch request got a " + strconv.Quote(r.Response.Type) + " response"}
	}
	br := r.Response.Batch
	if len(br.StepResults) != len(steps) {
		return nil, &ProtocolError{Msg: strconv.Itoa(len(br.StepResults)) + " step results for " + strconv.Itoa(len(steps)) + " steps"}
	}
	// rollbackErr is the ROLLBACK step's own failure, if any: it matters
	// only when something failed before it.
	var rollbackErr error
	if e := br.StepErrors[n+2]; e != nil {
		rollbackErr = fmt.Errorf("forge/libsql: and the batch's ROLLBACK failed: %w", stmtError(e))
	}
	if e := br.StepErrors[0]; e != nil {
		return nil, errors.Join(fmt.Errorf("forge/libsql: the batch's BEGIN failed, nothing ran: %w", stmtError(e)), rollbackErr)
	}
	if br.StepResults[0] == nil {
		return nil, &ProtocolError{Msg: "the batch's BEGIN neither succeeded nor failed"}
	}
	out := make([]driver.BatchResult, n)
	for i, s := range stmts {
		if e := br.StepErrors[i+1]; e != nil {
			return nil, &driver.BatchError{Index: i, SQL: s.SQL, Err: errors.Join(stmtError(e), rollbackErr)}
		}
		res := br.StepResults[i+1]
		if res == nil {
			return nil, &ProtocolError{Msg: "batch statement " + strconv.Itoa(i) + " was skipped though every step before it succeeded"}
		}
		dr, err := toResult(res)
		if err != nil {
			return nil, err
		}
		out[i].Result = dr
		if s.Rows {
			out[i].Rows = toRows(res)
		}
	}
	if e := br.StepErrors[n+1]; e != nil {
		return nil, errors.Join(fmt.Errorf("forge/libsql: the batch's COMMIT failed, so it was rolled back: %w", stmtError(e)), rollbackErr)
	}
	if br.StepResults[n+1] == nil {
		return nil, &ProtocolError{Msg: "the batch's COMMIT did not run though every statement succeeded"}
	}
	return out, nil
}
