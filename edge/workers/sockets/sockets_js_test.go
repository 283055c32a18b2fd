//go:build js && wasm

package sockets_test

// These tests run inside workerd, started by TestSocketsUnderWorkerd
// (sockets_test.go) through testsvc.WorkerTest; elsewhere they skip.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forge-orm/forge/edge/workers/sockets"
)

func addr(t *testing.T, name string) string {
	a := os.Getenv(name)
	if a == "" {
		t.Skip("no servers here: this test runs inside workerd, started by TestSocketsUnderWorkerd")
	}
	return a
}

func dial(t *testing.T, name string) *sockets.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sockets.Connect(ctx, addr(t, name), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes data while reading it back, and checks it.
func roundTrip(c net.Conn, data []byte) error {
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(data)
		werr <- err
	}()
	got := make([]byte, len(data))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("reading %d bytes back: %w", len(data), err)
	}
	if err := <-werr; err != nil {
		return fmt.Errorf("writing %d bytes: %w", len(data), err)
	}
	if !bytes.Equal(got, data) {
		return fmt.Errorf("%d bytes came back different", len(data))
	}
	return nil
}

func TestInWorkerEcho(t *testing.T) {
	c := dial(t, "FORGE_SOCKETS_ECHO")
	t.Logf("runtime: %s", os.Getenv("FORGE_TEST_RUNTIME"))
	if c.RemoteAddr().String() != os.Getenv("FORGE_SOCKETS_ECHO") || c.RemoteAddr().Network() != "tcp" {
		t.Errorf("RemoteAddr %v", c.RemoteAddr())
	}
	for _, n := range []int{1, 2, 1000, 65536, 1 << 20, 5 << 20} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rand.IntN(256))
		}
		if err := roundTrip(c, data); err != nil {
			t.Fatal(err)
		}
	}
	// Small reads of a larger chunk: the rest waits for the next Read.
	if _, err := c.Write([]byte("abcdef")); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for len(got) < 6 {
		b := make([]byte, 2)
		n, err := c.Read(b)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b[:n]...)
	}
	if string(got) != "abcdef" {
		t.Errorf("read %q in pieces", got)
	}
}

func TestInWorkerDeadlines(t *testing.T) {
	c := dial(t, "FORGE_SOCKETS_ECHO")
	// Nothing to read: the deadline ends the Read.
	c.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	n, err := c.Read(make([]byte, 10))
	var ne net.Error
	if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read past its deadline: %d, %v", n, err)
	}
	// A deadline already past fails at once, and again.
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("second Read: %v", err)
	}
	// The read left in flight keeps its bytes for the next Read: nothing
	// is lost or stolen.
	c.SetReadDeadline(time.Time{})
	if err := roundTrip(c, []byte("after the deadline")); err != nil {
		t.Fatal(err)
	}
	// A deadline moved while a Read waits wakes it (what pgx does to
	// interrupt a query when its context ends).
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	c.SetDeadline(time.Now())
	if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read woken by a deadline: %v", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Write past its deadline: %v", err)
	}
	c.SetDeadline(time.Time{})
	if err := roundTrip(c, []byte("still fine")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 10)
	if _, err := c.Write([]byte("!")); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Read(b); err != nil || string(b[:n]) != "!" {
		t.Fatalf("the last read: %q, %v", b[:n], err)
	}
}

func TestInWorkerClose(t *testing.T) {
	// Closed here while a Read waits.
	c := dial(t, "FORGE_SOCKETS_ECHO")
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Errorf("a Read when closed: %v", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("a second Close: %v", err)
	}
	// Closed by the server: its last bytes, then io.EOF.
	s := dial(t, "FORGE_SOCKETS_CLOSER")
	got, err := io.ReadAll(s)
	if err != nil || string(got) != "bye" {
		t.Errorf("from a server that closes: %q, %v", got, err)
	}
	if _, err := s.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("Read after EOF: %v", err)
	}
	if _, err := s.StartTLS(); err == nil || !strings.Contains(err.Error(), "starttls") {
		t.Errorf("StartTLS on a plain socket: %v", err)
	}
}

func TestInWorkerMany(t *testing.T) {
	a := addr(t, "FORGE_SOCKETS_ECHO")
	const sockets_, rounds = 40, 5
	var wg sync.WaitGroup
	errs := make(chan error, sockets_)
	for i := 0; i < sockets_; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c, err := sockets.Connect(ctx, a, nil)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for r := 0; r < rounds; r++ {
				data := bytes.Repeat([]byte{byte(i), byte(r)}, 5000+i*100)
				if err := roundTrip(c, data); err != nil {
					errs <- fmt.Errorf("socket %d round %d: %w", i, r, err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestInWorkerErrors(t *testing.T) {
	nobody := addr(t, "FORGE_SOCKETS_NOBODY")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sockets.Connect(ctx, nobody, nil)
	var oe *net.OpError
	if c != nil || !errors.As(err, &oe) || oe.Op != "dial" {
		t.Errorf("Connect to a port where nothing listens: %v, %v", c, err)
	}
	if _, err := sockets.Connect(ctx, "127.0.0.1", nil); err == nil {
		t.Error("Connect without a port succeeded")
	}
	if _, err := sockets.Connect(ctx, nobody, &sockets.Options{SecureTransport: "tls"}); err == nil {
		t.Error("Connect with a bad SecureTransport succeeded")
	}
	// A context already ended.
	done, stop := context.WithCancel(context.Background())
	stop()
	if _, err := sockets.Connect(done, os.Getenv("FORGE_SOCKETS_ECHO"), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Connect with an ended context: %v", err)
	}
}
