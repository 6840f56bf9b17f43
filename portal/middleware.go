package portal

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"yamen/api"
	"yamen/problem"
	"yamen/tenants"
)

// Cookies the portal sets. All are HttpOnly and SameSite; they are Secure
// when the request came over TLS (directly or, by X-Forwarded-Proto, through
// a proxy). Over plain http (development, tests on 127.0.0.1) they are not
// Secure, or the browser would drop them; production serves the portal over
// https only.
const (
	cookieCSRF  = "yamen_csrf"
	cookieLang  = "yamen_lang"
	cookieElder = "yamen_elder"
	// cookieSession is the session cookie of Kratos (infra/kratos/kratos.yml
	// session.cookie.name); the portal forwards it to resolve the person.
	cookieSession = "yamen_session"
	// csrfField is the form field of the portal's CSRF token. Kratos's
	// forms carry their own, csrf_token, which goes on to Kratos.
	csrfField = "_csrf"
)

// contentSecurityPolicy allows only the portal's own scripts, styles and
// images, and forms posted to the portal itself.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secure sets the headers every answer carries.
func (p *Portal) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if isTLS(r) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// laxCookie is for preferences: sent on links from other sites, so a page opened
// from a link shows in the chosen language and mode.
const laxCookie = http.SameSiteLaxMode

func isTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int, sameSite http.SameSite) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true, Secure: isTLS(r), SameSite: sameSite})
}

// view is one request to a page: who asks, in which language and mode, and
// in which tenant.
type view struct {
	p      *Portal
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	lang   string
	elder  bool
	csrf   string
	person *tenants.Subject
	// tenant and actor are set on staff pages; ctx then carries the
	// access decision (api.Server.Authorize).
	tenant *tenants.Tenant
	actor  *tenants.Actor
}

// csrfToken ties a form to the browser: an HMAC of the browser's random
// CSRF cookie. A page on another site can neither read the cookie nor
// compute the token; a cookie planted by a sibling host is useless without
// the key.
func (p *Portal) csrfToken(cookie string) string {
	m := hmac.New(sha256.New, p.secret)
	m.Write([]byte("portal-csrf\x00" + cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (p *Portal) newView(w http.ResponseWriter, r *http.Request) *view {
	v := &view{p: p, w: w, r: r, ctx: r.Context(), lang: langZH}
	if c, err := r.Cookie(cookieLang); err == nil && c.Value == langEN {
		v.lang = langEN
	}
	if c, err := r.Cookie(cookieElder); err == nil && c.Value == "1" {
		v.elder = true
	}
	c, err := r.Cookie(cookieCSRF)
	if err != nil || len(c.Value) < 32 {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		c = &http.Cookie{Value: base64.RawURLEncoding.EncodeToString(b)}
		setCookie(w, r, cookieCSRF, c.Value, 0, http.SameSiteStrictMode)
	}
	v.csrf = p.csrfToken(c.Value)
	if s, err := r.Cookie(cookieSession); err == nil && s.Value != "" {
		subject, err := p.api.Person(r.Context(), cookieSession+"="+s.Value)
		if err == nil {
			v.person = &subject
		} else if pe, ok := problem.As(err); !ok || pe.Status != http.StatusUnauthorized {
			p.log.Warn("portal: resolving a session", "error", err)
		}
	}
	return v
}

// checkCSRF accepts a form only with the token of the browser's cookie.
func (p *Portal) checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(cookieCSRF)
	if err != nil || c.Value == "" {
		return false
	}
	got := r.PostFormValue(csrfField)
	return got != "" && hmac.Equal([]byte(got), []byte(p.csrfToken(c.Value)))
}

// maxFormBytes bounds a form's body; a tenant policy is the largest field.
const maxFormBytes = 256 << 10

// page serves a page anyone may open.
func (p *Portal) page(h func(v *view) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := p.newView(w, r)
		v.finish(h(v))
	}
}

// form serves a form post: refused with 403 without its CSRF token.
func (p *Portal) form(h func(v *view) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		v := p.newView(w, r)
		if !p.checkCSRF(r) {
			v.finish(problem.Forbidden("表单已过期或来源不明，请返回重新提交 (the form has expired or did not come from this site; go back and submit it again)"))
			return
		}
		v.finish(h(v))
	}
}

// staff serves a tenant admin page: the person must be signed in as staff
// and the tenant's policy must allow action, as for the API.
func (p *Portal) staff(action string, h func(v *view) error) http.HandlerFunc {
	return p.page(p.inTenant(action, h))
}

// staffForm is staff for a form post.
func (p *Portal) staffForm(action string, h func(v *view) error) http.HandlerFunc {
	return p.form(p.inTenant(action, h))
}

func (p *Portal) inTenant(action string, h func(v *view) error) func(v *view) error {
	return func(v *view) error {
		if v.person == nil {
			return v.redirect("/auth/login?return_to=" + url.QueryEscape(v.r.URL.RequestURI()))
		}
		ctx, err := p.api.Authorize(v.r.Context(), v.r.PathValue("tenant"), *v.person, action)
		if err != nil {
			return err
		}
		v.ctx = ctx
		t, _ := tenants.TenantFrom(ctx)
		v.tenant = &t
		if s, ok := tenants.SubjectFrom(ctx); ok {
			v.person = &s
		}
		v.actor = api.ActorOf(ctx)
		return h(v)
	}
}

// redirect answers a form with 303 See Other, a page with 302.
func (v *view) redirect(to string) error {
	status := http.StatusFound
	if v.r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	http.Redirect(v.w, v.r, to, status)
	return nil
}

// finish shows an error the handler returned as a page.
func (v *view) finish(err error) {
	if err == nil {
		return
	}
	status, msg := http.StatusInternalServerError, v.t("error.internal")
	var mbe *http.MaxBytesError
	if pe, ok := problem.As(err); ok {
		status, msg = pe.Status, pe.Detail
		if status == http.StatusUnauthorized && v.r.Method == http.MethodGet {
			_ = v.redirect("/auth/login?return_to=" + url.QueryEscape(v.r.URL.RequestURI()))
			return
		}
	} else if errors.As(err, &mbe) {
		status, msg = http.StatusRequestEntityTooLarge, v.t("error.too_large")
	} else {
		v.p.log.Error("portal", "path", v.r.URL.Path, "error", err)
	}
	v.render(status, "error", v.t("error.title"), errorPage{Status: status, Message: msg})
}

type errorPage struct {
	Status  int
	Message string
}

// safeReturn keeps only a path of this site, never another site's URL.
func safeReturn(s string) string {
	if s == "" || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") {
		return "/"
	}
	return s
}
