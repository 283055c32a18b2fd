package migrate

import (
	"context"
	"fmt"
	"strings"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/schema"
)

// inspectMySQL reads the current database's schema from
// information_schema (MySQL 8, MariaDB 10.6). Types are reported as the
// MySQL dialect writes them (lower-cased, without integer display widths;
// tinyint(1) as boolean; MariaDB's JSON, a LONGTEXT with a json_valid
// CHECK, as json), so that Diff compares like with like. A text column's
// collation is kept in Column.Collate when it is not the binary one forge
// declares: such a column compares text ignoring case (or trailing
// spaces), which breaks forge's literal matching; pull says so.
func inspectMySQL(ctx context.Context, q driver.Querier, d dialect.Dialect) (*schema.Schema, error) {
	tables, err := queryAll(ctx, q, `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME`)
	if err != nil {
		return nil, err
	}
	binary := ""
	if c, ok := d.(interface{ Collation() string }); ok {
		binary = c.Collation()
	}
	mariadb := isMariaDB(d)
	s := &schema.Schema{}
	for _, row := range tables {
		name := str(row[0])
		if skipTable(name) {
			continue
		}
		t := &schema.Table{Name: name}
		// Checks first: MariaDB's JSON columns are LONGTEXT with a
		// json_valid CHECK named after the column.
		checkSQL := `SELECT cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE FROM information_schema.TABLE_CONSTRAINTS tc
JOIN information_schema.CHECK_CONSTRAINTS cc ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.TABLE_NAME = ? AND tc.CONSTRAINT_TYPE = 'CHECK' ORDER BY cc.CONSTRAINT_NAME`
		if mariadb { // MariaDB's check names are per table
			checkSQL = `SELECT CONSTRAINT_NAME, CHECK_CLAUSE, LEVEL FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY CONSTRAINT_NAME`
		}
		checks, err := queryAll(ctx, q, checkSQL, name)
		if err != nil {
			return nil, fmt.Errorf("forge/migrate: CHECK constraints of %s: %w", name, err)
		}
		jsonCols := map[string]bool{}
		for _, ck := range checks {
			cname, clause := str(ck[0]), strings.TrimSpace(str(ck[1]))
			// Quoted with backticks, or with double quotes under ANSI_QUOTES.
			if strings.EqualFold(clause, "json_valid("+ident(d, cname)+")") || strings.EqualFold(clause, "json_valid("+ident(dialect.Postgres, cname)+")") {
				jsonCols[cname] = true
				continue
			}
			for len(clause) >= 2 && clause[0] == '(' && clause[len(clause)-1] == ')' && balanced(clause[1:len(clause)-1]) {
				clause = clause[1 : len(clause)-1]
			}
			t.Checks = append(t.Checks, &schema.Check{Name: cname, Expr: clause})
		}
		cols, err := queryAll(ctx, q, `SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, GENERATION_EXPRESSION, COLLATION_NAME
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, name)
		if err != nil {
			return nil, fmt.Errorf("forge/migrate: columns of %s: %w", name, err)
		}
		for _, c := range cols {
			extra := strings.ToLower(str(c[4]))
			col := &schema.Column{Name: str(c[0]), Nullable: str(c[2]) == "YES"}
			col.Type = mysqlType(str(c[1]), jsonCols[col.Name])
			col.Kind = mysqlKind(col.Type)
			if strings.Contains(extra, "auto_increment") {
				col.AutoIncrement = true
				col.Type += " auto_increment"
			}
			if g := str(c[5]); g != "" && strings.Contains(extra, "generated") {
				col.Generated = g
				col.GeneratedStored = strings.Contains(extra, "stored") || strings.Contains(extra, "persistent")
			} else if c[3] != nil && !(mariadb && str(c[3]) == "NULL") {
				col.Default = mysqlDefault(str(c[3]), extra, mariadb, d)
			}
			if coll := str(c[6]); coll != "" && coll != binary && (col.Kind == schema.Text || col.Kind == schema.JSON) &&
				!(col.Kind == schema.JSON && strings.HasSuffix(coll, "_bin")) {
				col.Collate = coll
			}
			t.Columns = append(t.Columns, col)
		}
		fks, err := queryAll(ctx, q, `SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE
FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION`, name)
		if err != nil {
			return nil, fmt.Errorf("forge/migrate: foreign keys of %s: %w", name, err)
		}
		var fk *schema.ForeignKey
		fkNames := map[string]bool{}
		for _, f := range fks {
			if fk == nil || fk.Name != str(f[0]) {
				fk = &schema.ForeignKey{Name: str(f[0]), RefTable: str(f[2]), OnDelete: mysqlAction(str(f[4])), OnUpdate: mysqlAction(str(f[5]))}
				t.ForeignKeys = append(t.ForeignKeys, fk)
				fkNames[fk.Name] = true
			}
			fk.Columns = append(fk.Columns, str(f[1]))
			fk.RefColumns = append(fk.RefColumns, str(f[3]))
			if c := t.Column(str(f[1])); c != nil {
				c.ForeignKey = true
			}
		}
		idx, err := queryAll(ctx, q, `SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX`, name)
		if err != nil {
			return nil, fmt.Errorf("forge/migrate: indexes of %s: %w", name, err)
		}
		var cur *schema.Index
		for _, ix := range idx {
			iname := str(ix[0])
			if iname == "PRIMARY" {
				t.PrimaryKey = append(t.PrimaryKey, str(ix[2]))
				if c := t.Column(str(ix[2])); c != nil {
					c.PrimaryKey = true
				}
				continue
			}
			if fkNames[iname] {
				// The index MySQL creates for a foreign key that has none:
				// it belongs to the key.
				continue
			}
			if cur == nil || cur.Name != iname {
				cur = &schema.Index{Name: iname, Unique: !truthy(ix[1]) && str(ix[1]) != "1"}
				t.Indexes = append(t.Indexes, cur)
			}
			if ix[2] == nil { // a functional index: forge cannot describe it
				cur.Columns = append(cur.Columns, "(expression)")
				continue
			}
			cur.Columns = append(cur.Columns, str(ix[2]))
		}
		for _, ix := range t.Indexes {
			for _, name := range ix.Columns {
				if c := t.Column(name); c != nil && ix.Unique && len(ix.Columns) > 1 {
					c.UniqueKey = true
				} else if c != nil && ix.Unique {
					c.Unique = true
				}
			}
		}
		for _, c := range t.Columns {
			if c.PrimaryKey && c.AutoIncrement && len(t.PrimaryKey) == 1 && c.Kind == schema.Int64 {
				c.Kind = schema.ID
			}
		}
		s.Tables = append(s.Tables, t)
	}
	return s, nil
}

// mysqlType normalises information_schema's COLUMN_TYPE to the dialect's
// spelling: no display width on integers (MariaDB and MySQL before 8.0.19
// report bigint(20)), tinyint(1) as boolean, and json for MariaDB's JSON.
func mysqlType(t string, json bool) string {
	t = strings.ToLower(strings.TrimSpace(t))
	if json {
		return "json"
	}
	if t == "tinyint(1)" {
		return "boolean"
	}
	for _, p := range []string{"bigint", "int", "smallint", "mediumint", "tinyint"} {
		if rest, ok := strings.CutPrefix(t, p+"("); ok {
			if i := strings.IndexByte(rest, ')'); i >= 0 {
				return p + rest[i+1:]
			}
		}
	}
	return t
}

// mysqlKind maps a normalised MySQL type to a forge kind.
func mysqlKind(t string) schema.Kind {
	base, _, _ := strings.Cut(t, "(")
	base, _, _ = strings.Cut(base, " ")
	switch base {
	case "bigint":
		return schema.Int64
	case "int", "integer", "smallint", "mediumint", "tinyint", "year":
		return schema.Int32
	case "double", "float", "real", "decimal", "numeric":
		return schema.Float
	case "boolean":
		return schema.Bool
	case "datetime", "timestamp", "date":
		return schema.Time
	case "blob", "tinyblob", "mediumblob", "longblob", "binary", "varbinary", "bit":
		return schema.Bytes
	case "json":
		return schema.JSON
	}
	return schema.Text
}

// mysqlDefault reads COLUMN_DEFAULT: MariaDB quotes literal text ('a')
// and writes expressions as they are; MySQL 8 gives literal text unquoted
// and flags expressions with DEFAULT_GENERATED in EXTRA.
func mysqlDefault(v, extra string, mariadb bool, d dialect.Dialect) *schema.Default {
	def := &schema.Default{Expr: v}
	switch {
	case mariadb && len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'':
		// MariaDB escapes ' and \ with a backslash: written back in the
		// standard form forge's literals have.
		def.Expr = quote(unescapeMariaDB(v[1 : len(v)-1]))
	case !mariadb && !strings.Contains(extra, "default_generated") && !isLiteral(v):
		def.Expr = quote(v)
	}
	low := strings.ToLower(def.Expr)
	if low == strings.ToLower(d.DefaultNow()) || low == "current_timestamp()" || low == "current_timestamp" {
		def.Now, def.Expr = true, d.DefaultNow()
	}
	return def
}

// unescapeMariaDB undoes the backslash escapes (and doubled quotes) of a
// literal as MariaDB's information_schema shows it.
func unescapeMariaDB(s string) string {
	if !strings.ContainsAny(s, "\\'") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c == '\\' || (c == '\'' && i+1 < len(s) && s[i+1] == '\'')) && i+1 < len(s) {
			i++
			c = s[i]
			switch c {
			case 'n':
				c = '\n'
			case 't':
				c = '\t'
			case 'r':
				c = '\r'
			case '0':
				c = 0
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// mysqlAction reads a referential action. InnoDB's RESTRICT and NO ACTION
// are the same (checked at once), and MariaDB reports RESTRICT for a key
// declared without one: both read as the default.
func mysqlAction(s string) schema.Action {
	switch strings.ToUpper(s) {
	case "CASCADE":
		return schema.Cascade
	case "SET NULL":
		return schema.SetNull
	case "SET DEFAULT":
		return schema.SetDefault
	}
	return schema.NoAction
}
