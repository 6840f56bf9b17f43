package api

// Why the platform's tenant reads other than the members' show every
// member allowed them the same rows (modules.TenantWide); the members'
// follow the data scope (modules.InScope).
const (
	rowsOrgTree       = "组织架构是每位工作人员所在的结构，不是业务数据 (the org tree is the structure every member works in, not business records)"
	rowsConfiguration = "租户的配置，不归属某个组织 (the tenant's configuration, which belongs to no org)"
	rowsAudit         = "审计日志覆盖整个租户，仅供持有 audit:read 者查阅 (the audit trail covers the whole tenant, for holders of audit:read)"
)
