package tenants_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// orgTree is the tree most org tests work on, under the tenant's root org:
//
//	root
//	├── a
//	│   ├── a1
//	│   │   └── a1x
//	│   └── a2
//	└── b
//	    └── b1
type orgTree struct {
	root, a, b, a1, a2, a1x, b1 tenants.Org
}

func makeOrgTree(t *testing.T, ctx context.Context, tx *tenants.Tx) orgTree {
	t.Helper()
	orgs, err := tenants.ListOrgs(ctx, tx, nil)
	require.NoError(t, err)
	require.Len(t, orgs, 1, "a new tenant has its root org only")
	tr := orgTree{root: orgs[0]}
	mk := func(parent tenants.Org, code, kind string) tenants.Org {
		t.Helper()
		o, err := tenants.CreateOrg(ctx, tx, tenants.NewOrg{ParentID: &parent.ID, Code: code, Name: "组织 " + code, Kind: kind})
		require.NoError(t, err)
		return o
	}
	tr.a = mk(tr.root, "a", "branch")
	tr.b = mk(tr.root, "b", "branch")
	tr.a1 = mk(tr.a, "a1", "station")
	tr.a2 = mk(tr.a, "a2", "station")
	tr.a1x = mk(tr.a1, "a1x", "police_area")
	tr.b1 = mk(tr.b, "b1", "station")
	return tr
}

func orgIDs(orgs []tenants.Org) []uuid.UUID {
	ids := make([]uuid.UUID, len(orgs))
	for i, o := range orgs {
		ids[i] = o.ID
	}
	return ids
}

func orgByID(t *testing.T, ctx context.Context, tx *tenants.Tx, id uuid.UUID) tenants.Org {
	t.Helper()
	o, err := tenants.GetOrg(ctx, tx, id)
	require.NoError(t, err)
	return o
}

// requireTreeOrder asserts every org comes after its parent; the first is
// the root of the listing.
func requireTreeOrder(t *testing.T, orgs []tenants.Org) {
	t.Helper()
	seen := map[uuid.UUID]tenants.Org{}
	for i, o := range orgs {
		if i > 0 {
			require.NotNil(t, o.ParentID, "org %s is a second root of the listing", o.Code)
			p, ok := seen[*o.ParentID]
			require.True(t, ok, "org %s listed before its parent", o.Code)
			require.Equal(t, p.Depth+1, o.Depth, "depth of %s", o.Code)
		}
		seen[o.ID] = o
	}
}

func TestOrgs(t *testing.T) {
	t.Parallel()

	t.Run("CreateAndGet", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		bx.tx(t, func(tx *tenants.Tx) {
			tr := makeOrgTree(t, bx.ctx, tx)
			require.Nil(t, tr.root.ParentID)
			require.Equal(t, 1, tr.root.Depth)
			require.Equal(t, "root", tr.root.Code)
			require.Equal(t, "bureau", tr.root.Kind, "a police bureau's root org")

			region := tenanttest.DistrictCode
			o, err := tenants.CreateOrg(bx.ctx, tx, tenants.NewOrg{ParentID: &tr.a1.ID, Code: "pa-7", Name: "第七警务区", Kind: "police_area", RegionCode: region})
			require.NoError(t, err)
			require.Equal(t, &tr.a1.ID, o.ParentID)
			require.Equal(t, 4, o.Depth)
			require.Equal(t, "police_area", o.Kind)
			require.Equal(t, &region, o.RegionCode)
			got := orgByID(t, bx.ctx, tx, o.ID)
			require.Equal(t, o, got)

			require.Equal(t, 2, tr.a.Depth)
			require.Equal(t, 3, tr.a1.Depth)
			require.Equal(t, 4, tr.a1x.Depth)
		})
	})

	t.Run("CreateErrors", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		bx.tx(t, func(tx *tenants.Tx) {
			tr := makeOrgTree(t, bx.ctx, tx)
			nowhere := uuid.New()
			_, err := tenants.CreateOrg(bx.ctx, tx, tenants.NewOrg{ParentID: &nowhere, Code: "lost", Name: "x", Kind: "other"})
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.parent_id")

			err = tx.Savepoint(bx.ctx, func() error {
				_, err := tenants.CreateOrg(bx.ctx, tx, tenants.NewOrg{ParentID: &tr.b.ID, Code: "a1", Name: "重复", Kind: "other"})
				return err
			})
			p := requireProblem(t, err, http.StatusConflict, "body.code")
			require.Equal(t, "a1", p.Fields[0].Value)

			err = tx.Savepoint(bx.ctx, func() error {
				_, err := tenants.CreateOrg(bx.ctx, tx, tenants.NewOrg{ParentID: &tr.b.ID, Code: "far", Name: "x", Kind: "other", RegionCode: "880000"})
				return err
			})
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.region_code")

			orgs, err := tenants.ListOrgs(bx.ctx, tx, nil)
			require.NoError(t, err)
			require.Len(t, orgs, 7, "failed creations left nothing behind")
		})
	})

	t.Run("ListInTreeOrder", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		bx.tx(t, func(tx *tenants.Tx) {
			tr := makeOrgTree(t, bx.ctx, tx)
			orgs, err := tenants.ListOrgs(bx.ctx, tx, nil)
			require.NoError(t, err)
			require.ElementsMatch(t, []uuid.UUID{tr.root.ID, tr.a.ID, tr.b.ID, tr.a1.ID, tr.a2.ID, tr.a1x.ID, tr.b1.ID}, orgIDs(orgs))
			require.Equal(t, tr.root.ID, orgs[0].ID)
			requireTreeOrder(t, orgs)
		})
	})

	t.Run("ListSubtree", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		bx.tx(t, func(tx *tenants.Tx) {
			tr := makeOrgTree(t, bx.ctx, tx)
			sub, err := tenants.ListOrgs(bx.ctx, tx, &tr.a.ID)
			require.NoError(t, err)
			require.ElementsMatch(t, []uuid.UUID{tr.a.ID, tr.a1.ID, tr.a2.ID, tr.a1x.ID}, orgIDs(sub))
			require.Equal(t, tr.a.ID, sub[0].ID)
			requireTreeOrder(t, sub)

			leaf, err := tenants.ListOrgs(bx.ctx, tx, &tr.b1.ID)
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{tr.b1.ID}, orgIDs(leaf))

			unknown := uuid.New()
			none, err := tenants.ListOrgs(bx.ctx, tx, &unknown)
			require.NoError(t, err)
			require.Empty(t, none)
		})
	})

	t.Run("MoveRewritesTheSubtree", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		bx.tx(t, func(tx *tenants.Tx) {
			tr := makeOrgTree(t, bx.ctx, tx)
			paths := func() map[uuid.UUID]string {
				rows, err := tx.Query(bx.ctx, "SELECT id, path::text FROM orgs")
				require.NoError(t, err)
				defer rows.Close()
				m := map[uuid.UUID]string{}
				for rows.Next() {
					var id uuid.UUID
					var p string
					require.NoError(t, rows.Scan(&id, &p))
					m[id] = p
				}
				require.NoError(t, rows.Err())
				return m
			}
			before := paths()
			untouched := []tenants.Org{orgByID(t, bx.ctx, tx, tr.root.ID), orgByID(t, bx.ctx, tx, tr.b.ID), orgByID(t, bx.ctx, tx, tr.b1.ID)}

			// a (with a1, a2, a1x) goes under b1: two levels deeper.
			moved, err := tenants.MoveOrg(bx.ctx, tx, tr.a.ID, tr.b1.ID)
			require.NoError(t, err)
			require.Equal(t, &tr.b1.ID, moved.ParentID)
			require.Equal(t, 4, moved.Depth)
			require.Equal(t, 5, orgByID(t, bx.ctx, tx, tr.a1.ID).Depth)
			require.Equal(t, 5, orgByID(t, bx.ctx, tx, tr.a2.ID).Depth)
			require.Equal(t, 6, orgByID(t, bx.ctx, tx, tr.a1x.ID).Depth)
			require.Equal(t, &tr.a.ID, orgByID(t, bx.ctx, tx, tr.a1.ID).ParentID, "descendants keep their parents")
			require.Equal(t, &tr.a1.ID, orgByID(t, bx.ctx, tx, tr.a1x.ID).ParentID)

			after := paths()
			for _, id := range []uuid.UUID{tr.a.ID, tr.a1.ID, tr.a2.ID, tr.a1x.ID} {
				require.True(t, strings.HasPrefix(after[id], before[tr.b1.ID]+"."), "path of a moved org %s", after[id])
				require.True(t, strings.HasSuffix(after[id], strings.TrimPrefix(before[id], before[tr.root.ID])), "the subtree keeps its shape")
			}
			for _, o := range untouched {
				require.Equal(t, before[o.ID], after[o.ID])
				require.Equal(t, o, orgByID(t, bx.ctx, tx, o.ID), "org %s is not part of the move", o.Code)
			}

			sub, err := tenants.ListOrgs(bx.ctx, tx, &tr.b.ID)
			require.NoError(t, err)
			require.ElementsMatch(t, []uuid.UUID{tr.b.ID, tr.b1.ID, tr.a.ID, tr.a1.ID, tr.a2.ID, tr.a1x.ID}, orgIDs(sub))
			requireTreeOrder(t, sub)

			// a1 goes up to the root: its child comes along, shallower.
			moved, err = tenants.MoveOrg(bx.ctx, tx, tr.a1.ID, tr.root.ID)
			require.NoError(t, err)
			require.Equal(t, 2, moved.Depth)
			require.Equal(t, 3, orgByID(t, bx.ctx, tx, tr.a1x.ID).Depth)
			sub, err = tenants.ListOrgs(bx.ctx, tx, &tr.a.ID)
			require.NoError(t, err)
			require.ElementsMatch(t, []uuid.UUID{tr.a.ID, tr.a2.ID}, orgIDs(sub))

			all, err := tenants.ListOrgs(bx.ctx, tx, nil)
			require.NoError(t, err)
			require.Len(t, all, 7)
			requireTreeOrder(t, all)

			// Moving to the same parent changes nothing.
			again, err := tenants.MoveOrg(bx.ctx, tx, tr.a1.ID, tr.root.ID)
			require.NoError(t, err)
			require.Equal(t, moved.Depth, again.Depth)
			require.Equal(t, moved.ParentID, again.ParentID)
		})
	})

	t.Run("MoveErrors", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		bx.tx(t, func(tx *tenants.Tx) {
			tr := makeOrgTree(t, bx.ctx, tx)
			before, err := tenants.ListOrgs(bx.ctx, tx, nil)
			require.NoError(t, err)

			_, err = tenants.MoveOrg(bx.ctx, tx, tr.a.ID, tr.a.ID)
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.parent_id")
			_, err = tenants.MoveOrg(bx.ctx, tx, tr.a.ID, tr.a1x.ID)
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.parent_id")
			_, err = tenants.MoveOrg(bx.ctx, tx, tr.root.ID, tr.b1.ID)
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.parent_id")
			_, err = tenants.MoveOrg(bx.ctx, tx, tr.a.ID, uuid.New())
			requireProblem(t, err, http.StatusUnprocessableEntity, "body.parent_id")
			_, err = tenants.MoveOrg(bx.ctx, tx, uuid.New(), tr.a.ID)
			requireProblem(t, err, http.StatusNotFound, "")
			_, err = tenants.MoveOrg(bx.ctx, tx, uuid.New(), uuid.New())
			requireProblem(t, err, http.StatusNotFound, "")

			after, err := tenants.ListOrgs(bx.ctx, tx, nil)
			require.NoError(t, err)
			require.Equal(t, before, after, "refused moves change nothing")
		})
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		bx.tx(t, func(tx *tenants.Tx) {
			tr := makeOrgTree(t, bx.ctx, tx)
			name, kind, region := "新名称", "team", tenanttest.DistrictCode
			o, err := tenants.UpdateOrg(bx.ctx, tx, tr.a2.ID, tenants.OrgUpdate{Name: &name, Kind: &kind, RegionCode: &region})
			require.NoError(t, err)
			require.Equal(t, name, o.Name)
			require.Equal(t, kind, o.Kind)
			require.Equal(t, &region, o.RegionCode)
			require.Equal(t, "a2", o.Code, "fields not given stay")
			require.Equal(t, tr.a2.ParentID, o.ParentID)

			code := "b1"
			err = tx.Savepoint(bx.ctx, func() error {
				_, err := tenants.UpdateOrg(bx.ctx, tx, tr.a2.ID, tenants.OrgUpdate{Code: &code})
				return err
			})
			requireProblem(t, err, http.StatusConflict, "body.code")
			_, err = tenants.UpdateOrg(bx.ctx, tx, uuid.New(), tenants.OrgUpdate{Name: &name})
			requireProblem(t, err, http.StatusNotFound, "")
		})
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		bx.tx(t, func(tx *tenants.Tx) {
			tr := makeOrgTree(t, bx.ctx, tx)
			_, err := tenants.CreateMember(bx.ctx, tx, tenants.NewMember{OrgID: tr.b1.ID, Name: "王五"})
			require.NoError(t, err)

			requireProblem(t, tenants.DeleteOrg(bx.ctx, tx, tr.a.ID), http.StatusConflict, "")
			requireProblem(t, tenants.DeleteOrg(bx.ctx, tx, tr.b1.ID), http.StatusConflict, "")
			orgByID(t, bx.ctx, tx, tr.a.ID)
			orgByID(t, bx.ctx, tx, tr.b1.ID)

			require.NoError(t, tenants.DeleteOrg(bx.ctx, tx, tr.a1x.ID))
			_, err = tenants.GetOrg(bx.ctx, tx, tr.a1x.ID)
			requireProblem(t, err, http.StatusNotFound, "")
			require.NoError(t, tenants.DeleteOrg(bx.ctx, tx, tr.a1.ID), "a1 is empty once a1x is gone")
			requireProblem(t, tenants.DeleteOrg(bx.ctx, tx, tr.a1.ID), http.StatusNotFound, "")

			entries, err := tenants.ListAudit(bx.ctx, tx, tenants.AuditFilter{Action: "org.delete"})
			require.NoError(t, err)
			require.Len(t, entries, 2)
			require.Equal(t, tr.a1.ID.String(), entries[0].Target, "newest first")
		})
	})

	t.Run("Audit", func(t *testing.T) {
		t.Parallel()
		bx := setup(t)
		bx.tx(t, func(tx *tenants.Tx) {
			tr := makeOrgTree(t, bx.ctx, tx)
			_, err := tenants.MoveOrg(bx.ctx, tx, tr.b1.ID, tr.a.ID)
			require.NoError(t, err)

			created, err := tenants.ListAudit(bx.ctx, tx, tenants.AuditFilter{Action: "org.create"})
			require.NoError(t, err)
			var targets []string
			for _, e := range created {
				targets = append(targets, e.Target)
				require.Equal(t, tenants.System().String(), e.Subject)
			}
			for _, o := range []tenants.Org{tr.root, tr.a, tr.b, tr.a1, tr.a2, tr.a1x, tr.b1} {
				require.Contains(t, targets, o.ID.String())
			}

			moves, err := tenants.ListAudit(bx.ctx, tx, tenants.AuditFilter{Action: "org.move"})
			require.NoError(t, err)
			require.Len(t, moves, 1)
			require.Equal(t, tr.b1.ID.String(), moves[0].Target)
			require.Equal(t, tr.a.ID.String(), moves[0].Details["parent_id"])
		})
	})
}

// orgRow is an org as stored, path included.
type orgRow struct {
	ID       uuid.UUID
	ParentID *uuid.UUID
	Path     string
	Depth    int
}

func orgRows(t *testing.T, ctx context.Context, tx *tenants.Tx) map[uuid.UUID]orgRow {
	t.Helper()
	rows, err := tx.Query(ctx, "SELECT id, parent_id, path::text, nlevel(path) FROM orgs")
	require.NoError(t, err)
	defer rows.Close()
	m := map[uuid.UUID]orgRow{}
	for rows.Next() {
		var r orgRow
		require.NoError(t, rows.Scan(&r.ID, &r.ParentID, &r.Path, &r.Depth))
		m[r.ID] = r
	}
	require.NoError(t, rows.Err())
	return m
}

// FuzzMoveOrg applies a sequence of moves to a tree of eight orgs under the
// root and checks after each that the tree is still a tree: every path is
// the parent's path plus the org's own label, every depth one more than
// the parent's, no org its own ancestor, no org lost or gained. Moves that
// would make a cycle are refused with a 422 and change nothing.
func FuzzMoveOrg(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0})             // under itself
	f.Add([]byte{0, 3})             // under its grandchild
	f.Add([]byte{7, 0, 0, 8})       // a leaf to the root, then a subtree under it
	f.Add([]byte{1, 2, 2, 1})       // siblings back and forth
	f.Add([]byte{3, 0, 1, 4, 0, 4}) // shuffle, then a cycle
	f.Add([]byte{0, 9, 1, 10, 2, 11, 3, 12, 4, 13, 5, 14, 6, 15, 7, 16})
	f.Add([]byte{6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0})

	const n = 8
	ctx := context.Background()
	tn := tenanttest.Tenant(f, tenants.KindOther)

	f.Fuzz(func(t *testing.T, moves []byte) {
		if len(moves) > 64 {
			moves = moves[:64]
		}
		tenanttest.Tx(t, tn, func(tx *tenants.Tx) {
			roots, err := tenants.ListOrgs(ctx, tx, nil)
			require.NoError(t, err)
			require.Len(t, roots, 1)
			// nodes[0] is the tenant's root; node k hangs under node k/2.
			nodes := []uuid.UUID{roots[0].ID}
			model := map[uuid.UUID]uuid.UUID{}
			run := uuid.NewString()[:8]
			for k := 1; k <= n; k++ {
				parent := nodes[k/2]
				o, err := tenants.CreateOrg(ctx, tx, tenants.NewOrg{ParentID: &parent, Code: run + "-" + string(rune('a'+k)), Name: "x", Kind: "other"})
				require.NoError(t, err)
				nodes = append(nodes, o.ID)
				model[o.ID] = parent
			}
			isAncestor := func(anc, id uuid.UUID) bool { // anc is id or above it
				for cur, ok := id, true; ok; cur, ok = model[cur] {
					if cur == anc {
						return true
					}
				}
				return false
			}
			check := func(step int) {
				t.Helper()
				rows := orgRows(t, ctx, tx)
				require.Len(t, rows, n+1, "step %d: orgs lost or gained", step)
				for id, r := range rows {
					if r.ParentID == nil {
						require.Equal(t, nodes[0], id, "step %d: a second root", step)
						require.Equal(t, label(id), r.Path)
						require.Equal(t, 1, r.Depth)
						continue
					}
					require.Equal(t, model[id], *r.ParentID, "step %d: parent of %s", step, id)
					p := rows[*r.ParentID]
					require.Equal(t, p.Path+"."+label(id), r.Path, "step %d: path of %s", step, id)
					require.Equal(t, p.Depth+1, r.Depth, "step %d: depth of %s", step, id)
					// No cycles: the way up ends at the root within n+1 steps.
					cur, hops := id, 0
					for rows[cur].ParentID != nil {
						cur, hops = *rows[cur].ParentID, hops+1
						require.LessOrEqual(t, hops, n, "step %d: %s is on a cycle", step, id)
					}
					require.Equal(t, nodes[0], cur)
				}
				listed, err := tenants.ListOrgs(ctx, tx, nil)
				require.NoError(t, err)
				require.Len(t, listed, n+1)
				requireTreeOrder(t, listed)
				for _, o := range listed {
					require.Equal(t, rows[o.ID].Depth, o.Depth)
				}
			}

			check(0)
			for i := 0; i+1 < len(moves); i += 2 {
				org, parent := nodes[1+int(moves[i])%n], nodes[int(moves[i+1])%(n+1)]
				cycle := isAncestor(org, parent)
				before := orgRows(t, ctx, tx)
				var moved tenants.Org
				err := tx.Savepoint(ctx, func() error {
					var err error
					moved, err = tenants.MoveOrg(ctx, tx, org, parent)
					return err
				})
				if cycle {
					requireProblem(t, err, http.StatusUnprocessableEntity, "body.parent_id")
					require.Equal(t, before, orgRows(t, ctx, tx), "a refused move changed the tree")
				} else {
					require.NoError(t, err)
					require.Equal(t, &parent, moved.ParentID)
					model[org] = parent
				}
				check(i/2 + 1)
			}
		})
	})
}

func label(id uuid.UUID) string { return strings.ReplaceAll(id.String(), "-", "") }
