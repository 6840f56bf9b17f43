package demo_test

// The demo slugs are global in the test database, so these tests do not run
// in parallel with each other, and they tolerate an earlier run having seeded
// already: they check what must hold after any number of runs.

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"yamen/infra/demo"
	"yamen/modules"
	"yamen/modules/builtin"
	"yamen/modules/catalog"
	"yamen/policy"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

func registry(t *testing.T) *modules.Registry {
	t.Helper()
	reg, err := builtin.Registry()
	require.NoError(t, err)
	return reg
}

func seed(t *testing.T) (*tenants.DB, demo.Result) {
	t.Helper()
	db := tenanttest.DB(t)
	res, err := demo.Seed(context.Background(), db, registry(t))
	require.NoError(t, err)
	return db, res
}

type counts struct{ orgs, roles, members, keys, audit int }

func countsOf(t *testing.T, db *tenants.DB, tn tenants.Tenant) counts {
	t.Helper()
	var c counts
	tenanttest.Tx(t, tn, func(tx *tenants.Tx) {
		require.NoError(t, tx.QueryRow(context.Background(), `SELECT
			(SELECT count(*) FROM orgs), (SELECT count(*) FROM roles), (SELECT count(*) FROM members),
			(SELECT count(*) FROM api_keys WHERE name = $1), (SELECT count(*) FROM audit_log)`, demo.TenantKeyName).
			Scan(&c.orgs, &c.roles, &c.members, &c.keys, &c.audit))
	})
	return c
}

func platformKeys(t *testing.T, db *tenants.DB) int {
	t.Helper()
	var n int
	require.NoError(t, db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM platform_keys WHERE name = $1", demo.PlatformKeyName).Scan(&n))
	return n
}

func TestSeedIsIdempotent(t *testing.T) {
	ctx := context.Background()
	db, first := seed(t)
	require.Len(t, first.Tenants, 3)
	before := map[string]counts{}
	for _, tn := range first.Tenants {
		before[tn.Slug] = countsOf(t, db, tn)
	}

	_, second := seed(t)
	assert.Empty(t, second.Keys, "a second run creates no keys")
	require.Len(t, second.Tenants, 3)
	for i, tn := range second.Tenants {
		assert.Equal(t, first.Tenants[i].ID, tn.ID)
		assert.Equal(t, before[tn.Slug], countsOf(t, db, tn), "%s: the second run changed nothing", tn.Slug)
		assert.Equal(t, 1, before[tn.Slug].keys, "%s: one demo admin key, ever", tn.Slug)
	}
	assert.Equal(t, 1, platformKeys(t, db))

	// Whatever keys this run made work, and say who they are.
	for _, k := range first.Keys {
		s, err := db.Authenticate(ctx, k.Secret)
		require.NoError(t, err, k.Label)
		if k.Tenant == "" {
			assert.Equal(t, demo.PlatformKeyLabel, k.Label)
			assert.Equal(t, tenants.SubjectPlatformKey, s.Kind)
			continue
		}
		assert.Equal(t, demo.TenantKeyLabel, k.Label)
		tn, err := db.TenantBySlug(ctx, k.Tenant)
		require.NoError(t, err)
		assert.Equal(t, tenants.SubjectTenantKey, s.Kind)
		assert.Equal(t, tn.ID, s.TenantID)
		assert.Equal(t, []string{"*"}, s.Scopes)
	}
}

func TestSeedContent(t *testing.T) {
	db, res := seed(t)
	reg := registry(t)
	specs := demo.Specs()
	for i, tn := range res.Tenants {
		spec := specs[i]
		require.Equal(t, spec.Slug, tn.Slug)
		assert.Equal(t, spec.Name, tn.Name)
		assert.Equal(t, spec.Kind, tn.Kind)
		assert.Equal(t, demo.CityCode, tn.RegionCode)
		tenanttest.Tx(t, tn, func(tx *tenants.Tx) {
			ctx := context.Background()
			states, err := tenants.ModuleStates(ctx, tx)
			require.NoError(t, err)
			for _, m := range reg.Bundle(tn.Kind) {
				assert.True(t, states[m].Enabled, "%s: module %s enabled", tn.Slug, m)
			}

			orgs, err := tenants.ListOrgs(ctx, tx, nil)
			require.NoError(t, err)
			byCode := map[string]tenants.Org{}
			for _, o := range orgs {
				byCode[o.Code] = o
			}
			for _, o := range spec.Orgs {
				got, ok := byCode[o.Code]
				if assert.True(t, ok, "%s: org %s", tn.Slug, o.Code) {
					assert.Equal(t, o.Name, got.Name)
					assert.Equal(t, o.Kind, got.Kind)
					assert.Equal(t, byCode[o.Parent].ID, *got.ParentID, "%s: parent of %s", tn.Slug, o.Code)
				}
			}

			roles, err := tenants.ListRoles(ctx, tx)
			require.NoError(t, err)
			names := map[string]tenants.Role{}
			for _, r := range roles {
				names[r.Name] = r
			}
			for _, r := range spec.Roles {
				got, ok := names[r.Name]
				if assert.True(t, ok, "%s: role %s", tn.Slug, r.Name) {
					assert.Equal(t, r.Scope, got.DataScope)
					assert.ElementsMatch(t, r.Permissions, got.Permissions)
				}
			}
			assert.Contains(t, names, tenants.AdminRoleName)

			// The audit log names the system as the author.
			audit, err := tenants.ListAudit(ctx, tx, tenants.AuditFilter{Action: "org.create", Limit: 500})
			require.NoError(t, err)
			require.NotEmpty(t, audit)
			for _, a := range audit {
				assert.Equal(t, "system", a.Subject)
			}
		})
		assert.Positive(t, countsOf(t, db, tn).members)
	}
}

// knownPermissions are the core permissions and every module's.
func knownPermissions(reg *modules.Registry) map[string]bool {
	known := map[string]bool{}
	for _, p := range tenants.CorePermissions {
		known[p.Name] = true
	}
	for _, p := range reg.Permissions() {
		known[p.Name] = true
	}
	return known
}

func TestRolePermissionsAreKnown(t *testing.T) {
	reg := registry(t)
	require.NoError(t, demo.CheckPermissions(reg, demo.Specs()))

	known := knownPermissions(reg)
	for _, spec := range demo.Specs() {
		bundle := reg.Bundle(spec.Kind)
		for _, r := range spec.Roles {
			assert.NotEmpty(t, r.Permissions, r.Name)
			assert.Contains(t, tenants.DataScopes, r.Scope, r.Name)
			for _, p := range r.Permissions {
				assert.True(t, known[p], "%s %s: unknown permission %s", spec.Slug, r.Name, p)
				if mod, _, _ := strings.Cut(p, ":"); !slices.ContainsFunc(tenants.CorePermissions, func(c tenants.CorePermission) bool { return c.Name == p }) {
					assert.Contains(t, bundle, mod, "%s %s: %s is outside the %s bundle", spec.Slug, r.Name, p, spec.Kind)
				}
			}
		}
	}

	// And what is stored, too: only the tenant admin holds the wildcard.
	_, res := seed(t)
	for _, tn := range res.Tenants {
		tenanttest.Tx(t, tn, func(tx *tenants.Tx) {
			roles, err := tenants.ListRoles(context.Background(), tx)
			require.NoError(t, err)
			for _, r := range roles {
				for _, p := range r.Permissions {
					if r.Name == tenants.AdminRoleName && p == tenants.AllPermissions {
						continue
					}
					assert.True(t, known[p], "%s %s: unknown permission %s", tn.Slug, r.Name, p)
				}
			}
		})
	}
}

func TestCheckPermissionsRefuses(t *testing.T) {
	reg := registry(t)
	bad := []demo.TenantSpec{{Slug: "x", Kind: tenants.KindAffairsHall, Roles: []demo.RoleSpec{
		{Name: "a", Scope: tenants.ScopeAll, Permissions: []string{"ratings:read", "ratings:fly"}},
		{Name: "b", Scope: tenants.ScopeAll, Permissions: []string{"units:read"}}, // a police module
	}}}
	err := demo.CheckPermissions(reg, bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ratings:fly")
	assert.Contains(t, err.Error(), "units:read")
	assert.NotContains(t, err.Error(), "ratings:read")
}

// Seed 000: 辅警人员的权限从属于同一单位的民警权限，同时屏蔽掉数据的导出权限.
func TestAuxiliaryNeverExports(t *testing.T) {
	var officer, aux demo.RoleSpec
	for _, r := range demo.Specs()[0].Roles {
		switch r.Name {
		case demo.RoleOfficer:
			officer = r
		case demo.RoleAuxiliary:
			aux = r
		}
	}
	require.NotEmpty(t, aux.Permissions)
	assert.Contains(t, officer.Permissions, "units:export")
	for _, p := range aux.Permissions {
		assert.False(t, strings.HasSuffix(p, ":export"), "辅警 holds %s", p)
		assert.Contains(t, officer.Permissions, p, "辅警 holds %s, which 民警 does not", p)
	}
	for _, p := range officer.Permissions {
		if !strings.HasSuffix(p, ":export") {
			assert.Contains(t, aux.Permissions, p, "辅警 lacks the officer's %s", p)
		}
	}

	_, res := seed(t)
	tenanttest.Tx(t, res.Tenants[0], func(tx *tenants.Tx) {
		roles, err := tenants.ListRoles(context.Background(), tx)
		require.NoError(t, err)
		for _, r := range roles {
			if r.Name == demo.RoleAuxiliary {
				for _, p := range r.Permissions {
					assert.False(t, strings.HasSuffix(p, ":export"), "stored 辅警 holds %s", p)
				}
			}
		}
	})
}

func TestAuxiliaryHangsUnderAnOfficerOfTheStation(t *testing.T) {
	ctx := context.Background()
	_, res := seed(t)
	police := res.Tenants[0]
	require.Equal(t, demo.PoliceSlug, police.Slug)
	tenanttest.Tx(t, police, func(tx *tenants.Tx) {
		roles, err := tenants.ListRoles(ctx, tx)
		require.NoError(t, err)
		roleID := map[string]uuid.UUID{}
		for _, r := range roles {
			roleID[r.Name] = r.ID
		}
		members, err := tenants.ListMembers(ctx, tx, policy.SystemScope(), tenants.MemberFilter{Limit: 500})
		require.NoError(t, err)
		var auxiliaries int
		for _, m := range members {
			if !slices.Contains(m.RoleIDs, roleID[demo.RoleAuxiliary]) {
				continue
			}
			auxiliaries++
			require.NotNil(t, m.SponsorID, "辅警 %s hangs under nobody", m.Name)
			sponsor, err := tenants.GetMember(ctx, tx, *m.SponsorID)
			require.NoError(t, err)
			assert.Contains(t, sponsor.RoleIDs, roleID[demo.RoleOfficer], "the sponsor of %s is a 民警", m.Name)
			assert.Equal(t, m.OrgID, sponsor.OrgID, "%s and the sponsor serve at the same station", m.Name)
			station, err := tenants.GetOrg(ctx, tx, m.OrgID)
			require.NoError(t, err)
			assert.Equal(t, "station", station.Kind)
		}
		assert.Positive(t, auxiliaries)
	})
}

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestCalendarTable(t *testing.T) {
	days := demo.CalendarDays()
	byDay := map[time.Time]tenants.CalendarDay{}
	for i, d := range days {
		if i > 0 {
			assert.True(t, days[i-1].Day.Before(d.Day), "days in order, once each: %s", d.Day.Format(time.DateOnly))
		}
		byDay[d.Day] = d
		assert.NotEmpty(t, d.Name)
		switch d.Kind {
		case demo.Workday:
			wd := d.Day.Weekday()
			assert.True(t, wd == time.Saturday || wd == time.Sunday, "make-up day %s is a %s", d.Day.Format(time.DateOnly), wd)
			assert.True(t, strings.HasSuffix(d.Name, "调休上班"), d.Name)
		case demo.Holiday:
		default:
			t.Errorf("%s: kind %q", d.Day.Format(time.DateOnly), d.Kind)
		}
	}

	// 2026, as the State Council published it.
	for _, c := range []struct{ day, kind, name string }{
		{"2026-01-01", demo.Holiday, "元旦"},
		{"2026-01-04", demo.Workday, "元旦调休上班"},
		{"2026-02-14", demo.Workday, "春节调休上班"},
		{"2026-02-15", demo.Holiday, "春节"},
		{"2026-02-16", demo.Holiday, "春节"},
		{"2026-02-23", demo.Holiday, "春节"},
		{"2026-02-28", demo.Workday, "春节调休上班"},
		{"2026-04-06", demo.Holiday, "清明节"},
		{"2026-05-05", demo.Holiday, "劳动节"},
		{"2026-05-09", demo.Workday, "劳动节调休上班"},
		{"2026-06-19", demo.Holiday, "端午节"},
		{"2026-09-20", demo.Workday, "国庆节调休上班"},
		{"2026-09-25", demo.Holiday, "中秋节"},
		{"2026-10-07", demo.Holiday, "国庆节"},
		{"2026-10-10", demo.Workday, "国庆节调休上班"},
	} {
		got, ok := byDay[day(c.day)]
		if assert.True(t, ok, c.day) {
			assert.Equal(t, c.kind, got.Kind, c.day)
			assert.Equal(t, c.name, got.Name, c.day)
		}
	}
	for _, ordinary := range []string{"2026-02-13", "2026-02-24", "2026-05-06", "2026-10-08", "2026-10-11"} {
		_, ok := byDay[day(ordinary)]
		assert.False(t, ok, "%s is an ordinary day", ordinary)
	}
	count := func(year int, kind, name string) int {
		n := 0
		for _, d := range days {
			if d.Day.Year() == year && d.Kind == kind && d.Name == name {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 9, count(2026, demo.Holiday, "春节"))
	assert.Equal(t, 7, count(2026, demo.Holiday, "国庆节"))
	assert.Equal(t, 5, count(2026, demo.Holiday, "劳动节"))

	// 2027 (provisional): at least the statutory days, and the codified
	// lengths: 春节 8 days from 除夕, 劳动节 5, 国庆节 7.
	for _, s := range []string{"2027-01-01", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08",
		"2027-04-05", "2027-05-01", "2027-05-02", "2027-06-09", "2027-09-15", "2027-10-01", "2027-10-02", "2027-10-03"} {
		got, ok := byDay[day(s)]
		assert.True(t, ok && got.Kind == demo.Holiday, "%s is a statutory holiday", s)
	}
	assert.Equal(t, 8, count(2027, demo.Holiday, "春节"))
	assert.Equal(t, 5, count(2027, demo.Holiday, "劳动节"))
	assert.Equal(t, 7, count(2027, demo.Holiday, "国庆节"))
	assert.Equal(t, []int{2027}, demo.ProvisionalYears)

	// Each year's working days match a Monday–Friday year's count (make-up
	// days pay back the bridging), and no stretch of work exceeds 6 days.
	for _, year := range []int{2026, 2027} {
		run, longest, worked, weekdays := 0, 0, 0, 0
		var longestEnd time.Time
		for d := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == year; d = d.AddDate(0, 0, 1) {
			weekday := d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
			if weekday {
				weekdays++
			}
			working := weekday
			if e, ok := byDay[d]; ok {
				working = e.Kind == demo.Workday
			}
			if working {
				worked++
				run++
				if run > longest {
					longest, longestEnd = run, d
				}
			} else {
				run = 0
			}
		}
		assert.LessOrEqual(t, longest, 6, "%d: %d working days in a row up to %s", year, longest, longestEnd.Format(time.DateOnly))
		// 13 statutory days a year (元旦 1, 春节 4, 清明 1, 劳动节 2, 端午 1,
		// 中秋 1, 国庆 3); one on a weekend is given back on a weekday, and
		// bridging days are paid back by make-up days, so a year loses exactly
		// 13 working days.
		assert.Equal(t, weekdays-13, worked, "%d: working days", year)
	}
}

func TestCalendarStored(t *testing.T) {
	db, _ := seed(t)
	got, err := db.Calendar(context.Background(), day("2026-01-01"), day("2027-12-31"))
	require.NoError(t, err)
	stored := map[string]tenants.CalendarDay{}
	for _, d := range got {
		stored[d.Day.Format(time.DateOnly)] = d
	}
	for _, c := range []struct{ day, kind string }{
		{"2026-02-14", demo.Workday}, {"2026-02-16", demo.Holiday}, {"2026-10-10", demo.Workday},
		{"2026-10-01", demo.Holiday}, {"2027-02-05", demo.Holiday},
	} {
		assert.Equal(t, c.kind, stored[c.day].Kind, c.day)
	}
	_, ok := stored["2026-10-08"]
	assert.False(t, ok, "2026-10-08 is an ordinary Thursday")
}

func TestRegions(t *testing.T) {
	rs := demo.Regions()
	byCode := map[string]tenants.Region{}
	children := map[string]int{}
	for _, r := range rs {
		assert.True(t, strings.HasPrefix(r.Code, "98"), "%s keeps to the 98 prefix", r.Code)
		assert.NotContains(t, byCode, r.Code, "%s listed once", r.Code)
		if r.ParentCode != nil {
			parent, ok := byCode[*r.ParentCode]
			require.True(t, ok, "%s: parent %s listed before", r.Code, *r.ParentCode)
			assert.Equal(t, parent.Level+1, r.Level, r.Code)
			children[parent.Code]++
		} else {
			assert.Equal(t, 1, r.Level, r.Code)
		}
		byCode[r.Code] = r
	}
	assert.Equal(t, "示范省", byCode[demo.ProvinceCode].Name)
	assert.Equal(t, "示范市", byCode[demo.CityCode].Name)
	assert.Equal(t, 4, children[demo.CityCode])
	for _, r := range rs {
		switch r.Level {
		case 3:
			assert.GreaterOrEqual(t, children[r.Code], 2, r.Name)
			assert.LessOrEqual(t, children[r.Code], 3, r.Name)
		case 4:
			assert.Equal(t, 2, children[r.Code], r.Name)
		}
	}
	for code, want := range map[string]string{"980102": "东城区", "980103": "西城区", "980111": "高新区", "980121": "示范县",
		"980102001": "东华街道", "980102001001": "东华社区"} {
		assert.Equal(t, want, byCode[code].Name, code)
	}

	db, _ := seed(t)
	districts, err := db.Regions(context.Background(), demo.CityCode)
	require.NoError(t, err)
	assert.Len(t, districts, 4)
	j, err := db.GetJurisdiction(context.Background())
	require.NoError(t, err)
	if j.RegionCode == demo.CityCode {
		assert.Equal(t, demo.Jurisdiction, j)
	}
}

func TestSeedHallCatalog(t *testing.T) {
	db, _ := seed(t)
	ctx := context.Background()
	tn, err := db.TenantBySlug(ctx, demo.HallSlug)
	require.NoError(t, err)
	r, err := db.Reader(tn.ID, "anonymous")
	require.NoError(t, err)

	halls, err := catalog.ListHalls(ctx, r, catalog.HallFilter{Region: demo.CityCode, ActiveOnly: true})
	require.NoError(t, err)
	require.Len(t, halls, 1, "the centre is found from the city down")
	hall, err := catalog.GetHallDetail(ctx, r, halls[0].ID, true)
	require.NoError(t, err)
	assert.Equal(t, "示范市政务服务中心", hall.Name)
	assert.Len(t, hall.Departments, 5)
	assert.Len(t, hall.Hours, 10, "Monday to Friday, morning and afternoon")
	for _, p := range hall.Hours {
		assert.LessOrEqual(t, p.Weekday, 5, "Saturday is closed until the hall opens it")
	}

	page, err := catalog.ListItems(ctx, r, catalog.ItemFilter{ActiveOnly: true, Limit: 100})
	require.NoError(t, err)
	assert.Len(t, page.Items, 15)
	for _, it := range page.Items {
		assert.NotEmpty(t, it.Theme, it.Name)
		assert.NotEmpty(t, it.Materials, it.Name)
		d, err := catalog.GetItemDetail(ctx, r, it.ID, true)
		require.NoError(t, err)
		assert.NotEmpty(t, d.Windows, "%s is handled at a window", it.Name)
	}
	windows, err := catalog.ListWindows(ctx, r, catalog.WindowFilter{Hall: halls[0].ID.String()})
	require.NoError(t, err)
	require.Len(t, windows, 10)
	for i, w := range windows {
		assert.Equal(t, i+1, w.Number)
	}
	bookable, err := catalog.ListItems(ctx, r, catalog.ItemFilter{ActiveOnly: true, Bookable: "true", Q: "不动产"})
	require.NoError(t, err)
	assert.Len(t, bookable.Items, 2)
}
