package cache

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// Memory is a Store in this process's memory, bounded by a number of
// entries (the least recently used go first). Its generations live in the
// process too: other processes' writes are not seen (see the package doc).
// Entries are kept decoded: a hit copies nothing but the rows forge scans.
type Memory struct {
	mu      sync.Mutex
	max     int
	entries map[string]*list.Element
	lru     list.List // of *memEntry, most recent first
	gens    map[string]uint64
	now     func() time.Time
}

type memEntry struct {
	key     string
	e       *Entry
	expires int64
}

// NewMemory returns a memory store holding at most maxEntries results
// (at least 1).
func NewMemory(maxEntries int) *Memory {
	return &Memory{max: max(maxEntries, 1), entries: map[string]*list.Element{}, gens: map[string]uint64{}, now: time.Now}
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, key string, gens []string) (*Entry, uint64, error) {
	e, gen := m.get([]byte(key), gens)
	return e, gen, nil
}

// getTable is Get of a result that depends on one generation, with the
// key in bytes: the map lookup does not copy it.
func (m *Memory) getTable(key []byte, table string) (*Entry, uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lookup(key, m.gens[table])
}

// get is Get with the key in bytes.
func (m *Memory) get(key []byte, gens []string) (*Entry, uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	gen := m.gens[gens[0]]
	for _, g := range gens[1:] {
		gen = mixGen(gen, m.gens[g])
	}
	return m.lookup(key, gen)
}

// lookup finds key's entry; m.mu is held.
func (m *Memory) lookup(key []byte, gen uint64) (*Entry, uint64) {
	el, ok := m.entries[string(key)]
	if !ok {
		return nil, gen
	}
	me := el.Value.(*memEntry)
	if m.now().UnixNano() >= me.expires {
		m.lru.Remove(el)
		delete(m.entries, me.key)
		return nil, gen
	}
	m.lru.MoveToFront(el)
	return me.e, gen
}

// Put implements Store.
func (m *Memory) Put(_ context.Context, key string, e *Entry, ttl time.Duration) error {
	me := &memEntry{key: key, e: e, expires: m.now().Add(ttl).UnixNano()}
	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.entries[key]; ok {
		el.Value = me
		m.lru.MoveToFront(el)
		return nil
	}
	m.entries[key] = m.lru.PushFront(me)
	for m.lru.Len() > m.max {
		last := m.lru.Back()
		m.lru.Remove(last)
		delete(m.entries, last.Value.(*memEntry).key)
	}
	return nil
}

// Bump implements Store.
func (m *Memory) Bump(_ context.Context, gens []string) error {
	m.mu.Lock()
	for _, g := range gens {
		m.gens[g]++
	}
	m.mu.Unlock()
	return nil
}

// Len returns the number of entries held.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}
