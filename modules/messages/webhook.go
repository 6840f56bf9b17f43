package messages

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
)

// SignatureHeader carries the HMAC-SHA256 of a webhook's body, keyed with
// the tenant's webhook_secret: "sha256=<hex>".
const SignatureHeader = "X-Yamen-Signature"

// webhook posts each delivery as JSON to the tenant's webhook_url, signed
// so the receiver can tell it came from the service.
type webhook struct{ client *http.Client }

func (webhook) ID() string { return ChannelWebhook }

// WebhookBody is what the webhook channel posts.
type WebhookBody struct {
	DeliveryID string    `json:"delivery_id"`
	MessageID  string    `json:"message_id"`
	Kind       string    `json:"kind"`
	Text       string    `json:"text"`
	Recipient  Recipient `json:"recipient"`
}

func (w webhook) Send(ctx context.Context, d Delivery) error {
	if len(d.Settings.Webhooks) == 0 {
		return permanent("未设置回调地址 webhooks (no webhook receiver in the settings)")
	}
	body, err := json.Marshal(WebhookBody{DeliveryID: d.ID, MessageID: d.MessageID, Kind: d.Kind, Text: d.Text, Recipient: d.Recipient})
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	h := http.Header{}
	h.Set(SignatureHeader, Sign(d.Settings.Webhooks[0].Secret, body))
	return postJSON(ctx, w.client, d.Settings.Webhooks[0].URL, body, h)
}

// Sign returns the signature header's value for body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
