package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/modules/messages"
	"yamen/tenants"
	"yamen/worker/workertest"
)

// In-app push latency (issue 4, speed): sends at a fixed rate through the
// API, each to one member whose inbox stream is open, with the worker and
// its relay running; measures send accepted (202 read) → event read on the
// stream. Loopback only, bounded in time; one run however large b.N:
//
//	. infra/dev/env.sh; YAMEN_TEST=1 [YAMEN_BENCH_SSE_RATE=1000] [YAMEN_BENCH_SSE_SECONDS=10] \
//	  [YAMEN_BENCH_SSE_TICK=0 (ms)] [YAMEN_BENCH_SSE_CONCURRENCY=0 (worker default)] \
//	  go test -run '^$' -bench MessageInboxStreamLatency -benchtime 1x ./api/
func BenchmarkMessageInboxStreamLatency(bench *testing.B) {
	var t testing.TB = bench
	envInt := func(name string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
			return v
		}
		return def
	}
	rate, seconds := envInt("YAMEN_BENCH_SSE_RATE", 1000), envInt("YAMEN_BENCH_SSE_SECONDS", 10)
	tick := time.Duration(envInt("YAMEN_BENCH_SSE_TICK", 0)) * time.Millisecond

	b, _, reg := messagesRegistry(t, "", "")
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	p := makePeople(t, b, key, base)
	r := b.do(t, "POST", base+"/roles", key, map[string]any{"name": "民警", "permissions": []string{"messages:inbox"}, "data_scope": "self"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	r = b.do(t, "PATCH", base+"/members/"+p.li, key, map[string]any{"role_ids": []string{r.json(t)["id"].(string)}})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	email, _, token := staffAccount(t, "李四")
	r = b.do(t, "POST", base+"/members/"+p.li+"/link", key, map[string]any{"identifier": email})
	require.Equal(t, http.StatusOK, r.status, string(r.body))

	redis := workertest.Redis(t)
	runMessagesWorker(t, b.db, reg, redis, workertest.Namespace(t, redis), tn.ID, tick, envInt("YAMEN_BENCH_SSE_CONCURRENCY", 0))
	events, resp := openStream(t, b.url+base+"/messages/inbox/stream", token)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512}}
	n := rate * seconds
	var (
		mu       sync.Mutex
		started  = make(map[string]time.Time, n)
		accepted = make(map[string]time.Time, n)
		failed   int
	)
	jobs := make(chan int, n)
	var wg sync.WaitGroup
	for range 256 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				text := fmt.Sprintf("lat-%06d", i)
				body, _ := json.Marshal(map[string]any{"text": text, "channels": []string{"in_app"}, "recipients": map[string]any{"members": []string{p.li}}})
				req, _ := http.NewRequest("POST", b.url+base+"/messages/send", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+key)
				t0 := time.Now()
				resp, err := client.Do(req)
				ok := err == nil && resp.StatusCode == http.StatusAccepted
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				t1 := time.Now()
				mu.Lock()
				if ok {
					started[text], accepted[text] = t0, t1
				} else {
					failed++
				}
				mu.Unlock()
			}
		}()
	}
	received := make(map[string]time.Time, n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		deadline := time.After(time.Duration(seconds)*time.Second + 15*time.Second)
		for len(received) < n {
			select {
			case e, ok := <-events:
				if !ok {
					return
				}
				if text, _ := e.data["text"].(string); text != "" {
					received[text] = e.at
				}
			case <-deadline:
				return
			}
		}
	}()
	begin := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := range n {
		if d := time.Until(begin.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	offered := time.Since(begin)
	<-done

	var fromAccept, fromStart []time.Duration
	mu.Lock()
	for text, at := range received {
		if a, ok := accepted[text]; ok {
			fromAccept = append(fromAccept, max(at.Sub(a), 0))
			fromStart = append(fromStart, at.Sub(started[text]))
		}
	}
	mu.Unlock()
	slices.Sort(fromAccept)
	slices.Sort(fromStart)
	pct := func(d []time.Duration, p float64) time.Duration {
		if len(d) == 0 {
			return 0
		}
		return d[min(len(d)-1, int(float64(len(d))*p))]
	}
	t.Logf("%d sends offered at %d/s in %v (achieved %.0f/s), %d refused, %d events received",
		n, rate, offered.Round(time.Millisecond), float64(n-failed)/offered.Seconds(), failed, len(received))
	t.Logf("send accepted → event: p50 %v  p90 %v  p99 %v  max %v", pct(fromAccept, .5), pct(fromAccept, .9), pct(fromAccept, .99), pct(fromAccept, 1))
	t.Logf("send request start → event: p50 %v  p99 %v", pct(fromStart, .5), pct(fromStart, .99))
	var delivered, pending int
	rd, err := b.db.Reader(tn.ID, "system")
	require.NoError(t, err)
	require.NoError(t, rd.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE status = 'delivered'), count(*) FILTER (WHERE status <> 'delivered') FROM message_deliveries`).Scan(&delivered, &pending))
	t.Logf("deliveries: %d delivered, %d not yet", delivered, pending)
	require.Zero(t, failed)
	require.Equal(t, n, len(received), "every message arrives on the stream")
	bench.ReportMetric(float64(pct(fromAccept, .5).Microseconds())/1000, "p50-ms")
	bench.ReportMetric(float64(pct(fromAccept, .99).Microseconds())/1000, "p99-ms")
}

// SendIn alone, from 2 goroutines per core in parallel (as many as the
// pool has connections), each sending one in-app message to one member:
// the database side of the in-app path, without HTTP.
//
//	YAMEN_TEST=1 go test -run '^$' -bench MessageSendIn -benchtime 5000x ./api/
func BenchmarkMessageSendIn(bench *testing.B) {
	b, m, _ := messagesRegistry(bench, "", "")
	tn, key := b.tenant(bench, tenants.KindPoliceBureau)
	p := makePeople(bench, b, key, "/v1/t/"+tn.Slug)
	member := uuid.MustParse(p.li)
	ctx := context.Background()
	bench.SetParallelism(2)
	bench.ResetTimer()
	start := time.Now()
	bench.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := b.db.Tx(ctx, tn.ID, "system", func(tx *tenants.Tx) error {
				_, err := m.SendIn(ctx, tx, messages.Send{Text: "测试", Channels: []string{"in_app"}, Recipients: messages.Recipients{Members: []uuid.UUID{member}}}, "")
				return err
			})
			if err != nil {
				bench.Error(err)
				return
			}
		}
	})
	bench.ReportMetric(float64(bench.N)/time.Since(start).Seconds(), "sends/s")
}
