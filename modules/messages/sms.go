package messages

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

// SMSProvider sends a text message to a phone.
type SMSProvider interface {
	SendSMS(ctx context.Context, phone, text string) error
}

// sms is the SMS channel over an SMSProvider.
type sms struct{ provider SMSProvider }

func newSMS(url string, client *http.Client, log *slog.Logger) sms {
	if url == "" {
		return sms{provider: logSMS{log: log}}
	}
	return sms{provider: HTTPSMS{URL: url, Client: client}}
}

func (sms) ID() string { return ChannelSMS }

func (s sms) Send(ctx context.Context, d Delivery) error {
	if d.Recipient.Phone == "" {
		return permanent("接收人没有手机号 (the recipient has no phone number)")
	}
	return s.provider.SendSMS(withDeliveryID(ctx, d.ID), d.Recipient.Phone, d.Text)
}

// HTTPSMS posts {"phone", "text"} as JSON to a gateway: 2xx is sent, 4xx a
// permanent failure, anything else worth retrying.
type HTTPSMS struct {
	URL    string
	Client *http.Client
}

// SendSMS implements SMSProvider.
func (h HTTPSMS) SendSMS(ctx context.Context, phone, text string) error {
	body, err := json.Marshal(map[string]string{"phone": phone, "text": text})
	if err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	var header http.Header
	if id := DeliveryIDFrom(ctx); id != "" {
		// A delivery sent again after a crash between the gateway's answer
		// and the commit carries the same key, for the gateway to drop.
		header = http.Header{IdempotencyHeader: {id}}
	}
	return postJSON(ctx, h.Client, h.URL, body, header)
}

// logSMS is the development provider: it logs what it would send.
type logSMS struct{ log *slog.Logger }

func (l logSMS) SendSMS(ctx context.Context, phone, text string) error {
	l.log.InfoContext(ctx, "messages: SMS (YAMEN_SMS_URL is empty, so only logged)", "phone", phone, "text", text)
	return nil
}

// postJSON posts body and sorts the answer into sent, permanent failure
// (4xx) and failure worth retrying.
func postJSON(ctx context.Context, client *http.Client, url string, body []byte, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return permanent("地址无效 (bad URL): %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("post %s: %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout:
		return permanent("对方拒收 (refused): HTTP %d %s", resp.StatusCode, bytes.TrimSpace(snippet))
	default:
		return fmt.Errorf("HTTP %d %s", resp.StatusCode, bytes.TrimSpace(snippet))
	}
}
