package tenants_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

func TestActorByIdentity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := tenanttest.Tenant(t, tenants.KindPoliceBureau)
	b := tenanttest.Tenant(t, tenants.KindPoliceBureau)
	officerID, auxID := uuid.New(), uuid.New()
	tenanttest.Tx(t, a, func(tx *tenants.Tx) {
		orgs, err := tenants.ListOrgs(ctx, tx, nil)
		require.NoError(t, err)
		root := orgs[0].ID
		st, err := tenants.CreateOrg(ctx, tx, tenants.NewOrg{ParentID: &root, Code: "st", Name: "东华派出所", Kind: "station"})
		require.NoError(t, err)
		role, err := tenants.CreateRole(ctx, tx, tenants.NewRole{Name: "民警", Permissions: []string{"units:read"}, DataScope: tenants.ScopeOrg})
		require.NoError(t, err)
		officer, err := tenants.CreateMember(ctx, tx, tenants.NewMember{OrgID: st.ID, Name: "张伟", RoleIDs: []uuid.UUID{role.ID}})
		require.NoError(t, err)
		aux, err := tenants.CreateMember(ctx, tx, tenants.NewMember{OrgID: st.ID, Name: "王磊", SponsorID: &officer.ID})
		require.NoError(t, err)
		_, err = tenants.LinkIdentity(ctx, tx, officer.ID, &officerID)
		require.NoError(t, err)
		_, err = tenants.LinkIdentity(ctx, tx, aux.ID, &auxID)
		require.NoError(t, err)

		got, err := tenants.ActorByIdentity(ctx, tx, officerID)
		require.NoError(t, err)
		require.Equal(t, officer.ID, got.Member.ID)
		require.Equal(t, "station", got.OrgKind)
		require.Equal(t, 2, got.OrgDepth)
		require.Len(t, got.Roles, 1)
		require.Equal(t, "民警", got.Roles[0].Name)
		require.Nil(t, got.Sponsor)

		got, err = tenants.ActorByIdentity(ctx, tx, auxID)
		require.NoError(t, err)
		require.NotNil(t, got.Sponsor, "a 辅警 comes with the sponsoring officer")
		require.Equal(t, officer.ID, got.Sponsor.Member.ID)
		require.Len(t, got.Sponsor.Roles, 1)

		inactive := "inactive"
		_, err = tenants.UpdateMember(ctx, tx, officer.ID, tenants.MemberUpdate{Status: &inactive})
		require.NoError(t, err)
		_, err = tenants.ActorByIdentity(ctx, tx, officerID)
		requireProblem(t, err, 404, "")

		var n int
		require.NoError(t, tx.QueryRow(ctx, "SELECT count(*) FROM audit_log WHERE action = 'member.link'").Scan(&n))
		require.Equal(t, 2, n)
	})
	t.Run("DifferentTenantSeesNothing", func(t *testing.T) {
		t.Parallel()
		tenanttest.Tx(t, b, func(tx *tenants.Tx) {
			_, err := tenants.ActorByIdentity(ctx, tx, auxID)
			requireProblem(t, err, 404, "")
		})
	})
}
