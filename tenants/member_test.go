package tenants_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/policy"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

func memberIDs(ms []tenants.Member) []uuid.UUID {
	ids := make([]uuid.UUID, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

func TestMembers(t *testing.T) {
	t.Parallel()

	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		bx.tx(t, func(tx *tenants.Tx) {
			tr := makeOrgTree(t, bx.ctx, tx)
			r1, err := tenants.CreateRole(bx.ctx, tx, tenants.NewRole{Name: "r1", DataScope: tenants.ScopeSelf})
			require.NoError(t, err)
			r2, err := tenants.CreateRole(bx.ctx, tx, tenants.NewRole{Name: "r2", DataScope: tenants.ScopeOrg})
			require.NoError(t, err)

			email, phone, badge := "zhang@example.cn", "13800000000", "010203"
			m, err := tenants.CreateMember(bx.ctx, tx, tenants.NewMember{
				OrgID: tr.a1.ID, Name: "张三", Email: &email, Phone: &phone, BadgeNo: &badge, RoleIDs: []uuid.UUID{r1.ID, r2.ID},
			})
			require.NoError(t, err)
			require.Equal(t, tr.a1.ID, m.OrgID)
			require.Equal(t, "张三", m.Name)
			require.Equal(t, &email, m.Email)
			require.Equal(t, &phone, m.Phone)
			require.Equal(t, &badge, m.BadgeNo)
			require.Nil(t, m.SponsorID)
			require.Nil(t, m.IdentityID)
			require.Equal(t, "active", m.Status)
			require.ElementsMatch(t, []uuid.UUID{r1.ID, r2.ID}, m.RoleIDs)

			got, err := tenants.GetMember(bx.ctx, tx, m.ID)
			require.NoError(t, err)
			require.Equal(t, m, got)

			name, status := "张三丰", "inactive"
			roles := []uuid.UUID{r2.ID}
			up, err := tenants.UpdateMember(bx.ctx, tx, m.ID, tenants.MemberUpdate{OrgID: &tr.b1.ID, Name: &name, Status: &status, RoleIDs: &roles})
			require.NoError(t, err)
			require.Equal(t, tr.b1.ID, up.OrgID)
			require.Equal(t, name, up.Name)
			require.Equal(t, status, up.Status)
			require.Equal(t, roles, up.RoleIDs, "roles are replaced")
			require.Equal(t, &email, up.Email, "fields not given stay")

			up, err = tenants.UpdateMember(bx.ctx, tx, m.ID, tenants.MemberUpdate{Name: &name})
			require.NoError(t, err)
			require.Equal(t, roles, up.RoleIDs, "roles not given stay")

			require.NoError(t, tenants.DeleteMember(bx.ctx, tx, m.ID))
			_, err = tenants.GetMember(bx.ctx, tx, m.ID)
			requireProblem(t, err, http.StatusNotFound, "")
			requireProblem(t, tenants.DeleteMember(bx.ctx, tx, m.ID), http.StatusNotFound, "")
			_, err = tenants.UpdateMember(bx.ctx, tx, m.ID, tenants.MemberUpdate{Name: &name})
			requireProblem(t, err, http.StatusNotFound, "")
			gotRole, err := tenants.GetRole(bx.ctx, tx, r2.ID)
			require.NoError(t, err)
			require.Zero(t, gotRole.Members, "a deleted member holds no role")

			for _, action := range []string{"member.create", "member.update", "member.delete"} {
				es, err := tenants.ListAudit(bx.ctx, tx, tenants.AuditFilter{Action: action})
				require.NoError(t, err)
				require.NotEmpty(t, es, action)
				require.Equal(t, m.ID.String(), es[0].Target)
			}
		})
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		bx.tx(t, func(tx *tenants.Tx) {
			tr := makeOrgTree(t, bx.ctx, tx)
			mk := func(org uuid.UUID, name, phone string) tenants.Member {
				m, err := tenants.CreateMember(bx.ctx, tx, tenants.NewMember{OrgID: org, Name: name, Phone: &phone})
				require.NoError(t, err)
				return m
			}
			inA := mk(tr.a.ID, "赵一", "13900000001")
			inA1 := mk(tr.a1.ID, "钱二", "13900000002")
			inA1x := mk(tr.a1x.ID, "孙三", "13900000003")
			inB := mk(tr.b.ID, "李四", "13900000004")

			all, err := tenants.ListMembers(bx.ctx, tx, policy.SystemScope(), tenants.MemberFilter{})
			require.NoError(t, err)
			require.ElementsMatch(t, []uuid.UUID{inA.ID, inA1.ID, inA1x.ID, inB.ID}, memberIDs(all))

			only, err := tenants.ListMembers(bx.ctx, tx, policy.SystemScope(), tenants.MemberFilter{OrgID: &tr.a1.ID})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{inA1.ID}, memberIDs(only))

			sub, err := tenants.ListMembers(bx.ctx, tx, policy.SystemScope(), tenants.MemberFilter{OrgID: &tr.a1.ID, Subtree: true})
			require.NoError(t, err)
			require.ElementsMatch(t, []uuid.UUID{inA1.ID, inA1x.ID}, memberIDs(sub))

			byName, err := tenants.ListMembers(bx.ctx, tx, policy.SystemScope(), tenants.MemberFilter{Query: "孙"})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{inA1x.ID}, memberIDs(byName))
			byPhone, err := tenants.ListMembers(bx.ctx, tx, policy.SystemScope(), tenants.MemberFilter{Query: "13900000004"})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{inB.ID}, memberIDs(byPhone))

			// Keyset paging walks every member once.
			var paged []uuid.UUID
			var after *uuid.UUID
			for range 10 {
				page, err := tenants.ListMembers(bx.ctx, tx, policy.SystemScope(), tenants.MemberFilter{After: after, Limit: 3})
				require.NoError(t, err)
				require.LessOrEqual(t, len(page), 3)
				if len(page) == 0 {
					break
				}
				paged = append(paged, memberIDs(page)...)
				after = &page[len(page)-1].ID
			}
			require.Equal(t, memberIDs(all), paged)
		})
	})

	t.Run("UnknownOrg", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		other := tenanttest.Tenant(t, tenants.KindPoliceBureau)
		var otherRoot uuid.UUID
		tenanttest.Tx(t, other, func(tx *tenants.Tx) {
			orgs, err := tenants.ListOrgs(bx.ctx, tx, nil)
			require.NoError(t, err)
			otherRoot = orgs[0].ID
		})
		bx.tx(t, func(tx *tenants.Tx) {
			tr := makeOrgTree(t, bx.ctx, tx)
			for _, org := range []uuid.UUID{uuid.New(), otherRoot} {
				err := tx.Savepoint(bx.ctx, func() error {
					_, err := tenants.CreateMember(bx.ctx, tx, tenants.NewMember{OrgID: org, Name: "无处"})
					return err
				})
				requireProblem(t, err, http.StatusUnprocessableEntity, "body.org_id")
			}
			m, err := tenants.CreateMember(bx.ctx, tx, tenants.NewMember{OrgID: tr.a.ID, Name: "有处"})
			require.NoError(t, err)
			err = tx.Savepoint(bx.ctx, func() error {
				_, err := tenants.UpdateMember(bx.ctx, tx, m.ID, tenants.MemberUpdate{OrgID: &otherRoot})
				return err
			})
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.org_id")
			got, err := tenants.GetMember(bx.ctx, tx, m.ID)
			require.NoError(t, err)
			require.Equal(t, tr.a.ID, got.OrgID)
		})
	})

	t.Run("UnknownRole", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		other := tenanttest.Tenant(t, tenants.KindPoliceBureau)
		var otherAdmin uuid.UUID
		tenanttest.Tx(t, other, func(tx *tenants.Tx) {
			roles, err := tenants.ListRoles(bx.ctx, tx)
			require.NoError(t, err)
			otherAdmin = roles[0].ID
		})
		bx.tx(t, func(tx *tenants.Tx) {
			tr := makeOrgTree(t, bx.ctx, tx)
			roles, err := tenants.ListRoles(bx.ctx, tx)
			require.NoError(t, err)
			admin := roles[0].ID
			for _, ids := range [][]uuid.UUID{{uuid.New()}, {admin, uuid.New()}, {otherAdmin}} {
				err := tx.Savepoint(bx.ctx, func() error {
					_, err := tenants.CreateMember(bx.ctx, tx, tenants.NewMember{OrgID: tr.a.ID, Name: "无角色", RoleIDs: ids})
					return err
				})
				requireProblem(t, err, http.StatusUnprocessableEntity, "body.role_ids")
			}
			ms, err := tenants.ListMembers(bx.ctx, tx, policy.SystemScope(), tenants.MemberFilter{})
			require.NoError(t, err)
			require.Empty(t, ms, "refused members are not half-created")

			m, err := tenants.CreateMember(bx.ctx, tx, tenants.NewMember{OrgID: tr.a.ID, Name: "有角色", RoleIDs: []uuid.UUID{admin, admin}})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{admin}, m.RoleIDs, "a role named twice is granted once")
			bad := []uuid.UUID{uuid.New()}
			err = tx.Savepoint(bx.ctx, func() error {
				_, err := tenants.UpdateMember(bx.ctx, tx, m.ID, tenants.MemberUpdate{RoleIDs: &bad})
				return err
			})
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.role_ids")
			got, err := tenants.GetMember(bx.ctx, tx, m.ID)
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{admin}, got.RoleIDs)
		})
	})

	t.Run("Sponsor", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		bx.tx(t, func(tx *tenants.Tx) {
			tr := makeOrgTree(t, bx.ctx, tx)
			officer, err := tenants.CreateMember(bx.ctx, tx, tenants.NewMember{OrgID: tr.a1.ID, Name: "民警甲"})
			require.NoError(t, err)
			aux, err := tenants.CreateMember(bx.ctx, tx, tenants.NewMember{OrgID: tr.a1x.ID, Name: "辅警乙", SponsorID: &officer.ID})
			require.NoError(t, err)
			require.Equal(t, &officer.ID, aux.SponsorID)
			got, err := tenants.GetMember(bx.ctx, tx, aux.ID)
			require.NoError(t, err)
			require.Equal(t, &officer.ID, got.SponsorID)

			nobody := uuid.New()
			err = tx.Savepoint(bx.ctx, func() error {
				_, err := tenants.CreateMember(bx.ctx, tx, tenants.NewMember{OrgID: tr.a1.ID, Name: "辅警丙", SponsorID: &nobody})
				return err
			})
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.sponsor_id")

			err = tx.Savepoint(bx.ctx, func() error {
				_, err := tenants.UpdateMember(bx.ctx, tx, officer.ID, tenants.MemberUpdate{SponsorID: &officer.ID})
				return err
			})
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.sponsor_id")

			// The officer cannot go while an auxiliary hangs under them.
			err = tx.Savepoint(bx.ctx, func() error { return tenants.DeleteMember(bx.ctx, tx, officer.ID) })
			requireProblem(t, err, http.StatusConflict, "")
			_, err = tenants.GetMember(bx.ctx, tx, officer.ID)
			require.NoError(t, err)

			// Once the auxiliary hangs under someone else, the officer can go.
			officer2, err := tenants.CreateMember(bx.ctx, tx, tenants.NewMember{OrgID: tr.a1.ID, Name: "民警丁"})
			require.NoError(t, err)
			moved, err := tenants.UpdateMember(bx.ctx, tx, aux.ID, tenants.MemberUpdate{SponsorID: &officer2.ID})
			require.NoError(t, err)
			require.Equal(t, &officer2.ID, moved.SponsorID)
			require.NoError(t, tenants.DeleteMember(bx.ctx, tx, officer.ID))
			require.NoError(t, tenants.DeleteMember(bx.ctx, tx, aux.ID))
			require.NoError(t, tenants.DeleteMember(bx.ctx, tx, officer2.ID))
		})
	})
}
