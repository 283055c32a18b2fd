package forge

import (
	"context"
	"fmt"
	"strings"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/migrate"
	"github.com/forge-orm/forge/schema"
)

// Severity ranks a Finding.
type Severity int

// The severities of findings. Errors are what will fail at run time; the
// forge doctor command exits non-zero when it reports one.
const (
	Info Severity = iota
	Warning
	Error
)

// String returns "info", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// Finding is one result of Doctor (and of the forge doctor command): a
// stable ID such as "db.unreachable", a one-line Message saying what is
// wrong, and a Fix saying what to change.
type Finding struct {
	ID       string
	Severity Severity
	Message  string
	Fix      string
}

// String formats f on one line, then its fix: "error db.unreachable: ... (fix: ...)".
func (f Finding) String() string {
	s := f.Severity.String() + " " + f.ID + ": " + f.Message
	if f.Fix != "" {
		s += " (fix: " + f.Fix + ")"
	}
	return s
}

// The IDs of the findings Doctor reports.
const (
	FindingUnreachable    = "db.unreachable"      // the database did not answer SELECT 1
	FindingDrift          = "schema.drift"        // the database's tables differ from the models
	FindingInspect        = "schema.inspect"      // the catalog could not be read
	FindingTransactions   = "driver.transactions" // the driver has no interactive transactions
	FindingNoAtomicWrites = "driver.atomic"       // the driver has neither transactions nor atomic batches
)

// DoctorOption tells Doctor what the program uses.
type DoctorOption func(*doctorConfig)

type doctorConfig struct {
	transactions bool
}

// UsesTransactions tells Doctor that the program calls db.Transaction: on
// a driver without interactive transactions (D1, Neon over HTTP, D1's REST
// API) that is an error rather than a note.
func UsesTransactions() DoctorOption {
	return func(c *doctorConfig) { c.transactions = true }
}

// Doctor checks that db will work and says what to change when it will
// not: that the database answers, that its tables match the schema's
// models (db.Drift), and what the driver cannot do that a program may ask
// of it (db.Transaction on a driver without interactive transactions). It
// only reads. No finding means nothing to change; a finding of severity
// Error is something that will fail. A nil DB is one Error finding.
//
//	for _, f := range forge.Doctor(ctx, db, forge.UsesTransactions()) {
//		log.Print(f)
//	}
//
// The forge doctor command runs the same checks from the command line,
// with checks of an edge build, wrangler.toml and forge gateway's role.
func Doctor(ctx context.Context, db *DB, opts ...DoctorOption) []Finding {
	if !db.ok() {
		return []Finding{{ID: FindingUnreachable, Severity: Error, Message: "forge.Doctor got a nil or unopened *forge.DB", Fix: "pass the DB that forge.Open returned"}}
	}
	return DoctorConn(ctx, db.conn, db.d, db.schema.desc, opts...)
}

// DoctorConn runs Doctor's checks on a driver connection and a schema
// descriptor (nil skips the drift check): for tools that hold those
// rather than a *DB, such as the forge command.
func DoctorConn(ctx context.Context, conn driver.Conn, d dialect.Dialect, desired *schema.Schema, opts ...DoctorOption) []Finding {
	var cfg doctorConfig
	for _, o := range opts {
		o(&cfg)
	}
	name := driver.Name(conn)
	var fs []Finding
	if err := ping(ctx, conn); err != nil {
		return append(fs, Finding{ID: FindingUnreachable, Severity: Error,
			Message: fmt.Sprintf("the database did not answer SELECT 1 through %s: %v", name, oneLine(err)),
			Fix:     "check the URL, credentials and that the server (or, for an HTTP driver, its endpoint: forge gateway, Neon, sqld) is running and reachable from here"})
	}
	if desired != nil {
		live, err := migrate.Inspect(ctx, conn, d)
		if err != nil {
			fs = append(fs, Finding{ID: FindingInspect, Severity: Warning,
				Message: fmt.Sprintf("could not read the database's catalog to compare it with the models: %v", oneLine(err)),
				Fix:     "run the check with a role that can read the catalog (forge doctor --db), or compare with forge diff"})
		} else if plan := migrate.Diff(d, desired, live); !plan.Empty() {
			lines := strings.Split(strings.TrimSpace(plan.Describe()), "\n")
			msg := fmt.Sprintf("the database differs from the models: %d change(s) needed, first: %s", len(plan.Changes), strings.TrimSpace(lines[0]))
			fs = append(fs, Finding{ID: FindingDrift, Severity: Error, Message: msg,
				Fix: "apply the models: forge push --schema DIR --db URL (or forge migrate new NAME, then forge migrate apply); forge diff shows every change"})
		}
	}
	_, tx := conn.(driver.Beginner)
	_, batch := conn.(driver.Batcher)
	switch {
	case !tx && batch:
		f := Finding{ID: FindingTransactions, Severity: Info,
			Message: "the " + name + " driver has no interactive transactions: db.Transaction returns a *forge.CapabilityError",
			Fix:     "write atomically with db.Batch (one round trip, all or nothing)"}
		if cfg.transactions {
			f.Severity = Error
			f.Message = "the program calls db.Transaction, but the " + name + " driver has no interactive transactions: it will fail with a *forge.CapabilityError"
			f.Fix = "replace db.Transaction with db.Batch (all or nothing, one round trip), reading before the batch; or use a driver with transactions (libsql, planetscale, pgx, Hyperdrive)"
		}
		fs = append(fs, f)
	case !tx && !batch:
		sev := Warning
		if cfg.transactions {
			sev = Error
		}
		fs = append(fs, Finding{ID: FindingNoAtomicWrites, Severity: sev,
			Message: "the " + name + " driver has neither transactions nor atomic batches: db.Transaction, db.Batch and a CreateMany of several statements fail",
			Fix:     "write one statement at a time, or use a driver with atomic batches (d1 in a Worker, neon, libsql)"})
	}
	return fs
}

// ping runs SELECT 1.
func ping(ctx context.Context, conn driver.Conn) error {
	rows, err := conn.Query(ctx, "SELECT 1", nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

// oneLine keeps a finding's message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
