package booking

// Why staff reads of bookings are tenant-wide (modules.TenantWide).
const (
	rowsAppointments = "预约属于办事群众与服务事项，不归属组织 (appointments belong to citizens and service items, not to an org)"
	rowsDiscipline   = "违约、申诉与黑白名单针对办事群众，适用于整个租户 (no-shows, appeals and the black and white lists concern citizens, tenant-wide)"
	rowsRules        = "预约规则是租户的配置 (booking rules are the tenant's configuration)"
	rowsOwn          = "只含办事群众本人的预约与资格 (only the citizen's own appointments and standing)"
)
