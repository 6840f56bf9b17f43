package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// exactQuantile is the nearest-rank quantile of sorted samples, the same
// definition histogram.quantile approximates.
func exactQuantile(sorted []int64, q float64) int64 {
	rank := int(math.Ceil(q*float64(len(sorted)) - 1e-9))
	rank = max(rank, 1)
	return sorted[rank-1]
}

func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dists := map[string]func() int64{
		// 1µs .. 100ms, uniform.
		"uniform": func() int64 { return 1000 + rng.Int64N(100_000_000) },
		// Log-normal around ~1ms with a long tail, like real latencies.
		"lognormal": func() int64 { return int64(math.Exp(13.8 + 0.8*rng.NormFloat64())) },
		// Mostly fast with a few very slow outliers.
		"bimodal": func() int64 {
			if rng.IntN(100) == 0 {
				return 2_000_000_000 + rng.Int64N(1_000_000_000)
			}
			return 50_000 + rng.Int64N(20_000)
		},
		// Sub-microsecond values fall in exact buckets.
		"tiny": func() int64 { return rng.Int64N(256) },
	}
	qs := []float64{0, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 1}
	for name, gen := range dists {
		t.Run(name, func(t *testing.T) {
			const n = 200_000
			var h histogram
			samples := make([]int64, n)
			for i := range samples {
				samples[i] = gen()
				h.record(time.Duration(samples[i]))
			}
			slices.Sort(samples)
			if h.count() != n {
				t.Fatalf("count = %d, want %d", h.count(), n)
			}
			if got := int64(h.minimum()); got != samples[0] {
				t.Errorf("min = %d, want %d", got, samples[0])
			}
			if got := int64(h.maximum()); got != samples[n-1] {
				t.Errorf("max = %d, want %d", got, samples[n-1])
			}
			for _, q := range qs {
				want := exactQuantile(samples, q)
				got := int64(h.quantile(q))
				tol := max(float64(want)*0.005, 1) // documented: within ~0.4%
				if math.Abs(float64(got-want)) > tol {
					t.Errorf("q%.3f = %d, want %d ±%.0f", q, got, want, tol)
				}
			}
		})
	}
}

func TestHistogramKnownValues(t *testing.T) {
	// 1..1000 ms, once each: p50 = 500ms, p90 = 900ms, p99 = 990ms, p99.9 = 999ms.
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{
		0.5: 500 * time.Millisecond, 0.9: 900 * time.Millisecond,
		0.99: 990 * time.Millisecond, 0.999: 999 * time.Millisecond, 1: time.Second,
	} {
		got := h.quantile(q)
		if rel := math.Abs(float64(got-want)) / float64(want); rel > 0.01 {
			t.Errorf("q%v = %v, want %v (off by %.2f%%)", q, got, want, rel*100)
		}
	}
	if got, want := h.mean(), 500500*time.Microsecond; got != want {
		t.Errorf("mean = %v, want %v", got, want)
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all histogram
	for i := range 10_000 {
		d := time.Duration(i*i) * time.Nanosecond
		all.record(d)
		if i%3 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	var m histogram
	m.merge(&a)
	m.merge(&b)
	m.merge(&histogram{}) // empty merge is a no-op
	if m != all {
		t.Fatal("merging per-worker histograms differs from recording into one")
	}
}

func TestBucketsTile(t *testing.T) {
	// Every bucket starts exactly where the previous one ended, and each
	// value maps into the bucket whose range contains it.
	var next uint64
	for i := range histBuckets {
		lo, w := bucketRange(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, next)
		}
		if w > 1 && float64(w)/float64(lo) > 1.0/histSubCount {
			t.Fatalf("bucket %d too wide: %d at %d", i, w, lo)
		}
		for _, v := range []uint64{lo, lo + w/2, lo + w - 1} {
			if got := bucketIndex(v); got != i {
				t.Fatalf("bucketIndex(%d) = %d, want %d", v, got, i)
			}
		}
		next = lo + w
	}
	if got := bucketIndex(math.MaxUint64); got != histBuckets-1 {
		t.Fatalf("overflow value in bucket %d", got)
	}
}

func TestLoopbackCheck(t *testing.T) {
	allowed := []string{
		"http://127.0.0.1:8080/v1/t/demo-hall/modules",
		"http://127.1.2.3/",
		"https://127.255.255.254:8443/x",
		"http://[::1]:8080/",
		"http://[::ffff:127.0.0.1]:8080/",
		"http://localhost:8080/",
		"http://LOCALHOST/",
		"http://localhost./",
	}
	refused := []string{
		"http://10.0.0.1:8080/",
		"http://192.168.1.10/",
		"http://0.0.0.0:8080/",
		"http://[::]:8080/",
		"http://[2001:db8::1]/",
		"http://example.com/",
		"http://localhost.example.com/",
		"http://notlocalhost/",
		"http://127.0.0.1.nip.io/",
		"http://128.0.0.1/",
	}
	malformed := []string{
		"127.0.0.1:8080/x", // no scheme
		"ftp://127.0.0.1/",
		"http:///path",
		"://bad",
	}
	for _, u := range allowed {
		if err := checkTarget(u); err != nil {
			t.Errorf("checkTarget(%q) = %v, want allowed", u, err)
		}
	}
	for _, u := range refused {
		err := checkTarget(u)
		if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
			t.Errorf("checkTarget(%q) = %v, want loopback refusal", u, err)
		}
	}
	for _, u := range malformed {
		if err := checkTarget(u); err == nil {
			t.Errorf("checkTarget(%q) accepted a malformed URL", u)
		}
	}

	// The dialer guard re-checks resolved addresses.
	for addr, ok := range map[string]bool{
		"127.0.0.1:80": true, "[::1]:80": true, "10.1.2.3:80": false,
		"[2001:db8::1]:443": false, "garbage": false,
	} {
		if err := loopbackOnly("tcp", addr, nil); (err == nil) != ok {
			t.Errorf("loopbackOnly(%q) = %v, want ok=%v", addr, err, ok)
		}
	}
}

func TestRefusesNonLoopbackExit2(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := realMain(context.Background(), []string{"-url", "http://127.0.0.1:1/", "-url", "http://example.com/", "-d", "1s"}, &stdout, &stderr)
	if code != exitUsage {
		t.Fatalf("exit code = %d, want %d", code, exitUsage)
	}
	if !strings.Contains(stderr.String(), "not a loopback address") {
		t.Fatalf("stderr = %q, want a loopback refusal", stderr.String())
	}
	if stdout.Len() != 0 {
		t.Fatalf("unexpected report on refusal: %q", stdout.String())
	}
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{}, // no -url
		{"-url", "http://127.0.0.1/", "-c", "0"},
		{"-url", "http://127.0.0.1/", "-d", "0s"},
		{"-url", "http://127.0.0.1/", "-H", "NoColon"},
		{"-url", "http://127.0.0.1/", "-expect", "42"},
		{"-url", "http://127.0.0.1/", "-body", "/does/not/exist"},
		{"-url", "http://127.0.0.1/", "extra"},
	} {
		if code := realMain(context.Background(), args, io.Discard, io.Discard); code != exitUsage {
			t.Errorf("realMain(%q) = %d, want %d", args, code, exitUsage)
		}
	}
}

// runJSON runs the command line with -json and decodes the report.
func runJSON(t *testing.T, args ...string) (*Report, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := realMain(context.Background(), append(args, "-json"), &stdout, &stderr)
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("decoding report (exit %d, stderr %q): %v\n%s", code, stderr.String(), err, stdout.String())
	}
	return &rep, code
}

func TestRunCountsMatchServer(t *testing.T) {
	var total, fails atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := total.Add(1); n%10 == 0 {
			fails.Add(1)
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, `{"modules":[]}`)
	}))
	defer srv.Close()

	start := time.Now()
	rep, code := runJSON(t, "-url", srv.URL+"/v1/t/demo-hall/modules", "-c", "8", "-d", "1s", "-warmup", "0s")
	elapsed := time.Since(start)

	if elapsed > 3*time.Second {
		t.Errorf("run took %v, want about 1s", elapsed)
	}
	if code != exitErrors {
		t.Errorf("exit code = %d, want %d since the server returned 500s", code, exitErrors)
	}
	if rep.Requests == 0 || rep.Requests != total.Load() {
		t.Errorf("report requests = %d, server saw %d", rep.Requests, total.Load())
	}
	if got := rep.UnexpectedStatuses[http.StatusInternalServerError]; got != fails.Load() || got != rep.Errors {
		t.Errorf("report 500s = %d, errors = %d, server failed %d", got, rep.Errors, fails.Load())
	}
	if rep.OK != total.Load()-fails.Load() || rep.Latency.Count != uint64(rep.OK) {
		t.Errorf("report ok = %d (latency count %d), server succeeded %d", rep.OK, rep.Latency.Count, total.Load()-fails.Load())
	}
	if len(rep.TransportErrors) != 0 {
		t.Errorf("unexpected transport errors: %+v", rep.TransportErrors)
	}
	if rep.StoppedBy != "duration" || rep.DurationS < 0.9 || rep.DurationS > 2 {
		t.Errorf("stopped by %s after %.3fs, want duration ~1s", rep.StoppedBy, rep.DurationS)
	}
	if want := float64(rep.Requests) / rep.DurationS; math.Abs(rep.RPS-want) > 1e-6*want {
		t.Errorf("rps = %f, want %f", rep.RPS, want)
	}
	l := rep.Latency
	if !(0 < l.Min && l.Min <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
		t.Errorf("latency figures out of order: %+v", l)
	}
	if rep.BytesRead == 0 {
		t.Error("no bytes read")
	}
}

func TestRunMaxRequestsHeadersBodyWarmup(t *testing.T) {
	body := []byte(`{"hello":"world"}`)
	bodyFile := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		t.Fatal(err)
	}
	var hits, bad atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		got, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || !bytes.Equal(got, body) ||
			r.Header.Get("Authorization") != "Bearer xyz" || r.Header.Get("X-Multi") != "a" ||
			len(r.Header.Values("X-Multi")) != 2 || r.Host != "demo.local" ||
			r.Header.Get("Accept-Encoding") != "" {
			bad.Add(1)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()

	rep, code := runJSON(t, "-url", srv.URL, "-url", srv.URL+"/second", "-c", "4", "-n", "50",
		"-warmup", "200ms", "-d", "10s", "-method", "post", "-body", bodyFile, "-expect", "201",
		"-H", "Authorization: Bearer xyz", "-H", "X-Multi: a", "-H", "X-Multi: b", "-H", "Host: demo.local")
	if code != exitOK {
		t.Errorf("exit code = %d, want 0; report %+v", code, rep)
	}
	if bad.Load() != 0 {
		t.Errorf("server rejected %d malformed requests", bad.Load())
	}
	if rep.Requests != 50 || rep.OK != 50 || rep.StoppedBy != "max-requests" {
		t.Errorf("requests = %d, ok = %d, stopped by %s; want 50, 50, max-requests", rep.Requests, rep.OK, rep.StoppedBy)
	}
	// Warmup requests reach the server but not the report.
	if hits.Load() <= 50 {
		t.Errorf("server saw %d requests, want more than 50 (warmup + measured)", hits.Load())
	}
}

func TestRunTransportErrors(t *testing.T) {
	// A port that was just free: connections are refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	rep, code := runJSON(t, "-url", "http://"+addr+"/", "-c", "2", "-n", "6", "-warmup", "0s", "-d", "5s")
	if code != exitErrors {
		t.Errorf("exit code = %d, want %d", code, exitErrors)
	}
	if rep.Requests != 6 || rep.Errors != 6 || len(rep.TransportErrors) != 1 ||
		rep.TransportErrors[0].Kind != "connection refused" || rep.TransportErrors[0].Count != 6 {
		t.Errorf("got %d requests, %d errors, %+v; want 6 connection refused", rep.Requests, rep.Errors, rep.TransportErrors)
	}
}

func TestRunTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer srv.Close()

	rep, code := runJSON(t, "-url", srv.URL, "-c", "2", "-n", "4", "-timeout", "100ms", "-warmup", "0s", "-d", "5s")
	if code != exitErrors {
		t.Errorf("exit code = %d, want %d", code, exitErrors)
	}
	if rep.Requests != 4 || len(rep.TransportErrors) != 1 || rep.TransportErrors[0].Kind != "timeout" {
		t.Errorf("got %d requests, %+v; want 4 timeouts", rep.Requests, rep.TransportErrors)
	}
}

func TestInterruptStillReports(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var stdout bytes.Buffer
	start := time.Now()
	code := realMain(ctx, []string{"-url", srv.URL, "-c", "4", "-d", "1m", "-warmup", "0s"}, &stdout, io.Discard)
	if time.Since(start) > 2*time.Second {
		t.Errorf("interrupt did not stop the run promptly")
	}
	if code != exitOK {
		t.Errorf("exit code = %d, want 0", code)
	}
	for _, want := range []string{"stopped by interrupted", "p99.9", "requests"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, stdout.String())
		}
	}
}
