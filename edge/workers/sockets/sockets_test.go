//go:build !(js && wasm)

package sockets_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"testing"

	"github.com/forge-orm/forge/edge/workers/sockets"
	"github.com/forge-orm/forge/internal/testsvc"
)

// listen serves each connection with h on a loopback port until the test
// ends, and returns its address.
func listen(t *testing.T, h func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				h(c)
			}()
		}
	}()
	return l.Addr().String()
}

// TestSocketsUnderWorkerd runs the tests of sockets_js_test.go inside the
// real workerd (Miniflare), against servers on loopback in this process:
// an echo server, one that says "bye" and closes, and a port where nothing
// listens.
func TestSocketsUnderWorkerd(t *testing.T) {
	echo := listen(t, func(c net.Conn) { _, _ = io.Copy(c, c) })
	closer := listen(t, func(c net.Conn) { _, _ = c.Write([]byte("bye")) })
	testsvc.WorkerTest(t, testsvc.WorkerOptions{
		Run: "^TestInWorker",
		Env: map[string]string{
			"FORGE_SOCKETS_ECHO":   echo,
			"FORGE_SOCKETS_CLOSER": closer,
			"FORGE_SOCKETS_NOBODY": "127.0.0.1:" + strconv.Itoa(testsvc.FreePort(t)),
		},
		Want: []string{
			"runtime: Cloudflare-Workers",
			"--- PASS: TestInWorkerEcho ",
			"--- PASS: TestInWorkerDeadlines ",
			"--- PASS: TestInWorkerClose ",
			"--- PASS: TestInWorkerMany ",
			"--- PASS: TestInWorkerErrors ",
		},
	})
}

// TestOutsideWorker: elsewhere Connect checks its arguments and then
// reports that it works only in a Worker.
func TestOutsideWorker(t *testing.T) {
	ctx := context.Background()
	if _, err := sockets.Connect(ctx, "127.0.0.1:5432", nil); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Connect: %v, want errors.ErrUnsupported", err)
	}
	for _, bad := range []string{"nohost", "h:0", "h:70000", "h:x", ":80"} {
		if _, err := sockets.Connect(ctx, bad, nil); err == nil || errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("Connect(%q): %v, want an address error", bad, err)
		}
	}
	if _, err := sockets.Connect(ctx, "h:1", &sockets.Options{SecureTransport: "tls"}); err == nil || errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("a bad SecureTransport: %v", err)
	}
}
