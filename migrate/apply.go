package migrate

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/schema"
)

// StatementError names the statement of a plan or migration that failed.
// Nothing of the plan was applied, except on databases that commit DDL as
// they go (MySQL, MariaDB: Partial), where the statements before it were
// applied and recorded in the journal, and running the same statements
// again resumes at the failed one.
type StatementError struct {
	Index int // 0-based position among the plan's statements
	SQL   string
	Err   error
	// Partial: the statements before Index are applied (see above).
	Partial bool
}

func (e *StatementError) Error() string {
	if e.Partial {
		return fmt.Sprintf("forge/migrate: statement %d failed; the statements before it were applied and recorded (MySQL commits schema changes one by one): fix the cause and run again to finish the plan without repeating them: %v\n  %s", e.Index+1, e.Err, e.SQL)
	}
	return fmt.Sprintf("forge/migrate: statement %d failed, nothing was applied: %v\n  %s", e.Index+1, e.Err, e.SQL)
}

func (e *StatementError) Unwrap() error { return e.Err }

// DestructiveError refuses a plan with changes that can lose data.
type DestructiveError struct{ Changes []Change }

func (e *DestructiveError) Error() string {
	var b strings.Builder
	b.WriteString("forge/migrate: the plan can lose data; review it and allow destructive changes to apply it:")
	for _, c := range e.Changes {
		b.WriteString("\n  ! ")
		b.WriteString(c.String())
	}
	return b.String()
}

// ApplyOptions shape Apply.
type ApplyOptions struct {
	// AllowDestructive permits changes that can lose data (dropping a
	// table or column, narrowing a type).
	AllowDestructive bool
	// Lock is the migration lock held for the run, if any (see
	// StatementOptions.Lock).
	Lock *Lock
}

// StatementOptions shape ApplyStatements.
type StatementOptions struct {
	// ForeignKeysOff, on SQLite, turns foreign key enforcement off on the
	// session for the transaction and checks every foreign key before
	// committing (for plans that drop or rebuild tables).
	ForeignKeysOff bool
	// Lock is the migration lock held for the run, if any. Its lease is
	// renewed inside the transaction, as the last statement before COMMIT:
	// on SQLite the lock's heartbeat cannot write while the transaction
	// holds the write lock, and this keeps the lease current when the
	// transaction ends. A lease found lost fails the run: nothing is
	// applied.
	Lock *Lock
}

// Apply runs the plan atomically: in one transaction (PostgreSQL and
// SQLite both have transactional DDL), or one batch on drivers that only
// batch. A failing statement leaves the database as it was and is named in
// a *StatementError. On MySQL and MariaDB, which commit each schema change
// at once, a plan cannot be atomic (see Atomic): its statements run one by
// one, each recorded in a journal, and a run of the same statements after a
// failure (or a killed migrator) skips those recorded.
func Apply(ctx context.Context, conn driver.Conn, plan *Plan, opts ApplyOptions) error {
	if plan.Empty() {
		return nil
	}
	if !opts.AllowDestructive {
		if ds := plan.Destructive(); len(ds) > 0 {
			return &DestructiveError{Changes: ds}
		}
	}
	d := conn.Dialect()
	stmts, err := plan.Statements(d)
	if err != nil {
		return err
	}
	fkOff := needsForeignKeysOff(d, plan)
	if _, sessions := conn.(driver.Sessioner); fkOff && !sessions {
		if risks := cascadeRisks(plan); len(risks) > 0 {
			return fmt.Errorf("forge/migrate: %s cannot turn foreign keys off, and dropping or rebuilding a table fires ON DELETE actions of the tables that reference it (%s): nothing was applied; apply this change with a driver that can (the embedded sqlite driver on a copy, then upload), or drop those foreign keys first",
				driver.Name(conn), strings.Join(risks, ", "))
		}
	}
	return ApplyStatements(ctx, conn, stmts, StatementOptions{ForeignKeysOff: fkOff, Lock: opts.Lock})
}

// cascadeRisks lists the foreign keys whose ON DELETE action would fire
// when the plan drops or rebuilds the table they reference. It follows the
// plan in order: a referencing table rebuilt earlier has its new foreign
// keys by then, and one dropped earlier has none.
func cascadeRisks(plan *Plan) []string {
	if plan.live == nil {
		return nil
	}
	current := map[string][]*schema.ForeignKey{}
	for _, t := range plan.live.Tables {
		current[t.Name] = t.ForeignKeys
	}
	var out []string
	check := func(target string) {
		for name, fks := range current {
			if name == target {
				continue
			}
			for _, fk := range fks {
				if fk.RefTable == target && fk.OnDelete != schema.NoAction && fk.OnDelete != schema.Restrict {
					out = append(out, name+"."+strings.Join(fk.Columns, ",")+" ON DELETE "+string(fk.OnDelete))
				}
			}
		}
	}
	for _, c := range plan.Changes {
		switch x := c.(type) {
		case *RebuildTable:
			check(x.Table.Name)
			current[x.Table.Name] = x.Table.ForeignKeys
		case *DropTable:
			check(x.Table.Name)
			delete(current, x.Table.Name)
		}
	}
	return out
}

// needsForeignKeysOff reports a SQLite plan that drops or rebuilds tables:
// with foreign keys on, DROP TABLE would fire ON DELETE actions in other
// tables.
func needsForeignKeysOff(d dialect.Dialect, plan *Plan) bool {
	if d.AddConstraint() {
		return false
	}
	for _, c := range plan.Changes {
		switch c.(type) {
		case *RebuildTable, *DropTable:
			return true
		}
	}
	return false
}

// ApplyStatements runs stmts atomically (see Apply); on MySQL and
// MariaDB, which commit each schema change at once, one by one under a
// journal (see Atomic).
func ApplyStatements(ctx context.Context, conn driver.Conn, stmts []string, opts StatementOptions) error {
	if !Atomic(conn.Dialect()) {
		return applySteps(ctx, conn, stmts, opts.Lock)
	}
	if opts.ForeignKeysOff {
		if s, ok := conn.(driver.Sessioner); ok {
			return applySQLiteSession(ctx, s, stmts, opts.Lock)
		}
		if _, ok := conn.(driver.Batcher); ok {
			// D1 and libSQL batches: checks wait until the end of the
			// batch. (foreign_keys cannot change inside a transaction.)
			stmts = append([]string{"PRAGMA defer_foreign_keys = ON"}, stmts...)
			return applyBatch(ctx, conn.(driver.Batcher), stmts, 1, opts.Lock)
		}
	}
	if b, ok := conn.(driver.Beginner); ok {
		tx, err := b.Begin(ctx, driver.TxOptions{})
		if err != nil {
			return err
		}
		for i, s := range stmts {
			if _, err := tx.Exec(ctx, s, nil); err != nil {
				_ = tx.Rollback(context.WithoutCancel(ctx))
				return &StatementError{Index: i, SQL: s, Err: err}
			}
		}
		if err := renewIn(ctx, tx, opts.Lock); err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			return err
		}
		return tx.Commit(ctx)
	}
	if b, ok := conn.(driver.Batcher); ok {
		return applyBatch(ctx, b, stmts, 0, opts.Lock)
	}
	return &driver.CapabilityError{Op: "atomic schema changes", Driver: driver.Name(conn), Use: "apply the plan from a server with a driver that has transactions"}
}

// renewIn renews the lock's lease inside the transaction (see
// StatementOptions.Lock).
func renewIn(ctx context.Context, x driver.Querier, l *Lock) error {
	if l == nil {
		return nil
	}
	q, args := l.renewSQL()
	res, err := x.Exec(ctx, q, args)
	if err != nil {
		return fmt.Errorf("forge/migrate: renewing the migration lock: %w; nothing was applied", err)
	}
	l.renewed(res.RowsAffected)
	if err := l.Lost(); err != nil {
		return fmt.Errorf("%w; nothing was applied", err)
	}
	return nil
}

func applyBatch(ctx context.Context, b driver.Batcher, stmts []string, skip int, l *Lock) error {
	batch := make([]driver.Stmt, len(stmts), len(stmts)+1)
	for i, s := range stmts {
		batch[i] = driver.Stmt{SQL: s}
	}
	if l != nil {
		q, args := l.renewSQL()
		batch = append(batch, driver.Stmt{SQL: q, Args: args})
	}
	res, err := b.Batch(ctx, batch)
	if err != nil {
		var be *driver.BatchError
		if errors.As(err, &be) && be.Index >= skip && be.Index < len(stmts) {
			return &StatementError{Index: be.Index - skip, SQL: be.SQL, Err: be.Err}
		}
		return err
	}
	if l != nil && len(res) == len(batch) {
		// The batch has committed: a lost lease can only be reported.
		l.renewed(res[len(res)-1].RowsAffected)
	}
	return nil
}

// applySQLiteSession follows SQLite's procedure for schema changes that
// ALTER TABLE cannot make: foreign keys off, one transaction, a foreign key
// check, commit, foreign keys on.
func applySQLiteSession(ctx context.Context, s driver.Sessioner, stmts []string, l *Lock) (err error) {
	sess, err := s.Session(ctx)
	if err != nil {
		return err
	}
	defer sess.Close()
	if _, err := sess.Exec(ctx, "PRAGMA foreign_keys = OFF", nil); err != nil {
		return err
	}
	defer func() {
		_, _ = sess.Exec(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON", nil)
	}()
	if _, err := sess.Exec(ctx, "BEGIN IMMEDIATE", nil); err != nil {
		return err
	}
	rollback := func() { _, _ = sess.Exec(context.WithoutCancel(ctx), "ROLLBACK", nil) }
	for i, st := range stmts {
		if _, err := sess.Exec(ctx, st, nil); err != nil {
			rollback()
			return &StatementError{Index: i, SQL: st, Err: err}
		}
	}
	bad, err := queryAll(ctx, sess, "PRAGMA foreign_key_check")
	if err != nil {
		rollback()
		return err
	}
	if len(bad) > 0 {
		rollback()
		return fmt.Errorf("forge/migrate: the change breaks %d foreign key reference(s) (first: table %s, row %v, parent %s); nothing was applied", len(bad), str(bad[0][0]), bad[0][1], str(bad[0][2]))
	}
	if err := renewIn(ctx, sess, l); err != nil {
		rollback()
		return err
	}
	if _, err := sess.Exec(ctx, "COMMIT", nil); err != nil {
		rollback()
		return err
	}
	return nil
}

// PushOptions shape Push.
type PushOptions struct {
	ApplyOptions
	Lock LockOptions
}

// Push brings the live database to the desired schema: it takes the
// migration lock, inspects the database, plans, applies the plan
// atomically and releases the lock. Racing pushers apply each change once:
// whoever gets the lock second finds nothing left to do. It returns the
// plan it applied (empty when there was no drift).
func Push(ctx context.Context, conn driver.Conn, desired *schema.Schema, opts PushOptions) (*Plan, error) {
	lock, err := AcquireLock(ctx, conn, opts.Lock)
	if err != nil {
		return nil, err
	}
	plan, err := func() (*Plan, error) {
		live, err := Inspect(ctx, conn, conn.Dialect())
		if err != nil {
			return nil, err
		}
		plan := Diff(conn.Dialect(), desired, live)
		ao := opts.ApplyOptions
		ao.Lock = lock
		return plan, Apply(ctx, conn, plan, ao)
	}()
	if rerr := lock.Release(context.WithoutCancel(ctx)); err == nil && rerr != nil {
		err = rerr
	}
	return plan, err
}

// JournalTable records the statements of a non-atomic plan that were
// applied (see Atomic).
const JournalTable = "forge_migrate_journal"

// Atomic reports whether a plan applies atomically on d: false on MySQL
// and MariaDB, whose DDL statements commit implicitly (a CREATE TABLE in a
// transaction commits what came before it). There, ApplyStatements runs the
// statements one at a time, under the lock when one is given, and records
// each in JournalTable, keyed by a hash of all the plan's statements and
// the statement's position; a run of the same statements skips those
// recorded, and a complete run deletes its records. A migrator killed
// between a statement and its record repeats that one statement.
func Atomic(d dialect.Dialect) bool { return !isMySQL(d) }

// PlanHash identifies a list of statements in the journal: 128 bits of
// FNV-1a over the statements (not crypto/sha256, which would link Go's FIPS
// module into every edge build through CreateSchema).
func PlanHash(stmts []string) string {
	h := fnv.New128a()
	for _, s := range stmts {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// applySteps runs stmts one by one under the journal (see Atomic).
func applySteps(ctx context.Context, conn driver.Conn, stmts []string, l *Lock) error {
	d := conn.Dialect()
	jt := ident(d, JournalTable)
	create := "CREATE TABLE IF NOT EXISTS " + jt + ` ("plan" VARCHAR(64) NOT NULL, "step" INTEGER NOT NULL, "done_at" BIGINT NOT NULL, PRIMARY KEY ("plan", "step"))` + d.TableOptions()
	if _, err := conn.Exec(ctx, create, nil); err != nil {
		return fmt.Errorf("forge/migrate: creating the journal %s: %w", JournalTable, err)
	}
	plan := PlanHash(stmts)
	rows, err := queryAll(ctx, conn, `SELECT "step" FROM `+jt+` WHERE "plan" = `+string(d.AppendPlaceholder(nil, 1)), plan)
	if err != nil {
		return fmt.Errorf("forge/migrate: reading the journal %s: %w", JournalTable, err)
	}
	done := map[int64]bool{}
	for _, r := range rows {
		if n, ok := r[0].(int64); ok {
			done[n] = true
		}
	}
	record := "INSERT INTO " + jt + ` ("plan", "step", "done_at") VALUES (` + string(d.AppendPlaceholder(nil, 1)) + ", " +
		string(d.AppendPlaceholder(nil, 2)) + ", " + string(d.AppendPlaceholder(nil, 3)) + ")"
	for i, st := range stmts {
		if done[int64(i)] {
			continue
		}
		if l != nil {
			q, args := l.renewSQL()
			res, err := conn.Exec(ctx, q, args)
			if err != nil {
				return fmt.Errorf("forge/migrate: renewing the migration lock before statement %d: %w; the statements before it were applied and recorded, run again to finish", i+1, err)
			}
			l.renewed(res.RowsAffected)
			if err := l.Lost(); err != nil {
				return fmt.Errorf("%w; stopped before statement %d, the statements before it were applied and recorded", err, i+1)
			}
		}
		if _, err := conn.Exec(ctx, st, nil); err != nil {
			return &StatementError{Index: i, SQL: st, Err: err, Partial: true}
		}
		if _, err := conn.Exec(ctx, record, []any{plan, int64(i), time.Now().UnixMilli()}); err != nil {
			return fmt.Errorf("forge/migrate: statement %d was applied but not recorded in %s (%w): a run of the same plan would apply it again", i+1, JournalTable, err)
		}
	}
	if _, err := conn.Exec(ctx, "DELETE FROM "+jt+` WHERE "plan" = `+string(d.AppendPlaceholder(nil, 1)), []any{plan}); err != nil {
		return fmt.Errorf("forge/migrate: the plan was applied, but clearing its journal failed: %w", err)
	}
	return nil
}
