package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/stretchr/testify/require"

	"yamen/api"
	"yamen/modules"
	"yamen/modules/builtin"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// dossier is a module that exists only in these tests: it reads "personal
// records" through an operation marked sensitive, and counts them through
// one that is not.
type dossier struct{}

func (dossier) Module() modules.Info {
	return modules.Info{ID: "dossier", Title: modules.Text{ZH: "档案", EN: "Dossier"},
		Permissions: []modules.Permission{{Name: "dossier:read", Title: modules.Text{ZH: "查阅档案", EN: "Read dossiers"}}}}
}

type personInput struct {
	Tenant string `path:"tenant"`
	Person string `path:"person"`
	Fields string `query:"fields"`
	modules.PurposeParam
}

func (dossier) Routes(r *modules.Router) {
	modules.Register(r, "dossier:read", modules.Sensitive(modules.TenantWide("测试档案 (a test dossier)", huma.Operation{OperationID: "dossier-person", Method: http.MethodGet, Path: "/people/{person}"})),
		func(ctx context.Context, in *personInput) (*api.Body[map[string]string], error) {
			return &api.Body[map[string]string]{Body: map[string]string{"person": in.Person, "purpose": in.Purpose}}, nil
		})
	modules.Register(r, "dossier:read", modules.TenantWide("测试档案 (a test dossier)", huma.Operation{OperationID: "dossier-count", Method: http.MethodGet, Path: "/count"}),
		func(ctx context.Context, _ *struct {
			Tenant string `path:"tenant"`
		}) (*api.Body[int], error) {
			return &api.Body[int]{Body: 1}, nil
		})
}

// careless marks an operation sensitive without taking a purpose.
type careless struct{}

func (careless) Module() modules.Info {
	return modules.Info{ID: "careless", Title: modules.Text{ZH: "疏忽", EN: "Careless"},
		Permissions: []modules.Permission{{Name: "careless:read", Title: modules.Text{ZH: "读取", EN: "Read"}}}}
}

func (careless) Routes(r *modules.Router) {
	modules.Register(r, "careless:read", modules.Sensitive(huma.Operation{OperationID: "careless-read", Method: http.MethodGet, Path: "/x"}),
		func(ctx context.Context, _ *struct {
			Tenant string `path:"tenant"`
		}) (*api.Body[int], error) {
			return &api.Body[int]{Body: 1}, nil
		})
}

// auditSetup is setup with the dossier module in the registry.
func auditSetup(t testing.TB) *bundle {
	t.Helper()
	db := tenanttest.DB(t)
	reg, err := modules.NewRegistry(append(builtin.Modules(), dossier{})...)
	require.NoError(t, err)
	srv, err := api.New(api.Config{DB: db, Registry: reg})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	_, key, err := db.CreatePlatformKey(context.Background(), tenants.NewKey{Name: "test " + t.Name()})
	require.NoError(t, err)
	return &bundle{url: ts.URL, db: db, platformKey: key}
}

// requireChainIntact verifies the tenant's audit chain.
func requireChainIntact(t testing.TB, b *bundle, tn tenants.Tenant) {
	t.Helper()
	r, err := b.db.Reader(tn.ID, tenants.System().String())
	require.NoError(t, err)
	v, err := tenants.VerifyAudit(context.Background(), r, b.db.AuditKey)
	require.NoError(t, err)
	require.Nil(t, v.Break, "%v", v.Break)
	require.Positive(t, v.Records)
}

func TestAuditListFilters(t *testing.T) {
	t.Parallel()
	b := auditSetup(t)
	tn, key := b.tenant(t, tenants.KindOther)
	base := "/v1/t/" + tn.Slug
	orgWriter := b.key(t, tn, "orgs:write", "orgs:read")

	mk := func(key, code string) string {
		r := b.do(t, "POST", base+"/orgs", key, map[string]any{"code": code, "name": "组织" + code, "kind": "other"})
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		return r.json(t)["id"].(string)
	}
	east, west := mk(key, "east"), mk(orgWriter, "west")
	require.Equal(t, http.StatusOK, b.do(t, "POST", base+"/orgs/"+west+"/move", orgWriter, map[string]any{"parent_id": east}).status)
	require.Equal(t, http.StatusCreated, b.do(t, "POST", base+"/roles", key, map[string]any{"name": "民警", "permissions": []string{"orgs:read"}, "data_scope": "org"}).status)

	list := func(query string) []map[string]any {
		t.Helper()
		r := b.do(t, "GET", base+"/audit"+query, key, nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		return r.list(t)
	}
	actions := func(es []map[string]any) []string {
		var out []string
		for _, e := range es {
			out = append(out, e["action"].(string))
		}
		return out
	}
	all := list("")
	// The writer's key was made after the tenant, so its subject acts only here.
	writer := list("?action=org.move")[0]["subject"].(string)
	require.True(t, strings.HasPrefix(writer, "tenant_key:"), writer)

	require.Equal(t, []string{"org.move"}, actions(list("?action=org.move")))
	require.Equal(t, []string{"org.move", "org.create", "org.create", "org.create"}, actions(list("?action=org.*")))
	moved := list("?action=org.move")[0]["at"].(string)
	require.Equal(t, []string{"role.create", "role.create"}, actions(list("?action=role.*")), "the tenant admin's and ours")
	require.Equal(t, []string{"role.create"}, actions(list("?action=role.*&from="+url.QueryEscape(moved))))
	require.Equal(t, []string{"org.move", "org.create"}, actions(list("?subject="+url.QueryEscape(writer))))
	require.Equal(t, []string{"org.move"}, actions(list("?subject="+url.QueryEscape(writer)+"&action=org.move")))

	newest, err := time.Parse(time.RFC3339Nano, all[0]["at"].(string))
	require.NoError(t, err)
	require.Len(t, list("?from="+url.QueryEscape(newest.Format(time.RFC3339Nano))), 1, "from is inclusive")
	require.Len(t, list("?to="+url.QueryEscape(newest.Format(time.RFC3339Nano))), len(all)-1, "to is exclusive")
	require.Len(t, list("?from="+url.QueryEscape(newest.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339Nano))), 1, "any offset")

	var paged []map[string]any
	before := ""
	for range len(all) + 1 {
		page := list("?limit=3" + before)
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		before = "&before=" + strconv.FormatInt(int64(page[len(page)-1]["id"].(float64)), 10)
	}
	require.Equal(t, all, paged, "keyset pages add up to the whole log")

	t.Run("EveryBadParameterIsNamed", func(t *testing.T) {
		t.Parallel()
		r := b.do(t, "GET", base+"/audit?action=Org.Move&subject=%01&from=yesterday&to=2026-13-01T00:00:00Z&before=-1&limit=0", key, nil)
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.ElementsMatch(t, []string{"query.action", "query.subject", "query.from", "query.to", "query.before", "query.limit"}, r.locations(t))

		r = b.do(t, "GET", base+"/audit?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", key, nil)
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.Equal(t, []string{"query.to"}, r.locations(t))

		r = b.do(t, "GET", base+"/audit?action=org.%25", key, nil)
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.Equal(t, []string{"query.action"}, r.locations(t))

		r = b.do(t, "GET", base+"/audit?subject=%FF", key, nil)
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.Equal(t, []string{"query.subject"}, r.locations(t), "bytes that are not UTF-8 never reach PostgreSQL")
	})
	t.Run("NeedsAuditRead", func(t *testing.T) {
		t.Parallel()
		requireProblem(t, b.do(t, "GET", base+"/audit", orgWriter, nil), http.StatusForbidden)
	})
	requireChainIntact(t, b, tn)
}

func TestSensitiveReadNeedsAPurpose(t *testing.T) {
	t.Parallel()
	b := auditSetup(t)
	tn, key := b.tenant(t, tenants.KindOther)
	require.Equal(t, http.StatusOK, b.do(t, "PUT", "/v1/platform/tenants/"+tn.Slug+"/modules/dossier/entitlement", b.platformKey, map[string]any{"entitled": true}).status)
	require.Equal(t, http.StatusOK, b.do(t, "POST", "/v1/t/"+tn.Slug+"/modules/dossier/enable", key, nil).status)
	person := "/v1/t/" + tn.Slug + "/dossier/people/p-1"
	reads := func() []map[string]any {
		t.Helper()
		r := b.do(t, "GET", "/v1/t/"+tn.Slug+"/audit?action=read.sensitive", key, nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		return r.list(t)
	}

	for _, q := range []string{"", "?purpose=", "?purpose=%20%20%09", "?purpose=" + strings.Repeat("查", 201), "?fields=name"} {
		r := b.do(t, "GET", person+q, key, nil)
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.Equal(t, []string{"query.purpose"}, r.locations(t), q)
	}
	require.Empty(t, reads(), "a refused read is not recorded as a read")

	// Who may not read at all learns nothing about purposes.
	requireProblem(t, b.do(t, "GET", person, "", nil), http.StatusUnauthorized)
	requireProblem(t, b.do(t, "GET", person+"?purpose=x", b.key(t, tn, "orgs:read"), nil), http.StatusForbidden)
	require.Empty(t, reads())

	purpose := "核查居住证申请 (residence permit check) 案件 2026-17"
	r := b.do(t, "GET", person+"?fields=name&purpose="+url.QueryEscape(purpose), key, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, purpose, r.json(t)["purpose"])
	r = b.do(t, "GET", person+"?purpose="+strings.Repeat("查", 200), key, nil)
	require.Equal(t, http.StatusOK, r.status, "200 characters are allowed: %s", r.body)

	got := reads()
	require.Len(t, got, 2)
	read := got[1]
	require.Equal(t, person, read["target"])
	require.Equal(t, map[string]any{"operation": "dossier-person", "purpose": purpose, "query": "fields=name"}, read["details"])
	require.True(t, strings.HasPrefix(read["subject"].(string), "tenant_key:"))
	require.NotEmpty(t, read["request_id"])

	// Only sensitive operations take a purpose.
	r = b.do(t, "GET", "/v1/t/"+tn.Slug+"/dossier/count?purpose=x", key, nil)
	requireProblem(t, r, http.StatusUnprocessableEntity)
	require.Equal(t, []string{"query.purpose"}, r.locations(t))
	require.Equal(t, http.StatusOK, b.do(t, "GET", "/v1/t/"+tn.Slug+"/dossier/count", key, nil).status)
	require.Len(t, reads(), 2)

	// Integrators read in the document which operations are sensitive.
	doc := b.do(t, "GET", "/openapi.json", "", nil).json(t)
	op := doc["paths"].(map[string]any)["/v1/t/{tenant}/dossier/people/{person}"].(map[string]any)["get"].(map[string]any)
	require.Equal(t, true, op["x-yamen-sensitive"])
	var purposeParam map[string]any
	for _, p := range op["parameters"].([]any) {
		if p := p.(map[string]any); p["name"] == "purpose" {
			purposeParam = p
		}
	}
	require.NotNil(t, purposeParam)
	require.Equal(t, true, purposeParam["required"])

	requireChainIntact(t, b, tn)
}

func TestSensitiveOperationMustTakeAPurpose(t *testing.T) {
	t.Parallel()
	reg, err := modules.NewRegistry(careless{})
	require.NoError(t, err)
	require.PanicsWithValue(t, "sensitive operation GET /x does not embed modules.PurposeParam in its input", func() {
		_, _ = api.New(api.Config{Registry: reg})
	})
}
