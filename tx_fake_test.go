package forge_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/driver/fakedriver"
)

func TestFakeTransactionCommitAndEvents(t *testing.T) {
	rec := &fakeRecorder{}
	f, db := openFake(t, dialect.Postgres, fakedriver.All, forge.WithObserver(rec))
	f.On(fakedriver.Prefix(`INSERT INTO "authors"`)).Rows([]string{"id"}, []any{int64(5)})
	err := db.Transaction(tctx, func(tx *forge.Tx) error {
		if _, err := Authors.Create(tctx, tx, Author{Name: "a"}); err != nil {
			return err
		}
		if len(rec.muts) != 0 {
			t.Error("a mutation event before the commit")
		}
		return nil
	}, forge.WithIsolation(driver.Serializable), forge.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.ops(); got != "begin, create tx, commit tx" {
		t.Errorf("events: %s", got)
	}
	if len(rec.muts) != 1 || rec.muts[0].Model != "Author" || !reflect.DeepEqual(rec.muts[0].Keys, []any{int64(5)}) {
		t.Errorf("mutations: %+v", rec.muts)
	}
	if begin := f.Statements()[0]; begin.TxOptions != (driver.TxOptions{Isolation: driver.Serializable, ReadOnly: true}) {
		t.Errorf("tx options %+v", begin.TxOptions)
	}
	if rec.bad != 0 {
		t.Errorf("%d events lost the context of QueryStart", rec.bad)
	}
}

func TestFakeTransactionRollback(t *testing.T) {
	rec := &fakeRecorder{}
	f, db := openFake(t, dialect.SQLite, fakedriver.All, forge.WithObserver(rec))
	f.On(fakedriver.Prefix(`INSERT`)).LastInsertID(1)
	boom := errors.New("boom")
	err := db.Transaction(tctx, func(tx *forge.Tx) error {
		if _, err := Authors.Create(tctx, tx, Author{Name: "a"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Transaction returned %v", err)
	}
	if k := fakeKinds(f); k != "begin, exec INSERT, rollback" {
		t.Errorf("statements: %s", k)
	}
	if len(rec.muts) != 0 {
		t.Errorf("mutations of a rolled-back transaction: %+v", rec.muts)
	}

	// A panic rolls back and goes on.
	f.Reset()
	func() {
		defer func() {
			if p := recover(); p != "oops" {
				t.Errorf("recovered %v", p)
			}
		}()
		_ = db.Transaction(tctx, func(tx *forge.Tx) error { panic("oops") })
	}()
	if k := fakeKinds(f); k != "begin, rollback" {
		t.Errorf("statements after a panic: %s", k)
	}

	// A failing rollback is reported with the error that caused it.
	f.Reset()
	f.On(fakedriver.Prefix(`INSERT`)).LastInsertID(1)
	rbErr := errors.New("rollback failed")
	f.On(fakedriver.OfKind(fakedriver.Rollback, nil)).Once().Err(rbErr)
	err = db.Transaction(tctx, func(tx *forge.Tx) error { return boom })
	if !errors.Is(err, boom) || !errors.Is(err, rbErr) {
		t.Errorf("failed rollback: %v", err)
	}

	// A failing BEGIN or COMMIT is the Transaction's error.
	beginErr, commitErr := errors.New("begin failed"), errors.New("commit failed")
	f.On(fakedriver.OfKind(fakedriver.Begin, nil)).Once().Err(beginErr)
	ran := false
	if err := db.Transaction(tctx, func(tx *forge.Tx) error { ran = true; return nil }); !errors.Is(err, beginErr) || ran {
		t.Errorf("failed begin: %v (ran %v)", err, ran)
	}
	f.On(fakedriver.OfKind(fakedriver.Commit, nil)).Once().Err(commitErr)
	rec.muts = nil
	err = db.Transaction(tctx, func(tx *forge.Tx) error {
		_, err := Authors.Create(tctx, tx, Author{Name: "a"})
		return err
	})
	if !errors.Is(err, commitErr) || len(rec.muts) != 0 {
		t.Errorf("failed commit: %v, mutations %v", err, rec.muts)
	}
	if !strings.Contains(rec.ops(), "commit tx err") {
		t.Errorf("events: %s", rec.ops())
	}
}

func TestFakeSavepoints(t *testing.T) {
	rec := &fakeRecorder{}
	f, db := openFake(t, dialect.SQLite, fakedriver.All, forge.WithObserver(rec))
	f.On(fakedriver.Prefix(`INSERT`)).LastInsertID(1)
	boom := errors.New("inner failed")
	var outer *forge.Tx
	err := db.Transaction(tctx, func(tx *forge.Tx) error {
		outer = tx
		if _, err := Authors.Create(tctx, tx, Author{Name: "kept"}); err != nil {
			return err
		}
		err := tx.Transaction(tctx, func(tx *forge.Tx) error {
			if _, err := Authors.Create(tctx, tx, Author{Name: "dropped"}); err != nil {
				return err
			}
			return tx.Transaction(tctx, func(tx *forge.Tx) error { return boom })
		})
		if !errors.Is(err, boom) {
			t.Errorf("nested error: %v", err)
		}
		// A panic in a savepoint rolls back to it and goes on.
		func() {
			defer func() { _ = recover() }()
			_ = tx.Transaction(tctx, func(tx *forge.Tx) error { panic("inner panic") })
		}()
		return tx.Transaction(tctx, func(tx *forge.Tx) error {
			_, err := Authors.Create(tctx, tx, Author{Name: "kept too"})
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	var sql []string
	for _, s := range f.Statements() {
		if strings.Contains(s.SQL, "SAVEPOINT") {
			sql = append(sql, s.SQL)
		}
	}
	want := []string{
		`SAVEPOINT "forge_sp_1"`, `SAVEPOINT "forge_sp_2"`,
		`ROLLBACK TO SAVEPOINT "forge_sp_2"`, `RELEASE SAVEPOINT "forge_sp_2"`,
		`ROLLBACK TO SAVEPOINT "forge_sp_1"`, `RELEASE SAVEPOINT "forge_sp_1"`,
		`SAVEPOINT "forge_sp_1"`, `ROLLBACK TO SAVEPOINT "forge_sp_1"`, `RELEASE SAVEPOINT "forge_sp_1"`,
		`SAVEPOINT "forge_sp_1"`, `RELEASE SAVEPOINT "forge_sp_1"`,
	}
	if !reflect.DeepEqual(sql, want) {
		t.Errorf("savepoints:\n%s\nwant\n%s", strings.Join(sql, "\n"), strings.Join(want, "\n"))
	}
	// Only the changes that were not rolled back are reported.
	if len(rec.muts) != 2 {
		t.Errorf("mutations: %d, want 2", len(rec.muts))
	}
	if err := outer.Transaction(tctx, func(*forge.Tx) error { return nil }); err == nil {
		t.Error("a savepoint on a finished transaction")
	}

	// Failing savepoint statements.
	spErr := errors.New("no savepoint")
	f.On(fakedriver.Prefix("SAVEPOINT")).Once().Err(spErr)
	err = db.Transaction(tctx, func(tx *forge.Tx) error {
		return tx.Transaction(tctx, func(*forge.Tx) error { t.Error("ran"); return nil })
	})
	if !errors.Is(err, spErr) {
		t.Errorf("failed SAVEPOINT: %v", err)
	}
	f.On(fakedriver.Prefix("ROLLBACK TO")).Once().Err(spErr)
	err = db.Transaction(tctx, func(tx *forge.Tx) error {
		return tx.Transaction(tctx, func(*forge.Tx) error { return boom })
	})
	if !errors.Is(err, spErr) || !errors.Is(err, boom) {
		t.Errorf("failed ROLLBACK TO: %v", err)
	}
	f.On(fakedriver.Prefix("RELEASE")).Once().Err(spErr)
	err = db.Transaction(tctx, func(tx *forge.Tx) error {
		return tx.Transaction(tctx, func(*forge.Tx) error { return boom })
	})
	if !errors.Is(err, spErr) {
		t.Errorf("failed RELEASE after a rollback: %v", err)
	}
}

func TestFakeTransactionCapability(t *testing.T) {
	var ce *forge.CapabilityError
	for _, tc := range []struct {
		caps fakedriver.Caps
		use  string
	}{
		{fakedriver.Batches | fakedriver.Named, "db.Batch"},
		{fakedriver.Named, "single statements only"},
	} {
		f, db := openFake(t, dialect.SQLite, tc.caps)
		ran := false
		err := db.Transaction(tctx, func(*forge.Tx) error { ran = true; return nil })
		if !errors.As(err, &ce) || ce.Driver != "fake" || !strings.Contains(ce.Use, tc.use) || ran {
			t.Errorf("caps %b: %v (ran %v)", tc.caps, err, ran)
		}
		if len(f.Statements()) != 0 {
			t.Errorf("caps %b: statements sent", tc.caps)
		}
	}
	_, db := openFake(t, dialect.SQLite, fakedriver.None)
	if err := db.Transaction(tctx, func(*forge.Tx) error { return nil }); !errors.As(err, &ce) || ce.Driver != "this driver" {
		t.Errorf("unnamed driver: %v", err)
	}
}

// Batch runs as one batch on a Batcher, as one transaction on a Beginner,
// and not at all on a driver with neither.
func TestFakeBatchPerCapability(t *testing.T) {
	bc := Books.Cols()
	ops := func() []*forge.BatchOp {
		return []*forge.BatchOp{
			Books.CreateOp(Book{AuthorID: 1, Title: "t"}),
			Books.UpdateManyOp(forge.Eq(&bc.AuthorID, 1), forge.Set(&bc.Pages, 3)),
			Books.DeleteManyOp(forge.Eq(&bc.Pages, 0)),
			forge.ExecOp("UPDATE x SET y = ?", 1),
		}
	}
	for _, tc := range []struct {
		caps  fakedriver.Caps
		kinds string
		batch bool
	}{
		{fakedriver.Batches, "exec INSERT, exec UPDATE, exec DELETE, exec UPDATE", true},
		{fakedriver.All, "exec INSERT, exec UPDATE, exec DELETE, exec UPDATE", true},
		{fakedriver.Transactions, "begin, exec INSERT, exec UPDATE, exec DELETE, exec UPDATE, commit", false},
	} {
		rec := &fakeRecorder{}
		f, db := openFake(t, dialect.SQLite, tc.caps, forge.WithObserver(rec))
		f.On(fakedriver.Prefix("INSERT")).LastInsertID(8)
		f.On(fakedriver.Prefix("UPDATE")).Affected(2)
		f.On(fakedriver.Prefix("DELETE")).Affected(1)
		o := ops()
		res, err := db.Batch(tctx, o...)
		if err != nil {
			t.Fatalf("caps %b: %v", tc.caps, err)
		}
		if len(res) != 4 || res[1].RowsAffected != 2 || o[2].Result().RowsAffected != 1 {
			t.Errorf("caps %b: results %+v", tc.caps, res)
		}
		if k := fakeKinds(f); k != tc.kinds {
			t.Errorf("caps %b: statements %s", tc.caps, k)
		}
		for _, s := range f.Statements() {
			if (s.Batch == 1) != tc.batch {
				t.Errorf("caps %b: %+v", tc.caps, s)
			}
		}
		// One mutation per model op, with the inserted key.
		if len(rec.muts) != 3 || rec.muts[0].Operation != forge.OpCreate || !reflect.DeepEqual(rec.muts[0].Keys, []any{int64(8)}) ||
			rec.muts[1].Rows != 2 || rec.muts[2].Operation != forge.OpDeleteMany {
			t.Errorf("caps %b: mutations %+v", tc.caps, rec.muts)
		}
		if tc.batch && rec.ops() != "batch" {
			t.Errorf("caps %b: events %s", tc.caps, rec.ops())
		}
	}

	f, db := openFake(t, dialect.SQLite, fakedriver.Sessions)
	var ce *forge.CapabilityError
	if _, err := db.Batch(tctx, ops()...); !errors.As(err, &ce) {
		t.Errorf("Batch with neither: %v", err)
	}
	if len(f.Statements()) != 0 {
		t.Error("statements sent")
	}
}

func TestFakeBatchErrors(t *testing.T) {
	bc := Books.Cols()
	var qe *forge.QueryError
	var be *forge.BatchError
	for _, caps := range []fakedriver.Caps{fakedriver.Batches, fakedriver.Transactions} {
		rec := &fakeRecorder{}
		f, db := openFake(t, dialect.SQLite, caps, forge.WithObserver(rec))
		for name, op := range map[string]*forge.BatchOp{
			"nil op":              nil,
			"update without cond": Books.UpdateManyOp(forge.Cond{}, forge.Set(&bc.Pages, 1)),
			"update without sets": Books.UpdateManyOp(forge.All()),
			"update bad where":    Books.UpdateManyOp(forge.Eq(&Accounts.Cols().Age, 1), forge.Set(&bc.Pages, 1)),
			"delete without cond": Books.DeleteManyOp(forge.Cond{}),
			"delete bad where":    Books.DeleteManyOp(forge.In(&bc.ID)),
			"create bad model":    brokenModel.CreateOp(struct{ ID int64 }{}),
			"update bad model":    brokenModel.UpdateManyOp(forge.All()),
			"delete bad model":    brokenModel.DeleteManyOp(forge.All()),
			"create bad value":    Gadgets.CreateOp(Gadget{Meta: map[string]any{"f": func() {}}}),
		} {
			_, err := db.Batch(tctx, forge.ExecOp("DELETE FROM a"), op)
			if err == nil || (!errors.As(err, &qe) && !errors.Is(err, forge.ErrEmptyList) && err != brokenModel.Err()) {
				t.Errorf("caps %b, %s: %v", caps, name, err)
			}
		}
		if len(f.Statements()) != 0 {
			t.Errorf("caps %b: statements sent for bad ops: %s", caps, fakeKinds(f))
		}
		if res, err := db.Batch(tctx); res != nil || err != nil {
			t.Errorf("empty batch: %v %v", res, err)
		}
		// A failing statement: nothing reported as changed.
		boom := errors.New("constraint")
		f.On(fakedriver.Prefix("DELETE")).Affected(1)
		f.On(fakedriver.Prefix("INSERT")).Err(boom)
		_, err := db.Batch(tctx, Books.DeleteManyOp(forge.All()), Books.CreateOp(Book{Title: "x"}))
		if !errors.As(err, &be) || be.Index != 1 || !errors.Is(err, boom) {
			t.Errorf("caps %b: failing batch: %v", caps, err)
		}
		if len(rec.muts) != 0 {
			t.Errorf("caps %b: mutations of a failed batch: %+v", caps, rec.muts)
		}
	}
}

// brokenModel is declared wrong (no primary key).
var brokenModel = forge.Model("broken_ops", func(b *struct{ ID int64 }, f *forge.Fields) {})

// Batch inside a transaction runs the ops in it, in order.
func TestFakeTxBatch(t *testing.T) {
	f, db := openFake(t, dialect.Postgres, fakedriver.All)
	f.On(nil).Affected(1)
	err := db.Transaction(tctx, func(tx *forge.Tx) error {
		res, err := tx.Batch(tctx, forge.ExecOp("UPDATE a"), forge.ExecOp("UPDATE b"))
		if err != nil || len(res) != 2 {
			t.Errorf("tx.Batch: %v %v", res, err)
		}
		_, err = tx.Batch(tctx, nil)
		var qe *forge.QueryError
		if !errors.As(err, &qe) {
			t.Errorf("tx.Batch(nil): %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if k := fakeKinds(f); k != "begin, exec UPDATE, exec UPDATE, commit" {
		t.Errorf("statements: %s", k)
	}
}

// A driver that answers a batch with the wrong number of results is
// refused, with and without observers.
func TestFakeBatchResultCount(t *testing.T) {
	for _, obs := range [][]forge.OpenOption{nil, {forge.WithObserver(&fakeRecorder{})}} {
		f := fakedriver.New(dialect.SQLite, fakedriver.None)
		db, err := forge.Open(fakeSchema, shortBatcher{f.Conn()}, obs...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Batch(tctx, forge.ExecOp("A"), forge.ExecOp("B")); err == nil || !strings.Contains(err.Error(), "1 results for a batch of 2") {
			t.Errorf("short batch: %v", err)
		}
		if _, err := db.Batch(tctx, forge.ExecOp("FAIL")); err == nil {
			t.Error("failing batch")
		}
	}
}

// shortBatcher returns one result per batch, whatever its size.
type shortBatcher struct{ driver.Conn }

func (shortBatcher) Batch(tctx context.Context, stmts []driver.Stmt) ([]driver.BatchResult, error) {
	if stmts[0].SQL == "FAIL" {
		return nil, errors.New("fail")
	}
	return make([]driver.BatchResult, 1), nil
}

// A context cancelled inside the transaction still rolls it back: the
// rollback does not inherit the cancellation.
func TestFakeRollbackAfterCancel(t *testing.T) {
	f, db := openFake(t, dialect.Postgres, fakedriver.All)
	cctx, cancel := context.WithCancel(tctx)
	err := db.Transaction(cctx, func(tx *forge.Tx) error {
		cancel()
		_, err := forge.Exec(cctx, tx, "UPDATE a SET b = 1")
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Transaction: %v", err)
	}
	log := f.Statements()
	if last := log[len(log)-1]; last.Kind != fakedriver.Rollback || last.Err != nil {
		t.Errorf("last statement %+v, want a successful rollback", last)
	}
}

// Mutation events carry the keys written, read with RETURNING when someone
// listens: text keys come back as strings whatever the driver's type.
func TestFakeMutationKeys(t *testing.T) {
	rec := &fakeRecorder{}
	f, db := openFake(t, dialect.Postgres, fakedriver.All, forge.WithObserver(rec))
	f.On(fakedriver.Prefix("DELETE")).Rows([]string{"id"}, []any{[]byte("g1")}, []any{"g2"})
	g := Gadgets.Cols()
	n, err := Gadgets.DeleteMany(tctx, db, forge.In(&g.Name, "a", "b"))
	if err != nil || n != 2 {
		t.Fatalf("DeleteMany: %d %v", n, err)
	}
	if len(rec.muts) != 1 || !reflect.DeepEqual(rec.muts[0].Keys, []any{"g1", "g2"}) || rec.muts[0].Operation != forge.OpDeleteMany {
		t.Errorf("mutations %+v", rec.muts)
	}
	if s := f.Statements()[0]; s.Kind != fakedriver.Query || !strings.HasSuffix(s.SQL, `RETURNING "id"`) {
		t.Errorf("sent %+v", s)
	}
	// Without RETURNING in the dialect: the count, no keys.
	rec2 := &fakeRecorder{}
	f2, db2 := openFake(t, noReturning{dialect.SQLite}, fakedriver.All, forge.WithObserver(rec2))
	f2.On(nil).Affected(3)
	if n, err := Gadgets.DeleteMany(tctx, db2, forge.All()); err != nil || n != 3 {
		t.Errorf("DeleteMany without RETURNING: %d %v", n, err)
	}
	if len(rec2.muts) != 1 || rec2.muts[0].Keys != nil || rec2.muts[0].Rows != 3 {
		t.Errorf("mutations %+v", rec2.muts)
	}
	// A statement that fails reports no mutation; its event has the error.
	f.On(fakedriver.Prefix("UPDATE")).Err(errors.New("boom"))
	rec.muts = nil
	if _, err := Gadgets.UpdateMany(tctx, db, forge.All(), forge.Set(&g.Count, 1)); err == nil {
		t.Error("UpdateMany succeeded")
	}
	if len(rec.muts) != 0 || !strings.HasSuffix(rec.ops(), "updateMany err") {
		t.Errorf("failed write: mutations %v, events %s", rec.muts, rec.ops())
	}

	// A batched CreateMany reports every key it read back.
	rec3 := &fakeRecorder{}
	f3, db3 := openFake(t, smallParams{dialect.Postgres, 3}, fakedriver.Batches, forge.WithObserver(rec3))
	f3.On(nil).Func(func(s fakedriver.Stmt) fakedriver.Answer {
		a := fakedriver.Answer{Columns: []string{"id"}} // RETURNING "id"
		for i := range s.Args {
			a.Rows = append(a.Rows, []any{int64(10*s.Index + i)})
		}
		return a
	})
	got, err := Authors.CreateMany(tctx, db3, []Author{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "d"}})
	if err != nil || len(got) != 4 || got[2].ID != 2 || got[3].ID != 10 || got[3].Name != "d" {
		t.Fatalf("batched CreateMany: %+v %v", got, err)
	}
	if len(rec3.muts) != 1 || len(rec3.muts[0].Keys) != 4 || rec3.ops() != "createMany" {
		t.Errorf("batched CreateMany: mutations %+v, events %s", rec3.muts, rec3.ops())
	}
	// Without RETURNING (MySQL) and without consecutive ids, a CreateMany
	// inserts one row per statement, atomically (here one batch), and takes
	// each id from its statement's last insert id.
	rec4 := &fakeRecorder{}
	f4, db4 := openFake(t, smallParams{noReturning{dialect.SQLite}, 3}, fakedriver.Batches, forge.WithObserver(rec4))
	f4.On(nil).Func(func(s fakedriver.Stmt) fakedriver.Answer {
		return fakedriver.Answer{Result: driver.Result{RowsAffected: 1, LastInsertID: int64(100 + s.Index), HasLastInsertID: true}}
	})
	got, err = Authors.CreateMany(tctx, db4, []Author{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "d"}})
	if err != nil || len(got) != 4 || got[0].ID != 100 || got[3].ID != 103 || got[3].Name != "d" {
		t.Errorf("batched CreateMany without RETURNING: %+v %v", got, err)
	}
	if st := f4.Statements(); len(st) != 4 || st[3].Batch != 1 {
		t.Errorf("batched CreateMany without RETURNING ran %+v", st)
	}
	if len(rec4.muts) != 1 || len(rec4.muts[0].Keys) != 4 || rec4.muts[0].Keys[3] != int64(103) {
		t.Errorf("batched CreateMany without RETURNING: mutations %+v", rec4.muts)
	}
	// A statement that reports no id is an error, not a row with id 0.
	f5, db5 := openFake(t, smallParams{noReturning{dialect.SQLite}, 3}, fakedriver.Batches)
	f5.On(nil).Affected(1)
	var qe *forge.QueryError
	if _, err := Authors.CreateMany(tctx, db5, []Author{{Name: "a"}, {Name: "b"}}); !errors.As(err, &qe) {
		t.Errorf("CreateMany without an id reported: %v", err)
	}
}
