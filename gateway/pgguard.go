package gateway

import (
	"strings"
)

// The statement guard reads the SQL of a Neon request before it runs, with
// a PostgreSQL lexer (pglex.go), and refuses what would reach beyond the
// request or the token's role. It is the second line: the first is
// structural (a read token's statements run in a READ ONLY transaction,
// under the --read-dsn role when one is given, and every connection's
// session is reset with DISCARD ALL before it returns to the pool; the
// gateway refuses to start as a superuser). The guard:
//
//   - lets a read token run only queries: each statement must start with
//     SELECT, WITH, VALUES, TABLE, SHOW or EXPLAIN (after semicolons,
//     comments and parentheses), so that transaction control (COMMIT AND
//     CHAIN, SET TRANSACTION...), session statements (SET, RESET,
//     DISCARD, PREPARE, LISTEN, LOAD...), DO, CALL, LOCK, COPY and cursors
//     never reach PostgreSQL from one;
//   - refuses to any token the functions that act on other sessions or
//     the server (pg_cancel_backend, pg_terminate_backend, pg_reload_conf,
//     server files, dblink, lo_import...), and to read tokens also those
//     that change the session or take locks beyond the statement
//     (set_config, advisory locks, large objects, pg_notify) or run SQL
//     held in a string (query_to_xml, ts_stat), wherever their name
//     appears (quoted, schema-qualified, in any position);
//   - refuses COPY (nothing can stream over HTTP), two-phase commit, and
//     in a transaction request the statements that would end or split
//     the transaction;
//   - reads a write token's DO block bodies (and the strings in them) too,
//     refusing COPY and the functions above there.
//
// SQL is read twice, as with standard_conforming_strings on and off, so
// that a session setting cannot make the guard and PostgreSQL see
// different tokens; SQL that neither reading can lex is left to
// PostgreSQL, whose lexer rejects it before anything runs.

// guardPostgres returns why sql may not run for a token of the given role
// ("" when it may), and whether the refusal is a bad request (COPY, which
// the protocol cannot carry) rather than a forbidden one. tx is true for a
// statement of a transaction request.
func guardPostgres(sql string, read, tx bool) (why string, badRequest bool) {
	for _, backslash := range []bool{false, true} {
		toks, err := pgTokens(sql, backslash)
		if err != nil {
			continue
		}
		if why := guardTokens(toks, read, tx, false, 0); why != "" {
			return why, why == copyRefused || why == txEnded
		}
	}
	return "", false
}

// The refusals that are bad requests (400) rather than forbidden (403).
const (
	copyRefused = "COPY is not supported over HTTP; use INSERT (or SELECT) instead"
	txEnded     = "it would have ended the transaction: a transaction request must not BEGIN, COMMIT or ROLLBACK (the gateway opens and commits it; ROLLBACK TO SAVEPOINT is allowed)"
)

// readStatements are the statements a read token may run: queries, and
// the writes that PostgreSQL itself refuses in a read-only transaction
// (25006, which clients report as such).
var readStatements = map[string]bool{"select": true, "with": true, "values": true, "table": true, "show": true, "explain": true,
	"insert": true, "update": true, "delete": true, "merge": true, "create": true, "alter": true, "drop": true,
	"truncate": true, "grant": true, "revoke": true, "comment": true}

var pgTxControl = map[string]bool{"begin": true, "start": true, "commit": true, "end": true, "rollback": true, "abort": true,
	"savepoint": true, "release": true}

var pgSessionStatements = map[string]bool{"set": true, "reset": true, "discard": true, "prepare": true, "execute": true,
	"deallocate": true, "listen": true, "unlisten": true, "notify": true, "load": true, "declare": true, "fetch": true,
	"move": true, "close": true, "lock": true, "do": true, "call": true}

// guardTokens checks the statements of toks. nested is true inside a DO
// body, where any COPY is refused.
func guardTokens(toks []pgToken, read, tx, nested bool, depth int) string {
	start, lead := true, ""
	for i, t := range toks {
		switch {
		case t.kind == pgSemi:
			start, lead = true, ""
			continue
		case start && t.kind == pgLParen:
			continue
		case start && nested:
			start = false
		case start:
			start = false
			if t.kind == pgWord {
				lead = t.text
			} else {
				lead = "?"
			}
			if why := guardLead(lead, toks[i+1:], read, tx); why != "" {
				return why
			}
		}
		switch t.kind {
		case pgWord, pgIdent:
			name := asciiLower(t.text)
			if nested && name == "copy" {
				return "COPY in a DO block is refused: nothing can stream over HTTP, and COPY ... PROGRAM would run a program on the database server"
			}
			if why := dangerousFunction(name, read); why != "" {
				return why
			}
		case pgString:
			if (lead == "do" || nested) && depth < 4 {
				inner, err := pgTokens(t.text, false)
				if err == nil {
					if why := guardTokens(inner, read, false, true, depth+1); why != "" {
						return why
					}
				}
			}
		}
	}
	return ""
}

// guardLead checks a statement's first keyword; rest are the tokens after
// it.
func guardLead(lead string, rest []pgToken, read, tx bool) string {
	next := func(k int) string {
		if k < len(rest) && rest[k].kind == pgWord {
			return rest[k].text
		}
		return ""
	}
	switch {
	case lead == "copy":
		return copyRefused
	case lead == "prepare" && next(0) == "transaction", (lead == "commit" || lead == "rollback") && next(0) == "prepared":
		return "two-phase commit (PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED) is refused: a prepared transaction would outlive the request"
	}
	if read {
		if readStatements[lead] {
			return ""
		}
		why := "a read token may run only queries (SELECT, WITH, VALUES, TABLE, SHOW, EXPLAIN), not " + strings.ToUpper(lead)
		switch {
		case pgTxControl[lead]:
			why += ": the gateway opens and ends a read token's transaction itself"
		case pgSessionStatements[lead]:
			why += ": it would act on the pooled connection's session or beyond the statement"
		}
		return why
	}
	if tx {
		k := 0
		for next(k) == "work" || next(k) == "transaction" {
			k++
		}
		switch lead {
		case "begin", "start", "commit", "end", "abort":
			return txEnded
		case "rollback":
			if next(k) != "to" {
				return txEnded
			}
		}
	}
	return ""
}

// Functions refused to every token: they act on other sessions, on the
// server's files or configuration, or on other databases.
var forbiddenFunctions = map[string]bool{
	"pg_cancel_backend": true, "pg_terminate_backend": true, "pg_reload_conf": true, "pg_rotate_logfile": true,
	"pg_rotate_logfile_old": true, "pg_read_file": true, "pg_read_file_old": true, "pg_read_binary_file": true,
	"pg_stat_file": true, "pg_promote": true, "pg_switch_wal": true, "pg_switch_xlog": true, "pg_create_restore_point": true,
	"pg_backup_start": true, "pg_backup_stop": true, "pg_start_backup": true, "pg_stop_backup": true,
	"pg_log_backend_memory_contexts": true, "lo_import": true, "lo_export": true, "pg_file_write": true,
	"pg_file_rename": true, "pg_file_unlink": true, "pg_file_sync": true, "pg_logdir_ls": true,
	"pg_wal_replay_pause": true, "pg_wal_replay_resume": true, "pg_import_system_collations": true,
}

var forbiddenPrefixes = []string{"pg_ls_", "dblink", "pg_stat_reset", "pg_replication_origin_", "pg_logical_"}

// Functions refused to read tokens too: they change the session, take
// locks or objects that outlive the statement, notify other sessions, or
// run SQL given as a string (where the guard cannot read it).
var readForbiddenFunctions = map[string]bool{
	"set_config": true, "pg_notify": true, "ts_stat": true, "lo_open": true, "lo_close": true, "lo_creat": true,
	"lo_create": true, "lo_unlink": true, "lo_lseek": true, "lo_lseek64": true, "lo_tell": true, "lo_tell64": true,
	"lo_truncate": true, "lo_truncate64": true, "lo_get": true, "lo_put": true, "lo_from_bytea": true, "loread": true,
	"lowrite": true, "pg_export_snapshot": true,
}

var readForbiddenPrefixes = []string{"pg_advisory", "pg_try_advisory", "query_to_xml", "cursor_to_xml"}

// dangerousFunction returns why the identifier name may not appear in a
// statement, or "".
func dangerousFunction(name string, read bool) string {
	bad := forbiddenFunctions[name] || strings.Contains(name, "replication_slot")
	for _, p := range forbiddenPrefixes {
		bad = bad || strings.HasPrefix(name, p)
	}
	if bad {
		return name + " is refused through the gateway: it acts on other sessions, the server or other databases"
	}
	if !read {
		return ""
	}
	bad = readForbiddenFunctions[name]
	for _, p := range readForbiddenPrefixes {
		bad = bad || strings.HasPrefix(name, p)
	}
	if bad {
		return name + " is refused to read tokens: it would change the session, hold locks or objects beyond the statement, or run SQL the gateway cannot read"
	}
	return ""
}
