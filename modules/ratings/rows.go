package ratings

// Why staff reads of ratings are tenant-wide (modules.TenantWide).
const (
	rowsCases   = "办件的部门来自推送的部门编码，未必对应组织，因此不按组织过滤 (a case's department comes as a pushed code that need not match an org, so cases are not filtered by org)"
	rowsTags    = "评价标签是租户的字典 (tags are the tenant's dictionary)"
	rowsStats   = "统计为全租户汇总，按部门、区划下钻 (statistics aggregate the tenant, drilled down by department and region)"
	rowsUploads = "上报对账覆盖整个租户 (the reconciliation with the province covers the tenant)"
)
