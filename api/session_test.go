package api_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"yamen/api"
	"yamen/api/kratostest"
	"yamen/tenants"
)

// sessionTTL is short in tests, so a logout shows within a test's patience.
const sessionTTL = 200 * time.Millisecond

// testSessions talks to the Kratos `make test` starts.
func testSessions(t testing.TB) *api.Sessions {
	t.Helper()
	public, admin := os.Getenv("KRATOS_PUBLIC_URL"), os.Getenv("KRATOS_ADMIN_URL")
	if public == "" || admin == "" {
		t.Fatal("KRATOS_PUBLIC_URL and KRATOS_ADMIN_URL are not set: run the tests with `make test`, which starts Ory Kratos")
	}
	return api.NewSessions(public, admin, sessionTTL, nil)
}

// staffAccount creates a staff identity in Kratos and signs it in through
// the API login flow, returning its email and a session token.
func staffAccount(t testing.TB, name string) (email, phone, token string) {
	t.Helper()
	public, admin := os.Getenv("KRATOS_PUBLIC_URL"), os.Getenv("KRATOS_ADMIN_URL")
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	email = "staff-" + hex.EncodeToString(b) + "@example.gov.cn"
	phone = "139" + fmt.Sprintf("%08d", int(b[0])<<16|int(b[1])<<8|int(b[2]))
	password := "Yamen-" + hex.EncodeToString(b) + "-密码"
	status, id := kratostest.JSON(t, "POST", admin+"/admin/identities", map[string]any{
		"schema_id":   "staff",
		"traits":      map[string]any{"email": email, "phone": "+86" + phone, "name": name},
		"credentials": map[string]any{"password": map[string]any{"config": map[string]any{"password": password}}},
	})
	require.Equal(t, http.StatusCreated, status, "%v", id)
	t.Cleanup(func() { kratostest.JSON(t, "DELETE", admin+"/admin/identities/"+id["id"].(string), nil) })

	status, flow := kratostest.JSON(t, "GET", public+"/self-service/login/api", nil)
	require.Equal(t, http.StatusOK, status, "%v", flow)
	action := flow["ui"].(map[string]any)["action"].(string)
	status, login := kratostest.JSON(t, "POST", action, map[string]any{"method": "password", "identifier": email, "password": password})
	require.Equal(t, http.StatusOK, status, "%v", login)
	return email, phone, login["session_token"].(string)
}

func (b *bundle) doSession(t testing.TB, method, path, token string, body any) reply {
	t.Helper()
	return b.send(t, method, path, body, "X-Session-Token", token)
}

// Staff sign in with Kratos; what they may do and see comes from their
// roles (seed 003 "所在机构数据"), an auxiliary's from the sponsor (seed 000),
// and another tenant does not exist for them.
func TestStaffSessions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	other, _ := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	root := b.do(t, "GET", base+"/orgs", key, nil).list(t)[0]["id"].(string)
	mkOrg := func(code string) string {
		r := b.do(t, "POST", base+"/orgs", key, map[string]any{"parent_id": root, "code": code, "name": code, "kind": "station"})
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		return r.json(t)["id"].(string)
	}
	east, west := mkOrg("east"), mkOrg("west")
	r := b.do(t, "POST", base+"/roles", key, map[string]any{"name": "民警", "permissions": []string{"members:read"}, "data_scope": "org"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	officerRole := r.json(t)["id"].(string)
	r = b.do(t, "POST", base+"/roles", key, map[string]any{"name": "辅警", "permissions": []string{"members:read"}, "data_scope": "all"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	auxRole := r.json(t)["id"].(string)
	mkMember := func(org, name string, body map[string]any) string {
		if body == nil {
			body = map[string]any{}
		}
		body["org_id"], body["name"] = org, name
		r := b.do(t, "POST", base+"/members", key, body)
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		return r.json(t)["id"].(string)
	}
	officer := mkMember(east, "张伟", map[string]any{"role_ids": []string{officerRole}})
	colleague := mkMember(east, "李娜", nil)
	mkMember(west, "赵敏", nil)
	aux := mkMember(west, "王磊", map[string]any{"role_ids": []string{auxRole}, "sponsor_id": officer})

	officerEmail, _, officerToken := staffAccount(t, "张伟")
	_, auxPhone, auxToken := staffAccount(t, "王磊")

	// Not yet linked: the tenant does not exist for them.
	requireProblem(t, b.doSession(t, "GET", base+"/members", officerToken, nil), http.StatusNotFound)

	r = b.do(t, "POST", base+"/members/"+officer+"/link", key, map[string]any{"identifier": officerEmail})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.NotNil(t, r.json(t)["identity_id"])
	r = b.do(t, "POST", base+"/members/"+aux+"/link", key, map[string]any{"identifier": auxPhone})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	r = b.do(t, "POST", base+"/members/"+colleague+"/link", key, map[string]any{"identifier": "nobody@example.gov.cn"})
	requireProblem(t, r, http.StatusNotFound)
	require.Len(t, b.do(t, "GET", base+"/audit?action=member.link", key, nil).list(t), 2, "linking is audited")

	names := func(token string) []string {
		t.Helper()
		r := b.doSession(t, "GET", base+"/members", token, nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		var out []string
		for _, m := range r.list(t) {
			out = append(out, m["name"].(string))
		}
		return out
	}
	require.ElementsMatch(t, []string{"张伟", "李娜"}, names(officerToken), "the officer sees the data of their org")
	require.ElementsMatch(t, []string{"张伟", "李娜"}, names(auxToken), "the auxiliary sees exactly the sponsor's scope, not their own role's")
	require.Equal(t, http.StatusOK, b.doSession(t, "GET", base+"/members/"+colleague, officerToken, nil).status, "a member of their org, by id")
	requireProblem(t, b.doSession(t, "GET", base+"/members/"+aux, officerToken, nil), http.StatusNotFound) // west: outside the officer's scope, by id too

	p := requireProblem(t, b.doSession(t, "POST", base+"/orgs", officerToken, map[string]any{"code": "x", "name": "x", "kind": "other"}), http.StatusForbidden)
	require.Contains(t, p["detail"], "orgs:write")
	requireProblem(t, b.doSession(t, "GET", "/v1/t/"+other.Slug+"/members", officerToken, nil), http.StatusNotFound)
	requireProblem(t, b.doSession(t, "GET", "/v1/platform/tenants", officerToken, nil), http.StatusForbidden)

	r = b.doSession(t, "GET", "/v1/me", officerToken, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	me := r.json(t)
	require.Equal(t, "staff", me["kind"])
	require.Equal(t, "张伟", me["name"])
	ms := me["tenants"].([]any)
	require.Len(t, ms, 1)
	m := ms[0].(map[string]any)
	require.Equal(t, tn.Slug, m["tenant"])
	require.Equal(t, officer, m["member_id"])
	require.Equal(t, []any{"members:read"}, m["permissions"])
	require.Equal(t, "org", m["roles"].([]any)[0].(map[string]any)["data_scope"])

	signIns := b.do(t, "GET", base+"/audit?action=session.signin", key, nil).list(t)
	require.Len(t, signIns, 2, "each person's first use of a session in the tenant is on record, once")
	require.Equal(t, "member:"+officer, signIns[len(signIns)-1]["subject"])

	// Logging out ends access.
	status, _ := kratostest.JSON(t, "DELETE", os.Getenv("KRATOS_PUBLIC_URL")+"/self-service/logout/api", map[string]any{"session_token": officerToken})
	require.Equal(t, http.StatusNoContent, status)
	time.Sleep(2 * sessionTTL)
	requireProblem(t, b.doSession(t, "GET", base+"/members", officerToken, nil), http.StatusUnauthorized)
	requireProblem(t, b.doSession(t, "GET", "/v1/me", "not-a-session", nil), http.StatusUnauthorized)

	// Unlinked: the tenant is gone for them again.
	require.Equal(t, http.StatusOK, b.do(t, "DELETE", base+"/members/"+aux+"/link", key, nil).status)
	requireProblem(t, b.doSession(t, "GET", base+"/members", auxToken, nil), http.StatusNotFound)
}
