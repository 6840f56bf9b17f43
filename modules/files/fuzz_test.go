package files

import (
	"bytes"
	"mime"
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

var nameSeeds = []string{
	"现场照片.jpg", "合同 (盖章版).pdf", "report.final.v2.pdf", "👨‍👩‍👧 family.png", "Ŝ̌ample.png", "e\u0301.png",
	"../../etc/passwd", "..", ".", "/abs.png", `C:\Windows\x.png`, "a/b", "x.png\x00.exe", "a\nb", "\x1b[31mred",
	"\u202egnp.exe", "\ufeffbom.png", strings.Repeat("a", 255), strings.Repeat("长", 85), strings.Repeat("长", 86),
	"CON", "con.txt", "Nul .png", "COM1", "com¹.txt", "LPT9.log", "CONIN$", "x.", "x ", " x", ".env", "a:b", "a|b",
	"\xc0\xaf.png", "\xed\xa0\x80.png", "\uf8ff.png", "\ufffd.png", "",
}

func TestCheckName(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"现场照片.jpg", "合同 (盖章版).pdf", "report.final.v2.pdf", "👨‍👩‍👧 family.png", "CONSOLE.txt",
		"COM10.txt", "a..b.pdf", strings.Repeat("a", 255), strings.Repeat("长", 85)} {
		got, why := CheckName(ok)
		require.Empty(t, why, "%q", ok)
		require.Equal(t, ok, got)
	}
	got, why := CheckName("e\u0301.png")
	require.Empty(t, why)
	require.Equal(t, "\u00e9.png", got, "names are kept in NFC")
	for _, bad := range []string{"../../etc/passwd", "..", ".", "a/b", `a\b`, "x\x00", "a\nb", "\u202egnp.exe", "\ufeffx",
		strings.Repeat("a", 256), strings.Repeat("长", 86), "CON", "con.txt", "Nul .png", "COM1", "com¹.txt", "LPT0",
		"CONOUT$", "x.", "x ", " x", ".env", "a:b", "\xc0\xaf", "\ufffd", "\uf8ff", ""} {
		_, why := CheckName(bad)
		require.NotEmpty(t, why, "%q was accepted", bad)
		require.Contains(t, why, "(", "Chinese first, English in parentheses")
	}
}

// FuzzCheckName: whatever it accepts is safe to offer back as a download's
// name on any system, and survives the trip through Content-Disposition.
func FuzzCheckName(f *testing.F) {
	for _, s := range nameSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got, why := CheckName(name)
		if why != "" {
			if got != "" {
				t.Fatalf("refused %q but returned %q", name, got)
			}
			return
		}
		if !utf8.ValidString(got) || got == "" || len(got) > MaxNameBytes {
			t.Fatalf("accepted %q as %q: invalid UTF-8, empty or too long", name, got)
		}
		if got != norm.NFC.String(name) {
			t.Fatalf("accepted %q as %q, not its NFC form", name, got)
		}
		if strings.ContainsAny(got, "/\\\x00:") || strings.HasPrefix(got, ".") || strings.HasSuffix(got, ".") || got == ".." {
			t.Fatalf("accepted %q: path trick", got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || r == '\u202e' || r == '\u2066' || r == '\ufeff' {
				t.Fatalf("accepted %q: control or bidi character %U", got, r)
			}
		}
		if windowsReserved(got) {
			t.Fatalf("accepted %q: a Windows device name", got)
		}
		if again, why := CheckName(got); why != "" || again != got {
			t.Fatalf("not idempotent: %q -> %q (%s)", got, again, why)
		}
		disp := disposition(got)
		typ, params, err := mime.ParseMediaType(disp)
		if err != nil || typ != "attachment" || params["filename"] != got {
			t.Fatalf("Content-Disposition %q does not carry %q back (%v, %q)", disp, got, err, params["filename"])
		}
		if strings.ContainsAny(disp, "\r\n") {
			t.Fatalf("Content-Disposition %q breaks the header", disp)
		}
	})
}

var sniffSeeds = [][]byte{
	nil, {}, []byte("%PDF-1.7\n"), []byte("%PDF"), []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01"),
	[]byte("\x89PNG\r\n\x1a\n<html>"), []byte("\xff\xd8\xff\xe0\x00\x10JFIF"), []byte("\xff\xd8\xff\x00"), []byte("\xff\xd8\xff"),
	[]byte("<!DOCTYPE html><script>alert(1)</script>"), []byte("   <html>"), []byte("GIF89a"), []byte("RIFF\x00\x00\x00\x00WEBPVP8 "),
	[]byte("PK\x03\x04"), []byte("\xef\xbb\xbfhello"), []byte("%!PS-Adobe"), bytes.Repeat([]byte{0}, 600),
	append(bytes.Repeat([]byte(" "), 511), []byte("%PDF-")...),
}

// FuzzSniff: the decision is a bare media type, depends only on the first
// 512 bytes, and never calls an image or a PDF what lacks its signature.
func FuzzSniff(f *testing.F) {
	for _, s := range sniffSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := Sniff(b)
		if got == "" || strings.ContainsAny(got, "; ") || !strings.Contains(got, "/") {
			t.Fatalf("Sniff(%q) = %q: not a bare media type", b, got)
		}
		if mt, _, err := mime.ParseMediaType(got); err != nil || mt != got {
			t.Fatalf("Sniff(%q) = %q does not parse as a media type", b, got)
		}
		if len(b) > SniffBytes {
			if head := Sniff(b[:SniffBytes]); head != got {
				t.Fatalf("Sniff looked past %d bytes: %q vs %q", SniffBytes, got, head)
			}
			if tail := Sniff(append(bytes.Clone(b[:SniffBytes]), 'x')); tail != got {
				t.Fatalf("Sniff depends on byte %d", SniffBytes)
			}
		}
		switch got {
		case "application/pdf":
			if !bytes.HasPrefix(b, []byte("%PDF-")) {
				t.Fatalf("PDF without %%PDF- at 0: %q", b)
			}
		case "image/png":
			if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")) {
				t.Fatalf("PNG without signature and IHDR: %q", b)
			}
		case "image/jpeg":
			if !bytes.HasPrefix(b, []byte("\xff\xd8\xff")) || len(b) < 4 || b[3] == 0 {
				t.Fatalf("JPEG without SOI and a marker: %q", b)
			}
		}
		// Where it is not stricter, it agrees with the browsers' algorithm.
		if std, _, _ := strings.Cut(http.DetectContentType(b), ";"); got != std && got != "application/octet-stream" {
			t.Fatalf("Sniff(%q) = %q, DetectContentType says %q", b, got, std)
		}
	})
}
