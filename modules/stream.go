package modules

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// StreamHeartbeat is how often an event stream writes a comment to keep
// proxies from closing an idle connection.
const StreamHeartbeat = 15 * time.Second

// Flush sends what a stream (Server-Sent Events) has written so far to the
// client, through whatever wraps the writer: the API's access log unwraps to
// the server's http.ResponseWriter.
func Flush(w io.Writer) error {
	switch w := w.(type) {
	case http.ResponseWriter:
		return http.NewResponseController(w).Flush()
	case http.Flusher:
		w.Flush()
	}
	return nil
}

// ServeEvents answers with a stream of Server-Sent Events: a comment that
// says it is connected, the backlog (what the client missed while away),
// then each event from events as it comes, those waiting together in one
// flush, and a heartbeat every StreamHeartbeat, until the client goes or a
// write fails. write writes one event; ServeEvents flushes.
func ServeEvents[E any](hctx huma.Context, backlog []E, events <-chan E, write func(w io.Writer, e E) error) {
	hctx.SetHeader("Content-Type", "text/event-stream")
	hctx.SetHeader("Cache-Control", "no-cache")
	hctx.SetHeader("X-Accel-Buffering", "no")
	hctx.SetStatus(http.StatusOK)
	w := hctx.BodyWriter()
	if _, err := fmt.Fprint(w, ": connected\nretry: 3000\n\n"); err != nil {
		return
	}
	for _, e := range backlog {
		if write(w, e) != nil {
			return
		}
	}
	if Flush(w) != nil {
		return
	}
	ctx := hctx.Context()
	tick := time.NewTicker(StreamHeartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil || Flush(w) != nil {
				return
			}
		case e := <-events:
			if write(w, e) != nil {
				return
			}
			// Whatever else is waiting goes out in the same flush.
		more:
			for {
				select {
				case e := <-events:
					if write(w, e) != nil {
						return
					}
				default:
					break more
				}
			}
			if Flush(w) != nil {
				return
			}
		}
	}
}
