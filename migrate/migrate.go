// Package migrate turns schema descriptors into DDL. Today it plans the
// creation of a schema in an empty database; each step is a Change that
// renders itself through a dialect, so that diffing a live database can add
// more kinds of Change (drop, alter, rebuild) to the same Plan.
package migrate

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/schema"
)

// Change is one step of a plan.
type Change interface {
	// Statements renders the change as SQL statements for d.
	Statements(d dialect.Dialect) ([]string, error)
	// Destructive reports whether the change can lose data.
	Destructive() bool
	// String describes the change for people.
	String() string
}

// Plan is an ordered list of changes.
type Plan struct {
	Changes []Change

	live *schema.Schema // the inspected schema the plan starts from (Diff)
}

// Statements renders every change, in order.
func (p *Plan) Statements(d dialect.Dialect) ([]string, error) {
	var out []string
	for _, c := range p.Changes {
		s, err := c.Statements(d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c, err)
		}
		out = append(out, s...)
	}
	return out, nil
}

// WriteTo writes the plan as a SQL script (for dry runs).
func (p *Plan) WriteTo(d dialect.Dialect, w io.Writer) (int64, error) {
	stmts, err := p.Statements(d)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, s := range stmts {
		k, err := io.WriteString(w, s+";\n")
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Options shape a creation plan.
type Options struct {
	// IfNotExists makes every CREATE tolerate an existing object, so that
	// the plan can run again.
	IfNotExists bool
}

// Create plans the creation of every table of s, with its indexes and
// foreign keys, in dependency order.
func Create(d dialect.Dialect, s *schema.Schema, opts Options) *Plan {
	s = fitNames(d, s)
	p := &Plan{}
	created := map[string]bool{}
	var deferred []Change
	for _, t := range s.Tables {
		ct := &CreateTable{Table: t, IfNotExists: opts.IfNotExists}
		for _, fk := range t.ForeignKeys {
			if created[fk.RefTable] || fk.RefTable == t.Name || !d.AddConstraint() {
				ct.ForeignKeys = append(ct.ForeignKeys, fk)
			} else {
				deferred = append(deferred, &AddForeignKey{Table: t.Name, FK: fk, IfNotExists: opts.IfNotExists})
			}
		}
		created[t.Name] = true
		p.Changes = append(p.Changes, ct)
		if isMySQL(d) {
			// MySQL has no CREATE INDEX IF NOT EXISTS: the indexes are
			// declared in CREATE TABLE (IF NOT EXISTS).
			ct.Indexes = t.Indexes
			continue
		}
		for _, ix := range t.Indexes {
			p.Changes = append(p.Changes, &CreateIndex{Table: t.Name, Index: ix, IfNotExists: opts.IfNotExists})
		}
	}
	p.Changes = append(p.Changes, deferred...)
	return p
}

// CreateTable creates a table with its columns, primary key and the given
// foreign keys.
type CreateTable struct {
	Table       *schema.Table
	ForeignKeys []*schema.ForeignKey
	// Indexes are declared inside CREATE TABLE (MySQL, whose CREATE INDEX
	// has no IF NOT EXISTS); else they are changes of their own.
	Indexes     []*schema.Index
	IfNotExists bool
}

func (c *CreateTable) Destructive() bool { return false }
func (c *CreateTable) String() string    { return "create table " + c.Table.Name }

func (c *CreateTable) Statements(d dialect.Dialect) ([]string, error) {
	t := c.Table
	b := []byte("CREATE TABLE ")
	if c.IfNotExists {
		b = append(b, "IF NOT EXISTS "...)
	}
	b = d.AppendIdent(b, t.Name)
	b = append(b, " ("...)
	inlinePK := len(t.PrimaryKey) == 1
	for i, col := range t.Columns {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n  "...)
		var err error
		if b, err = AppendColumn(b, d, col, inlinePK && col.PrimaryKey); err != nil {
			return nil, fmt.Errorf("column %s: %w", col.Name, err)
		}
	}
	if len(t.PrimaryKey) > 1 {
		b = append(b, ",\n  PRIMARY KEY ("...)
		b = appendIdents(b, d, t.PrimaryKey)
		b = append(b, ')')
	}
	for _, fk := range c.ForeignKeys {
		b = append(b, ",\n  "...)
		b = appendForeignKey(b, d, fk)
	}
	for _, ix := range c.Indexes {
		b = append(b, ",\n  "...)
		if ix.Unique {
			b = append(b, "UNIQUE "...)
		}
		b = append(b, "INDEX "...)
		b = d.AppendIdent(b, ix.Name)
		b = append(b, " ("...)
		b = appendIndexColumns(b, d, ix, t)
		b = append(b, ')')
	}
	for _, ck := range t.Checks {
		b = append(b, ",\n  CONSTRAINT "...)
		b = d.AppendIdent(b, ck.Name)
		b = append(b, " CHECK ("...)
		b = append(b, ck.Expr...)
		b = append(b, ')')
	}
	b = append(b, "\n)"...)
	b = append(b, d.TableOptions()...)
	return []string{string(b)}, nil
}

// AppendColumn appends a column definition.
func AppendColumn(b []byte, d dialect.Dialect, c *schema.Column, pk bool) ([]byte, error) {
	b = d.AppendIdent(b, c.Name)
	b = append(b, ' ')
	if c.Generated != "" {
		// An inspected generated column, re-created as it was.
		t := d.ColumnType(c)
		if d.AddConstraint() && c.Type != "" {
			t = c.Type
		}
		b = append(b, t...)
		if c.Collate != "" {
			b = append(b, " COLLATE "...)
			b = d.AppendIdent(b, c.Collate)
		}
		b = append(b, " GENERATED ALWAYS AS ("...)
		b = append(b, c.Generated...)
		if c.GeneratedStored || d.AddConstraint() {
			b = append(b, ") STORED"...)
		} else {
			b = append(b, ") VIRTUAL"...)
		}
		if !c.Nullable {
			b = append(b, " NOT NULL"...)
		}
		return b, nil
	}
	b = append(b, d.ColumnType(c)...)
	if c.Collate != "" {
		b = append(b, " COLLATE "...)
		b = d.AppendIdent(b, c.Collate)
	}
	if pk {
		b = append(b, " PRIMARY KEY"...)
		if c.NoReuse && !d.AddConstraint() {
			b = append(b, " AUTOINCREMENT"...)
		}
	} else if !c.Nullable {
		b = append(b, " NOT NULL"...)
	}
	if c.Default != nil {
		def, err := defaultSQL(d, c)
		if err != nil {
			return b, err
		}
		b = append(b, " DEFAULT "...)
		b = append(b, def...)
	}
	return b, nil
}

func appendIdents(b []byte, d dialect.Dialect, names []string) []byte {
	for i, n := range names {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = d.AppendIdent(b, n)
	}
	return b
}

func appendForeignKey(b []byte, d dialect.Dialect, fk *schema.ForeignKey) []byte {
	b = append(b, "CONSTRAINT "...)
	b = d.AppendIdent(b, fk.Name)
	b = append(b, " FOREIGN KEY ("...)
	b = appendIdents(b, d, fk.Columns)
	b = append(b, ") REFERENCES "...)
	b = d.AppendIdent(b, fk.RefTable)
	b = append(b, " ("...)
	b = appendIdents(b, d, fk.RefColumns)
	b = append(b, ')')
	if fk.OnDelete != schema.NoAction {
		b = append(b, " ON DELETE "...)
		b = append(b, fk.OnDelete...)
	}
	if fk.OnUpdate != schema.NoAction {
		b = append(b, " ON UPDATE "...)
		b = append(b, fk.OnUpdate...)
	}
	return b
}

// CreateIndex creates an index.
type CreateIndex struct {
	Table       string
	Index       *schema.Index
	IfNotExists bool
	// Def is the table's descriptor, when known: MySQL indexes a prefix of
	// its LONGTEXT columns (see appendIndexColumns).
	Def *schema.Table
}

func (c *CreateIndex) Destructive() bool { return false }
func (c *CreateIndex) String() string {
	return "create index " + c.Index.Name + " on " + c.Table + " (" + strings.Join(c.Index.Columns, ", ") + ")"
}

func (c *CreateIndex) Statements(d dialect.Dialect) ([]string, error) {
	b := []byte("CREATE ")
	if c.Index.Unique {
		b = append(b, "UNIQUE "...)
	}
	b = append(b, "INDEX "...)
	if c.IfNotExists && (!isMySQL(d) || isMariaDB(d)) { // MySQL has none: Create inlines indexes there
		b = append(b, "IF NOT EXISTS "...)
	}
	b = d.AppendIdent(b, c.Index.Name)
	b = append(b, " ON "...)
	b = d.AppendIdent(b, c.Table)
	b = append(b, " ("...)
	b = appendIndexColumns(b, d, c.Index, c.Def)
	b = append(b, ')')
	return []string{string(b)}, nil
}

// mysqlTextPrefix is the prefix, in characters, of a LONGTEXT column in a
// non-unique MySQL index: MySQL cannot index the whole column, and four
// such prefixes fit its 3,072-byte key limit in utf8mb4.
const mysqlTextPrefix = "(191)"

// appendIndexColumns appends an index's quoted columns. On MySQL, a
// LONGTEXT column of a non-unique index (def tells the column's kind; nil:
// unknown) is indexed by a prefix, which finds the same rows (MariaDB would
// pick a prefix itself; MySQL refuses the index). A unique index cannot use
// a prefix: its text columns must be VARCHAR (see dialect.MySQL).
func appendIndexColumns(b []byte, d dialect.Dialect, ix *schema.Index, def *schema.Table) []byte {
	for i, name := range ix.Columns {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = d.AppendIdent(b, name)
		if !isMySQL(d) || ix.Unique || def == nil {
			continue
		}
		if c := def.Column(name); c != nil && c.Generated == "" && storageType(d, c) == "longtext" {
			b = append(b, mysqlTextPrefix...)
		}
	}
	return b
}

// AddForeignKey adds a foreign key to an existing table.
type AddForeignKey struct {
	Table string
	FK    *schema.ForeignKey
	// IfNotExists skips a foreign key of that name that the table has
	// (PostgreSQL has no ADD CONSTRAINT IF NOT EXISTS: a DO block checks
	// pg_constraint first), so that CreateSchema can run again on a schema
	// whose foreign keys form a cycle.
	IfNotExists bool
}

func (c *AddForeignKey) Destructive() bool { return false }
func (c *AddForeignKey) String() string {
	return "add foreign key " + c.FK.Name + " on " + c.Table
}

func (c *AddForeignKey) Statements(d dialect.Dialect) ([]string, error) {
	if !d.AddConstraint() {
		return nil, fmt.Errorf("%s cannot add a constraint to an existing table", d.Name())
	}
	b := []byte("ALTER TABLE ")
	b = d.AppendIdent(b, c.Table)
	b = append(b, " ADD "...)
	if c.IfNotExists && isMariaDB(d) {
		// MariaDB: ADD CONSTRAINT name FOREIGN KEY IF NOT EXISTS (...).
		fk := appendForeignKey(nil, d, c.FK)
		i := len("CONSTRAINT ") + len(d.AppendIdent(nil, c.FK.Name)) + len(" FOREIGN KEY")
		b = append(b, fk[:i]...)
		b = append(b, " IF NOT EXISTS"...)
		b = append(b, fk[i:]...)
		return []string{string(b)}, nil
	}
	b = appendForeignKey(b, d, c.FK)
	if !c.IfNotExists || isMySQL(d) {
		// MySQL has no IF NOT EXISTS here: running CreateSchema again over
		// foreign keys that form a cycle fails there.
		return []string{string(b)}, nil
	}
	alter := string(b)
	cond := "SELECT 1 FROM pg_constraint WHERE conrelid = " + quote(ident(d, c.Table)) + "::regclass AND conname = " + quote(c.FK.Name)
	// A dollar-quote tag that the body does not contain.
	tag := "$forge$"
	for i := 1; strings.Contains(alter+cond, tag); i++ {
		tag = "$forge" + strconv.Itoa(i) + "$"
	}
	return []string{"DO " + tag + " BEGIN IF NOT EXISTS (" + cond + ") THEN " + alter + "; END IF; END " + tag}, nil
}

// fitNames returns s with every index and foreign key name fitted to d's
// identifier limit (dialect.FitName), so that the names forge writes are
// the names the database keeps and Inspect reports. It copies only the
// tables it changes.
func fitNames(d dialect.Dialect, s *schema.Schema) *schema.Schema {
	max := d.MaxIdentLen()
	if max <= 0 {
		return s
	}
	long := func(t *schema.Table) bool {
		for _, ix := range t.Indexes {
			if len(ix.Name) > max {
				return true
			}
		}
		for _, fk := range t.ForeignKeys {
			if len(fk.Name) > max {
				return true
			}
		}
		return false
	}
	var out *schema.Schema
	for i, t := range s.Tables {
		if !long(t) {
			continue
		}
		if out == nil {
			out = &schema.Schema{Tables: slices.Clone(s.Tables)}
		}
		nt := *t
		nt.Indexes = make([]*schema.Index, len(t.Indexes))
		for j, ix := range t.Indexes {
			nix := *ix
			nix.Name = dialect.FitName(ix.Name, max)
			nt.Indexes[j] = &nix
		}
		nt.ForeignKeys = make([]*schema.ForeignKey, len(t.ForeignKeys))
		for j, fk := range t.ForeignKeys {
			nfk := *fk
			nfk.Name = dialect.FitName(fk.Name, max)
			nt.ForeignKeys[j] = &nfk
		}
		out.Tables[i] = &nt
	}
	if out == nil {
		return s
	}
	return out
}
