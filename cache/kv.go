package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"sync"
	"time"

	"github.com/forge-orm/forge/internal/randx"
)

// KV is a key-value namespace with expiring values: what KVStore needs of
// Cloudflare Workers KV (edge/workers' KV namespace, through a small
// adapter), and what tests can provide.
type KV interface {
	// Get returns the value of key; false when there is none.
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// Put writes value under key; a ttl of 0 keeps it until overwritten.
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
}

// KVMinTTL is the shortest expiration Workers KV accepts.
const KVMinTTL = 60 * time.Second

// KVStore is a Store in Workers KV. KV is eventually consistent: a write
// is visible at once where it was made and elsewhere only when KV has
// propagated it, 60 seconds or more later. So:
//
//   - A table's generation is a random value the writer puts in KV and
//     also keeps in its own isolate: reads in that isolate are exact; in
//     other locations a result from before the write is served until the
//     new generation reaches them (60 seconds or more) or the result
//     expires, whichever is first.
//   - Entries live at least 60 seconds (KV's minimum expiration): the
//     cache refuses a TTL plus stale window below KVMinTTL.
//   - KV allows one write per second to a key: tables written more often
//     than that should not be cached in KV.
type KVStore struct {
	kv     KV
	prefix string
	mu     sync.Mutex
	local  map[string]localGen // generations this isolate wrote lately
	now    func() time.Time
}

// localGen is a generation this isolate wrote, mixed into the one read from
// KV until KV has surely propagated it.
type localGen struct {
	gen uint64
	at  time.Time
}

// kvLocalFor is how long a generation written here is mixed in: well past
// KV's propagation time.
const kvLocalFor = 5 * time.Minute

// NewKVStore returns a store in kv whose keys start with prefix.
func NewKVStore(kv KV, prefix string) (*KVStore, error) {
	if kv == nil {
		return nil, errors.New("forge/cache: NewKVStore: nil KV namespace")
	}
	return &KVStore{kv: kv, prefix: prefix, local: map[string]localGen{}, now: time.Now}, nil
}

// MinTTL implements MinTTLer: KV keeps values at least 60 seconds.
func (s *KVStore) MinTTL() time.Duration { return KVMinTTL }

func (s *KVStore) genKey(table string) string { return s.prefix + "g:" + table }

// Get implements Store.
func (s *KVStore) Get(ctx context.Context, key string, names []string) (*Entry, uint64, error) {
	// Each generation is the one in KV, mixed with the one this isolate
	// wrote lately: exact here, and another isolate's later write still
	// changes it once KV shows it here.
	gens := make([]uint64, len(names))
	for i, name := range names {
		v, ok, err := s.kv.Get(ctx, s.genKey(name))
		if err != nil {
			return nil, 0, err
		}
		if ok {
			if gens[i], err = strconv.ParseUint(string(v), 10, 64); err != nil {
				return nil, 0, errors.New("forge/cache: a generation in KV is not a number")
			}
		}
		s.mu.Lock()
		if l, ok := s.local[name]; ok {
			if s.now().Sub(l.at) < kvLocalFor {
				gens[i] ^= bits.RotateLeft64(l.gen*0x9e3779b97f4a7c15, 17) // never cancels the KV value
			} else {
				delete(s.local, name)
			}
		}
		s.mu.Unlock()
	}
	gen := MixGenerations(gens)
	v, ok, err := s.kv.Get(ctx, s.prefix+"q:"+HashKey(key))
	if err != nil || !ok {
		return nil, gen, err
	}
	e := new(Entry)
	if err := e.UnmarshalBinary(v); err != nil {
		return nil, gen, nil // a corrupt entry is a miss
	}
	return e, gen, nil
}

// Put implements Store.
func (s *KVStore) Put(ctx context.Context, key string, e *Entry, ttl time.Duration) error {
	b, err := e.MarshalBinary()
	if err != nil {
		return err
	}
	return s.kv.Put(ctx, s.prefix+"q:"+HashKey(key), b, max(ttl, KVMinTTL))
}

// Bump implements Store: new random generations, so that concurrent bumps
// from several isolates (KV has no increment) never write back an old one.
func (s *KVStore) Bump(ctx context.Context, names []string) error {
	var errs []error
	for _, name := range names {
		var r [8]byte
		randx.Read(r[:])
		gen := binary.LittleEndian.Uint64(r[:]) | 1
		s.mu.Lock()
		s.local[name] = localGen{gen: gen, at: s.now()}
		s.mu.Unlock()
		errs = append(errs, s.kv.Put(ctx, s.genKey(name), strconv.AppendUint(nil, gen, 10), 0))
	}
	return errors.Join(errs...)
}
