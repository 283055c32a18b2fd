package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/internal/testsvc"
)

// TestNeonJSClient runs the real @neondatabase/serverless client (pinned
// in js/package.json) against the gateway: parameterized queries of every
// common type, a tagged template, an insert with RETURNING, fullResults,
// arrayMode, a transaction that commits, one that fails and leaves nothing
// written, a read-only one, and a syntax error. testdata/neon-client.mjs
// prints what the client returned.
func TestNeonJSClient(t *testing.T) {
	pool, _ := openPool(t, "")
	checkNeonJS(t, runNode(t, "neon-client.mjs", "NEON_ENDPOINT="+serve(t, pool, gateway.NeonOptions{})))
}

// TestNeonJSClientThroughGateway runs the same client through the whole
// gateway, with a write token (neon()'s authToken), and a read token
// whose writes PostgreSQL refuses.
func TestNeonJSClientThroughGateway(t *testing.T) {
	pool, _ := openPool(t, "")
	_, url := startServer(t, gateway.Config{Postgres: pool})
	out := runNode(t, "neon-client.mjs", "NEON_ENDPOINT="+url+"/sql", "NEON_AUTH_TOKEN="+writeSecret, "NEON_READ_TOKEN="+readSecret)
	checkNeonJS(t, out)
	if got := out["readSelect"]; jsonOf(got) != `[{"n":3}]` {
		t.Errorf("read token's SELECT: %s", jsonOf(got))
	}
	for _, step := range []string{"readInsert", "readCTE", "readTx"} {
		if e, _ := out[step].(map[string]any)["error"].(map[string]any); e == nil || e["name"] != "NeonDbError" || e["code"] != "25006" {
			t.Errorf("%s: %s, want error 25006 (read-only transaction)", step, jsonOf(out[step]))
		}
	}
	if e, _ := out["badToken"].(map[string]any)["error"].(map[string]any); e == nil || !strings.Contains(fmt.Sprint(e["message"]), "401") {
		t.Errorf("unknown token: %s", jsonOf(out["badToken"]))
	}
	if n := count(t, pool, "items"); n != 3 {
		t.Errorf("%d rows after the read token's writes", n)
	}
}

// runNode runs a script of testdata with node and returns the JSON object
// it prints.
func runNode(t *testing.T, script string, env ...string) map[string]any {
	t.Helper()
	jsDir := testsvc.JSDir(t)
	node := testsvc.Node(t)
	cmd := exec.Command(node, script)
	cmd.Dir = "testdata"
	cmd.Env = append(append(os.Environ(), "FORGE_JS_DIR="+jsDir), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("node: %v\n%s%s", err, stdout.String(), stderr.String())
		}
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("node did not finish\n%s%s", stdout.String(), stderr.String())
	}
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("output is not JSON: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	return out
}

// checkNeonJS checks what neon-client.mjs got.
func checkNeonJS(t *testing.T, out map[string]any) {
	t.Helper()
	check := func(step string, want any) {
		t.Helper()
		if got := out[step]; !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Errorf("%s:\n got %s\nwant %s", step, g, w)
		}
	}
	type m = map[string]any
	type a = []any
	check("params", a{m{
		"n": float64(42), "s": "it's \"quoted\" ünï", "b": true, "big": "9007199254740993", "j": m{"a": a{float64(1), nil}},
		"raw": m{"type": "Buffer", "data": a{float64(1), float64(2), float64(255)}}, "at": "2024-01-02T03:04:05.678Z",
		"tags": a{"x", "y z", nil}, "f": 3.5, "price": "12.50", "gone": nil, "ints": a{float64(1), float64(2), float64(3)},
	}})
	check("template", a{m{"eight": float64(8), "ab": "ab"}})
	check("create", a{})
	check("insert", a{m{"id": float64(1), "name": "a"}, m{"id": float64(2), "name": "b"}})
	if u, ok := out["update"].(map[string]any); !ok || u["command"] != "UPDATE" || u["rowCount"] != float64(2) || !reflect.DeepEqual(u["rows"], a{}) {
		t.Errorf("update (fullResults): %v", out["update"])
	}
	check("arrayMode", a{a{float64(1), "a!"}, a{float64(2), "b!"}})
	check("txCommit", a{a{}, a{m{"n": float64(3)}}, a{m{"transaction_isolation": "serializable"}}})
	if e, _ := out["txFail"].(map[string]any)["error"].(map[string]any); e == nil || e["name"] != "NeonDbError" || e["code"] != "23505" || e["constraint"] != "items_name_key" || e["table"] != "items" {
		t.Errorf("failing transaction: %v", out["txFail"])
	}
	if e, _ := out["txReadOnly"].(map[string]any)["error"].(map[string]any); e == nil || e["code"] != "25006" {
		t.Errorf("read-only transaction: %v", out["txReadOnly"])
	}
	check("after", a{m{"name": "a!"}, m{"name": "b!"}, m{"name": "c"}})
	if e, _ := out["syntax"].(map[string]any)["error"].(map[string]any); e == nil || e["name"] != "NeonDbError" || e["code"] != "42601" || e["position"] != "1" {
		t.Errorf("syntax error: %v", out["syntax"])
	}
}
