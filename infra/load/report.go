package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the result of one run. Every measured request ends up in
// exactly one of OK, UnexpectedStatuses or TransportErrors, so
// Requests = OK + Errors.
type Report struct {
	URLs        []string `json:"urls"`
	Method      string   `json:"method"`
	Expect      int      `json:"expect_status"`
	Concurrency int      `json:"concurrency"`
	WarmupS     float64  `json:"warmup_s"`
	// DurationS is the measured wall-clock time: from the end of warmup to
	// the completion of the last measured request.
	DurationS float64 `json:"duration_s"`
	StoppedBy string  `json:"stopped_by"` // "duration", "max-requests" or "interrupted"

	Requests  int64   `json:"requests"`
	RPS       float64 `json:"requests_per_s"`
	OK        int64   `json:"ok"`
	Errors    int64   `json:"errors"`
	BytesRead int64   `json:"bytes_read"`

	TransportErrors    []ErrorCount  `json:"transport_errors"`
	UnexpectedStatuses map[int]int64 `json:"unexpected_statuses"`

	// Latency covers successful requests only (status == Expect), measured
	// from just before sending until the body was fully read.
	Latency Latency `json:"latency_ms"`
}

// ErrorCount is one kind of transport error with one raw example message.
type ErrorCount struct {
	Kind    string `json:"kind"`
	Count   int64  `json:"count"`
	Example string `json:"example"`
}

// Latency figures are in milliseconds.
type Latency struct {
	Count uint64  `json:"count"`
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
}

func buildReport(cfg config, stats []*workerStats, measureStart time.Time, stoppedBy string) *Report {
	rep := &Report{
		URLs:               cfg.urls,
		Method:             cfg.method,
		Expect:             cfg.expect,
		Concurrency:        cfg.concurrency,
		WarmupS:            cfg.warmup.Seconds(),
		StoppedBy:          stoppedBy,
		TransportErrors:    []ErrorCount{},
		UnexpectedStatuses: map[int]int64{},
	}
	var (
		hist      histogram
		last      time.Time
		transport = map[string]*ErrorCount{}
	)
	for _, st := range stats {
		hist.merge(&st.hist)
		rep.OK += st.ok
		rep.BytesRead += st.bytes
		for status, n := range st.statuses {
			rep.UnexpectedStatuses[status] += n
			rep.Errors += n
		}
		for kind, n := range st.transport {
			ec := transport[kind]
			if ec == nil {
				ec = &ErrorCount{Kind: kind, Example: st.example[kind]}
				transport[kind] = ec
			}
			ec.Count += n
			rep.Errors += n
		}
		if st.lastCompleted.After(last) {
			last = st.lastCompleted
		}
	}
	for _, ec := range transport {
		rep.TransportErrors = append(rep.TransportErrors, *ec)
	}
	slices.SortFunc(rep.TransportErrors, func(a, b ErrorCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Kind, b.Kind))
	})

	rep.Requests = rep.OK + rep.Errors
	if rep.Requests > 0 {
		elapsed := last.Sub(measureStart)
		rep.DurationS = elapsed.Seconds()
		if elapsed > 0 {
			rep.RPS = float64(rep.Requests) / elapsed.Seconds()
		}
	}

	ms := func(d time.Duration) float64 {
		// Microsecond precision is all the histogram promises anyway.
		return math.Round(float64(d)/1e3) / 1e3
	}
	rep.Latency = Latency{
		Count: hist.count(),
		Min:   ms(hist.minimum()),
		Mean:  ms(hist.mean()),
		P50:   ms(hist.quantile(0.50)),
		P90:   ms(hist.quantile(0.90)),
		P99:   ms(hist.quantile(0.99)),
		P999:  ms(hist.quantile(0.999)),
		Max:   ms(hist.maximum()),
	}
	return rep
}

func (r *Report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (r *Report) writeText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }

	for i, u := range r.URLs {
		label := ""
		if i == 0 {
			label = "target"
		}
		p("%s\t%s", label, u)
	}
	p("method\t%s (expect %d)", r.Method, r.Expect)
	p("workers\t%d", r.Concurrency)
	p("warmup\t%s (discarded)", secs(r.WarmupS))
	p("duration\t%s (stopped by %s)", secs(r.DurationS), r.StoppedBy)
	p("requests\t%d (%.1f/s)", r.Requests, r.RPS)
	p("ok\t%d", r.OK)
	p("errors\t%d", r.Errors)
	bps := 0.0
	if r.DurationS > 0 {
		bps = float64(r.BytesRead) / r.DurationS
	}
	p("bytes read\t%s (%s/s)", byteSize(float64(r.BytesRead)), byteSize(bps))
	p("")
	if r.Latency.Count > 0 {
		p("latency (ok requests, to last byte)")
		l := r.Latency
		for _, row := range []struct {
			name string
			v    float64
		}{
			{"min", l.Min}, {"mean", l.Mean}, {"p50", l.P50}, {"p90", l.P90},
			{"p99", l.P99}, {"p99.9", l.P999}, {"max", l.Max},
		} {
			p("  %s\t%10.3f ms", row.name, row.v)
		}
	} else {
		p("latency\tno successful requests")
	}
	if r.Errors > 0 {
		p("")
		p("errors by kind")
		for _, ec := range r.TransportErrors {
			p("  transport: %s\t%d\te.g. %s", ec.Kind, ec.Count, truncate(ec.Example, 120))
		}
		statuses := make([]int, 0, len(r.UnexpectedStatuses))
		for s := range r.UnexpectedStatuses {
			statuses = append(statuses, s)
		}
		slices.Sort(statuses)
		for _, s := range statuses {
			p("  status %d %s\t%d", s, http.StatusText(s), r.UnexpectedStatuses[s])
		}
	}
	return tw.Flush()
}

func secs(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond).String()
}

func byteSize(b float64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%.0f B", b)
	}
	exp := 0
	for b >= unit && exp < 4 {
		b /= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", b, "KMGT"[exp-1])
}

func truncate(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
