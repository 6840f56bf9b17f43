// Package workertest gives tests Redis: the one `make test` runs, with a
// namespace of the test's own so that parallel tests never take each
// other's tasks, or a private redis-server a test may stop and start.
package workertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"yamen/worker"
)

// Redis returns the Redis of YAMEN_REDIS_URL, which `make test` sets.
func Redis(t testing.TB) asynq.RedisConnOpt {
	t.Helper()
	url := os.Getenv("YAMEN_REDIS_URL")
	require.NotEmpty(t, url, "YAMEN_REDIS_URL is not set: run the tests with `make test`, which starts Redis")
	opt, err := asynq.ParseRedisURI(url)
	require.NoError(t, err)
	return opt
}

// Namespace returns a worker namespace no other test uses, and deletes
// what its queues left in r when the test ends.
func Namespace(t testing.TB, r asynq.RedisConnOpt) string {
	t.Helper()
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	ns := "test-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		// Every key of a queue is asynq:{<queue>}:…; asynq's DeleteQueue
		// would leave the finished tasks it retains.
		c := r.MakeRedisClient().(redis.UniversalClient)
		defer c.Close()
		ctx := context.Background()
		for _, q := range worker.QueueNames(ns) {
			iter := c.Scan(ctx, 0, "asynq:{"+q+"}:*", 1000).Iterator()
			for iter.Next(ctx) {
				c.Del(ctx, iter.Val())
			}
			c.SRem(ctx, "asynq:queues", q)
		}
	})
	return ns
}

// Server is a redis-server of the test's own, on a Unix socket, keeping its
// data in an append-only file so that what it held survives a restart.
type Server struct {
	dir  string
	sock string
	cmd  *exec.Cmd
}

// Start starts a private redis-server; it is stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	// Not t.TempDir: a Unix socket path must stay under 108 bytes.
	dir, err := os.MkdirTemp("", "yamen-redis-")
	require.NoError(t, err)
	s := &Server{dir: dir, sock: filepath.Join(dir, "redis.sock")}
	t.Cleanup(func() {
		s.Stop(t)
		_ = os.RemoveAll(dir)
	})
	s.Restart(t)
	return s
}

// Opt is how asynq reaches the server.
func (s *Server) Opt() asynq.RedisConnOpt {
	return asynq.RedisClientOpt{Network: "unix", Addr: s.sock}
}

// Stop stops the server, as an outage would; its data stays on disk.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if s.cmd == nil {
		return
	}
	// SIGTERM: redis-server flushes the append-only file and exits.
	_ = s.cmd.Process.Signal(os.Interrupt)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again, with the data it had.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	require.NoError(t, err, "redis-server is not installed (infra/dev/env.sh installs it)")
	s.cmd = exec.Command(bin, "--port", "0", "--unixsocket", s.sock, "--dir", s.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--loglevel", "warning")
	require.NoError(t, s.cmd.Start())
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: s.sock})
	defer c.Close()
	require.Eventually(t, func() bool {
		return c.Ping(context.Background()).Err() == nil
	}, 10*time.Second, 10*time.Millisecond, "redis-server did not come up")
}
