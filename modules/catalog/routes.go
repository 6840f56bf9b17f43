package catalog

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"yamen/modules"
	"yamen/tenants"
)

type hallPath struct {
	modules.TenantPath
	Hall uuid.UUID `path:"hall" doc:"办事网点编号 (hall id)"`
}

type departmentPath struct {
	modules.TenantPath
	Department uuid.UUID `path:"department" doc:"业务部门编号 (department id)"`
}

type itemPath struct {
	modules.TenantPath
	Item uuid.UUID `path:"item" doc:"服务事项编号 (item id)"`
}

type windowPath struct {
	modules.TenantPath
	Window uuid.UUID `path:"window" doc:"办事窗口编号 (window id)"`
}

// The inputs with a body name their path parameters themselves: huma does
// not look for them two embeddings deep.

type hallsInput struct {
	modules.TenantPath
	HallFilter
}

type hallInput struct {
	modules.TenantPath
	Body HallInput
}

type hallUpdateInput struct {
	modules.TenantPath
	Hall uuid.UUID `path:"hall" doc:"办事网点编号 (hall id)"`
	Body HallInput
}

type hoursInput struct {
	modules.TenantPath
	Hall uuid.UUID `path:"hall" doc:"办事网点编号 (hall id)"`
	Body Hours
}

type departmentsInput struct {
	modules.TenantPath
	DepartmentFilter
}

type departmentInput struct {
	modules.TenantPath
	Body DepartmentInput
}

type departmentUpdateInput struct {
	modules.TenantPath
	Department uuid.UUID `path:"department" doc:"业务部门编号 (department id)"`
	Body       DepartmentInput
}

type itemsInput struct {
	modules.TenantPath
	ItemFilter
}

type itemInput struct {
	modules.TenantPath
	Body ItemInput
}

type itemUpdateInput struct {
	modules.TenantPath
	Item uuid.UUID `path:"item" doc:"服务事项编号 (item id)"`
	Body ItemInput
}

type batchInput struct {
	modules.TenantPath
	Body BatchConfig
}

type importInput struct {
	modules.TenantPath
	Body Import
}

type excelImportInput struct {
	modules.TenantPath
	RawBody []byte `contentType:"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"`
}

type themesInput struct {
	modules.TenantPath
	ThemeFilter
}

type windowsInput struct {
	modules.TenantPath
	WindowFilter
}

type windowInput struct {
	modules.TenantPath
	Body WindowInput
}

type windowUpdateInput struct {
	modules.TenantPath
	Window uuid.UUID `path:"window" doc:"办事窗口编号 (window id)"`
	Body   WindowInput
}

type windowItemsInput struct {
	modules.TenantPath
	Window uuid.UUID `path:"window" doc:"办事窗口编号 (window id)"`
	Body   WindowItems
}

// Routes implements modules.RouteProvider; the operations live under
// /v1/t/{tenant}/catalog. The public reads (what is active) take the plain
// paths: GET /halls, /halls/{hall}, /items, /items/{item}, /themes. Staff
// read everything, inactive too, under /admin, and write on the plain
// paths.
func (m *Module) Routes(r *modules.Router) {
	m.publicRoutes(r.Public())
	m.hallRoutes(r)
	m.departmentRoutes(r)
	m.itemRoutes(r)
	m.windowRoutes(r)
}

func (m *Module) publicRoutes(r *modules.Router) {
	modules.Register(r, "public", huma.Operation{
		OperationID: "list-catalog-halls", Method: http.MethodGet, Path: "/halls", Summary: "办事网点 Service halls",
		Description: "The halls open to the public, by code; with region, those in that region or any under it (a district's streets and communities).",
	}, func(ctx context.Context, in *hallsInput) (*modules.Body[[]Hall], error) {
		f := in.HallFilter
		f.ActiveOnly = true
		return modules.Read(ctx, m.db, func(q tenants.Querier) ([]Hall, error) { return ListHalls(ctx, q, f) })
	})
	modules.Register(r, "public", huma.Operation{
		OperationID: "get-catalog-hall", Method: http.MethodGet, Path: "/halls/{hall}", Summary: "办事网点详情 A service hall",
		Description: "A hall open to the public with its weekly hours and its departments.",
	}, func(ctx context.Context, in *hallPath) (*modules.Body[HallDetail], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) (HallDetail, error) { return GetHallDetail(ctx, q, in.Hall, true) })
	})
	modules.Register(r, "public", huma.Operation{
		OperationID: "list-catalog-items", Method: http.MethodGet, Path: "/items", Summary: "查询服务事项 Search service items",
		Description: "The items the public sees, searchable by words of the name (or the code), department (id or code), hall, region (with those under it), " +
			"theme, and whether they can be booked or ticketed; ordered by department code, item code and id. Page with limit and next_cursor, or offset.",
	}, func(ctx context.Context, in *itemsInput) (*modules.Body[ItemPage], error) {
		f := in.ItemFilter
		f.ActiveOnly = true
		return modules.Read(ctx, m.db, func(q tenants.Querier) (ItemPage, error) { return ListItems(ctx, q, f) })
	})
	modules.Register(r, "public", huma.Operation{
		OperationID: "get-catalog-item", Method: http.MethodGet, Path: "/items/{item}", Summary: "服务事项详情 A service item",
		Description: "An item the public sees, with its materials and the windows handling it.",
	}, func(ctx context.Context, in *itemPath) (*modules.Body[ItemDetail], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) (ItemDetail, error) { return GetItemDetail(ctx, q, in.Item, true) })
	})
	modules.Register(r, "public", huma.Operation{
		OperationID: "list-catalog-themes", Method: http.MethodGet, Path: "/themes", Summary: "主题分类 Themes",
		Description: "The themes of the items the public sees, with how many items each has, the most used first.",
	}, func(ctx context.Context, in *themesInput) (*modules.Body[[]Theme], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) ([]Theme, error) { return ListThemes(ctx, q, in.ThemeFilter) })
	})
}

func (m *Module) hallRoutes(r *modules.Router) {
	modules.Register(r, "catalog:read", modules.TenantWide(rowsCatalogue, huma.Operation{
		OperationID: "admin-list-catalog-halls", Method: http.MethodGet, Path: "/admin/halls", Summary: "办事网点（含停用） All halls",
	}), func(ctx context.Context, in *hallsInput) (*modules.Body[[]Hall], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) ([]Hall, error) { return ListHalls(ctx, q, in.HallFilter) })
	})
	modules.Register(r, "catalog:read", modules.TenantWide(rowsCatalogue, huma.Operation{
		OperationID: "admin-get-catalog-hall", Method: http.MethodGet, Path: "/admin/halls/{hall}", Summary: "办事网点详情（含停用） A hall, active or not",
	}), func(ctx context.Context, in *hallPath) (*modules.Body[HallDetail], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) (HallDetail, error) { return GetHallDetail(ctx, q, in.Hall, false) })
	})
	modules.Register(r, "catalog:write", huma.Operation{
		OperationID: "create-catalog-hall", Method: http.MethodPost, Path: "/halls", DefaultStatus: http.StatusCreated, Summary: "新增办事网点 Add a hall",
		Description: "409 naming body.code when the code is taken; 422 naming body.region_code for an unknown region.",
	}, func(ctx context.Context, in *hallInput) (*modules.Body[Hall], error) {
		return modules.InTx(ctx, m.db, func(tx *tenants.Tx) (Hall, error) { return CreateHall(ctx, tx, in.Body) })
	})
	modules.Register(r, "catalog:write", huma.Operation{
		OperationID: "update-catalog-hall", Method: http.MethodPut, Path: "/halls/{hall}", Summary: "修改办事网点 Update a hall",
	}, func(ctx context.Context, in *hallUpdateInput) (*modules.Body[Hall], error) {
		return modules.InTx(ctx, m.db, func(tx *tenants.Tx) (Hall, error) { return UpdateHall(ctx, tx, in.Hall, in.Body) })
	})
	modules.Register(r, "catalog:write", huma.Operation{
		OperationID: "delete-catalog-hall", Method: http.MethodDelete, Path: "/halls/{hall}", DefaultStatus: http.StatusNoContent,
		Summary: "删除办事网点 Delete a hall", Description: "409 while it has departments or windows: make it inactive instead.",
	}, func(ctx context.Context, in *hallPath) (*modules.NoContent, error) {
		return modules.Change(ctx, m.db, func(tx *tenants.Tx) error { return DeleteHall(ctx, tx, in.Hall) })
	})
	modules.Register(r, "catalog:write", huma.Operation{
		OperationID: "set-catalog-hall-hours", Method: http.MethodPut, Path: "/halls/{hall}/hours", Summary: "设置办公时间 Set a hall's weekly hours",
		Description: "Replaces the whole weekly schedule. A period must close after it opens and not overlap another of its weekday " +
			"(422 naming body.hours[i].closes or body.hours[i].opens). Which dates are working days comes from the jurisdiction calendar.",
	}, func(ctx context.Context, in *hoursInput) (*modules.Body[[]Period], error) {
		return modules.InTx(ctx, m.db, func(tx *tenants.Tx) ([]Period, error) { return SetHours(ctx, tx, in.Hall, in.Body.Hours) })
	})
}

func (m *Module) departmentRoutes(r *modules.Router) {
	modules.Register(r, "catalog:read", modules.TenantWide(rowsCatalogue, huma.Operation{
		OperationID: "list-catalog-departments", Method: http.MethodGet, Path: "/departments", Summary: "业务部门 Departments",
	}), func(ctx context.Context, in *departmentsInput) (*modules.Body[[]Department], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) ([]Department, error) { return ListDepartments(ctx, q, in.DepartmentFilter) })
	})
	modules.Register(r, "catalog:read", modules.TenantWide(rowsCatalogue, huma.Operation{
		OperationID: "get-catalog-department", Method: http.MethodGet, Path: "/departments/{department}", Summary: "业务部门详情 A department",
	}), func(ctx context.Context, in *departmentPath) (*modules.Body[Department], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) (Department, error) { return GetDepartment(ctx, q, in.Department) })
	})
	modules.Register(r, "catalog:write", huma.Operation{
		OperationID: "create-catalog-department", Method: http.MethodPost, Path: "/departments", DefaultStatus: http.StatusCreated,
		Summary: "新增业务部门 Add a department", Description: "422 naming body.hall_id or body.org_id when they are not the tenant's; 409 naming body.code when the code is taken.",
	}, func(ctx context.Context, in *departmentInput) (*modules.Body[Department], error) {
		return modules.InTx(ctx, m.db, func(tx *tenants.Tx) (Department, error) { return CreateDepartment(ctx, tx, in.Body) })
	})
	modules.Register(r, "catalog:write", huma.Operation{
		OperationID: "update-catalog-department", Method: http.MethodPut, Path: "/departments/{department}", Summary: "修改业务部门 Update a department",
	}, func(ctx context.Context, in *departmentUpdateInput) (*modules.Body[Department], error) {
		return modules.InTx(ctx, m.db, func(tx *tenants.Tx) (Department, error) { return UpdateDepartment(ctx, tx, in.Department, in.Body) })
	})
	modules.Register(r, "catalog:write", huma.Operation{
		OperationID: "delete-catalog-department", Method: http.MethodDelete, Path: "/departments/{department}", DefaultStatus: http.StatusNoContent,
		Summary: "删除业务部门 Delete a department", Description: "409 while it has items or windows: make it inactive instead.",
	}, func(ctx context.Context, in *departmentPath) (*modules.NoContent, error) {
		return modules.Change(ctx, m.db, func(tx *tenants.Tx) error { return DeleteDepartment(ctx, tx, in.Department) })
	})
}

func (m *Module) itemRoutes(r *modules.Router) {
	modules.Register(r, "catalog:read", modules.TenantWide(rowsCatalogue, huma.Operation{
		OperationID: "admin-list-catalog-items", Method: http.MethodGet, Path: "/admin/items", Summary: "服务事项（含停用） All items",
	}), func(ctx context.Context, in *itemsInput) (*modules.Body[ItemPage], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) (ItemPage, error) { return ListItems(ctx, q, in.ItemFilter) })
	})
	modules.Register(r, "catalog:read", modules.TenantWide(rowsCatalogue, huma.Operation{
		OperationID: "admin-get-catalog-item", Method: http.MethodGet, Path: "/admin/items/{item}", Summary: "服务事项详情（含停用） An item, active or not",
	}), func(ctx context.Context, in *itemPath) (*modules.Body[ItemDetail], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) (ItemDetail, error) { return GetItemDetail(ctx, q, in.Item, false) })
	})
	modules.Register(r, "catalog:write", huma.Operation{
		OperationID: "create-catalog-item", Method: http.MethodPost, Path: "/items", DefaultStatus: http.StatusCreated, Summary: "新增服务事项 Add an item",
		Description: "409 naming body.code when the department has an item of that code; 422 naming body.department_id for an unknown department.",
	}, func(ctx context.Context, in *itemInput) (*modules.Body[Item], error) {
		return modules.InTx(ctx, m.db, func(tx *tenants.Tx) (Item, error) { return CreateItem(ctx, tx, in.Body) })
	})
	modules.Register(r, "catalog:write", huma.Operation{
		OperationID: "update-catalog-item", Method: http.MethodPut, Path: "/items/{item}", Summary: "修改服务事项 Update an item",
	}, func(ctx context.Context, in *itemUpdateInput) (*modules.Body[Item], error) {
		return modules.InTx(ctx, m.db, func(tx *tenants.Tx) (Item, error) { return UpdateItem(ctx, tx, in.Item, in.Body) })
	})
	modules.Register(r, "catalog:write", huma.Operation{
		OperationID: "delete-catalog-item", Method: http.MethodDelete, Path: "/items/{item}", DefaultStatus: http.StatusNoContent,
		Summary: "删除服务事项 Delete an item", Description: "Takes it off every window; 409 when appointments or tickets refer to it: make it inactive instead.",
	}, func(ctx context.Context, in *itemPath) (*modules.NoContent, error) {
		return modules.Change(ctx, m.db, func(tx *tenants.Tx) error { return DeleteItem(ctx, tx, in.Item) })
	})
	modules.Register(r, "catalog:write", huma.Operation{
		OperationID: "configure-catalog-items", Method: http.MethodPost, Path: "/items/batch", Summary: "批量配置事项 Configure items in bulk",
		Description: "Sets bookable, ticketable or real_name on every item of a department, a hall, the halls of a region (and those under it) or a theme; the selectors combine.",
	}, func(ctx context.Context, in *batchInput) (*modules.Body[BatchResult], error) {
		return modules.InTx(ctx, m.db, func(tx *tenants.Tx) (BatchResult, error) { return ConfigureItems(ctx, tx, in.Body) })
	})
	modules.Register(r, "catalog:sync", huma.Operation{
		OperationID: "import-catalog-items", Method: http.MethodPost, Path: "/items/import", Summary: "同步事项 Import items",
		Description: "Upserts the items of the city's item management system by (department_code, code), all or nothing: " +
			"every bad element is named (body.items[3].department_code). The hall's own settings of an existing item are kept unless given.",
	}, func(ctx context.Context, in *importInput) (*modules.Body[ImportResult], error) {
		return modules.InTx(ctx, m.db, func(tx *tenants.Tx) (ImportResult, error) { return ImportItems(ctx, tx, in.Body) })
	})
	modules.Register(r, "catalog:sync", huma.Operation{
		OperationID: "import-catalog-items-xlsx", Method: http.MethodPost, Path: "/items/import/xlsx", Summary: "从 Excel 同步事项 Import items from a workbook",
		Description: "The body is an .xlsx workbook whose first sheet has the header row " + strings.Join(ExcelColumns, "、") + " and one item per row; " +
			"申报材料 reads as 居民身份证*1；户口簿；结婚证（非必需）, yes/no cells as 是/否 (empty keeps the item's setting). " +
			"All or nothing, like the JSON import: every bad cell is named (body.E7, row 7 column E).",
	}, func(ctx context.Context, in *excelImportInput) (*modules.Body[ImportResult], error) {
		x, err := ParseExcel(in.RawBody)
		if err != nil {
			return nil, err
		}
		out, err := modules.InTx(ctx, m.db, func(tx *tenants.Tx) (ImportResult, error) { return ImportItems(ctx, tx, x.Import) })
		if err != nil {
			return nil, x.Cells(err)
		}
		return out, nil
	})
}

func (m *Module) windowRoutes(r *modules.Router) {
	modules.Register(r, "catalog:read", modules.TenantWide(rowsCatalogue, huma.Operation{
		OperationID: "list-catalog-windows", Method: http.MethodGet, Path: "/windows", Summary: "办事窗口 Windows",
	}), func(ctx context.Context, in *windowsInput) (*modules.Body[[]Window], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) ([]Window, error) { return ListWindows(ctx, q, in.WindowFilter) })
	})
	modules.Register(r, "catalog:read", modules.TenantWide(rowsCatalogue, huma.Operation{
		OperationID: "get-catalog-window", Method: http.MethodGet, Path: "/windows/{window}", Summary: "办事窗口详情 A window",
	}), func(ctx context.Context, in *windowPath) (*modules.Body[Window], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) (Window, error) { return GetWindow(ctx, q, in.Window) })
	})
	modules.Register(r, "catalog:read", modules.TenantWide(rowsCatalogue, huma.Operation{
		OperationID: "list-catalog-window-items", Method: http.MethodGet, Path: "/windows/{window}/items", Summary: "窗口办理的事项 A window's items",
	}), func(ctx context.Context, in *windowPath) (*modules.Body[[]Item], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) ([]Item, error) {
			if _, err := GetWindow(ctx, q, in.Window); err != nil {
				return nil, err
			}
			return ItemsOfWindow(ctx, q, in.Window, false)
		})
	})
	modules.Register(r, "catalog:write", huma.Operation{
		OperationID: "create-catalog-window", Method: http.MethodPost, Path: "/windows", DefaultStatus: http.StatusCreated, Summary: "新增办事窗口 Add a window",
		Description: "The department and every item must be of the window's hall (422 naming body.department_id or body.item_ids[i]); 409 naming body.number when the hall has a window of that number.",
	}, func(ctx context.Context, in *windowInput) (*modules.Body[Window], error) {
		return modules.InTx(ctx, m.db, func(tx *tenants.Tx) (Window, error) { return CreateWindow(ctx, tx, in.Body) })
	})
	modules.Register(r, "catalog:write", huma.Operation{
		OperationID: "update-catalog-window", Method: http.MethodPut, Path: "/windows/{window}", Summary: "修改办事窗口 Update a window",
	}, func(ctx context.Context, in *windowUpdateInput) (*modules.Body[Window], error) {
		return modules.InTx(ctx, m.db, func(tx *tenants.Tx) (Window, error) { return UpdateWindow(ctx, tx, in.Window, in.Body) })
	})
	modules.Register(r, "catalog:write", huma.Operation{
		OperationID: "set-catalog-window-items", Method: http.MethodPut, Path: "/windows/{window}/items", Summary: "设置窗口办理的事项 Set a window's items",
		Description: "Replaces the whole set; an item of another hall is refused with 422 naming body.item_ids[i].",
	}, func(ctx context.Context, in *windowItemsInput) (*modules.Body[Window], error) {
		return modules.InTx(ctx, m.db, func(tx *tenants.Tx) (Window, error) { return SetWindowItems(ctx, tx, in.Window, in.Body.ItemIDs) })
	})
	modules.Register(r, "catalog:write", huma.Operation{
		OperationID: "delete-catalog-window", Method: http.MethodDelete, Path: "/windows/{window}", DefaultStatus: http.StatusNoContent, Summary: "删除办事窗口 Delete a window",
	}, func(ctx context.Context, in *windowPath) (*modules.NoContent, error) {
		return modules.Change(ctx, m.db, func(tx *tenants.Tx) error { return DeleteWindow(ctx, tx, in.Window) })
	})
}
