package driver

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// Positioner is implemented by drivers whose database reports how far its
// commit history goes: libSQL's replication index, PostgreSQL's WAL
// position. forge uses it to watch for changes (the position moves when
// something commits) and to route reads to replicas that have caught up
// with a write (a replica's position is what it has applied).
//
// Positions of one database (a primary and its replicas) are ordered: a
// later commit never has a smaller position. On a primary a position is at
// or past every commit its reads show. Whether a replica's position also
// says what its reads show depends on the database: it does for a
// PostgreSQL standby's replay position, not for a sqld replica's index. A driver without Positioner
// on PostgreSQL gets forge's own probe (PostgreSQLPositionSQL).
type Positioner interface {
	Position(ctx context.Context) (uint64, error)
}

// ErrNoPosition is returned by a Positioner whose server reported no
// position this time. forge then treats the database as changed (a watch
// runs its query) and a replica as behind (a read goes to the primary).
var ErrNoPosition = errors.New("forge: the server reported no replication position")

// PostgreSQLPositionSQL reads a PostgreSQL server's WAL position as text: on
// a primary where its writes have gone (pg_current_wal_insert_lsn: past
// every committed transaction's commit record, even with
// synchronous_commit off, where pg_current_wal_lsn may still be before it),
// on a standby what it has replayed (pg_last_wal_replay_lsn). Parse it with
// ParseLSN.
const PostgreSQLPositionSQL = "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END)::text"

// ParseLSN parses a PostgreSQL log sequence number written as two
// hexadecimal halves, "16/B374D848", into its 64-bit value.
func ParseLSN(s string) (uint64, bool) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || hi == "" || lo == "" || len(hi) > 8 || len(lo) > 8 {
		return 0, false
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return h<<32 | l, true
}

// FormatLSN writes a 64-bit log sequence number as PostgreSQL does.
func FormatLSN(n uint64) string {
	return strings.ToUpper(strconv.FormatUint(n>>32, 16)) + "/" + strings.ToUpper(strconv.FormatUint(n&0xffffffff, 16))
}

// Listener is implemented by drivers that can wait for a notification from
// the server (PostgreSQL's LISTEN over pgx). Listen subscribes to channel
// and calls wake for each notification until ctx ends; it returns the error
// that stopped it (ctx's when ctx ended). forge's Watch uses it, with
// forge.Notify, to run at once after a write whose transaction sent a
// notification, instead of at the next interval.
type Listener interface {
	Listen(ctx context.Context, channel string, wake func()) error
}
