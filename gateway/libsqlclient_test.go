package gateway_test

import (
	"testing"

	"github.com/forge-orm/forge/gateway"
)

// TestLibsqlJSClient runs the real @libsql/client (pinned in
// js/package.json) against the gateway over SQLite, with tokens:
// parameterized queries with every value type, named arguments, an insert
// with RETURNING, a batch that commits and one that fails and leaves
// nothing written, interactive transactions (commit, rollback, a failing
// statement), executeMultiple, and a read token whose reads work and whose
// writes SQLite refuses. testdata/libsql-client.mjs prints what the client
// returned.
func TestLibsqlJSClient(t *testing.T) {
	url := sqliteServer(t, gateway.Config{})
	out := runNode(t, "libsql-client.mjs", "LIBSQL_URL="+url, "LIBSQL_WRITE_TOKEN="+writeSecret, "LIBSQL_READ_TOKEN="+readSecret)
	check := func(step, want string) {
		t.Helper()
		if got := jsonOf(out[step]); got != want {
			t.Errorf("%s:\n got %s\nwant %s", step, got, want)
		}
	}
	checkErr := func(step, name, code string, index any) {
		t.Helper()
		e, _ := out[step].(map[string]any)["error"].(map[string]any)
		if e == nil || e["name"] != name || e["code"] != code || e["index"] != index {
			t.Errorf("%s: %s, want %s %s at %v", step, jsonOf(out[step]), name, code, index)
		}
	}
	check("create", `{"columnTypes":[],"columns":[],"rows":[],"rowsAffected":0}`)
	check("params", `{"columnTypes":["","","","","","","","","","",""],"columns":["big","neg","f","ok","s","raw","empty","nul","at","meta","ms"],`+
		`"rows":[[{"$bigint":"9007199254740993"},{"$bigint":"-9223372036854775808"},3.141592653589793,{"$bigint":"1"},"it's \"quoted\" — ünï 🎉",`+
		`{"$bytes_b64":"AQL/"},{"$bytes_b64":""},null,"2024-01-02T03:04:05.678+05:30","{\"a\":[1,null,\"x\"]}",1704164645678]],"rowsAffected":0}`)
	check("named", `{"columnTypes":["","",""],"columns":["a","b","c"],"rows":[[{"$bigint":"1"},"x",null]],"rowsAffected":0}`)
	check("insert", `{"columnTypes":["INTEGER","TEXT","INTEGER"],"columns":["id","name","big"],"lastInsertRowid":{"$bigint":"2"},`+
		`"rows":[[{"$bigint":"1"},"a",{"$bigint":"9223372036854775807"}],[{"$bigint":"2"},"b",null]],"rowsAffected":2}`)
	check("select", `{"columnTypes":["INTEGER","TEXT","INTEGER","REAL","INTEGER","BLOB","TEXT","TEXT"],"columns":["id","name","big","f","ok","raw","at","meta"],`+
		`"rows":[[{"$bigint":"1"},"a",{"$bigint":"9223372036854775807"},0.1,{"$bigint":"0"},{"$bytes_b64":"AAA="},"2024-06-01T12:00:00-07:00","{\"k\":\"v\"}"],`+
		`[{"$bigint":"2"},"b",null,null,null,null,null,null]],"rowsAffected":0}`)
	check("batchCommit", `[{"columnTypes":[],"columns":[],"lastInsertRowid":{"$bigint":"3"},"rows":[],"rowsAffected":1},`+
		`{"columnTypes":[],"columns":[],"lastInsertRowid":{"$bigint":"3"},"rows":[],"rowsAffected":1},{"columnTypes":[""],"columns":["n"],"rows":[[{"$bigint":"3"}]],"rowsAffected":0}]`)
	checkErr("batchFail", "LibsqlBatchError", "SQLITE_CONSTRAINT", float64(1))
	check("txCommit", `{"columnTypes":[""],"columns":["n"],"rows":[[{"$bigint":"4"}]],"rowsAffected":0}`)
	check("txRollback", `"rolled back"`)
	checkErr("txFail", "LibsqlBatchError", "SQLITE_CONSTRAINT", float64(0))
	// Neither the failed batch (d, e), the rolled back transaction (t2) nor
	// the failed one (t3) left a row.
	check("after", `{"columnTypes":["TEXT"],"columns":["name"],"rows":[["a"],["b"],["c"],["t1"]],"rowsAffected":0}`)
	check("multiple", `{"columnTypes":[""],"columns":["s"],"rows":[[{"$bigint":"3"}]],"rowsAffected":0}`)
	check("readOk", `{"columnTypes":[""],"columns":["n"],"rows":[[{"$bigint":"4"}]],"rowsAffected":0}`)
	check("readBatch", `[{"columnTypes":[""],"columns":["n"],"rows":[[{"$bigint":"4"}]],"rowsAffected":0},{"columnTypes":[""],"columns":["one"],"rows":[[{"$bigint":"1"}]],"rowsAffected":0}]`)
	checkErr("readWrite", "LibsqlError", "SQLITE_READONLY", nil)
	checkErr("readWriteCTE", "LibsqlError", "SQLITE_READONLY", nil)
	checkErr("readBatchWrite", "LibsqlBatchError", "SQLITE_READONLY", float64(0))
	// batch(..., "read") with a write token: BEGIN TRANSACTION READONLY is kept.
	checkErr("readOnlyTx", "LibsqlBatchError", "SQLITE_READONLY", float64(0))
	checkErr("badToken", "LibsqlError", "UNAUTHORIZED", nil)
	checkErr("syntax", "LibsqlError", "SQLITE_ERROR", nil)
	check("final", `{"columnTypes":[""],"columns":["n"],"rows":[[{"$bigint":"4"}]],"rowsAffected":0}`)
}
