package forge

import (
	"context"
	"errors"

	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/migrate"
)

// CreateSchema creates the schema's tables, indexes and foreign keys in the
// database, skipping those that exist (CREATE ... IF NOT EXISTS). It does
// not alter existing tables: that is migrate's job. The statements run
// atomically where the driver can (one batch, else one transaction: see
// Batch); on a driver with neither they run one by one, and since each is
// idempotent, running CreateSchema again finishes an interrupted run.
func (db *DB) CreateSchema(ctx context.Context) error {
	if !db.ok() {
		return errNilDB()
	}
	plan := migrate.Create(db.d, db.schema.desc, migrate.Options{IfNotExists: true})
	stmts, err := plan.Statements(db.d)
	if err != nil {
		return err
	}
	if !canAtomic(db.conn) {
		for _, q := range stmts {
			if _, err := db.r.exec(ctx, stmt{op: OpSchema, sql: q}); err != nil {
				return errors.Join(errors.New("forge: CreateSchema: "+q), err)
			}
		}
	} else {
		sts := make([]stmt, len(stmts))
		for i, q := range stmts {
			sts[i] = stmt{op: OpSchema, sql: q}
		}
		if _, err = db.r.atomic(ctx, OpSchema, nil, sts, nil); err != nil {
			return err
		}
	}
	// Reads after it must find the tables (WithReplicas).
	db.r.rawWrite(ctx)
	return nil
}

// canAtomic reports whether conn can run several statements atomically
// (see runner.atomic).
func canAtomic(conn driver.Conn) bool {
	_, batches := conn.(driver.Batcher)
	_, begins := conn.(driver.Beginner)
	return batches || begins
}

// Drift compares the schema with the live database and returns the plan
// that would bring the database to the schema; an empty plan means no
// drift. It only reads (catalog queries), so it is cheap enough to run at
// start-up as a probe, also over HTTP drivers that can introspect:
//
//	if plan, err := db.Drift(ctx); err == nil && !plan.Empty() {
//		log.Printf("schema drift:\n%s", plan.Describe())
//	}
func (db *DB) Drift(ctx context.Context) (*migrate.Plan, error) {
	if !db.ok() {
		return nil, errNilDB()
	}
	live, err := migrate.Inspect(ctx, db.conn, db.d)
	if err != nil {
		return nil, err
	}
	return migrate.Diff(db.d, db.schema.desc, live), nil
}
