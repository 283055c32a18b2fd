package gateway

import (
	"context"
	"sync"
	"time"
)

// memBudget bounds the memory that requests hold at once, in estimated
// bytes, and each token's share of it (half), so that one token's large
// requests leave room for the others'. A request reserves what its body
// will take decoded before reading it, and its response as it grows.
type memBudget struct {
	total, perToken int64

	mu      sync.Mutex
	used    int64
	byToken map[*principal]int64
	wake    chan struct{} // closed (and replaced) when memory is released
}

func newMemBudget(total int64) *memBudget {
	return &memBudget{total: total, perToken: max(total/2, 1), byToken: map[*principal]int64{}, wake: make(chan struct{})}
}

// take reserves n bytes for p if they fit. The caller holds b.mu.
func (b *memBudget) take(p *principal, n int64) bool {
	if b.used+n > b.total || b.byToken[p]+n > b.perToken {
		return false
	}
	b.used += n
	b.byToken[p] += n
	return true
}

// tryAcquire reserves n bytes for p, without waiting.
func (b *memBudget) tryAcquire(p *principal, n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.take(p, n)
}

// acquire reserves n bytes for p (at most p's share: a request larger
// than that still runs, alone), waiting up to wait for others to release
// memory. It returns what it reserved, or 0 if the wait or ctx ended.
func (b *memBudget) acquire(ctx context.Context, p *principal, n int64, wait time.Duration) int64 {
	n = min(max(n, 1), b.perToken)
	var timer *time.Timer
	for {
		b.mu.Lock()
		if b.take(p, n) {
			b.mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			return n
		}
		wake := b.wake
		b.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return 0
		case <-timer.C:
			return 0
		}
	}
}

// release gives back n bytes p reserved.
func (b *memBudget) release(p *principal, n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	if left := b.byToken[p] - n; left > 0 {
		b.byToken[p] = left
	} else {
		delete(b.byToken, p)
	}
	close(b.wake)
	b.wake = make(chan struct{})
	b.mu.Unlock()
}
