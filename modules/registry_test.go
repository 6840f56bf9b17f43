package modules_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/stretchr/testify/require"

	"yamen/modules"
)

type fake struct{ info modules.Info }

func (f fake) Module() modules.Info { return f.info }

func mod(id string, needs ...string) fake {
	return fake{modules.Info{ID: id, Title: modules.Text{ZH: id, EN: id}, Bundles: []string{"other"}, Needs: needs}}
}

type limits struct {
	Days     int      `json:"days" required:"false" minimum:"1" maximum:"30" default:"7"`
	Prefix   string   `json:"prefix" required:"false" maxLength:"4" default:"A"`
	Channels []string `json:"channels" required:"false" enum:"sms,email" default:"sms"`
	Strict   bool     `json:"strict" required:"false" default:"true"`
}

func TestNewRegistryRefusesBadDeclarations(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		mods []modules.Module
		want string
	}{
		"DuplicateID":       {[]modules.Module{mod("aa"), mod("aa")}, "registered twice"},
		"BadID":             {[]modules.Module{mod("A-B")}, "module id"},
		"UnknownNeed":       {[]modules.Module{mod("aa", "zz")}, "unknown module"},
		"Cycle":             {[]modules.Module{mod("aa", "bb"), mod("bb", "cc"), mod("cc", "aa")}, "cycle"},
		"ForeignPermission": {[]modules.Module{fake{modules.Info{ID: "aa", Title: modules.Text{ZH: "a", EN: "a"}, Permissions: []modules.Permission{{Name: "bb:read", Title: modules.Text{ZH: "读"}}}}}}, "must be named aa:"},
		"ShortPermission":   {[]modules.Module{fake{modules.Info{ID: "abcdef", Title: modules.Text{ZH: "a", EN: "a"}, Permissions: []modules.Permission{{Name: "ab:cd", Title: modules.Text{ZH: "读"}}}}}}, "must be named abcdef:"},
		"UnknownKind":       {[]modules.Module{fake{modules.Info{ID: "aa", Title: modules.Text{ZH: "a", EN: "a"}, Bundles: []string{"bank"}}}}, "unknown tenant kind"},
		"SettingsNotStruct": {[]modules.Module{fake{modules.Info{ID: "aa", Title: modules.Text{ZH: "a", EN: "a"}, Settings: 3}}}, "must be a struct"},
		"NoTitle":           {[]modules.Module{fake{modules.Info{ID: "aa"}}}, "title"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := modules.NewRegistry(tc.mods...)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	type otherLimits struct {
		N int `json:"n" required:"false" default:"1"`
	}
	withSettings := mod("cc", "aa")
	withSettings.info.Settings = limits{}
	another := mod("dd")
	another.info.Settings = otherLimits{}
	another.info.Bundles = []string{modules.EveryKind}
	reg, err := modules.NewRegistry(mod("aa"), mod("bb", "aa"), withSettings, another)
	require.NoError(t, err)

	require.Equal(t, []string{"bb", "cc"}, reg.Dependents("aa"))
	require.Equal(t, []string{"aa", "bb", "cc", "dd"}, reg.Bundle("other"))
	require.Equal(t, []string{"dd"}, reg.Bundle("police_bureau"))

	got, errs := reg.ValidateSettings("cc", []byte(`{"days": 3}`))
	require.Empty(t, errs)
	require.Equal(t, map[string]any{"days": float64(3), "prefix": "A", "channels": []any{"sms"}, "strict": true}, got)

	_, errs = reg.ValidateSettings("cc", []byte(`{"days": 0, "prefix": "TOOLONG", "channels": ["fax"], "extra": 1}`))
	var locs []string
	for _, e := range errs {
		locs = append(locs, e.(*huma.ErrorDetail).Location)
	}
	require.ElementsMatch(t, []string{"body.days", "body.prefix", "body.channels[0]", "body.extra"}, locs)

	for _, raw := range []string{`[]`, `"x"`, `{`, `null`} {
		_, errs = reg.ValidateSettings("cc", []byte(raw))
		require.NotEmpty(t, errs, raw)
	}
	_, errs = reg.ValidateSettings("aa", []byte(`{"x": 1}`))
	require.NotEmpty(t, errs, "a module without settings takes none")

	s := reg.SettingsSchema("cc")
	require.Equal(t, "object", s.Type)
	require.Contains(t, s.Properties, "days")
	require.Nil(t, reg.SettingsSchema("aa"))
}

// FuzzValidateSettings: whatever a tenant admin sends, validation neither
// panics nor accepts what the schema forbids, and what it accepts, it
// accepts again.
func FuzzValidateSettings(f *testing.F) {
	m := mod("cc")
	m.info.Settings = limits{}
	reg, err := modules.NewRegistry(m)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{`{}`, `{"days": 7}`, `{"days": -1}`, `{"days": 1e309}`, `{"prefix": "𠀀䶮"}`,
		`{"channels": ["sms", "email", "sms"]}`, `{"strict": "yes"}`, `[1,2]`, `{"days": {"$ref": "#"}}`, "\xff", `{"a":` + strings.Repeat("[", 100)} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, errs := reg.ValidateSettings("cc", raw)
		if len(errs) > 0 {
			for _, e := range errs {
				d, ok := e.(*huma.ErrorDetail)
				if !ok || !strings.HasPrefix(d.Location, "body") {
					t.Fatalf("error without a body location: %#v", e)
				}
			}
			return
		}
		days, ok := got["days"].(float64)
		if !ok || days < 1 || days > 30 {
			t.Fatalf("accepted days %v", got["days"])
		}
		again, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if _, errs := reg.ValidateSettings("cc", again); len(errs) > 0 {
			t.Fatalf("accepted %s but not its normal form %s: %v", raw, again, errs)
		}
	})
}
