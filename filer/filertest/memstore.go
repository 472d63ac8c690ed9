package filertest

import (
	"context"
	"sort"
	"strings"
	"sync"

	"weedfs.dev/weed/filer"
)

// MemStore is a filer.Store in memory, for tests of the layers above a
// store. Transactions run one at a time and buffer their writes until
// commit; listings inside a transaction do not see its writes. Down makes
// every call fail with filer.ErrUnavailable, as a store whose server went
// away.
type MemStore struct {
	mu      sync.RWMutex
	entries map[string][]byte
	kv      map[string][]byte
	txMu    sync.Mutex
	down    bool
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{entries: map[string][]byte{}, kv: map[string][]byte{}}
}

type txKey struct{}

type memTx struct {
	entries map[string][]byte // nil value: deleted
	kv      map[string][]byte
	clears  []string // DeleteFolderChildren calls, in order
	done    bool
}

// SetDown makes the store fail (true) or work again (false).
func (s *MemStore) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

func (s *MemStore) check() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.down {
		return filer.ErrUnavailable
	}
	return nil
}

func txOf(ctx context.Context) *memTx {
	tx, _ := ctx.Value(txKey{}).(*memTx)
	if tx != nil && tx.done {
		return nil
	}
	return tx
}

// Name is "memory".
func (s *MemStore) Name() string { return "memory" }

func (s *MemStore) put(ctx context.Context, path string, b []byte) {
	if tx := txOf(ctx); tx != nil {
		tx.entries[path] = b
		return
	}
	s.mu.Lock()
	if b == nil {
		delete(s.entries, path)
	} else {
		s.entries[path] = b
	}
	s.mu.Unlock()
}

func (s *MemStore) get(ctx context.Context, path string) ([]byte, bool) {
	if tx := txOf(ctx); tx != nil {
		if b, ok := tx.entries[path]; ok {
			return b, b != nil
		}
		for _, c := range tx.clears {
			if filer.IsDescendant(path, c) {
				return nil, false
			}
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.entries[path]
	return b, ok
}

// InsertEntry creates or replaces an entry.
func (s *MemStore) InsertEntry(ctx context.Context, e *filer.Entry) error {
	if err := s.check(); err != nil {
		return err
	}
	b, err := filer.EncodeEntry(e)
	if err != nil {
		return err
	}
	s.put(ctx, e.FullPath, b)
	return nil
}

// UpdateEntry replaces an existing entry.
func (s *MemStore) UpdateEntry(ctx context.Context, e *filer.Entry) error {
	if err := s.check(); err != nil {
		return err
	}
	if _, ok := s.get(ctx, e.FullPath); !ok {
		return filer.ErrNotFound
	}
	return s.InsertEntry(ctx, e)
}

// FindEntry returns an entry or ErrNotFound.
func (s *MemStore) FindEntry(ctx context.Context, path string) (*filer.Entry, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	b, ok := s.get(ctx, path)
	if !ok {
		return nil, filer.ErrNotFound
	}
	return filer.DecodeEntry(path, b)
}

// DeleteEntry removes an entry.
func (s *MemStore) DeleteEntry(ctx context.Context, path string) error {
	if err := s.check(); err != nil {
		return err
	}
	s.put(ctx, path, nil)
	return nil
}

// DeleteFolderChildren removes every descendant of dir.
func (s *MemStore) DeleteFolderChildren(ctx context.Context, dir string) error {
	if err := s.check(); err != nil {
		return err
	}
	if tx := txOf(ctx); tx != nil {
		for p := range tx.entries {
			if filer.IsDescendant(p, dir) {
				delete(tx.entries, p)
			}
		}
		tx.clears = append(tx.clears, dir)
		return nil
	}
	s.mu.Lock()
	s.clear(dir)
	s.mu.Unlock()
	return nil
}

func (s *MemStore) clear(dir string) {
	for p := range s.entries {
		if filer.IsDescendant(p, dir) {
			delete(s.entries, p)
		}
	}
}

// ListDirectory lists children of dir in name order.
func (s *MemStore) ListDirectory(ctx context.Context, dir, startName string, inclusive bool, prefix string, limit int, fn func(*filer.Entry) bool) (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	s.mu.RLock()
	var names []string
	for p := range s.entries {
		if filer.Dir(p) == dir && p != "/" {
			n := filer.Name(p)
			if strings.HasPrefix(n, prefix) && (n > startName || inclusive && n == startName) {
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	if limit > 0 && len(names) > limit {
		names = names[:limit]
	}
	bs := make([][]byte, len(names))
	for i, n := range names {
		bs[i] = s.entries[filer.Join(dir, n)]
	}
	s.mu.RUnlock()
	last := ""
	for i, n := range names {
		e, err := filer.DecodeEntry(filer.Join(dir, n), bs[i])
		if err != nil {
			return last, err
		}
		last = n
		if !fn(e) {
			break
		}
	}
	return last, nil
}

// BeginTx starts a transaction (one at a time).
func (s *MemStore) BeginTx(ctx context.Context) (context.Context, error) {
	if txOf(ctx) != nil {
		return nil, filer.ErrTx
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	s.txMu.Lock()
	return context.WithValue(ctx, txKey{}, &memTx{entries: map[string][]byte{}, kv: map[string][]byte{}}), nil
}

// CommitTx applies the transaction's writes.
func (s *MemStore) CommitTx(ctx context.Context) error {
	tx := txOf(ctx)
	if tx == nil {
		return filer.ErrTx
	}
	tx.done = true
	defer s.txMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return filer.ErrUnavailable
	}
	for _, c := range tx.clears {
		s.clear(c)
	}
	for p, b := range tx.entries {
		if b == nil {
			delete(s.entries, p)
		} else {
			s.entries[p] = b
		}
	}
	for k, v := range tx.kv {
		if v == nil {
			delete(s.kv, k)
		} else {
			s.kv[k] = v
		}
	}
	return nil
}

// RollbackTx drops the transaction's writes.
func (s *MemStore) RollbackTx(ctx context.Context) error {
	tx := txOf(ctx)
	if tx == nil {
		return filer.ErrTx
	}
	tx.done = true
	s.txMu.Unlock()
	return nil
}

// KvPut stores a value.
func (s *MemStore) KvPut(ctx context.Context, key, value []byte) error {
	if err := s.check(); err != nil {
		return err
	}
	v := append([]byte{}, value...)
	if tx := txOf(ctx); tx != nil {
		tx.kv[string(key)] = v
		return nil
	}
	s.mu.Lock()
	s.kv[string(key)] = v
	s.mu.Unlock()
	return nil
}

// KvGet returns a value or ErrNotFound.
func (s *MemStore) KvGet(ctx context.Context, key []byte) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if tx := txOf(ctx); tx != nil {
		if v, ok := tx.kv[string(key)]; ok {
			if v == nil {
				return nil, filer.ErrNotFound
			}
			return append([]byte{}, v...), nil
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.kv[string(key)]
	if !ok {
		return nil, filer.ErrNotFound
	}
	return append([]byte{}, v...), nil
}

// KvDelete removes a key.
func (s *MemStore) KvDelete(ctx context.Context, key []byte) error {
	if err := s.check(); err != nil {
		return err
	}
	if tx := txOf(ctx); tx != nil {
		tx.kv[string(key)] = nil
		return nil
	}
	s.mu.Lock()
	delete(s.kv, string(key))
	s.mu.Unlock()
	return nil
}

// KvScan calls fn for keys with prefix from start in order.
func (s *MemStore) KvScan(ctx context.Context, prefix, start []byte, limit int, fn func(k, v []byte) bool) error {
	if err := s.check(); err != nil {
		return err
	}
	s.mu.RLock()
	var keys []string
	for k := range s.kv {
		if strings.HasPrefix(k, string(prefix)) && k >= string(start) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	vals := make([][]byte, len(keys))
	for i, k := range keys {
		vals[i] = s.kv[k]
	}
	s.mu.RUnlock()
	for i, k := range keys {
		if !fn([]byte(k), vals[i]) {
			break
		}
	}
	return nil
}

// Close does nothing.
func (s *MemStore) Close() error { return nil }

var _ filer.Store = (*MemStore)(nil)
