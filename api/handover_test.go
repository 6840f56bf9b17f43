package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"yamen/tenants"
)

// Seed 002 工作移交: a member's assigned work goes to another member, every
// module's part in one audited transaction.
func TestHandover(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tn, key := b.tenant(t, tenants.KindPoliceBureau)
	base := "/v1/t/" + tn.Slug
	require.Equal(t, http.StatusOK, b.do(t, "PUT", "/v1/platform/tenants/"+tn.Slug+"/modules/probe/entitlement", b.platformKey, map[string]any{"entitled": true}).status)
	require.Equal(t, http.StatusOK, b.do(t, "POST", base+"/modules/probe/enable", key, nil).status)
	root := b.do(t, "GET", base+"/orgs", key, nil).list(t)[0]["id"].(string)
	mk := func(name string) string {
		r := b.do(t, "POST", base+"/members", key, map[string]any{"org_id": root, "name": name})
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		return r.json(t)["id"].(string)
	}
	leaving, taking, broken := mk("调离民警"), mk("接手民警"), mk("故障")
	outbox := func() int {
		var n int
		require.NoError(t, b.db.Tx(context.Background(), tn.ID, "system", func(tx *tenants.Tx) error {
			return tx.QueryRow(context.Background(), "SELECT count(*) FROM outbox WHERE task_type = 'probe:handover'").Scan(&n)
		}))
		return n
	}

	r := b.do(t, "POST", base+"/members/"+leaving+"/handover", key, map[string]any{"to": taking})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.EqualValues(t, 3, r.json(t)["moved"].(map[string]any)["probe"])
	require.Equal(t, 1, outbox())
	audit := b.do(t, "GET", base+"/audit?action=member.handover", key, nil).list(t)
	require.Len(t, audit, 1)
	require.Equal(t, leaving, audit[0]["target"])

	// A module failing undoes the whole handover.
	r = b.do(t, "POST", base+"/members/"+leaving+"/handover", key, map[string]any{"to": broken})
	requireProblem(t, r, http.StatusInternalServerError)
	require.Equal(t, 1, outbox(), "nothing of the failed handover stays")

	requireProblem(t, b.do(t, "POST", base+"/members/"+leaving+"/handover", key, map[string]any{"to": leaving}), http.StatusUnprocessableEntity)
	r = b.do(t, "POST", base+"/members/"+leaving+"/handover", key, map[string]any{"to": "6f1c2b3a-0000-4000-8000-000000000009"})
	requireProblem(t, r, http.StatusUnprocessableEntity)
	require.Equal(t, []string{"body.to"}, r.locations(t))
}
