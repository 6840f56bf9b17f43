package portal

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// A module's settings are edited through a form made from their JSON
// schema (modules.Registry.SettingsSchema): a checkbox for a boolean, a
// number box, a select or a group of checkboxes for an enum, one line per
// item for a list of strings, JSON for anything deeper. The module's own
// validation (Registry.ValidateSettings) decides; its complaints appear at
// their fields.

type settingsPage struct {
	Module string
	Title  string
	Fields []settingField
	Errors formErrors
}

type settingField struct {
	Name, Label, Help, Kind, Value string
	Checked                        bool
	Options                        []settingOption
	Error                          string
}

type settingOption struct {
	Value, Label string
	Checked      bool
}

const (
	kindBool   = "bool"
	kindNumber = "number"
	kindSelect = "select"
	kindChecks = "checks"
	kindLines  = "lines"
	kindText   = "text"
	kindJSON   = "json"
)

func kindOf(s *huma.Schema) string {
	switch s.Type {
	case "boolean":
		return kindBool
	case "integer", "number":
		return kindNumber
	case "string":
		if len(s.Enum) > 0 {
			return kindSelect
		}
		return kindText
	case "array":
		if s.Items != nil && s.Items.Type == "string" {
			if len(s.Items.Enum) > 0 {
				return kindChecks
			}
			return kindLines
		}
	}
	return kindJSON
}

// bilingual splits a doc written "中文 (English)".
func bilingual(lang, doc string) string {
	i := strings.LastIndex(doc, " (")
	if i < 0 || !strings.HasSuffix(doc, ")") {
		return doc
	}
	if lang == langEN {
		return doc[i+2 : len(doc)-1]
	}
	return doc[:i]
}

func propertyNames(s *huma.Schema) []string {
	names := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// fieldsOf builds the form's fields from the schema and the values.
func (v *view) fieldsOf(schema *huma.Schema, values map[string]any, raw map[string]string, fe formErrors) []settingField {
	var out []settingField
	for _, name := range propertyNames(schema) {
		ps := schema.Properties[name]
		f := settingField{Name: name, Kind: kindOf(ps), Label: bilingual(v.lang, ps.Description), Error: fe.For(name)}
		if f.Label == "" {
			f.Label = name
		}
		val := values[name]
		switch f.Kind {
		case kindBool:
			f.Checked, _ = val.(bool)
		case kindSelect:
			for _, e := range ps.Enum {
				s := fmt.Sprint(e)
				f.Options = append(f.Options, settingOption{Value: s, Label: s, Checked: fmt.Sprint(val) == s})
			}
		case kindChecks:
			held := map[string]bool{}
			if list, ok := val.([]any); ok {
				for _, x := range list {
					held[fmt.Sprint(x)] = true
				}
			}
			for _, e := range ps.Items.Enum {
				s := fmt.Sprint(e)
				f.Options = append(f.Options, settingOption{Value: s, Label: s, Checked: held[s]})
			}
		case kindLines:
			if list, ok := val.([]any); ok {
				lines := make([]string, len(list))
				for i, x := range list {
					lines[i] = fmt.Sprint(x)
				}
				f.Value = strings.Join(lines, "\n")
			}
		case kindNumber, kindText:
			if val != nil {
				f.Value = fmt.Sprint(val)
			}
		default:
			b, _ := json.MarshalIndent(val, "", "  ")
			f.Value = string(b)
		}
		if r, ok := raw[name]; ok {
			f.Value = r
		}
		if ps.Minimum != nil && ps.Maximum != nil {
			f.Help = v.t("settings.range", fmt.Sprint(*ps.Minimum), fmt.Sprint(*ps.Maximum))
		}
		out = append(out, f)
	}
	return out
}

func (p *Portal) moduleTitle(v *view, module string) (string, error) {
	info, ok := p.reg.Info(module)
	if !ok {
		return "", errNotFound
	}
	return textIn(v.lang, info.Title), nil
}

// showSettings shows a module's settings form.
func (p *Portal) showSettings(v *view) error {
	module := v.r.PathValue("module")
	title, err := p.moduleTitle(v, module)
	if err != nil {
		return err
	}
	values, schema, err := p.api.ModuleSettings(v.ctx, module)
	if err != nil {
		return err
	}
	sp := settingsPage{Module: module, Title: title}
	if schema != nil {
		sp.Fields = v.fieldsOf(schema, values, nil, formErrors{})
	}
	v.render(http.StatusOK, "admin_settings", v.t("admin.settings", title), sp)
	return nil
}

// saveSettings reads the form back into settings and saves them; a bad
// value shows again at its field.
func (p *Portal) saveSettings(v *view) error {
	module := v.r.PathValue("module")
	title, err := p.moduleTitle(v, module)
	if err != nil {
		return err
	}
	_, schema, err := p.api.ModuleSettings(v.ctx, module)
	if err != nil {
		return err
	}
	if schema == nil {
		return v.redirect("/t/" + v.tenant.Slug + "/admin/modules")
	}
	settings, raw, fe := v.readSettings(schema)
	// The module's own check names every bad field, also beside the ones
	// that could not even be read.
	if body, err := json.Marshal(settings); err == nil {
		if _, errs := p.reg.ValidateSettings(module, body); len(errs) > 0 {
			for _, e := range errs {
				var d *huma.ErrorDetail
				if !errors.As(e, &d) {
					return e
				}
				name := fieldOf(d.Location)
				if name == "" {
					fe.Form = v.validationText(d.Message)
				} else if fe.Fields[name] == "" {
					fe.Fields[name] = v.validationText(d.Message)
				}
			}
		}
	}
	if !fe.Any() {
		_, err = p.api.SaveModuleSettings(detach(v.ctx), module, settings)
		if err == nil {
			return v.redirect("/t/" + v.tenant.Slug + "/admin/modules/" + module + "/settings?done=saved")
		}
		if fe, err = v.errorsOf(err); err != nil {
			return err
		}
	}
	sp := settingsPage{Module: module, Title: title, Errors: fe, Fields: v.fieldsOf(schema, settings, raw, fe)}
	v.render(http.StatusUnprocessableEntity, "admin_settings", v.t("admin.settings", title), sp)
	return nil
}

// readSettings converts the form's fields to the schema's types. raw keeps
// what was typed into boxes, to show it again.
func (v *view) readSettings(schema *huma.Schema) (map[string]any, map[string]string, formErrors) {
	form := v.r.PostForm
	settings := map[string]any{}
	raw := map[string]string{}
	fe := formErrors{Fields: map[string]string{}}
	for _, name := range propertyNames(schema) {
		ps := schema.Properties[name]
		switch kindOf(ps) {
		case kindBool:
			settings[name] = form.Get(name) == "true"
		case kindNumber:
			s := strings.TrimSpace(form.Get(name))
			raw[name] = s
			if s == "" {
				continue // the default
			}
			if ps.Type == "integer" {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					fe.Fields[name] = v.t("settings.integer")
					continue
				}
				settings[name] = n
			} else {
				n, err := strconv.ParseFloat(s, 64)
				if err != nil {
					fe.Fields[name] = v.t("settings.number")
					continue
				}
				settings[name] = n
			}
		case kindSelect, kindText:
			settings[name] = form.Get(name)
		case kindChecks:
			list := []any{}
			for _, s := range form[name] {
				list = append(list, s)
			}
			settings[name] = list
		case kindLines:
			raw[name] = form.Get(name)
			list := []any{}
			for _, line := range strings.Split(form.Get(name), "\n") {
				if line = strings.TrimSpace(line); line != "" {
					list = append(list, line)
				}
			}
			settings[name] = list
		default:
			s := strings.TrimSpace(form.Get(name))
			raw[name] = s
			if s == "" {
				continue
			}
			var x any
			if err := json.Unmarshal([]byte(s), &x); err != nil {
				fe.Fields[name] = v.t("settings.json")
				continue
			}
			settings[name] = x
		}
	}
	return settings, raw, fe
}
