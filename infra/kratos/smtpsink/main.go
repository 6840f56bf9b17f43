// Command smtpsink is the message sink of the dev and test environment: it accepts every
// e-mail on a loopback SMTP port and every SMS that Kratos's courier posts to a loopback
// HTTP port, and writes each one to a file, never delivering anything.
//
//	smtpsink -dir .dev/mail -smtp 127.0.0.1:1025 -http 127.0.0.1:1026
//
// Messages are numbered in arrival order across both kinds, continuing after the highest
// number already in the folder: <n>.eml for an e-mail (the message as received, after a
// Return-Path and one Delivered-To header per recipient), <n>.sms.json for an SMS (the
// request body as posted). A file appears whole (written aside, then renamed), so a test
// may read any file it sees. GET /healthz on the HTTP port answers 200.
//
// infra/kratos/kratos.sh builds and starts it; only the standard library is used.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	maxMessageBytes = 16 << 20 // larger messages are refused (552)
	maxLineBytes    = 4096     // longest command line (RFC 5321 asks for 512)
	idleTimeout     = 5 * time.Minute
)

func main() {
	dir := flag.String("dir", ".dev/mail", "folder the messages are written to")
	smtpAddr := flag.String("smtp", "127.0.0.1:1025", "SMTP listen address")
	httpAddr := flag.String("http", "127.0.0.1:1026", "HTTP listen address for SMS (POST any path); empty: none")
	flag.Parse()
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	log.SetPrefix("smtpsink: ")

	box, err := openBox(*dir)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *smtpAddr)
	if err != nil {
		log.Fatal(err)
	}
	var hs *http.Server
	if *httpAddr != "" {
		hl, err := net.Listen("tcp", *httpAddr)
		if err != nil {
			log.Fatal(err)
		}
		hs = &http.Server{Handler: box.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := hs.Serve(hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Fatal(err)
			}
		}()
	}
	log.Printf("SMTP on %s, SMS on %q, writing to %s", ln.Addr(), *httpAddr, box.dir)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		ln.Close()
		if hs != nil {
			hs.Close()
		}
	}()
	if err := box.serveSMTP(ln); err != nil && ctx.Err() == nil {
		log.Fatal(err)
	}
}

// box is the folder messages go to and the counter that names them.
type box struct {
	dir string
	mu  sync.Mutex
	n   int
}

func openBox(dir string) (*box, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, err
	}
	b := &box{dir: abs}
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), ".")
		if n, err := strconv.Atoi(num); err == nil && n > b.n {
			b.n = n
		}
	}
	return b, nil
}

// store writes one message as <n><ext> and returns its path.
func (b *box) store(ext string, content []byte) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	name := filepath.Join(b.dir, strconv.Itoa(b.n)+ext)
	tmp, err := os.CreateTemp(b.dir, ".incoming-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return name, os.Rename(tmp.Name(), name)
}

func (b *box) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxMessageBytes))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		name, err := b.store(".sms.json", body)
		if err != nil {
			log.Print(err)
			http.Error(w, "cannot store the message", http.StatusInternalServerError)
			return
		}
		log.Printf("SMS %s stored as %s", r.URL.Path, filepath.Base(name))
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func (b *box) serveSMTP(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return err
		}
		go func() {
			defer c.Close()
			if err := b.session(c); err != nil && !errors.Is(err, io.EOF) {
				log.Printf("%s: %v", c.RemoteAddr(), err)
			}
		}()
	}
}

// session speaks the server side of RFC 5321, without extensions beyond 8BITMIME,
// SMTPUTF8, SIZE and PIPELINING (which needs nothing more than buffered replies), and
// without STARTTLS or AUTH: the sink listens on loopback only.
func (b *box) session(c net.Conn) error {
	r := bufio.NewReaderSize(c, maxLineBytes)
	w := bufio.NewWriter(c)
	reply := func(format string, args ...any) error {
		fmt.Fprintf(w, format+"\r\n", args...)
		if r.Buffered() > 0 { // pipelined commands follow: answer them together
			return nil
		}
		return w.Flush()
	}
	defer w.Flush()

	var from string
	var rcpts []string
	haveFrom := false
	reset := func() { from, rcpts, haveFrom = "", nil, false }

	if err := reply("220 smtpsink ESMTP ready"); err != nil {
		return err
	}
	for {
		c.SetReadDeadline(time.Now().Add(idleTimeout))
		line, err := readLine(r)
		if err != nil {
			if errors.Is(err, errLineTooLong) {
				if err := reply("500 5.5.2 line too long"); err != nil {
					return err
				}
				continue
			}
			return err
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			reset()
			fmt.Fprintf(w, "250-smtpsink greets %s\r\n", arg)
			fmt.Fprintf(w, "250-SIZE %d\r\n", maxMessageBytes)
			fmt.Fprint(w, "250-8BITMIME\r\n250-SMTPUTF8\r\n250-PIPELINING\r\n")
			err = reply("250 HELP")
		case "HELO":
			reset()
			err = reply("250 smtpsink")
		case "MAIL":
			addr, ok := pathArg(arg, "FROM:")
			if !ok {
				err = reply("501 5.5.4 syntax: MAIL FROM:<address>")
				break
			}
			reset()
			from, haveFrom = addr, true
			err = reply("250 2.1.0 ok")
		case "RCPT":
			addr, ok := pathArg(arg, "TO:")
			switch {
			case !haveFrom:
				err = reply("503 5.5.1 MAIL first")
			case !ok || addr == "":
				err = reply("501 5.5.4 syntax: RCPT TO:<address>")
			case len(rcpts) >= 1000:
				err = reply("452 4.5.3 too many recipients")
			default:
				rcpts = append(rcpts, addr)
				err = reply("250 2.1.5 ok")
			}
		case "DATA":
			if len(rcpts) == 0 {
				err = reply("503 5.5.1 RCPT first")
				break
			}
			if err := reply("354 end data with <CR><LF>.<CR><LF>"); err != nil {
				return err
			}
			if err := w.Flush(); err != nil {
				return err
			}
			c.SetReadDeadline(time.Now().Add(idleTimeout))
			data, derr := readData(r)
			switch {
			case errors.Is(derr, errTooBig):
				err = reply("552 5.3.4 message too big")
			case derr != nil:
				return derr
			default:
				name, serr := b.store(".eml", envelope(from, rcpts, data))
				if serr != nil {
					log.Print(serr)
					err = reply("451 4.3.0 cannot store the message")
					break
				}
				log.Printf("mail from <%s> to %s stored as %s", from, strings.Join(rcpts, ", "), filepath.Base(name))
				err = reply("250 2.0.0 ok: stored as %s", filepath.Base(name))
			}
			reset()
		case "RSET":
			reset()
			err = reply("250 2.0.0 ok")
		case "NOOP":
			err = reply("250 2.0.0 ok")
		case "VRFY":
			err = reply("252 2.1.5 cannot verify, will accept")
		case "QUIT":
			reply("221 2.0.0 bye")
			return nil
		default:
			err = reply("502 5.5.1 command not implemented")
		}
		if err != nil {
			return err
		}
	}
}

var (
	errLineTooLong = errors.New("line too long")
	errTooBig      = errors.New("message too big")
)

// readLine reads one CRLF- (or LF-) terminated line without its terminator.
func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) { // drop the rest of the line
			_, err = r.ReadSlice('\n')
		}
		if err != nil {
			return "", err
		}
		return "", errLineTooLong
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// readData reads the DATA section up to the line holding a single dot and undoes dot
// stuffing. Lines end in CRLF in the result. Past maxMessageBytes it keeps reading to the
// end of the section (so the session stays in step) and returns errTooBig.
func readData(r *bufio.Reader) ([]byte, error) {
	var buf bytes.Buffer
	tooBig := false
	bol := true // at the beginning of a line
	for {
		chunk, err := r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
		complete := err == nil // chunk ends the line
		text := chunk
		if complete {
			text = bytes.TrimRight(chunk, "\r\n")
			if bol && len(text) == 1 && text[0] == '.' {
				break
			}
		}
		if bol && len(text) > 0 && text[0] == '.' {
			text = text[1:]
		}
		if !tooBig && buf.Len()+len(text)+2 > maxMessageBytes {
			tooBig = true
			buf = bytes.Buffer{}
		}
		if !tooBig {
			buf.Write(text)
			if complete {
				buf.WriteString("\r\n")
			}
		}
		bol = complete
	}
	if tooBig {
		return nil, errTooBig
	}
	return buf.Bytes(), nil
}

// pathArg parses `FROM:<addr> [params]` or `TO:<addr> [params]`.
func pathArg(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		addr, _, _ := strings.Cut(rest, " ")
		return addr, addr != ""
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}

// envelope puts the envelope in front of the message, as a delivering MTA would.
func envelope(from string, rcpts []string, data []byte) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "Return-Path: <%s>\r\n", from)
	for _, rc := range rcpts {
		fmt.Fprintf(&buf, "Delivered-To: %s\r\n", rc)
	}
	buf.Write(data)
	return buf.Bytes()
}
