package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"yamen/tenants"
)

// Nobody grants a permission they do not hold: not to a role, not as a
// key's scope, not by giving a member a role. Refusals are audited.
func TestNobodyGrantsWhatTheyDoNotHold(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, admin := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	limited := b.key(t, tn, "roles:write", "keys:manage", "members:write", "orgs:read")

	r := b.do(t, "POST", base+"/roles", limited, map[string]any{"name": "查看组织", "permissions": []string{"orgs:read"}, "data_scope": "org"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	p := requireProblem(t, b.do(t, "POST", base+"/roles", limited, map[string]any{"name": "越权", "permissions": []string{"orgs:read", "units:export"}, "data_scope": "all"}), http.StatusForbidden)
	require.Contains(t, p["detail"], "units:export")

	role := r.json(t)["id"].(string)
	p = requireProblem(t, b.do(t, "PATCH", base+"/roles/"+role, limited, map[string]any{"permissions": []string{"*"}}), http.StatusForbidden)
	require.Contains(t, p["detail"], "*")

	requireProblem(t, b.do(t, "POST", base+"/keys", limited, map[string]any{"name": "x", "scopes": []string{"*"}}), http.StatusForbidden)
	require.Equal(t, http.StatusCreated, b.do(t, "POST", base+"/keys", limited, map[string]any{"name": "x", "scopes": []string{"orgs:read"}}).status)

	// A role the limited key could not have made, made by the admin, cannot be handed out by it.
	r = b.do(t, "POST", base+"/roles", admin, map[string]any{"name": "导出", "permissions": []string{"units:export"}, "data_scope": "all"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	exporter := r.json(t)["id"].(string)
	root := b.do(t, "GET", base+"/orgs", admin, nil).list(t)[0]["id"].(string)
	requireProblem(t, b.do(t, "POST", base+"/members", limited, map[string]any{"org_id": root, "name": "甲", "role_ids": []string{exporter}}), http.StatusForbidden)
	require.Equal(t, http.StatusCreated, b.do(t, "POST", base+"/members", limited, map[string]any{"org_id": root, "name": "乙", "role_ids": []string{role}}).status)

	denials := b.do(t, "GET", base+"/audit?action=access.denied", admin, nil).list(t)
	require.Len(t, denials, 4, "each refusal is on the audit trail")
	requireProblem(t, b.do(t, "DELETE", base+"/orgs/"+root, limited, nil), http.StatusForbidden)
	require.Len(t, b.do(t, "GET", base+"/audit?action=access.denied", admin, nil).list(t), 5, "so is a missing permission")
	for range 3 {
		requireProblem(t, b.do(t, "DELETE", base+"/orgs/"+root, limited, nil), http.StatusForbidden)
	}
	require.Len(t, b.do(t, "GET", base+"/audit?action=access.denied", admin, nil).list(t), 5, "a refusal repeated within a minute is recorded once")
}
