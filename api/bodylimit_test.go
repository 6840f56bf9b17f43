package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"yamen/api"
	"yamen/modules"
	"yamen/modules/builtin"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// The service-wide body limit (YAMEN_MAX_BODY_BYTES) answers 413, whatever
// limit an operation sets for itself.
func TestServiceBodyLimitIs413(t *testing.T) {
	t.Parallel()
	db := tenanttest.DB(t)
	reg, err := modules.NewRegistry(builtin.Modules()...)
	require.NoError(t, err)
	srv, err := api.New(api.Config{DB: db, Registry: reg, MaxBodyBytes: 1000})
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	tn := tenanttest.Tenant(t, tenants.KindOther)
	var key string
	require.NoError(t, db.Tx(context.Background(), tn.ID, "system", func(tx *tenants.Tx) error {
		_, key, err = tenants.CreateTenantKey(context.Background(), tx, tenants.NewKey{Name: "t", Scopes: []string{"*"}})
		return err
	}))
	body := `{"code":"x","name":"` + strings.Repeat("名", 1000) + `","kind":"other"}`
	req, err := http.NewRequest("POST", ts.URL+"/v1/t/"+tn.Slug+"/orgs", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
}
