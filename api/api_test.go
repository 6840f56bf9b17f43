package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/api"
	"yamen/modules"
	"yamen/modules/builtin"
	"yamen/modules/files/filestest"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// probe is a module that exists only in these tests, to reach what no real
// module offers yet: a route of its own, an internal error, a panic.
type probe struct{}

const secretText = "password=hunter2 at db.internal:5432"

func (probe) Module() modules.Info {
	return modules.Info{ID: "probe", Title: modules.Text{ZH: "探针", EN: "Probe"},
		Permissions: []modules.Permission{{Name: "probe:read", Title: modules.Text{ZH: "读取", EN: "Read"}}}}
}

func (probe) Routes(r *modules.Router) {
	modules.Register(r, "probe:read", modules.TenantWide("探针没有数据 (a probe has no rows)", huma.Operation{OperationID: "probe-ping", Method: http.MethodGet, Path: "/ping"}),
		func(ctx context.Context, _ *struct {
			Tenant string `path:"tenant"`
		}) (*api.Body[string], error) {
			return &api.Body[string]{Body: "pong"}, nil
		})
	modules.Register(r, "probe:read", modules.TenantWide("探针没有数据 (a probe has no rows)", huma.Operation{OperationID: "probe-fail", Method: http.MethodGet, Path: "/fail"}),
		func(ctx context.Context, _ *struct {
			Tenant string `path:"tenant"`
		}) (*api.Body[string], error) {
			return nil, errors.New("connect failed: " + secretText)
		})
	modules.Register(r, "probe:read", modules.TenantWide("探针没有数据 (a probe has no rows)", huma.Operation{OperationID: "probe-panic", Method: http.MethodGet, Path: "/panic"}),
		func(ctx context.Context, _ *struct {
			Tenant string `path:"tenant"`
		}) (*api.Body[string], error) {
			panic("boom: " + secretText)
		})
}

// Handover moves "probe records" by writing a row of the outbox, and fails
// when the member taking over is called 故障, to show a handover is one
// transaction.
func (probe) Handover(ctx context.Context, tx *tenants.Tx, from, to uuid.UUID) (int, error) {
	var name string
	if err := tx.QueryRow(ctx, "SELECT name FROM members WHERE id = $1", to).Scan(&name); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO outbox (tenant_id, task_type, payload) VALUES (current_tenant(), 'probe:handover', jsonb_build_object('from', $1::text, 'to', $2::text))", from, to); err != nil {
		return 0, err
	}
	if name == "故障" {
		return 0, errors.New("probe: cannot hand over to 故障")
	}
	return 3, nil
}

var (
	_ modules.RouteProvider    = probe{}
	_ modules.HandoverProvider = probe{}
)

type bundle struct {
	url         string
	db          *tenants.DB
	platformKey string
}

func setup(t testing.TB) *bundle {
	t.Helper()
	db := tenanttest.DB(t)
	reg, err := modules.NewRegistry(append(builtin.Modules(), probe{})...)
	require.NoError(t, err)
	// Provision the modules as serve does, so those with real parts work (files: the
	// S3 settings `make test` exports; see files_test.go).
	require.NoError(t, reg.Provision(context.Background(), filestest.Env(t, db.Pool)))
	t.Cleanup(func() { _ = reg.Cleanup() })
	srv, err := api.New(api.Config{DB: db, Registry: reg, Sessions: testSessions(t), Checks: map[string]func(context.Context) error{
		"postgres": db.Pool.Ping,
	}})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	_, key, err := db.CreatePlatformKey(context.Background(), tenants.NewKey{Name: "test " + t.Name()})
	require.NoError(t, err)
	return &bundle{url: ts.URL, db: db, platformKey: key}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), string(r.body))
	return m
}

func (r reply) list(t testing.TB) []map[string]any {
	t.Helper()
	var l []map[string]any
	require.NoError(t, json.Unmarshal(r.body, &l), string(r.body))
	return l
}

// locations returns the location of every error in a problem document.
func (r reply) locations(t testing.TB) []string {
	t.Helper()
	var p api.Problem
	require.NoError(t, json.Unmarshal(r.body, &p))
	var locs []string
	for _, e := range p.Errors {
		locs = append(locs, e.Location)
	}
	return locs
}

func (b *bundle) do(t testing.TB, method, path, key string, body any) reply {
	t.Helper()
	if key == "" {
		return b.send(t, method, path, body)
	}
	return b.send(t, method, path, body, "Authorization", "Bearer "+key)
}

// send makes a request of the API and reads the whole reply. body is nil, a
// string or an io.Reader sent as is, or a value sent as JSON; header is
// name, value pairs, set last.
func (b *bundle) send(t testing.TB, method, path string, body any, header ...string) reply {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	case io.Reader:
		rd = v
	default:
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.url+path, rd)
	require.NoError(t, err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: raw}
}

// tenant creates a tenant through the platform API and returns it with an
// admin key of its own.
func (b *bundle) tenant(t testing.TB, kind string) (tenants.Tenant, string) {
	t.Helper()
	r := b.do(t, "POST", "/v1/platform/tenants", b.platformKey, map[string]any{
		"slug": tenanttest.Slug("api"), "name": "接口测试 " + t.Name(), "kind": kind, "region_code": tenanttest.CityCode,
	})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	var tn tenants.Tenant
	require.NoError(t, json.Unmarshal(r.body, &tn))
	return tn, b.key(t, tn, "*")
}

func (b *bundle) key(t testing.TB, tn tenants.Tenant, scopes ...string) string {
	t.Helper()
	var secret string
	err := b.db.Tx(context.Background(), tn.ID, "system", func(tx *tenants.Tx) error {
		var err error
		_, secret, err = tenants.CreateTenantKey(context.Background(), tx, tenants.NewKey{Name: "test", Scopes: scopes})
		return err
	})
	require.NoError(t, err)
	return secret
}

func requireProblem(t testing.TB, r reply, status int) map[string]any {
	t.Helper()
	require.Equal(t, status, r.status, string(r.body))
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	p := r.json(t)
	require.EqualValues(t, status, p["status"])
	require.NotEmpty(t, p["title"])
	return p
}

func TestTenantResolution(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a, keyA := b.tenant(t, tenants.KindAffairsHall)
	other, keyB := b.tenant(t, tenants.KindAffairsHall)

	t.Run("UnknownTenantIs404", func(t *testing.T) {
		t.Parallel()
		p := requireProblem(t, b.do(t, "GET", "/v1/t/no-such-tenant/modules", keyA, nil), http.StatusNotFound)
		require.Contains(t, p["detail"], "no such tenant")
	})
	t.Run("AnotherTenantsKeyIs404", func(t *testing.T) {
		t.Parallel()
		requireProblem(t, b.do(t, "GET", "/v1/t/"+a.Slug+"/modules", keyB, nil), http.StatusNotFound)
		requireProblem(t, b.do(t, "GET", "/v1/t/"+other.Slug+"/orgs", keyA, nil), http.StatusNotFound)
	})
	t.Run("OwnKeyWorks", func(t *testing.T) {
		t.Parallel()
		r := b.do(t, "GET", "/v1/t/"+a.Slug+"/modules", keyA, nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		mods := r.list(t)
		byID := map[string]map[string]any{}
		for _, m := range mods {
			byID[m["id"].(string)] = m
		}
		require.Equal(t, true, byID["ratings"]["enabled"], "the affairs hall bundle is enabled")
		require.Equal(t, false, byID["clues"]["entitled"], "police modules are not entitled to a hall")
		require.Equal(t, "好差评", byID["ratings"]["title"].(map[string]any)["zh-CN"])
	})
	t.Run("NoKeyIs401", func(t *testing.T) {
		t.Parallel()
		r := b.do(t, "GET", "/v1/t/"+a.Slug+"/modules", "", nil)
		requireProblem(t, r, http.StatusUnauthorized)
		require.Contains(t, r.header.Get("WWW-Authenticate"), "Bearer")
	})
	t.Run("GarbledKeyIs401", func(t *testing.T) {
		t.Parallel()
		requireProblem(t, b.do(t, "GET", "/v1/t/"+a.Slug+"/modules", "yk_t_nonsense", nil), http.StatusUnauthorized)
		requireProblem(t, b.do(t, "GET", "/v1/t/"+a.Slug+"/modules", keyA[:len(keyA)-1]+"x", nil), http.StatusUnauthorized)
	})
	t.Run("PlatformKeyDoesNotActInsideTenants", func(t *testing.T) {
		t.Parallel()
		requireProblem(t, b.do(t, "GET", "/v1/t/"+a.Slug+"/orgs", b.platformKey, nil), http.StatusForbidden)
	})
	t.Run("TenantKeyIsNoPlatformAdmin", func(t *testing.T) {
		t.Parallel()
		requireProblem(t, b.do(t, "GET", "/v1/platform/tenants", keyA, nil), http.StatusForbidden)
	})
	t.Run("ScopesLimitTheKey", func(t *testing.T) {
		t.Parallel()
		readOnly := b.key(t, a, "orgs:read")
		require.Equal(t, http.StatusOK, b.do(t, "GET", "/v1/t/"+a.Slug+"/orgs", readOnly, nil).status)
		p := requireProblem(t, b.do(t, "POST", "/v1/t/"+a.Slug+"/orgs", readOnly, map[string]any{"code": "x", "name": "x", "kind": "other"}), http.StatusForbidden)
		require.Contains(t, p["detail"], "orgs:write")
		requireProblem(t, b.do(t, "GET", "/v1/t/"+a.Slug+"/modules", readOnly, nil), http.StatusForbidden)
	})
}

func TestKeysRevokedOrExpired(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, admin := b.tenant(t, tenants.KindOther)

	r := b.do(t, "POST", "/v1/t/"+tn.Slug+"/keys", admin, map[string]any{"name": "对接", "scopes": []string{"orgs:read"}})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	created := r.json(t)
	key := created["key"].(string)
	require.Equal(t, http.StatusOK, b.do(t, "GET", "/v1/t/"+tn.Slug+"/orgs", key, nil).status)

	require.Equal(t, http.StatusNoContent, b.do(t, "DELETE", "/v1/t/"+tn.Slug+"/keys/"+created["id"].(string), admin, nil).status)
	requireProblem(t, b.do(t, "GET", "/v1/t/"+tn.Slug+"/orgs", key, nil), http.StatusUnauthorized)

	var expiring string
	require.NoError(t, b.db.Tx(context.Background(), tn.ID, "system", func(tx *tenants.Tx) error {
		var err error
		_, expiring, err = tenants.CreateTenantKey(context.Background(), tx, tenants.NewKey{Name: "short", Scopes: []string{"*"}, TTL: time.Millisecond})
		return err
	}))
	time.Sleep(5 * time.Millisecond)
	requireProblem(t, b.do(t, "GET", "/v1/t/"+tn.Slug+"/orgs", expiring, nil), http.StatusUnauthorized)

	requireProblem(t, b.do(t, "POST", "/v1/t/"+tn.Slug+"/keys", admin, map[string]any{"name": "x", "scopes": []string{"nope:nothing"}}), http.StatusUnprocessableEntity)
}

func TestSuspendedTenantIs403(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, key := b.tenant(t, tenants.KindOther)
	require.Equal(t, http.StatusOK, b.do(t, "GET", "/v1/t/"+tn.Slug+"/orgs", key, nil).status)

	r := b.do(t, "POST", "/v1/platform/tenants/"+tn.Slug+"/suspend", b.platformKey, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "suspended", r.json(t)["status"])
	p := requireProblem(t, b.do(t, "GET", "/v1/t/"+tn.Slug+"/orgs", key, nil), http.StatusForbidden)
	require.Contains(t, p["detail"], "suspended")

	require.Equal(t, http.StatusOK, b.do(t, "POST", "/v1/platform/tenants/"+tn.Slug+"/activate", b.platformKey, nil).status)
	require.Equal(t, http.StatusOK, b.do(t, "GET", "/v1/t/"+tn.Slug+"/orgs", key, nil).status)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug

	t.Run("EveryBadFieldIsNamed", func(t *testing.T) {
		t.Parallel()
		r := b.do(t, "POST", base+"/orgs", key, map[string]any{"code": "bad code!", "kind": "castle", "region_code": "12"})
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.ElementsMatch(t, []string{"body.code", "body.kind", "body.region_code", "body.name"}, r.locations(t))
	})
	t.Run("MalformedJSON", func(t *testing.T) {
		t.Parallel()
		requireProblem(t, b.do(t, "POST", base+"/orgs", key, `{"code": "x",`), http.StatusBadRequest)
	})
	t.Run("UnknownField", func(t *testing.T) {
		t.Parallel()
		r := b.do(t, "POST", base+"/orgs", key, map[string]any{"code": "x", "name": "x", "kind": "other", "colour": "red"})
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.Contains(t, r.locations(t), "body.colour")
	})
	t.Run("BadPathParameter", func(t *testing.T) {
		t.Parallel()
		r := b.do(t, "GET", base+"/orgs/not-a-uuid", key, nil)
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.Contains(t, r.locations(t), "path.org")
	})
	t.Run("UnknownQueryParameter", func(t *testing.T) {
		t.Parallel()
		requireProblem(t, b.do(t, "GET", base+"/orgs?rooot=x", key, nil), http.StatusUnprocessableEntity)
	})
	t.Run("TenantWithBadSlugAndRegion", func(t *testing.T) {
		t.Parallel()
		r := b.do(t, "POST", "/v1/platform/tenants", b.platformKey, map[string]any{"slug": "Bad Slug", "name": "", "kind": "bank", "region_code": "x"})
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.ElementsMatch(t, []string{"body.slug", "body.name", "body.kind", "body.region_code"}, r.locations(t))
		r = b.do(t, "POST", "/v1/platform/tenants", b.platformKey, map[string]any{"slug": "ok-slug-but-unknown-region", "name": "x", "kind": "other", "region_code": "123456"})
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.region_code"}, r.locations(t))
	})
	t.Run("DuplicateSlugIs409", func(t *testing.T) {
		t.Parallel()
		r := b.do(t, "POST", "/v1/platform/tenants", b.platformKey, map[string]any{"slug": tn.Slug, "name": "x", "kind": "other", "region_code": tenanttest.CityCode})
		requireProblem(t, r, http.StatusConflict)
	})
	t.Run("BodyTooLarge", func(t *testing.T) {
		t.Parallel()
		big := `{"code":"x","name":"` + strings.Repeat("字", 1<<19) + `","kind":"other"}`
		r := b.do(t, "POST", base+"/orgs", key, big)
		requireProblem(t, r, http.StatusRequestEntityTooLarge)
	})
	t.Run("BadInputChangesNothing", func(t *testing.T) {
		t.Parallel()
		before := len(b.do(t, "GET", base+"/audit", key, nil).list(t))
		b.do(t, "POST", base+"/orgs", key, map[string]any{"code": "y", "kind": "castle"})
		b.do(t, "POST", base+"/roles", key, map[string]any{"name": "z", "permissions": []string{"made:up"}, "data_scope": "all"})
		require.Len(t, b.do(t, "GET", base+"/audit", key, nil).list(t), before)
	})
}

func TestInternalErrorsShowNoInternalText(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, key := b.tenant(t, tenants.KindOther)
	require.Equal(t, http.StatusOK, b.do(t, "PUT", "/v1/platform/tenants/"+tn.Slug+"/modules/probe/entitlement", b.platformKey, map[string]any{"entitled": true}).status)
	require.Equal(t, http.StatusOK, b.do(t, "POST", "/v1/t/"+tn.Slug+"/modules/probe/enable", key, nil).status)
	require.Equal(t, http.StatusOK, b.do(t, "GET", "/v1/t/"+tn.Slug+"/probe/ping", key, nil).status)

	for _, path := range []string{"/fail", "/panic"} {
		t.Run(path, func(t *testing.T) {
			r := b.do(t, "GET", "/v1/t/"+tn.Slug+"/probe"+path, key, nil)
			p := requireProblem(t, r, http.StatusInternalServerError)
			require.NotContains(t, string(r.body), "hunter2")
			require.NotContains(t, string(r.body), "db.internal")
			require.NotContains(t, string(r.body), "boom")
			require.Equal(t, r.header.Get("X-Request-ID"), p["request_id"])
			require.NotEmpty(t, p["request_id"])
		})
	}
}

func TestModules(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, key := b.tenant(t, tenants.KindAffairsHall)
	base := "/v1/t/" + tn.Slug

	t.Run("ModuleNotEnabledIs404", func(t *testing.T) {
		t.Parallel()
		other, okey := b.tenant(t, tenants.KindOther)
		requireProblem(t, b.do(t, "GET", "/v1/t/"+other.Slug+"/probe/ping", okey, nil), http.StatusNotFound)
		// Not entitled: the tenant admin cannot switch it on.
		requireProblem(t, b.do(t, "POST", "/v1/t/"+other.Slug+"/modules/probe/enable", okey, nil), http.StatusForbidden)
	})
	t.Run("NeededModuleCannotBeDisabled", func(t *testing.T) {
		t.Parallel()
		p := requireProblem(t, b.do(t, "POST", base+"/modules/catalog/disable", key, nil), http.StatusConflict)
		require.Contains(t, p["detail"], "booking")
		require.Contains(t, p["detail"], "queue")
		// Once its dependents are off, it goes.
		require.Equal(t, http.StatusOK, b.do(t, "POST", base+"/modules/booking/disable", key, nil).status)
		require.Equal(t, http.StatusOK, b.do(t, "POST", base+"/modules/queue/disable", key, nil).status)
		require.Equal(t, http.StatusOK, b.do(t, "POST", base+"/modules/oneflow/disable", key, nil).status)
		r := b.do(t, "POST", base+"/modules/catalog/disable", key, nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		// And a module cannot come on before what it needs.
		p = requireProblem(t, b.do(t, "POST", base+"/modules/booking/enable", key, nil), http.StatusConflict)
		require.Contains(t, p["detail"], "catalog")
	})
	t.Run("Settings", func(t *testing.T) {
		t.Parallel()
		r := b.do(t, "GET", base+"/modules/ratings/settings", key, nil)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		got := r.json(t)
		require.EqualValues(t, 7, got["settings"].(map[string]any)["default_after_days"], "seed 004: default rating after 7 natural days")
		require.NotNil(t, got["schema"])

		r = b.do(t, "PUT", base+"/modules/ratings/settings", key, map[string]any{"default_after_days": 0, "follow_up_working_days": "five", "colour": "red"})
		requireProblem(t, r, http.StatusUnprocessableEntity)
		require.ElementsMatch(t, []string{"body.default_after_days", "body.follow_up_working_days", "body.colour"}, r.locations(t))

		r = b.do(t, "PUT", base+"/modules/ratings/settings", key, map[string]any{"rectify_working_days": 3})
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		r = b.do(t, "GET", base+"/modules/ratings/settings", key, nil)
		s := r.json(t)["settings"].(map[string]any)
		require.EqualValues(t, 3, s["rectify_working_days"])
		require.EqualValues(t, 7, s["default_after_days"], "fields left out keep their defaults")

		requireProblem(t, b.do(t, "GET", base+"/modules/nosuch/settings", key, nil), http.StatusNotFound)
		requireProblem(t, b.do(t, "PUT", base+"/modules/clues/settings", key, map[string]any{}), http.StatusForbidden)
	})
	t.Run("Entitlement", func(t *testing.T) {
		t.Parallel()
		other, okey := b.tenant(t, tenants.KindCreditCenter)
		p := requireProblem(t, b.do(t, "PUT", "/v1/platform/tenants/"+other.Slug+"/modules/credit/entitlement", b.platformKey, map[string]any{"entitled": false}), http.StatusConflict)
		require.Contains(t, p["detail"], "creditscore")
		require.Equal(t, http.StatusOK, b.do(t, "PUT", "/v1/platform/tenants/"+other.Slug+"/modules/creditscore/entitlement", b.platformKey, map[string]any{"entitled": false}).status)
		for _, m := range b.do(t, "GET", "/v1/t/"+other.Slug+"/modules", okey, nil).list(t) {
			if m["id"] == "creditscore" {
				require.Equal(t, false, m["entitled"])
				require.Equal(t, false, m["enabled"], "taking the entitlement away switches the module off")
			}
		}
		requireProblem(t, b.do(t, "PUT", "/v1/platform/tenants/"+other.Slug+"/modules/nosuch/entitlement", b.platformKey, map[string]any{"entitled": true}), http.StatusNotFound)
	})
}

func TestOrgSubtreeMove(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	orgs := b.do(t, "GET", base+"/orgs", key, nil).list(t)
	require.Len(t, orgs, 1, "a new tenant has its root org")
	root := orgs[0]["id"].(string)

	mk := func(parent, code, kind string) string {
		r := b.do(t, "POST", base+"/orgs", key, map[string]any{"parent_id": parent, "code": code, "name": "组织" + code, "kind": kind})
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		return r.json(t)["id"].(string)
	}
	east := mk(root, "east", "branch")
	west := mk(root, "west", "branch")
	station := mk(east, "east-1", "station")
	area := mk(station, "east-1-a", "police_area")

	r := b.do(t, "POST", base+"/orgs/"+station+"/move", key, map[string]any{"parent_id": west})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, west, r.json(t)["parent_id"])

	sub := b.do(t, "GET", base+"/orgs?root="+west, key, nil).list(t)
	var ids []string
	for _, o := range sub {
		ids = append(ids, o["id"].(string))
	}
	require.Equal(t, []string{west, station, area}, ids, "the whole subtree moved, in tree order")
	require.EqualValues(t, 4, sub[2]["depth"])
	require.Len(t, b.do(t, "GET", base+"/orgs?root="+east, key, nil).list(t), 1)

	r = b.do(t, "POST", base+"/orgs/"+west+"/move", key, map[string]any{"parent_id": area})
	requireProblem(t, r, http.StatusUnprocessableEntity)
	require.Equal(t, []string{"body.parent_id"}, r.locations(t))

	requireProblem(t, b.do(t, "DELETE", base+"/orgs/"+west, key, nil), http.StatusConflict)
	require.Equal(t, http.StatusNoContent, b.do(t, "DELETE", base+"/orgs/"+area, key, nil).status)

	audit := b.do(t, "GET", base+"/audit?action=org.move", key, nil).list(t)
	require.Len(t, audit, 1)
	require.Equal(t, station, audit[0]["target"])
}

func TestRolesAndMembers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	root := b.do(t, "GET", base+"/orgs", key, nil).list(t)[0]["id"].(string)

	// Seed 003: a role in three steps — profile, operation permissions, data scope.
	r := b.do(t, "POST", base+"/roles", key, map[string]any{"name": "民警", "permissions": []string{"clues:read", "units:export"}, "data_scope": "org"})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	officer := r.json(t)["id"].(string)

	r = b.do(t, "POST", base+"/roles", key, map[string]any{"name": "x", "permissions": []string{"clues:read", "clues:fly", "nope"}, "data_scope": "all"})
	requireProblem(t, r, http.StatusUnprocessableEntity)
	require.ElementsMatch(t, []string{"body.permissions[1]", "body.permissions[2]"}, r.locations(t))

	r = b.do(t, "POST", base+"/members", key, map[string]any{"org_id": root, "name": "张𠀀䶮", "phone": "13800138000", "role_ids": []string{officer}})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	m := r.json(t)
	require.Equal(t, "张𠀀䶮", m["name"], "rare characters survive")
	require.Equal(t, []any{officer}, m["role_ids"])

	r = b.do(t, "POST", base+"/members", key, map[string]any{"org_id": root, "name": "辅警甲", "sponsor_id": m["id"], "phone": "12345"})
	requireProblem(t, r, http.StatusUnprocessableEntity)
	require.Equal(t, []string{"body.phone"}, r.locations(t))

	r = b.do(t, "POST", base+"/members", key, map[string]any{"org_id": root, "name": "辅警甲", "sponsor_id": m["id"]})
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	aux := r.json(t)
	require.Equal(t, m["id"], aux["sponsor_id"])
	r = b.do(t, "PATCH", base+"/members/"+aux["id"].(string), key, map[string]any{"clear": []string{"sponsor_id"}})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Nil(t, r.json(t)["sponsor_id"], "an auxiliary can become a regular member")
	requireProblem(t, b.do(t, "PATCH", base+"/members/"+aux["id"].(string), key, map[string]any{"clear": []string{"name"}}), http.StatusUnprocessableEntity)

	requireProblem(t, b.do(t, "DELETE", base+"/roles/"+officer, key, nil), http.StatusConflict)
	list := b.do(t, "GET", base+"/members?q=张", key, nil).list(t)
	require.Len(t, list, 1)
}

func TestServiceEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, key := b.tenant(t, tenants.KindOther)
	b.do(t, "GET", "/v1/t/"+tn.Slug+"/modules", key, nil)

	require.Equal(t, http.StatusOK, b.do(t, "GET", "/healthz", "", nil).status)
	r := b.do(t, "GET", "/readyz", "", nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, true, r.json(t)["ready"])

	r = b.do(t, "GET", "/metrics", "", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, string(r.body), `yamen_http_request_duration_seconds_bucket{method="GET",operation="list-modules",status="200"`)

	r = b.do(t, "GET", "/openapi.json", "", nil)
	require.Equal(t, http.StatusOK, r.status)
	doc := r.json(t)
	require.Equal(t, "3.1.0", doc["openapi"])
	require.Contains(t, doc["paths"], "/v1/t/{tenant}/orgs/{org}/move")
	require.Equal(t, http.StatusOK, b.do(t, "GET", "/openapi.yaml", "", nil).status)
	r = b.do(t, "GET", "/docs", "", nil)
	require.Equal(t, http.StatusOK, r.status)
	page := string(r.body)
	require.Contains(t, page, "/v1/t/{tenant}/orgs/{org}/move")
	require.Contains(t, page, "<code>orgs:write</code>", "each operation shows the permission it needs")
	require.NotContains(t, page, "<script", "the docs work with no CDN in reach")
	require.Contains(t, doc["paths"].(map[string]any)["/v1/t/{tenant}/orgs"].(map[string]any)["post"], "x-yamen-action")

	r = b.do(t, "GET", "/no/such/path", "", nil)
	requireProblem(t, r, http.StatusNotFound)

	req, _ := http.NewRequest("GET", b.url+"/healthz", nil)
	req.Header.Set("X-Request-ID", "trace-abc.123")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "trace-abc.123", resp.Header.Get("X-Request-ID"))
	req.Header.Set("X-Request-ID", "bad\nid")
	resp, err = http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		require.NotEqual(t, "bad\nid", resp.Header.Get("X-Request-ID"))
	}
}

func TestEveryOperationDeclaresAnAction(t *testing.T) {
	t.Parallel()
	reg, err := builtin.Registry()
	require.NoError(t, err)
	srv, err := api.New(api.Config{Registry: reg})
	require.NoError(t, err)
	require.NoError(t, modules.CheckActions(humaOf(srv)))

	bad, err := modules.NewRegistry(undeclared{})
	require.NoError(t, err)
	_, err = api.New(api.Config{Registry: bad})
	require.ErrorContains(t, err, "without a declared action")
}

// undeclared registers an operation straight through huma, skipping the
// action every operation must declare.
type undeclared struct{}

func (undeclared) Module() modules.Info {
	return modules.Info{ID: "undeclared", Title: modules.Text{ZH: "未声明", EN: "Undeclared"}}
}

func (undeclared) Routes(r *modules.Router) {
	huma.Register(r.API(), huma.Operation{OperationID: "sneaky", Method: http.MethodGet, Path: "/v1/sneaky"},
		func(ctx context.Context, _ *struct{}) (*api.Body[string], error) { return nil, nil })
}

func humaOf(s *api.Server) huma.API { return s.API() }

// Seed 003 数据权限: every tenant read of the built-in modules says in the
// document how its rows follow the reader's data scope, and the members'
// reads follow it. A read that says nothing does not start: Register
// refuses it, and CheckRows catches one added around Register.
func TestEveryTenantReadDeclaresItsDataScope(t *testing.T) {
	t.Parallel()
	reg, err := builtin.Registry()
	require.NoError(t, err)
	srv, err := api.New(api.Config{Registry: reg})
	require.NoError(t, err)
	doc := humaOf(srv).OpenAPI()
	reads := 0
	for path, item := range doc.Paths {
		op := item.Get
		if op == nil || op.Metadata[modules.MetaScope] != modules.ScopeTenant {
			continue
		}
		reads++
		declared, _ := op.Extensions["x-yamen-data-scope"].(string)
		require.NotEmpty(t, declared, "GET %s", path)
		if strings.HasPrefix(path, "/v1/t/{tenant}/members") {
			require.Equal(t, modules.Rows{Columns: tenants.MemberColumns}, op.Metadata[modules.MetaRows], "GET %s follows the data scope", path)
		}
	}
	require.Greater(t, reads, 40, "the walk saw the tenant reads")

	bad, err := modules.NewRegistry(unscoped{})
	require.NoError(t, err)
	require.PanicsWithValue(t, "tenant read GET /v1/t/{tenant}/unscoped/rows does not declare how its rows follow the data scope (modules.InScope or modules.TenantWide)",
		func() { _, _ = api.New(api.Config{Registry: bad}) })
	bad, err = modules.NewRegistry(unscoped{raw: true})
	require.NoError(t, err)
	_, err = api.New(api.Config{Registry: bad})
	require.ErrorContains(t, err, "GET /v1/t/{tenant}/unscoped/raw does not declare how its rows follow the data scope")
}

// unscoped registers a tenant read that does not say how its rows follow
// the data scope: through Register, or around it (raw).
type unscoped struct{ raw bool }

func (unscoped) Module() modules.Info {
	return modules.Info{ID: "unscoped", Title: modules.Text{ZH: "未声明数据范围", EN: "Unscoped"},
		Permissions: []modules.Permission{{Name: "unscoped:read", Title: modules.Text{ZH: "读取", EN: "Read"}}}}
}

func (u unscoped) Routes(r *modules.Router) {
	handler := func(ctx context.Context, _ *struct {
		Tenant string `path:"tenant"`
	}) (*api.Body[[]string], error) {
		return &api.Body[[]string]{Body: []string{}}, nil
	}
	if u.raw {
		huma.Register(r.API(), huma.Operation{OperationID: "unscoped-raw", Method: http.MethodGet, Path: "/v1/t/{tenant}/unscoped/raw",
			Metadata: map[string]any{modules.MetaAction: "unscoped:read", modules.MetaScope: modules.ScopeTenant}}, handler)
		return
	}
	modules.Register(r, "unscoped:read", huma.Operation{OperationID: "unscoped-rows", Method: http.MethodGet, Path: "/rows"}, handler)
}
