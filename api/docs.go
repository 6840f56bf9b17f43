package api

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

//go:embed docs/docs.html
var docsFS embed.FS

var docsTemplate = template.Must(template.ParseFS(docsFS, "docs/docs.html"))

// The API's human documentation is rendered here from the OpenAPI document,
// with no script and nothing fetched from elsewhere: it must work on a
// government intranet that reaches no CDN.
type docsPage struct {
	Title, Version, Description string
	Groups                      []docsGroup
}

type docsGroup struct {
	Tag        string
	Operations []docsOperation
}

type docsOperation struct {
	ID, Method, Path, Summary, Description, Action string
	Public                                         bool
	Params                                         []docsField
	Body                                           []docsField
	Responses                                      []string
}

type docsField struct {
	Name, In, Type, Rules, Doc string
	Required                   bool
}

func (s *Server) registerDocs(mux *http.ServeMux) {
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		if err := docsTemplate.Execute(w, s.docsPage()); err != nil {
			if info := requestInfoFrom(r.Context()); info != nil {
				info.err = fmt.Errorf("docs: %w", err)
			}
		}
	})
}

func (s *Server) docsPage() docsPage {
	doc := s.api.OpenAPI()
	reg := doc.Components.Schemas
	groups := map[string]*docsGroup{}
	for path, item := range doc.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op == nil || op.Hidden {
				continue
			}
			tag := "other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			g := groups[tag]
			if g == nil {
				g = &docsGroup{Tag: tag}
				groups[tag] = g
			}
			action, _ := op.Extensions["x-yamen-action"].(string)
			d := docsOperation{ID: op.OperationID, Method: op.Method, Path: path, Summary: op.Summary,
				Description: op.Description, Action: action, Public: action == "public"}
			for _, p := range op.Parameters {
				d.Params = append(d.Params, field(reg, p.Name, p.In, p.Required, p.Schema, p.Description))
			}
			if op.RequestBody != nil {
				if mt := op.RequestBody.Content["application/json"]; mt != nil && mt.Schema != nil {
					body := deref(reg, mt.Schema)
					for _, name := range sortedKeys(body.Properties) {
						d.Body = append(d.Body, field(reg, name, "body", slices.Contains(body.Required, name), body.Properties[name], ""))
					}
				}
			}
			for status := range op.Responses {
				d.Responses = append(d.Responses, status)
			}
			sort.Strings(d.Responses)
			g.Operations = append(g.Operations, d)
		}
	}
	page := docsPage{Title: doc.Info.Title, Version: doc.Info.Version, Description: doc.Info.Description}
	for _, tag := range sortedKeys(groups) {
		g := groups[tag]
		sort.Slice(g.Operations, func(i, j int) bool {
			if g.Operations[i].Path != g.Operations[j].Path {
				return g.Operations[i].Path < g.Operations[j].Path
			}
			return g.Operations[i].Method < g.Operations[j].Method
		})
		page.Groups = append(page.Groups, *g)
	}
	return page
}

func field(reg huma.Registry, name, in string, required bool, s *huma.Schema, doc string) docsField {
	f := docsField{Name: name, In: in, Required: required, Doc: doc}
	if s == nil {
		return f
	}
	s = deref(reg, s)
	if f.Doc == "" {
		f.Doc = s.Description
	}
	f.Type = s.Type
	if s.Type == "array" && s.Items != nil {
		f.Type = "array of " + deref(reg, s.Items).Type
	}
	if s.Format != "" {
		f.Type += " (" + s.Format + ")"
	}
	var rules []string
	if len(s.Enum) > 0 {
		var vs []string
		for _, v := range s.Enum {
			vs = append(vs, fmt.Sprint(v))
		}
		rules = append(rules, "one of "+strings.Join(vs, ", "))
	}
	if s.Pattern != "" {
		rules = append(rules, "pattern "+s.Pattern)
	}
	if s.MinLength != nil || s.MaxLength != nil {
		rules = append(rules, fmt.Sprintf("length %s–%s", bound(s.MinLength), bound(s.MaxLength)))
	}
	if s.Minimum != nil || s.Maximum != nil {
		rules = append(rules, fmt.Sprintf("range %s–%s", boundF(s.Minimum), boundF(s.Maximum)))
	}
	if s.Default != nil {
		rules = append(rules, fmt.Sprintf("default %v", s.Default))
	}
	f.Rules = strings.Join(rules, "; ")
	return f
}

func deref(reg huma.Registry, s *huma.Schema) *huma.Schema {
	for s != nil && s.Ref != "" {
		s = reg.SchemaFromRef(s.Ref)
	}
	if s == nil {
		return &huma.Schema{}
	}
	return s
}

func bound(p *int) string {
	if p == nil {
		return "…"
	}
	return fmt.Sprint(*p)
}

func boundF(p *float64) string {
	if p == nil {
		return "…"
	}
	return fmt.Sprint(*p)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
