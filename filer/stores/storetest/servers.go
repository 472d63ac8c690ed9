package storetest

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
)

// The shared stores' tests use real servers: WEED_TEST_POSTGRES (a pgx URL)
// and WEED_TEST_REDIS (host:port), which .ci/run starts. A test whose server
// is missing fails under CI=true and is skipped, saying why, elsewhere.

var seq atomic.Int64

// unique returns a name no other test of this process uses.
func unique(prefix string) string {
	return fmt.Sprintf("%s%d_%d", prefix, os.Getpid(), seq.Add(1))
}

func skipOrFail(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// PostgresURL is WEED_TEST_POSTGRES once it answers.
func PostgresURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("WEED_TEST_POSTGRES")
	if url == "" {
		skipOrFail(t, "WEED_TEST_POSTGRES is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		skipOrFail(t, fmt.Sprintf("PostgreSQL at WEED_TEST_POSTGRES unreachable: %v", err))
	}
	conn.Close(ctx)
	return url
}

// PostgresTable names tables of the test's own (the entries table and its
// "_kv" companion), dropped when the test ends.
func PostgresTable(t testing.TB, url string) string {
	t.Helper()
	table := unique("weed_test_")
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+table+", "+table+"_kv"); err != nil {
			t.Error(err)
		}
	})
	return table
}

// RedisAddr is WEED_TEST_REDIS once it answers.
func RedisAddr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("WEED_TEST_REDIS")
	if addr == "" {
		skipOrFail(t, "WEED_TEST_REDIS is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		skipOrFail(t, fmt.Sprintf("Redis at WEED_TEST_REDIS unreachable: %v", err))
	}
	return addr
}

// RedisPrefix is a key prefix of the test's own; its keys are removed when
// the test ends.
func RedisPrefix(t testing.TB, addr string) string {
	t.Helper()
	prefix := unique("weedtest:") + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		rdb := goredis.NewClient(&goredis.Options{Addr: addr})
		defer rdb.Close()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Error(err)
		}
	})
	return prefix
}
