package tenants

// CorePermission is a permission of the platform's own operations (as
// opposed to a module's).
type CorePermission struct {
	Name string
	ZH   string
	EN   string
}

// CorePermissions are what tenant roles can grant besides module permissions.
var CorePermissions = []CorePermission{
	{"modules:read", "查看模块", "View modules"},
	{"modules:manage", "启用、停用和配置模块", "Enable, disable and configure modules"},
	{"orgs:read", "查看组织机构", "View the org tree"},
	{"orgs:write", "维护组织机构", "Edit the org tree"},
	{"members:read", "查看人员", "View staff"},
	{"members:write", "维护人员", "Edit staff"},
	{"members:handover", "工作移交", "Hand a member's work over to another"},
	{"roles:read", "查看角色", "View roles"},
	{"roles:write", "维护角色并授权", "Edit and grant roles"},
	{"keys:manage", "管理接口密钥", "Manage API keys"},
	{"audit:read", "查看审计日志", "Read the audit log"},
	{"policies:read", "查看租户策略", "View the tenant's policy"},
	{"policies:manage", "上传、回滚租户策略", "Upload and roll back the tenant's policy"},
}

// AllPermissions is the wildcard permission: every action of the tenant.
const AllPermissions = "*"

// AdminPermissions are what the tenant admin role starts with.
var AdminPermissions = []string{AllPermissions}
