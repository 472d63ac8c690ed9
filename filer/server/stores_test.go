package server_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"weedfs.dev/weed/filer"
	"weedfs.dev/weed/filer/stores/postgres"
	"weedfs.dev/weed/filer/stores/redis"
	"weedfs.dev/weed/filer/stores/storetest"
	"weedfs.dev/weed/pb"
)

func postgresURL(t testing.TB) string { return storetest.PostgresURL(t) }

func postgresTable(t testing.TB, url string) string { return storetest.PostgresTable(t, url) }

func openPostgres(t testing.TB, url, table string) filer.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), url, postgres.Options{Table: table})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func postgresStore(t testing.TB) filer.Store {
	url := postgresURL(t)
	return openPostgres(t, url, postgresTable(t, url))
}

func redisStore(t testing.TB) filer.Store {
	t.Helper()
	addr := storetest.RedisAddr(t)
	s, err := redis.Open(context.Background(), addr, redis.Options{Prefix: storetest.RedisPrefix(t, addr)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformancePostgres(t *testing.T) { runConformance(t, postgresStore) }

func TestConformanceRedis(t *testing.T) { runConformance(t, redisStore) }

// Two filers on one PostgreSQL see each other's writes, renames and
// deletes, and each one's change feed carries the other's events.
func TestTwoFilersOnePostgres(t *testing.T) {
	url := postgresURL(t)
	table := postgresTable(t, url)
	a := startFiler(t, nil, openPostgres(t, url, table), filer.Options{ID: "a"})
	b := startFiler(t, a.cluster, openPostgres(t, url, table), filer.Options{ID: "b"})
	body := randomBytes(9, 600<<10)
	a.mustPut("/shared/from-a.bin", body)
	if resp, got := b.do(http.MethodGet, "/shared/from-a.bin", nil); resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("b reads a's file: %d, %d bytes", resp.StatusCode, len(got))
	}
	b.mustPut("/shared/from-b.txt", []byte("b"))
	if l := a.list("/shared/"); len(l.Entries) != 2 {
		t.Fatalf("a lists %d entries", len(l.Entries))
	}
	if resp, _ := b.do(http.MethodPost, "/moved/x.bin?mv.from=/shared/from-a.bin", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("b moves a's file: %d", resp.StatusCode)
	}
	if _, got := a.do(http.MethodGet, "/moved/x.bin", nil); !bytes.Equal(got, body) {
		t.Fatal("a does not read the file b moved")
	}
	if resp, _ := a.do(http.MethodDelete, "/shared/from-b.txt", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatal("a deletes b's file")
	}
	if resp, _ := b.do(http.MethodHead, "/shared/from-b.txt", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatal("b still sees the file a deleted")
	}
	// b's change feed, followed from the start, holds a's writes.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seen := map[string]bool{}
	b.filer.Follow(ctx, filer.FollowOptions{}, func(ev *pb.EntryEvent) error {
		seen[ev.GetOldEntry().GetFullPath()+">"+ev.GetNewEntry().GetFullPath()] = true
		if seen[">/shared/from-a.bin"] && seen["/shared/from-b.txt>"] {
			cancel()
		}
		return nil
	})
	if !seen[">/shared/from-a.bin"] || !seen["/shared/from-b.txt>"] {
		t.Fatalf("b's feed lacks a's events: %v", seen)
	}
}
