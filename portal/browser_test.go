package portal_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"yamen/api/kratostest"
	"yamen/tenants"
)

// Browser tests drive Debian's Chromium, headless, with chromedp. Every
// page visited is checked with axe-core (from npm, fetched into .dev/axe on
// first use) for serious and critical violations, and photographed at phone
// (390 px) and desktop (1366 px) widths into .dev/screenshots.

func repoRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	return filepath.Dir(wd)
}

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// axe returns axe.min.js, unpacking `npm pack axe-core@4` into .dev/axe.
func axe(t testing.TB) string {
	t.Helper()
	axeOnce.Do(func() {
		dir := filepath.Join(repoRoot(t), ".dev", "axe")
		js := filepath.Join(dir, "axe.min.js")
		if _, err := os.Stat(js); err != nil {
			if axeErr = os.MkdirAll(dir, 0o755); axeErr != nil {
				return
			}
			tgz, _ := filepath.Glob(filepath.Join(dir, "axe-core-*.tgz"))
			if len(tgz) == 0 {
				cmd := exec.Command("npm", "pack", "axe-core@4", "--silent", "--pack-destination", dir)
				if out, err := cmd.CombinedOutput(); err != nil {
					axeErr = err
					t.Logf("npm pack axe-core: %s", out)
					return
				}
				tgz, _ = filepath.Glob(filepath.Join(dir, "axe-core-*.tgz"))
			}
			if len(tgz) == 0 {
				axeErr = os.ErrNotExist
				return
			}
			axeErr = untarFile(tgz[0], "package/axe.min.js", js)
			if axeErr != nil {
				return
			}
		}
		b, err := os.ReadFile(js)
		axeSource, axeErr = string(b), err
	})
	require.NoError(t, axeErr, "axe-core from npm")
	return axeSource
}

func untarFile(tgz, name, to string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			return err
		}
		if h.Name == name {
			out, err := os.Create(to + ".tmp")
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, tr); err != nil {
				out.Close()
				return err
			}
			if err := out.Close(); err != nil {
				return err
			}
			return os.Rename(to+".tmp", to)
		}
	}
}

// browser starts a headless Chromium for one test.
func browser(t testing.TB) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.NoSandbox, // root in containers
		chromedp.Flag("lang", "zh-CN"),
		chromedp.WindowSize(1366, 900),
	)
	if p, err := exec.LookPath("chromium"); err == nil {
		opts = append(opts, chromedp.ExecPath(p))
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 6*time.Minute)
	t.Cleanup(cancel3)
	require.NoError(t, chromedp.Run(ctx), "start Chromium (make test installs it: apt-get install chromium)")
	return ctx
}

type violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// check runs axe-core on the page and saves its screenshots.
func check(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	var out string
	script := axe(t) + `;
axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.html)}))))`
	require.NoError(t, chromedp.Run(ctx, chromedp.Evaluate(script, &out, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
		return p.WithAwaitPromise(true)
	})))
	var vs []violation
	require.NoError(t, json.Unmarshal([]byte(out), &vs))
	require.Empty(t, vs, "axe-core: serious or critical violations on %s", name)

	dir := filepath.Join(repoRoot(t), ".dev", "screenshots")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, size := range []struct {
		label         string
		width, height int64
		mobile        bool
	}{{"phone", 390, 844, true}, {"desktop", 1366, 900, false}} {
		var png []byte
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if size.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		require.NoError(t, chromedp.Run(ctx,
			chromedp.EmulateViewport(size.width, size.height, opts...),
			chromedp.FullScreenshot(&png, 80)))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name+"-"+size.label+".jpg"), png, 0o644))
	}
	require.NoError(t, chromedp.Run(ctx, chromedp.EmulateViewport(1366, 900)))
}

// text returns the visible text of the first node matching sel.
func text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	var s string
	require.NoError(t, chromedp.Run(ctx, chromedp.Text(sel, &s, chromedp.ByQuery)))
	return s
}

// A tenant admin signs in, enables a module, saves a setting with a bad
// value and sees the error at the field, fixes it, and creates a role in
// the three steps of seed 003.
func TestBrowserTenantAdmin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.staffAccount(t, "管理员")
	tn := b.tenantAdmin(t, a, tenants.KindAffairsHall, "messages")
	ctx := browser(t)
	base := "/t/" + tn.Slug + "/admin"

	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(b.url+base+"/modules"),
		chromedp.WaitVisible(`input[name="identifier"]`, chromedp.ByQuery),
	))
	check(t, ctx, "login")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SendKeys(`input[name="identifier"]`, a.email, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="password"]`, a.password, chromedp.ByQuery),
		chromedp.Click(`button[name="method"][value="password"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#m-messages`, chromedp.ByQuery),
	))
	require.Contains(t, text(t, ctx, "#m-messages"), "未启用")
	check(t, ctx, "admin-modules")

	// Enable the module.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`#m-messages button`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.notice`, chromedp.ByQuery),
	))
	require.Contains(t, text(t, ctx, "#m-messages"), "已启用")
	require.True(t, b.enabled(t, tn, "messages"))

	// A bad value: shown at its field, nothing saved.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(b.url+base+"/modules/messages/settings"),
		chromedp.WaitVisible(`#s-sms_per_minute`, chromedp.ByQuery),
		chromedp.SetValue(`#s-sms_per_minute`, "-5", chromedp.ByQuery),
		chromedp.Click(`form.stack button.primary`, chromedp.ByQuery),
		chromedp.WaitVisible(`#s-sms_per_minute-err`, chromedp.ByQuery),
	))
	require.Contains(t, text(t, ctx, "#field-sms_per_minute .field-error"), "应不小于 0")
	var invalid string
	require.NoError(t, chromedp.Run(ctx, chromedp.AttributeValue(`#s-sms_per_minute`, "aria-invalid", &invalid, nil, chromedp.ByQuery)))
	require.Equal(t, "true", invalid)
	check(t, ctx, "admin-settings-error")

	// Fixed: saved.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SetValue(`#s-sms_per_minute`, "30", chromedp.ByQuery),
		chromedp.Click(`form.stack button.primary`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.notice`, chromedp.ByQuery),
	))
	var value string
	require.NoError(t, chromedp.Run(ctx, chromedp.Value(`#s-sms_per_minute`, &value, chromedp.ByQuery)))
	require.Equal(t, "30", value)

	// A role in three steps: profile, operation permissions, data scope.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(b.url+base+"/roles/new"),
		chromedp.WaitVisible(`#r-name`, chromedp.ByQuery),
	))
	check(t, ctx, "admin-role-step1")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SendKeys(`#r-name`, "窗口人员𠀀", chromedp.ByQuery),
		chromedp.Click(`form.stack button.primary`, chromedp.ByQuery),
		chromedp.WaitVisible(`input[name="permissions"][value="orgs:read"]`, chromedp.ByQuery),
	))
	check(t, ctx, "admin-role-step2")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`input[name="permissions"][value="orgs:read"]`, chromedp.ByQuery),
		chromedp.Click(`input[name="permissions"][value="members:read"]`, chromedp.ByQuery),
		chromedp.Click(`form.stack button.primary`, chromedp.ByQuery),
		chromedp.WaitVisible(`input[name="data_scope"][value="org"]`, chromedp.ByQuery),
	))
	check(t, ctx, "admin-role-step3")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`input[name="data_scope"][value="org"]`, chromedp.ByQuery),
		chromedp.Click(`form.stack button.primary`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.notice`, chromedp.ByQuery),
	))
	require.Contains(t, text(t, ctx, "main table"), "窗口人员𠀀")
	check(t, ctx, "admin-roles")

	r, err := b.db.Reader(tn.ID, tenants.System().String())
	require.NoError(t, err)
	roles, err := tenants.ListRoles(context.Background(), r)
	require.NoError(t, err)
	var made *tenants.Role
	for i := range roles {
		if roles[i].Name == "窗口人员𠀀" {
			made = &roles[i]
		}
	}
	require.NotNil(t, made)
	require.Equal(t, tenants.ScopeOrg, made.DataScope, "所在机构数据")
	require.ElementsMatch(t, []string{"orgs:read", "members:read"}, made.Permissions)

	// The other admin pages pass axe too.
	for _, pg := range []string{"", "/orgs", "/staff", "/policies", "/audit"} {
		require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(b.url+base+pg), chromedp.WaitVisible(`main h1`, chromedp.ByQuery)))
		check(t, ctx, "admin"+strings.ReplaceAll(pg, "/", "-"))
	}
}

// A citizen registers in the browser with a mobile number, is signed in,
// signs out and signs in again; Kratos's complaints show in Chinese at the
// field.
func TestBrowserCitizenRegistersAndSignsIn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := browser(t)
	phone := "137" + random()[:8]
	for i, c := range phone[3:] { // hex to digits
		if c > '9' {
			phone = phone[:3+i] + "7" + phone[4+i:]
		}
	}
	password := "Yamen-" + random() + "-密码"

	require.NoError(t, chromedp.Run(ctx,
		chromedp.Navigate(b.url+"/auth/registration"),
		chromedp.WaitVisible(`input[name="traits.phone"]`, chromedp.ByQuery),
	))
	check(t, ctx, "registration")
	// Too short a password: Kratos refuses, in Chinese, at the field.
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SendKeys(`input[name="traits.phone"]`, phone, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="traits.name"]`, "张䶮", chromedp.ByQuery),
		chromedp.SendKeys(`input[name="password"]`, "short", chromedp.ByQuery),
		chromedp.Click(`button[name="method"][value="password"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.field.invalid .field-error`, chromedp.ByQuery),
	))
	require.Contains(t, text(t, ctx, ".field.invalid .field-error"), "密码")
	check(t, ctx, "registration-error")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SendKeys(`input[name="password"]`, password, chromedp.ByQuery),
		chromedp.Click(`button[name="method"][value="password"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`form[action="/auth/logout"]`, chromedp.ByQuery),
	))
	require.Contains(t, text(t, ctx, "header .who"), "张䶮")
	check(t, ctx, "home-citizen")
	status, ids := kratosJSONList(t, b.admin+"/admin/identities?credentials_identifier=%2B86"+phone)
	require.Equal(t, 200, status)
	require.Len(t, ids, 1)
	t.Cleanup(func() { kratostest.JSON(t, "DELETE", b.admin+"/admin/identities/"+ids[0]["id"].(string), nil) })

	require.NoError(t, chromedp.Run(ctx,
		chromedp.Click(`form[action="/auth/logout"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`a[href="/auth/login"]`, chromedp.ByQuery),
		chromedp.Navigate(b.url+"/auth/login"),
		chromedp.WaitVisible(`input[name="identifier"]`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="identifier"]`, phone, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="password"]`, "wrong-password", chromedp.ByQuery),
		chromedp.Click(`button[name="method"][value="password"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.alert`, chromedp.ByQuery),
	))
	require.Contains(t, text(t, ctx, "p.alert"), "账号或密码不正确")
	check(t, ctx, "login-error")
	require.NoError(t, chromedp.Run(ctx,
		chromedp.SendKeys(`input[name="password"]`, password, chromedp.ByQuery),
		chromedp.Click(`button[name="method"][value="password"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`form[action="/auth/logout"]`, chromedp.ByQuery),
	))
}

func kratosJSONList(t testing.TB, url string) (int, []map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var l []map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&l))
	return resp.StatusCode, l
}
