package gateway

import (
	"strings"
)

// The MySQL statement guard: what PlanetScale's protocol may run on the
// MySQL side. It reads each statement with a MySQL lexer twice, with
// backslash escapes in strings (MySQL's default) and without
// (NO_BACKSLASH_ESCAPES), and takes the stricter answer, so that no
// sql_mode makes it misread where a string ends.

// myTx is a transaction-control statement the gateway runs itself.
type myTx uint8

const (
	myTxNone myTx = iota
	myTxBegin
	myTxBeginReadOnly
	myTxCommit
	myTxRollback
)

// myStmt is what the guard learned about an accepted statement.
type myStmt struct {
	tx myTx
	// rows: the statement returns rows (SELECT, SHOW, ..., RETURNING).
	rows bool
	// taint: the statement may leave state on its session (variables,
	// locks, prepared statements, temporary tables, a changed sql_mode):
	// its connection is closed after use instead of pooled.
	taint bool
}

// myRefusal is a statement the guard refuses: code is the protocol's error
// code (PERMISSION_DENIED or INVALID_ARGUMENT).
type myRefusal struct {
	code string
	msg  string
}

type myToken struct {
	word   string // upper-cased keyword or identifier; "" for punctuation
	quoted bool   // a `quoted` identifier
	punct  byte
}

type myLex struct {
	toks        []myToken
	at          bool // an @ outside strings and comments (user or system variable)
	execComment bool // /*! ... */ or /*M! ... */: MySQL runs its content
	trailing    bool // something after a ';'
	bad         string
}

// lexMySQL splits sql into words and punctuation, skipping strings and
// comments. backslash says whether a backslash escapes in strings.
func lexMySQL(sql string, backslash bool) myLex {
	var l myLex
	semi := false
	add := func(t myToken) {
		if semi {
			l.trailing = true
		}
		l.toks = append(l.toks, t)
	}
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for ; j < len(sql); j++ {
				if sql[j] == '\\' && backslash && c != '`' {
					j++
					continue
				}
				if sql[j] == c {
					if j+1 < len(sql) && sql[j+1] == c {
						j++
						continue
					}
					break
				}
			}
			if j >= len(sql) {
				l.bad = "an unterminated quoted string or identifier"
				return l
			}
			if c == '`' {
				add(myToken{word: strings.ToUpper(strings.ReplaceAll(sql[i+1:j], "``", "`")), quoted: true})
			} else {
				add(myToken{punct: '\''})
			}
			i = j
		case c == '#':
			i = skipToLineEnd(sql, i)
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-' && (i+2 == len(sql) || sql[i+2] <= ' '):
			i = skipToLineEnd(sql, i)
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			if i+2 < len(sql) && (sql[i+2] == '!' || sql[i+2] == 'M' && i+3 < len(sql) && sql[i+3] == '!') {
				l.execComment = true
			}
			j := strings.Index(sql[i+2:], "*/")
			if j < 0 {
				l.bad = "an unterminated comment"
				return l
			}
			i += j + 3
		case c == '@':
			l.at = true
			add(myToken{punct: '@'})
		case c == ';':
			semi = true
		case isMyWordByte(c):
			j := i
			for j < len(sql) && isMyWordByte(sql[j]) {
				j++
			}
			add(myToken{word: strings.ToUpper(sql[i:j])})
			i = j - 1
		default:
			add(myToken{punct: c})
		}
	}
	return l
}

func isMyWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

func skipToLineEnd(s string, i int) int {
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		return i + j
	}
	return len(s)
}

// myNoToken: statements no token may run (the --db user should not hold
// the privileges either; the gateway refuses one that does).
var myNoToken = map[string]bool{
	"KILL": true, "SHUTDOWN": true, "RESTART": true, "LOAD": true, "XA": true, "INSTALL": true, "UNINSTALL": true,
	"CLONE": true, "BINLOG": true, "PURGE": true, "RESET": true, "FLUSH": true, "CHANGE": true, "STOP": true,
	"CACHE": true, "IMPORT": true, "HELP": true,
}

// myNoTokenWords: words no statement may hold: files on the server, and
// the server-side statement timeout the gateway sets on every connection.
var myNoTokenWords = map[string]bool{"OUTFILE": true, "DUMPFILE": true, "LOAD_FILE": true,
	"MAX_STATEMENT_TIME": true, "MAX_EXECUTION_TIME": true}

// myReadLeading: the statements a read token may run.
var myReadLeading = map[string]bool{
	"SELECT": true, "WITH": true, "SHOW": true, "EXPLAIN": true, "DESCRIBE": true, "DESC": true, "VALUES": true, "TABLE": true,
}

// myReadWords: words a read token's statement may not hold anywhere:
// writes, locks, waits, session state, sequences, SQL from strings.
var myReadWords = map[string]bool{
	"INTO": true, "LOCK": true, "SHARE": true, "UPDATE": true, "INSERT": true, "DELETE": true, "REPLACE": true,
	"CREATE": true, "DROP": true, "ALTER": true, "TRUNCATE": true, "RENAME": true, "GRANT": true, "REVOKE": true,
	"SLEEP": true, "BENCHMARK": true, "GET_LOCK": true, "RELEASE_LOCK": true, "RELEASE_ALL_LOCKS": true,
	"IS_FREE_LOCK": true, "IS_USED_LOCK": true, "MASTER_POS_WAIT": true, "SOURCE_POS_WAIT": true,
	"MASTER_GTID_WAIT": true, "WAIT_FOR_EXECUTED_GTID_SET": true, "WAIT_UNTIL_SQL_THREAD_AFTER_GTIDS": true,
	"NEXTVAL": true, "SETVAL": true, "LASTVAL": true, "NEXT": true, "LAST_INSERT_ID": true, "ROW_COUNT": true,
	"FOUND_ROWS": true, "SYS_EXEC": true,
	"SYS_EVAL": true, "PROCEDURE": true, "HANDLER": true, "PREPARE": true, "EXECUTE": true, "CALL": true,
	"SET": true, "TEMPORARY": true, "ANALYZE": true,
}

// myTaintWords: words after which a write token's connection is closed
// rather than pooled.
var myTaintWords = map[string]bool{
	"SET": true, "PREPARE": true, "EXECUTE": true, "DEALLOCATE": true, "LOCK": true, "UNLOCK": true, "HANDLER": true,
	"CALL": true, "DO": true, "USE": true, "TEMPORARY": true, "GET_LOCK": true, "RELEASE_LOCK": true,
	"RELEASE_ALL_LOCKS": true, "LAST_INSERT_ID": true, "SAVEPOINT": true, "SIGNAL": true, "RESIGNAL": true,
}

// guardMySQL classifies a statement for a token (read: a read token's),
// or refuses it.
func guardMySQL(sql string, read bool) (myStmt, *myRefusal) {
	var out myStmt
	for _, backslash := range []bool{true, false} {
		st, ref := guardLexed(lexMySQL(sql, backslash), read)
		if ref != nil {
			return myStmt{}, ref
		}
		if backslash {
			out = st
			continue
		}
		if st.tx != out.tx || st.rows != out.rows {
			return myStmt{}, &myRefusal{code: "INVALID_ARGUMENT", msg: "the statement reads differently with and without NO_BACKSLASH_ESCAPES; write strings without backslash escapes"}
		}
		out.taint = out.taint || st.taint
	}
	return out, nil
}

func guardLexed(l myLex, read bool) (myStmt, *myRefusal) {
	deny := func(msg string) (myStmt, *myRefusal) {
		return myStmt{}, &myRefusal{code: "PERMISSION_DENIED", msg: msg}
	}
	if l.bad != "" {
		return myStmt{}, &myRefusal{code: "INVALID_ARGUMENT", msg: "the statement has " + l.bad}
	}
	if l.trailing {
		return myStmt{}, &myRefusal{code: "INVALID_ARGUMENT", msg: "one statement a request: nothing may follow ';'"}
	}
	toks := l.toks
	first := 0
	for first < len(toks) && toks[first].punct == '(' {
		first++
	}
	if first == len(toks) || toks[first].word == "" || toks[first].quoted {
		return myStmt{}, &myRefusal{code: "INVALID_ARGUMENT", msg: "empty statement or no leading keyword"}
	}
	lead := toks[first].word
	words := make([]string, 0, len(toks))
	for _, t := range toks {
		if t.word != "" && !t.quoted {
			words = append(words, t.word)
		}
	}
	for i, t := range toks {
		if myNoTokenWords[t.word] && !t.quoted {
			if t.word == "MAX_STATEMENT_TIME" || t.word == "MAX_EXECUTION_TIME" {
				return deny("the gateway sets the statement timeout (" + t.word + "); it cannot be changed")
			}
			return deny("this gateway runs no statement that reads or writes files on the database server (" + t.word + ")")
		}
		if t.quoted && i+1 < len(toks) && toks[i+1].punct == '(' && (myNoTokenWords[t.word] || read && myReadWords[t.word]) {
			return deny("a read token may not call " + t.word)
		}
	}
	if myNoToken[lead] {
		return deny("this gateway does not run " + lead + " statements")
	}
	// Transaction control: the gateway runs the plain forms itself.
	switch lead {
	case "BEGIN":
		if first == 0 && (len(words) == 1 || len(words) == 2 && words[1] == "WORK") {
			return myStmt{tx: myTxBegin}, nil
		}
		return myStmt{}, &myRefusal{code: "INVALID_ARGUMENT", msg: "send BEGIN or START TRANSACTION on its own (BEGIN ... END blocks run only in stored programs)"}
	case "START":
		if first == 0 && len(words) >= 2 && words[1] == "TRANSACTION" {
			return startTx(words[2:])
		}
		return deny("this gateway runs START TRANSACTION only")
	case "COMMIT", "ROLLBACK":
		if first == 0 && (len(words) == 1 || len(words) == 2 && words[1] == "WORK") && len(toks) == len(words) {
			if lead == "COMMIT" {
				return myStmt{tx: myTxCommit}, nil
			}
			return myStmt{tx: myTxRollback}, nil
		}
		if lead == "ROLLBACK" && !read && len(words) >= 3 && (words[1] == "TO" || words[1] == "WORK" && words[2] == "TO") {
			return myStmt{taint: true}, nil // ROLLBACK [WORK] TO [SAVEPOINT] name
		}
		return myStmt{}, &myRefusal{code: "INVALID_ARGUMENT", msg: "send COMMIT or ROLLBACK on its own: AND CHAIN and RELEASE would change the session's transaction behind the gateway"}
	}
	for _, w := range words {
		if w == "AUTOCOMMIT" || w == "COMPLETION_TYPE" || lead == "SET" && w == "TRANSACTION" {
			return deny(w + " would change transactions behind the gateway: use BEGIN, COMMIT and ROLLBACK")
		}
	}
	rows := myReadLeading[lead] || lead == "RETURNING"
	for _, w := range words {
		if w == "RETURNING" {
			rows = true
		}
	}
	if read {
		if !myReadLeading[lead] {
			return deny("a read token may run only SELECT, WITH, SHOW, EXPLAIN, DESCRIBE, VALUES and TABLE statements (and BEGIN, COMMIT, ROLLBACK), not " + lead)
		}
		if l.at {
			return deny("a read token may not use @ variables")
		}
		if l.execComment {
			return deny("a read token may not send executable comments (/*! ... */)")
		}
		for _, w := range words {
			if myReadWords[w] {
				return deny("a read token's statement may not contain " + w)
			}
		}
		return myStmt{rows: true}, nil
	}
	st := myStmt{rows: rows}
	if l.at || l.execComment {
		st.taint = true
	}
	for _, w := range words {
		if myTaintWords[w] {
			st.taint = true
		}
	}
	return st, nil
}

// startTx reads START TRANSACTION's characteristics.
func startTx(chars []string) (myStmt, *myRefusal) {
	readOnly := false
	for i := 0; i < len(chars); i++ {
		switch {
		case chars[i] == "READ" && i+1 < len(chars) && chars[i+1] == "ONLY":
			readOnly = true
			i++
		case chars[i] == "READ" && i+1 < len(chars) && chars[i+1] == "WRITE":
			i++
		case chars[i] == "WITH" && i+2 < len(chars) && chars[i+1] == "CONSISTENT" && chars[i+2] == "SNAPSHOT":
			i += 2
		default:
			return myStmt{}, &myRefusal{code: "INVALID_ARGUMENT", msg: "START TRANSACTION takes READ ONLY, READ WRITE or WITH CONSISTENT SNAPSHOT"}
		}
	}
	if readOnly {
		return myStmt{tx: myTxBeginReadOnly}, nil
	}
	return myStmt{tx: myTxBegin}, nil
}
