package messages

// Why reads of messages are tenant-wide (modules.TenantWide).
const (
	rowsTemplates     = "消息模板是租户的配置 (templates are the tenant's configuration)"
	rowsDeliveries    = "发送记录覆盖整个租户，供持有 messages:read 者查阅 (deliveries cover the whole tenant, for holders of messages:read)"
	rowsInbox         = "收件箱只含本人的消息 (the inbox holds only the caller's own messages)"
	rowsAnnouncements = "公告面向全体工作人员 (announcements are for every member)"
)
