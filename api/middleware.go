package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"time"

	"yamen/tenants"
)

// requestInfo follows a request through the middleware so the access log can
// say what the handlers learned.
type requestInfo struct {
	id      string
	subject string
	err     error
}

type requestInfoKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return info
}

// A request ID we accept from a client: short and printable, so it cannot
// forge log lines.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// statusWriter remembers the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush for server-sent events.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// outermost is the first thing every request meets: it assigns the request
// ID, limits the body, recovers panics and writes the access log.
func outermost(log *slog.Logger, maxBody int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !requestIDPattern.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		info := &requestInfo{id: id}
		ctx := context.WithValue(r.Context(), requestInfoKey{}, info)
		ctx = tenants.WithRequestID(ctx, id)
		r = r.WithContext(ctx)
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
		sw := &statusWriter{ResponseWriter: w}

		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				info.err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
				if sw.status == 0 {
					writeProblem(sw, r, &Problem{Status: http.StatusInternalServerError, Title: http.StatusText(http.StatusInternalServerError), Detail: internalDetail})
				}
			}
			level := slog.LevelInfo
			attrs := []slog.Attr{
				slog.String("request_id", id),
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", sw.status),
				slog.Int64("bytes", sw.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.String("remote", r.RemoteAddr),
			}
			if info.subject != "" {
				attrs = append(attrs, slog.String("subject", info.subject))
			}
			if info.err != nil {
				level = slog.LevelError
				attrs = append(attrs, slog.String("error", info.err.Error()))
			}
			log.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(sw, r)
	})
}

// writeProblem writes a problem outside huma (panics, unknown routes).
func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	stamp(r.Context(), r.URL.Path, p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// problemForUnmatched answers requests no route matches with a problem
// document rather than the mux's plain text.
func problemForUnmatched(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			status := http.StatusNotFound
			detail := "没有这个地址 (no such path)"
			// The mux knows the path but not the method.
			probe := &statusRecorder{header: http.Header{}}
			mux.ServeHTTP(probe, r)
			if probe.status == http.StatusMethodNotAllowed {
				status, detail = http.StatusMethodNotAllowed, "不支持此方法 (method not allowed)"
				if allow := probe.header.Get("Allow"); allow != "" {
					w.Header().Set("Allow", allow)
				}
			}
			writeProblem(w, r, &Problem{Status: status, Title: http.StatusText(status), Detail: detail})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// statusRecorder captures what the mux would answer for an unmatched request.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusRecorder) WriteHeader(status int)      { s.status = status }
