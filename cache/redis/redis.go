// Package redis is a forge query cache store in Redis (go-redis v9): the
// cache package's Store shared by every process using the same Redis, so
// that a write committed in one process makes the results it invalidates
// a miss in all of them before the writing call returns.
//
//	store := redis.New(goredis.NewClient(&goredis.Options{Addr: "localhost:6379"}), "app:")
//	c, err := cache.New(store, cache.TTL(time.Minute))
//	db, err := forge.Open(schema, conn, forge.WithCache(c))
//
// A read costs one round trip (MGET of the generations and the entry); a
// miss adds one SET, a write one pipeline of INCRs. Entries expire
// with their TTL plus stale window; generations do not expire. Keep the
// keys out of eviction (a maxmemory policy of volatile-*, or noeviction):
// an evicted generation is recreated at a random value, so nothing stale
// is served, but every result of the table becomes a miss.
package redis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/forge-orm/forge/cache"
)

// Store is a cache.Store in Redis.
type Store struct {
	rdb    goredis.UniversalClient
	prefix string
}

// New returns a store on rdb whose keys start with prefix (give each
// application, or each database, its own).
func New(rdb goredis.UniversalClient, prefix string) *Store {
	return &Store{rdb: rdb, prefix: prefix}
}

func (s *Store) genKey(table string) string { return s.prefix + "g:" + table }
func (s *Store) entryKey(key string) string { return s.prefix + "q:" + cache.HashKey(key) }

// Get implements cache.Store.
func (s *Store) Get(ctx context.Context, key string, names []string) (*cache.Entry, uint64, error) {
	keys := make([]string, 0, len(names)+1)
	for _, n := range names {
		keys = append(keys, s.genKey(n))
	}
	keys = append(keys, s.entryKey(key))
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("forge/cache/redis: %w", err)
	}
	if len(vals) != len(keys) {
		return nil, 0, errors.New("forge/cache/redis: MGET answered with the wrong number of values")
	}
	gens := make([]uint64, len(names))
	for i, n := range names {
		v := vals[i]
		if v == nil {
			// No generation yet (or it was evicted): start at a random one,
			// so that entries saved under an evicted generation never match.
			g := strconv.FormatUint(rand.Uint64()>>1, 10)
			if err := s.rdb.SetNX(ctx, keys[i], g, 0).Err(); err != nil {
				return nil, 0, fmt.Errorf("forge/cache/redis: %w", err)
			}
			if v, err = s.rdb.Get(ctx, keys[i]).Result(); err != nil {
				return nil, 0, fmt.Errorf("forge/cache/redis: %w", err)
			}
			vals[len(names)] = nil // saved under another generation, if any
		}
		gs, ok := v.(string)
		if gens[i], err = strconv.ParseUint(gs, 10, 64); !ok || err != nil {
			return nil, 0, fmt.Errorf("forge/cache/redis: the generation %s is not a number", n)
		}
	}
	gen := cache.MixGenerations(gens)
	es, ok := vals[len(names)].(string)
	if !ok {
		return nil, gen, nil
	}
	e := new(cache.Entry)
	if err := e.UnmarshalBinary([]byte(es)); err != nil {
		return nil, gen, nil // a corrupt entry is a miss
	}
	return e, gen, nil
}

// Put implements cache.Store.
func (s *Store) Put(ctx context.Context, key string, e *cache.Entry, ttl time.Duration) error {
	b, err := e.MarshalBinary()
	if err != nil {
		return err
	}
	if err := s.rdb.Set(ctx, s.entryKey(key), b, ttl).Err(); err != nil {
		return fmt.Errorf("forge/cache/redis: %w", err)
	}
	return nil
}

// Bump implements cache.Store: one INCR per generation, in one pipeline.
func (s *Store) Bump(ctx context.Context, names []string) error {
	_, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, n := range names {
			p.Incr(ctx, s.genKey(n))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("forge/cache/redis: %w", err)
	}
	return nil
}
