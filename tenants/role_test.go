package tenants_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/tenants"
)

func TestRoles(t *testing.T) {
	t.Parallel()

	t.Run("CreateGetListUpdateDelete", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		bx.tx(t, func(tx *tenants.Tx) {
			tr := makeOrgTree(t, bx.ctx, tx)
			r, err := tenants.CreateRole(bx.ctx, tx, tenants.NewRole{
				Name: "neiqin 分局内勤", Description: "查看本分局", Permissions: []string{"orgs:read", "members:read"}, DataScope: tenants.ScopeOrgSubtree,
			})
			require.NoError(t, err)
			require.Equal(t, "neiqin 分局内勤", r.Name)
			require.Equal(t, "查看本分局", r.Description)
			require.Equal(t, []string{"orgs:read", "members:read"}, r.Permissions)
			require.Equal(t, tenants.ScopeOrgSubtree, r.DataScope)
			require.Empty(t, r.ScopeOrgIDs)
			require.Zero(t, r.Members)

			got, err := tenants.GetRole(bx.ctx, tx, r.ID)
			require.NoError(t, err)
			require.Equal(t, r, got)

			custom, err := tenants.CreateRole(bx.ctx, tx, tenants.NewRole{Name: "custom 专项组", DataScope: tenants.ScopeCustom, ScopeOrgIDs: []uuid.UUID{tr.a1.ID, tr.b.ID}})
			require.NoError(t, err)
			require.ElementsMatch(t, []uuid.UUID{tr.a1.ID, tr.b.ID}, custom.ScopeOrgIDs)
			require.Equal(t, []string{}, custom.Permissions, "no permissions is an empty list, not null")

			roles, err := tenants.ListRoles(bx.ctx, tx)
			require.NoError(t, err)
			var names []string
			for _, x := range roles {
				names = append(names, x.Name)
			}
			require.ElementsMatch(t, []string{tenants.AdminRoleName, "neiqin 分局内勤", "custom 专项组"}, names)
			require.Less(t, slices.Index(names, "custom 专项组"), slices.Index(names, "neiqin 分局内勤"), "by name: %v", names)

			// Switching away from custom clears the orgs; switching to it needs them.
			scope := tenants.ScopeAll
			up, err := tenants.UpdateRole(bx.ctx, tx, custom.ID, tenants.RoleUpdate{DataScope: &scope})
			require.NoError(t, err)
			require.Equal(t, tenants.ScopeAll, up.DataScope)
			require.Empty(t, up.ScopeOrgIDs)
			require.Equal(t, "custom 专项组", up.Name, "fields not given stay")

			scope = tenants.ScopeCustom
			orgs := []uuid.UUID{tr.a2.ID}
			up, err = tenants.UpdateRole(bx.ctx, tx, r.ID, tenants.RoleUpdate{DataScope: &scope, ScopeOrgIDs: &orgs})
			require.NoError(t, err)
			require.Equal(t, orgs, up.ScopeOrgIDs)
			require.Equal(t, []string{"orgs:read", "members:read"}, up.Permissions)

			perms := []string{"clues:adopt"}
			name := "neiqin 分局内勤（改）"
			up, err = tenants.UpdateRole(bx.ctx, tx, r.ID, tenants.RoleUpdate{Name: &name, Permissions: &perms})
			require.NoError(t, err)
			require.Equal(t, name, up.Name)
			require.Equal(t, perms, up.Permissions)
			require.Equal(t, tenants.ScopeCustom, up.DataScope, "the scope stays")
			require.Equal(t, orgs, up.ScopeOrgIDs)

			require.NoError(t, tenants.DeleteRole(bx.ctx, tx, r.ID))
			_, err = tenants.GetRole(bx.ctx, tx, r.ID)
			requireProblem(t, err, http.StatusNotFound, "")
			requireProblem(t, tenants.DeleteRole(bx.ctx, tx, r.ID), http.StatusNotFound, "")

			for _, action := range []string{"role.create", "role.update", "role.delete"} {
				es, err := tenants.ListAudit(bx.ctx, tx, tenants.AuditFilter{Action: action})
				require.NoError(t, err)
				require.NotEmpty(t, es, action)
			}
		})
	})

	t.Run("ScopeOrgs", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		bx.tx(t, func(tx *tenants.Tx) {
			tr := makeOrgTree(t, bx.ctx, tx)
			for _, tc := range []struct {
				name  string
				scope string
				orgs  []uuid.UUID
			}{
				{"CustomWithoutOrgs", tenants.ScopeCustom, nil},
				{"CustomWithUnknownOrg", tenants.ScopeCustom, []uuid.UUID{tr.a.ID, uuid.New()}},
				{"AllWithOrgs", tenants.ScopeAll, []uuid.UUID{tr.a.ID}},
				{"SelfWithOrgs", tenants.ScopeSelf, []uuid.UUID{tr.a.ID}},
				{"OrgWithOrgs", tenants.ScopeOrg, []uuid.UUID{tr.a.ID}},
			} {
				_, err := tenants.CreateRole(bx.ctx, tx, tenants.NewRole{Name: tc.name, DataScope: tc.scope, ScopeOrgIDs: tc.orgs})
				requireProblem(t, err, http.StatusUnprocessableEntity, "body.scope_org_ids")
			}

			// The same org twice counts once.
			r, err := tenants.CreateRole(bx.ctx, tx, tenants.NewRole{Name: "twice", DataScope: tenants.ScopeCustom, ScopeOrgIDs: []uuid.UUID{tr.a.ID, tr.a.ID}})
			require.NoError(t, err)

			none := []uuid.UUID{}
			_, err = tenants.UpdateRole(bx.ctx, tx, r.ID, tenants.RoleUpdate{ScopeOrgIDs: &none})
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.scope_org_ids")
			unknown := []uuid.UUID{uuid.New()}
			_, err = tenants.UpdateRole(bx.ctx, tx, r.ID, tenants.RoleUpdate{ScopeOrgIDs: &unknown})
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.scope_org_ids")
			scope := tenants.ScopeSelf
			orgs := []uuid.UUID{tr.b.ID}
			_, err = tenants.UpdateRole(bx.ctx, tx, r.ID, tenants.RoleUpdate{DataScope: &scope, ScopeOrgIDs: &orgs})
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.scope_org_ids")

			roles, err := tenants.ListRoles(bx.ctx, tx)
			require.NoError(t, err)
			require.Len(t, roles, 2, "only the admin role and twice exist")
			got, err := tenants.GetRole(bx.ctx, tx, r.ID)
			require.NoError(t, err)
			require.Equal(t, tenants.ScopeCustom, got.DataScope, "refused updates change nothing")
		})
	})

	t.Run("DuplicateName", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		bx.tx(t, func(tx *tenants.Tx) {
			err := tx.Savepoint(bx.ctx, func() error {
				_, err := tenants.CreateRole(bx.ctx, tx, tenants.NewRole{Name: tenants.AdminRoleName, DataScope: tenants.ScopeSelf})
				return err
			})
			p := requireProblem(t, err, http.StatusConflict, "body.name")
			require.Equal(t, tenants.AdminRoleName, p.Fields[0].Value)

			r, err := tenants.CreateRole(bx.ctx, tx, tenants.NewRole{Name: "other", DataScope: tenants.ScopeSelf})
			require.NoError(t, err)
			name := tenants.AdminRoleName
			err = tx.Savepoint(bx.ctx, func() error {
				_, err := tenants.UpdateRole(bx.ctx, tx, r.ID, tenants.RoleUpdate{Name: &name})
				return err
			})
			requireProblem(t, err, http.StatusConflict, "body.name")
		})
	})

	t.Run("DeleteHeldRole", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		bx.tx(t, func(tx *tenants.Tx) {
			tr := makeOrgTree(t, bx.ctx, tx)
			r, err := tenants.CreateRole(bx.ctx, tx, tenants.NewRole{Name: "民警", DataScope: tenants.ScopeSelf})
			require.NoError(t, err)
			m1, err := tenants.CreateMember(bx.ctx, tx, tenants.NewMember{OrgID: tr.a1.ID, Name: "甲", RoleIDs: []uuid.UUID{r.ID}})
			require.NoError(t, err)
			m2, err := tenants.CreateMember(bx.ctx, tx, tenants.NewMember{OrgID: tr.a1.ID, Name: "乙", RoleIDs: []uuid.UUID{r.ID}})
			require.NoError(t, err)
			got, err := tenants.GetRole(bx.ctx, tx, r.ID)
			require.NoError(t, err)
			require.Equal(t, 2, got.Members)

			requireProblem(t, tenants.DeleteRole(bx.ctx, tx, r.ID), http.StatusConflict, "")
			require.NoError(t, tenants.DeleteMember(bx.ctx, tx, m1.ID))
			none := []uuid.UUID{}
			_, err = tenants.UpdateMember(bx.ctx, tx, m2.ID, tenants.MemberUpdate{RoleIDs: &none})
			require.NoError(t, err)
			got, err = tenants.GetRole(bx.ctx, tx, r.ID)
			require.NoError(t, err)
			require.Zero(t, got.Members)
			require.NoError(t, tenants.DeleteRole(bx.ctx, tx, r.ID), "nobody holds it any more")
		})
	})

	t.Run("UnknownRole", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		bx.tx(t, func(tx *tenants.Tx) {
			name := "x"
			_, err := tenants.UpdateRole(bx.ctx, tx, uuid.New(), tenants.RoleUpdate{Name: &name})
			requireProblem(t, err, http.StatusNotFound, "")
			_, err = tenants.GetRole(bx.ctx, tx, uuid.New())
			requireProblem(t, err, http.StatusNotFound, "")
		})
	})
}
