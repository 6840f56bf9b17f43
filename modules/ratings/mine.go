package ratings

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yamen/problem"
	"yamen/tenants"
)

// MyCase is one of a citizen's cases, with the tenant to rate it in.
type MyCase struct {
	Tenant     string `json:"tenant" doc:"办件所在租户标识，评价时使用 (the tenant slug to rate it in)"`
	TenantName string `json:"tenant_name"`
	Case
}

type myCasesInput struct {
	Limit int `query:"limit" required:"false" minimum:"1" maximum:"200" default:"50" doc:"最多返回条数，最新办结的在前 (at most this many, newest handled first)"`
}

// citizenOf is the citizen a /v1/me operation acts for.
func citizenOf(ctx context.Context) (uuid.UUID, error) {
	s, ok := tenants.SubjectFrom(ctx)
	if ok && (s.Kind == tenants.SubjectCitizen || s.Kind == tenants.SubjectIntermediary) {
		if r := rater(s); r.Citizen != uuid.Nil {
			return r.Citizen, nil
		}
	}
	return uuid.Nil, problem.Forbidden("仅登录的居民本人可以查看自己的办件 (only a signed-in citizen sees their own cases)")
}

// ListMyCases returns the citizen's newest cases, at most limit, across
// the jurisdiction's active tenants: each tenant's cases are behind its own
// row level security, so each is asked in turn for at most limit rows.
func (m *Module) ListMyCases(ctx context.Context, citizen uuid.UUID, limit int) ([]MyCase, error) {
	subject := (tenants.Subject{Kind: tenants.SubjectCitizen, ID: citizen}).String()
	out := []MyCase{}
	after := ""
	for {
		ts, err := m.db.ListTenants(ctx, tenants.TenantFilter{Status: string(tenants.StatusActive), After: after, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			r, err := m.db.Reader(t.ID, subject)
			if err != nil {
				return nil, err
			}
			rows, err := r.Query(ctx, "SELECT "+caseColumns+" FROM rating_cases WHERE citizen_id = $1 ORDER BY handled_at DESC LIMIT $2", citizen, limit)
			if err != nil {
				return nil, fmt.Errorf("ratings: cases of a citizen in %s: %w", t.Slug, err)
			}
			cs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Case, error) { return scanCase(row) })
			if err != nil {
				return nil, fmt.Errorf("ratings: cases of a citizen in %s: %w", t.Slug, err)
			}
			for _, c := range cs {
				out = append(out, MyCase{Tenant: t.Slug, TenantName: t.Name, Case: c.masked()})
			}
		}
		if len(ts) < 500 {
			break
		}
		after = ts[len(ts)-1].Slug
	}
	slices.SortFunc(out, func(a, b MyCase) int { return b.HandledAt.Compare(a.HandledAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
