package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"yamen/modules"
	"yamen/problem"
	"yamen/tenants"
)

// ModuleState is a module as one tenant has it.
type ModuleState struct {
	ID        string       `json:"id"`
	Title     modules.Text `json:"title"`
	Needs     []string     `json:"needs"`
	Entitled  bool         `json:"entitled" doc:"平台已授权 (the platform entitles the tenant)"`
	Enabled   bool         `json:"enabled" doc:"租户已启用 (the tenant has it on)"`
	UpdatedAt *time.Time   `json:"updated_at"`
	UpdatedBy string       `json:"updated_by"`
}

// ModuleStatesBody lists every module of the platform as the tenant has it.
type ModuleStatesBody struct {
	Body []ModuleState
}

type ModulePath struct {
	TenantPath
	Module string `path:"module" maxLength:"31"`
}

// SettingsBody is a module's settings with the schema that describes them.
type SettingsBody struct {
	Body struct {
		Module   string         `json:"module"`
		Settings map[string]any `json:"settings"`
		Schema   *huma.Schema   `json:"schema,omitempty" doc:"设置的 JSON Schema，可据此生成表单 (JSON schema of the settings, to build a form from)"`
	}
}

type putSettingsInput struct {
	ModulePath
	Body map[string]any
}

func (s *Server) moduleStates(ctx context.Context, t tenants.Tenant, subject tenants.Subject) (*ModuleStatesBody, error) {
	r, err := s.db.Reader(t.ID, subject.String())
	if err != nil {
		return nil, err
	}
	states, err := tenants.ModuleStates(ctx, r)
	if err != nil {
		return nil, err
	}
	out := &ModuleStatesBody{Body: make([]ModuleState, 0, len(s.reg.All()))}
	for _, m := range s.reg.All() {
		info := m.Module()
		ms := ModuleState{ID: info.ID, Title: info.Title, Needs: nonNil(info.Needs)}
		if st, ok := states[info.ID]; ok {
			ms.Entitled, ms.Enabled, ms.UpdatedBy = st.Entitled, st.Enabled, st.UpdatedBy
			ms.UpdatedAt = &st.UpdatedAt
		}
		out.Body = append(out.Body, ms)
	}
	return out, nil
}

// refuseIfNeeded refuses to switch off module while an enabled module needs it.
func (s *Server) refuseIfNeeded(module string, states map[string]tenants.ModuleState) error {
	var needers []string
	for _, d := range s.reg.Dependents(module) {
		if states[d].Enabled {
			needers = append(needers, d)
		}
	}
	if len(needers) > 0 {
		list := strings.Join(needers, ", ")
		return problem.Conflict(fmt.Sprintf("模块 %s 仍被已启用的模块 %s 需要，请先停用它们 (module %s is needed by enabled modules %s; disable them first)", module, list, module, list))
	}
	return nil
}

func (s *Server) registerTenantModules(r *modules.Router) {
	modules.Register(r, "modules:read", modules.TenantWide(rowsConfiguration, huma.Operation{
		OperationID: "list-modules", Method: http.MethodGet, Path: "/modules", Summary: "模块列表 List modules",
		Description: "Every module of the platform with whether this tenant is entitled to it and has it enabled.",
	}), func(ctx context.Context, _ *TenantPath) (*ModuleStatesBody, error) {
		t, subject := requestParties(ctx)
		return s.moduleStates(ctx, t, subject)
	})

	for _, on := range []bool{true, false} {
		verb, zh := "enable", "启用"
		if !on {
			verb, zh = "disable", "停用"
		}
		modules.Register(r, "modules:manage", huma.Operation{
			OperationID: verb + "-module", Method: http.MethodPost, Path: "/modules/{module}/" + verb, Summary: zh + "模块 " + verb + " a module",
		}, func(ctx context.Context, in *ModulePath) (*ModuleStatesBody, error) {
			return s.setEnabled(ctx, in.Module, on)
		})
	}

	modules.Register(r, "modules:read", modules.TenantWide(rowsConfiguration, huma.Operation{
		OperationID: "get-module-settings", Method: http.MethodGet, Path: "/modules/{module}/settings", Summary: "模块设置 A module's settings",
	}), func(ctx context.Context, in *ModulePath) (*SettingsBody, error) {
		t, subject := requestParties(ctx)
		st, err := s.entitledState(ctx, t, subject, in.Module)
		if err != nil {
			return nil, err
		}
		out := &SettingsBody{}
		out.Body.Module = in.Module
		out.Body.Settings = s.reg.WithDefaults(in.Module, st.Settings)
		out.Body.Schema = s.reg.SettingsSchema(in.Module)
		return out, nil
	})

	modules.Register(r, "modules:manage", huma.Operation{
		OperationID: "put-module-settings", Method: http.MethodPut, Path: "/modules/{module}/settings", Summary: "保存模块设置 Save a module's settings",
		Description: "The body is checked against the module's settings schema; every bad field is named.",
	}, func(ctx context.Context, in *putSettingsInput) (*SettingsBody, error) {
		settings, err := s.SaveModuleSettings(ctx, in.Module, in.Body)
		if err != nil {
			return nil, err
		}
		out := &SettingsBody{}
		out.Body.Module, out.Body.Settings, out.Body.Schema = in.Module, settings, s.reg.SettingsSchema(in.Module)
		return out, nil
	})
}

// SaveModuleSettings checks a module's settings against its schema and saves
// them for the tenant of ctx, returning them with defaults filled in. Bad
// settings are a 422 whose *huma.ErrorDetail errors name each bad field
// ("body.x").
func (s *Server) SaveModuleSettings(ctx context.Context, module string, body map[string]any) (map[string]any, error) {
	t, subject := requestParties(ctx)
	if _, ok := s.reg.Info(module); !ok {
		return nil, unknownModule(module)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, problem.InvalidField("body", "无法解析 (cannot be read)", nil)
	}
	settings, errs := s.reg.ValidateSettings(module, raw)
	if len(errs) > 0 {
		return nil, huma.NewError(http.StatusUnprocessableEntity, "validation failed", errs...)
	}
	err = s.db.Tx(ctx, t.ID, subject.String(), func(tx *tenants.Tx) error {
		states, err := tenants.ModuleStates(ctx, tx)
		if err != nil {
			return err
		}
		if !states[module].Entitled {
			return notEntitled(module)
		}
		return tenants.SaveSettings(ctx, tx, module, body)
	})
	if err != nil {
		return nil, err
	}
	return settings, nil
}

func (s *Server) entitledState(ctx context.Context, t tenants.Tenant, subject tenants.Subject, module string) (tenants.ModuleState, error) {
	if _, ok := s.reg.Info(module); !ok {
		return tenants.ModuleState{}, unknownModule(module)
	}
	r, err := s.db.Reader(t.ID, subject.String())
	if err != nil {
		return tenants.ModuleState{}, err
	}
	states, err := tenants.ModuleStates(ctx, r)
	if err != nil {
		return tenants.ModuleState{}, err
	}
	st, ok := states[module]
	if !ok || !st.Entitled {
		return tenants.ModuleState{}, notEntitled(module)
	}
	return st, nil
}

func notEntitled(module string) error {
	return problem.Forbidden(fmt.Sprintf("平台未授权本租户使用模块 %s (the platform has not entitled this tenant to module %s)", module, module))
}

func (s *Server) setEnabled(ctx context.Context, module string, on bool) (*ModuleStatesBody, error) {
	t, subject := requestParties(ctx)
	info, ok := s.reg.Info(module)
	if !ok {
		return nil, unknownModule(module)
	}
	err := s.db.Tx(ctx, t.ID, subject.String(), func(tx *tenants.Tx) error {
		if err := tenants.LockModules(ctx, tx); err != nil {
			return err
		}
		states, err := tenants.ModuleStates(ctx, tx)
		if err != nil {
			return err
		}
		if !states[module].Entitled {
			return notEntitled(module)
		}
		if states[module].Enabled == on {
			return nil
		}
		if on {
			var missing []string
			for _, n := range info.Needs {
				if !states[n].Enabled {
					missing = append(missing, n)
				}
			}
			if len(missing) > 0 {
				list := strings.Join(missing, ", ")
				return problem.Conflict(fmt.Sprintf("模块 %s 需要先启用 %s (module %s needs %s enabled first)", module, list, module, list))
			}
		} else if err := s.refuseIfNeeded(module, states); err != nil {
			return err
		}
		return tenants.SetEnabled(ctx, tx, module, on)
	})
	if err != nil {
		return nil, err
	}
	s.access.tenantChanged(t)
	return s.moduleStates(ctx, t, subject)
}

// requestParties returns the tenant and subject the access middleware put
// into a tenant operation's context.
func requestParties(ctx context.Context) (tenants.Tenant, tenants.Subject) {
	t, _ := tenants.TenantFrom(ctx)
	s, _ := tenants.SubjectFrom(ctx)
	return t, s
}
