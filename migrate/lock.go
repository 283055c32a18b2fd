package migrate

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/forge-orm/forge/dialect"
	"github.com/forge-orm/forge/driver"
	"github.com/forge-orm/forge/internal/randx"
)

// ErrLocked is returned when another migrator holds the lock for longer
// than LockOptions.Wait; the error is a *LockedError, which names the
// holder.
var ErrLocked = errors.New("forge/migrate: another migrator holds the lock")

// LockedError reports the migrator that held the lock for all of the wait.
// errors.Is(err, ErrLocked) holds for it.
type LockedError struct {
	Holder  string    // the holder's name ("" if the row was gone when read)
	Expires time.Time // when its lease ends unless it renews it
	Waited  time.Duration
}

func (e *LockedError) Error() string {
	if e.Holder == "" {
		return fmt.Sprintf("%s (waited %s)", ErrLocked, e.Waited)
	}
	return fmt.Sprintf("%s: %s, whose lease runs until %s unless renewed (waited %s)", ErrLocked, e.Holder, e.Expires.UTC().Format(time.RFC3339), e.Waited)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

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
	start := time.Now()
	deadline := start.Add(opts.Wait)
	if err := l.ensureTable(ctx, deadline); err != nil {
		return nil, err
	}
	for {
		ok, err := l.try(ctx)
		if err != nil && !isBusy(err) {
			return nil, err
		}
		// A busy database (SQLite: another migrator's transaction holds
		// the write lock) is a held lock: wait for it like one.
		if ok {
			break
		}
		if opts.Wait < 0 || time.Now().After(deadline) {
			return nil, l.lockedError(ctx, time.Since(start))
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
// two migrators start together: retry. On SQLite it waits for the write
// lock while another migration runs: retry until the deadline.
func (l *Lock) ensureTable(ctx context.Context, deadline time.Time) error {
	q := "CREATE TABLE IF NOT EXISTS " + l.table() + ` ("id" INTEGER PRIMARY KEY, "holder" TEXT NOT NULL, "expires_at" BIGINT NOT NULL)`
	if isMySQL(l.d) {
		q += l.d.TableOptions()
	}
	var err error
	for i := 0; ; i++ {
		if _, err = l.conn.Exec(ctx, q, nil); err == nil {
			return nil
		}
		if i >= 4 && (!isBusy(err) || time.Now().After(deadline)) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(50*min(i+1, 4)) * time.Millisecond):
		}
	}
}

// lockedError reads who holds the lock, for the error that says so.
func (l *Lock) lockedError(ctx context.Context, waited time.Duration) error {
	e := &LockedError{Waited: waited.Round(time.Millisecond)}
	rows, err := queryAll(ctx, l.conn, `SELECT "holder", "expires_at" FROM `+l.table()+` WHERE "id" = 1`)
	if err == nil && len(rows) == 1 {
		e.Holder = str(rows[0][0])
		if ms, ok := rows[0][1].(int64); ok {
			e.Expires = time.UnixMilli(ms)
		}
	}
	return e
}

// isBusy reports SQLite's "the database is locked" (SQLITE_BUSY, also as
// libSQL and D1 word it): another connection's transaction holds the write
// lock, and trying again later can succeed.
func isBusy(err error) bool {
	if err == nil {
		return false
	}
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "database is locked") || strings.Contains(s, "sqlite_busy") || strings.Contains(s, "database table is locked")
}

// renewSQL is the statement that extends the lease by the TTL from now,
// with its arguments; it changes no row once the lease is lost.
func (l *Lock) renewSQL() (string, []any) {
	q := "UPDATE " + l.table() + ` SET "expires_at" = ` + l.ph(1) + ` WHERE "id" = 1 AND "holder" = ` + l.ph(2)
	return q, []any{time.Now().Add(l.ttl).UnixMilli(), l.holder}
}

// renewed records the outcome of a renewal: no row changed means that the
// lease was lost.
func (l *Lock) renewed(rowsAffected int64) {
	if rowsAffected != 0 {
		return
	}
	l.mu.Lock()
	if l.lost == nil {
		l.lost = errors.New("forge/migrate: the migration lock expired while held (holder " + l.holder + "); another migrator may have run")
	}
	l.mu.Unlock()
}

// Lost reports whether the lease was found taken by another migrator.
func (l *Lock) Lost() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

func (l *Lock) try(ctx context.Context) (bool, error) {
	now := time.Now()
	if isMySQL(l.d) {
		return l.tryMySQL(ctx, now)
	}
	q := "INSERT INTO " + l.table() + ` ("id", "holder", "expires_at") VALUES (1, ` + l.ph(1) + ", " + l.ph(2) +
		`) ON CONFLICT ("id") DO UPDATE SET "holder" = excluded."holder", "expires_at" = excluded."expires_at" WHERE ` +
		l.table() + `."expires_at" < ` + l.ph(3) + ` RETURNING "holder"`
	rows, err := queryAll(ctx, l.conn, q, l.holder, now.Add(l.ttl).UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, err
	}
	return len(rows) == 1 && str(rows[0][0]) == l.holder, nil
}

// tryMySQL takes the lease with MySQL's upsert, which has no WHERE: each
// assignment keeps the row's value unless the lease has expired (the
// assignments run left to right, so both test the old expires_at), then
// reads the holder back (MySQL has no RETURNING). Between the two, the row
// can only change hands if this lease expires, which takes the TTL.
func (l *Lock) tryMySQL(ctx context.Context, now time.Time) (bool, error) {
	exp, nowMS := now.Add(l.ttl).UnixMilli(), now.UnixMilli()
	q := "INSERT INTO " + l.table() + ` ("id", "holder", "expires_at") VALUES (1, ?, ?) ON DUPLICATE KEY UPDATE ` +
		`"holder" = IF("expires_at" < ?, ?, "holder"), "expires_at" = IF("expires_at" < ?, ?, "expires_at")`
	if _, err := l.conn.Exec(ctx, q, []any{l.holder, exp, nowMS, l.holder, nowMS, exp}); err != nil {
		return false, err
	}
	rows, err := queryAll(ctx, l.conn, `SELECT "holder" FROM `+l.table()+` WHERE "id" = 1`)
	if err != nil {
		return false, err
	}
	return len(rows) == 1 && str(rows[0][0]) == l.holder, nil
}

// heartbeat renews the lease every TTL/3 through the pool, on a connection
// of its own, until Release. On PostgreSQL that runs alongside the
// migration's transaction, which does not touch the lock row. On SQLite
// the migration's transaction holds the database's write lock, so the
// renewal fails busy and is tried again; meanwhile no other migrator can
// write either, so none can take the lease, and the migration renews it
// inside its own transaction before committing (ApplyStatements with
// StatementOptions.Lock), so that it is current when the write lock ends.
func (l *Lock) heartbeat() {
	defer l.done.Done()
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			q, args := l.renewSQL()
			ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
			res, err := l.conn.Exec(ctx, q, args)
			cancel()
			if err == nil {
				l.renewed(res.RowsAffected)
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
