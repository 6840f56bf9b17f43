package files

import (
	"bytes"
	"net/http"
	"strings"
)

// SniffBytes is how much of a file's beginning Sniff looks at; the check
// fetches just this much from storage with a Range GET.
const SniffBytes = 512

// Sniff decides a file's content type from its first bytes, the way
// browsers do (http.DetectContentType, the WHATWG MIME sniffing
// algorithm), without parameters: "text/plain; charset=utf-8" becomes
// "text/plain". Only the first SniffBytes bytes count. What the uploader
// declared and what the name says play no part.
//
// It is stricter than DetectContentType for the images purposes accept: a
// PNG needs its IHDR chunk right after the signature and a JPEG a marker
// after its start-of-image bytes, as every real encoder writes them; a
// few magic bytes stuck in front of something else are
// application/octet-stream. A PDF needs "%PDF-" at offset 0.
func Sniff(head []byte) string {
	if len(head) > SniffBytes {
		head = head[:SniffBytes]
	}
	t := http.DetectContentType(head)
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	switch t {
	case "image/png":
		// The signature must be followed by the IHDR chunk (length 13).
		if len(head) < 16 || !bytes.Equal(head[8:16], []byte("\x00\x00\x00\x0dIHDR")) {
			return "application/octet-stream"
		}
	case "image/jpeg":
		// FF D8 FF, then a marker byte; FF D8 FF FF is padding, FF D8 FF 00 is not a marker.
		if len(head) < 4 || head[3] == 0x00 {
			return "application/octet-stream"
		}
	}
	return t
}
