package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/api"
	"yamen/modules"
	"yamen/modules/builtin"
	"yamen/modules/files/filestest"
	"yamen/modules/messages"
	"yamen/tenants"
	"yamen/worker"
	"yamen/worker/workertest"
)

// The messages module through the real API and PostgreSQL, with a real SMTP
// server and an SMS gateway and webhook receiver on loopback. The worker's
// part is played by runDue, which does what the relay and the worker do:
// claims the due messages:deliver rows of the outbox and runs the handler
// in a transaction of the tenant.

// smtpServer is a minimal SMTP server on loopback: it keeps every message
// and refuses the recipients in refuse with 550.
type smtpServer struct {
	addr   string
	mu     sync.Mutex
	mails  []mail
	refuse map[string]bool
}

type mail struct {
	from, to string
	data     string
}

func startSMTP(t testing.TB, refuse ...string) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	s := &smtpServer{addr: ln.Addr().String(), refuse: map[string]bool{}}
	for _, r := range refuse {
		s.refuse[r] = true
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	_ = tp.PrintfLine("220 yamen-test ESMTP")
	var cur mail
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			_ = tp.PrintfLine("250 yamen-test")
		case "MAIL":
			cur = mail{from: addrOf(arg)}
			_ = tp.PrintfLine("250 ok")
		case "RCPT":
			to := addrOf(arg)
			if s.refuse[to] {
				_ = tp.PrintfLine("550 no such mailbox")
				continue
			}
			cur.to = to
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 go ahead")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			cur.data = string(data)
			s.mu.Lock()
			s.mails = append(s.mails, cur)
			s.mu.Unlock()
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("250 ok")
		}
	}
}

func addrOf(arg string) string {
	_, a, _ := strings.Cut(arg, ":")
	return strings.Trim(strings.TrimSpace(a), "<>")
}

func (s *smtpServer) received() []mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mail(nil), s.mails...)
}

// gateway plays the SMS gateway and the webhook receiver: it answers with
// status (200 unless set) and keeps what it was sent.
type gateway struct {
	*httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	bodies []map[string]any
	sigs   []string
	raws   [][]byte
}

func startGateway(t testing.TB) *gateway {
	t.Helper()
	g := &gateway{}
	g.status.Store(http.StatusOK)
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		status := int(g.status.Load())
		if status == http.StatusOK {
			var b map[string]any
			_ = json.Unmarshal(raw, &b)
			g.mu.Lock()
			g.bodies = append(g.bodies, b)
			g.sigs = append(g.sigs, r.Header.Get(messages.SignatureHeader))
			g.raws = append(g.raws, raw)
			g.mu.Unlock()
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, http.StatusText(status))
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *gateway) received() []map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]map[string]any(nil), g.bodies...)
}

// messagesSetup is setup with the messages module's SMTP server and SMS
// gateway set; it returns the module too, for runDue.
func messagesSetup(t testing.TB, smtpAddr, smsURL string, opts ...messages.Option) (*bundle, *messages.Module) {
	b, m, _ := messagesRegistry(t, smtpAddr, smsURL, opts...)
	return b, m
}

// messagesRegistry is messagesSetup returning the registry too, for a
// worker; opts configure the messages module.
func messagesRegistry(t testing.TB, smtpAddr, smsURL string, opts ...messages.Option) (*bundle, *messages.Module, *modules.Registry) {
	t.Helper()
	b := setup(t)
	mods := builtin.Modules()
	for i, m := range mods {
		if _, ok := m.(*messages.Module); ok {
			mods[i] = messages.New(opts...)
		}
	}
	reg, err := modules.NewRegistry(mods...)
	require.NoError(t, err)
	env := filestest.Env(t, b.db.Pool)
	env.Setting = func(name string) string {
		switch name {
		case messages.SettingSMTPAddr:
			return smtpAddr
		case messages.SettingSMSURL:
			return smsURL
		}
		return filestest.Setting(name)
	}
	require.NoError(t, reg.Provision(context.Background(), env))
	t.Cleanup(func() { _ = reg.Cleanup() })
	srv, err := api.New(api.Config{DB: b.db, Registry: reg, Sessions: testSessions(t)})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	b.url = ts.URL
	for _, m := range reg.All() {
		if mm, ok := m.(*messages.Module); ok {
			return b, mm, reg
		}
	}
	t.Fatal("no messages module in the registry")
	return nil, nil, nil
}

// runDue runs every messages:deliver task of the tenant that is due, as
// the relay and the worker would, until none is left; it returns how many
// ran.
func runDue(t testing.TB, b *bundle, m *messages.Module, tenant tenants.Tenant) int {
	t.Helper()
	ctx := context.Background()
	var handle func(context.Context, *tenants.Tx, []byte) error
	for _, task := range m.Tasks() {
		if task.Type == messages.TaskDeliver {
			handle = task.Handle
		}
	}
	require.NotNil(t, handle)
	ran := 0
	for {
		var payloads [][]byte
		err := b.db.Tx(ctx, tenant.ID, "system", func(tx *tenants.Tx) error {
			rows, err := tx.Query(ctx, `UPDATE outbox SET enqueued_at = now()
				WHERE task_type = $1 AND enqueued_at IS NULL AND run_at <= now() RETURNING payload::text`, messages.TaskDeliver)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var p string
				if err := rows.Scan(&p); err != nil {
					return err
				}
				payloads = append(payloads, []byte(p))
			}
			return rows.Err()
		})
		require.NoError(t, err)
		if len(payloads) == 0 {
			return ran
		}
		for _, p := range payloads {
			require.NoError(t, b.db.Tx(ctx, tenant.ID, "system", func(tx *tenants.Tx) error { return handle(ctx, tx, p) }))
			ran++
		}
	}
}

// fastForward makes every waiting messages:deliver task of the tenant due
// now: the retry backoff and the rate limit's next minute, passed.
func fastForward(t testing.TB, b *bundle, tenant tenants.Tenant) int64 {
	t.Helper()
	var n int64
	err := b.db.Tx(context.Background(), tenant.ID, "system", func(tx *tenants.Tx) error {
		tag, err := tx.Exec(context.Background(), `UPDATE outbox SET run_at = now() WHERE task_type = $1 AND enqueued_at IS NULL`, messages.TaskDeliver)
		n = tag.RowsAffected()
		return err
	})
	require.NoError(t, err)
	return n
}

// people is a small tenant: the root org with a child, three members
// (two in the child, one holding a role) and an inactive one.
type people struct {
	base, key       string
	root, child     string
	role            string
	zhang, li, wang string
	inactive        string
}

func makePeople(t testing.TB, b *bundle, key, base string) people {
	t.Helper()
	p := people{base: base, key: key}
	p.root = b.do(t, "GET", base+"/orgs", key, nil).list(t)[0]["id"].(string)
	r := b.do(t, "POST", base+"/orgs", key, map[string]any{"parent_id": p.root, "code": "pcs", "name": "城关派出所", "kind": "station"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	p.child = r.json(t)["id"].(string)
	r = b.do(t, "POST", base+"/roles", key, map[string]any{"name": "值班长", "permissions": []string{"messages:read"}, "data_scope": "org"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	p.role = r.json(t)["id"].(string)
	member := func(org, name, phone, email string, roles ...string) string {
		body := map[string]any{"org_id": org, "name": name, "phone": phone, "email": email}
		if len(roles) > 0 {
			body["role_ids"] = roles
		}
		r := b.do(t, "POST", base+"/members", key, body)
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		return r.json(t)["id"].(string)
	}
	p.zhang = member(p.root, "张三", "13800000001", "zhang@example.cn", p.role)
	p.li = member(p.child, "李四", "13800000002", "li@example.cn")
	p.wang = member(p.child, "王五", "13800000003", "wang@example.cn")
	p.inactive = member(p.child, "赵六", "13800000004", "zhao@example.cn")
	r = b.do(t, "PATCH", base+"/members/"+p.inactive, key, map[string]any{"status": "inactive"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	return p
}

func (p people) settings(t testing.TB, b *bundle, s map[string]any) {
	t.Helper()
	r := b.do(t, "PUT", p.base+"/modules/messages/settings", p.key, s)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
}

func (p people) deliveries(t testing.TB, b *bundle, query string) []map[string]any {
	t.Helper()
	r := b.do(t, "GET", p.base+"/messages/deliveries?"+query, p.key, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	return r.list(t)
}

func TestMessageTemplates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, key := b.tenant(t, tenants.KindAffairsHall)
	base := "/v1/t/" + tn.Slug + "/messages/templates"

	r := b.do(t, "POST", base, key, map[string]any{"code": "booking.reminder", "name": "预约提醒",
		"text": "{name}您好，您预约的{item}将于{date}办理。", "variables": []string{"name", "item"}, "channels": []string{"sms"}})
	p := requireProblem(t, r, http.StatusUnprocessableEntity)
	require.Equal(t, []string{"body.text"}, r.locations(t))
	require.Contains(t, string(r.body), "{date}", p)

	r = b.do(t, "POST", base, key, map[string]any{"code": "booking.reminder", "name": "预约提醒",
		"text": "{name}您好，您预约的{item}将于{date}办理。", "variables": []string{"name", "item", "date"}, "channels": []string{"sms", "fax"}})
	requireProblem(t, r, http.StatusUnprocessableEntity)
	require.Equal(t, []string{"body.channels[1]"}, r.locations(t))

	r = b.do(t, "POST", base, key, map[string]any{"code": "booking.reminder", "name": "预约提醒",
		"text": "{name}您好，您预约的{item}将于{date}办理。", "variables": []string{"name", "item", "date"}, "channels": []string{"sms"}})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	tpl := r.json(t)
	id := tpl["id"].(string)

	requireProblem(t, b.do(t, "POST", base, key, map[string]any{"code": "booking.reminder", "name": "x", "text": "x"}), http.StatusConflict)

	r = b.do(t, "PUT", base+"/"+id, key, map[string]any{"code": "booking.reminder", "name": "预约提醒", "text": "{who}您好"})
	requireProblem(t, r, http.StatusUnprocessableEntity)
	require.Equal(t, []string{"body.text"}, r.locations(t))
	r = b.do(t, "PUT", base+"/"+id, key, map[string]any{"code": "booking.reminder", "name": "预约提醒", "text": "{name}您好", "variables": []string{"name"}})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "{name}您好", r.json(t)["text"])

	list := b.do(t, "GET", base, key, nil).list(t)
	require.Len(t, list, 1)
	r = b.do(t, "GET", base+"/"+id, key, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, []any{"name"}, r.json(t)["variables"])

	other, otherKey := b.tenant(t, tenants.KindAffairsHall)
	requireProblem(t, b.do(t, "GET", "/v1/t/"+other.Slug+"/messages/templates/"+id, otherKey, nil), http.StatusNotFound)

	require.Equal(t, http.StatusNoContent, b.do(t, "DELETE", base+"/"+id, key, nil).status)
	requireProblem(t, b.do(t, "GET", base+"/"+id, key, nil), http.StatusNotFound)
	audit := b.do(t, "GET", "/v1/t/"+tn.Slug+"/audit?action=message_template.*", key, nil).list(t)
	require.Len(t, audit, 3, "create, update and delete are audited")
}

func TestMessageSendAndDeliver(t *testing.T) {
	t.Parallel()
	smtp := startSMTP(t, "wang@example.cn")
	sms := startGateway(t)
	hook := startGateway(t)
	b, m := messagesSetup(t, smtp.addr, sms.URL)
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	p := makePeople(t, b, key, base)
	p.settings(t, b, map[string]any{"channels": []string{"in_app", "sms", "email", "webhook"}, "webhooks": []any{map[string]any{"url": hook.URL, "secret": "s3cret"}}})

	r := b.do(t, "POST", base+"/messages/templates", key, map[string]any{"code": "duty.notice", "name": "值班通知",
		"text": "{name}：今晚{time}值班。", "variables": []string{"name", "time"}, "channels": []string{"sms", "email", "in_app"}})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))

	r = b.do(t, "POST", base+"/messages/send", key, map[string]any{"template": "duty.notice", "variables": map[string]string{"name": "各位"}, "recipients": map[string]any{"orgs": []string{p.child}}})
	requireProblem(t, r, http.StatusUnprocessableEntity)
	require.Equal(t, []string{"body.variables"}, r.locations(t))
	r = b.do(t, "POST", base+"/messages/send", key, map[string]any{"text": "x", "channels": []string{"sms"}, "recipients": map[string]any{"members": []string{p.inactive}}})
	requireProblem(t, r, http.StatusUnprocessableEntity)
	require.Equal(t, []string{"body.recipients"}, r.locations(t))
	r = b.do(t, "POST", base+"/messages/send", key, map[string]any{"text": "x", "channels": []string{"dingtalk"}, "recipients": map[string]any{"members": []string{p.zhang, p.root}}})
	requireProblem(t, r, http.StatusUnprocessableEntity)
	require.ElementsMatch(t, []string{"body.channels[0]", "body.recipients.members[1]"}, r.locations(t))

	// The child org (李四, 王五; 赵六 is inactive) and the holder of the role
	// (张三), on the template's three channels.
	send := map[string]any{"template": "duty.notice", "variables": map[string]string{"name": "各位", "time": "20:00"},
		"recipients": map[string]any{"orgs": []string{p.child}, "roles": []string{p.role}, "members": []string{p.li}}, "sender_org_id": p.child}
	req, _ := json.Marshal(send)
	post := func() reply {
		hreq, err := http.NewRequest("POST", b.url+base+"/messages/send", strings.NewReader(string(req)))
		require.NoError(t, err)
		hreq.Header.Set("Content-Type", "application/json")
		hreq.Header.Set("Authorization", "Bearer "+key)
		hreq.Header.Set("Idempotency-Key", "duty-2026-11-22")
		resp, err := http.DefaultClient.Do(hreq)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return reply{status: resp.StatusCode, header: resp.Header, body: raw}
	}
	r = post()
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	sent := r.json(t)
	require.EqualValues(t, 3, sent["recipients"])
	require.EqualValues(t, 9, sent["deliveries"])
	require.Equal(t, "各位：今晚20:00值班。", sent["text"])
	again := post()
	require.Equal(t, http.StatusAccepted, again.status, string(again.body))
	require.Equal(t, sent["message_id"], again.json(t)["message_id"], "the Idempotency-Key sends nothing new")
	require.Equal(t, true, again.json(t)["replayed"])
	// The message is its own record (kept, with who sent it); only
	// announcements go to the audit chain.
	require.Empty(t, b.do(t, "GET", base+"/audit?action=message.send", key, nil).list(t))

	all := p.deliveries(t, b, "")
	require.Len(t, all, 9)
	for _, d := range all {
		// In-app is delivered by the send itself: the row is the inbox.
		if d["channel"] == "in_app" {
			require.Equal(t, "delivered", d["status"])
			require.EqualValues(t, 1, d["attempts"])
			continue
		}
		require.Equal(t, "created", d["status"])
	}

	require.Equal(t, 6, runDue(t, b, m, tn), "the SMS and emails go through the worker")
	require.Zero(t, runDue(t, b, m, tn), "each delivery ran once")
	// A task run again (a retry after a failure that came late, a worker
	// killed before it acknowledged) sends nothing twice.
	require.NoError(t, b.db.Tx(context.Background(), tn.ID, "system", func(tx *tenants.Tx) error {
		_, err := tx.Exec(context.Background(), "UPDATE outbox SET enqueued_at = NULL WHERE task_type = $1", messages.TaskDeliver)
		return err
	}))
	require.Equal(t, 6, runDue(t, b, m, tn))

	mails := smtp.received()
	require.Len(t, mails, 2, "王五's mailbox refuses")
	require.Contains(t, mails[0].data, "各位：今晚20:00值班。")
	texts := sms.received()
	require.Len(t, texts, 3)
	require.Equal(t, "各位：今晚20:00值班。", texts[0]["text"])

	delivered := p.deliveries(t, b, "status=delivered")
	require.Len(t, delivered, 8)
	failed := p.deliveries(t, b, "status=permanent_failure")
	require.Len(t, failed, 1)
	require.Equal(t, "email", failed[0]["channel"])
	require.Contains(t, failed[0]["last_error"], "550")

	byPhone := p.deliveries(t, b, "phone=0000002")
	require.Len(t, byPhone, 3)
	for _, d := range byPhone {
		require.Equal(t, "李四", d["recipient"].(map[string]any)["name"])
	}
	require.Len(t, p.deliveries(t, b, "name=王&channel=sms"), 1)
	require.Empty(t, p.deliveries(t, b, "name=赵"), "inactive members get nothing")

	// A signed webhook.
	r = b.do(t, "POST", base+"/messages/send", key, map[string]any{"text": "告警", "channels": []string{"webhook"}, "recipients": map[string]any{"members": []string{p.zhang}}})
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	require.Equal(t, 1, runDue(t, b, m, tn))
	require.Len(t, hook.received(), 1)
	require.Equal(t, "告警", hook.received()[0]["text"])
	hook.mu.Lock()
	require.Equal(t, messages.Sign("s3cret", hook.raws[0]), hook.sigs[0])
	hook.mu.Unlock()

	r = b.do(t, "GET", base+"/messages/stats", key, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	var stats messages.Stats
	require.NoError(t, json.Unmarshal(r.body, &stats))
	require.Len(t, stats.ByKind, 2)
	require.Equal(t, "duty.notice", stats.ByKind[0].Kind)
	require.Equal(t, 9, stats.ByKind[0].Deliveries)
	require.Equal(t, 8, stats.ByKind[0].Delivered)
	require.Equal(t, 1, stats.ByKind[0].Failed)
	require.Equal(t, "direct", stats.ByKind[1].Kind)
	require.Len(t, stats.ByOrg, 2)
	require.Equal(t, "城关派出所", stats.ByOrg[0].OrgName)
	require.Equal(t, 1, stats.ByOrg[0].Messages)
	require.Nil(t, stats.ByOrg[1].OrgID)

	// Another tenant sees none of it.
	other, otherKey := b.tenant(t, tenants.KindPoliceBureau)
	id := all[0]["id"].(string)
	require.Equal(t, http.StatusOK, b.do(t, "GET", base+"/messages/deliveries/"+id, key, nil).status)
	requireProblem(t, b.do(t, "GET", "/v1/t/"+other.Slug+"/messages/deliveries/"+id, otherKey, nil), http.StatusNotFound)
	r = b.do(t, "GET", "/v1/t/"+other.Slug+"/messages/deliveries", otherKey, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Empty(t, r.list(t))
}

func TestMessageProviderFailure(t *testing.T) {
	t.Parallel()
	sms := startGateway(t)
	b, m := messagesSetup(t, "", sms.URL)
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	p := makePeople(t, b, key, base)

	sms.status.Store(http.StatusInternalServerError)
	r := b.do(t, "POST", base+"/messages/send", key, map[string]any{"text": "请回电", "channels": []string{"sms"}, "recipients": map[string]any{"members": []string{p.zhang}}})
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))

	require.Equal(t, 1, runDue(t, b, m, tn))
	d := p.deliveries(t, b, "")[0]
	require.Equal(t, "temporary_failure", d["status"])
	require.EqualValues(t, 1, d["attempts"])
	require.Contains(t, d["last_error"], "HTTP 500")
	require.Zero(t, runDue(t, b, m, tn), "the retry waits for its backoff")

	for i := 2; i <= messages.DefaultMaxRetry+1; i++ {
		require.EqualValues(t, 1, fastForward(t, b, tn))
		require.Equal(t, 1, runDue(t, b, m, tn))
	}
	d = p.deliveries(t, b, "phone=13800000001")[0]
	require.Equal(t, "permanent_failure", d["status"])
	require.EqualValues(t, messages.DefaultMaxRetry+1, d["attempts"])
	require.Contains(t, d["last_error"], "HTTP 500")
	require.Contains(t, d["last_error"], "retries")
	require.Zero(t, fastForward(t, b, tn), "nothing more is retried")

	// A 4xx is final at once; an email without a server too.
	sms.status.Store(http.StatusBadRequest)
	r = b.do(t, "POST", base+"/messages/send", key, map[string]any{"text": "号码有误", "channels": []string{"sms", "email"}, "recipients": map[string]any{"members": []string{p.li}}})
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	require.Equal(t, 2, runDue(t, b, m, tn))
	for _, d := range p.deliveries(t, b, "name=李四") {
		require.Equal(t, "permanent_failure", d["status"])
		require.EqualValues(t, 1, d["attempts"])
		if d["channel"] == "sms" {
			require.Contains(t, d["last_error"], "HTTP 400")
		} else {
			require.Contains(t, d["last_error"], "YAMEN_SMTP_ADDR")
		}
	}
}

func TestMessageWhitelist(t *testing.T) {
	t.Parallel()
	sms := startGateway(t)
	b, m := messagesSetup(t, "", sms.URL)
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	p := makePeople(t, b, key, base)

	p.settings(t, b, map[string]any{"whitelist_only": true, "whitelist": []string{"13800000001"}})
	r := b.do(t, "POST", base+"/messages/send", key, map[string]any{"text": "演练", "channels": []string{"sms", "in_app"}, "recipients": map[string]any{"members": []string{p.zhang, p.li}}})
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	require.Equal(t, 2, runDue(t, b, m, tn), "in-app needs no worker")
	require.Len(t, sms.received(), 1)
	require.Equal(t, "13800000001", sms.received()[0]["phone"])
	refused := p.deliveries(t, b, "status=permanent_failure")
	require.Len(t, refused, 1)
	require.Equal(t, "李四", refused[0]["recipient"].(map[string]any)["name"])
	require.Contains(t, refused[0]["last_error"], "not on whitelist")
	require.Len(t, p.deliveries(t, b, "status=delivered&channel=in_app"), 2, "the whitelist is for SMS and email")

}

func TestMessageRateLimit(t *testing.T) {
	t.Parallel()
	sms := startGateway(t)
	b, m := messagesSetup(t, "", sms.URL)
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	p := makePeople(t, b, key, base)

	// One SMS a minute: of three, one goes now and two wait, delayed not dropped.
	p.settings(t, b, map[string]any{"sms_per_minute": 1})
	if s := time.Now().Second(); s >= 55 {
		// Keep the three runs within one minute.
		time.Sleep(time.Duration(61-s) * time.Second)
	}
	r := b.do(t, "POST", base+"/messages/send", key, map[string]any{"text": "限流", "channels": []string{"sms"}, "recipients": map[string]any{"orgs": []string{p.root}}})
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	msg := r.json(t)["message_id"].(string)
	require.Equal(t, 3, runDue(t, b, m, tn))
	ds := p.deliveries(t, b, "message_id="+msg)
	require.Len(t, ds, 3)
	count := map[string]int{}
	for _, d := range ds {
		count[d["status"].(string)]++
	}
	require.Equal(t, map[string]int{"delivered": 1, "created": 2}, count)
	require.Len(t, sms.received(), 1)

	var waiting int
	require.NoError(t, b.db.Tx(context.Background(), tn.ID, "system", func(tx *tenants.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE task_type = $1 AND enqueued_at IS NULL
			AND run_at > now() AND run_at <= date_trunc('minute', now()) + interval '1 minute'`, messages.TaskDeliver).Scan(&waiting)
	}))
	require.Equal(t, 2, waiting, "re-enqueued for the next minute")
}

// Announcements (seed 001 1.2.3) reach members' inboxes; a member reads
// one, and the publisher sees the receipt.
func TestMessageAnnouncementsAndInbox(t *testing.T) {
	t.Parallel()
	b, m := messagesSetup(t, "", "")
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	p := makePeople(t, b, key, base)

	r := b.do(t, "POST", base+"/roles", key, map[string]any{"name": "民警", "permissions": []string{"messages:inbox"}, "data_scope": "self"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	reader := r.json(t)["id"].(string)
	r = b.do(t, "PATCH", base+"/members/"+p.li, key, map[string]any{"role_ids": []string{reader}})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	email, _, token := staffAccount(t, "李四")
	r = b.do(t, "POST", base+"/members/"+p.li+"/link", key, map[string]any{"identifier": email})
	require.Equal(t, http.StatusOK, r.status, string(r.body))

	r = b.do(t, "POST", base+"/messages/announcements", key, map[string]any{"title": "停电通知", "text": "本周六{9:00}起停电。",
		"recipients": map[string]any{"orgs": []string{p.child}, "members": []string{p.zhang}}})
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	sent := r.json(t)
	require.Equal(t, "announcement", sent["kind"])
	require.EqualValues(t, 3, sent["deliveries"])
	require.Len(t, b.do(t, "GET", base+"/audit?action=message.announce", key, nil).list(t), 1, "an announcement is audited")
	require.Zero(t, runDue(t, b, m, tn), "in-app messages are in the inbox when the send commits")

	requireProblem(t, b.do(t, "GET", base+"/messages/inbox", key, nil), http.StatusForbidden)
	r = b.doSession(t, "GET", base+"/messages/inbox", token, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	inbox := r.list(t)
	require.Len(t, inbox, 1)
	require.Equal(t, "【停电通知】本周六{9:00}起停电。", inbox[0]["text"], "an announcement's text is taken as written")
	require.Nil(t, inbox[0]["read_at"])
	item := inbox[0]["id"].(string)

	r = b.doSession(t, "POST", base+"/messages/inbox/"+item+"/read", token, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.NotNil(t, r.json(t)["read_at"])
	r = b.doSession(t, "GET", base+"/messages/inbox?unread=true", token, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Empty(t, r.list(t))

	// Another member's message is not in this inbox.
	var others []string
	for _, d := range p.deliveries(t, b, "kind=announcement") {
		if d["recipient"].(map[string]any)["id"] != p.li {
			others = append(others, d["id"].(string))
		}
	}
	require.Len(t, others, 2)
	requireProblem(t, b.doSession(t, "POST", base+"/messages/inbox/"+others[0]+"/read", token, nil), http.StatusNotFound)

	r = b.do(t, "GET", base+"/messages/announcements/"+sent["message_id"].(string), key, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	a := r.json(t)
	require.Equal(t, "停电通知", a["title"])
	require.EqualValues(t, 3, a["recipients"])
	require.EqualValues(t, 1, a["read"])
	receipts := a["receipts"].([]any)
	require.Len(t, receipts, 3)
	require.Equal(t, "李四", receipts[0].(map[string]any)["name"], "readers first")
	require.NotNil(t, receipts[0].(map[string]any)["read_at"])
	require.Len(t, b.do(t, "GET", base+"/messages/announcements", key, nil).list(t), 1)
}

// The real worker and relay deliver through asynq: every delivery once,
// and a gateway failing at first is retried until it answers.
func TestMessageWorker(t *testing.T) {
	t.Parallel()
	sms := startGateway(t)
	b, _, reg := messagesRegistry(t, "", sms.URL, messages.WithRetryBackoff(200*time.Millisecond))
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	p := makePeople(t, b, key, base)

	redis := workertest.Redis(t)
	w, err := worker.New(worker.Config{
		DB: b.db, Registry: reg, Redis: redis, Namespace: workertest.Namespace(t, redis),
		Tenants: func(id uuid.UUID) bool { return id == tn.ID },
		Tick:    50 * time.Millisecond, RetryDelay: 20 * time.Millisecond, MaxRetryDelay: 100 * time.Millisecond,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	sms.status.Store(http.StatusServiceUnavailable)
	for i := range 10 {
		r := b.do(t, "POST", base+"/messages/send", key, map[string]any{"text": fmt.Sprintf("第%d条", i), "channels": []string{"sms", "in_app"},
			"recipients": map[string]any{"orgs": []string{p.root}}})
		require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	}
	require.Eventually(t, func() bool {
		return len(p.deliveries(t, b, "status=temporary_failure&limit=500")) > 0
	}, 10*time.Second, 20*time.Millisecond, "the gateway's 503 is a temporary failure")
	sms.status.Store(http.StatusOK)
	require.Eventually(t, func() bool {
		return len(p.deliveries(t, b, "status=delivered&limit=500")) == 60
	}, 20*time.Second, 50*time.Millisecond)
	require.Len(t, sms.received(), 30, "each SMS sent once")
	seen := map[string]bool{}
	for _, s := range sms.received() {
		k := s["phone"].(string) + s["text"].(string)
		require.False(t, seen[k], "sent twice: %s", k)
		seen[k] = true
	}
}

// The DingTalk robot channel signs its calls (加签), @-mentions the
// recipient, and reads DingTalk's verdict from the 200 it answers with.
func TestMessageDingTalk(t *testing.T) {
	t.Parallel()
	const secret = "SECtest"
	var (
		errcode atomic.Int32
		mu      sync.Mutex
		posted  []map[string]any
	)
	robot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts, err := strconv.ParseInt(r.URL.Query().Get("timestamp"), 10, 64)
		_, sign := messages.DingTalkSign(secret, time.UnixMilli(ts))
		if err != nil || r.URL.Query().Get("sign") != sign || r.URL.Query().Get("access_token") != "tok" {
			_, _ = io.WriteString(w, `{"errcode":310000,"errmsg":"sign not match"}`)
			return
		}
		var b map[string]any
		_ = json.NewDecoder(r.Body).Decode(&b)
		mu.Lock()
		posted = append(posted, b)
		mu.Unlock()
		fmt.Fprintf(w, `{"errcode":%d,"errmsg":"x"}`, errcode.Load())
	}))
	t.Cleanup(robot.Close)
	b, m := messagesSetup(t, "", "")
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	p := makePeople(t, b, key, base)
	p.settings(t, b, map[string]any{"channels": []string{"dingtalk"}, "dingtalk_robots": []any{map[string]any{"url": robot.URL + "/robot/send?access_token=tok", "secret": secret}}})

	r := b.do(t, "POST", base+"/messages/send", key, map[string]any{"text": "警情通报", "channels": []string{"dingtalk"}, "recipients": map[string]any{"members": []string{p.zhang}}})
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	require.Equal(t, 1, runDue(t, b, m, tn))
	mu.Lock()
	require.Len(t, posted, 1)
	require.Equal(t, "警情通报", posted[0]["text"].(map[string]any)["content"])
	require.Equal(t, []any{"13800000001"}, posted[0]["at"].(map[string]any)["atMobiles"])
	mu.Unlock()
	require.Len(t, p.deliveries(t, b, "status=delivered"), 1)

	errcode.Store(130101) // too fast: retried
	r = b.do(t, "POST", base+"/messages/send", key, map[string]any{"text": "二", "channels": []string{"dingtalk"}, "recipients": map[string]any{"members": []string{p.li}}})
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	require.Equal(t, 1, runDue(t, b, m, tn))
	require.Len(t, p.deliveries(t, b, "status=temporary_failure"), 1)

	errcode.Store(300001) // refused: final
	require.EqualValues(t, 1, fastForward(t, b, tn))
	require.Equal(t, 1, runDue(t, b, m, tn))
	failed := p.deliveries(t, b, "status=permanent_failure")
	require.Len(t, failed, 1)
	require.Contains(t, failed[0]["last_error"], "300001")
}

// Citizens (a booking's, a rating's) are recipients by their identity,
// with the addresses the sender has for them; named twice, they get one
// message per channel.
func TestMessageCitizenRecipients(t *testing.T) {
	t.Parallel()
	sms := startGateway(t)
	b, m := messagesSetup(t, "", sms.URL)
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	p := makePeople(t, b, key, base)
	citizen := uuid.NewString()
	r := b.do(t, "POST", base+"/messages/send", key, map[string]any{"text": "您的预约明天9:00办理。", "channels": []string{"sms", "in_app"},
		"recipients": map[string]any{
			"members":  []string{p.zhang},
			"citizens": []map[string]any{{"id": citizen, "name": "𠀀䶮", "phone": "13900000009"}, {"id": citizen, "name": "𠀀䶮", "phone": "13900000009"}},
		}})
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	require.EqualValues(t, 2, r.json(t)["recipients"])
	require.EqualValues(t, 4, r.json(t)["deliveries"])
	require.Equal(t, 2, runDue(t, b, m, tn), "the two SMS")
	var phones []string
	for _, s := range sms.received() {
		phones = append(phones, s["phone"].(string))
	}
	require.ElementsMatch(t, []string{"13800000001", "13900000009"}, phones)
	theirs := p.deliveries(t, b, "name=𠀀䶮")
	require.Len(t, theirs, 2)
	for _, d := range theirs {
		require.Equal(t, "delivered", d["status"])
		require.Equal(t, "citizen", d["recipient"].(map[string]any)["kind"])
		require.Equal(t, citizen, d["recipient"].(map[string]any)["id"])
	}

	// A citizen without an identity is named, with every other mistake.
	r = b.do(t, "POST", base+"/messages/send", key, map[string]any{"text": "x", "channels": []string{"sms"},
		"recipients": map[string]any{"members": []string{p.root}, "citizens": []map[string]any{{"id": uuid.Nil.String(), "phone": "13900000009"}}}})
	requireProblem(t, r, http.StatusUnprocessableEntity)
	require.ElementsMatch(t, []string{"body.recipients.members[0]", "body.recipients.citizens[0].id"}, r.locations(t))
	require.Len(t, p.deliveries(t, b, ""), 4, "nothing sent")

	// Other modules send to citizens in their own transaction.
	var sent messages.Sent
	require.NoError(t, b.db.Tx(context.Background(), tn.ID, "system", func(tx *tenants.Tx) error {
		var err error
		sent, err = m.SendIn(context.Background(), tx, messages.Send{Text: "请为本次服务评价。", Channels: []string{"sms"},
			Recipients: messages.Recipients{Citizens: []messages.Citizen{{ID: uuid.MustParse(citizen), Name: "𠀀䶮", Phone: "13900000009"}}}}, "")
		return err
	}))
	require.Equal(t, 1, sent.Deliveries)
	require.Equal(t, 1, runDue(t, b, m, tn))
	require.Len(t, sms.received(), 3)

	// Another tenant sees none of it.
	otherTn, otherKey := b.tenant(t, tenants.KindPoliceBureau)
	other := people{base: "/v1/t/" + otherTn.Slug, key: otherKey}
	require.Empty(t, other.deliveries(t, b, "name=𠀀䶮"))
}

// A tenant that limits in-app messages per minute has them wait their turn
// in the worker, like the other channels.
func TestMessageInAppRateLimit(t *testing.T) {
	t.Parallel()
	b, m := messagesSetup(t, "", "")
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	p := makePeople(t, b, key, base)
	p.settings(t, b, map[string]any{"in_app_per_minute": 1})
	if s := time.Now().Second(); s >= 55 {
		time.Sleep(time.Duration(61-s) * time.Second)
	}
	r := b.do(t, "POST", base+"/messages/send", key, map[string]any{"text": "限流", "channels": []string{"in_app"}, "recipients": map[string]any{"orgs": []string{p.root}}})
	require.Equal(t, http.StatusAccepted, r.status, string(r.body))
	for _, d := range p.deliveries(t, b, "") {
		require.Equal(t, "created", d["status"])
	}
	require.Equal(t, 3, runDue(t, b, m, tn))
	count := map[string]int{}
	for _, d := range p.deliveries(t, b, "") {
		count[d["status"].(string)]++
	}
	require.Equal(t, map[string]int{"delivered": 1, "created": 2}, count)
}

// A template whose variables make the text longer than a message may be is
// refused naming the variables; a request with several mistakes names them
// all; nothing is sent.
func TestMessageTextTooLong(t *testing.T) {
	t.Parallel()
	b, _ := messagesSetup(t, "", "")
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	p := makePeople(t, b, key, base)
	r := b.do(t, "POST", base+"/messages/templates", key, map[string]any{"code": "long", "name": "长", "text": "{a}{a}", "variables": []string{"a"}, "channels": []string{"in_app"}})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	r = b.do(t, "POST", base+"/messages/send", key, map[string]any{"template": "long", "variables": map[string]string{"a": strings.Repeat("䶮", 2001)},
		"recipients": map[string]any{"members": []string{p.zhang}}})
	requireProblem(t, r, http.StatusUnprocessableEntity)
	require.Equal(t, []string{"body.variables"}, r.locations(t))

	// Template and text at once, with an unknown member: both named.
	r = b.do(t, "POST", base+"/messages/send", key, map[string]any{"template": "long", "text": "x", "variables": map[string]string{"a": "1"}, "channels": []string{"in_app"},
		"recipients": map[string]any{"members": []string{p.root}}})
	requireProblem(t, r, http.StatusUnprocessableEntity)
	require.ElementsMatch(t, []string{"body.text", "body.recipients.members[0]"}, r.locations(t))
	require.Empty(t, p.deliveries(t, b, ""))
}
