package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"yamen/modules/booking"
	"yamen/tenants"
)

// A citizen signs in through Kratos, finds their cases under /v1/me/cases
// — their own only, with the tenant to rate each in, phone masked, no
// rating token — rates their own case and cannot rate another's.
func TestRatingsCitizenRatesOwnCase(t *testing.T) {
	t.Parallel()
	b, _ := ratingsSetup(t)
	tn, key := b.tenant(t, tenants.KindAffairsHall)
	base := "/v1/t/" + tn.Slug + "/ratings"
	citizen, token := citizenAccount(t, "陈𠀀", booking.LevelRealName)
	other, _ := citizenAccount(t, "林䶮", booking.LevelRealName)
	now := time.Now()

	mine := pushCase("CZ-MINE", now.Add(-2*time.Hour))
	mine["citizen_id"] = citizen
	r := b.do(t, "POST", base+"/cases", key, mine)
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	theirs := pushCase("CZ-THEIRS", now.Add(-time.Hour))
	theirs["citizen_id"] = other
	r = b.do(t, "POST", base+"/cases", key, theirs)
	require.Equal(t, http.StatusCreated, r.status, string(r.body))

	r = b.doSession(t, "GET", "/v1/me/cases", token, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	cases := r.list(t)
	require.Len(t, cases, 1)
	require.Equal(t, "CZ-MINE", cases[0]["case_no"])
	require.Equal(t, tn.Slug, cases[0]["tenant"])
	require.Nil(t, cases[0]["rating"])
	require.NotContains(t, string(r.body), "13655556666")
	require.NotContains(t, string(r.body), "rate_token")

	r = b.doSession(t, "POST", base+"/cases/CZ-THEIRS/rating", token, map[string]any{"level": 5, "channel": "app"})
	requireProblem(t, r, http.StatusNotFound)
	r = b.doSession(t, "POST", base+"/cases/CZ-MINE/rating", token, map[string]any{"level": 4, "tags": []string{"409"}, "comment": "大厅很整洁𠀀", "channel": "app"})
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	require.Equal(t, "满意", r.json(t)["rating"].(map[string]any)["level_name"])
	r = b.doSession(t, "POST", base+"/cases/CZ-MINE/rating", token, map[string]any{"level": 1, "tags": []string{"115"}, "channel": "app"})
	requireProblem(t, r, http.StatusConflict)

	r = b.doSession(t, "GET", "/v1/me/cases", token, nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	rating := r.list(t)[0]["rating"].(map[string]any)
	require.EqualValues(t, 4, rating["level"])
	require.Equal(t, "大厅很整洁𠀀", rating["comment"])

	requireProblem(t, b.send(t, "GET", "/v1/me/cases", nil), http.StatusUnauthorized)
}
