//go:build js && wasm

// Package kvcache puts forge's query cache in Cloudflare Workers KV: a
// cache.KVStore over an edge/workers KV namespace.
//
//	kv, err := env.KV("CACHE")
//	store, err := kvcache.New(kv, "app:")
//	c, err := cache.New(store, cache.TTL(time.Minute))
//	db, err := forge.Open(schema, conn, forge.WithCache(c))
//
// KV is eventually consistent and keeps values at least 60 seconds: see
// cache.KVStore for what that means for staleness. A cache in KV lives
// across requests and isolates; build the cache.Cache once per isolate (a
// package variable), so that the generations this isolate wrote are kept
// between its requests.
package kvcache

import (
	"context"
	"errors"
	"time"

	"github.com/forge-orm/forge/cache"
	"github.com/forge-orm/forge/edge/workers"
)

// New returns a query cache store in kv whose keys start with prefix.
func New(kv *workers.KV, prefix string) (*cache.KVStore, error) {
	if kv == nil {
		return nil, errors.New("forge/workers/kvcache: nil KV namespace")
	}
	return cache.NewKVStore(namespace{kv}, prefix)
}

// namespace adapts *workers.KV to cache.KV.
type namespace struct{ kv *workers.KV }

func (n namespace) Get(ctx context.Context, key string) ([]byte, bool, error) {
	return n.kv.Get(ctx, key)
}

func (n namespace) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl == 0 {
		return n.kv.Put(ctx, key, value, nil)
	}
	return n.kv.Put(ctx, key, value, &workers.KVPutOptions{ExpirationTTL: ttl})
}
