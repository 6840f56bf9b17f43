package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"yamen/tenants"
)

// Every operation under /v1/t/{tenant}, found in the OpenAPI document so
// operations added later are covered too, answers 404 to a staff session and
// to a key of tenant A asking about tenant B: B does not exist for them.
func TestOtherTenantIsNotFoundOnEveryOperation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, keyA := b.tenant(t, tenants.KindAffairsHall)
	other, _ := b.tenant(t, tenants.KindAffairsHall)

	// A staff member of A, signed in.
	root := b.do(t, "GET", "/v1/t/"+a.Slug+"/orgs", keyA, nil).list(t)[0]["id"].(string)
	r := b.do(t, "POST", "/v1/t/"+a.Slug+"/roles", keyA, map[string]any{"name": "管理员", "permissions": []string{"*"}, "data_scope": "all"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	r = b.do(t, "POST", "/v1/t/"+a.Slug+"/members", keyA, map[string]any{"org_id": root, "name": "甲", "role_ids": []string{r.json(t)["id"].(string)}})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	member := r.json(t)["id"].(string)
	email, _, token := staffAccount(t, "甲")
	require.Equal(t, http.StatusOK, b.do(t, "POST", "/v1/t/"+a.Slug+"/members/"+member+"/link", keyA, map[string]any{"identifier": email}).status)
	require.Equal(t, http.StatusOK, b.doSession(t, "GET", "/v1/t/"+a.Slug+"/members", token, nil).status, "the session works in its own tenant")

	doc := b.do(t, "GET", "/openapi.json", "", nil)
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(doc.body, &spec))
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	checked := 0
	for path, ops := range spec.Paths {
		if !strings.HasPrefix(path, "/v1/t/{tenant}") {
			continue
		}
		concrete := strings.Replace(path, "{tenant}", other.Slug, 1)
		concrete = param.ReplaceAllStringFunc(concrete, func(p string) string {
			switch p {
			case "{module}":
				return "files"
			case "{version}":
				return "1"
			}
			return "6f1c2b3a-0000-4000-8000-000000000001"
		})
		for method, raw := range ops {
			m := strings.ToUpper(method)
			var op struct {
				Security []map[string][]string `json:"security"`
			}
			require.NoError(t, json.Unmarshal(raw, &op))
			if len(op.Security) == 0 {
				continue // open to anyone (a hall's catalogue): nothing to isolate
			}
			var body any
			if m == "POST" || m == "PUT" || m == "PATCH" {
				body = map[string]any{}
			}
			r := b.doSession(t, m, concrete, token, body)
			require.Equal(t, http.StatusNotFound, r.status, "staff session: %s %s: %s", m, path, r.body)
			r = b.do(t, m, concrete, keyA, body)
			require.Equal(t, http.StatusNotFound, r.status, "tenant key: %s %s: %s", m, path, r.body)
			checked++
		}
	}
	require.Greater(t, checked, 30, "the walk found the tenant operations")
	t.Logf("%d tenant operations answer 404 across tenants", checked)
}
