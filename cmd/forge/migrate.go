package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/migrate"
	"github.com/forge-orm/forge/schema"
)

var migrateCmd = &command{
	name:    "migrate",
	summary: "write, apply, revert and list migration files",
}

var (
	migrateNewCmd = &command{
		name:    "migrate new",
		summary: "write a numbered migration from the drift",
		usage: `Usage: forge migrate new NAME --schema DIR[:Var] --db URL [--dir migrations]
                         [--dialect d1] [--empty] [--ignore-pending]

Migrate new compares the schema declared in Go with the database (a
development database that has every migration applied) and writes the
changes as the next numbered migration, with its down migration computed
from the same comparison in reverse:

  migrations/0002_add_posts.up.sql
  migrations/0002_add_posts.down.sql

Review the files, commit them, and apply them with forge migrate apply.
Statements are separated by semicolons; comments, quoted text and $$
bodies may hold semicolons. Leading comment lines may carry directives:
"-- forge:foreign-keys-off" (SQLite: run with foreign key enforcement off,
checking all foreign keys before committing; written when a table is
rebuilt or dropped) and "-- forge:irreversible" (down files: migrate down
refuses).

With --dialect d1 the files follow the layout wrangler d1 migrations apply
reads (no BEGIN/COMMIT; D1 runs each file atomically itself), and the down
migration goes to a folder of its own that wrangler does not read:

  migrations/0002_add_posts.sql
  migrations/down/0002_add_posts.sql

Flags:
  --schema DIR[:Var]   the Go package exporting the *forge.Schema
  --db URL             the development database to compare with (sqlite:PATH or postgres://...)
  --dir DIR            the migrations directory (default migrations)
  --dialect d1         write the Cloudflare D1 layout (--db is then the local SQLite file)
  --empty              write empty files to fill in by hand (needs neither --schema nor --db)
  --ignore-pending     compare even when migration files are not applied to --db

Examples:
  forge migrate new add_posts --schema ./models --db sqlite:dev.db
  forge migrate new init --schema ./models --db sqlite:.wrangler/dev.sqlite --dialect d1
  forge migrate new backfill_slugs --empty
`,
	}
	migrateApplyCmd = &command{
		name:    "migrate apply",
		summary: "apply pending migrations",
		usage: `Usage: forge migrate apply --db URL [--dir migrations] [--lock-wait 2m] [--lock-ttl 30s]

Migrate apply takes the migration lock and applies the pending up files of
the directory in order, each in one transaction together with its record
in the forge_migrations table (name, sha256 checksum, applied_at): a file
is applied entirely or not at all, and a failing statement is named. It
stops at the first failure. A file that was edited after it was applied is
refused, naming it (restore it; put further changes in a new migration).
Racing appliers apply each file once.

Flags:
  --db URL         sqlite:PATH or postgres://... (default $FORGE_DATABASE_URL)
  --dir DIR        the migrations directory (default migrations)
  --lock-wait D    wait up to D for another migrator's lock (default 2m; 0: do not wait); then exit 3
  --lock-ttl D     the lock expires D after this process dies without releasing it (default 30s)

Example:
  forge migrate apply --db postgres://app@db.internal/app --dir migrations
`,
	}
	migrateDownCmd = &command{
		name:    "migrate down",
		summary: "revert the last applied migration",
		usage: `Usage: forge migrate down --db URL [--dir migrations] [--lock-wait 2m] [--lock-ttl 30s]

Migrate down takes the migration lock and reverts the last applied
migration: it runs its down file and removes its record, in one
transaction. It refuses when the up file was edited after it was applied,
when the down file is missing, or when the down file is marked
"-- forge:irreversible".

Flags:
  --db URL         sqlite:PATH or postgres://... (default $FORGE_DATABASE_URL)
  --dir DIR        the migrations directory (default migrations)
  --lock-wait D    wait up to D for another migrator's lock (default 2m; 0: do not wait); then exit 3
  --lock-ttl D     the lock expires D after this process dies without releasing it (default 30s)

Example:
  forge migrate down --db sqlite:dev.db
`,
	}
	migrateStatusCmd = &command{
		name:    "migrate status",
		summary: "list migrations: applied, pending, modified",
		usage: `Usage: forge migrate status --db URL [--dir migrations]

Migrate status lists every migration of the directory and of the
forge_migrations table:

  applied    applied, and the file is unchanged
  pending    not applied yet
  modified   applied, but the file was edited since (migrate apply refuses)
  missing    applied, but there is no file for it in the directory

Flags:
  --db URL    sqlite:PATH or postgres://... (default $FORGE_DATABASE_URL)
  --dir DIR   the migrations directory (default migrations)

Example:
  forge migrate status --db sqlite:app.db
`,
	}
)

func migrateCommands() []*command {
	return []*command{migrateNewCmd, migrateApplyCmd, migrateDownCmd, migrateStatusCmd}
}

func init() {
	migrateNewCmd.run = runMigrateNew
	migrateApplyCmd.run = runMigrateApply
	migrateDownCmd.run = runMigrateDown
	migrateStatusCmd.run = runMigrateStatus
	var b strings.Builder
	b.WriteString("Usage: forge migrate <new|apply|down|status> [flags]\n\nMigration files, numbered, applied in order under the migration lock:\n\n")
	for _, c := range migrateCommands() {
		fmt.Fprintf(&b, "  forge %-16s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'forge help migrate <command>' (or forge migrate <command> --help) for each.\n\nExample:\n  forge migrate new add_posts --schema ./models --db sqlite:dev.db && forge migrate apply --db sqlite:app.db\n")
	migrateCmd.usage = b.String()
	migrateCmd.run = runMigrate
}

func runMigrate(e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, migrateCmd.usage)
		return usagef("migrate: which one? new, apply, down or status")
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, migrateCmd.usage)
		return helpShown{}
	}
	for _, c := range migrateCommands() {
		if c.name == "migrate "+args[0] {
			return c.run(e, args[1:])
		}
	}
	return usagef("migrate: unknown command %q (new, apply, down or status)", args[0])
}

func dirFlag(c *command, fsDir *string) error {
	if strings.TrimSpace(*fsDir) == "" {
		return usagef("%s: --dir is empty", c.name)
	}
	return nil
}

// ---------------------------------------------------------------------------
// migrate new

func runMigrateNew(e *env, args []string) error {
	c := migrateNewCmd
	fs := newFlags(c)
	schemaArg, dbArg := schemaFlag(fs), dbFlag(fs)
	dir := fs.String("dir", "migrations", "")
	dialectArg := fs.String("dialect", "", "")
	empty := fs.Bool("empty", false, "")
	ignorePending := fs.Bool("ignore-pending", false, "")
	pos, err := parseArgs(e, c, fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("migrate new: give one NAME for the migration, such as add_posts\nRun 'forge migrate new --help' for usage.")
	}
	if err := dirFlag(c, dir); err != nil {
		return err
	}
	name, err := migrationName(pos[0])
	if err != nil {
		return err
	}
	d1 := false
	switch strings.ToLower(*dialectArg) {
	case "":
	case "d1":
		d1 = true
	case "sqlite", "postgres", "postgresql", "mysql", "mariadb":
	default:
		return usagef("migrate new: unknown --dialect %q (d1 writes the Cloudflare D1 layout; otherwise the database decides)", *dialectArg)
	}
	md, err := readMigrations(*dir)
	if err != nil {
		return err
	}
	switch {
	case d1 && md.layout == layoutStandard:
		return fmt.Errorf("%s holds standard-layout migrations (NNNN_name.up.sql); D1 migrations need a directory of their own (--dir)", *dir)
	case !d1 && md.layout == layoutD1:
		return fmt.Errorf("%s holds D1-layout migrations (NNNN_name.sql); pass --dialect d1, or use another --dir", *dir)
	}
	base := fmt.Sprintf("%04d_%s", md.next(), name)
	upPath, downPath := filepath.Join(*dir, base+".up.sql"), filepath.Join(*dir, base+".down.sql")
	if d1 {
		upPath, downPath = filepath.Join(*dir, base+".sql"), filepath.Join(*dir, "down", base+".sql")
	}

	if *empty {
		up := "-- " + base + " (up): written by forge migrate new --empty.\n-- Statements end with a semicolon; forge runs the file in one transaction.\n\n"
		down := "-- " + base + " (down): reverts " + base + ". Write the statements that undo the up migration,\n-- or mark the migration irreversible with the line:\n-- forge:irreversible\n\n"
		if d1 {
			up = "-- " + base + ": written by forge migrate new --empty --dialect d1, for wrangler d1 migrations apply.\n-- No BEGIN/COMMIT: D1 runs the file atomically.\n\n"
			down = "-- " + base + " (down): reverts " + base + ". wrangler does not read this folder; run it with\n-- wrangler d1 execute DB --file " + filepath.ToSlash(downPath) + "\n\n"
		}
		if err := writeNew(upPath, up, downPath, down); err != nil {
			return err
		}
		e.printf("wrote %s\nwrote %s\n", upPath, downPath)
		return nil
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
	switch strings.ToLower(*dialectArg) {
	case "d1", "sqlite":
		if u.dialect() != dialect.SQLite {
			return usagef("migrate new: --dialect %s compares with a SQLite database (for D1: the local database wrangler keeps, sqlite:.wrangler/state/.../*.sqlite), not %s", *dialectArg, u)
		}
	case "postgres", "postgresql":
		if u.dialect() != dialect.Postgres {
			return usagef("migrate new: --dialect postgres compares with a PostgreSQL database, not %s", u)
		}
	case "mysql", "mariadb":
		if u.dialect().Name() != "mysql" {
			return usagef("migrate new: --dialect %s compares with a MySQL or MariaDB database (mysql://...), not %s", *dialectArg, u)
		}
	}
	spec, err := parseSchemaSpec(*schemaArg)
	if err != nil {
		return err
	}
	desired, err := loadSchema(e.ctx, spec)
	if err != nil {
		return err
	}
	conn, err := u.open(e.ctx, false)
	if err != nil {
		return err
	}
	defer conn.Close()
	d := conn.Dialect()
	if !*ignorePending {
		if err := checkNothingPending(e.ctx, conn, md, d1); err != nil {
			return err
		}
	}
	live, err := migrate.Inspect(e.ctx, conn, d)
	if err != nil {
		return fmt.Errorf("inspecting the database: %w", err)
	}
	up := migrate.Diff(d, desired, live)
	if up.Empty() {
		e.printf("no changes: %s matches the schema; no migration written\n", u)
		return nil
	}
	down := migrate.Diff(d, live, migrate.Applied(d, desired))
	upSQL, err := up.Statements(d)
	if err != nil {
		return fmt.Errorf("rendering the migration: %w", err)
	}
	var irrev []string
	downSQL, derr := down.Statements(d)
	if derr != nil {
		irrev = append(irrev, derr.Error())
	}

	upText := renderMigration(base, "up", d, d1, up, upSQL, "")
	var downText string
	if len(irrev) > 0 {
		downText = "-- " + base + " (down): forge could not write the statements that revert " + base + ":\n" +
			commentLines("  ", strings.Join(irrev, "\n")) +
			"-- Write them by hand and remove the next line, or keep it: forge migrate down refuses this migration.\n" +
			directiveIrreversible + "\n"
	} else {
		downText = renderMigration(base, "down", d, d1, down, downSQL, base)
	}
	if d1 {
		if w := d1CascadeWarning(live, up); w != "" {
			upText = commentLines("WARNING: ", w) + upText
			e.warnf("%s", w)
		}
	}
	if err := writeNew(upPath, upText, downPath, downText); err != nil {
		return err
	}
	e.printf("wrote %s\nwrote %s\n%d change(s) (\"!\": can lose data):\n%s", upPath, downPath, len(up.Changes), up.Describe())
	if len(up.Destructive()) > 0 {
		e.warnf("the migration can lose data; review %s before applying it", upPath)
	}
	if len(irrev) > 0 {
		e.warnf("%s is marked irreversible: %s", downPath, irrev[0])
	}
	return nil
}

// renderMigration writes a plan as a migration file.
func renderMigration(base, dir string, d dialect.Dialect, d1 bool, plan *migrate.Plan, stmts []string, reverts string) string {
	var b strings.Builder
	switch {
	case d1 && dir == "up":
		fmt.Fprintf(&b, "-- %s: written by forge migrate new --dialect d1, for wrangler d1 migrations apply.\n", base)
		fmt.Fprintf(&b, "-- Its down migration is down/%s.sql, which wrangler does not read.\n", base)
	case d1:
		fmt.Fprintf(&b, "-- %s (down): reverts %s. wrangler does not read this folder; run it with\n-- wrangler d1 execute DB --file down/%s.sql (then delete the row of %s.sql from d1_migrations).\n", base, reverts, base, base)
	case dir == "up":
		fmt.Fprintf(&b, "-- %s (up): written by forge migrate new; review before applying.\n", base)
	default:
		fmt.Fprintf(&b, "-- %s (down): reverts %s; written by forge migrate new.\n", base, reverts)
	}
	fkOff := d == dialect.SQLite && needsFKOff(plan)
	if fkOff && !d1 {
		b.WriteString(directiveFKOff + "\n")
	}
	if note := atomicNote(d); note != "" {
		b.WriteString(commentLines("", note))
	}
	b.WriteString("-- Changes (\"!\": can lose data):\n")
	b.WriteString(commentLines("", plan.Describe()))
	b.WriteString("\n")
	if fkOff && d1 {
		// D1 cannot turn foreign keys off inside its transaction; deferring
		// the checks to the commit lets a table be rebuilt.
		b.WriteString("PRAGMA defer_foreign_keys = ON;\n\n")
	}
	for _, s := range stmts {
		b.WriteString(s)
		b.WriteString(";\n\n")
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// needsFKOff reports a SQLite plan that rebuilds or drops tables.
func needsFKOff(plan *migrate.Plan) bool {
	for _, c := range plan.Changes {
		switch c.(type) {
		case *migrate.RebuildTable, *migrate.DropTable:
			return true
		}
	}
	return false
}

// d1CascadeWarning warns when a D1 migration drops or rebuilds a table
// that another table references with an ON DELETE action: D1 cannot turn
// foreign keys off, and SQLite's DROP TABLE deletes the rows first, firing
// those actions in the referencing tables.
func d1CascadeWarning(live *schema.Schema, plan *migrate.Plan) string {
	dropped := map[string]bool{}
	for _, c := range plan.Changes {
		switch x := c.(type) {
		case *migrate.RebuildTable:
			dropped[x.Table.Name] = true
		case *migrate.DropTable:
			dropped[x.Table.Name] = true
		}
	}
	var hits []string
	for _, t := range live.Tables {
		for _, fk := range t.ForeignKeys {
			if dropped[fk.RefTable] && t.Name != fk.RefTable && fk.OnDelete != schema.NoAction && fk.OnDelete != schema.Restrict {
				hits = append(hits, fmt.Sprintf("%s.%s references %s ON DELETE %s", t.Name, strings.Join(fk.Columns, ","), fk.RefTable, fk.OnDelete))
			}
		}
	}
	if len(hits) == 0 {
		return ""
	}
	return "this migration drops or rebuilds a table that other tables reference with ON DELETE actions, and D1 cannot turn foreign keys off: applying it would fire them (" + strings.Join(hits, "; ") + "). Rework the migration by hand."
}

// writeNew creates both files, refusing to overwrite (another migrate new
// may have taken the number).
func writeNew(upPath, up, downPath, down string) error {
	if err := os.MkdirAll(filepath.Dir(downPath), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(upPath), 0o755); err != nil {
		return err
	}
	if err := writeExcl(upPath, up); err != nil {
		return err
	}
	if err := writeExcl(downPath, down); err != nil {
		_ = os.Remove(upPath)
		return err
	}
	return nil
}

func writeExcl(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists (another forge migrate new?); run the command again", path)
		}
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// checkNothingPending refuses to compare with a database that lacks some
// of the directory's migrations: the new migration would repeat them.
func checkNothingPending(ctx context.Context, conn driver.Conn, md *migDir, d1 bool) error {
	if len(md.files) == 0 {
		return nil
	}
	var pending []string
	if d1 {
		applied := map[string]bool{}
		ok, err := tableExists(ctx, conn, "d1_migrations")
		if err != nil {
			return err
		}
		if ok {
			rows, err := conn.Query(ctx, `SELECT "name" FROM "d1_migrations"`, nil)
			if err != nil {
				return err
			}
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					rows.Close()
					return err
				}
				applied[n] = true
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		for _, f := range md.files {
			if !applied[filepath.Base(f.up)] {
				pending = append(pending, f.up)
			}
		}
		if len(pending) > 0 {
			return fmt.Errorf("the database does not have these migrations applied (per its d1_migrations table): %s.\n"+
				"forge compares the schema with the database, so the new migration would repeat them. Apply them first "+
				"(wrangler d1 migrations apply DB --local), or pass --ignore-pending", strings.Join(pending, ", "))
		}
		return nil
	}
	recs, err := readRecords(ctx, conn)
	if err != nil {
		return err
	}
	for _, f := range md.files {
		if recs[f.name] == nil {
			pending = append(pending, f.up)
		}
	}
	if len(pending) > 0 {
		return fmt.Errorf("the database does not have these migrations applied: %s.\n"+
			"forge compares the schema with the database, so the new migration would repeat them. Apply them first "+
			"(forge migrate apply --db ...), or pass --ignore-pending", strings.Join(pending, ", "))
	}
	return nil
}

// runOnMigrations parses the flags migrate apply and migrate down share,
// opens the database and the migration folder, and runs fn under the
// migration lock.
func runOnMigrations(e *env, c *command, args []string, create bool, fn func(*env, driver.Conn, *migDir, *migrate.Lock) error) error {
	fs := newFlags(c)
	dbArg := dbFlag(fs)
	dir := fs.String("dir", "migrations", "")
	lf := addLockFlags(fs)
	pos, err := parseArgs(e, c, fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(c, pos); err != nil {
		return err
	}
	if err := required(c, "db", *dbArg); err != nil {
		return err
	}
	if err := dirFlag(c, dir); err != nil {
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
	md, err := readStandard(*dir)
	if err != nil {
		return err
	}
	conn, err := u.open(e.ctx, create)
	if err != nil {
		return err
	}
	defer conn.Close()
	return withLock(e.ctx, conn, lockOpts, func(lock *migrate.Lock) error {
		return fn(e, conn, md, lock)
	})
}

// ---------------------------------------------------------------------------
// migrate apply

func runMigrateApply(e *env, args []string) error {
	return runOnMigrations(e, migrateApplyCmd, args, false, applyPending)
}

// readStandard reads a directory of standard-layout migrations.
func readStandard(dir string) (*migDir, error) {
	md, err := readMigrations(dir)
	if err != nil {
		return nil, err
	}
	if md.layout == layoutD1 {
		return nil, fmt.Errorf("%s holds D1-layout migrations (NNNN_name.sql); apply them with wrangler d1 migrations apply", dir)
	}
	return md, nil
}

// withLock runs fn holding the migration lock.
func withLock(ctx context.Context, conn driver.Conn, o migrate.LockOptions, fn func(*migrate.Lock) error) error {
	lock, err := migrate.AcquireLock(ctx, conn, o)
	if err != nil {
		return lockErr(err, o)
	}
	err = fn(lock)
	if rerr := lock.Release(context.WithoutCancel(ctx)); err == nil && rerr != nil {
		err = rerr
	}
	return err
}

func applyPending(e *env, conn driver.Conn, md *migDir, lock *migrate.Lock) error {
	ctx := e.ctx
	d := conn.Dialect()
	if err := ensureMigrationsTable(ctx, conn); err != nil {
		return err
	}
	recs, err := readRecords(ctx, conn)
	if err != nil {
		return err
	}
	var modified []string
	var pending []*migFile
	last := ""
	for _, f := range md.files {
		r := recs[f.name]
		if r == nil {
			pending = append(pending, f)
			continue
		}
		last = f.name
		sum, err := checksumOf(f.up)
		if err != nil {
			return err
		}
		if sum != r.checksum {
			modified = append(modified, f.up)
		}
	}
	if len(modified) > 0 {
		return fmt.Errorf("refused: %s was edited after it was applied (its sha256 no longer matches the record in %s); nothing was applied.\n"+
			"Restore the file as it was applied (git checkout -- FILE), and put further changes in a new migration (forge migrate new)",
			strings.Join(modified, ", "), migrate.MigrationsTable)
	}
	if len(pending) == 0 {
		e.printf("nothing to apply: all %d migration(s) of %s are applied\n", len(md.files), md.dir)
		return nil
	}
	// Read every pending file before applying any: a file that does not
	// parse stops the run before it starts.
	scripts := make([]*script, len(pending))
	for i, f := range pending {
		if scripts[i], err = readScript(f.up); err != nil {
			return err
		}
	}
	for i, f := range pending {
		s := scripts[i]
		if last != "" && f.name < last {
			e.warnf("%s is older than %s, which is already applied; applying it now", f.name, last)
		}
		stmts := append(append([]string{}, s.stmts...), insertRecord(d, f.name, s.checksum))
		if err := migrate.ApplyStatements(ctx, conn, stmts, migrate.StatementOptions{ForeignKeysOff: s.fkOff && d == dialect.SQLite, Lock: lock}); err != nil {
			done := ""
			if i > 0 {
				done = fmt.Sprintf(" (%d earlier migration(s) of this run were applied)", i)
			}
			var se *migrate.StatementError
			if errors.As(err, &se) && se.Index < len(s.stmts) {
				return fmt.Errorf("%s failed at statement %d of %d, %s%s:\n  %s\n  %v", f.up, se.Index+1, len(s.stmts), appliedNote(se), done, indent(se.SQL, "    ")[4:], se.Err)
			}
			if !migrate.Atomic(d) {
				return fmt.Errorf("%s failed; the statements before the failure stay applied and recorded (MySQL commits each one), run migrate apply again to finish it%s: %w", f.up, done, err)
			}
			return fmt.Errorf("%s failed, nothing of it was applied%s: %w", f.up, done, err)
		}
		e.printf("applied %s (%d statement(s))\n", f.name, len(s.stmts))
	}
	return nil
}

// ---------------------------------------------------------------------------
// migrate down

func runMigrateDown(e *env, args []string) error {
	return runOnMigrations(e, migrateDownCmd, args, true, revertLast)
}

func recordVersion(name string) int {
	i := 0
	for i < len(name) && name[i] >= '0' && name[i] <= '9' {
		i++
	}
	v, _ := strconv.Atoi(name[:i])
	return v
}

func revertLast(e *env, conn driver.Conn, md *migDir, lock *migrate.Lock) error {
	ctx := e.ctx
	d := conn.Dialect()
	recs, err := readRecords(ctx, conn)
	if err != nil {
		return err
	}
	var last *record
	for _, r := range recs {
		if last == nil || recordVersion(r.name) > recordVersion(last.name) ||
			recordVersion(r.name) == recordVersion(last.name) && r.name > last.name {
			last = r
		}
	}
	if last == nil {
		e.printf("nothing to revert: no migration is applied\n")
		return nil
	}
	var f *migFile
	for _, x := range md.files {
		if x.name == last.name {
			f = x
		}
	}
	if f == nil {
		return fmt.Errorf("the last applied migration, %s, has no files in %s; cannot revert it (restore its files)", last.name, md.dir)
	}
	if f.down == "" {
		return fmt.Errorf("%s has no down migration (%s.down.sql); write it, then run forge migrate down again", f.name, f.name)
	}
	sum, err := checksumOf(f.up)
	if err != nil {
		return err
	}
	if sum != last.checksum {
		return fmt.Errorf("refused: %s was edited after it was applied, so its down migration may not revert what was applied; restore the file as it was applied, then run forge migrate down again", f.up)
	}
	s, err := readScript(f.down)
	if err != nil {
		return err
	}
	if s.irrev {
		return fmt.Errorf("refused: %s is marked irreversible (%s); write its statements and remove that line to revert %s", f.down, directiveIrreversible, f.name)
	}
	stmts := append(append([]string{}, s.stmts...), deleteRecord(d, f.name))
	if err := migrate.ApplyStatements(ctx, conn, stmts, migrate.StatementOptions{ForeignKeysOff: s.fkOff && d == dialect.SQLite, Lock: lock}); err != nil {
		var se *migrate.StatementError
		if errors.As(err, &se) && se.Index < len(s.stmts) {
			return fmt.Errorf("%s failed at statement %d of %d, %s:\n  %s\n  %v", f.down, se.Index+1, len(s.stmts), appliedNote(se), indent(se.SQL, "    ")[4:], se.Err)
		}
		if !migrate.Atomic(d) {
			return fmt.Errorf("%s failed; the statements before the failure stay applied and recorded (MySQL commits each one), run migrate down again to finish it: %w", f.down, err)
		}
		return fmt.Errorf("%s failed, nothing of it was applied: %w", f.down, err)
	}
	e.printf("reverted %s (%d statement(s))\n", f.name, len(s.stmts))
	return nil
}

// ---------------------------------------------------------------------------
// migrate status

func runMigrateStatus(e *env, args []string) error {
	c := migrateStatusCmd
	fs := newFlags(c)
	dbArg := dbFlag(fs)
	dir := fs.String("dir", "migrations", "")
	pos, err := parseArgs(e, c, fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(c, pos); err != nil {
		return err
	}
	if err := required(c, "db", *dbArg); err != nil {
		return err
	}
	if err := dirFlag(c, dir); err != nil {
		return err
	}
	u, err := parseDB(*dbArg)
	if err != nil {
		return err
	}
	md, err := readStandard(*dir)
	if err != nil {
		return err
	}
	conn, err := u.open(e.ctx, true)
	if err != nil {
		return err
	}
	defer conn.Close()
	recs, err := readRecords(e.ctx, conn)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tAPPLIED AT\tMIGRATION")
	counts := map[string]int{}
	seen := map[string]bool{}
	for _, f := range md.files {
		seen[f.name] = true
		r := recs[f.name]
		status, at := "pending", "-"
		if r != nil {
			status, at = "applied", r.appliedAt
			sum, err := checksumOf(f.up)
			if err != nil {
				return err
			}
			if sum != r.checksum {
				status = "modified"
			}
		}
		counts[status]++
		fmt.Fprintf(tw, "%s\t%s\t%s\n", status, at, f.name)
	}
	var missing []*record
	for _, r := range recs {
		if !seen[r.name] {
			missing = append(missing, r)
		}
	}
	sortRecords(missing)
	for _, r := range missing {
		counts["missing"]++
		fmt.Fprintf(tw, "%s\t%s\t%s\n", "missing", r.appliedAt, r.name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var parts []string
	for _, s := range []string{"applied", "pending", "modified", "missing"} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	if len(parts) == 0 {
		parts = []string{"no migrations"}
	}
	e.printf("%s (%s, %s)\n", strings.Join(parts, ", "), md.dir, u)
	if counts["modified"] > 0 {
		e.warnf("a modified migration was edited after it was applied; forge migrate apply refuses until it is restored")
	}
	return nil
}

func sortRecords(rs []*record) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].name < rs[j-1].name; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

// appliedNote says what a failed migration file left applied.
func appliedNote(se *migrate.StatementError) string {
	if se.Partial {
		return "the statements before it stay applied and recorded (MySQL commits each one); fix the cause and run the command again to finish the file without repeating them"
	}
	return "nothing of it was applied"
}
