package messages

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/textproto"
	"time"
)

// email sends through the jurisdiction's SMTP relay (YAMEN_SMTP_ADDR), as
// YAMEN_SMTP_FROM. The relay accepts mail from the service without
// authentication, as relays inside a government network do.
type email struct {
	addr, from string
}

func newEmail(addr, from string) email {
	if from == "" {
		from = "yamen@localhost"
	}
	return email{addr: addr, from: from}
}

func (email) ID() string { return ChannelEmail }

func (e email) Send(ctx context.Context, d Delivery) error {
	if e.addr == "" {
		return permanent("未配置邮件服务器 YAMEN_SMTP_ADDR (no SMTP server configured)")
	}
	if d.Recipient.Email == "" {
		return permanent("接收人没有邮箱 (the recipient has no email address)")
	}
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\nMessage-ID: <%s@yamen>\r\n\r\n",
		e.from, d.Recipient.Email, mime.BEncoding.Encode("UTF-8", subjectOf(d.Text)), time.Now().Format(time.RFC1123Z), d.ID)
	msg.WriteString(d.Text)
	msg.WriteString("\r\n")
	// net/smtp.SendMail has no context; a deadline on the connection bounds it.
	err := sendMail(ctx, e.addr, e.from, d.Recipient.Email, msg.Bytes())
	var tp *textproto.Error
	if errors.As(err, &tp) && tp.Code >= 500 {
		return permanent("邮件服务器拒收 (the SMTP server refused): %d %s", tp.Code, tp.Msg)
	}
	if err != nil {
		return fmt.Errorf("smtp %s: %w", e.addr, err)
	}
	return nil
}

func sendMail(ctx context.Context, addr, from, to string, msg []byte) error {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	_ = conn.SetDeadline(deadline)
	host, _, _ := net.SplitHostPort(addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// subjectOf is the first line of text, cut short: the mail's subject.
func subjectOf(text string) string {
	r := []rune(text)
	for i, c := range r {
		if c == '\n' {
			r = r[:i]
			break
		}
	}
	if len(r) > 40 {
		r = append(r[:40], '…')
	}
	return string(r)
}
