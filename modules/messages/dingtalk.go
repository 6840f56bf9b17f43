package messages

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// DingTalkRobot is a DingTalk (钉钉/浙政钉) group robot: its webhook URL,
// with the access_token, and the secret of its 加签 security setting.
type DingTalkRobot struct {
	URL    string `json:"url" minLength:"1" maxLength:"2000" doc:"机器人 Webhook 地址，含 access_token (the robot's webhook URL, access_token included)"`
	Secret string `json:"secret" required:"false" maxLength:"200" doc:"加签密钥 SEC…，空为不加签 (the signing secret, SEC…; empty when the robot does not sign)"`
}

// dingTalk posts each delivery to the tenant's group robot as a text
// message that @-mentions the recipient by phone.
type dingTalk struct{ client *http.Client }

func (dingTalk) ID() string { return ChannelDingTalk }

func (c dingTalk) Send(ctx context.Context, d Delivery) error {
	if len(d.Settings.DingTalkRobots) == 0 {
		return permanent("未设置钉钉机器人 dingtalk_robots (no DingTalk robot in the settings)")
	}
	robot := d.Settings.DingTalkRobots[0]
	target, err := url.Parse(robot.URL)
	if err != nil {
		return permanent("钉钉机器人地址无效 (bad robot URL): %v", err)
	}
	if robot.Secret != "" {
		ts, sign := DingTalkSign(robot.Secret, time.Now())
		q := target.Query()
		q.Set("timestamp", ts)
		q.Set("sign", sign)
		target.RawQuery = q.Encode()
	}
	msg := map[string]any{"msgtype": "text", "text": map[string]string{"content": d.Text}}
	if d.Recipient.Phone != "" {
		msg["at"] = map[string]any{"atMobiles": []string{d.Recipient.Phone}}
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("dingtalk: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return permanent("钉钉机器人地址无效 (bad robot URL): %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("dingtalk %s: %w", target.Host, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return fmt.Errorf("dingtalk: HTTP %d", resp.StatusCode)
	}
	if resp.StatusCode >= 300 {
		return permanent("钉钉拒收 (DingTalk refused): HTTP %d", resp.StatusCode)
	}
	// DingTalk answers 200 with its verdict inside.
	var verdict struct {
		Code    int    `json:"errcode"`
		Message string `json:"errmsg"`
	}
	if err := json.Unmarshal(raw, &verdict); err != nil {
		return fmt.Errorf("dingtalk: unreadable answer: %w", err)
	}
	switch verdict.Code {
	case 0:
		return nil
	case dingTalkTooFast:
		return fmt.Errorf("dingtalk: %d %s", verdict.Code, verdict.Message)
	default:
		return permanent("钉钉拒收 (DingTalk refused): %d %s", verdict.Code, verdict.Message)
	}
}

// dingTalkTooFast is DingTalk's errcode for a robot over its rate (20 a
// minute): worth retrying later.
const dingTalkTooFast = 130101

// DingTalkSign returns the timestamp and sign query parameters of a signed
// robot call: base64 of HMAC-SHA256 over "<ms timestamp>\n<secret>", keyed
// with the secret.
func DingTalkSign(secret string, at time.Time) (timestamp, sign string) {
	timestamp = strconv.FormatInt(at.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "\n" + secret))
	return timestamp, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
