package forge

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/forge-orm/forge/driver"
)

// ErrNotFound is returned by FindUnique, FindFirst, Update and Delete when
// no row matches. errors.Is(err, sql.ErrNoRows) is also true.
var ErrNotFound error = notFound{}

type notFound struct{}

func (notFound) Error() string        { return "forge: not found" }
func (notFound) Is(target error) bool { return target == sql.ErrNoRows }

// ConstraintError reports a violated unique, foreign key, not null or check
// constraint, with the model and fields involved where forge can tell.
// Use errors.As to get it.
type ConstraintError = driver.ConstraintError

// CapabilityError is returned when the driver cannot do what was asked,
// such as an interactive transaction over an HTTP driver that only batches;
// its Use field names the alternative.
type CapabilityError = driver.CapabilityError

// ValueError reports a value forge refuses to store because not every
// database would give it back exactly: text with a NUL byte or invalid
// UTF-8, a NaN or infinite float, a time outside years 1 to 9999, JSON
// holding \u0000 or invalid UTF-8. It names the model and field (or the position of a raw
// SQL argument); nothing is written. See docs/ARCHITECTURE.md, "Values".
type ValueError = driver.ValueError

// BatchError reports which statement of a batch failed.
type BatchError = driver.BatchError

// The kinds of ConstraintError.
const (
	UniqueViolation     = driver.Unique
	ForeignKeyViolation = driver.ForeignKey
	NotNullViolation    = driver.NotNull
	CheckViolation      = driver.Check
)

// enrich adds model and field names to a constraint error raised by a
// statement of operation op on model m (nil for raw SQL).
func (db *DB) enrich(err error, m *model, op Operation) error {
	var ce *driver.ConstraintError
	if !errors.As(err, &ce) || ce.Model != "" {
		return err
	}
	target := m
	if ce.Table != "" && (target == nil || target.table != ce.Table) {
		target = nil
		for _, x := range db.schema.models {
			if x.table == ce.Table {
				target = x
				break
			}
		}
	}
	if target == nil && ce.Constraint != "" {
		for _, x := range db.schema.models {
			if constraintOf(x, ce.Constraint) != nil {
				target = x
				break
			}
		}
	}
	if target == nil || !knownColumns(target, ce.Columns) {
		// SQLite names columns as "table.column, ..." without quoting, so
		// a name with a dot, a comma or a colon is misread: find the
		// model's key whose text the message holds.
		if x, cols := db.matchText(ce, m); x != nil {
			target, ce.Table, ce.Columns = x, x.table, cols
		}
	}
	if target == nil {
		return err
	}
	ce.Model = target.name
	if ce.Table == "" {
		ce.Table = target.table
	}
	if ce.Kind == driver.ForeignKey && ce.Constraint == "" && len(ce.Columns) == 0 && target == m &&
		(op == OpCreate || op == OpCreateMany) && len(m.desc.ForeignKeys) == 1 {
		// SQLite does not say which key failed. A plain insert can only
		// break the foreign keys of its own table: with one, it is that
		// one. (An upsert may update a key that other tables reference.)
		fk := m.desc.ForeignKeys[0]
		ce.Constraint, ce.Columns = fk.Name, fk.Columns
	}
	if ce.Constraint != "" {
		// The schema knows the constraint's columns better than the
		// database's message does.
		if cols := constraintOf(target, ce.Constraint); cols != nil {
			ce.Columns = cols
		}
	}
	if ce.Constraint == "" && ce.Kind == driver.Unique && len(ce.Columns) > 0 {
		for _, ix := range target.desc.Indexes {
			if ix.Unique && sameStrings(ix.Columns, ce.Columns) {
				ce.Constraint = ix.Name
			}
		}
		if target.pk != nil && sameStrings([]string{target.pk.col}, ce.Columns) {
			ce.Constraint = target.table + "_pkey"
		}
	}
	for _, c := range ce.Columns {
		for _, f := range target.fields {
			if f.col == c {
				ce.Fields = append(ce.Fields, f.name)
			}
		}
	}
	return err
}

// knownColumns reports whether every column is a column of m.
func knownColumns(m *model, cols []string) bool {
	for _, c := range cols {
		found := false
		for _, f := range m.fields {
			found = found || f.col == c
		}
		if !found {
			return false
		}
	}
	return true
}

// matchText finds, for a unique or not-null violation whose columns were
// not read, the model (the statement's first) and key whose SQLite text
// ("table.a, table.b") the error message holds; the longest match wins.
func (db *DB) matchText(ce *driver.ConstraintError, m *model) (*model, []string) {
	if ce.Err == nil || (ce.Kind != driver.Unique && ce.Kind != driver.NotNull) {
		return nil, nil
	}
	msg := ce.Err.Error()
	var best *model
	var bestCols []string
	bestLen := 0
	try := func(x *model, cols []string) {
		text := ""
		for i, c := range cols {
			if i > 0 {
				text += ", "
			}
			text += x.table + "." + c
		}
		i := strings.Index(msg, "failed: "+text)
		if i < 0 {
			return
		}
		// The key must end the list: what follows is not ", table.".
		rest := msg[i+len("failed: ")+len(text):]
		if strings.HasPrefix(rest, ", "+x.table+".") || len(text) <= bestLen {
			return
		}
		best, bestCols, bestLen = x, cols, len(text)
	}
	models := db.schema.models
	if m != nil {
		models = append([]*model{m}, models...)
	}
	for _, x := range models {
		if ce.Kind == driver.NotNull {
			for _, f := range x.fields {
				try(x, []string{f.col})
			}
			continue
		}
		if x.pk != nil {
			try(x, []string{x.pk.col})
		}
		for _, ix := range x.desc.Indexes {
			if ix.Unique {
				try(x, ix.Columns)
			}
		}
	}
	return best, bestCols
}

// constraintOf returns the columns of the named index or foreign key of m.
func constraintOf(m *model, name string) []string {
	for _, ix := range m.desc.Indexes {
		if ix.Name == name {
			return ix.Columns
		}
	}
	for _, fk := range m.desc.ForeignKeys {
		if fk.Name == name {
			return fk.Columns
		}
	}
	if m.pk != nil && name == m.table+"_pkey" {
		return []string{m.pk.col}
	}
	return nil
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// QueryError is a mistake in how a query was built: a pointer that is not
// a field of the model, an unknown relation, a missing filter. It is
// returned before anything reaches the database.
type QueryError struct {
	Model string
	Msg   string
}

func (e *QueryError) Error() string {
	if e.Model == "" {
		return "forge: " + e.Msg
	}
	return "forge: " + e.Model + ": " + e.Msg
}

func qerr(m *model, format string, args ...any) error {
	return &QueryError{Model: m.name, Msg: fmt.Sprintf(format, args...)}
}

// SchemaError is one problem found in a model declaration.
type SchemaError struct {
	Model string
	Table string
	Field string
	Msg   string
}

func (e *SchemaError) Error() string {
	s := "forge: model " + e.Model
	if e.Table != "" && e.Table != e.Model {
		s += " (table " + e.Table + ")"
	}
	if e.Field != "" {
		s += ": field " + e.Field
	}
	return s + ": " + e.Msg
}
