package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/forge-orm/forge/gateway"
	"github.com/forge-orm/forge/internal/testsvc"
	"github.com/forge-orm/forge/wire/hrana"
	_ "modernc.org/sqlite"
)

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listenLine = regexp.MustCompile(`listening on http://(\S+)`)

// runMain runs gateway.Main in the background and returns its address
// once it listens, its stderr, and a func that cancels its context and
// returns its exit code.
func runMain(t *testing.T, args ...string) (addr string, logs *syncBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout syncBuffer
	logs = &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- gateway.Main(ctx, args, &stdout, logs) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if m := listenLine.FindStringSubmatch(stdout.String()); m != nil {
			addr = m[1]
			break
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("Main exited with %d before listening:\n%s", code, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("Main does not listen:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				t.Errorf("Main did not return after its context ended:\n%s", logs.String())
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return addr, logs, stop
}

// TestMainShutdown runs the command: both protocols on one listener, JSON
// logs with request ids, and a graceful shutdown in which a request in
// flight finishes, an open stream's transaction is rolled back, and new
// connections are refused.
func TestMainShutdown(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "main.db")
	_, _, gwDSN, _ := pgRoles(t) // the command refuses a superuser role
	addr, logs, stop := runMain(t, "--db", gwDSN, "--db", "sqlite:"+dbPath, "--listen", "127.0.0.1:0",
		"--token", "app:"+writeSecret+":write", "--token", "ro:"+readSecret+":read", "--log-format", "json")
	base := "http://" + addr
	if r := do(t, http.MethodGet, base+"/healthz", "", "", nil); r.status != 200 {
		t.Fatalf("healthz: %d", r.status)
	}
	c := &hc{t: t, url: base, token: writeSecret}
	c.mustExec(`CREATE TABLE t (v TEXT)`)
	// A stream left in a transaction.
	resp := c.must(nil, hrana.ExecuteRequest(hrana.NewStmt("BEGIN IMMEDIATE", nil, false)), hrana.ExecuteRequest(hrana.NewStmt(`INSERT INTO t VALUES ('open')`, nil, false)))
	if resp.Baton == nil {
		t.Fatal("no baton")
	}
	// A request in flight when the shutdown starts.
	slow := make(chan *response, 1)
	go func() {
		slow <- neonPost(t, base, writeSecret, `{"query":"SELECT pg_sleep(1), 'done'","params":[]}`, map[string]string{"X-Request-Id": "slow-request-1"})
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	code := stop()
	r := <-slow
	if r.status != 200 || !strings.Contains(string(r.body), `"done"`) || r.header.Get("X-Request-Id") != "slow-request-1" {
		t.Errorf("the request in flight: %d %s (id %q)", r.status, r.body, r.header.Get("X-Request-Id"))
	}
	if code != 0 {
		t.Errorf("exit code %d\n%s", code, logs.String())
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("Main returned after %v, before the request in flight ended", d)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Error("the listener still accepts connections after the shutdown")
	}
	db, err := sql.Open("sqlite", dbPath)
	must(t, err)
	defer db.Close()
	var n int
	must(t, db.QueryRow(`SELECT count(*) FROM t`).Scan(&n))
	if n != 0 {
		t.Errorf("the open stream's transaction was committed (%d rows)", n)
	}
	// Logs: one JSON line per request, with its id.
	found := false
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Errorf("log line is not JSON: %s", sc.Text())
			continue
		}
		if line["msg"] == "request" && line["request_id"] == "slow-request-1" {
			found = line["status"] == float64(200) && line["protocol"] == "neon" && line["token"] == "app"
		}
	}
	if !found {
		t.Errorf("no log line for the slow request:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Errorf("no shutdown in the logs:\n%s", logs.String())
	}
}

// TestMainSlowClients checks that clients too slow to send their headers
// or body are cut off, and leave no goroutine behind.
func TestMainSlowClients(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("clients", func(t *testing.T) {
		addr, _, stop := runMain(t, "--db", "sqlite:"+filepath.Join(t.TempDir(), "slow.db"), "--listen", "127.0.0.1:0",
			"--token", "app:"+writeSecret+":write", "--read-header-timeout", "300ms", "--read-timeout", "600ms", "--log-level", "error")
		for _, partial := range []string{
			"POST /v2/pipeline HTTP/1.1\r\nHost: x\r\n",
			"POST /v2/pipeline HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + writeSecret + "\r\nContent-Length: 1000\r\n\r\n{\"requests\":",
			"",
		} {
			conn, err := net.Dial("tcp", addr)
			must(t, err)
			_, _ = io.WriteString(conn, partial)
			start := time.Now()
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			b, _ := io.ReadAll(conn)
			d := time.Since(start)
			conn.Close()
			if d > 3*time.Second {
				t.Errorf("%q: the connection stayed open %v", partial, d)
			}
			if len(b) > 0 && !bytes.HasPrefix(b, []byte("HTTP/1.1 4")) {
				t.Errorf("%q: answered %s", partial, b)
			}
		}
		if r := do(t, http.MethodGet, "http://"+addr+"/healthz", "", "", nil); r.status != 200 {
			t.Errorf("healthz: %d", r.status)
		}
		if code := stop(); code != 0 {
			t.Errorf("exit code %d", code)
		}
	})
	http.DefaultClient.CloseIdleConnections()
	checkGoroutines(t, before)
}

// TestMainFlags checks that bad command lines exit with 2 and say why.
func TestMainFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--db", "sqlite::memory:"}, "no token"},
		{[]string{"--token", "a:b:write"}, "no database"},
		{[]string{"--db", "sqlite::memory:", "--token", "a:b"}, "NAME:SECRET:ROLE"},
		{[]string{"--db", "sqlite::memory:", "--token", "a:b:admin"}, "unknown role"},
		{[]string{"--db", "mssql://x", "--token", "a:b:write"}, "want postgres://"},
		{[]string{"--db", "mysql://", "--token", "a:b:write"}, "not a MySQL URL"},
		{[]string{"--db", "sqlite::memory:", "--token", "a:b:write", "--read-dsn", "mysql://r@h/db"}, "needs a MySQL --db"},
		{[]string{"--db", "sqlite::memory:", "--token", "a:b:write", "--mysql-pool-size", "0"}, "--mysql-pool-size must be positive"},
		{[]string{"--db", "sqlite::memory:", "--token", "a:b:write", "--max-body", "lots"}, "size"},
		{[]string{"--db", "sqlite::memory:", "--token", "a:b:write", "--max-rows", "0"}, "--max-rows must be positive"},
		{[]string{"--db", "sqlite::memory:", "--tokens", "/nonexistent/tokens"}, "--tokens"},
		{[]string{"--db", "sqlite::memory:", "--token", "a:b:write", "--statements", "/nonexistent"}, "--statements"},
		{[]string{"--bogus"}, "flag provided but not defined"},
		{[]string{"--db", "sqlite::memory:", "--token", "a:b:write", "extra"}, "unexpected arguments"},
	} {
		var out, errOut bytes.Buffer
		code := gateway.Main(context.Background(), tc.args, &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tc.args, code, errOut.String(), tc.want)
		}
	}
	var out, errOut bytes.Buffer
	if code := gateway.Main(context.Background(), []string{"--help"}, &out, &errOut); code != 0 || !strings.Contains(errOut.String(), "-statement-timeout") {
		t.Errorf("--help: %d %s", code, errOut.String())
	}
}

// TestStandaloneSIGTERM builds cmd/forge-gateway and stops it with
// SIGTERM, with a tokens file.
func TestStandaloneSIGTERM(t *testing.T) {
	goBin, _ := testsvc.Go(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "forge-gateway")
	build := exec.Command(goBin, "build", "-o", bin, "./cmd/forge-gateway")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tokens := filepath.Join(dir, "tokens")
	must(t, os.WriteFile(tokens, []byte("# the app\napp:"+writeSecret+":write\n\nro:sha256:"+sha256Hex(readSecret)+":read\n"), 0o600))
	cmd := exec.Command(bin, "--db", "sqlite:"+filepath.Join(dir, "s.db"), "--tokens", tokens, "--listen", "127.0.0.1:0")
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	must(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	})
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == ""; {
		if m := listenLine.FindStringSubmatch(stdout.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("not listening:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	w := &hc{t: t, url: "http://" + addr, token: writeSecret}
	w.mustExec(`CREATE TABLE t (a)`)
	r := &hc{t: t, url: "http://" + addr, token: readSecret}
	if got := r.scalar(`SELECT count(*) FROM t`); got.Int != 0 {
		t.Errorf("read token (a sha256: secret): %s", jsonOf(got))
	}
	must(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15 s after SIGTERM\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Errorf("logs:\n%s", stderr.String())
	}
}
