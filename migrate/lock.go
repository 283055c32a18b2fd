package migrate

import (
	"context"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/internal/randx"
)

// ErrLocked is returned when another migrator holds the lock for longer
// than LockOptions.Wait.
var ErrLocked = errors.New("forge/migrate: another migrator holds the lock")

// LockOptions shape the migration lock.
type LockOptions struct {
	// TTL is how long the lock lives without a heartbeat; a migrator that
	// dies leaves a lock that expires after TTL (default 30s). The holder
	// renews it every TTL/3.
	TTL time.Duration
	// Wait is how long to wait for a lock another migrator holds (default
	// 2 minutes; negative: do not wait).
	Wait time.Duration
	// Holder names this migrator in the lock row (default: random).
	Holder string
}

// Lock is a held migration lock: a row in forge_migrate_lock with an
// expiry, taken with one INSERT ... ON CONFLICT DO UPDATE ... WHERE
// expired. It needs no session state (no advisory lock), so it works
// through transaction-mode connection poolers and HTTP drivers alike.
type Lock struct {
	conn   driver.Conn
	d      dialect.Dialect
	holder string
	ttl    time.Duration
	stop   chan struct{}
	done   sync.WaitGroup
	mu     sync.Mutex
	lost   error
}

// AcquireLock takes the migration lock, waiting up to opts.Wait.
func AcquireLock(ctx context.Context, conn driver.Conn, opts LockOptions) (*Lock, error) {
	if opts.TTL <= 0 {
		opts.TTL = 30 * time.Second
	}
	if opts.Wait == 0 {
		opts.Wait = 2 * time.Minute
	}
	if opts.Holder == "" {
		var b [8]byte
		randx.Read(b[:])
		opts.Holder = hex.EncodeToString(b[:])
	}
	l := &Lock{conn: conn, d: conn.Dialect(), holder: opts.Holder, ttl: opts.TTL, stop: make(chan struct{})}
	if err := l.ensureTable(ctx); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(opts.Wait)
	for {
		ok, err := l.try(ctx)
		if err != nil {
			return nil, err
		}
		if ok {
			break
		}
		if opts.Wait < 0 || time.Now().After(deadline) {
			return nil, ErrLocked
		}
		n := rand.Int64N(150) // jitter: need not be secure
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100*time.Millisecond + time.Duration(n)*time.Millisecond):
		}
	}
	l.done.Add(1)
	go l.heartbeat()
	return l, nil
}

func (l *Lock) ph(n int) string { return string(l.d.AppendPlaceholder(nil, n)) }

func (l *Lock) table() string { return ident(l.d, LockTable) }

// ensureTable creates the lock table. Concurrent CREATE TABLE IF NOT
// EXISTS can fail on PostgreSQL (a unique violation in its catalog) when
// two migrators start together: retry.
func (l *Lock) ensureTable(ctx context.Context) error {
	q := "CREATE TABLE IF NOT EXISTS " + l.table() + ` ("id" INTEGER PRIMARY KEY, "holder" TEXT NOT NULL, "expires_at" BIGINT NOT NULL)`
	var err error
	for i := 0; i < 5; i++ {
		if _, err = l.conn.Exec(ctx, q, nil); err == nil {
			return nil
		}
		time.Sleep(time.Duration(50*(i+1)) * time.Millisecond)
	}
	return err
}

func (l *Lock) try(ctx context.Context) (bool, error) {
	now := time.Now()
	q := "INSERT INTO " + l.table() + ` ("id", "holder", "expires_at") VALUES (1, ` + l.ph(1) + ", " + l.ph(2) +
		`) ON CONFLICT ("id") DO UPDATE SET "holder" = excluded."holder", "expires_at" = excluded."expires_at" WHERE ` +
		l.table() + `."expires_at" < ` + l.ph(3) + ` RETURNING "holder"`
	rows, err := queryAll(ctx, l.conn, q, l.holder, now.Add(l.ttl).UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, err
	}
	return len(rows) == 1 && str(rows[0][0]) == l.holder, nil
}

func (l *Lock) heartbeat() {
	defer l.done.Done()
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			q := "UPDATE " + l.table() + ` SET "expires_at" = ` + l.ph(1) + ` WHERE "id" = 1 AND "holder" = ` + l.ph(2)
			ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
			res, err := l.conn.Exec(ctx, q, []any{time.Now().Add(l.ttl).UnixMilli(), l.holder})
			cancel()
			if err == nil && res.RowsAffected == 0 {
				l.mu.Lock()
				l.lost = errors.New("forge/migrate: the migration lock expired while held (holder " + l.holder + "); another migrator may have run")
				l.mu.Unlock()
			}
		}
	}
}

// Release gives the lock up. It reports if the lock was lost while held.
func (l *Lock) Release(ctx context.Context) error {
	close(l.stop)
	l.done.Wait()
	q := "DELETE FROM " + l.table() + ` WHERE "id" = 1 AND "holder" = ` + l.ph(1)
	_, err := l.conn.Exec(ctx, q, []any{l.holder})
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost != nil {
		return l.lost
	}
	return err
}

// Holder returns the name this lock is held under.
func (l *Lock) Holder() string { return l.holder }
