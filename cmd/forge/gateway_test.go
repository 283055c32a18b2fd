package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGatewayCommand runs `forge gateway` in-process on SQLite: it serves
// /healthz, refuses a request without a token, and stops with its context.
func TestGatewayCommand(t *testing.T) {
	if code := run(context.Background(), []string{"gateway", "--db", "nope:x"}, io.Discard, io.Discard); code == 0 {
		t.Fatal("a bad --db exited 0")
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	db := "sqlite:" + filepath.Join(t.TempDir(), "gw.db")
	go func() {
		done <- run(ctx, []string{"gateway", "--db", db, "--listen", "127.0.0.1:0", "--token", "t:s3cret:write"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	base := strings.TrimSpace(line[strings.Index(line, "http://"):])
	res, err := http.Get(base + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res.Body.Close()
	res, err = http.Post(base+"/v2/pipeline", "application/json", strings.NewReader(`{"requests":[]}`))
	if err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %v %v", res, err)
	}
	res.Body.Close()
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("gateway exited %d after its context ended", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the gateway did not stop")
	}
}
