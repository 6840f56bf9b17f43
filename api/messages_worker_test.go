package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"yamen/modules"
	"yamen/modules/builtin"
	"yamen/modules/files/filestest"
	"yamen/modules/messages"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
	"yamen/worker"
	"yamen/worker/workertest"
)

// The messages module with the real worker: the relay moves the outbox to
// asynq and the worker delivers, through a Redis outage and a crash.

// smsGateway is a loopback SMS gateway that honours Idempotency-Key: it
// counts every request, and accepts each key once.
type smsGateway struct {
	*httptest.Server
	posts    atomic.Int64
	mu       sync.Mutex
	accepted map[string]int // text → accepted sends
	keys     map[string]int // Idempotency-Key → requests
}

func startSMSGateway(t testing.TB) *smsGateway {
	t.Helper()
	g := &smsGateway{accepted: map[string]int{}, keys: map[string]int{}}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var b struct{ Phone, Text string }
		_ = json.Unmarshal(raw, &b)
		g.posts.Add(1)
		key := r.Header.Get(messages.IdempotencyHeader)
		g.mu.Lock()
		g.keys[key]++
		if g.keys[key] == 1 || key == "" {
			g.accepted[b.Text]++
		}
		g.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *smsGateway) counts() (accepted map[string]int, keys map[string]int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	accepted, keys = map[string]int{}, map[string]int{}
	for k, v := range g.accepted {
		accepted[k] = v
	}
	for k, v := range g.keys {
		keys[k] = v
	}
	return accepted, keys
}

// runMessagesWorker runs a worker of the tenant until the test ends.
func runMessagesWorker(t testing.TB, db *tenants.DB, reg *modules.Registry, redis asynq.RedisConnOpt, ns string, tenant uuid.UUID, tick time.Duration, concurrency ...int) {
	t.Helper()
	cfg := worker.Config{
		DB: db, Registry: reg, Redis: redis, Namespace: ns, Logger: slog.New(slog.DiscardHandler),
		Tenants: func(id uuid.UUID) bool { return id == tenant },
		Tick:    tick, RetryDelay: 20 * time.Millisecond, MaxRetryDelay: 100 * time.Millisecond,
	}
	if len(concurrency) > 0 {
		cfg.Concurrency = concurrency[0]
	}
	w, err := worker.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

// sendMany posts n sends of one SMS each to member, prefix-numbered texts,
// from 16 clients; every one must be accepted.
func sendMany(t testing.TB, b *bundle, base, key, member, prefix string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	next := atomic.Int64{}
	errs := make(chan string, n)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				r := b.do(t, "POST", base+"/messages/send", key, map[string]any{"text": fmt.Sprintf("%s-%04d", prefix, i),
					"channels": []string{"sms"}, "recipients": map[string]any{"members": []string{member}}})
				if r.status != http.StatusAccepted {
					errs <- fmt.Sprintf("%d: %s", r.status, r.body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("a send was refused: %s", e)
	}
}

// deliveryCounts counts the tenant's SMS deliveries by status.
func deliveryCounts(t testing.TB, db *tenants.DB, tenant uuid.UUID) map[string]int {
	t.Helper()
	r, err := db.Reader(tenant, "system")
	require.NoError(t, err)
	rows, err := r.Query(context.Background(), `SELECT status::text, count(*) FROM message_deliveries WHERE channel = 'sms' GROUP BY 1`)
	require.NoError(t, err)
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		require.NoError(t, rows.Scan(&s, &n))
		out[s] = n
	}
	require.NoError(t, rows.Err())
	return out
}

// requireOnce checks that every one of the n texts reached the gateway
// exactly once (a repeat with a known Idempotency-Key is not sent again),
// with one key per delivery.
func requireOnce(t testing.TB, g *smsGateway, prefix string, n, deliveries int) {
	t.Helper()
	accepted, keys := g.counts()
	require.Equal(t, deliveries, len(keys), "one idempotency key per delivery")
	for i := range n {
		text := fmt.Sprintf("%s-%04d", prefix, i)
		require.Equal(t, 1, accepted[text], "%s sent once", text)
	}
}

// Redis is down while the API accepts 1,000 sends: the API never needs
// it; once Redis is back the relay catches up and every SMS goes out once.
func TestMessageRedisOutageThroughAPI(t *testing.T) {
	t.Parallel()
	srv := workertest.Start(t)
	sms := startSMSGateway(t)
	b, _, reg := messagesRegistry(t, "", sms.URL)
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	p := makePeople(t, b, key, base)
	runMessagesWorker(t, b.db, reg, srv.Opt(), workertest.Namespace(t, srv.Opt()), tn.ID, 50*time.Millisecond)

	sendMany(t, b, base, key, p.li, "warm", 10)
	require.Eventually(t, func() bool { return deliveryCounts(t, b.db, tn.ID)["delivered"] == 10 }, 10*time.Second, 50*time.Millisecond)

	srv.Stop(t)
	start := time.Now()
	sendMany(t, b, base, key, p.li, "outage", 1000)
	t.Logf("1,000 sends accepted with Redis down in %v", time.Since(start))
	require.Equal(t, 10, deliveryCounts(t, b.db, tn.ID)["delivered"], "nothing is delivered without Redis")

	srv.Restart(t)
	require.Eventually(t, func() bool { return deliveryCounts(t, b.db, tn.ID)["delivered"] == 1010 }, 20*time.Second, 100*time.Millisecond,
		"all delivered after Redis is back")
	time.Sleep(300 * time.Millisecond) // a duplicate would come now
	require.Equal(t, map[string]int{"delivered": 1010}, deliveryCounts(t, b.db, tn.ID))
	requireOnce(t, sms, "outage", 1000, 1010)
	require.EqualValues(t, 1010, sms.posts.Load(), "no SMS was even posted twice")
}

// The worker as a child process of the test: TestMessageWorkerChild runs
// it when YAMEN_TEST_CHILD_WORKER is set, else it is skipped.
const childWorkerEnv = "YAMEN_TEST_CHILD_WORKER"

type childConfig struct {
	Redis     string    `json:"redis"` // Unix socket
	Namespace string    `json:"namespace"`
	Tenant    uuid.UUID `json:"tenant"`
	SMSURL    string    `json:"sms_url"`
}

func TestMessageWorkerChild(t *testing.T) {
	// Not a test of its own: the worker process TestMessageWorkerCrash starts
	// and kills (the helper-process idiom of os/exec's tests).
	raw := os.Getenv(childWorkerEnv)
	if raw == "" {
		return
	}
	var cfg childConfig
	require.NoError(t, json.Unmarshal([]byte(raw), &cfg))
	db := tenanttest.DB(t)
	mods := builtin.Modules()
	reg, err := modules.NewRegistry(mods...)
	require.NoError(t, err)
	env := filestest.Env(t, db.Pool)
	env.Setting = func(name string) string {
		if name == messages.SettingSMSURL {
			return cfg.SMSURL
		}
		return filestest.Setting(name)
	}
	require.NoError(t, reg.Provision(context.Background(), env))
	w, err := worker.New(worker.Config{
		DB: db, Registry: reg, Redis: asynq.RedisClientOpt{Network: "unix", Addr: cfg.Redis}, Namespace: cfg.Namespace,
		Logger:  slog.New(slog.DiscardHandler),
		Tenants: func(id uuid.UUID) bool { return id == cfg.Tenant },
		Tick:    50 * time.Millisecond, RetryDelay: 20 * time.Millisecond, MaxRetryDelay: 100 * time.Millisecond,
	})
	require.NoError(t, err)
	_ = w.Run(context.Background()) // until SIGKILL
}

// startChild starts the worker child.
func startChild(t testing.TB, cfg childConfig) *exec.Cmd {
	t.Helper()
	raw, err := json.Marshal(cfg)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestMessageWorkerChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childWorkerEnv+"="+string(raw))
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// The worker is killed (SIGKILL) in the middle of 1,000 SMS; after a
// restart every one is delivered, and the gateway sends each once.
//
// What the killed worker held rolls back in PostgreSQL; its tasks in
// flight stay active in Redis until their asynq lease is found expired
// (about a minute on a real clock: 30 s lease, 30 s grace). The test
// ages those leases in Redis instead of waiting, then restarts the worker,
// whose recoverer retries them at once. A delivery the gateway accepted
// just before the kill is posted again with the same Idempotency-Key.
func TestMessageWorkerCrash(t *testing.T) {
	t.Parallel()
	srv := workertest.Start(t)
	sms := startSMSGateway(t)
	b, _, _ := messagesRegistry(t, "", sms.URL)
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	p := makePeople(t, b, key, base)
	cfg := childConfig{Redis: srv.Opt().(asynq.RedisClientOpt).Addr, Namespace: workertest.Namespace(t, srv.Opt()), Tenant: tn.ID, SMSURL: sms.URL}

	sendMany(t, b, base, key, p.li, "crash", 1000)
	child := startChild(t, cfg)
	require.Eventually(t, func() bool { return sms.posts.Load() >= 200 }, 15*time.Second, 5*time.Millisecond, "the worker delivers")
	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	_ = child.Wait()
	at := deliveryCounts(t, b.db, tn.ID)
	t.Logf("killed with %v; %d SMS posted", at, sms.posts.Load())
	require.Less(t, at["delivered"], 1000, "killed in the middle of the batch")

	rc := redis.NewClient(&redis.Options{Network: "unix", Addr: cfg.Redis})
	defer rc.Close()
	for _, q := range worker.QueueNames(cfg.Namespace) {
		lease := "asynq:{" + q + "}:lease"
		ids, err := rc.ZRange(context.Background(), lease, 0, -1).Result()
		require.NoError(t, err)
		for _, id := range ids {
			require.NoError(t, rc.ZAdd(context.Background(), lease, redis.Z{Score: 1, Member: id}).Err())
		}
	}

	startChild(t, cfg)
	require.Eventually(t, func() bool { return deliveryCounts(t, b.db, tn.ID)["delivered"] == 1000 }, 20*time.Second, 100*time.Millisecond,
		"all delivered after the restart")
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, map[string]int{"delivered": 1000}, deliveryCounts(t, b.db, tn.ID))
	requireOnce(t, sms, "crash", 1000, 1000)
	t.Logf("%d SMS posts for 1,000 deliveries (a repeat carries the same Idempotency-Key)", sms.posts.Load())
}
