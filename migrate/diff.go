package migrate

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/schema"
)

// Diff plans the changes that turn the live schema into the desired one, in
// an order that applies: new tables (referenced ones first), then changes
// to existing tables, then dropped tables. SQLite changes that ALTER TABLE
// cannot make become a RebuildTable (SQLite's documented twelve-step
// rebuild, data kept). An empty plan means no drift.
//
// What the live database has and forge's models do not declare is left to
// the database: generated columns are neither added, altered nor dropped,
// and CHECK constraints, triggers and views are not compared (a SQLite
// rebuild keeps them; see RebuildTable). Index and foreign key names of
// desired are fitted to d's identifier limit first (dialect.FitName), as
// Create does, so that they compare with what Inspect reads back.
func Diff(d dialect.Dialect, desired, live *schema.Schema) *Plan {
	desired = fitNames(d, desired)
	p := &Plan{live: live}
	liveByName := map[string]*schema.Table{}
	for _, t := range live.Tables {
		liveByName[t.Name] = t
	}
	wantByName := map[string]*schema.Table{}
	for _, t := range desired.Tables {
		wantByName[t.Name] = t
	}
	var created []*schema.Table
	for _, t := range desired.Tables {
		if liveByName[t.Name] == nil {
			created = append(created, t)
		}
	}
	if len(created) > 0 {
		sub := Create(d, &schema.Schema{Tables: created}, Options{})
		// Foreign keys to tables that already exist can stay inline.
		p.Changes = append(p.Changes, sub.Changes...)
	}
	for _, want := range desired.Tables {
		have := liveByName[want.Name]
		if have == nil {
			continue
		}
		p.Changes = append(p.Changes, diffTable(d, want, have, live)...)
	}
	for i := len(live.Tables) - 1; i >= 0; i-- {
		t := live.Tables[i]
		if wantByName[t.Name] == nil {
			p.Changes = append(p.Changes, &DropTable{Table: t})
		}
	}
	return p
}

// diffTable compares one table.
func diffTable(d dialect.Dialect, want, have *schema.Table, live *schema.Schema) []Change {
	var alters []Change
	rebuild := !slices.Equal(want.PrimaryKey, have.PrimaryKey)
	for _, wc := range want.Columns {
		hc := have.Column(wc.Name)
		if hc != nil && hc.Generated != "" {
			continue // the database computes it (see schema.Column.Generated)
		}
		if hc == nil {
			if d.AddConstraint() || canAddColumnSQLite(wc) {
				alters = append(alters, &AddColumn{Table: want.Name, Column: wc})
			} else {
				rebuild = true
			}
			continue
		}
		if ch := diffColumn(d, want.Name, wc, hc); ch != nil {
			if d.AddConstraint() {
				alters = append(alters, ch)
			} else {
				rebuild = true
			}
		}
	}
	for _, hc := range have.Columns {
		if want.Column(hc.Name) == nil && hc.Generated == "" {
			if d.AddConstraint() {
				alters = append(alters, &DropColumn{Table: want.Name, Column: hc})
			} else {
				rebuild = true
			}
		}
	}
	var fkAdds, fkDrops []Change
	for _, fk := range want.ForeignKeys {
		if findFK(have.ForeignKeys, fk) == nil {
			fkAdds = append(fkAdds, &AddForeignKey{Table: want.Name, FK: fk})
		}
	}
	for _, fk := range have.ForeignKeys {
		if findFK(want.ForeignKeys, fk) == nil {
			fkDrops = append(fkDrops, &DropForeignKey{Table: want.Name, FK: fk})
		}
	}
	if (len(fkAdds) > 0 || len(fkDrops) > 0) && !d.AddConstraint() {
		rebuild = true
	}
	if rebuild && !d.AddConstraint() {
		return []Change{&RebuildTable{Table: want, Live: have, LiveSchema: live}}
	}
	var out []Change
	out = append(out, fkDrops...)
	for _, ix := range have.Indexes {
		if w := findIndex(want.Indexes, ix.Name); w == nil || !sameIndex(w, ix) {
			out = append(out, &DropIndex{Table: want.Name, Index: ix})
		}
	}
	if rebuild {
		out = append(out, &ReplacePrimaryKey{Table: want.Name, Columns: want.PrimaryKey, Old: len(have.PrimaryKey) > 0, OldName: have.PrimaryKeyName})
	}
	out = append(out, alters...)
	for _, ix := range want.Indexes {
		if h := findIndex(have.Indexes, ix.Name); h == nil || !sameIndex(h, ix) {
			out = append(out, &CreateIndex{Table: want.Name, Index: ix, Def: want})
		}
	}
	return append(out, fkAdds...)
}

// canAddColumnSQLite reports whether SQLite's ALTER TABLE ADD COLUMN can add c.
func canAddColumnSQLite(c *schema.Column) bool {
	if c.PrimaryKey || c.Unique {
		return false
	}
	// NOT NULL columns go through a rebuild: SQLite accepts them with a
	// default, but libSQL (sqld) refuses ADD COLUMN ... NOT NULL DEFAULT on
	// a table that has rows.
	if !c.Nullable {
		return false
	}
	// SQLite refuses a non-constant default (such as DEFAULT now) in ADD COLUMN.
	return c.Default == nil || !c.Default.Now
}

func findIndex(list []*schema.Index, name string) *schema.Index {
	for _, ix := range list {
		if ix.Name == name {
			return ix
		}
	}
	return nil
}

func sameIndex(a, b *schema.Index) bool {
	return a.Unique == b.Unique && slices.Equal(a.Columns, b.Columns)
}

// findFK finds a foreign key with the same meaning (names aside).
func findFK(list []*schema.ForeignKey, fk *schema.ForeignKey) *schema.ForeignKey {
	for _, x := range list {
		if x.RefTable == fk.RefTable && slices.Equal(x.Columns, fk.Columns) && slices.Equal(x.RefColumns, fk.RefColumns) &&
			x.OnDelete == fk.OnDelete && x.OnUpdate == fk.OnUpdate {
			return x
		}
	}
	return nil
}

// diffColumn compares a desired column with a live one.
func diffColumn(d dialect.Dialect, table string, want, have *schema.Column) *AlterColumn {
	ch := &AlterColumn{Table: table, Column: want, Live: have}
	if storageType(d, want) != strings.ToLower(have.Type) && have.Type != "" {
		ch.Type = true
	}
	if want.AutoIncrement != have.AutoIncrement && d.AddConstraint() {
		ch.Identity = true
	}
	if !want.PrimaryKey && want.Nullable != have.Nullable {
		ch.Null = true
	}
	if !sameDefault(d, want, have) {
		ch.Default = true
	}
	if !ch.Type && !ch.Identity && !ch.Null && !ch.Default {
		return nil
	}
	return ch
}

// storageType is the type forge declares for c, lower-cased, without
// identity clauses: what introspection reports back.
func storageType(d dialect.Dialect, c *schema.Column) string {
	if c.Type != "" {
		return strings.ToLower(c.Type)
	}
	t := strings.ToLower(d.ColumnType(c))
	if i := strings.Index(t, " generated "); i >= 0 {
		t = t[:i]
	}
	return t
}

// defaultSQL renders c's default as the DDL writes it: the current time,
// a literal, or (for inspected columns) the expression the database
// reported, in parentheses as SQLite's grammar wants for expressions.
func defaultSQL(d dialect.Dialect, c *schema.Column) (string, error) {
	switch {
	case c.Default == nil:
		return "", nil
	case c.Default.Now:
		return d.DefaultNow(), nil
	case c.Default.Value != nil:
		b, err := d.AppendLiteral(nil, c.Kind, c.Default.Value)
		return string(b), err
	case c.Default.Expr != "":
		e := c.Default.Expr
		if !d.AddConstraint() && !(len(e) >= 2 && e[0] == '(' && balanced(e[1:len(e)-1])) && !isLiteral(e) {
			e = "(" + e + ")"
		}
		return e, nil
	}
	return "", fmt.Errorf("forge/migrate: column %s has an empty default", c.Name)
}

// isLiteral reports a default that SQLite accepts without parentheses: a
// number, a string, a blob, NULL, TRUE/FALSE or CURRENT_*.
func isLiteral(e string) bool {
	u := strings.ToUpper(e)
	switch u {
	case "NULL", "TRUE", "FALSE", "CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP":
		return true
	}
	if strings.HasPrefix(e, "'") || strings.HasPrefix(u, "X'") {
		return true
	}
	_, err := strconv.ParseFloat(strings.TrimPrefix(strings.TrimPrefix(e, "-"), "+"), 64)
	return err == nil
}

func sameDefault(d dialect.Dialect, want, have *schema.Column) bool {
	if want.AutoIncrement || have.AutoIncrement {
		return true // identity columns have no plain default
	}
	w, err := defaultSQL(d, want)
	if err != nil {
		return false
	}
	h := ""
	if have.Default != nil {
		h = have.Default.Expr
	}
	if w == h {
		return true
	}
	w, h = normDefault(w), normDefault(h)
	if w == h {
		return true
	}
	// Times: PostgreSQL re-writes a timestamp literal in its own format.
	if want.Kind == schema.Time {
		if a, err := driver.ParseTime(unquote(w)); err == nil {
			if b, err := parsePGTime(unquote(h)); err == nil {
				return a.Equal(b)
			}
		}
	}
	// JSON defaults: the database may re-space them.
	var a, b any
	if json.Unmarshal([]byte(unquote(w)), &a) == nil && json.Unmarshal([]byte(unquote(h)), &b) == nil {
		return reflect.DeepEqual(a, b)
	}
	return false
}

// normDefault strips what PostgreSQL adds when it stores a default: type
// casts ('x'::text), and the outer parentheses of an expression.
func normDefault(s string) string {
	s = strings.TrimSpace(s)
	for {
		i := strings.LastIndex(s, "::")
		if i < 0 || strings.ContainsAny(s[i:], "')") {
			break
		}
		s = s[:i]
	}
	for len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' && balanced(s[1:len(s)-1]) {
		s = s[1 : len(s)-1]
	}
	if s == "CURRENT_TIMESTAMP" {
		s = "now()"
	}
	return s
}

// parsePGTime reads PostgreSQL's text form of a timestamp with time zone,
// such as 2020-01-02 03:04:05.5+00 or ...+05:30.
func parsePGTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07", "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999-07:00:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return driver.ParseTime(s)
}

func balanced(s string) bool {
	depth := 0
	for _, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	}
	return s
}

// Describe lists a plan's changes for people, one per line, marking
// destructive ones.
func (p *Plan) Describe() string {
	var b strings.Builder
	for _, c := range p.Changes {
		mark := "  "
		if c.Destructive() {
			mark = "! "
		}
		fmt.Fprintf(&b, "%s%s\n", mark, c)
	}
	return b.String()
}

// Destructive returns the changes that can lose data.
func (p *Plan) Destructive() []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Destructive() {
			out = append(out, c)
		}
	}
	return out
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 }

// StorageType is the type forge declares for c in d, lower-cased and
// without identity clauses: what introspection reports back.
func StorageType(d dialect.Dialect, c *schema.Column) string { return storageType(d, c) }

// Applied returns what Inspect would report once s is applied to a
// database: every column's database type and its default's SQL filled in.
// It lets a desired schema stand as the live side of a diff, as a down
// migration needs: Diff(d, inspected, Applied(d, desired)).
func Applied(d dialect.Dialect, s *schema.Schema) *schema.Schema {
	s = fitNames(d, s)
	out := &schema.Schema{}
	for _, t := range s.Tables {
		nt := *t
		nt.Columns = make([]*schema.Column, len(t.Columns))
		for i, c := range t.Columns {
			nc := *c
			if nc.Type == "" {
				nc.Type = storageType(d, c)
			}
			if c.Default != nil {
				def := *c.Default
				if def.Expr == "" {
					def.Expr, _ = defaultSQL(d, c)
				}
				nc.Default = &def
			}
			nt.Columns[i] = &nc
		}
		out.Tables = append(out.Tables, &nt)
	}
	return out
}
