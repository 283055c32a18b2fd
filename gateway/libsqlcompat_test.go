package gateway_test

import (
	"path/filepath"
	"sort"
	"testing"
)

// TestLibsqlClientCompat runs testdata/libsql-compat.mjs, a compatibility
// suite for the real @libsql/client (pinned in js/package.json), against
// the gateway command started with its default limits (gateway.Main with
// no limit flags): every argument style and mixes of them, every value
// type, batches of 1,000 to 4,000 statements in every transaction mode,
// interactive transactions (commit, rollback, close, read, deferred),
// 100 concurrent write batches and 200 requests at a concurrency of 24,
// executeMultiple, migrate, and errors with their codes.
func TestLibsqlClientCompat(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "compat.db")
	addr, logs, _ := runMain(t, "--db", "sqlite:"+dbPath, "--listen", "127.0.0.1:0",
		"--token", "app:"+writeSecret+":write", "--token", "ro:"+readSecret+":read", "--log-level", "warn")
	out := runNode(t, "libsql-compat.mjs", "LIBSQL_URL=http://"+addr, "LIBSQL_WRITE_TOKEN="+writeSecret, "LIBSQL_READ_TOKEN="+readSecret)
	failed, _ := out["failed"].(map[string]any)
	names := make([]string, 0, len(failed))
	for name := range failed {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Errorf("%s: %v", name, failed[name])
	}
	passed, _ := out["passed"].([]any)
	if len(passed)+len(failed) < 48 {
		t.Errorf("%d checks ran, want every one of the suite's (48)", len(passed)+len(failed))
	}
	if t.Failed() {
		t.Logf("gateway log:\n%s", logs.String())
	}
}
