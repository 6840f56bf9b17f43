package portal

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"yamen/modules"
)

// pageSet holds each page's template, for each language: the language is
// bound into the templates' t function when they are parsed.
type pageSet map[string]map[string]*template.Template

// shared are the templates every page is parsed with.
var shared = []string{"templates/layout.html", "templates/parts.html"}

func parsePages() (pageSet, error) {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	set := pageSet{}
	for _, lang := range []string{langZH, langEN} {
		set[lang] = map[string]*template.Template{}
		for _, f := range files {
			if slices.Contains(shared, f) {
				continue
			}
			name := strings.TrimSuffix(path.Base(f), ".html")
			t, err := template.New(name).Funcs(funcs(lang)).ParseFS(templateFS, append(slices.Clone(shared), f)...)
			if err != nil {
				return nil, fmt.Errorf("template %s: %w", f, err)
			}
			set[lang][name] = t
		}
	}
	return set, nil
}

func funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"t":       func(key string, args ...any) string { return translate(lang, key, args...) },
		"tx":      func(t modules.Text) string { return textIn(lang, t) },
		"when":    func(t time.Time) string { return t.In(beijing).Format("2006-01-02 15:04:05") },
		"clock":   func(t time.Time) string { return t.In(beijing).Format("15:04") },
		"rfc3339": func(t time.Time) string { return t.Format(time.RFC3339) },
		// deref shows an optional number (a window number) or nothing.
		"deref": func(n *int) any {
			if n == nil {
				return ""
			}
			return *n
		},
		// pct shows a rate (0.9512) as a percentage (95.1%).
		"pct": func(r float64) string { return fmt.Sprintf("%.1f%%", r*100) },
		// str shows an optional text (an outcome, a status) or nothing.
		"str": func(s *string) string {
			if s == nil {
				return ""
			}
			return *s
		},
		"levels": func() []int { return levelOptions },
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"indent": func(depth int) template.CSS {
			return template.CSS(fmt.Sprintf("margin-inline-start:%.1frem", float64(depth-1)*1.5))
		},
	}
}

// textIn picks a module text's language.
func textIn(lang string, t modules.Text) string {
	if lang == langEN && t.EN != "" {
		return t.EN
	}
	return t.ZH
}

// pageData is what the layout renders around each page's content.
type pageData struct {
	Lang   string
	Title  string
	Elder  bool
	CSRF   string
	Here   string
	Person *personView
	Tenant *tenantView
	Nav    []navLink
	Notice string
	Data   any
}

type personView struct {
	Name string
	Kind string
}

type tenantView struct {
	Slug, Name string
}

var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render writes a page inside the layout.
func (v *view) render(status int, name, title string, data any) {
	t := v.p.pages[v.lang][name]
	if t == nil {
		v.p.log.Error("portal: no template", "name", name)
		http.Error(v.w, "no such page", http.StatusInternalServerError)
		return
	}
	pd := pageData{Lang: v.lang, Title: title, Elder: v.elder, CSRF: v.csrf, Here: v.r.URL.RequestURI(), Data: data}
	if v.person != nil {
		name := v.person.Name
		if name == "" {
			name = v.t("person.anonymous")
		}
		pd.Person = &personView{Name: name, Kind: string(v.person.Kind)}
	}
	if v.tenant != nil {
		pd.Tenant = &tenantView{Slug: v.tenant.Slug, Name: v.tenant.Name}
		pd.Nav = v.nav()
	}
	if k := v.r.URL.Query().Get("done"); k != "" && hasMessage("done."+k) {
		pd.Notice = v.t("done." + k)
	}
	buf := bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufs.Put(buf)
	if err := t.ExecuteTemplate(buf, "layout", pd); err != nil {
		v.p.log.Error("portal: render", "page", name, "error", err)
		http.Error(v.w, v.t("error.internal"), http.StatusInternalServerError)
		return
	}
	h := v.w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", v.lang)
	v.w.WriteHeader(status)
	_, _ = v.w.Write(buf.Bytes())
}

func (v *view) t(key string, args ...any) string { return translate(v.lang, key, args...) }

// static serves the embedded CSS and JavaScript.
func (p *Portal) static() http.Handler {
	files := http.FileServerFS(staticFS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}
