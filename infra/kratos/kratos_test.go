// Package kratos holds no code: its tests check that the Kratos started by kratos.sh works
// with Yamen's configuration and identity schemas — identities through the admin API,
// sessions through the self-service API flows, logout, and codes by SMS and e-mail reaching
// the sink. They run when KRATOS_PUBLIC_URL and KRATOS_ADMIN_URL are set (and
// YAMEN_DEV_MAIL_DIR for the messages), as `eval "$(bash infra/kratos/kratos.sh up)"`
// prints them, and skip otherwise.
package kratos

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

type env struct {
	public, admin, mail string
}

func setup(t *testing.T, needMail bool) env {
	t.Helper()
	e := env{os.Getenv("KRATOS_PUBLIC_URL"), os.Getenv("KRATOS_ADMIN_URL"), os.Getenv("YAMEN_DEV_MAIL_DIR")}
	if e.public == "" || e.admin == "" {
		t.Fatal(`KRATOS_PUBLIC_URL and KRATOS_ADMIN_URL not set: run the tests with make test, which starts Kratos (or eval "$(bash infra/kratos/kratos.sh up)")`)
	}
	if needMail && e.mail == "" {
		t.Fatal(`YAMEN_DEV_MAIL_DIR not set: run the tests with make test, which starts Kratos`)
	}
	return e
}

// call sends body (JSON unless nil) and decodes a JSON answer into a generic value.
func call(t *testing.T, method, url string, body any, header ...string) (int, obj) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s %s: %s: not JSON: %.300s", method, url, res.Status, raw)
		}
	}
	return res.StatusCode, obj{v}
}

// obj walks decoded JSON: o.get("session", "identity", "id").
type obj struct{ v any }

func (o obj) get(path ...string) obj {
	v := o.v
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return obj{v}
}

func (o obj) str() string { s, _ := o.v.(string); return s }

func (o obj) list() []obj {
	l, _ := o.v.([]any)
	out := make([]obj, len(l))
	for i, v := range l {
		out[i] = obj{v}
	}
	return out
}

func (o obj) String() string { b, _ := json.Marshal(o.v); return string(b) }

func randDigits(t *testing.T, n int) string {
	t.Helper()
	var sb strings.Builder
	for range n {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			t.Fatal(err)
		}
		sb.WriteByte(byte('0' + d.Int64()))
	}
	return sb.String()
}

func createIdentity(t *testing.T, e env, body map[string]any) string {
	t.Helper()
	status, id := call(t, "POST", e.admin+"/admin/identities", body)
	if status != http.StatusCreated {
		t.Fatalf("create identity: %d %v", status, id)
	}
	t.Cleanup(func() { call(t, "DELETE", e.admin+"/admin/identities/"+id.get("id").str(), nil) })
	return id.get("id").str()
}

// submit starts an API flow of the given kind and posts body to it, returning the flow's
// action (to post a second step to) and the answer.
func submit(t *testing.T, e env, kind string, body map[string]any) (string, int, obj) {
	t.Helper()
	status, flow := call(t, "GET", e.public+"/self-service/"+kind+"/api", nil)
	if status != http.StatusOK {
		t.Fatalf("create %s flow: %d %v", kind, status, flow)
	}
	action := flow.get("ui", "action").str()
	status, res := call(t, "POST", action, body)
	return action, status, res
}

func whoami(t *testing.T, e env, token string) (int, obj) {
	t.Helper()
	return call(t, "GET", e.public+"/sessions/whoami", nil, "X-Session-Token", token)
}

func TestStaffSignsInAndOut(t *testing.T) {
	e := setup(t, false)
	email := "staff-" + randDigits(t, 12) + "@yamen.test"
	id := createIdentity(t, e, map[string]any{
		"schema_id": "staff",
		"traits": map[string]any{
			"email": email, "phone": "+86139" + randDigits(t, 8), "name": "李四", "badge_number": "012345",
		},
		"credentials": map[string]any{"password": map[string]any{"config": map[string]any{"password": "correct-horse-battery"}}},
	})

	_, status, res := submit(t, e, "login", map[string]any{
		"method": "password", "identifier": email, "password": "wrong-horse-battery",
	})
	if status != http.StatusBadRequest {
		t.Fatalf("login with a wrong password: %d %v", status, res)
	}

	_, status, res = submit(t, e, "login", map[string]any{
		"method": "password", "identifier": email, "password": "correct-horse-battery",
	})
	token := res.get("session_token").str()
	if status != http.StatusOK || token == "" {
		t.Fatalf("login: %d %v", status, res)
	}
	status, sess := whoami(t, e, token)
	if status != http.StatusOK || sess.get("identity", "id").str() != id || sess.get("identity", "schema_id").str() != "staff" {
		t.Fatalf("whoami: %d %v", status, sess)
	}

	status, res = call(t, "DELETE", e.public+"/self-service/logout/api", map[string]any{"session_token": token})
	if status != http.StatusNoContent {
		t.Fatalf("logout: %d %v", status, res)
	}
	if status, sess = whoami(t, e, token); status != http.StatusUnauthorized {
		t.Fatalf("whoami after logout: %d %v", status, sess)
	}
}

func TestCitizenRegistersVerifiesAndSignsInBySMS(t *testing.T) {
	e := setup(t, true)
	phone := "+86138" + randDigits(t, 8)

	_, status, res := submit(t, e, "registration", map[string]any{
		"method":   "password",
		"traits":   map[string]any{"phone": phone, "name": "张三", "id_number": "11010519491231002X"},
		"password": "zhang-san-pass-2026",
	})
	token := res.get("session_token").str()
	if status != http.StatusOK || token == "" {
		t.Fatalf("registration: %d %v", status, res)
	}
	id := res.get("identity", "id").str()
	t.Cleanup(func() { call(t, "DELETE", e.admin+"/admin/identities/"+id, nil) })
	if got := res.get("identity", "schema_id").str(); got != "citizen" {
		t.Errorf("schema_id %q, want citizen (the default)", got)
	}

	// Registration sent a verification code by SMS; enter it in the flow it started.
	var verification string
	for _, c := range res.get("continue_with").list() {
		if c.get("action").str() == "show_verification_ui" {
			verification = c.get("flow", "id").str()
		}
	}
	if verification == "" {
		t.Fatalf("registration did not start a verification flow: %v", res.get("continue_with"))
	}
	sms := waitMessage(t, e, phone, "verification_code_valid")
	code := sms.get("template_data", "verification_code").str()
	status, res = call(t, "POST", e.public+"/self-service/verification?flow="+verification,
		map[string]any{"method": "code", "code": code})
	if status != http.StatusOK || res.get("state").str() != "passed_challenge" {
		t.Fatalf("verification: %d %v", status, res)
	}
	_, sess := whoami(t, e, token)
	if addr := sess.get("identity", "verifiable_addresses").list(); len(addr) != 1 || addr[0].get("verified").v != true {
		t.Errorf("phone not verified: %v", sess.get("identity", "verifiable_addresses"))
	}

	// Sign in with a code sent by SMS.
	action, status, res := submit(t, e, "login", map[string]any{"method": "code", "identifier": phone})
	if status != http.StatusBadRequest || res.get("state").str() != "sent_email" { // Kratos's name for "code sent"
		t.Fatalf("ask for a login code: %d %v", status, res)
	}
	sms = waitMessage(t, e, phone, "login_code_valid")
	status, res = call(t, "POST", action, map[string]any{
		"method": "code", "identifier": phone, "code": sms.get("template_data", "login_code").str(),
	})
	if status != http.StatusOK || res.get("session", "identity", "id").str() != id {
		t.Fatalf("login with the code: %d %v", status, res)
	}
}

func TestCitizenTraitsAreValidated(t *testing.T) {
	e := setup(t, false)
	for name, traits := range map[string]map[string]any{
		"phone without +86": {"phone": "138" + randDigits(t, 8), "name": "张三"},
		"short ID number":   {"phone": "+86137" + randDigits(t, 8), "name": "张三", "id_number": "11010519491231002"},
		"lower-case x":      {"phone": "+86137" + randDigits(t, 8), "name": "张三", "id_number": "11010519491231002x"},
		"no name":           {"phone": "+86137" + randDigits(t, 8)},
	} {
		_, status, res := submit(t, e, "registration", map[string]any{
			"method": "password", "traits": traits, "password": "zhang-san-pass-2026",
		})
		if status != http.StatusBadRequest {
			t.Errorf("%s: %d %v", name, status, res.get("identity"))
		}
	}
}

func TestStaffRecoveryCodeByEmail(t *testing.T) {
	e := setup(t, true)
	email := "staff-" + randDigits(t, 12) + "@yamen.test"
	createIdentity(t, e, map[string]any{
		"schema_id": "staff",
		"traits":    map[string]any{"email": email, "phone": "+86139" + randDigits(t, 8), "name": "王五"},
	})
	_, status, res := submit(t, e, "recovery", map[string]any{"method": "code", "email": email})
	if status != http.StatusOK || res.get("state").str() != "sent_email" {
		t.Fatalf("recovery: %d %v", status, res)
	}
	mail := waitMessage(t, e, email, "")
	if !regexp.MustCompile(`(?m)^\d{6}\r?$`).MatchString(mail.str()) {
		t.Errorf("no recovery code in the mail:\n%s", mail.str())
	}
}

// waitMessage waits for the sink to store a message to recipient: an SMS (decoded JSON,
// of the given template type) for a phone number, an e-mail (its text) otherwise. The
// recipients are random, so messages of other tests or earlier runs do not match.
func waitMessage(t *testing.T, e env, recipient, templateType string) obj {
	t.Helper()
	sms := strings.HasPrefix(recipient, "+")
	deadline := time.Now().Add(15 * time.Second) // the courier polls every second
	for {
		files, _ := filepath.Glob(filepath.Join(e.mail, "*"))
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			switch {
			case sms && strings.HasSuffix(f, ".sms.json"):
				var v any
				if json.Unmarshal(raw, &v) == nil {
					o := obj{v}
					if o.get("to").str() == recipient && o.get("template_type").str() == templateType {
						return o
					}
				}
			case !sms && strings.HasSuffix(f, ".eml"):
				if bytes.Contains(raw, []byte("\r\nDelivered-To: "+recipient+"\r\n")) {
					return obj{string(raw)}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message to %s (%s) in %s", recipient, templateType, e.mail)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
