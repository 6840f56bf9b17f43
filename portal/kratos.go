package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	kratos "github.com/ory/kratos-client-go"

	"yamen/problem"
)

// Sign-in pages: Kratos's self-service flows, rendered from the flow's UI
// nodes. The browser never talks to Kratos: the portal creates and fetches
// flows with the browser's cookies (kratos-client-go), posts the forms to
// Kratos server-side (Accept: application/json), and passes Kratos's
// Set-Cookie headers (its CSRF cookie, the session) back. Kratos's cookies
// thus belong to the portal's own origin, whatever port or host it is
// served at, and Kratos's ui_url settings (/auth/login, ...) only matter for
// links Kratos itself sends, such as those in e-mails.

var flowKinds = []string{"login", "registration", "recovery", "verification", "settings"}

// kflow is what the pages need of any Kratos flow.
type kflow struct {
	ID           string             `json:"id"`
	UI           kratos.UiContainer `json:"ui"`
	ReturnTo     *string            `json:"return_to,omitempty"`
	State        any                `json:"state,omitempty"`
	ContinueWith []map[string]any   `json:"continue_with,omitempty"`
}

// forwardCookies passes the cookies Kratos set on to the browser.
func forwardCookies(w http.ResponseWriter, resp *http.Response) {
	if resp == nil {
		return
	}
	for _, c := range resp.Header.Values("Set-Cookie") {
		w.Header().Add("Set-Cookie", c)
	}
}

// flowGone says Kratos no longer has the flow for this browser: expired,
// unknown, or made for another browser (its CSRF cookie is gone).
func flowGone(resp *http.Response) bool {
	return resp != nil && (resp.StatusCode == http.StatusGone || resp.StatusCode == http.StatusNotFound ||
		resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusBadRequest)
}

// kratosFlow is what every kind of Kratos browser flow has that the portal
// reads.
type kratosFlow[T any] interface {
	*T
	GetId() string
	GetUi() kratos.UiContainer
	GetReturnToOk() (*string, bool)
	GetState() interface{}
}

// asFlow turns what a Kratos call returned into the portal's flow.
func asFlow[T any, F kratosFlow[T]](k F, resp *http.Response, err error) (*kflow, *http.Response, error) {
	if k == nil {
		return nil, resp, err
	}
	returnTo, _ := k.GetReturnToOk()
	return &kflow{ID: k.GetId(), UI: k.GetUi(), ReturnTo: returnTo, State: k.GetState()}, resp, err
}

// fetchFlow gets a flow by id, with the browser's cookies.
func (p *Portal) fetchFlow(ctx context.Context, kind, id, cookie string) (*kflow, *http.Response, error) {
	api := p.kratos.FrontendAPI
	switch kind {
	case "login":
		return asFlow(api.GetLoginFlow(ctx).Id(id).Cookie(cookie).Execute())
	case "registration":
		return asFlow(api.GetRegistrationFlow(ctx).Id(id).Cookie(cookie).Execute())
	case "recovery":
		return asFlow(api.GetRecoveryFlow(ctx).Id(id).Cookie(cookie).Execute())
	case "verification":
		return asFlow(api.GetVerificationFlow(ctx).Id(id).Cookie(cookie).Execute())
	case "settings":
		return asFlow(api.GetSettingsFlow(ctx).Id(id).Cookie(cookie).Execute())
	}
	return nil, nil, nil
}

// createFlow starts a browser flow.
func (p *Portal) createFlow(ctx context.Context, kind, cookie string, refresh bool) (*kflow, *http.Response, error) {
	api := p.kratos.FrontendAPI
	switch kind {
	case "login":
		return asFlow(api.CreateBrowserLoginFlow(ctx).Cookie(cookie).Refresh(refresh).Execute())
	case "registration":
		return asFlow(api.CreateBrowserRegistrationFlow(ctx).Execute())
	case "recovery":
		return asFlow(api.CreateBrowserRecoveryFlow(ctx).Execute())
	case "verification":
		return asFlow(api.CreateBrowserVerificationFlow(ctx).Execute())
	case "settings":
		return asFlow(api.CreateBrowserSettingsFlow(ctx).Cookie(cookie).Execute())
	}
	return nil, nil, nil
}

// showFlow renders a flow, or starts one when the URL names none. The
// portal's return_to (a path of the portal) rides along in the URL.
func (p *Portal) showFlow(kind string) func(v *view) error {
	return func(v *view) error {
		q := v.r.URL.Query()
		cookie := v.r.Header.Get("Cookie")
		returnTo := q.Get("return_to")
		id := q.Get("flow")
		if id == "" {
			if (kind == "login" || kind == "registration") && v.person != nil && q.Get("refresh") != "true" {
				return v.redirect(safeReturn(returnTo))
			}
			if kind == "settings" && v.person == nil {
				return v.redirect("/auth/login?return_to=%2Fauth%2Fsettings")
			}
			f, resp, err := p.createFlow(v.r.Context(), kind, cookie, q.Get("refresh") == "true")
			forwardCookies(v.w, resp)
			if err != nil {
				if resp != nil && resp.StatusCode == http.StatusBadRequest && kind != "settings" {
					// Kratos refuses a new sign-in flow to a signed-in browser.
					return v.redirect(safeReturn(returnTo))
				}
				if resp != nil && resp.StatusCode == http.StatusUnauthorized {
					return v.redirect("/auth/login")
				}
				return fmt.Errorf("portal: kratos %s flow: %w", kind, err)
			}
			next := "/auth/" + kind + "?flow=" + url.QueryEscape(f.ID)
			if returnTo != "" {
				next += "&return_to=" + url.QueryEscape(safeReturn(returnTo))
			}
			return v.redirect(next)
		}
		f, resp, err := p.fetchFlow(v.r.Context(), kind, id, cookie)
		forwardCookies(v.w, resp)
		if err != nil {
			if flowGone(resp) {
				return v.redirect("/auth/" + kind)
			}
			return fmt.Errorf("portal: kratos %s flow %s: %w", kind, id, err)
		}
		v.renderFlow(http.StatusOK, kind, f, returnTo)
		return nil
	}
}

// submitFlow posts the browser's form to Kratos and shows what comes back:
// the same flow with its errors, or, once done, the page to go on to.
func (p *Portal) submitFlow(kind string) func(v *view) error {
	return func(v *view) error {
		id := v.r.URL.Query().Get("flow")
		returnTo := v.r.URL.Query().Get("return_to")
		if id == "" {
			return v.redirect("/auth/" + kind)
		}
		form := url.Values{}
		for k, vs := range v.r.PostForm {
			if k == csrfField {
				continue
			}
			for _, s := range vs {
				form.Add(k, normalisePhone(k, s))
			}
		}
		target := p.kpublic + "/self-service/" + kind + "?flow=" + url.QueryEscape(id)
		req, err := http.NewRequestWithContext(v.r.Context(), http.MethodPost, target, strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Cookie", v.r.Header.Get("Cookie"))
		if ua := v.r.UserAgent(); ua != "" {
			req.Header.Set("User-Agent", ua)
		}
		resp, err := p.client.Do(req)
		if err != nil {
			return fmt.Errorf("portal: kratos %s: %w", kind, err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return fmt.Errorf("portal: kratos %s: %w", kind, err)
		}
		forwardCookies(v.w, resp)
		switch resp.StatusCode {
		case http.StatusOK:
			var done kflow
			_ = json.Unmarshal(raw, &done)
			if next := continueWith(done.ContinueWith); next != "" {
				return v.redirect(next)
			}
			if kind == "settings" || kind == "recovery" || kind == "verification" {
				if done.ID != "" && len(done.UI.Nodes) > 0 {
					v.renderFlow(http.StatusOK, kind, &done, returnTo)
					return nil
				}
			}
			return v.redirect(safeReturn(returnTo))
		case http.StatusBadRequest:
			var f kflow
			if err := json.Unmarshal(raw, &f); err != nil || f.ID == "" {
				return fmt.Errorf("portal: kratos %s answered 400 without a flow: %s", kind, truncate(raw))
			}
			v.renderFlow(http.StatusUnprocessableEntity, kind, &f, returnTo)
			return nil
		case http.StatusUnprocessableEntity:
			var moved struct {
				RedirectBrowserTo string `json:"redirect_browser_to"`
			}
			_ = json.Unmarshal(raw, &moved)
			return v.redirect(p.portalURL(moved.RedirectBrowserTo))
		case http.StatusGone, http.StatusNotFound:
			return v.redirect("/auth/" + kind)
		case http.StatusForbidden:
			// Kratos's own CSRF check failed: the flow belongs to another browser.
			return problem.Forbidden("登录表单已失效，请重新打开 (the sign-in form is no longer valid; open it again)")
		}
		return fmt.Errorf("portal: kratos %s answered %d: %s", kind, resp.StatusCode, truncate(raw))
	}
}

// continueWith picks the page Kratos asks the browser to go on to after a
// flow: verifying the address just registered, or another flow.
func continueWith(items []map[string]any) string {
	for _, it := range items {
		switch it["action"] {
		case "show_verification_ui":
			if f, ok := it["flow"].(map[string]any); ok {
				if id, ok := f["id"].(string); ok {
					return "/auth/verification?flow=" + url.QueryEscape(id)
				}
			}
		case "show_settings_ui", "show_recovery_ui":
			if f, ok := it["flow"].(map[string]any); ok {
				if id, ok := f["id"].(string); ok {
					kind := strings.TrimSuffix(strings.TrimPrefix(it["action"].(string), "show_"), "_ui")
					return "/auth/" + kind + "?flow=" + url.QueryEscape(id)
				}
			}
		}
	}
	return ""
}

// portalURL turns an address Kratos sends the browser to into the portal's:
// Kratos's browser endpoints become the portal's pages for them, pages of the
// portal keep their path, anything else goes home.
func (p *Portal) portalURL(to string) string {
	u, err := url.Parse(to)
	if err != nil {
		return "/"
	}
	for _, kind := range flowKinds {
		if u.Path == "/self-service/"+kind+"/browser" {
			return "/auth/" + kind + "?" + u.RawQuery
		}
	}
	if strings.HasPrefix(u.Path, "/auth/") {
		return safeReturn(u.Path + "?" + u.RawQuery)
	}
	return "/"
}

var mobileNumber = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// normalisePhone lets people type their 11-digit mobile number; Kratos
// keeps phones in E.164 (+86...).
func normalisePhone(field, value string) string {
	value = strings.TrimSpace(value)
	if (field == "traits.phone" || field == "identifier") && mobileNumber.MatchString(value) {
		return "+86" + value
	}
	return value
}

func truncate(b []byte) string {
	if len(b) > 300 {
		b = b[:300]
	}
	return string(b)
}

// flowError shows an error Kratos reports on a flow.
func (p *Portal) flowError(v *view) error {
	id := v.r.URL.Query().Get("id")
	msg := v.t("auth.error")
	if id != "" {
		fe, _, err := p.kratos.FrontendAPI.GetFlowError(v.r.Context()).Id(id).Execute()
		if err == nil && fe != nil {
			if m, ok := fe.Error["message"].(string); ok && m != "" {
				msg = v.t("auth.error") + " (" + m + ")"
			}
		}
	}
	v.render(http.StatusOK, "error", v.t("auth.error.title"), errorPage{Status: http.StatusBadRequest, Message: msg})
	return nil
}

// logout ends the Kratos session.
func (p *Portal) logout(v *view) error {
	cookie := v.r.Header.Get("Cookie")
	lf, resp, err := p.kratos.FrontendAPI.CreateBrowserLogoutFlow(v.r.Context()).Cookie(cookie).Execute()
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return v.redirect("/")
		}
		return fmt.Errorf("portal: kratos logout: %w", err)
	}
	resp, err = p.kratos.FrontendAPI.UpdateLogoutFlow(v.r.Context()).Token(lf.LogoutToken).Cookie(cookie).Execute()
	forwardCookies(v.w, resp)
	if err != nil && !errors.Is(err, io.EOF) && (resp == nil || resp.StatusCode >= 400) {
		return fmt.Errorf("portal: kratos logout: %w", err)
	}
	return v.redirect("/?done=signed_out")
}
