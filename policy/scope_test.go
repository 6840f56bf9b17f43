package policy_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/policy"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// The scope's SQL against real rows: a tree 市局 → 分局 → 派出所 with a member
// in each, and one decision per scope kind.
func TestScopeWhereOnRealRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := setup(t)
	tn := tenanttest.Tenant(t, tenants.KindPoliceBureau)
	tenanttest.Tx(t, tn, func(tx *tenants.Tx) {
		orgs, err := tenants.ListOrgs(ctx, tx, nil)
		require.NoError(t, err)
		root := orgs[0]
		mk := func(parent uuid.UUID, code, kind string) tenants.Org {
			o, err := tenants.CreateOrg(ctx, tx, tenants.NewOrg{ParentID: &parent, Code: code, Name: code, Kind: kind})
			require.NoError(t, err)
			return o
		}
		br := mk(root.ID, "branch", "branch")
		st := mk(br.ID, "station", "station")
		other := mk(root.ID, "other", "branch")
		members := map[string]uuid.UUID{}
		for name, org := range map[string]uuid.UUID{"root": root.ID, "branch": br.ID, "station": st.ID, "other": other.ID} {
			m, err := tenants.CreateMember(ctx, tx, tenants.NewMember{OrgID: org, Name: name})
			require.NoError(t, err)
			members[name] = m.ID
		}
		visible := func(role policy.Role, holder uuid.UUID, org tenants.Org) []string {
			t.Helper()
			role.Permissions = []string{"members:read"}
			d, err := e.Decide(ctx, policy.Input{Action: "members:read", Subject: policy.Subject{Kind: "member", ID: holder.String(),
				Member: &policy.Member{ID: holder.String(), Org: policy.Org{ID: org.ID.String(), Kind: org.Kind, Depth: org.Depth}, Roles: []policy.Role{role}}}})
			require.NoError(t, err)
			where, args := d.Scope.Where(policy.Columns{Org: "org_id", Owner: "id"}, 1)
			rows, err := tx.Query(ctx, "SELECT name FROM members WHERE "+where+" ORDER BY name", args...)
			require.NoError(t, err)
			var names []string
			for rows.Next() {
				var n string
				require.NoError(t, rows.Scan(&n))
				names = append(names, n)
			}
			require.NoError(t, rows.Err())
			return names
		}
		require.Equal(t, []string{"branch", "other", "root", "station"}, visible(policy.Role{DataScope: "all"}, members["branch"], br))
		require.Equal(t, []string{"branch", "station"}, visible(policy.Role{DataScope: "org_subtree"}, members["branch"], br))
		require.Equal(t, []string{"branch"}, visible(policy.Role{DataScope: "org"}, members["branch"], br))
		require.Equal(t, []string{"station"}, visible(policy.Role{DataScope: "self"}, members["station"], st))
		require.Equal(t, []string{"other", "station"}, visible(policy.Role{DataScope: "custom", ScopeOrgIDs: []string{st.ID.String(), other.ID.String()}}, members["root"], root))

		// The subtree follows a move at once.
		_, err = tenants.MoveOrg(ctx, tx, st.ID, other.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"branch"}, visible(policy.Role{DataScope: "org_subtree"}, members["branch"], br))
		require.Equal(t, []string{"other", "station"}, visible(policy.Role{DataScope: "org_subtree"}, members["other"], other))
	})
}
