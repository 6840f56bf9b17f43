package demo

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"yamen/modules/catalog"
	"yamen/tenants"
)

// CatalogSpec is a demo hall's catalogue (modules/catalog): one hall, its
// departments, items, windows and weekly hours.
type CatalogSpec struct {
	Hall        catalog.HallInput
	Departments []DepartmentSpec
	Items       []ItemSpec
	// Windows are by number; each lists the codes of the items it handles.
	Windows []WindowSpec
	Hours   []catalog.Period
}

// DepartmentSpec is a department; Org is the code of the org it is, or "".
type DepartmentSpec struct {
	Code, Name, Org string
}

// ItemSpec is an item of the department of code Department.
type ItemSpec struct {
	Department string
	catalog.ItemInput
}

// WindowSpec is a window of the hall.
type WindowSpec struct {
	Number               int
	Department, Location string
	Items                []string
}

// HallCenterCode is the code of the demo hall's 示范市政务服务中心.
const HallCenterCode = "sfs-zwzx"

func idCard() catalog.Material {
	return catalog.Material{Name: "居民身份证", Copies: 1, Required: true}
}
func household() catalog.Material {
	return catalog.Material{Name: "居民户口簿", Copies: 1, Required: true}
}
func licence() catalog.Material {
	return catalog.Material{Name: "营业执照（副本）", Copies: 1, Required: true}
}

func item(dep, code, name, theme string, days int, bookable bool, prefix string, ms ...catalog.Material) ItemSpec {
	return ItemSpec{Department: dep, ItemInput: catalog.ItemInput{Code: code, Name: name, Theme: theme, TimeLimitDays: days,
		Bookable: bookable, TicketPrefix: prefix, Materials: ms}}
}

// hallCatalog is 示范市政务服务中心: five departments, fifteen items with the
// basic codes of the item list (基本编码), ten windows, open Monday to Friday
// 09:00–12:00 and 13:30–17:30 (the Saturday morning service is off until the
// hall sets it).
func hallCatalog() *CatalogSpec {
	var hours []catalog.Period
	for d := 1; d <= 5; d++ {
		hours = append(hours, catalog.Period{Weekday: d, Opens: "09:00", Closes: "12:00"}, catalog.Period{Weekday: d, Opens: "13:30", Closes: "17:30"})
	}
	return &CatalogSpec{
		Hall: catalog.HallInput{Code: HallCenterCode, Name: "示范市政务服务中心", RegionCode: "980102001",
			Address: "示范市东城区东华路 88 号", Phone: "0980-12345"},
		Departments: []DepartmentSpec{
			{"gaj-hz", "公安户政", "huzheng"},
			{"rsj", "人社", "renshe"},
			{"ybj", "医保", ""},
			{"bdc", "不动产登记", ""},
			{"scjg", "市场监管", "shijian"},
		},
		Items: []ItemSpec{
			item("gaj-hz", "000105001000", "户口迁移（迁入）", "户籍办理", 5, true, "A",
				idCard(), household(), catalog.Material{Name: "户口迁移证或准予迁入证明", Copies: 1, Required: true}),
			item("gaj-hz", "000105002000", "出生登记", "户籍办理", 0, false, "A",
				catalog.Material{Name: "出生医学证明", Copies: 1, Required: true}, household(), catalog.Material{Name: "父母居民身份证", Copies: 1, Required: true}),
			item("gaj-hz", "000105003000", "居民身份证申领、换领、补领", "证件办理", 20, true, "A",
				household(), catalog.Material{Name: "数码相片采集回执", Copies: 1, Required: false}),
			item("gaj-hz", "000105004000", "居住证签注", "证件办理", 0, false, "A", idCard(), catalog.Material{Name: "居住证", Copies: 1, Required: true}),
			item("rsj", "000111001000", "社会保障卡申领", "社会保障", 10, true, "B", idCard()),
			item("rsj", "000111002000", "失业保险金申领", "社会保障", 5, false, "B",
				idCard(), catalog.Material{Name: "解除或终止劳动关系证明", Copies: 1, Required: true}, catalog.Material{Name: "本人银行账户", Copies: 1, Required: true}),
			item("rsj", "000111003000", "灵活就业人员参保登记", "社会保障", 0, false, "B", idCard()),
			item("ybj", "000112001000", "基本医疗保险关系转移接续", "医疗保障", 15, false, "C",
				idCard(), catalog.Material{Name: "参保缴费凭证", Copies: 1, Required: true}),
			item("ybj", "000112002000", "异地就医备案", "医疗保障", 0, false, "C",
				idCard(), catalog.Material{Name: "异地居住证明或承诺书", Copies: 1, Required: false}),
			item("ybj", "000112003000", "生育医疗费用报销", "医疗保障", 20, false, "C",
				idCard(), catalog.Material{Name: "医疗费用票据", Copies: 1, Required: true}, catalog.Material{Name: "出院小结", Copies: 1, Required: true}),
			item("bdc", "000116001000", "不动产首次登记", "不动产登记", 20, true, "D",
				idCard(), catalog.Material{Name: "不动产权属来源证明", Copies: 1, Required: true}, catalog.Material{Name: "不动产登记申请书", Copies: 1, Required: true}),
			item("bdc", "000116002000", "不动产转移登记", "不动产登记", 5, true, "D",
				idCard(), catalog.Material{Name: "不动产权证书", Copies: 1, Required: true}, catalog.Material{Name: "买卖合同", Copies: 2, Required: true},
				catalog.Material{Name: "完税凭证", Copies: 1, Required: true}),
			item("bdc", "000116003000", "不动产抵押登记", "不动产登记", 5, false, "D",
				idCard(), catalog.Material{Name: "不动产权证书", Copies: 1, Required: true}, catalog.Material{Name: "主债权合同及抵押合同", Copies: 1, Required: true}),
			item("scjg", "000128001000", "企业设立登记", "市场准入", 3, true, "E",
				idCard(), catalog.Material{Name: "公司章程", Copies: 1, Required: true}, catalog.Material{Name: "住所使用证明", Copies: 1, Required: true}),
			item("scjg", "000128002000", "食品经营许可", "市场准入", 10, false, "E",
				licence(), catalog.Material{Name: "食品安全管理制度", Copies: 1, Required: true}, catalog.Material{Name: "经营场所平面图", Copies: 1, Required: true}),
		},
		Windows: []WindowSpec{
			{1, "gaj-hz", "一楼 A 区", []string{"000105001000", "000105002000"}},
			{2, "gaj-hz", "一楼 A 区", []string{"000105001000", "000105003000", "000105004000"}},
			{3, "gaj-hz", "一楼 A 区", []string{"000105003000", "000105004000"}},
			{4, "rsj", "一楼 B 区", []string{"000111001000", "000111002000", "000111003000"}},
			{5, "rsj", "一楼 B 区", []string{"000111001000"}},
			{6, "ybj", "一楼 B 区", []string{"000112001000", "000112002000", "000112003000"}},
			{7, "bdc", "二楼 C 区", []string{"000116001000", "000116002000"}},
			{8, "bdc", "二楼 C 区", []string{"000116002000", "000116003000"}},
			{9, "scjg", "二楼 D 区", []string{"000128001000"}},
			{10, "scjg", "二楼 D 区", []string{"000128001000", "000128002000"}},
		},
		Hours: hours,
	}
}

// fillCatalog adds what the tenant's catalogue is missing of spec: the hall
// (by code), departments (by code), items (by department and code),
// windows (by number, with their items) and, when the hall has none, its
// hours. What exists is left as the hall's staff made it.
func fillCatalog(ctx context.Context, tx *tenants.Tx, spec *CatalogSpec, orgs map[string]uuid.UUID) error {
	halls, err := idsBy(ctx, tx, "SELECT code, id FROM catalog_halls")
	if err != nil {
		return err
	}
	hall, ok := halls[spec.Hall.Code]
	if !ok {
		h, err := catalog.CreateHall(ctx, tx, spec.Hall)
		if err != nil {
			return fmt.Errorf("hall %s: %w", spec.Hall.Code, err)
		}
		hall = h.ID
	}
	deps, err := idsBy(ctx, tx, "SELECT code, id FROM catalog_departments")
	if err != nil {
		return err
	}
	for _, d := range spec.Departments {
		if _, ok := deps[d.Code]; ok {
			continue
		}
		in := catalog.DepartmentInput{HallID: hall, Code: d.Code, Name: d.Name}
		if d.Org != "" {
			org, ok := orgs[d.Org]
			if !ok {
				return fmt.Errorf("department %s: no org %s", d.Code, d.Org)
			}
			in.OrgID = &org
		}
		dep, err := catalog.CreateDepartment(ctx, tx, in)
		if err != nil {
			return fmt.Errorf("department %s: %w", d.Code, err)
		}
		deps[d.Code] = dep.ID
	}
	items, err := idsBy(ctx, tx, "SELECT d.code || '/' || i.code, i.id FROM catalog_items i JOIN catalog_departments d ON d.tenant_id = i.tenant_id AND d.id = i.department_id")
	if err != nil {
		return err
	}
	byCode := map[string]uuid.UUID{}
	for _, it := range spec.Items {
		dep, ok := deps[it.Department]
		if !ok {
			return fmt.Errorf("item %s: no department %s", it.Code, it.Department)
		}
		id, ok := items[it.Department+"/"+it.Code]
		if !ok {
			in := it.ItemInput
			in.DepartmentID = dep
			created, err := catalog.CreateItem(ctx, tx, in)
			if err != nil {
				return fmt.Errorf("item %s: %w", it.Code, err)
			}
			id = created.ID
		}
		byCode[it.Code] = id
	}
	rows, err := tx.Query(ctx, "SELECT number FROM catalog_windows WHERE hall_id = $1", hall)
	if err != nil {
		return err
	}
	have := map[int]bool{}
	var n int
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		have[n] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, w := range spec.Windows {
		if have[w.Number] {
			continue
		}
		in := catalog.WindowInput{HallID: hall, Number: w.Number, Name: fmt.Sprintf("%d号窗口", w.Number), DepartmentID: deps[w.Department], Location: w.Location}
		for _, code := range w.Items {
			id, ok := byCode[code]
			if !ok {
				return fmt.Errorf("window %d: no item %s", w.Number, code)
			}
			in.ItemIDs = append(in.ItemIDs, id)
		}
		if _, err := catalog.CreateWindow(ctx, tx, in); err != nil {
			return fmt.Errorf("window %d: %w", w.Number, err)
		}
	}
	hours, err := catalog.HallHours(ctx, tx, hall)
	if err != nil {
		return err
	}
	if len(hours) == 0 && len(spec.Hours) > 0 {
		if _, err := catalog.SetHours(ctx, tx, hall, spec.Hours); err != nil {
			return fmt.Errorf("hours: %w", err)
		}
	}
	return nil
}
