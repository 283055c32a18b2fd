package gateway

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// RoleError is a PostgreSQL role the gateway refuses to serve as: its
// Message says what the role can do and what to do instead.
type RoleError struct{ Message string }

func (e *RoleError) Error() string { return e.Message }

// dangerousRoles are the predefined roles that reach beyond the database:
// run programs and read or write files on the server, signal other
// sessions.
const dangerousRoles = `'pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files', 'pg_signal_backend'`

// CheckRole checks the PostgreSQL role pg is logged in as, as the gateway
// does when it starts (forge doctor --gateway-db runs it too): it returns a
// *RoleError saying what the role can do beyond the clients' needs (a
// superuser, CREATEROLE, membership of the roles that run programs, read
// or write server files or signal other sessions), or the query's error.
func CheckRole(ctx context.Context, pg *pgconn.PgConn) error { return checkGatewayRole(ctx, pg) }

// checkGatewayRole checks the role a connection logged in as: it must not
// be a superuser, have CREATEROLE (which can grant itself the roles
// below on PostgreSQL 15 and older) or be a member of
// pg_execute_server_program, pg_read_server_files, pg_write_server_files
// or pg_signal_backend. With such a role any token could run programs on
// the database server (COPY ... TO PROGRAM, in a DO block or a function
// the guard cannot read), read its files or end other tokens' queries.
func checkGatewayRole(ctx context.Context, pg *pgconn.PgConn) error {
	rows, err := queryText(ctx, pg, `SELECT current_user::text, r.rolsuper::text, r.rolcreaterole::text,
		coalesce((SELECT string_agg(b.rolname, ', ' ORDER BY b.rolname) FROM pg_catalog.pg_roles b
			WHERE b.rolname IN (`+dangerousRoles+`) AND pg_catalog.pg_has_role(r.oid, b.oid, 'MEMBER')), '')
		FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`)
	if err != nil {
		return err
	}
	if len(rows) != 1 {
		return &RoleError{Message: "forge gateway: could not read the database role's attributes"}
	}
	name, super, createrole, members := rows[0][0], rows[0][1] == "true", rows[0][2] == "true", rows[0][3]
	var what []string
	if super {
		what = append(what, "is a superuser: any token could run programs on the database server (COPY ... TO PROGRAM), read and write its files and reload its configuration")
	}
	if createrole {
		what = append(what, "has CREATEROLE: it can grant itself any non-superuser role")
	}
	if members != "" {
		what = append(what, "is a member of "+members+" (programs, server files or signalling other sessions)")
	}
	if len(what) == 0 {
		return nil
	}
	return &RoleError{Message: "forge gateway: the PostgreSQL role " + name + " " + strings.Join(what, "; ") +
		". Connect as a role with only the privileges the clients need, or, knowingly, pass --dangerously-allow-superuser"}
}

// checkReadRole checks that the role of --read-dsn cannot write: not a
// superuser, no CREATEROLE or BYPASSRLS, no membership of
// pg_write_all_data or the roles checkGatewayRole refuses, no INSERT,
// UPDATE, DELETE or TRUNCATE on any table or view, no USAGE or UPDATE on
// any sequence, no CREATE on any schema or on the database.
func checkReadRole(ctx context.Context, pg *pgconn.PgConn) error {
	rows, err := queryText(ctx, pg, `SELECT current_user::text,
		(SELECT concat_ws(', ',
			CASE WHEN r.rolsuper THEN 'is a superuser' END,
			CASE WHEN r.rolcreaterole THEN 'has CREATEROLE' END,
			CASE WHEN r.rolbypassrls THEN 'has BYPASSRLS' END)
		 FROM pg_catalog.pg_roles r WHERE r.rolname = current_user),
		coalesce((SELECT string_agg(b.rolname, ', ' ORDER BY b.rolname) FROM pg_catalog.pg_roles b
			WHERE b.rolname IN (`+dangerousRoles+`, 'pg_write_all_data') AND pg_catalog.pg_has_role(current_user, b.oid, 'MEMBER')), ''),
		coalesce((SELECT string_agg(x, ', ') FROM (SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS x
			FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE c.oid <> 'pg_catalog.pg_settings'::regclass -- UPDATE on it is SET, which every role may run
			AND ((c.relkind IN ('r', 'p', 'v', 'm', 'f') AND (pg_catalog.has_any_column_privilege(c.oid, 'INSERT, UPDATE')
				OR pg_catalog.has_table_privilege(c.oid, 'DELETE, TRUNCATE')))
			OR (c.relkind = 'S' AND pg_catalog.has_sequence_privilege(c.oid, 'USAGE, UPDATE')))
			ORDER BY 1 LIMIT 5) t), ''),
		coalesce((SELECT string_agg(n.nspname, ', ' ORDER BY n.nspname) FROM pg_catalog.pg_namespace n
			WHERE pg_catalog.has_schema_privilege(n.oid, 'CREATE')), ''),
		pg_catalog.has_database_privilege(current_database(), 'CREATE')::text`)
	if err != nil {
		return err
	}
	if len(rows) != 1 {
		return &RoleError{Message: "forge gateway: could not read the --read-dsn role's privileges"}
	}
	r := rows[0]
	var what []string
	if r[1] != "" {
		what = append(what, r[1])
	}
	if r[2] != "" {
		what = append(what, "is a member of "+r[2])
	}
	if r[3] != "" {
		what = append(what, "may write to "+r[3])
	}
	if r[4] != "" {
		what = append(what, "may create objects in schema "+r[4])
	}
	if r[5] == "true" {
		what = append(what, "may create schemas in the database")
	}
	if len(what) == 0 {
		return nil
	}
	return &RoleError{Message: "forge gateway: the --read-dsn role " + r[0] + " can write (it " + strings.Join(what, "; ") +
		"). Give read tokens a role with only SELECT (GRANT pg_read_all_data, or SELECT on the tables) and nothing else"}
}

// queryText runs a query without parameters and returns its rows as text.
func queryText(ctx context.Context, pg *pgconn.PgConn, sql string) ([][]string, error) {
	results, err := pg.Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, res := range results {
		for _, row := range res.Rows {
			r := make([]string, len(row))
			for i, v := range row {
				r[i] = string(v)
			}
			out = append(out, r)
		}
	}
	return out, nil
}
