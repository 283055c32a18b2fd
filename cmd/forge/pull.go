package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/format"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/forge-orm/forge"
	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/migrate"
	"github.com/forge-orm/forge/schema"
)

var pullCmd = &command{
	name:    "pull",
	summary: "write Go models for an existing database",
	usage: `Usage: forge pull --db URL [--out FILE.go] [--package NAME] [--strict]

Pull inspects the database and writes Go code for it: a struct and a
forge.Model declaration per table, and a Schema variable holding them all,
so that pushing the models back finds no drift. Column kinds follow the
database's types; nullable columns become pointer fields declared with
Null...; names become Go names with initialisms (user_id → UserID), with
.Column("...") where forge's default snake_case would differ; single-column
unique indexes become .Unique(), other indexes f.Index(...); foreign keys
become .References(forge.Ref[T]()) with their ON DELETE/ON UPDATE actions;
literal defaults become .Default(v), the current time .DefaultNow().

What forge cannot describe exactly (composite or missing primary keys,
expression or partial indexes, types other than forge's own, defaults that
are not literals, multi-column foreign keys) is not guessed: the code says
so in a TODO(forge pull) comment, naming what pushing the models would
change, and pull lists those points on stderr. What the database has and
models do not declare (CHECK constraints, generated columns, which are left
out of the struct, AUTOINCREMENT, GENERATED ALWAYS identity, collations,
triggers, views) is flagged the same way; diff and push leave it to the
database. With --strict they are an error and nothing is written.

Flags:
  --db URL          sqlite:PATH or postgres://... (default $FORGE_DATABASE_URL)
  --out FILE        the Go file to write (default: standard output)
  --package NAME    the package clause (default: the name of FILE's directory, else models)
  --strict          fail (exit 1) instead of writing TODO comments

Example:
  forge pull --db postgres://localhost/app --out internal/models/models.go
`,
}

func init() { pullCmd.run = runPull }

func runPull(e *env, args []string) error {
	c := pullCmd
	fs := newFlags(c)
	dbArg := dbFlag(fs)
	out := fs.String("out", "", "")
	pkg := fs.String("package", "", "")
	strict := fs.Bool("strict", false, "")
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
	pkgName := *pkg
	if pkgName == "" {
		pkgName = "models"
		if *out != "" && *out != "-" {
			if abs, err := filepath.Abs(*out); err == nil {
				if n := strings.ToLower(filepath.Base(filepath.Dir(abs))); token.IsIdentifier(n) && !token.IsKeyword(n) && n != "main" {
					pkgName = n
				}
			}
		}
	} else if !token.IsIdentifier(pkgName) || token.IsKeyword(pkgName) {
		return usagef("pull: --package %q is not a Go package name", pkgName)
	}
	u, err := parseDB(*dbArg)
	if err != nil {
		return err
	}
	conn, err := u.open(e.ctx, true)
	if err != nil {
		return err
	}
	defer conn.Close()
	src, todos, err := pull(e.ctx, conn, pkgName, u.String())
	if err != nil {
		return err
	}
	if *strict && len(todos) > 0 {
		return fmt.Errorf("pull --strict: forge cannot describe the database exactly; nothing written:\n  - %s", strings.Join(todos, "\n  - "))
	}
	if *out == "" || *out == "-" {
		if _, err := e.stdout.Write(src); err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(*out, src, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "forge: wrote %s\n", *out)
	}
	if len(todos) > 0 {
		e.warnf("%d point(s) need attention (TODO(forge pull) comments in the code):\n  - %s", len(todos), strings.Join(todos, "\n  - "))
	}
	return nil
}

// pullModel is one table's generated model.
type pullModel struct {
	t        *schema.Table
	typeName string
	varName  string
	skip     string // why the table is not a model
	fields   []*pullField
	byCol    map[string]*pullField
	lines    []string // extra declaration lines (f.Index) and comments
	desc     *schema.Table
}

type pullField struct {
	col      *schema.Column
	name     string
	goType   string
	method   string
	mods     []string
	comments []string
	unique   bool // .Unique() used
	index    bool // .Index() used
	desc     *schema.Column
}

type puller struct {
	d       dialect.Dialect
	models  []*pullModel
	byTable map[string]*pullModel
	todos   []string
	imports map[string]bool
	partial map[string]bool // "table.index" of partial indexes
	noted   map[string]bool // "table.column" with a TODO at the field
	header  []string        // TODO comments about the whole database
}

func (p *puller) todo(format string, args ...any) string {
	s := fmt.Sprintf(format, args...)
	p.todos = append(p.todos, s)
	return "// TODO(forge pull): " + s
}

// pull inspects the database and returns formatted Go source and the
// points forge could not describe.
func pull(ctx context.Context, conn driver.Conn, pkgName, source string) ([]byte, []string, error) {
	d := conn.Dialect()
	live, err := migrate.Inspect(ctx, conn, d)
	if err != nil {
		return nil, nil, fmt.Errorf("inspecting the database: %w", err)
	}
	partial, err := partialIndexes(ctx, conn, live)
	if err != nil {
		return nil, nil, fmt.Errorf("inspecting the database's indexes: %w", err)
	}
	p := &puller{d: d, byTable: map[string]*pullModel{}, imports: map[string]bool{}, partial: partial, noted: map[string]bool{}}
	names := namer{"Schema": true}
	// Types first (singular), then variables (plural), so that neither
	// steals the other's name.
	for _, t := range live.Tables {
		m := &pullModel{t: t, byCol: map[string]*pullField{}}
		base := goName(t.Name)
		if base == "" {
			base = "Table"
		}
		m.typeName = names.take(singular(base))
		p.models = append(p.models, m)
		p.byTable[t.Name] = m
	}
	for _, m := range p.models {
		base := goName(m.t.Name)
		if base == "" || base == m.typeName {
			base = m.typeName + "Model"
		}
		m.varName = names.take(base)
	}
	for _, m := range p.models {
		p.checkTable(m)
	}
	for _, m := range p.models {
		if m.skip == "" {
			p.fields(m)
		}
	}
	for _, m := range p.models {
		if m.skip == "" {
			p.indexes(m)
			p.foreignKeys(m)
		}
	}
	for _, tr := range live.Triggers {
		if m := p.byTable[tr.Table]; m != nil && m.skip == "" {
			m.lines = append(m.lines, p.todo("trigger %q on %s is the database's own; forge models do not declare triggers: push leaves it and SQLite table rebuilds keep it, but a database created from these models lacks it", tr.Name, tr.Table))
		}
	}
	for _, v := range live.Views {
		p.header = append(p.header, p.todo("view %q is the database's own; forge models do not declare views: push leaves it and SQLite table rebuilds keep it, but a database created from these models lacks it", v.Name))
	}
	// The check: what would pushing the generated models change?
	desired := &schema.Schema{}
	for _, m := range p.models {
		if m.skip == "" {
			desired.Tables = append(desired.Tables, m.desc)
		}
	}
	var residual []string
	for _, ch := range migrate.Diff(d, desired, live).Changes {
		if dt, ok := ch.(*migrate.DropTable); ok && p.byTable[dt.Table.Name] != nil && p.byTable[dt.Table.Name].skip != "" {
			continue // explained where the table is skipped
		}
		if ac, ok := ch.(*migrate.AlterColumn); ok && p.noted[ac.Table+"."+ac.Column.Name] {
			continue // explained at the field
		}
		residual = append(residual, ch.String())
	}
	return p.render(pkgName, source, residual)
}

// checkTable decides whether forge can model a table at all.
func (p *puller) checkTable(m *pullModel) {
	t := m.t
	drop := "; pushing these models would drop the table (forge push refuses that without --accept-data-loss)"
	switch {
	case len(t.PrimaryKey) == 0:
		m.skip = p.todo("table %q is not modeled: it has no primary key, and a forge model has one primary key column (f.ID or f.TextID)%s", t.Name, drop)
	case len(t.PrimaryKey) > 1:
		m.skip = p.todo("table %q is not modeled: its primary key (%s) has several columns, and a forge model has one primary key column (f.ID or f.TextID)%s", t.Name, strings.Join(t.PrimaryKey, ", "), drop)
	default:
		pk := t.Column(t.PrimaryKey[0])
		switch {
		case pk == nil:
			m.skip = p.todo("table %q is not modeled: its primary key column %q was not found%s", t.Name, t.PrimaryKey[0], drop)
		case pk.Kind == schema.ID && strings.EqualFold(pk.Type, migrate.StorageType(p.d, pk)):
		case pk.Kind == schema.Text && !pk.AutoIncrement && strings.EqualFold(pk.Type, migrate.StorageType(p.d, &schema.Column{Kind: schema.TextID})):
		default:
			want := "bigint GENERATED BY DEFAULT AS IDENTITY"
			if p.d == dialect.SQLite {
				want = "INTEGER PRIMARY KEY"
			}
			m.skip = p.todo("table %q is not modeled: its primary key %s is %s, and forge primary keys are f.ID (%s) or f.TextID (text)%s", t.Name, pk.Name, describeType(pk), want, drop)
		}
	}
}

func describeType(c *schema.Column) string {
	s := c.Type
	if s == "" {
		s = "untyped"
	}
	if c.AutoIncrement {
		s += " (auto-increment)"
	}
	return s
}

// fieldKinds maps a kind to its Go type and Fields method.
func fieldKind(k schema.Kind, nullable bool) (goType, method string) {
	var t, m string
	switch k {
	case schema.ID:
		return "int64", "ID"
	case schema.TextID:
		return "string", "TextID"
	case schema.Text:
		t, m = "string", "Text"
	case schema.Int64:
		t, m = "int64", "Int"
	case schema.Int32:
		t, m = "int32", "Int32"
	case schema.Float:
		t, m = "float64", "Float"
	case schema.Bool:
		t, m = "bool", "Bool"
	case schema.Time:
		t, m = "time.Time", "Time"
	case schema.Bytes:
		if nullable {
			return "[]byte", "NullBytes"
		}
		return "[]byte", "Bytes"
	case schema.JSON:
		if nullable {
			return "json.RawMessage", "NullJSON"
		}
		return "json.RawMessage", "JSON"
	default:
		t, m = "string", "Text"
	}
	if nullable {
		return "*" + t, "Null" + m
	}
	return t, m
}

func (p *puller) fields(m *pullModel) {
	t := m.t
	m.desc = &schema.Table{Name: t.Name, PrimaryKey: slices.Clone(t.PrimaryKey)}
	names := namer{}
	for _, ck := range t.Checks {
		m.lines = append(m.lines, p.todo("%s has the CHECK constraint %q (%s); forge models do not declare CHECK constraints: the database keeps enforcing it (diff and push leave it alone, SQLite table rebuilds keep it), but a table created from this model lacks it", t.Name, ck.Name, ck.Expr))
	}
	for i, c := range t.Columns {
		if c.Generated != "" {
			kind := "VIRTUAL"
			if c.GeneratedStored {
				kind = "STORED"
			}
			m.lines = append(m.lines, p.todo("%s.%s is a generated column (%s, %s); forge models do not declare generated columns, so it is left out of this model: diff and push leave it to the database, but a table created from this model lacks it", t.Name, c.Name, c.Generated, kind))
			continue
		}
		f := &pullField{col: c}
		base := goName(c.Name)
		if base == "" {
			base = "Column" + strconv.Itoa(i+1)
		}
		f.name = names.take(base)
		kind := c.Kind
		pk := c.PrimaryKey
		if pk && kind == schema.Text {
			kind = schema.TextID
		}
		nullable := c.Nullable && !pk
		f.goType, f.method = fieldKind(kind, nullable)
		switch kind {
		case schema.Time:
			p.imports["time"] = true
		case schema.JSON:
			p.imports["encoding/json"] = true
		}
		f.desc = &schema.Column{Name: c.Name, Field: f.name, Kind: kind, Nullable: nullable, PrimaryKey: pk, AutoIncrement: kind == schema.ID,
			// The keys the column is part of decide its type on MySQL (VARCHAR).
			Unique: c.Unique, UniqueKey: c.UniqueKey, ForeignKey: c.ForeignKey}
		if forge.ColumnName(f.name) != c.Name {
			f.mods = append(f.mods, ".Column("+strconv.Quote(c.Name)+")")
		}
		if want := migrate.StorageType(p.d, f.desc); !strings.EqualFold(c.Type, want) {
			f.comments = append(f.comments, p.todo("%s.%s is %s in the database; forge declares a %s field as %s, so pushing this model changes the column's type", t.Name, c.Name, describeType(c), kind, want))
		}
		if c.IdentityAlways {
			f.comments = append(f.comments, p.todo("%s.%s is GENERATED ALWAYS AS IDENTITY; forge's f.ID is GENERATED BY DEFAULT: pushing leaves the column as it is (the database refuses ids that inserts set), but a table created from this model accepts them", t.Name, c.Name))
		}
		if c.NoReuse {
			f.comments = append(f.comments, p.todo("%s.%s is AUTOINCREMENT (the ids of deleted rows are never reused); forge's f.ID does not declare it: pushing leaves it and SQLite table rebuilds keep it, but a table created from this model may reuse ids", t.Name, c.Name))
		}
		if c.Collate != "" && p.d.Name() == "mysql" {
			f.comments = append(f.comments, p.todo("%s.%s has the collation %s, which compares text ignoring case or trailing spaces: forge's Eq, Contains, StartsWith, EndsWith and Unique match text literally on every database but would not here; convert the column (ALTER TABLE %s MODIFY %s ... COLLATE %s) before relying on them", t.Name, c.Name, c.Collate, t.Name, c.Name, mysqlCollation(p.d)))
		} else if c.Collate != "" {
			f.comments = append(f.comments, p.todo("%s.%s has the collation %s; forge models do not declare collations: pushing leaves it and SQLite table rebuilds keep it, but a table created from this model compares with the default collation", t.Name, c.Name, c.Collate))
		}
		p.fieldDefault(m, f, kind)
		if len(f.comments) > 0 {
			p.noted[t.Name+"."+c.Name] = true
		}
		m.fields = append(m.fields, f)
		m.byCol[c.Name] = f
		m.desc.Columns = append(m.desc.Columns, f.desc)
	}
}

func (p *puller) fieldDefault(m *pullModel, f *pullField, kind schema.Kind) {
	c := f.col
	if c.Default == nil || c.AutoIncrement {
		return
	}
	if c.PrimaryKey {
		f.comments = append(f.comments, p.todo("%s.%s has the default %s in the database; forge primary keys take no default (TextID values are generated by forge), so pushing this model removes it", m.t.Name, c.Name, c.Default.Expr))
		return
	}
	if c.Default.Now {
		if kind == schema.Time {
			f.mods = append(f.mods, ".DefaultNow()")
			f.desc.Default = &schema.Default{Now: true}
			return
		}
		f.comments = append(f.comments, p.todo("%s.%s defaults to the current time (%s) but is a %s column; DefaultNow is for time fields, so pushing this model removes the default", m.t.Name, c.Name, c.Default.Expr, kind))
		return
	}
	v, ok := literalDefault(p.d, &schema.Column{Kind: kind, Default: c.Default})
	if !ok {
		f.comments = append(f.comments, p.todo("%s.%s has the default %s, which is not a literal forge can declare; pushing this model removes it", m.t.Name, c.Name, c.Default.Expr))
		return
	}
	lit, val := goLiteral(kind, v)
	if kind == schema.Time {
		p.imports["time"] = true
	}
	if kind == schema.JSON {
		p.imports["encoding/json"] = true
	}
	f.mods = append(f.mods, ".Default("+lit+")")
	f.desc.Default = &schema.Default{Value: val}
}

// goLiteral writes a default as Go source, and returns the value forge
// will hold for it.
func goLiteral(k schema.Kind, v any) (string, any) {
	switch x := v.(type) {
	case string:
		if k == schema.JSON {
			var buf bytes.Buffer
			if json.Compact(&buf, []byte(x)) == nil {
				return "json.RawMessage(" + strconv.Quote(x) + ")", buf.String()
			}
		}
		return strconv.Quote(x), x
	case int64:
		return "int64(" + strconv.FormatInt(x, 10) + ")", x
	case int32:
		return "int32(" + strconv.FormatInt(int64(x), 10) + ")", x
	case float64:
		return "float64(" + strconv.FormatFloat(x, 'g', -1, 64) + ")", x
	case bool:
		return strconv.FormatBool(x), x
	case time.Time:
		x = x.UTC()
		return fmt.Sprintf("time.Date(%d, time.%s, %d, %d, %d, %d, %d, time.UTC)", x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), x.Second(), x.Nanosecond()), x
	case []byte:
		var b strings.Builder
		b.WriteString("[]byte{")
		for i, c := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "0x%02x", c)
		}
		b.WriteString("}")
		return b.String(), x
	}
	return fmt.Sprintf("%#v", v), v
}

func (p *puller) indexes(m *pullModel) {
	t := m.t
	for _, ix := range t.Indexes {
		var fields []*pullField
		ok := true
		for _, col := range ix.Columns {
			f := m.byCol[col]
			if f == nil {
				ok = false
				break
			}
			fields = append(fields, f)
		}
		if !ok {
			cols := make([]string, len(ix.Columns))
			for i, c := range ix.Columns {
				cols[i] = c
				if c == "" {
					cols[i] = "(expression)"
				}
			}
			m.lines = append(m.lines, p.todo("index %q of %s is on an expression (%s); forge cannot declare it, so pushing this model drops it", ix.Name, t.Name, strings.Join(cols, ", ")))
			continue
		}
		if p.partial[t.Name+"."+ix.Name] {
			m.lines = append(m.lines, p.todo("index %q of %s is partial (it has a WHERE clause); forge declares it as an index of all rows: pushing leaves the index alone, but a table created from this model gets a full index", ix.Name, t.Name))
		}
		if strings.HasPrefix(ix.Name, "sqlite_autoindex_") {
			m.lines = append(m.lines, p.todo("index %q of %s comes from a UNIQUE constraint in the table's definition; it is declared under its name so that pushing changes nothing, but SQLite refuses that name when forge creates the table anew: rename it in the model before creating a new database from it", ix.Name, t.Name))
		}
		suffix := "idx"
		if ix.Unique {
			suffix = "key"
		}
		defName := dialect.ObjectName(t.Name, ix.Columns, suffix)
		desc := &schema.Index{Name: ix.Name, Columns: slices.Clone(ix.Columns), Unique: ix.Unique}
		m.desc.Indexes = append(m.desc.Indexes, desc)
		if len(fields) == 1 && ix.Name == defName && !fields[0].unique && !fields[0].index {
			f := fields[0]
			if ix.Unique {
				f.mods = append(f.mods, ".Unique()")
				f.unique = true
				f.desc.Unique = true
			} else {
				f.mods = append(f.mods, ".Index()")
				f.index = true
			}
			continue
		}
		var b strings.Builder
		b.WriteString("f.Index(")
		for i, f := range fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("&t." + f.name)
		}
		b.WriteString(")")
		if ix.Unique {
			b.WriteString(".Unique()")
		}
		if ix.Name != defName {
			b.WriteString(".Name(" + strconv.Quote(ix.Name) + ")")
		}
		m.lines = append(m.lines, b.String())
	}
}

// keyCompatible mirrors forge's rule for a foreign key column of kind fk
// referencing a primary key of kind pk.
func keyCompatible(fk, pk schema.Kind) bool {
	switch pk {
	case schema.ID, schema.Int64:
		return fk == schema.Int64 || fk == schema.ID
	case schema.TextID, schema.Text:
		return fk == schema.Text || fk == schema.TextID
	case schema.Int32:
		return fk == schema.Int32
	}
	return false
}

func (p *puller) foreignKeys(m *pullModel) {
	t := m.t
	for _, fk := range t.ForeignKeys {
		target := p.byTable[fk.RefTable]
		what := fmt.Sprintf("the foreign key %s of %s (%s) → %s(%s)", fk.Name, t.Name, strings.Join(fk.Columns, ", "), fk.RefTable, strings.Join(fk.RefColumns, ", "))
		drop := "; pushing this model drops it"
		switch {
		case len(fk.Columns) != 1:
			m.lines = append(m.lines, p.todo("%s has several columns; forge references one column%s", what, drop))
			continue
		case target == nil || target.skip != "":
			m.lines = append(m.lines, p.todo("%s is not declared: %s is not modeled%s", what, fk.RefTable, drop))
			continue
		case len(target.t.PrimaryKey) != 1 || fk.RefColumns[0] != target.t.PrimaryKey[0]:
			m.lines = append(m.lines, p.todo("%s does not reference the primary key of %s; forge references primary keys%s", what, fk.RefTable, drop))
			continue
		}
		f := m.byCol[fk.Columns[0]]
		if f == nil {
			continue
		}
		if slices.ContainsFunc(f.mods, func(s string) bool { return strings.HasPrefix(s, ".References(") }) {
			m.lines = append(m.lines, p.todo("%s is a second foreign key on the column; forge declares one per field%s", what, drop))
			continue
		}
		pk := target.byCol[target.t.PrimaryKey[0]]
		if !keyCompatible(f.desc.Kind, pk.desc.Kind) {
			m.lines = append(m.lines, p.todo("%s joins a %s column to a %s key, which forge does not allow%s", what, f.desc.Kind, pk.desc.Kind, drop))
			continue
		}
		if (fk.OnDelete == schema.SetNull || fk.OnUpdate == schema.SetNull) && !f.desc.Nullable {
			m.lines = append(m.lines, p.todo("%s sets NULL in a NOT NULL column, which forge does not allow%s", what, drop))
			continue
		}
		f.mods = append(f.mods, ".References(forge.Ref["+target.typeName+"]())")
		if fk.OnDelete != schema.NoAction {
			f.mods = append(f.mods, ".OnDelete("+actionName(fk.OnDelete)+")")
		}
		if fk.OnUpdate != schema.NoAction {
			f.mods = append(f.mods, ".OnUpdate("+actionName(fk.OnUpdate)+")")
		}
		m.desc.ForeignKeys = append(m.desc.ForeignKeys, &schema.ForeignKey{
			Name: dialect.ObjectName(t.Name, fk.Columns[:1], "fkey"), Columns: slices.Clone(fk.Columns), RefTable: fk.RefTable,
			RefColumns: slices.Clone(fk.RefColumns), OnDelete: fk.OnDelete, OnUpdate: fk.OnUpdate,
		})
	}
}

func actionName(a schema.Action) string {
	switch a {
	case schema.Cascade:
		return "forge.Cascade"
	case schema.SetNull:
		return "forge.SetNull"
	case schema.Restrict:
		return "forge.Restrict"
	case schema.SetDefault:
		return "forge.SetDefault"
	}
	return "forge.NoAction"
}

func (p *puller) render(pkgName, source string, residual []string) ([]byte, []string, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Package %s holds forge models pulled from %s by forge pull.\n// Edit them freely: they are yours now.\npackage %s\n\n", pkgName, source, pkgName)
	b.WriteString("import (\n")
	for _, imp := range []string{"encoding/json", "time"} {
		if p.imports[imp] {
			fmt.Fprintf(&b, "\t%q\n", imp)
		}
	}
	b.WriteString("\n\t\"github.com/forge-orm/forge\"\n)\n\n")
	for _, h := range p.header {
		b.WriteString(h + "\n\n")
	}
	if len(residual) > 0 {
		b.WriteString("// TODO(forge pull): pushing these models would still change the database:\n")
		for _, r := range residual {
			p.todos = append(p.todos, "pushing these models would still "+r)
			fmt.Fprintf(&b, "//   - %s\n", r)
		}
		b.WriteString("\n")
	}
	var modelVars []string
	for _, m := range p.models {
		if m.skip != "" {
			b.WriteString(m.skip + "\n\n")
			continue
		}
		modelVars = append(modelVars, m.varName)
		fmt.Fprintf(&b, "// %s is a row of the table %s.\ntype %s struct {\n", m.typeName, m.t.Name, m.typeName)
		for _, f := range m.fields {
			fmt.Fprintf(&b, "\t%s %s\n", f.name, f.goType)
		}
		b.WriteString("}\n\n")
		fmt.Fprintf(&b, "// %s is the model of the table %s.\nvar %s = forge.Model(%s, func(t *%s, f *forge.Fields) {\n", m.varName, m.t.Name, m.varName, strconv.Quote(m.t.Name), m.typeName)
		for _, f := range m.fields {
			for _, c := range f.comments {
				fmt.Fprintf(&b, "\t%s\n", c)
			}
			fmt.Fprintf(&b, "\tf.%s(&t.%s)%s\n", f.method, f.name, strings.Join(f.mods, ""))
		}
		for _, l := range m.lines {
			fmt.Fprintf(&b, "\t%s\n", l)
		}
		b.WriteString("})\n\n")
	}
	b.WriteString("// Schema holds every model above.\n")
	fmt.Fprintf(&b, "var Schema = forge.MustSchema(%s)\n", strings.Join(modelVars, ", "))
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("internal error: the generated code does not parse: %v\n%s", err, b.String())
	}
	return src, p.todos, nil
}

// partialIndexes lists the partial indexes ("table.index"), which
// introspection reports like full ones.
func partialIndexes(ctx context.Context, conn driver.Conn, live *schema.Schema) (map[string]bool, error) {
	out := map[string]bool{}
	if conn.Dialect().Name() == "mysql" { // MySQL has no partial indexes
		return out, nil
	}
	if conn.Dialect() == dialect.Postgres {
		rows, err := conn.Query(ctx, `SELECT t.relname, ic.relname FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = current_schema() AND i.indpred IS NOT NULL`, nil)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var t, ix string
			if err := rows.Scan(&t, &ix); err != nil {
				return nil, err
			}
			out[t+"."+ix] = true
		}
		return out, rows.Err()
	}
	for _, t := range live.Tables {
		rows, err := conn.Query(ctx, `SELECT "name" FROM pragma_index_list(?) WHERE "partial" = 1`, []any{t.Name})
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var ix string
			if err := rows.Scan(&ix); err != nil {
				rows.Close()
				return nil, err
			}
			out[t.Name+"."+ix] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// mysqlCollation is the binary collation forge gives text on d (MySQL).
func mysqlCollation(d dialect.Dialect) string {
	if c, ok := d.(interface{ Collation() string }); ok {
		return c.Collation()
	}
	return "utf8mb4_bin"
}
