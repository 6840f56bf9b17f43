package messages

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"yamen/modules"
	"yamen/tenants"
)

type templatePath struct {
	modules.TenantPath
	Template uuid.UUID `path:"template" doc:"模板编号 (template id)"`
}

type deliveryPath struct {
	modules.TenantPath
	Delivery uuid.UUID `path:"delivery" doc:"推送记录编号 (delivery id)"`
}

type templateInput struct {
	modules.TenantPath
	Body NewTemplate
}

type updateTemplateInput struct {
	modules.TenantPath
	Template uuid.UUID `path:"template" doc:"模板编号 (template id)"`
	Body     NewTemplate
}

type sendInput struct {
	modules.TenantPath
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"幂等键：同一键的重复请求只推送一次 (a repeated request with the same key sends nothing new)"`
	Body           Send
}

type deliveriesInput struct {
	modules.TenantPath
	DeliveryFilter
}

type inboxInput struct {
	modules.TenantPath
	InboxFilter
}

type inboxReadInput struct {
	modules.TenantPath
	Delivery uuid.UUID `path:"delivery" doc:"收件箱消息编号 (inbox message id)"`
}

type announceInput struct {
	modules.TenantPath
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"幂等键 (a repeated request with the same key sends nothing new)"`
	Body           NewAnnouncement
}

type announcementPath struct {
	modules.TenantPath
	Announcement uuid.UUID `path:"announcement" doc:"公告编号 (announcement id)"`
}

type listInput struct {
	modules.TenantPath
	Limit int `query:"limit" minimum:"1" maximum:"500" default:"100" doc:"最多返回条数 (at most this many)"`
}

type statsInput struct {
	modules.TenantPath
	StatsFilter
}

// Routes implements modules.RouteProvider; the operations live under
// /v1/t/{tenant}/messages.
func (m *Module) Routes(r *modules.Router) {
	modules.Register(r, "messages:templates", modules.TenantWide(rowsTemplates, huma.Operation{
		OperationID: "list-message-templates", Method: http.MethodGet, Path: "/templates", Summary: "推送模板 Message templates",
	}), func(ctx context.Context, _ *modules.TenantPath) (*modules.Body[[]Template], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) ([]Template, error) { return ListTemplates(ctx, q) })
	})
	modules.Register(r, "messages:templates", huma.Operation{
		OperationID: "create-message-template", Method: http.MethodPost, Path: "/templates", DefaultStatus: http.StatusCreated,
		Summary:     "新建推送模板 Create a message template",
		Description: "The text may use only the variables the template declares: an undeclared {variable} is refused with 422 naming body.text.",
	}, func(ctx context.Context, in *templateInput) (*modules.Body[Template], error) {
		return modules.InTx(ctx, m.db, func(tx *tenants.Tx) (Template, error) { return CreateTemplate(ctx, tx, in.Body) })
	})
	modules.Register(r, "messages:templates", modules.TenantWide(rowsTemplates, huma.Operation{
		OperationID: "get-message-template", Method: http.MethodGet, Path: "/templates/{template}", Summary: "查看推送模板 Get a message template",
	}), func(ctx context.Context, in *templatePath) (*modules.Body[Template], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) (Template, error) { return GetTemplate(ctx, q, in.Template) })
	})
	modules.Register(r, "messages:templates", huma.Operation{
		OperationID: "update-message-template", Method: http.MethodPut, Path: "/templates/{template}", Summary: "修改推送模板 Update a message template",
	}, func(ctx context.Context, in *updateTemplateInput) (*modules.Body[Template], error) {
		return modules.InTx(ctx, m.db, func(tx *tenants.Tx) (Template, error) { return UpdateTemplate(ctx, tx, in.Template, in.Body) })
	})
	modules.Register(r, "messages:templates", huma.Operation{
		OperationID: "delete-message-template", Method: http.MethodDelete, Path: "/templates/{template}", DefaultStatus: http.StatusNoContent,
		Summary:     "删除推送模板 Delete a message template",
		Description: "409 when messages were sent from it: the records keep it.",
	}, func(ctx context.Context, in *templatePath) (*modules.NoContent, error) {
		_, err := modules.InTx(ctx, m.db, func(tx *tenants.Tx) (struct{}, error) { return struct{}{}, DeleteTemplate(ctx, tx, in.Template) })
		if err != nil {
			return nil, err
		}
		return &modules.NoContent{}, nil
	})
	modules.Register(r, "messages:send", huma.Operation{
		OperationID: "send-message", Method: http.MethodPost, Path: "/send", DefaultStatus: http.StatusAccepted,
		Summary: "推送消息 Send a message",
		Description: "Sends a template's text (or free text) to members, to every active member of orgs' subtrees and to the holders of roles, " +
			"on the channels given: one delivery per (recipient, channel), each delivered after the response by the worker, " +
			"retried with backoff, and recorded. With an Idempotency-Key, a repeated request answers with the first one's message.",
	}, func(ctx context.Context, in *sendInput) (*modules.Body[Sent], error) {
		return modules.InTx(ctx, m.db, func(tx *tenants.Tx) (Sent, error) { return m.SendIn(ctx, tx, in.Body, in.IdempotencyKey) })
	})
	modules.Register(r, "messages:read", modules.TenantWide(rowsDeliveries, huma.Operation{
		OperationID: "list-message-deliveries", Method: http.MethodGet, Path: "/deliveries", Summary: "推送记录 Delivery records",
		Description: "The newest deliveries first, searchable by the recipient's phone and name (any part), status, channel, message type and message.",
	}), func(ctx context.Context, in *deliveriesInput) (*modules.Body[[]DeliveryRecord], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) ([]DeliveryRecord, error) { return ListDeliveries(ctx, q, in.DeliveryFilter) })
	})
	modules.Register(r, "messages:read", modules.TenantWide(rowsDeliveries, huma.Operation{
		OperationID: "get-message-delivery", Method: http.MethodGet, Path: "/deliveries/{delivery}", Summary: "查看推送记录 Get a delivery",
	}), func(ctx context.Context, in *deliveryPath) (*modules.Body[DeliveryRecord], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) (DeliveryRecord, error) { return GetDelivery(ctx, q, in.Delivery) })
	})
	modules.Register(r, "messages:read", modules.TenantWide(rowsDeliveries, huma.Operation{
		OperationID: "get-message-stats", Method: http.MethodGet, Path: "/stats", Summary: "推送统计 Message statistics",
		Description: "Messages and deliveries by message type (the template code, or direct), and by sending org and type.",
	}), func(ctx context.Context, in *statsInput) (*modules.Body[Stats], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) (Stats, error) { return GetStats(ctx, q, in.StatsFilter) })
	})
	modules.Register(r, "messages:inbox", modules.TenantWide(rowsInbox, huma.Operation{
		OperationID: "list-message-inbox", Method: http.MethodGet, Path: "/inbox", Summary: "我的站内信 My inbox",
		Description: "The in-app messages delivered to the signed-in member, newest first; 403 for an integrator's key, which has no inbox.",
	}), func(ctx context.Context, in *inboxInput) (*modules.Body[[]InboxItem], error) {
		_, subject, err := modules.Parties(ctx)
		if err != nil {
			return nil, err
		}
		member, err := memberOf(subject)
		if err != nil {
			return nil, err
		}
		return modules.Read(ctx, m.db, func(q tenants.Querier) ([]InboxItem, error) { return Inbox(ctx, q, member, in.InboxFilter) })
	})
	modules.Register(r, "messages:inbox", modules.TenantWide(rowsInbox, huma.Operation{
		OperationID: "stream-message-inbox", Method: http.MethodGet, Path: "/inbox/stream", Summary: "站内信推送 My inbox, live",
		Description: "Server-Sent Events (text/event-stream): one event `message` per in-app message delivered to the signed-in member " +
			"(data: JSON with id, kind, text, created_at; the event id is the message's id), and a comment every 15 s. " +
			"With Last-Event-ID, the messages delivered after that one are sent first. 403 for an integrator's key.",
	}), m.stream)
	modules.Register(r, "messages:inbox", huma.Operation{
		OperationID: "read-message-inbox", Method: http.MethodPost, Path: "/inbox/{delivery}/read", Summary: "标记已读 Mark read",
		Description: "Records that the signed-in member read the message (the read receipt of announcements); the first reading counts.",
	}, func(ctx context.Context, in *inboxReadInput) (*modules.Body[InboxItem], error) {
		_, subject, err := modules.Parties(ctx)
		if err != nil {
			return nil, err
		}
		member, err := memberOf(subject)
		if err != nil {
			return nil, err
		}
		return modules.InTx(ctx, m.db, func(tx *tenants.Tx) (InboxItem, error) { return MarkRead(ctx, tx, member, in.Delivery) })
	})
	modules.Register(r, "messages:announce", huma.Operation{
		OperationID: "create-announcement", Method: http.MethodPost, Path: "/announcements", DefaultStatus: http.StatusAccepted,
		Summary:     "发布系统公告 Publish an announcement",
		Description: "Sends the announcement to orgs (every active member of their subtrees) and members on the channels chosen, in-app when none; in-app readers leave read receipts.",
	}, func(ctx context.Context, in *announceInput) (*modules.Body[Sent], error) {
		return modules.InTx(ctx, m.db, func(tx *tenants.Tx) (Sent, error) { return m.Announce(ctx, tx, in.Body, in.IdempotencyKey) })
	})
	modules.Register(r, "messages:read", modules.TenantWide(rowsAnnouncements, huma.Operation{
		OperationID: "list-announcements", Method: http.MethodGet, Path: "/announcements", Summary: "系统公告 Announcements",
	}), func(ctx context.Context, in *listInput) (*modules.Body[[]Announcement], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) ([]Announcement, error) { return ListAnnouncements(ctx, q, in.Limit) })
	})
	modules.Register(r, "messages:read", modules.TenantWide(rowsAnnouncements, huma.Operation{
		OperationID: "get-announcement", Method: http.MethodGet, Path: "/announcements/{announcement}", Summary: "公告及阅读回执 An announcement and its read receipts",
	}), func(ctx context.Context, in *announcementPath) (*modules.Body[Announcement], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) (Announcement, error) { return GetAnnouncement(ctx, q, in.Announcement) })
	})
}
