package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// registerHealth adds the endpoints orchestrators and Prometheus call; they
// are not part of the OpenAPI document.
func (s *Server) registerHealth(mux *http.ServeMux, checks map[string]func(context.Context) error) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		type result struct {
			Status string `json:"status"`
		}
		results := map[string]result{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		names := make([]string, 0, len(checks))
		for name := range checks {
			names = append(names, name)
		}
		sort.Strings(names)
		ready := true
		for _, name := range names {
			wg.Go(func() {
				err := checks[name](ctx)
				mu.Lock()
				defer mu.Unlock()
				status := "ok"
				if err != nil {
					// The cause goes to the log; the body only says which part is down.
					if info := requestInfoFrom(r.Context()); info != nil {
						info.err = fmt.Errorf("%s: %w", name, err)
					}
					status = "unavailable"
				}
				results[name] = result{status}
				ready = ready && status == "ok"
			})
		}
		wg.Wait()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ready": ready, "checks": results})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
}
