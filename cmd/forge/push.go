package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/migrate"
	"github.com/forge-orm/forge/schema"
)

var pushCmd = &command{
	name:    "push",
	summary: "apply the schema declared in Go to a database",
	usage: `Usage: forge push --schema DIR[:Var] --db URL [--dry-run] [--accept-data-loss]
                  [--lock-wait 2m] [--lock-ttl 30s]

Push brings the database to the schema declared in Go: it takes the
migration lock, inspects the database, plans the changes (create tables,
add and alter columns, indexes, foreign keys; SQLite tables that ALTER TABLE
cannot change are rebuilt with their data) and applies the plan in one
transaction. When it fails, nothing is applied and the error names the
statement. Racing pushers apply each change once: whoever gets the lock
second finds nothing left to do.

A change that can lose data (dropping a table or a column, narrowing a
column's type) is refused, listing the changes, unless --accept-data-loss
is given (exit code 4).

Flags:
  --schema DIR[:Var]   the Go package exporting the *forge.Schema (variable Schema by default)
  --db URL             sqlite:PATH or postgres://... (default $FORGE_DATABASE_URL)
  --dry-run            print the plan's SQL and change nothing (takes no lock)
  --accept-data-loss   apply changes that can lose data
  --lock-wait D        wait up to D for another migrator's lock (default 2m; 0: do not wait); then exit 3
  --lock-ttl D         the lock expires D after this process dies without releasing it (default 30s)

Examples:
  forge push --schema ./models --db sqlite:app.db
  forge push --schema ./internal/db:AppSchema --db postgres://localhost/app --dry-run
`,
}

var diffCmd = &command{
	name:    "diff",
	summary: "show the drift between the schema and a database",
	usage: `Usage: forge diff --schema DIR[:Var] --db URL [--exit-code] [--sql]

Diff compares the schema declared in Go with the database and prints the
changes that would bring the database to the schema, one per line; "!"
marks a change that can lose data. It only reads.

Flags:
  --schema DIR[:Var]   the Go package exporting the *forge.Schema
  --db URL             sqlite:PATH or postgres://... (default $FORGE_DATABASE_URL)
  --exit-code          exit 2 when there is drift, 0 when there is none (a CI gate)
  --sql                also print the SQL of the changes

Example (CI):
  forge diff --schema ./models --db "$DATABASE_URL" --exit-code
`,
}

func init() {
	pushCmd.run = runPush
	diffCmd.run = runDiff
}

func runPush(e *env, args []string) error {
	c := pushCmd
	fs := newFlags(c)
	schemaArg, dbArg := schemaFlag(fs), dbFlag(fs)
	dry := fs.Bool("dry-run", false, "")
	accept := fs.Bool("accept-data-loss", false, "")
	lf := addLockFlags(fs)
	pos, err := parseArgs(e, c, fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(c, pos); err != nil {
		return err
	}
	if err := required(c, "schema", *schemaArg); err != nil {
		return err
	}
	if err := required(c, "db", *dbArg); err != nil {
		return err
	}
	lockOpts, err := lf.options(c)
	if err != nil {
		return err
	}
	u, err := parseDB(*dbArg)
	if err != nil {
		return err
	}
	spec, err := parseSchemaSpec(*schemaArg)
	if err != nil {
		return err
	}
	desired, err := loadSchema(e.ctx, spec)
	if err != nil {
		return err
	}
	conn, err := u.open(e.ctx, *dry)
	if err != nil {
		return err
	}
	defer conn.Close()
	d := conn.Dialect()

	if *dry {
		plan, err := drift(e, conn, desired)
		if err != nil {
			return err
		}
		if plan.Empty() {
			e.printf("-- no changes: %s matches the schema\n", u)
			return nil
		}
		if err := writePlanSQL(e, d, plan); err != nil {
			return err
		}
		if note := atomicNote(d); note != "" {
			e.printf("%s", commentLines("", note))
		}
		if ds := plan.Destructive(); len(ds) > 0 && !*accept {
			e.warnf("the plan can lose data; forge push refuses it without --accept-data-loss (dry run: nothing was changed)")
		}
		return nil
	}

	plan, err := migrate.Push(e.ctx, conn, desired, migrate.PushOptions{
		ApplyOptions: migrate.ApplyOptions{AllowDestructive: *accept},
		Lock:         lockOpts,
	})
	if err != nil {
		var de *migrate.DestructiveError
		if errors.As(err, &de) {
			return &destructiveError{steps: de.Changes, how: "Review the plan with --dry-run, then rerun with --accept-data-loss to apply it."}
		}
		return lockErr(err, lockOpts)
	}
	if plan.Empty() {
		e.printf("no changes: %s already matches the schema\n", u)
		return nil
	}
	e.printf("applied %d change(s) to %s:\n%s", len(plan.Changes), u, plan.Describe())
	if !migrate.Atomic(d) {
		e.printf("(one statement at a time: MySQL and MariaDB commit schema changes as they go)\n")
	}
	return nil
}

func runDiff(e *env, args []string) error {
	c := diffCmd
	fs := newFlags(c)
	schemaArg, dbArg := schemaFlag(fs), dbFlag(fs)
	exitCode := fs.Bool("exit-code", false, "")
	withSQL := fs.Bool("sql", false, "")
	pos, err := parseArgs(e, c, fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(c, pos); err != nil {
		return err
	}
	if err := required(c, "schema", *schemaArg); err != nil {
		return err
	}
	if err := required(c, "db", *dbArg); err != nil {
		return err
	}
	u, err := parseDB(*dbArg)
	if err != nil {
		return err
	}
	spec, err := parseSchemaSpec(*schemaArg)
	if err != nil {
		return err
	}
	desired, err := loadSchema(e.ctx, spec)
	if err != nil {
		return err
	}
	conn, err := u.open(e.ctx, true)
	if err != nil {
		return err
	}
	defer conn.Close()
	plan, err := drift(e, conn, desired)
	if err != nil {
		return err
	}
	if plan.Empty() {
		e.printf("no drift: %s matches the schema\n", u)
		return nil
	}
	e.printf("drift: %d change(s) would bring %s to the schema (\"!\": can lose data):\n%s", len(plan.Changes), u, plan.Describe())
	e.printf("%s", atomicNote(conn.Dialect()))
	if *withSQL {
		e.printf("\n")
		if err := writePlanSQL(e, conn.Dialect(), plan); err != nil {
			return err
		}
	}
	if *exitCode {
		return driftError{}
	}
	return nil
}

// drift inspects the database and plans the changes to desired.
func drift(e *env, conn driver.Conn, desired *schema.Schema) (*migrate.Plan, error) {
	live, err := migrate.Inspect(e.ctx, conn, conn.Dialect())
	if err != nil {
		return nil, fmt.Errorf("inspecting the database: %w", err)
	}
	return migrate.Diff(conn.Dialect(), desired, live), nil
}

// writePlanSQL prints the plan as a SQL script, its changes listed first as
// comments.
func writePlanSQL(e *env, d dialect.Dialect, plan *migrate.Plan) error {
	e.printf("%s", commentLines("", plan.Describe()))
	if _, err := plan.WriteTo(d, e.stdout); err != nil {
		return fmt.Errorf("rendering the plan as SQL: %w", err)
	}
	return nil
}

// commentLines turns text into SQL comment lines, each prefixed by
// "-- "+prefix.
func commentLines(prefix, text string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString(strings.TrimRight("-- "+prefix+l, " "))
		b.WriteByte('\n')
	}
	return b.String()
}
