package modules

import (
	"io"
	"net/http"
)

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
