package gateway

import (
	"strings"

	msqlite "modernc.org/sqlite"
)

// This file is the gateway's SQLite authorizer (sqlite3_set_authorizer,
// which modernc.org/sqlite exposes): SQLite calls it for every operation
// of every statement it compiles, with the operation's real target after
// name resolution, so that no spelling (TEMP, TEMPORARY, temp.t, "temp".t,
// a trigger's body, a pragma's table-valued function) gets around it. It
// keeps a stream's connection state within the stream:
//
//   - Objects in the temp schema: a read token may not create them; a
//     write token's mark the connection dirty, so that it is closed, not
//     pooled, when its stream ends.
//   - PRAGMAs: only those in the pragmas table run. Reading a setting, or
//     an introspection pragma, is allowed to every token; setting one that
//     is the connection's marks it dirty; setting one that is the
//     database's (user_version, application_id) needs a write token; the
//     rest (process-wide or file-system settings such as
//     temp_store_directory, and those that would lift a guarantee:
//     query_only, writable_schema, locking_mode, journal_mode, ...) are
//     refused to every token.
//   - ATTACH, DETACH (and so VACUUM INTO a file) and load_extension are
//     refused: they would open or create files on the gateway's machine.
//
// A refusal fails the statement with SQLITE_AUTH and a message naming
// what was refused, never an argument (which could be a host path).

// pragmaRule is what a PRAGMA may do through the gateway.
type pragmaRule uint8

const (
	pragmaDenied  pragmaRule = iota // refused (and every pragma not listed)
	pragmaInspect                   // reads only, with or without an argument
	pragmaGet                       // the setting may be read, not changed
	pragmaConn                      // the connection's setting: changing it marks the connection dirty
	pragmaDB                        // the database's setting: changing it needs a write token
)

var pragmas = map[string]pragmaRule{
	// Introspection: the argument is a table, index or schema name.
	"table_info": pragmaInspect, "table_xinfo": pragmaInspect, "table_list": pragmaInspect,
	"index_list": pragmaInspect, "index_info": pragmaInspect, "index_xinfo": pragmaInspect,
	"foreign_key_list": pragmaInspect, "foreign_key_check": pragmaInspect,
	"integrity_check": pragmaInspect, "quick_check": pragmaInspect,
	"collation_list": pragmaInspect, "function_list": pragmaInspect, "module_list": pragmaInspect,
	"pragma_list": pragmaInspect, "compile_options": pragmaInspect, "data_version": pragmaInspect,
	"freelist_count": pragmaInspect, "page_count": pragmaInspect, "stats": pragmaInspect,

	// Settings that may be read but not changed through the gateway.
	"query_only": pragmaGet, "journal_mode": pragmaGet, "synchronous": pragmaGet,
	"locking_mode": pragmaGet, "page_size": pragmaGet, "cache_size": pragmaGet,
	"mmap_size": pragmaGet, "busy_timeout": pragmaGet, "temp_store": pragmaGet,
	"encoding": pragmaGet, "schema_version": pragmaGet, "auto_vacuum": pragmaGet,
	"max_page_count": pragmaGet, "wal_autocheckpoint": pragmaGet, "journal_size_limit": pragmaGet,
	"secure_delete": pragmaGet, "cache_spill": pragmaGet, "trusted_schema": pragmaGet,
	"cell_size_check": pragmaGet, "soft_heap_limit": pragmaGet, "hard_heap_limit": pragmaGet,
	"threads": pragmaGet, "ignore_check_constraints": pragmaGet, "writable_schema": pragmaGet,

	// The connection's behaviour, for the stream that sets it.
	"foreign_keys": pragmaConn, "defer_foreign_keys": pragmaConn, "recursive_triggers": pragmaConn,
	"case_sensitive_like": pragmaConn, "reverse_unordered_selects": pragmaConn,
	"automatic_index": pragmaConn, "legacy_alter_table": pragmaConn, "analysis_limit": pragmaConn,

	// The database's: stored in the file.
	"user_version": pragmaDB, "application_id": pragmaDB, "optimize": pragmaDB,
	"incremental_vacuum": pragmaDB, "wal_checkpoint": pragmaDB, "shrink_memory": pragmaConn,

	// Process-wide, or revealing or touching the host's file system:
	// temp_store_directory, data_store_directory, database_list, and every
	// pragma not named here, are refused.
}

// deniedTables are tables no statement may touch: the file's raw pages
// (when SQLite is built with them) and the database's path.
var deniedTables = map[string]bool{"sqlite_dbpage": true, "pragma_database_list": true}

// authorize is the connection's authorizer (see the top of this file).
func (sc *sqliteConn) authorize(action msqlite.AuthorizerActionCode, arg1, arg2, db, _ string) msqlite.AuthorizerReturnCode {
	if sc.internal {
		return msqlite.AuthorizerOK
	}
	deny := func(why string) msqlite.AuthorizerReturnCode {
		if sc.denied == "" {
			sc.denied = why
		}
		return msqlite.AuthorizerDeny
	}
	read := sc.role == RoleRead
	switch action {
	case msqlite.AuthAttach, msqlite.AuthDetach:
		return deny("ATTACH and DETACH (and VACUUM INTO) are not allowed through the gateway: they would open or create files on its host")
	case msqlite.AuthFunction:
		if strings.EqualFold(arg2, "load_extension") {
			return deny("load_extension() is not allowed through the gateway")
		}
		return msqlite.AuthorizerOK
	case msqlite.AuthRead, msqlite.AuthInsert, msqlite.AuthUpdate, msqlite.AuthDelete:
		if deniedTables[strings.ToLower(arg1)] {
			return deny("the table " + strings.ToLower(arg1) + " is not available through the gateway")
		}
	case msqlite.AuthPragma:
		return sc.authorizePragma(strings.ToLower(arg1), arg2 != "", deny)
	case msqlite.AuthCreateTempTable, msqlite.AuthCreateTempIndex, msqlite.AuthCreateTempTrigger, msqlite.AuthCreateTempView:
		if read {
			return deny("a read token cannot create objects, temporary ones included")
		}
		sc.dirty = true
		return msqlite.AuthorizerOK
	}
	if strings.EqualFold(db, "temp") && action != msqlite.AuthRead && action != msqlite.AuthSelect {
		// Anything else that reaches the temp schema (a virtual table,
		// a write to a temporary table) is session state.
		if read && action != msqlite.AuthTransaction && action != msqlite.AuthSavepoint {
			return deny("a read token cannot change the temp schema")
		}
		sc.dirty = true
	}
	return msqlite.AuthorizerOK
}

func (sc *sqliteConn) authorizePragma(name string, set bool, deny func(string) msqlite.AuthorizerReturnCode) msqlite.AuthorizerReturnCode {
	rule := pragmas[name]
	switch {
	case rule == pragmaDenied:
		return deny("PRAGMA " + name + " is not allowed through the gateway")
	case rule == pragmaInspect, !set:
		return msqlite.AuthorizerOK
	case rule == pragmaGet:
		return deny("PRAGMA " + name + " may be read but not changed through the gateway")
	case rule == pragmaConn:
		sc.dirty = true
		return msqlite.AuthorizerOK
	case sc.role == RoleRead: // pragmaDB
		return deny("PRAGMA " + name + " changes the database: a read token cannot")
	}
	return msqlite.AuthorizerOK
}
