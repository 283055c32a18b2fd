package gateway

import (
	"context"
	"testing"
	"time"
)

// TestMemBudget checks the memory budget's accounting: the total, each
// token's half, a request larger than a share, release waking a waiter,
// and a wait ended by its context.
func TestMemBudget(t *testing.T) {
	b := newMemBudget(100)
	a, c := &principal{}, &principal{}
	ctx := context.Background()
	if !b.tryAcquire(a, 50) || b.tryAcquire(a, 1) {
		t.Fatal("a token's share is half the total")
	}
	if !b.tryAcquire(c, 40) || b.tryAcquire(c, 11) || !b.tryAcquire(c, 10) {
		t.Fatal("the other token has the other half")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if n := b.acquire(cancelled, a, 10, time.Hour); n != 0 {
		t.Fatalf("acquired %d with a full share and a cancelled context", n)
	}
	got := make(chan int64)
	go func() { got <- b.acquire(ctx, a, 30, time.Hour) }()
	b.release(a, 50)
	if n := <-got; n != 30 {
		t.Fatalf("a release did not wake the waiter: %d", n)
	}
	b.release(a, 30)
	b.release(c, 50)
	if b.used != 0 || len(b.byToken) != 0 {
		t.Fatalf("after releasing everything: %d used, %v", b.used, b.byToken)
	}
	// A request larger than a share runs, alone, reserving the share.
	if n := b.acquire(ctx, a, 1000, time.Hour); n != 50 {
		t.Fatalf("a large request reserved %d", n)
	}
	b.release(a, 50)
}
