package migrate

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/schema"
)

// Internal tables forge keeps in the database; Inspect leaves them out.
const (
	MigrationsTable = "forge_migrations"
	LockTable       = "forge_migrate_lock"
	// ChangesTable counts writes per table for forge's Watch on SQLite
	// databases that offer no other change probe (forge.ChangesTable).
	ChangesTable = "forge_changes"
)

// skipTable reports tables that are not the user's: forge's own, SQLite's,
// and Cloudflare D1's.
func skipTable(name string) bool {
	return name == MigrationsTable || name == LockTable || name == JournalTable || name == ChangesTable || name == "d1_migrations" ||
		strings.HasPrefix(name, "sqlite_") || strings.HasPrefix(name, "_cf_")
}

// Inspect reads the schema of a live database: tables, columns (with the
// database's own type in Column.Type and defaults in Default.Expr), primary
// keys, indexes (unique or not) and foreign keys. It only reads.
func Inspect(ctx context.Context, q driver.Querier, d dialect.Dialect) (*schema.Schema, error) {
	// By name: dialects that adjust another (D1 is SQLite with a lower
	// parameter limit) share its catalog.
	switch d.Name() {
	case "sqlite":
		return inspectSQLite(ctx, q, d)
	case "postgres":
		return inspectPostgres(ctx, q, d)
	case "mysql":
		return inspectMySQL(ctx, q, d)
	}
	return nil, fmt.Errorf("forge/migrate: no introspection for the %s dialect", d.Name())
}

// queryAll runs a query and returns its rows as decoded values.
func queryAll(ctx context.Context, q driver.Querier, sql string, args ...any) ([][]any, error) {
	rows, err := q.Query(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	n := len(rows.Columns())
	var out [][]any
	for rows.Next() {
		vals := make([]any, n)
		dests := make([]any, n)
		for i := range vals {
			dests[i] = &vals[i]
		}
		if err := rows.Scan(dests...); err != nil {
			return nil, err
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int64:
		return x != 0
	case int32:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x == "1" || x == "t" || x == "true"
	}
	return false
}

func inspectSQLite(ctx context.Context, q driver.Querier, d dialect.Dialect) (*schema.Schema, error) {
	tables, err := queryAll(ctx, q, `SELECT "name", "sql" FROM "sqlite_master" WHERE "type" = 'table' ORDER BY "name"`)
	if err != nil {
		return nil, err
	}
	s := &schema.Schema{}
	others, err := queryAll(ctx, q, `SELECT "type", "name", "tbl_name", "sql" FROM "sqlite_master" WHERE "type" IN ('view', 'trigger') AND "sql" IS NOT NULL ORDER BY rowid`)
	if err != nil {
		return nil, fmt.Errorf("forge/migrate: views and triggers: %w", err)
	}
	for _, o := range others {
		if str(o[0]) == "view" {
			s.Views = append(s.Views, &schema.View{Name: str(o[1]), SQL: str(o[3])})
		} else {
			s.Triggers = append(s.Triggers, &schema.Trigger{Name: str(o[1]), Table: str(o[2]), SQL: str(o[3])})
		}
	}
	for _, row := range tables {
		name := str(row[0])
		if skipTable(name) {
			continue
		}
		t := &schema.Table{Name: name}
		checks, defs := parseSQLiteTable(name, str(row[1]))
		t.Checks = checks
		// table_xinfo also lists generated columns (hidden 2: virtual,
		// 3: stored); hidden 1 is a virtual table's hidden column.
		cols, err := queryAll(ctx, q, `SELECT "name", "type", "notnull", "dflt_value", "pk", "hidden" FROM pragma_table_xinfo(?) WHERE "hidden" <> 1 ORDER BY "cid"`, name)
		if err != nil {
			return nil, fmt.Errorf("forge/migrate: columns of %s: %w", name, err)
		}
		type pkCol struct {
			name string
			pos  int64
		}
		var pks []pkCol
		for _, c := range cols {
			col := &schema.Column{Name: str(c[0]), Type: strings.ToUpper(str(c[1])), Nullable: !truthy(c[2])}
			if def := defs[col.Name]; def != nil {
				col.NoReuse, col.Collate = def.noReuse, def.collate
				if h, _ := c[5].(int64); h == 2 || h == 3 {
					col.Generated, col.GeneratedStored = def.generated, h == 3
					if col.Generated == "" {
						col.Generated = "(unreadable expression)"
					}
				}
			}
			if c[3] != nil {
				// SQLite reports an expression default without the
				// parentheses it was written in: (strftime(...)) → strftime(...).
				col.Default = &schema.Default{Expr: str(c[3])}
				col.Default.Now = normDefault(col.Default.Expr) == normDefault(d.DefaultNow())
			}
			if pos, _ := c[4].(int64); pos > 0 {
				col.PrimaryKey = true
				pks = append(pks, pkCol{col.Name, pos})
			}
			t.Columns = append(t.Columns, col)
		}
		sort.Slice(pks, func(i, j int) bool { return pks[i].pos < pks[j].pos })
		for _, p := range pks {
			t.PrimaryKey = append(t.PrimaryKey, p.name)
		}
		for _, col := range t.Columns {
			col.Kind = sqliteKind(col)
			if col.PrimaryKey {
				col.Nullable = false
				if len(pks) == 1 && col.Type == "INTEGER" {
					col.Kind, col.AutoIncrement = schema.ID, true
				}
			}
		}
		idx, err := queryAll(ctx, q, `SELECT "name", "unique", "origin" FROM pragma_index_list(?) ORDER BY "name"`, name)
		if err != nil {
			return nil, fmt.Errorf("forge/migrate: indexes of %s: %w", name, err)
		}
		for _, ix := range idx {
			if str(ix[2]) == "pk" {
				continue
			}
			index := &schema.Index{Name: str(ix[0]), Unique: truthy(ix[1])}
			icols, err := queryAll(ctx, q, `SELECT "name" FROM pragma_index_info(?) ORDER BY "seqno"`, index.Name)
			if err != nil {
				return nil, err
			}
			for _, ic := range icols {
				name := str(ic[0])
				if ic[0] == nil { // an expression: forge cannot describe it
					name = "(expression)"
				}
				index.Columns = append(index.Columns, name)
			}
			t.Indexes = append(t.Indexes, index)
		}
		fks, err := queryAll(ctx, q, `SELECT "id", "table", "from", "to", "on_update", "on_delete" FROM pragma_foreign_key_list(?) ORDER BY "id", "seq"`, name)
		if err != nil {
			return nil, fmt.Errorf("forge/migrate: foreign keys of %s: %w", name, err)
		}
		byID := map[int64]*schema.ForeignKey{}
		var order []int64
		for _, f := range fks {
			id, _ := f[0].(int64)
			fk := byID[id]
			if fk == nil {
				fk = &schema.ForeignKey{RefTable: str(f[1]), OnUpdate: action(str(f[4])), OnDelete: action(str(f[5]))}
				byID[id] = fk
				order = append(order, id)
			}
			fk.Columns = append(fk.Columns, str(f[2]))
			fk.RefColumns = append(fk.RefColumns, str(f[3]))
		}
		// pragma_foreign_key_list lists constraints last to first.
		for i := len(order) - 1; i >= 0; i-- {
			fk := byID[order[i]]
			fk.Name = constraintName(str(row[1]), fk.Columns, name)
			t.ForeignKeys = append(t.ForeignKeys, fk)
		}
		s.Tables = append(s.Tables, t)
	}
	return s, nil
}

// constraintName finds the name of the foreign key over cols in a CREATE
// TABLE text, or makes the conventional one.
func constraintName(createSQL string, cols []string, table string) string {
	target := `FOREIGN KEY ("` + strings.Join(cols, `", "`) + `")`
	if i := strings.Index(createSQL, target); i > 0 {
		before := strings.TrimSpace(createSQL[:i])
		if j := strings.LastIndex(before, "CONSTRAINT "); j >= 0 {
			n := strings.TrimSpace(before[j+len("CONSTRAINT "):])
			if len(n) >= 2 && n[0] == '"' && n[len(n)-1] == '"' && !strings.ContainsAny(n[1:len(n)-1], "\n,") {
				return strings.ReplaceAll(n[1:len(n)-1], `""`, `"`)
			}
		}
	}
	return dialect.ObjectName(table, cols, "fkey")
}

// action reads a referential action: SQLite's words or PostgreSQL's
// one-letter codes (a, r, c, n, d).
func action(s string) schema.Action {
	switch s {
	case "c":
		return schema.Cascade
	case "n":
		return schema.SetNull
	case "d":
		return schema.SetDefault
	case "r":
		return schema.Restrict
	case "a":
		return schema.NoAction
	}
	switch strings.ToUpper(s) {
	case "CASCADE":
		return schema.Cascade
	case "SET NULL":
		return schema.SetNull
	case "SET DEFAULT":
		return schema.SetDefault
	case "RESTRICT":
		return schema.Restrict
	}
	return schema.NoAction
}

// sqliteKind maps a declared SQLite type to a forge kind, by SQLite's
// affinity rules, refined by the names forge and other tools write.
func sqliteKind(c *schema.Column) schema.Kind {
	t := c.Type
	switch {
	case t == "BOOLEAN" || t == "BOOL":
		return schema.Bool
	case strings.Contains(t, "INT"):
		return schema.Int64
	case strings.Contains(t, "DATE") || strings.Contains(t, "TIME"):
		return schema.Time
	case t == "JSON" || t == "JSONB":
		return schema.JSON
	case strings.Contains(t, "CHAR") || strings.Contains(t, "CLOB") || strings.Contains(t, "TEXT"):
		if c.Default != nil && c.Default.Now {
			return schema.Time
		}
		return schema.Text
	case t == "" || strings.Contains(t, "BLOB"):
		return schema.Bytes
	case strings.Contains(t, "REAL") || strings.Contains(t, "FLOA") || strings.Contains(t, "DOUB"):
		return schema.Float
	}
	return schema.Text
}

func inspectPostgres(ctx context.Context, q driver.Querier, d dialect.Dialect) (*schema.Schema, error) {
	tables, err := queryAll(ctx, q, `SELECT c.oid::bigint, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname`)
	if err != nil {
		return nil, err
	}
	s := &schema.Schema{}
	for _, row := range tables {
		oid, name := row[0], str(row[1])
		if skipTable(name) {
			continue
		}
		t := &schema.Table{Name: name}
		cols, err := queryAll(ctx, q, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
  pg_get_expr(ad.adbin, ad.adrelid), a.attidentity::text, a.attgenerated::text, co.collname
FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_type ty ON ty.oid = a.atttypid
LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> ty.typcollation
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, oid)
		if err != nil {
			return nil, fmt.Errorf("forge/migrate: columns of %s: %w", name, err)
		}
		for _, c := range cols {
			col := &schema.Column{Name: str(c[0]), Type: str(c[1]), Nullable: !truthy(c[2])}
			if g := str(c[5]); g != "" {
				// A generated column: pg_attrdef holds its expression, not
				// a default.
				col.Generated, col.GeneratedStored = str(c[3]), g == "s"
			} else if c[3] != nil {
				col.Default = &schema.Default{Expr: str(c[3])}
				col.Default.Now = col.Default.Expr == d.DefaultNow() || col.Default.Expr == "CURRENT_TIMESTAMP"
			}
			col.AutoIncrement = str(c[4]) != ""
			col.IdentityAlways = str(c[4]) == "a"
			col.Collate = str(c[6])
			col.Kind = postgresKind(col.Type)
			t.Columns = append(t.Columns, col)
		}
		checks, err := queryAll(ctx, q, `SELECT con.conname, pg_get_constraintdef(con.oid), a.attname
FROM pg_constraint con LEFT JOIN pg_attribute a ON a.attrelid = con.conrelid AND array_length(con.conkey, 1) = 1 AND a.attnum = con.conkey[1]
WHERE con.conrelid = $1 AND con.contype = 'c' ORDER BY con.conname`, oid)
		if err != nil {
			return nil, fmt.Errorf("forge/migrate: CHECK constraints of %s: %w", name, err)
		}
		for _, ck := range checks {
			e := strings.TrimSpace(str(ck[1]))
			e = strings.TrimSuffix(e, " NOT VALID")
			e = strings.TrimPrefix(e, "CHECK ")
			if len(e) >= 2 && e[0] == '(' && e[len(e)-1] == ')' && balanced(e[1:len(e)-1]) {
				e = e[1 : len(e)-1]
			}
			t.Checks = append(t.Checks, &schema.Check{Name: str(ck[0]), Expr: e, Column: str(ck[2])})
		}
		pkName, err := queryAll(ctx, q, `SELECT conname FROM pg_constraint WHERE conrelid = $1 AND contype = 'p'`, oid)
		if err != nil {
			return nil, err
		}
		if len(pkName) == 1 {
			t.PrimaryKeyName = str(pkName[0][0])
		}
		pk, err := queryAll(ctx, q, `SELECT a.attname FROM pg_index i
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord`, oid)
		if err != nil {
			return nil, err
		}
		for _, p := range pk {
			t.PrimaryKey = append(t.PrimaryKey, str(p[0]))
			if c := t.Column(str(p[0])); c != nil {
				c.PrimaryKey = true
			}
		}
		for _, c := range t.Columns {
			if c.PrimaryKey && c.AutoIncrement && len(t.PrimaryKey) == 1 {
				c.Kind = schema.ID
			}
		}
		idx, err := queryAll(ctx, q, `SELECT ic.relname, i.indisunique, a.attname, k.attnum
FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = $1 AND NOT i.indisprimary ORDER BY ic.relname, k.ord`, oid)
		if err != nil {
			return nil, err
		}
		var cur *schema.Index
		for _, ix := range idx {
			if cur == nil || cur.Name != str(ix[0]) {
				cur = &schema.Index{Name: str(ix[0]), Unique: truthy(ix[1])}
				t.Indexes = append(t.Indexes, cur)
			}
			if ix[2] == nil { // an expression: forge cannot describe it
				cur.Columns = append(cur.Columns, "(expression)")
				continue
			}
			cur.Columns = append(cur.Columns, str(ix[2]))
		}
		fks, err := queryAll(ctx, q, `SELECT con.conname, a.attname, fc.relname, fa.attname, con.confdeltype::text, con.confupdtype::text
FROM pg_constraint con
CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(col, fcol, ord)
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.col
JOIN pg_class fc ON fc.oid = con.confrelid
JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = k.fcol
WHERE con.conrelid = $1 AND con.contype = 'f' ORDER BY con.conname, k.ord`, oid)
		if err != nil {
			return nil, err
		}
		var fk *schema.ForeignKey
		for _, f := range fks {
			if fk == nil || fk.Name != str(f[0]) {
				fk = &schema.ForeignKey{Name: str(f[0]), RefTable: str(f[2]), OnDelete: action(str(f[4])), OnUpdate: action(str(f[5]))}
				t.ForeignKeys = append(t.ForeignKeys, fk)
			}
			fk.Columns = append(fk.Columns, str(f[1]))
			fk.RefColumns = append(fk.RefColumns, str(f[3]))
		}
		s.Tables = append(s.Tables, t)
	}
	return s, nil
}

func postgresKind(t string) schema.Kind {
	switch {
	case t == "bigint":
		return schema.Int64
	case t == "integer" || t == "smallint":
		return schema.Int32
	case t == "double precision" || t == "real":
		return schema.Float
	case t == "boolean":
		return schema.Bool
	case strings.HasPrefix(t, "timestamp") || t == "date":
		return schema.Time
	case t == "bytea":
		return schema.Bytes
	case t == "jsonb" || t == "json":
		return schema.JSON
	}
	return schema.Text
}
