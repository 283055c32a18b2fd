package gateway_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forge-orm/forge/wire/hrana"
)

// TestHranaPeakRSS measures the gateway command's peak resident memory
// (VmHWM) under the worst inputs its default limits allow over Hrana, and
// prints the figures (gateway/README.md quotes them). It is a measurement,
// not a pass/fail test: it runs only with FORGE_GATEWAY_RSS=1, builds
// cmd/forge-gateway and starts it with its defaults and three tokens.
//
// Phases, each from several tokens at once, at each token's concurrency
// limit: bodies of the largest size made of the smallest values (the
// decoder's worst expansion), bodies holding one value of the largest
// size, responses of the largest size, and every stream a token may keep
// open, each with the most store_sql bytes.
func TestHranaPeakRSS(t *testing.T) {
	if os.Getenv("FORGE_GATEWAY_RSS") != "1" {
		t.Skip("a measurement: set FORGE_GATEWAY_RSS=1 to run it")
	}
	bin := filepath.Join(t.TempDir(), "forge-gateway")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/forge-gateway").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tokens := []string{"t1-0123456789abcdef", "t2-0123456789abcdef", "t3-0123456789abcdef"}
	args := []string{"--db", "sqlite:" + filepath.Join(t.TempDir(), "rss.db"), "--listen", "127.0.0.1:0", "--log-level", "error"}
	for i, tok := range tokens {
		args = append(args, "--token", fmt.Sprintf("t%d:%s:write", i, tok))
	}
	cmd := exec.Command(bin, args...)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	url := strings.TrimSpace(line[strings.Index(line, "http://"):])
	hwm := func() (hwm, rss int) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Fields(l)
			if len(f) >= 2 && (f[0] == "VmHWM:" || f[0] == "VmRSS:") {
				n, _ := strconv.Atoi(f[1])
				if f[0] == "VmHWM:" {
					hwm = n >> 10
				} else {
					rss = n >> 10
				}
			}
		}
		return hwm, rss
	}
	const maxBody = 10 << 20 // the default --max-body
	const concurrent = 32    // the default --max-concurrent
	post := func(token string, body []byte) int {
		req, _ := http.NewRequest(http.MethodPost, url+"/v2/pipeline", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		var sink bytes.Buffer
		_, _ = sink.ReadFrom(res.Body)
		_ = res.Body.Close()
		return res.StatusCode
	}
	// flood sends body from every token, concurrent at a time each, for d.
	flood := func(name string, body []byte, d time.Duration) {
		if len(body) > maxBody {
			t.Fatalf("%s: body of %d bytes", name, len(body))
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[int]int{}
		stop := time.Now().Add(d)
		for _, tok := range tokens {
			for range concurrent {
				wg.Go(func() {
					for time.Now().Before(stop) {
						s := post(tok, body)
						mu.Lock()
						statuses[s]++
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		h, r := hwm()
		t.Logf("%-44s peak RSS %4d MiB (now %4d MiB), statuses %v", name, h, r, statuses)
	}
	h, r := hwm()
	t.Logf("%-44s peak RSS %4d MiB (now %4d MiB)", "idle", h, r)

	// 10 MiB of {"type":"null"}: about 690,000 values.
	var b bytes.Buffer
	b.WriteString(`{"requests":[{"type":"execute","stmt":{"sql":"SELECT ?","args":[`)
	for b.Len() < maxBody-64 {
		b.WriteString(`{"type":"null"},`)
	}
	b.Truncate(b.Len() - 1)
	b.WriteString(`]}},{"type":"close"}]}`)
	flood("10 MiB bodies of null arguments", b.Bytes(), 5*time.Second)

	// One text argument as large as a body can hold, echoed back within
	// the response limit: it is bound, copied by SQLite, read and encoded.
	big := strings.Repeat("x", 7<<20)
	body, _ := (&hrana.PipelineRequest{Requests: []hrana.StreamRequest{
		hrana.ExecuteRequest(hrana.NewStmt("SELECT ?", []hrana.Value{hrana.TextValue(big)}, true)), hrana.CloseRequest()}}).AppendJSON(nil)
	flood("7 MiB text argument echoed (7 MiB response)", body, 5*time.Second)

	// A statement building the largest value SQLite allows
	// (SQLITE_LIMIT_LENGTH: 10 MiB), and one response as large as allowed.
	body, _ = (&hrana.PipelineRequest{Requests: []hrana.StreamRequest{
		hrana.ExecuteRequest(hrana.NewStmt("SELECT length(zeroblob(10485760) || 'x'), printf('%.*c', 10000000, 'y')", nil, true)), hrana.CloseRequest()}}).AppendJSON(nil)
	flood("10 MiB values built in SQL", body, 5*time.Second)

	// Every stream the tokens may keep (a quarter of --max-streams each),
	// each storing the most SQL bytes (256 KiB) and holding a transaction.
	sqlText := "SELECT '" + strings.Repeat("s", 256<<10-10) + "'"
	open := 0
	for _, tok := range tokens {
		for range 64 {
			body, _ := (&hrana.PipelineRequest{Requests: []hrana.StreamRequest{
				hrana.StoreSQLRequest(1, sqlText), hrana.ExecuteRequest(hrana.NewStmt("BEGIN", nil, false)),
				hrana.ExecuteRequest(hrana.Stmt{SQLID: ptr(int32(1))})}}).AppendJSON(nil)
			if post(tok, body) == http.StatusOK {
				open++
			}
		}
	}
	h, r = hwm()
	t.Logf("%-44s peak RSS %4d MiB (now %4d MiB), %d streams", "streams with 256 KiB of stored SQL", h, r, open)
	flood("null-argument bodies with the streams open", b.Bytes(), 5*time.Second)
}
