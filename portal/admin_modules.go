package portal

import (
	"net/http"
	"net/url"

	"yamen/api"
)

type modulesPage struct {
	Modules []api.ModuleState
	Error   string
}

// listModules shows the modules the platform entitles the tenant to, with
// switches to enable and disable them.
func (p *Portal) listModules(v *view) error {
	return p.renderModules(v, http.StatusOK, "")
}

func (p *Portal) renderModules(v *view, status int, msg string) error {
	states, err := p.api.ModuleStates(v.ctx)
	if err != nil {
		return err
	}
	var entitled []api.ModuleState
	for _, s := range states {
		if s.Entitled {
			entitled = append(entitled, s)
		}
	}
	v.render(status, "admin_modules", v.t("admin.modules"), modulesPage{Modules: entitled, Error: msg})
	return nil
}

// switchModule enables or disables a module.
func (p *Portal) switchModule(v *view) error {
	module, verb := v.r.PathValue("module"), v.r.PathValue("verb")
	if verb != "enable" && verb != "disable" {
		return errNotFound
	}
	err := p.api.SetModuleEnabled(detach(v.ctx), module, verb == "enable")
	if err != nil {
		fe, err := v.errorsOf(err)
		if err != nil {
			return err
		}
		return p.renderModules(v, http.StatusConflict, fe.Form)
	}
	return v.redirect("/t/" + v.tenant.Slug + "/admin/modules?done=" + url.QueryEscape(verb+"d") + "#m-" + module)
}
