package redis

import (
	"context"
	"fmt"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"weedfs.dev/weed/filer"
)

// opKind is what a buffered write does.
type opKind int

const (
	opSetEntry opKind = iota // val nil: delete the entry
	opClearDir
	opSetKV // val nil: delete the key
)

type op struct {
	kind opKind
	path string // entry path, or folder for opClearDir
	key  []byte
	val  []byte
}

// tx buffers a transaction's writes until CommitTx. entries and kvs hold
// the latest buffered state of each path and key (nil value: deleted) so
// reads on the transaction see it.
type tx struct {
	mu      sync.Mutex
	ended   bool
	ops     []op
	entries map[string][]byte
	kvs     map[string][]byte
	cleared []string // folders emptied in this transaction, in order
}

type txKey struct{}

func txFrom(ctx context.Context) *tx {
	t, _ := ctx.Value(txKey{}).(*tx)
	return t
}

func (t *tx) check() error {
	if t.ended {
		return fmt.Errorf("redis: transaction already ended: %w", filer.ErrTx)
	}
	return nil
}

func (t *tx) setEntry(path string, val []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(); err != nil {
		return err
	}
	t.ops = append(t.ops, op{kind: opSetEntry, path: path, val: val})
	t.entries[path] = val
	return nil
}

func (t *tx) clearDir(dir string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(); err != nil {
		return err
	}
	t.ops = append(t.ops, op{kind: opClearDir, path: dir})
	t.cleared = append(t.cleared, dir)
	// Earlier buffered writes below dir now read as deleted; so must
	// they commit (the walk at commit sees only what Redis holds).
	for p := range t.entries {
		if filer.IsDescendant(p, dir) {
			t.entries[p] = nil
			t.ops = append(t.ops, op{kind: opSetEntry, path: p})
		}
	}
	return nil
}

// findEntry returns the buffered state of path: found is false when the
// transaction says nothing about it and Redis must be asked.
func (t *tx) findEntry(path string) (val []byte, found bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(); err != nil {
		return nil, false, err
	}
	if v, ok := t.entries[path]; ok {
		return v, true, nil
	}
	for _, d := range t.cleared {
		if filer.IsDescendant(path, d) {
			return nil, true, nil
		}
	}
	return nil, false, nil
}

func (t *tx) setKV(key, val []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(); err != nil {
		return err
	}
	t.ops = append(t.ops, op{kind: opSetKV, key: append([]byte{}, key...), val: val})
	t.kvs[string(key)] = val
	return nil
}

func (t *tx) findKV(key []byte) (val []byte, found bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(); err != nil {
		return nil, false, err
	}
	v, ok := t.kvs[string(key)]
	return v, ok, nil
}

// BeginTx implements filer.Store.
func (s *Store) BeginTx(ctx context.Context) (context.Context, error) {
	if txFrom(ctx) != nil {
		return nil, fmt.Errorf("redis: begin inside a transaction: %w", filer.ErrTx)
	}
	return context.WithValue(ctx, txKey{}, &tx{entries: map[string][]byte{}, kvs: map[string][]byte{}}), nil
}

// RollbackTx implements filer.Store: the buffered writes are dropped.
func (s *Store) RollbackTx(ctx context.Context) error {
	_, err := s.endTx(ctx)
	return err
}

// CommitTx implements filer.Store: folders emptied in the transaction are
// walked, then every write goes in one MULTI/EXEC, in the order made.
func (s *Store) CommitTx(ctx context.Context) error {
	ops, err := s.endTx(ctx)
	if err != nil || len(ops) == 0 {
		return err
	}
	ctx = context.WithoutCancel(ctx) // a transaction ends in one piece
	walked := make(map[int][]string)
	for i, o := range ops {
		if o.kind == opClearDir {
			keys, err := s.descendantKeys(ctx, o.path)
			if err != nil {
				return fmt.Errorf("redis: commit: %w", err)
			}
			walked[i] = keys
		}
	}
	_, err = s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		for i, o := range ops {
			switch o.kind {
			case opSetEntry:
				if o.val == nil {
					s.queueDelete(ctx, p, o.path)
				} else {
					s.queueSet(ctx, p, o.path, o.val)
				}
			case opClearDir:
				if keys := walked[i]; len(keys) > 0 {
					p.Del(ctx, keys...)
				}
			case opSetKV:
				if o.val == nil {
					s.queueKVDelete(ctx, p, o.key)
				} else {
					s.queueKVSet(ctx, p, o.key, o.val)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: commit: %w", mapErr(err))
	}
	return nil
}

func (s *Store) endTx(ctx context.Context) ([]op, error) {
	t := txFrom(ctx)
	if t == nil {
		return nil, fmt.Errorf("redis: no transaction: %w", filer.ErrTx)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(); err != nil {
		return nil, err
	}
	t.ended = true
	return t.ops, nil
}
