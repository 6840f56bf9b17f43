package messages

import (
	"context"
	"errors"
	"fmt"
)

// Channel ids, as settings, templates and deliveries name them.
const (
	ChannelInApp       = "in_app"
	ChannelSMS         = "sms"
	ChannelEmail       = "email"
	ChannelDingTalk    = "dingtalk"
	ChannelPolicePhone = "police_phone"
	ChannelWebhook     = "webhook"
)

// Delivery is what a channel sends: one message to one recipient.
type Delivery struct {
	ID        string
	MessageID string
	Kind      string
	Text      string
	Recipient Recipient
	// Settings are the tenant's, for channels configured per tenant
	// (the webhook's URL and secret).
	Settings Settings
}

// Recipient is whom a delivery goes to, as the records keep it.
type Recipient struct {
	Kind  string `json:"kind" enum:"member,citizen" doc:"接收人类型 (recipient kind)"`
	ID    string `json:"id" doc:"接收人编号 (recipient id)"`
	Name  string `json:"name" doc:"姓名 (name)"`
	Phone string `json:"phone" doc:"手机号 (phone)"`
	Email string `json:"email" doc:"邮箱 (email)"`
}

// Channel sends deliveries one way: SMS, email, a webhook, in-app. Send
// returns nil when the delivery was handed over, a PermanentError when
// trying again cannot help (a 4xx, no address), and any other error when it
// may pass (a 5xx, a timeout), which the messages:deliver task retries.
type Channel interface {
	ID() string
	Send(ctx context.Context, d Delivery) error
}

// PermanentError is a failure that retrying cannot mend.
type PermanentError struct{ Reason string }

func (e *PermanentError) Error() string { return e.Reason }

// permanent returns a PermanentError with a formatted reason.
func permanent(format string, args ...any) error {
	return &PermanentError{Reason: fmt.Sprintf(format, args...)}
}

// isPermanent says whether err is a PermanentError.
func isPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// inApp is the 站内信: the delivery row is the message in the recipient's
// inbox, so handing it over is storing it, which is done.
type inApp struct{}

func (inApp) ID() string                           { return ChannelInApp }
func (inApp) Send(context.Context, Delivery) error { return nil }
