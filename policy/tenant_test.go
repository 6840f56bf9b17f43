package policy_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"yamen/policy"
)

const goodTenantRego = `package yamen.tenant.demo_hall

# 夜间不得导出 (no exports at night): here, simply no exports of units.
deny contains "本租户禁止导出单位数据 (this tenant exports no units)" if input.action == "units:export"

masks contains "address"

test_units_export_denied if {
	deny["本租户禁止导出单位数据 (this tenant exports no units)"] with input as {"action": "units:export"}
}

test_read_not_denied if {
	count(deny) == 0 with input as {"action": "units:read"}
}
`

func TestCheckTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	rep, err := policy.CheckTenant(ctx, "demo-hall", goodTenantRego)
	require.NoError(t, err)
	require.Equal(t, 2, rep.Passed)

	for name, tc := range map[string]struct {
		source, want string
	}{
		"WrongPackage":  {strings.Replace(goodTenantRego, "demo_hall", "other", 1), "yamen.tenant.demo_hall"},
		"SyntaxError":   {"package yamen.tenant.demo_hall\n\ndeny contains if {\n", "3:"},
		"FailingTest":   {goodTenantRego + "\ntest_wrong if {\n\tcount(deny) == 5 with input as {\"action\": \"units:read\"}\n}\n", "test_wrong"},
		"NoTests":       {"package yamen.tenant.demo_hall\n\ndeny contains \"x\" if input.action == \"a:b\"\n", "test_"},
		"NetworkBanned": {"package yamen.tenant.demo_hall\n\ndeny contains r if { r := http.send({\"method\": \"get\", \"url\": \"http://127.0.0.1/\"}).body }\n\ntest_x if true\n", "http.send"},
		"TooLarge":      {"package yamen.tenant.demo_hall\n#" + strings.Repeat("x", 70<<10), "bytes"},
		"Empty":         {"", ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := policy.CheckTenant(ctx, "demo-hall", tc.source)
			var up *policy.UploadError
			require.True(t, errors.As(err, &up), "%v", err)
			require.NotEmpty(t, up.Messages)
			require.Contains(t, strings.Join(up.Messages, "\n"), tc.want)
		})
	}
}

func TestTenantPolicyRefusesAndMasks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := setup(t)
	e, err := base.WithTenant(ctx, "demo-hall", goodTenantRego)
	require.NoError(t, err)
	key := policy.Subject{Kind: "tenant_key", ID: "k", Scopes: []string{"*"}}

	d, err := e.Decide(ctx, policy.Input{Subject: key, Action: "units:export"})
	require.NoError(t, err)
	require.False(t, d.Allow)
	require.Contains(t, d.Reasons, "本租户禁止导出单位数据 (this tenant exports no units)")

	d, err = e.Decide(ctx, policy.Input{Subject: key, Action: "units:read", Fields: []string{"phone"}})
	require.NoError(t, err)
	require.True(t, d.Allow)
	require.Contains(t, d.Masks, "address")

	d, err = base.Decide(ctx, policy.Input{Subject: key, Action: "units:export"})
	require.NoError(t, err)
	require.True(t, d.Allow, "other tenants are not bound by it")
}

// A tenant's rego cannot grant what roles and keys do not.
func TestTenantPolicyCannotGrant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := "package yamen.tenant.demo_hall\n\nallow := true\n\ntest_allow if allow\n"
	_, err := policy.CheckTenant(ctx, "demo-hall", src)
	require.NoError(t, err)
	e, err := setup(t).WithTenant(ctx, "demo-hall", src)
	require.NoError(t, err)
	d, err := e.Decide(ctx, policy.Input{Subject: policy.Subject{Kind: "tenant_key", Scopes: []string{"orgs:read"}}, Action: "orgs:write"})
	require.NoError(t, err)
	require.False(t, d.Allow)
}

// FuzzCheckTenant: whatever a tenant admin uploads, the check neither panics
// nor accepts without passing tests.
func FuzzCheckTenant(f *testing.F) {
	for _, s := range []string{goodTenantRego, "", "package yamen.tenant.demo_hall", "package x\n", "package yamen.tenant.demo_hall\nimport data.yamen.authz\ntest_a if authz.allow\n",
		"package yamen.tenant.demo_hall\ntest_loop if { some i in numbers.range(1, 100000000) }\n", "\x00\xff", "package yamen.tenant.demo_hall\ndeny contains \"𠀀䶮\" if true\ntest_x if deny[\"𠀀䶮\"]\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		rep, err := policy.CheckTenant(context.Background(), "demo-hall", src)
		if err != nil {
			var up *policy.UploadError
			if !errors.As(err, &up) {
				t.Fatalf("not an upload error: %v", err)
			}
			return
		}
		if rep.Passed == 0 || len(rep.Failed) > 0 {
			t.Fatalf("accepted with report %+v", rep)
		}
	})
}

// A tenant with rego of its own keeps what modules open to citizens.
func TestTenantPolicyKeepsModulePolicies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base, err := policy.New(ctx, policy.Module{Name: "modules/hall.rego", Source: "package yamen.modules.hall\n\npublic_actions := {\"citizen\": {\"booking:book\"}}\n"})
	require.NoError(t, err)
	e, err := base.WithTenant(ctx, "demo-hall", goodTenantRego)
	require.NoError(t, err)
	citizen := policy.Subject{Kind: "citizen", ID: "c"}
	for name, eng := range map[string]*policy.Engine{"Base": base, "Tenant": e} {
		d, err := eng.Decide(ctx, policy.Input{Subject: citizen, Action: "booking:book"})
		require.NoError(t, err)
		require.True(t, d.Allow, "%s: %v", name, d.Reasons)
		d, err = eng.Decide(ctx, policy.Input{Subject: citizen, Action: "booking:cancel_any"})
		require.NoError(t, err)
		require.False(t, d.Allow, name)
		require.NotEmpty(t, d.Reasons, name)
	}
}
