package catalog_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"yamen/modules/catalog"
	"yamen/problem"
	"yamen/tenants"
	"yamen/tenants/tenanttest"
)

// Regions under the test district, and a district beside it, for searches
// by region: 990102 测试区 › 990102001 测试街道 › 990102001001 测试社区.
const (
	streetCode    = "990102001"
	communityCode = "990102001001"
	otherDistrict = "990103"
)

type fixture struct {
	db     *tenants.DB
	tenant tenants.Tenant
	hall   catalog.Hall
	// town is a second hall, in a community of the district.
	town     catalog.Hall
	police   catalog.Department
	social   catalog.Department
	townDept catalog.Department
	items    map[string]catalog.Item
}

func setup(t testing.TB) *fixture {
	t.Helper()
	db := tenanttest.DB(t)
	ctx := context.Background()
	district, street, city := tenanttest.DistrictCode, streetCode, tenanttest.CityCode
	require.NoError(t, db.UpsertRegions(ctx, []tenants.Region{
		{Code: streetCode, Name: "测试街道", ParentCode: &district, Level: 4},
		{Code: communityCode, Name: "测试社区", ParentCode: &street, Level: 5},
		{Code: otherDistrict, Name: "另一区", ParentCode: &city, Level: 3},
	}))
	f := &fixture{db: db, tenant: tenanttest.Tenant(t, tenants.KindAffairsHall), items: map[string]catalog.Item{}}
	f.tx(t, func(tx *tenants.Tx) error {
		var err error
		if f.hall, err = catalog.CreateHall(ctx, tx, catalog.HallInput{Code: "center", Name: "测试市政务服务中心", RegionCode: tenanttest.DistrictCode, Address: "人民路 1 号"}); err != nil {
			return err
		}
		if f.town, err = catalog.CreateHall(ctx, tx, catalog.HallInput{Code: "community", Name: "测试社区便民服务站", RegionCode: communityCode}); err != nil {
			return err
		}
		if f.police, err = catalog.CreateDepartment(ctx, tx, catalog.DepartmentInput{HallID: f.hall.ID, Code: "police", Name: "公安户政"}); err != nil {
			return err
		}
		if f.social, err = catalog.CreateDepartment(ctx, tx, catalog.DepartmentInput{HallID: f.hall.ID, Code: "social", Name: "人社"}); err != nil {
			return err
		}
		if f.townDept, err = catalog.CreateDepartment(ctx, tx, catalog.DepartmentInput{HallID: f.town.ID, Code: "town", Name: "社区综合窗口"}); err != nil {
			return err
		}
		for _, in := range []catalog.ItemInput{
			{DepartmentID: f.police.ID, Code: "HJ-001", Name: "户口迁移（𠀀字姓氏）", Theme: "户籍办理", TimeLimitDays: 5, Bookable: true,
				Materials: []catalog.Material{{Name: "居民身份证", Copies: 1, Required: true}, {Name: "户口簿", Required: true}}},
			{DepartmentID: f.police.ID, Code: "HJ-002", Name: "出生登记", Theme: "户籍办理", TimeLimitDays: 0},
			{DepartmentID: f.social.ID, Code: "SB-001", Name: "社保卡申领（䶮）", Theme: "社会保障", Bookable: true},
			{DepartmentID: f.townDept.ID, Code: "SQ-001", Name: "居住证明", Theme: "社区服务"},
		} {
			it, err := catalog.CreateItem(ctx, tx, in)
			if err != nil {
				return err
			}
			f.items[in.Code] = it
		}
		return nil
	})
	return f
}

func (f *fixture) tx(t testing.TB, fn func(tx *tenants.Tx) error) {
	t.Helper()
	require.NoError(t, f.db.Tx(context.Background(), f.tenant.ID, "system", fn))
}

// fails runs fn, which must fail with a problem of status naming exactly
// locations; nothing it did is kept.
func (f *fixture) fails(t testing.TB, status int, locations []string, fn func(tx *tenants.Tx) error) {
	t.Helper()
	err := f.db.Tx(context.Background(), f.tenant.ID, "system", fn)
	p, ok := problem.As(err)
	require.True(t, ok, "want a problem, got %v", err)
	require.Equal(t, status, p.Status, p.Error())
	var got []string
	for _, fl := range p.Fields {
		got = append(got, fl.Location)
	}
	require.ElementsMatch(t, locations, got, p.Error())
}

func (f *fixture) search(t testing.TB, filter catalog.ItemFilter) []string {
	t.Helper()
	r, err := f.db.Reader(f.tenant.ID, "anonymous")
	require.NoError(t, err)
	page, err := catalog.ListItems(context.Background(), r, filter)
	require.NoError(t, err)
	var codes []string
	for _, it := range page.Items {
		codes = append(codes, it.Code)
	}
	return codes
}

func TestSearchItems(t *testing.T) {
	t.Parallel()
	f := setup(t)
	pub := func(fl catalog.ItemFilter) catalog.ItemFilter { fl.ActiveOnly = true; return fl }

	require.Equal(t, []string{"HJ-001", "HJ-002", "SB-001", "SQ-001"}, f.search(t, pub(catalog.ItemFilter{})), "by department code, then item code")
	require.Equal(t, []string{"HJ-001"}, f.search(t, pub(catalog.ItemFilter{Q: "𠀀"})), "a character outside the BMP")
	require.Equal(t, []string{"SB-001"}, f.search(t, pub(catalog.ItemFilter{Q: "䶮"})), "a CJK extension A character")
	require.Equal(t, []string{"HJ-002"}, f.search(t, pub(catalog.ItemFilter{Q: "出生"})))
	require.Equal(t, []string{"SB-001"}, f.search(t, pub(catalog.ItemFilter{Q: "SB-001"})), "the code is found too")
	require.Empty(t, f.search(t, pub(catalog.ItemFilter{Q: "%"})), "LIKE wildcards are plain text")
	require.Equal(t, []string{"HJ-001", "HJ-002"}, f.search(t, pub(catalog.ItemFilter{Department: "police"})), "department by code")
	require.Equal(t, []string{"SB-001"}, f.search(t, pub(catalog.ItemFilter{Department: f.social.ID.String()})), "department by id")
	require.Equal(t, []string{"HJ-001", "HJ-002"}, f.search(t, pub(catalog.ItemFilter{Theme: "户籍办理"})))
	require.Equal(t, []string{"HJ-001", "SB-001"}, f.search(t, pub(catalog.ItemFilter{Bookable: "true"})))
	require.Equal(t, []string{"HJ-002", "SQ-001"}, f.search(t, pub(catalog.ItemFilter{Bookable: "false"})))
	require.Equal(t, []string{"SQ-001"}, f.search(t, pub(catalog.ItemFilter{Hall: f.town.ID.String()})))

	t.Run("RegionIncludesWhatIsUnderIt", func(t *testing.T) {
		require.Len(t, f.search(t, pub(catalog.ItemFilter{Region: tenanttest.CityCode})), 4, "the city holds both halls")
		require.Len(t, f.search(t, pub(catalog.ItemFilter{Region: tenanttest.DistrictCode})), 4, "the district holds the centre and its community")
		require.Equal(t, []string{"SQ-001"}, f.search(t, pub(catalog.ItemFilter{Region: streetCode})), "the street holds only the community's hall")
		require.Empty(t, f.search(t, pub(catalog.ItemFilter{Region: otherDistrict})))
	})

	t.Run("InactiveIsHiddenFromThePublic", func(t *testing.T) {
		f := setup(t)
		f.tx(t, func(tx *tenants.Tx) error {
			_, err := catalog.UpdateDepartment(context.Background(), tx, f.social.ID, catalog.DepartmentInput{HallID: f.hall.ID, Code: "social", Name: "人社", Active: new(false)})
			return err
		})
		require.Equal(t, []string{"HJ-001", "HJ-002", "SQ-001"}, f.search(t, pub(catalog.ItemFilter{})))
		require.Len(t, f.search(t, catalog.ItemFilter{}), 4, "staff see every item")
	})

	t.Run("PagesNeitherSkipNorRepeat", func(t *testing.T) {
		var all []string
		fl := pub(catalog.ItemFilter{Limit: 3})
		r, err := f.db.Reader(f.tenant.ID, "anonymous")
		require.NoError(t, err)
		for range 5 {
			page, err := catalog.ListItems(context.Background(), r, fl)
			require.NoError(t, err)
			for _, it := range page.Items {
				all = append(all, it.Code)
			}
			if page.NextCursor == "" {
				break
			}
			fl.Cursor = page.NextCursor
		}
		require.Equal(t, []string{"HJ-001", "HJ-002", "SB-001", "SQ-001"}, all)
		require.Equal(t, []string{"SB-001", "SQ-001"}, f.search(t, pub(catalog.ItemFilter{Offset: 2})))
	})

	t.Run("BadQueriesAreNamed", func(t *testing.T) {
		r, err := f.db.Reader(f.tenant.ID, "anonymous")
		require.NoError(t, err)
		_, err = catalog.ListItems(context.Background(), r, catalog.ItemFilter{Q: "a\x00b", Theme: "\xff", Cursor: "nonsense", Hall: "x"})
		p, ok := problem.As(err)
		require.True(t, ok, "%v", err)
		var locs []string
		for _, fl := range p.Fields {
			locs = append(locs, fl.Location)
		}
		require.ElementsMatch(t, []string{"query.q", "query.theme", "query.cursor", "query.hall"}, locs)
	})

	t.Run("AnotherTenantSeesNothing", func(t *testing.T) {
		other := tenanttest.Tenant(t, tenants.KindAffairsHall)
		r, err := f.db.Reader(other.ID, "anonymous")
		require.NoError(t, err)
		page, err := catalog.ListItems(context.Background(), r, catalog.ItemFilter{})
		require.NoError(t, err)
		require.Empty(t, page.Items)
		_, err = catalog.GetItem(context.Background(), r, f.items["HJ-001"].ID)
		p, ok := problem.As(err)
		require.True(t, ok)
		require.Equal(t, http.StatusNotFound, p.Status)
		halls, err := catalog.ListHalls(context.Background(), r, catalog.HallFilter{})
		require.NoError(t, err)
		require.Empty(t, halls)
		themes, err := catalog.ListThemes(context.Background(), r, catalog.ThemeFilter{})
		require.NoError(t, err)
		require.Empty(t, themes)
	})
}

func TestItemDetails(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	it := f.items["HJ-001"]
	require.Equal(t, "公安户政", it.DepartmentName)
	require.Equal(t, f.hall.ID, it.HallID)
	require.Equal(t, []catalog.Material{{Name: "居民身份证", Copies: 1, Required: true}, {Name: "户口簿", Copies: 1, Required: true}}, it.Materials, "copies default to 1")
	require.True(t, it.Ticketable, "ticketable by default")
	require.True(t, it.RealName, "real name by default")
	require.Equal(t, "A", it.TicketPrefix)

	t.Run("TakenCodeIsAConflict", func(t *testing.T) {
		f.fails(t, http.StatusConflict, []string{"body.code"}, func(tx *tenants.Tx) error {
			_, err := catalog.CreateItem(ctx, tx, catalog.ItemInput{DepartmentID: f.police.ID, Code: "HJ-001", Name: "重复"})
			return err
		})
		// Another department may use the code.
		f.tx(t, func(tx *tenants.Tx) error {
			_, err := catalog.CreateItem(ctx, tx, catalog.ItemInput{DepartmentID: f.social.ID, Code: "HJ-001", Name: "不重复"})
			return err
		})
	})
	t.Run("UnknownDepartment", func(t *testing.T) {
		f.fails(t, http.StatusUnprocessableEntity, []string{"body.department_id"}, func(tx *tenants.Tx) error {
			_, err := catalog.CreateItem(ctx, tx, catalog.ItemInput{DepartmentID: uuid.New(), Code: "X", Name: "无部门"})
			return err
		})
	})
	t.Run("AnotherTenantsDepartment", func(t *testing.T) {
		other := setup(t)
		f.fails(t, http.StatusUnprocessableEntity, []string{"body.department_id"}, func(tx *tenants.Tx) error {
			_, err := catalog.CreateItem(ctx, tx, catalog.ItemInput{DepartmentID: other.police.ID, Code: "X", Name: "别家部门"})
			return err
		})
	})
	t.Run("Themes", func(t *testing.T) {
		r, err := f.db.Reader(f.tenant.ID, "anonymous")
		require.NoError(t, err)
		themes, err := catalog.ListThemes(ctx, r, catalog.ThemeFilter{})
		require.NoError(t, err)
		require.Equal(t, catalog.Theme{Theme: "户籍办理", Items: 2}, themes[0], "the most used theme first")
		require.Len(t, themes, 3)
	})
}

func TestHours(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	week := []catalog.Period{{Weekday: 1, Opens: "13:30", Closes: "17:30"}, {Weekday: 1, Opens: "09:00", Closes: "12:00"}, {Weekday: 6, Opens: "09:00", Closes: "12:00"}}
	f.tx(t, func(tx *tenants.Tx) error {
		got, err := catalog.SetHours(ctx, tx, f.hall.ID, week)
		require.Equal(t, []catalog.Period{week[1], week[0], week[2]}, got, "by weekday and time")
		return err
	})

	f.fails(t, http.StatusUnprocessableEntity, []string{"body.hours[1].opens", "body.hours[2].closes", "body.hours[3].weekday"}, func(tx *tenants.Tx) error {
		_, err := catalog.SetHours(ctx, tx, f.hall.ID, []catalog.Period{
			{Weekday: 2, Opens: "09:00", Closes: "12:00"},
			{Weekday: 2, Opens: "11:30", Closes: "14:00"}, // overlaps the morning
			{Weekday: 3, Opens: "12:00", Closes: "09:00"}, // closes before it opens
			{Weekday: 8, Opens: "09:00", Closes: "10:00"},
		})
		return err
	})
	f.fails(t, http.StatusUnprocessableEntity, []string{"body.hours[1].opens", "body.hours[2].opens"}, func(tx *tenants.Tx) error {
		_, err := catalog.SetHours(ctx, tx, f.hall.ID, []catalog.Period{
			{Weekday: 4, Opens: "09:00", Closes: "17:00"},
			{Weekday: 4, Opens: "10:00", Closes: "11:00"},
			{Weekday: 4, Opens: "12:00", Closes: "13:00"}, // inside the first, after the second
			{Weekday: 5, Opens: "12:00", Closes: "13:00"},
		})
		return err
	})
	r, err := f.db.Reader(f.tenant.ID, "anonymous")
	require.NoError(t, err)
	detail, err := catalog.GetHallDetail(ctx, r, f.hall.ID, true)
	require.NoError(t, err)
	require.Len(t, detail.Hours, 3, "a refused schedule changes nothing")
	require.Len(t, detail.Departments, 2)

	f.fails(t, http.StatusNotFound, nil, func(tx *tenants.Tx) error {
		_, err := catalog.SetHours(ctx, tx, uuid.New(), week)
		return err
	})
}

func TestWindows(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	var w catalog.Window
	f.tx(t, func(tx *tenants.Tx) error {
		var err error
		w, err = catalog.CreateWindow(ctx, tx, catalog.WindowInput{HallID: f.hall.ID, Number: 1, DepartmentID: f.police.ID,
			ItemIDs: []uuid.UUID{f.items["HJ-001"].ID, f.items["HJ-002"].ID}})
		if err != nil {
			return err
		}
		// Many windows one item.
		_, err = catalog.CreateWindow(ctx, tx, catalog.WindowInput{HallID: f.hall.ID, Number: 2, DepartmentID: f.social.ID,
			ItemIDs: []uuid.UUID{f.items["SB-001"].ID, f.items["HJ-001"].ID}})
		return err
	})
	require.Len(t, w.ItemIDs, 2)

	r, err := f.db.Reader(f.tenant.ID, "anonymous")
	require.NoError(t, err)
	ws, err := catalog.WindowsOfItem(ctx, r, f.items["HJ-001"].ID, true)
	require.NoError(t, err)
	require.Equal(t, []int{1, 2}, []int{ws[0].Number, ws[1].Number})
	items, err := catalog.ItemsOfWindow(ctx, r, w.ID, true)
	require.NoError(t, err)
	require.Equal(t, "HJ-001", items[0].Code)

	f.fails(t, http.StatusConflict, []string{"body.number"}, func(tx *tenants.Tx) error {
		_, err := catalog.CreateWindow(ctx, tx, catalog.WindowInput{HallID: f.hall.ID, Number: 1, DepartmentID: f.police.ID})
		return err
	})
	// The community hall may have its own window 1.
	f.tx(t, func(tx *tenants.Tx) error {
		_, err := catalog.CreateWindow(ctx, tx, catalog.WindowInput{HallID: f.town.ID, Number: 1, DepartmentID: f.townDept.ID})
		return err
	})
	f.fails(t, http.StatusUnprocessableEntity, []string{"body.item_ids[1]", "body.item_ids[2]"}, func(tx *tenants.Tx) error {
		_, err := catalog.SetWindowItems(ctx, tx, w.ID, []uuid.UUID{f.items["HJ-001"].ID, f.items["SQ-001"].ID, uuid.New()})
		return err
	})
	f.fails(t, http.StatusUnprocessableEntity, []string{"body.department_id"}, func(tx *tenants.Tx) error {
		_, err := catalog.CreateWindow(ctx, tx, catalog.WindowInput{HallID: f.hall.ID, Number: 9, DepartmentID: f.townDept.ID})
		return err
	})
	f.tx(t, func(tx *tenants.Tx) error {
		got, err := catalog.SetWindowItems(ctx, tx, w.ID, []uuid.UUID{f.items["HJ-002"].ID})
		require.Equal(t, []uuid.UUID{f.items["HJ-002"].ID}, got.ItemIDs, "the set is replaced as a whole")
		return err
	})

	t.Run("AnItemOnAWindowCannotLeaveTheHall", func(t *testing.T) {
		f.fails(t, http.StatusConflict, []string{"body.department_id"}, func(tx *tenants.Tx) error {
			_, err := catalog.UpdateItem(ctx, tx, f.items["HJ-002"].ID, catalog.ItemInput{DepartmentID: f.townDept.ID, Code: "HJ-002", Name: "出生登记"})
			return err
		})
	})
	t.Run("DeletingAnItemTakesItOffTheWindows", func(t *testing.T) {
		f.tx(t, func(tx *tenants.Tx) error { return catalog.DeleteItem(ctx, tx, f.items["HJ-002"].ID) })
		r, err := f.db.Reader(f.tenant.ID, "system")
		require.NoError(t, err)
		got, err := catalog.GetWindow(ctx, r, w.ID)
		require.NoError(t, err)
		require.Empty(t, got.ItemIDs)
	})
	t.Run("AHallInUseIsNotDeleted", func(t *testing.T) {
		f.fails(t, http.StatusConflict, nil, func(tx *tenants.Tx) error { return catalog.DeleteHall(ctx, tx, f.hall.ID) })
	})
}

func TestImport(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.fails(t, http.StatusUnprocessableEntity, []string{"body.items[1].department_code", "body.items[2].code", "body.items[3].materials[0].name"}, func(tx *tenants.Tx) error {
		_, err := catalog.ImportItems(ctx, tx, catalog.Import{Items: []catalog.ImportItem{
			{DepartmentCode: "police", Code: "HJ-003", Name: "户口迁出"},
			{DepartmentCode: "nope", Code: "X-1", Name: "无此部门"},
			{DepartmentCode: "police", Code: "HJ-003", Name: "重复"},
			{DepartmentCode: "social", Code: "SB-009", Name: "空材料", Materials: []catalog.Material{{Name: " ", Copies: 1}}},
		}})
		return err
	})
	require.NotContains(t, f.search(t, catalog.ItemFilter{}), "HJ-003", "all or nothing")

	f.tx(t, func(tx *tenants.Tx) error {
		res, err := catalog.ImportItems(ctx, tx, catalog.Import{Items: []catalog.ImportItem{
			{DepartmentCode: "police", Code: "HJ-003", Name: "户口迁出", Theme: "户籍办理", TimeLimitDays: 3},
			// The sync renames the item; the hall's booking setting stays.
			{DepartmentCode: "police", Code: "HJ-001", Name: "户口迁入", Theme: "户籍办理", TimeLimitDays: 7},
		}})
		require.Equal(t, catalog.ImportResult{Created: 1, Updated: 1}, res)
		return err
	})
	r, err := f.db.Reader(f.tenant.ID, "system")
	require.NoError(t, err)
	it, err := catalog.GetItem(ctx, r, f.items["HJ-001"].ID)
	require.NoError(t, err)
	require.Equal(t, "户口迁入", it.Name)
	require.Equal(t, 7, it.TimeLimitDays)
	require.True(t, it.Bookable, "the hall's own setting is kept")
	require.Empty(t, it.Materials, "materials come from the sync")
}

func TestBatchConfiguration(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.tx(t, func(tx *tenants.Tx) error {
		res, err := catalog.ConfigureItems(ctx, tx, catalog.BatchConfig{RegionCode: streetCode, Bookable: new(true)})
		require.Equal(t, 1, res.Matched, "only the community hall is in the street")
		return err
	})
	require.Equal(t, []string{"HJ-001", "SB-001", "SQ-001"}, f.search(t, catalog.ItemFilter{Bookable: "true"}))
	f.tx(t, func(tx *tenants.Tx) error {
		res, err := catalog.ConfigureItems(ctx, tx, catalog.BatchConfig{DepartmentID: &f.police.ID, Bookable: new(false), Ticketable: new(false)})
		require.Equal(t, 2, res.Matched)
		return err
	})
	require.Equal(t, []string{"SB-001", "SQ-001"}, f.search(t, catalog.ItemFilter{Bookable: "true"}))
	require.Equal(t, []string{"HJ-001", "HJ-002"}, f.search(t, catalog.ItemFilter{Ticketable: "false"}))

	f.fails(t, http.StatusUnprocessableEntity, []string{"body.department_id", "body.hall_id", "body.region_code", "body.theme",
		"body.bookable", "body.ticketable", "body.real_name"}, func(tx *tenants.Tx) error {
		_, err := catalog.ConfigureItems(ctx, tx, catalog.BatchConfig{})
		return err
	})
	f.fails(t, http.StatusUnprocessableEntity, []string{"body.region_code", "body.department_id"}, func(tx *tenants.Tx) error {
		nope := uuid.New()
		_, err := catalog.ConfigureItems(ctx, tx, catalog.BatchConfig{RegionCode: "990199", DepartmentID: &nope, RealName: new(false)})
		return err
	})
}
