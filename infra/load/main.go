// Command load is a small closed-loop HTTP load generator for local
// benchmarking of yamen services.
//
//	go run ./infra/load -url http://127.0.0.1:8080/v1/t/demo-hall/modules \
//	    -c 64 -d 20s -H 'Authorization: Bearer xyz'
//
// It only ever talks to loopback addresses, always stops by itself (after
// -d, or -n requests), and exits 1 if any request failed so scripts can
// assert an error-free run. See README.md for the meaning of the figures.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Exit codes.
const (
	exitOK     = 0 // run completed, no errors
	exitErrors = 1 // run completed but some requests failed (or none completed)
	exitUsage  = 2 // bad flags, or a non-loopback target was refused
)

const maxConcurrency = 10000

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first Ctrl-C the run winds down and still reports; a
		// second one kills the process the usual way.
		<-ctx.Done()
		stop()
	}()
	os.Exit(realMain(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// realMain parses args, runs the load and prints the report; it returns the
// process exit code.
func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return exitUsage
	}

	fmt.Fprintf(stderr, "load: %d workers -> %s for %s (after %s warmup)",
		cfg.concurrency, strings.Join(cfg.urls, ", "), cfg.duration, cfg.warmup)
	if cfg.maxRequests > 0 {
		fmt.Fprintf(stderr, ", at most %d requests", cfg.maxRequests)
	}
	fmt.Fprintln(stderr)

	rep := run(ctx, cfg)

	if cfg.jsonOut {
		err = rep.writeJSON(stdout)
	} else {
		err = rep.writeText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "load: writing report: %v\n", err)
		return exitErrors
	}
	switch {
	case rep.Requests == 0:
		fmt.Fprintln(stderr, "load: no requests completed in the measurement window")
		return exitErrors
	case rep.Errors > 0:
		fmt.Fprintf(stderr, "load: %d of %d requests failed\n", rep.Errors, rep.Requests)
		return exitErrors
	}
	return exitOK
}

// config is the validated command line.
type config struct {
	urls        []string
	concurrency int
	duration    time.Duration
	maxRequests int64
	warmup      time.Duration
	header      http.Header
	host        string // from -H 'Host: ...'; overrides the URL's host header
	method      string
	body        []byte // nil: no body
	timeout     time.Duration
	jsonOut     bool
	expect      int
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ", ") }

func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var (
		cfg      config
		urls     stringList
		headers  stringList
		bodyFile string
	)
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&urls, "url", "target `URL` (required; repeat to round-robin over several); host must be loopback")
	fs.IntVar(&cfg.concurrency, "c", 64, "number of concurrent workers (`connections`)")
	fs.DurationVar(&cfg.duration, "d", 20*time.Second, "measured `duration` (after warmup)")
	fs.Int64Var(&cfg.maxRequests, "n", 0, "stop after this many measured `requests` (0 = no limit; -d still applies)")
	fs.DurationVar(&cfg.warmup, "warmup", 2*time.Second, "warmup `duration` whose results are discarded")
	fs.Var(&headers, "H", "request `header` \"Name: value\" (repeatable)")
	fs.StringVar(&cfg.method, "method", http.MethodGet, "HTTP `method`")
	fs.StringVar(&bodyFile, "body", "", "`file` whose contents are sent as the request body")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Second, "per-request `timeout`, including reading the body")
	fs.BoolVar(&cfg.jsonOut, "json", false, "print the report as JSON")
	fs.IntVar(&cfg.expect, "expect", http.StatusOK, "expected HTTP `status`; any other counts as an error")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./infra/load -url http://127.0.0.1:8080/path [flags]\n\n"+
			"Closed-loop HTTP load generator for loopback targets. Exit status: 0 no errors,\n"+
			"1 some requests failed (or none completed), 2 usage error or refused target.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q (did you forget -url?)", fs.Args())
	}

	if len(urls) == 0 {
		return cfg, errors.New("-url is required")
	}
	for _, raw := range urls {
		if err := checkTarget(raw); err != nil {
			return cfg, err
		}
	}
	cfg.urls = urls

	switch {
	case cfg.concurrency < 1 || cfg.concurrency > maxConcurrency:
		return cfg, fmt.Errorf("-c must be between 1 and %d", maxConcurrency)
	case cfg.duration <= 0:
		return cfg, errors.New("-d must be positive")
	case cfg.maxRequests < 0:
		return cfg, errors.New("-n must not be negative")
	case cfg.warmup < 0:
		return cfg, errors.New("-warmup must not be negative")
	case cfg.timeout <= 0:
		return cfg, errors.New("-timeout must be positive")
	case cfg.expect < 100 || cfg.expect > 599:
		return cfg, errors.New("-expect must be an HTTP status between 100 and 599")
	case cfg.method == "" || strings.ContainsAny(cfg.method, " \t\r\n"):
		return cfg, fmt.Errorf("invalid -method %q", cfg.method)
	}
	cfg.method = strings.ToUpper(cfg.method)

	cfg.header = make(http.Header)
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(value, "\r\n") {
			return cfg, fmt.Errorf("invalid -H %q: want \"Name: value\"", h)
		}
		if strings.EqualFold(name, "Host") {
			cfg.host = value
			continue
		}
		cfg.header.Add(name, value)
	}

	if bodyFile != "" {
		b, err := os.ReadFile(bodyFile)
		if err != nil {
			return cfg, fmt.Errorf("-body: %w", err)
		}
		cfg.body = b
	}
	return cfg, nil
}

// checkTarget enforces the workplace rule that load is only ever generated
// against the local machine: the URL must be http(s) and its host must be
// a loopback address or "localhost". (The dialer re-checks every resolved
// address, see loopbackOnly.)
func checkTarget(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid -url %q: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("invalid -url %q: scheme must be http or https", raw)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("invalid -url %q: no host", raw)
	}
	if !isLoopbackHost(host) {
		return fmt.Errorf("refusing to send load to %q: host %q is not a loopback address "+
			"(only 127.0.0.0/8, ::1 and localhost are allowed)", raw, host)
	}
	return nil
}

// isLoopbackHost reports whether host (as returned by url.URL.Hostname) is
// "localhost" or a literal loopback IP address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return addr.Unmap().IsLoopback()
}

var errNotLoopback = errors.New("refusing to dial non-loopback address")

// loopbackOnly is a net.Dialer Control hook: it runs after name resolution,
// so it also catches a "localhost" that resolves somewhere else.
func loopbackOnly(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("%w %s", errNotLoopback, address)
	}
	return nil
}

// newClient returns the one http.Client shared by all workers.
func newClient(cfg config) *http.Client {
	dialer := &net.Dialer{
		Timeout:   cfg.timeout,
		KeepAlive: 30 * time.Second,
		Control:   loopbackOnly,
	}
	hosts := make(map[string]bool)
	for _, raw := range cfg.urls {
		if u, err := url.Parse(raw); err == nil {
			hosts[u.Host] = true
		}
	}
	tr := &http.Transport{
		Proxy:               nil, // never detour through $HTTP_PROXY
		DialContext:         dialer.DialContext,
		MaxIdleConns:        cfg.concurrency * len(hosts),
		MaxIdleConnsPerHost: cfg.concurrency,
		MaxConnsPerHost:     cfg.concurrency,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: cfg.timeout,
		// Keep the wire format what the user asked for: no implicit
		// Accept-Encoding: gzip and no transparent decompression.
		DisableCompression:    true,
		DisableKeepAlives:     false,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   cfg.timeout,
		// A redirect is reported as its own (unexpected) status rather than
		// followed, so load never leaves the target the user named.
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// workerStats is owned by a single worker; all of them are merged at the end.
type workerStats struct {
	hist          histogram
	ok            int64
	bytes         int64
	statuses      map[int]int64    // unexpected statuses
	transport     map[string]int64 // transport errors by kind
	example       map[string]string
	lastCompleted time.Time
}

func newWorkerStats() *workerStats {
	return &workerStats{
		statuses:  make(map[int]int64),
		transport: make(map[string]int64),
		example:   make(map[string]string),
	}
}

// runner holds the state shared by the workers of one run.
type runner struct {
	cfg    config
	client *http.Client

	// stop ends the issuing of new requests (end of -d, -n reached or
	// interrupted); requests in flight are allowed to finish, bounded by
	// -timeout, and are counted. abort (interrupt only) cancels in-flight
	// requests, whose results are then discarded.
	stop  context.Context
	abort context.Context

	measureStart time.Time
	stopNow      context.CancelFunc
	tickets      atomic.Int64 // measured requests started, for -n
	next         atomic.Uint64
	hitLimit     atomic.Bool
}

// run generates load as configured and returns the report. Cancelling ctx
// stops the run early (in-flight requests are abandoned) and still reports.
func run(ctx context.Context, cfg config) *Report {
	client := newClient(cfg)
	defer client.CloseIdleConnections()

	start := time.Now()
	measureStart := start.Add(cfg.warmup)
	stopCtx, stopNow := context.WithDeadline(ctx, measureStart.Add(cfg.duration))
	defer stopNow()

	r := &runner{
		cfg:          cfg,
		client:       client,
		stop:         stopCtx,
		abort:        ctx,
		measureStart: measureStart,
		stopNow:      stopNow,
	}

	stats := make([]*workerStats, cfg.concurrency)
	var wg sync.WaitGroup
	for i := range stats {
		stats[i] = newWorkerStats()
		wg.Go(func() { r.worker(stats[i]) })
	}
	wg.Wait()

	stoppedBy := "duration"
	switch {
	case ctx.Err() != nil:
		stoppedBy = "interrupted"
	case r.hitLimit.Load():
		stoppedBy = "max-requests"
	}
	return buildReport(cfg, stats, measureStart, stoppedBy)
}

func (r *runner) worker(st *workerStats) {
	for r.stop.Err() == nil {
		started := time.Now()
		measured := !started.Before(r.measureStart)
		if measured && r.cfg.maxRequests > 0 && r.tickets.Add(1) > r.cfg.maxRequests {
			r.hitLimit.Store(true)
			r.stopNow()
			return
		}
		target := r.cfg.urls[(r.next.Add(1)-1)%uint64(len(r.cfg.urls))]
		status, n, err := r.do(target)
		done := time.Now()
		if r.abort.Err() != nil {
			return // interrupted: this result is unreliable, drop it
		}
		if !measured {
			continue // warmup
		}
		st.lastCompleted = done
		st.bytes += n
		switch {
		case err != nil:
			kind := classifyErr(err)
			st.transport[kind]++
			if _, ok := st.example[kind]; !ok {
				st.example[kind] = err.Error()
			}
		case status != r.cfg.expect:
			st.statuses[status]++
		default:
			st.ok++
			st.hist.record(done.Sub(started))
		}
	}
}

// do issues one request and reads the response body to the end. The
// latency the caller measures around it is therefore time to last byte.
func (r *runner) do(target string) (status int, n int64, err error) {
	var body io.Reader
	if r.cfg.body != nil {
		body = bytes.NewReader(r.cfg.body)
	}
	req, err := http.NewRequestWithContext(r.abort, r.cfg.method, target, body)
	if err != nil {
		return 0, 0, err
	}
	if len(r.cfg.header) > 0 {
		req.Header = r.cfg.header.Clone()
	}
	if r.cfg.host != "" {
		req.Host = r.cfg.host
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	n, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return resp.StatusCode, n, fmt.Errorf("reading body: %w", err)
	}
	return resp.StatusCode, n, nil
}

// classifyErr buckets a transport error into a small, stable set of kinds so
// the report stays readable (raw messages contain ephemeral ports).
func classifyErr(err error) string {
	var (
		netErr net.Error
		dnsErr *net.DNSError
	)
	switch {
	case errors.Is(err, errNotLoopback):
		return "refused: non-loopback address"
	case errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "address not available (ephemeral ports exhausted?)"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by server (EOF)"
	case errors.As(err, &dnsErr):
		return "dns"
	}
	return "other"
}
