package portal_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/api"
	"yamen/api/kratostest"
	"yamen/modules"
	"yamen/modules/builtin"
	"yamen/modules/files/filestest"
	"yamen/portal"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// bundle is a portal beside its API, as `yamen serve` runs them, talking to
// the Kratos `make test` starts.
type bundle struct {
	url    string
	db     *tenants.DB
	public string
	admin  string
	reg    *modules.Registry
}

func setup(t testing.TB) *bundle {
	t.Helper()
	public, admin := os.Getenv("KRATOS_PUBLIC_URL"), os.Getenv("KRATOS_ADMIN_URL")
	if public == "" || admin == "" {
		t.Fatal("KRATOS_PUBLIC_URL and KRATOS_ADMIN_URL are not set: run the tests with `make test`, which starts Ory Kratos")
	}
	db := tenanttest.DB(t)
	reg, err := builtin.Registry()
	require.NoError(t, err)
	require.NoError(t, reg.Provision(context.Background(), filestest.Env(t, db.Pool)))
	t.Cleanup(func() { _ = reg.Cleanup() })
	srv, err := api.New(api.Config{DB: db, Registry: reg, Sessions: api.NewSessions(public, admin, 200*time.Millisecond, nil)})
	require.NoError(t, err)
	p, err := portal.New(portal.Config{DB: db, Registry: reg, API: srv, KratosPublicURL: public})
	require.NoError(t, err)
	ts := httptest.NewServer(portal.Beside(srv.Handler(), p.Handler()))
	t.Cleanup(ts.Close)
	return &bundle{url: ts.URL, db: db, public: public, admin: admin, reg: reg}
}

// account is a person in Kratos who signs in with a password.
type account struct {
	email, phone, password string
	identity               uuid.UUID
}

func random() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// staffAccount creates a staff identity in Kratos.
func (b *bundle) staffAccount(t testing.TB, name string) account {
	t.Helper()
	r := random()
	a := account{email: "staff-" + r + "@example.gov.cn", phone: fmt.Sprintf("139%08d", time.Now().UnixNano()%100000000), password: "Yamen-" + r + "-密码"}
	status, id := kratostest.JSON(t, "POST", b.admin+"/admin/identities", map[string]any{
		"schema_id":   "staff",
		"traits":      map[string]any{"email": a.email, "phone": "+86" + a.phone, "name": name},
		"credentials": map[string]any{"password": map[string]any{"config": map[string]any{"password": a.password}}},
	})
	require.Equal(t, http.StatusCreated, status, "%v", id)
	a.identity = uuid.MustParse(id["id"].(string))
	t.Cleanup(func() { kratostest.JSON(t, "DELETE", b.admin+"/admin/identities/"+a.identity.String(), nil) })
	return a
}

// tenantAdmin makes a tenant with modules entitled (the first of them
// disabled) and a tenant admin signed in as a's identity.
func (b *bundle) tenantAdmin(t testing.TB, a account, kind string, mods ...string) tenants.Tenant {
	t.Helper()
	tn := tenanttest.Tenant(t, kind, mods...)
	ctx := context.Background()
	require.NoError(t, b.db.Tx(ctx, tn.ID, tenants.System().String(), func(tx *tenants.Tx) error {
		orgs, err := tenants.ListOrgs(ctx, tx, nil)
		if err != nil {
			return err
		}
		roles, err := tenants.ListRoles(ctx, tx)
		if err != nil {
			return err
		}
		m, err := tenants.CreateMember(ctx, tx, tenants.NewMember{OrgID: orgs[0].ID, Name: "管理员䶮", Email: &a.email, RoleIDs: []uuid.UUID{roles[0].ID}})
		if err != nil {
			return err
		}
		if _, err := tenants.LinkIdentity(ctx, tx, m.ID, &a.identity); err != nil {
			return err
		}
		if len(mods) > 0 {
			return tenants.SetEnabled(ctx, tx, mods[0], false)
		}
		return nil
	}))
	return tn
}

// client is a browser without a browser: a cookie jar that does not follow
// redirects.
func client(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type page struct {
	status int
	header http.Header
	body   string
}

func get(t testing.TB, c *http.Client, u string) page {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return page{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

func post(t testing.TB, c *http.Client, u string, form url.Values) page {
	t.Helper()
	resp, err := c.PostForm(u, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return page{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (p page) csrf(t testing.TB) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(p.body)
	require.NotNil(t, m, "no CSRF token in %s", p.body)
	return m[1]
}

// signIn signs a into the portal through the login page, without a browser.
func (b *bundle) signIn(t testing.TB, c *http.Client, a account) {
	t.Helper()
	p := get(t, c, b.url+"/auth/login")
	require.Equal(t, http.StatusFound, p.status, p.body)
	loc := p.header.Get("Location")
	p = get(t, c, b.url+loc)
	require.Equal(t, http.StatusOK, p.status, p.body)
	kratosCSRF := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(p.body)
	require.NotNil(t, kratosCSRF, p.body)
	p = post(t, c, b.url+loc, url.Values{"_csrf": {p.csrf(t)}, "csrf_token": {html.UnescapeString(kratosCSRF[1])}, "identifier": {a.email}, "password": {a.password}, "method": {"password"}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
}

// Portal pages carry a strict CSP, speak zh-CN unless English is chosen,
// remember the elderly-friendly mode, and weigh under 100 KB.
func TestPagesLanguageModeAndHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := client(t)
	p := get(t, c, b.url+"/")
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.header.Get("Content-Security-Policy"), "script-src 'self'")
	require.NotContains(t, p.header.Get("Content-Security-Policy"), "unsafe-inline")
	require.Contains(t, p.body, `<html lang="zh-CN">`)
	require.Contains(t, p.body, "登录")
	require.Less(t, len(p.body), 100<<10)
	require.NotContains(t, p.body, "<script>", "no inline script")

	p = post(t, c, b.url+"/prefs", url.Values{"_csrf": {p.csrf(t)}, "lang": {"en"}, "elder": {"1"}, "return": {"/"}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.Equal(t, "/", p.header.Get("Location"))
	for _, ck := range p.header.Values("Set-Cookie") {
		require.Contains(t, ck, "HttpOnly")
		require.Contains(t, ck, "SameSite")
	}
	p = get(t, c, b.url+"/")
	require.Contains(t, p.body, `<html lang="en" class="elder">`)
	require.Contains(t, p.body, "Sign in")

	// A return address of another site is not followed.
	p = post(t, c, b.url+"/prefs", url.Values{"_csrf": {p.csrf(t)}, "lang": {"zh-CN"}, "return": {"//evil.example/"}})
	require.Equal(t, "/", p.header.Get("Location"))

	// The API keeps its paths.
	p = get(t, c, b.url+"/healthz")
	require.Equal(t, http.StatusOK, p.status)
	require.Contains(t, p.body, "ok")
}

// A form posted without its token, or with another browser's, is refused
// and changes nothing.
func TestFormWithoutCSRFTokenIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.staffAccount(t, "管理员")
	tn := b.tenantAdmin(t, a, tenants.KindAffairsHall, "messages")
	c := client(t)
	b.signIn(t, c, a)
	modules := b.url + "/t/" + tn.Slug + "/admin/modules"
	p := get(t, c, modules)
	require.Equal(t, http.StatusOK, p.status, p.body)
	token := p.csrf(t)

	p = post(t, c, modules+"/messages/enable", url.Values{})
	require.Equal(t, http.StatusForbidden, p.status)
	require.Contains(t, p.body, "表单已过期或来源不明")
	other := client(t)
	get(t, other, b.url+"/")
	p = post(t, other, modules+"/messages/enable", url.Values{"_csrf": {token}})
	require.Equal(t, http.StatusForbidden, p.status, "a token is good only with its own browser's cookie")
	require.False(t, b.enabled(t, tn, "messages"))

	p = post(t, c, modules+"/messages/enable", url.Values{"_csrf": {token}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.True(t, b.enabled(t, tn, "messages"))
}

func (b *bundle) enabled(t testing.TB, tn tenants.Tenant, module string) bool {
	t.Helper()
	r, err := b.db.Reader(tn.ID, tenants.System().String())
	require.NoError(t, err)
	states, err := tenants.ModuleStates(context.Background(), r)
	require.NoError(t, err)
	return states[module].Enabled
}

// Admin pages need a signed-in member of the tenant: a visitor is sent to
// sign in, and staff of another tenant find no such tenant.
func TestAdminPagesNeedAMember(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.staffAccount(t, "管理员")
	tn := b.tenantAdmin(t, a, tenants.KindAffairsHall, "messages")
	other := b.tenantAdmin(t, b.staffAccount(t, "别人"), tenants.KindAffairsHall, "messages")

	p := get(t, client(t), b.url+"/t/"+tn.Slug+"/admin/modules")
	require.Equal(t, http.StatusFound, p.status)
	require.True(t, strings.HasPrefix(p.header.Get("Location"), "/auth/login?return_to="), p.header.Get("Location"))

	c := client(t)
	b.signIn(t, c, a)
	p = get(t, c, b.url+"/t/"+other.Slug+"/admin/modules")
	require.Equal(t, http.StatusNotFound, p.status, p.body)
	p = get(t, c, b.url+"/")
	require.Contains(t, p.body, "/t/"+tn.Slug+"/admin", "the start page lists the tenants the person works in")
	require.NotContains(t, p.body, other.Slug)
}

var _ = modules.Text{}

// A module's settings form: a bad value comes back at its field with the
// rest of the form as typed, and nothing is saved; a good one is saved.
func TestModuleSettingsForm(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.staffAccount(t, "管理员")
	tn := b.tenantAdmin(t, a, tenants.KindAffairsHall, "messages")
	c := client(t)
	b.signIn(t, c, a)
	u := b.url + "/t/" + tn.Slug + "/admin/modules/messages/settings"
	p := get(t, c, u)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.Contains(t, p.body, `id="s-sms_per_minute"`)
	form := url.Values{"_csrf": {p.csrf(t)}, "sms_per_minute": {"-5"}, "email_per_minute": {"abc"}, "channels": {"in_app", "sms"}, "whitelist": {"13800138000\n"}}
	p = post(t, c, u, form)
	require.Equal(t, http.StatusUnprocessableEntity, p.status, p.body)
	require.Contains(t, p.body, `id="s-sms_per_minute-err">应不小于 0`)
	require.Contains(t, p.body, `id="s-email_per_minute-err">须为整数`)
	require.Contains(t, p.body, `value="abc"`, "what was typed shows again")

	form.Set("sms_per_minute", "30")
	form.Set("email_per_minute", "")
	p = post(t, c, u, form)
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	r, err := b.db.Reader(tn.ID, tenants.System().String())
	require.NoError(t, err)
	states, err := tenants.ModuleStates(context.Background(), r)
	require.NoError(t, err)
	require.EqualValues(t, 30, states["messages"].Settings["sms_per_minute"])
}
