package main

import "strings"

// transactionControl reports a statement that starts, ends or rolls back
// a transaction: forge runs each migration file in a transaction of its
// own, so a file must not.
func transactionControl(stmt string) bool {
	f := strings.Fields(strings.ToUpper(stmt))
	if len(f) == 0 {
		return false
	}
	first := strings.TrimRight(f[0], ";")
	switch first {
	case "BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE":
		return true
	case "START":
		return len(f) > 1 && f[1] == "TRANSACTION"
	}
	return false
}
