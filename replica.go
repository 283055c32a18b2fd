package forge

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"

	"github.com/forge-orm/forge/driver"
)

// WithReplicas sends reads to replicas of the primary (the connection
// given to Open): FindMany, FindFirst, FindUnique, Count, Exists, Aggregate
// and their includes run on a replica; writes, transactions, batches, raw
// SQL (Raw, Exec) and Watch run on the primary. Replicas are tried in turn.
//
// Reads see the writes made through the same *DB (read-your-writes): after
// a write, forge reads the primary's position (one more round trip) and a
// read goes to a replica only once it has applied that position, else to
// the primary. A replica's position is asked for only when a read needs
// more than the replica was last seen to have. Across requests, carry
// DB.Token in a cookie or header and give it back with ReadAfter. Since
// Open is cheap, a DB per request keeps one caller's writes from sending
// another's reads to the primary.
//
// The primary must report positions: PostgreSQL (every driver: the WAL
// position, pg_current_wal_insert_lsn) or driver.Positioner (libSQL:
// sqld's replication index). On PostgreSQL a standby's
// pg_last_wal_replay_lsn says what its reads see, so a standby serves a
// read as soon as it has replayed the write. A libSQL replica's
// replication index does not: sqld replicas were measured reporting an
// index past rows their reads did not yet return. forge therefore sends a
// libSQL replica only the reads that need no write (none through this DB,
// no ReadAfter token), and the others to the primary: read-your-writes
// holds, at the cost of reading the primary after a write. Open refuses
// replicas of another dialect and primaries without positions. The DB owns
// the replicas: Close closes them.
func WithReplicas(replicas ...driver.Conn) OpenOption {
	return func(db *DB) {
		if len(replicas) == 0 {
			return
		}
		rp := &replicaSet{conns: replicas, seen: make([]atomic.Uint64, len(replicas)), trusted: make([]bool, len(replicas))}
		db.rp = rp
	}
}

// replicas is what the DB asks of its replica set (an interface, so that
// programs without WithReplicas do not link the set's code).
type replicas interface {
	check(db *DB) error
	pick(ctx context.Context, db *DB, op Operation) driver.Querier
	wrote(ctx context.Context, db *DB)
	token() Token
	close() error
}

// close closes the replicas.
func (rp *replicaSet) close() error {
	var err error
	for _, c := range rp.conns {
		err = errors.Join(err, c.Close())
	}
	return err
}

// check validates the replicas at Open.
func (rp *replicaSet) check(db *DB) error {
	if !positioned(db.conn, db.d.Name()) {
		return &CapabilityError{Op: "read replicas", Driver: driver.Name(db.conn), Use: "use a driver that reports replication positions (PostgreSQL, libSQL)"}
	}
	for i, c := range rp.conns {
		if c == nil {
			return errors.New("forge: Open: WithReplicas: replica " + strconv.Itoa(i) + " is nil")
		}
		if d := c.Dialect(); d == nil || d.Name() != db.d.Name() {
			return errors.New("forge: Open: WithReplicas: replica " + strconv.Itoa(i) + " is not a " + db.d.Name() + " database")
		}
		rp.trusted[i] = db.d.Name() == "postgres"
	}
	return nil
}

// positioned reports whether forge can read conn's replication position.
func positioned(conn driver.Conn, dialect string) bool {
	_, ok := conn.(driver.Positioner)
	return ok || dialect == "postgres"
}

// position reads conn's replication position (see driver.Positioner).
func position(ctx context.Context, conn driver.Conn, dialect string) (uint64, error) {
	if p, ok := conn.(driver.Positioner); ok {
		return p.Position(ctx)
	}
	if dialect == "postgres" {
		s, err := queryText(ctx, conn, driver.PostgreSQLPositionSQL)
		if err != nil {
			return 0, err
		}
		if s == "" {
			return 0, driver.ErrNoPosition
		}
		n, ok := driver.ParseLSN(s)
		if !ok {
			return 0, errors.New("forge: the server's WAL position " + strconv.Quote(s) + " is not an LSN")
		}
		return n, nil
	}
	return 0, &CapabilityError{Op: "replication positions", Driver: driver.Name(conn), Use: "use PostgreSQL or libSQL"}
}

// replicaSet is a DB's replicas and what it knows of their positions.
type replicaSet struct {
	conns []driver.Conn
	seen  []atomic.Uint64 // the position each replica was last seen at
	// trusted: the replica's position says what its reads see (PostgreSQL
	// standbys); an untrusted replica serves only reads that need nothing.
	trusted []bool
	next    atomic.Uint32 // the replica to try first, in turn
	// written is the primary's position after this DB's last write.
	written atomic.Uint64
	// unknown is set when a write's position could not be read: the next
	// read reads it (or goes to the primary).
	unknown atomic.Bool
}

// Token is a position in a database's commit history, as text: what a
// caller carries between requests (in a cookie or a header) so that its
// next request reads its own writes (ReadAfter). The zero Token asks for
// nothing.
type Token string

// Token returns the position of the DB's last write ("" before any, or
// without replicas). Give it back with ReadAfter.
func (db *DB) Token() Token {
	if !db.ok() || db.rp == nil {
		return ""
	}
	return db.rp.token()
}

func (rp *replicaSet) token() Token {
	n := rp.written.Load()
	if n == 0 {
		return ""
	}
	return Token(strconv.FormatUint(n, 10))
}

type ctxKeyAfter struct{}
type ctxKeyPrimary struct{}

// ReadAfter returns a context whose reads go to a replica only once it has
// applied tok (a DB.Token from an earlier request), else to the primary. A
// malformed token is not an error: the reads go to the primary.
func ReadAfter(ctx context.Context, tok Token) context.Context {
	if tok == "" {
		return ctx
	}
	n, err := strconv.ParseUint(string(tok), 10, 64)
	if err != nil || n == 0 {
		return Primary(ctx)
	}
	return context.WithValue(ctx, ctxKeyAfter{}, n)
}

// Primary returns a context whose reads go to the primary.
func Primary(ctx context.Context) context.Context {
	return context.WithValue(ctx, ctxKeyPrimary{}, true)
}

// reads reports whether op only reads (and may go to a replica).
func (o Operation) reads() bool {
	switch o {
	case OpFindMany, OpFindFirst, OpFindUnique, OpCount, OpExists, OpAggregate, OpInclude:
		return true
	}
	return false
}

// wrote records the primary's position after a write through db.
func (rp *replicaSet) wrote(ctx context.Context, db *DB) {
	n, err := position(context.WithoutCancel(ctx), db.conn, db.d.Name())
	if err != nil {
		rp.unknown.Store(true)
		return
	}
	storeMax(&rp.written, n)
}

func storeMax(a *atomic.Uint64, n uint64) {
	for {
		old := a.Load()
		if n <= old || a.CompareAndSwap(old, n) {
			return
		}
	}
}

// pick returns the connection a statement of op runs on: for a read, a
// replica that has applied what the read needs to see; else the primary.
func (rp *replicaSet) pick(ctx context.Context, db *DB, op Operation) driver.Querier {
	if !op.reads() || ctx.Value(ctxKeyPrimary{}) != nil {
		return db.conn
	}
	if rp.unknown.Load() {
		n, err := position(ctx, db.conn, db.d.Name())
		if err != nil {
			return db.conn
		}
		storeMax(&rp.written, n)
		rp.unknown.Store(false)
	}
	need := rp.written.Load()
	if after, ok := ctx.Value(ctxKeyAfter{}).(uint64); ok && after > need {
		need = after
	}
	start := int(rp.next.Add(1) - 1)
	for k := range rp.conns {
		i := (start + k) % len(rp.conns)
		if need == 0 {
			return rp.conns[i]
		}
		if !rp.trusted[i] {
			continue
		}
		if rp.seen[i].Load() >= need {
			return rp.conns[i]
		}
		n, err := position(ctx, rp.conns[i], db.d.Name())
		if err != nil {
			continue // an unreachable replica: try the next
		}
		storeMax(&rp.seen[i], n)
		if n >= need {
			return rp.conns[i]
		}
	}
	return db.conn
}
