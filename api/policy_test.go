package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"yamen/tenants"
)

func TestTenantPolicy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	pkg := "package yamen.tenant." + strings.ReplaceAll(tn.Slug, "-", "_") + "\n\n"
	noNewOrgs := pkg + `deny contains "本租户冻结组织架构 (the org tree is frozen)" if input.action == "orgs:write"

test_frozen if deny["本租户冻结组织架构 (the org tree is frozen)"] with input as {"action": "orgs:write"}
`
	permissive := pkg + "deny contains \"never\" if false\n\ntest_nothing_denied if count(deny) == 0\n"
	newOrg := func(code string) int {
		return b.do(t, "POST", base+"/orgs", key, map[string]any{"code": code, "name": code, "kind": "other"}).status
	}

	// A broken upload: 422 with the compiler's message, and nothing changes.
	r := b.do(t, "POST", base+"/policies", key, map[string]any{"source": pkg + "deny contains if {\n"})
	requireProblem(t, r, http.StatusUnprocessableEntity)
	require.Contains(t, r.locations(t), "body.source")
	require.Contains(t, string(r.body), "3:")
	r = b.do(t, "POST", base+"/policies", key, map[string]any{"source": strings.Replace(noNewOrgs, `with input as {"action": "orgs:write"}`, `with input as {"action": "orgs:read"}`, 1)})
	requireProblem(t, r, http.StatusUnprocessableEntity)
	require.Contains(t, string(r.body), "test_frozen", "a failing test is named")
	require.Empty(t, b.do(t, "GET", base+"/policies", key, nil).list(t))
	require.Equal(t, http.StatusCreated, newOrg("before"))

	// v1 freezes the tree.
	r = b.do(t, "POST", base+"/policies", key, map[string]any{"source": noNewOrgs})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	require.EqualValues(t, 1, r.json(t)["version"])
	require.Equal(t, http.StatusForbidden, newOrg("frozen"))
	p := requireProblem(t, b.do(t, "POST", base+"/orgs", key, map[string]any{"code": "x", "name": "x", "kind": "other"}), http.StatusForbidden)
	require.Contains(t, p["detail"], "frozen")
	require.Equal(t, http.StatusOK, b.do(t, "GET", base+"/orgs", key, nil).status, "reads are untouched")

	// v2 lifts it; rolling back to v1 freezes again; switching off lifts it.
	require.Equal(t, http.StatusCreated, b.do(t, "POST", base+"/policies", key, map[string]any{"source": permissive}).status)
	require.Equal(t, http.StatusCreated, newOrg("v2"))
	require.Equal(t, http.StatusNoContent, b.do(t, "POST", base+"/policies/1/activate", key, nil).status)
	require.Equal(t, http.StatusForbidden, newOrg("rolled-back"))
	versions := b.do(t, "GET", base+"/policies", key, nil).list(t)
	require.Len(t, versions, 2)
	require.Equal(t, false, versions[0]["active"])
	require.Equal(t, true, versions[1]["active"])
	requireProblem(t, b.do(t, "POST", base+"/policies/9/activate", key, nil), http.StatusNotFound)
	require.Equal(t, http.StatusNoContent, b.do(t, "DELETE", base+"/policies/active", key, nil).status)
	require.Equal(t, http.StatusCreated, newOrg("off"))

	audit := b.do(t, "GET", base+"/audit?action=policy.activate", key, nil).list(t)
	require.Len(t, audit, 1)

	// Another tenant's package is refused.
	other, okey := b.tenant(t, tenants.KindOther)
	r = b.do(t, "POST", "/v1/t/"+other.Slug+"/policies", okey, map[string]any{"source": noNewOrgs})
	requireProblem(t, r, http.StatusUnprocessableEntity)
}
