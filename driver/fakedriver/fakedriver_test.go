package fakedriver_test

import (
	"context"
	"errors"
	"testing"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/driver/fakedriver"
)

func TestCapabilitiesAreExact(t *testing.T) {
	for caps := fakedriver.Caps(0); caps <= fakedriver.All; caps++ {
		c := fakedriver.New(dialect.SQLite, caps).Conn()
		_, b := c.(driver.Beginner)
		_, bt := c.(driver.Batcher)
		_, s := c.(driver.Sessioner)
		_, n := c.(driver.Namer)
		if b != (caps&fakedriver.Transactions != 0) || bt != (caps&fakedriver.Batches != 0) ||
			s != (caps&fakedriver.Sessions != 0) || n != (caps&fakedriver.Named != 0) {
			t.Errorf("caps %04b: Beginner %v, Batcher %v, Sessioner %v, Namer %v", caps, b, bt, s, n)
		}
		if c.Dialect() != dialect.SQLite {
			t.Errorf("caps %04b: dialect %v", caps, c.Dialect())
		}
	}
	if got := driver.Name(fakedriver.New(dialect.SQLite, fakedriver.Named).Conn()); got != "fake" {
		t.Errorf("name %q", got)
	}
}

func TestRulesAnswerInOrder(t *testing.T) {
	ctx := context.Background()
	f := fakedriver.New(dialect.Postgres, fakedriver.None)
	once := f.On(fakedriver.Prefix("SELECT")).Once().Rows([]string{"n"}, []any{int64(1)})
	f.On(fakedriver.Prefix("SELECT")).Rows([]string{"n"}, []any{int64(2)}, []any{int64(3)}).RowsErr(errors.New("cut"))
	f.On(fakedriver.Contains("users")).Affected(7).LastInsertID(9)
	c := f.Conn()

	read := func() ([]int64, error) {
		rows, err := c.Query(ctx, "SELECT n", []any{"a"})
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []int64
		for rows.Next() {
			var n int64
			if err := rows.Scan(&n); err != nil {
				return nil, err
			}
			out = append(out, n)
		}
		return out, rows.Err()
	}
	if got, err := read(); err != nil || len(got) != 1 || got[0] != 1 {
		t.Fatalf("first query: %v %v", got, err)
	}
	if got, err := read(); err == nil || err.Error() != "cut" || len(got) != 2 {
		t.Fatalf("second query: %v %v", got, err)
	}
	if once.Hits() != 1 {
		t.Errorf("once hits %d", once.Hits())
	}
	res, err := c.Exec(ctx, "DELETE FROM users", nil)
	if err != nil || res.RowsAffected != 7 || !res.HasLastInsertID || res.LastInsertID != 9 {
		t.Fatalf("exec: %+v %v", res, err)
	}
	_, err = c.Exec(ctx, "UPDATE other", []any{int64(1)})
	var na *fakedriver.NoAnswerError
	if !errors.As(err, &na) || na.Stmt.SQL != "UPDATE other" || na.Stmt.Kind != fakedriver.Exec {
		t.Fatalf("unanswered exec: %v", err)
	}
	log := f.Statements()
	if len(log) != 4 || log[0].Args[0] != "a" || log[3].Err == nil {
		t.Fatalf("log %+v", log)
	}
	if sql := f.SQL(); sql[2] != "DELETE FROM users" {
		t.Errorf("SQL() = %q", sql)
	}
	f.Reset()
	if len(f.Statements()) != 0 {
		t.Error("Reset kept statements")
	}
	if err := c.Close(); err != nil || !f.Closed() {
		t.Fatal("close")
	}
	if _, err := c.Query(ctx, "SELECT 1", nil); !errors.Is(err, fakedriver.ErrClosed) {
		t.Errorf("query after close: %v", err)
	}
}

func TestTransactionsBatchesSessions(t *testing.T) {
	ctx := context.Background()
	f := fakedriver.New(dialect.SQLite, fakedriver.All)
	f.On(fakedriver.Prefix("INSERT")).Rows([]string{"id"}, []any{int64(5)})
	f.On(fakedriver.Prefix("BAD")).Err(errors.New("boom"))
	c := f.Conn()

	tx, err := c.(driver.Beginner).Begin(ctx, driver.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SAVEPOINT x", nil); err != nil {
		t.Fatalf("savepoint: %v", err)
	}
	if _, err := tx.Exec(ctx, "INSERT 1", nil); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); !errors.Is(err, fakedriver.ErrTxDone) {
		t.Errorf("rollback after commit: %v", err)
	}
	if _, err := tx.Query(ctx, "INSERT 2", nil); !errors.Is(err, fakedriver.ErrTxDone) {
		t.Errorf("query after commit: %v", err)
	}

	res, err := c.(driver.Batcher).Batch(ctx, []driver.Stmt{{SQL: "INSERT a", Rows: true}, {SQL: "INSERT b"}})
	if err != nil || len(res) != 2 || res[0].Rows == nil || res[1].Rows != nil || res[1].RowsAffected != 1 {
		t.Fatalf("batch: %+v %v", res, err)
	}
	_, err = c.(driver.Batcher).Batch(ctx, []driver.Stmt{{SQL: "INSERT a"}, {SQL: "BAD"}})
	var be *driver.BatchError
	if !errors.As(err, &be) || be.Index != 1 || be.SQL != "BAD" {
		t.Fatalf("failing batch: %v", err)
	}

	s, err := c.(driver.Sessioner).Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Exec(ctx, "INSERT s", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Query(ctx, "INSERT s", nil); !errors.Is(err, fakedriver.ErrSessionClosed) {
		t.Errorf("query on a closed session: %v", err)
	}

	log := f.Statements()
	want := []struct {
		k                 fakedriver.Kind
		tx, batch, sess   int
		sql               string
		failed, readOnlyB bool
	}{
		{fakedriver.Begin, 1, 0, 0, "BEGIN", false, true},
		{fakedriver.Exec, 1, 0, 0, "SAVEPOINT x", false, false},
		{fakedriver.Exec, 1, 0, 0, "INSERT 1", false, false},
		{fakedriver.Commit, 1, 0, 0, "COMMIT", false, false},
		{fakedriver.Query, 0, 1, 0, "INSERT a", false, false},
		{fakedriver.Exec, 0, 1, 0, "INSERT b", false, false},
		{fakedriver.Exec, 0, 2, 0, "INSERT a", false, false},
		{fakedriver.Exec, 0, 2, 0, "BAD", true, false},
		{fakedriver.Exec, 0, 0, 1, "INSERT s", false, false},
	}
	if len(log) != len(want) {
		t.Fatalf("log has %d statements: %+v", len(log), log)
	}
	for i, w := range want {
		g := log[i]
		if g.Kind != w.k || g.Tx != w.tx || g.Batch != w.batch || g.Session != w.sess || g.SQL != w.sql ||
			(g.Err != nil) != w.failed || g.TxOptions.ReadOnly != w.readOnlyB {
			t.Errorf("statement %d: %+v, want %+v", i, g, w)
		}
	}
}

func TestFailingControlAndContext(t *testing.T) {
	f := fakedriver.New(dialect.SQLite, fakedriver.Transactions)
	boom := errors.New("commit failed")
	f.On(fakedriver.OfKind(fakedriver.Commit, nil)).Err(boom)
	f.On(fakedriver.Any()).Func(func(s fakedriver.Stmt) fakedriver.Answer {
		return fakedriver.Answer{Result: driver.Result{RowsAffected: int64(len(s.Args))}}
	})
	ctx := context.Background()
	tx, err := f.Conn().(driver.Beginner).Begin(ctx, driver.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := tx.Exec(ctx, "X", []any{1, 2}); err != nil || res.RowsAffected != 2 {
		t.Fatalf("func rule: %+v %v", res, err)
	}
	if err := tx.Commit(ctx); !errors.Is(err, boom) {
		t.Fatalf("commit: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.Conn().Exec(cctx, "X", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}
