package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSinkStoresMailAndSMS(t *testing.T) {
	dir := t.TempDir()
	// Numbering continues after what is already there.
	if err := os.WriteFile(filepath.Join(dir, "7.eml"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := openBox(dir)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go b.serveSMTP(ln)

	body := "From: 衙门 <no-reply@yamen.localhost>\r\n" +
		"To: a@example.com\r\n" +
		"Subject: test\r\n" +
		"\r\n" +
		"您的验证码是 123456\r\n" +
		".a line that starts with a dot\r\n" +
		"..two dots\r\n" +
		"last line"
	err = smtp.SendMail(ln.Addr().String(), nil, "no-reply@yamen.localhost",
		[]string{"a@example.com", "b@example.com"}, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "8.eml"))
	if err != nil {
		t.Fatal(err)
	}
	want := "Return-Path: <no-reply@yamen.localhost>\r\n" +
		"Delivered-To: a@example.com\r\n" +
		"Delivered-To: b@example.com\r\n" +
		body + "\r\n"
	if string(got) != want {
		t.Errorf("stored mail:\n%q\nwant:\n%q", got, want)
	}

	srv := httptest.NewServer(b.httpHandler())
	defer srv.Close()
	res, err := http.Post(srv.URL+"/sms", "application/json", strings.NewReader(`{"to":"+8613800138000","body":"123456"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /sms: %s", res.Status)
	}
	got, err = os.ReadFile(filepath.Join(dir, "9.sms.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"to":"+8613800138000","body":"123456"}` {
		t.Errorf("stored SMS: %s", got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".incoming-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestSessionRejectsOutOfOrderCommands(t *testing.T) {
	b, err := openBox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	client, server := net.Pipe()
	go b.session(server)
	defer client.Close()
	buf := make([]byte, 512)
	read := func() string {
		n, err := client.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	send := func(s string) string {
		if _, err := client.Write([]byte(s + "\r\n")); err != nil {
			t.Fatal(err)
		}
		return read()
	}
	read() // greeting
	for cmd, code := range map[string]string{
		"RCPT TO:<a@example.com>": "503",
		"DATA":                    "503",
		"MAIL <x>":                "501",
		"STARTTLS":                "502",
	} {
		if got := send(cmd); !strings.HasPrefix(got, code) {
			t.Errorf("%s: got %q, want %s", cmd, got, code)
		}
	}
}
