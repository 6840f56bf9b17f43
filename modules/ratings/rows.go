package ratings

// Why staff reads of ratings are tenant-wide (modules.TenantWide).
const (
	rowsCases   = "办件按部门编码与区划归集，不归属组织 (cases carry a department code and a region, not an org)"
	rowsTags    = "评价标签是租户的字典 (tags are the tenant's dictionary)"
	rowsStats   = "统计为全租户汇总，按部门、区划下钻 (statistics aggregate the tenant, drilled down by department and region)"
	rowsUploads = "上报对账覆盖整个租户 (the reconciliation with the province covers the tenant)"
)
