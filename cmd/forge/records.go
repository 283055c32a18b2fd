package main

import (
	"context"
	"fmt"
	"time"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/migrate"
)

// The forge_migrations table records each applied migration file: its
// name ("0001_init"), the sha256 of its up file and when it was applied. A
// file's statements and its record are written in one transaction, so a
// record exists exactly when the migration was applied.

// record is one row of forge_migrations.
type record struct {
	name      string
	checksum  string
	appliedAt string
}

func migrationsTable(d dialect.Dialect) string {
	return string(d.AppendIdent(nil, migrate.MigrationsTable))
}

// ensureMigrationsTable creates forge_migrations. Call it holding the
// migration lock (concurrent CREATE TABLE IF NOT EXISTS can fail on
// PostgreSQL).
func ensureMigrationsTable(ctx context.Context, conn driver.Conn) error {
	d := conn.Dialect()
	at := "timestamp with time zone NOT NULL DEFAULT now()"
	name := "TEXT"
	switch d.Name() {
	case "sqlite":
		at = "TEXT NOT NULL DEFAULT " + d.DefaultNow()
	case "mysql": // a key cannot be TEXT
		at, name = "DATETIME(6) NOT NULL DEFAULT "+d.DefaultNow(), "VARCHAR(255)"
	}
	q := "CREATE TABLE IF NOT EXISTS " + migrationsTable(d) + ` ("name" ` + name + ` NOT NULL PRIMARY KEY, "checksum" TEXT NOT NULL, "applied_at" ` + at + ")" + d.TableOptions()
	if _, err := conn.Exec(ctx, q, nil); err != nil {
		return fmt.Errorf("creating %s: %w", migrate.MigrationsTable, err)
	}
	return nil
}

// tableExists reports whether the current schema has a table of that name.
func tableExists(ctx context.Context, conn driver.Conn, name string) (bool, error) {
	q := `SELECT 1 FROM "sqlite_master" WHERE "type" = 'table' AND "name" = ?`
	if conn.Dialect().Name() == "mysql" {
		q = `SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`
	}
	if conn.Dialect() == dialect.Postgres {
		q = `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relname = $1 AND c.relkind IN ('r', 'p')`
	}
	rows, err := conn.Query(ctx, q, []any{name})
	if err != nil {
		return false, err
	}
	defer rows.Close()
	found := rows.Next()
	return found, rows.Err()
}

// readRecords reads forge_migrations (none when the table does not exist).
func readRecords(ctx context.Context, conn driver.Conn) (map[string]*record, error) {
	ok, err := tableExists(ctx, conn, migrate.MigrationsTable)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", migrate.MigrationsTable, err)
	}
	out := map[string]*record{}
	if !ok {
		return out, nil
	}
	rows, err := conn.Query(ctx, `SELECT "name", "checksum", "applied_at" FROM `+migrationsTable(conn.Dialect())+` ORDER BY "name"`, nil)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", migrate.MigrationsTable, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, sum string
		var at any
		if err := rows.Scan(&name, &sum, &at); err != nil {
			return nil, fmt.Errorf("reading %s: %w", migrate.MigrationsTable, err)
		}
		r := &record{name: name, checksum: sum}
		switch v := at.(type) {
		case time.Time:
			r.appliedAt = v.UTC().Format("2006-01-02 15:04:05 UTC")
		case string:
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				r.appliedAt = t.UTC().Format("2006-01-02 15:04:05 UTC")
			} else {
				r.appliedAt = v
			}
		default:
			r.appliedAt = fmt.Sprint(v)
		}
		out[name] = r
	}
	return out, rows.Err()
}

// sqlString is s as a SQL string literal.
func sqlString(s string) string {
	b := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			b = append(b, '\'')
		}
		b = append(b, s[i])
	}
	return string(append(b, '\''))
}

func insertRecord(d dialect.Dialect, name, checksum string) string {
	return "INSERT INTO " + migrationsTable(d) + ` ("name", "checksum") VALUES (` + sqlString(name) + ", " + sqlString(checksum) + ")"
}

func deleteRecord(d dialect.Dialect, name string) string {
	return "DELETE FROM " + migrationsTable(d) + ` WHERE "name" = ` + sqlString(name)
}
