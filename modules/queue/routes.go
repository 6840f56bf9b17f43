package queue

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"yamen/modules"
	"yamen/tenants"
)

type hallPath struct {
	modules.TenantPath
	Hall uuid.UUID `path:"hall" doc:"办事网点编号 (hall id)"`
}

type ticketPath struct {
	modules.TenantPath
	Ticket uuid.UUID `path:"ticket" doc:"号票编号 (ticket id)"`
}

type windowPath struct {
	modules.TenantPath
	Window uuid.UUID `path:"window" doc:"窗口编号 (window id)"`
}

// Inputs repeat the ticket path rather than embed ticketPath: huma reads
// path parameters of directly embedded structs only.
type positionInput struct {
	modules.TenantPath
	Ticket uuid.UUID `path:"ticket" doc:"号票编号 (ticket id)"`
	Secret string    `query:"secret" required:"true" minLength:"1" maxLength:"64" doc:"号票二维码中的口令 (the secret in the ticket's QR code)"`
}

type issueInput struct {
	modules.TenantPath
	Body NewTicket
}

type checkInInput struct {
	modules.TenantPath
	Body CheckIn
}

type transferInput struct {
	modules.TenantPath
	Ticket uuid.UUID `path:"ticket" doc:"号票编号 (ticket id)"`
	Body   Transfer
}

// staffOf returns the member a request acts as, or nil for a key.
func staffOf(s tenants.Subject) *uuid.UUID {
	if s.Kind == tenants.SubjectMember && s.ID != uuid.Nil {
		id := s.ID
		return &id
	}
	return nil
}

// Routes implements modules.RouteProvider; the operations live under
// /v1/t/{tenant}/queue.
func (m *Module) Routes(r *modules.Router) {
	modules.Register(r, "queue:issue", huma.Operation{
		OperationID: "issue-queue-ticket", Method: http.MethodPost, Path: "/tickets", DefaultStatus: http.StatusCreated,
		Summary: "现场取号 Take an on-site ticket",
		Description: "A kiosk (a key with queue:issue) or staff issue a ticket for a service item of a hall. The ID number is checked " +
			"(GB 11643: form, birth date, check character) and required for real-name items, or for every item when the settings say " +
			"verify_identity. One person holds at most one waiting ticket per item (409). The answer is what the ticket prints: " +
			"hall, department, number, people waiting ahead, masked ID number, name, and the secret for its QR code.",
	}, func(ctx context.Context, in *issueInput) (*modules.Body[Ticket], error) {
		return modules.InTxAs(ctx, m.db, func(tx *tenants.Tx, _ tenants.Subject) (Ticket, error) { return m.IssueIn(ctx, tx, in.Body) })
	})
	modules.Register(r, "queue:issue", huma.Operation{
		OperationID: "check-in-appointment", Method: http.MethodPost, Path: "/checkins", DefaultStatus: http.StatusCreated,
		Summary: "预约扫码取号 Check an appointment in",
		Description: "Turns the appointment named by the QR code's pass into an appointment ticket, called ahead of walk-ins once its " +
			"slot has begun. A forged, malformed or expired pass, or one of another tenant, is a 422 naming body.token; a pass " +
			"already used, or an appointment cancelled, missed, too early or too late for its check-in window, a 409. Nothing is " +
			"written when refused.",
	}, func(ctx context.Context, in *checkInInput) (*modules.Body[Ticket], error) {
		return modules.InTxAs(ctx, m.db, func(tx *tenants.Tx, _ tenants.Subject) (Ticket, error) {
			return m.CheckInIn(ctx, tx, in.Body, time.Now())
		})
	})
	modules.Register(r, "queue:read", modules.TenantWide(rowsTickets, huma.Operation{
		OperationID: "get-queue-ticket", Method: http.MethodGet, Path: "/tickets/{ticket}", Summary: "查看号票 Get a ticket",
	}), func(ctx context.Context, in *ticketPath) (*modules.Body[Ticket], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) (Ticket, error) { return GetTicket(ctx, q, in.Ticket) })
	})
	modules.Register(r, "queue:call", huma.Operation{
		OperationID: "call-next-ticket", Method: http.MethodPost, Path: "/windows/{window}/call-next",
		Summary: "叫号 Call the next ticket",
		Description: "Calls the next waiting ticket of the items the window handles, in the tenant's order (settings.order), and " +
			"shows it on the hall's boards. Two windows calling at once never get the same ticket. 404 when nobody waits; 409 " +
			"while the window still has a called ticket (finish, mark no-show or transfer it first).",
	}, func(ctx context.Context, in *windowPath) (*modules.Body[Ticket], error) {
		return modules.InTxAs(ctx, m.db, func(tx *tenants.Tx, s tenants.Subject) (Ticket, error) {
			return m.CallNextIn(ctx, tx, in.Window, staffOf(s))
		})
	})
	modules.Register(r, "queue:call", huma.Operation{
		OperationID: "recall-ticket", Method: http.MethodPost, Path: "/tickets/{ticket}/recall", Summary: "重呼 Recall a ticket",
		Description: "Calls a called ticket again and counts the recall; boards show it again.",
	}, func(ctx context.Context, in *ticketPath) (*modules.Body[Ticket], error) {
		return modules.InTxAs(ctx, m.db, func(tx *tenants.Tx, _ tenants.Subject) (Ticket, error) { return m.RecallIn(ctx, tx, in.Ticket) })
	})
	modules.Register(r, "queue:call", huma.Operation{
		OperationID: "no-show-ticket", Method: http.MethodPost, Path: "/tickets/{ticket}/no-show", Summary: "过号 Mark a ticket a no-show",
		Description: "Allowed once the ticket was recalled settings.recalls_before_no_show times (409 before).",
	}, func(ctx context.Context, in *ticketPath) (*modules.Body[Ticket], error) {
		return modules.InTxAs(ctx, m.db, func(tx *tenants.Tx, _ tenants.Subject) (Ticket, error) { return m.NoShowIn(ctx, tx, in.Ticket) })
	})
	modules.Register(r, "queue:call", huma.Operation{
		OperationID: "transfer-ticket", Method: http.MethodPost, Path: "/tickets/{ticket}/transfer", Summary: "转办 Transfer a ticket to another item",
		Description: "The called ticket waits again in the queue of another item of the same hall, keeping its number and its arrival " +
			"time, so it keeps its place. Audited.",
	}, func(ctx context.Context, in *transferInput) (*modules.Body[Ticket], error) {
		return modules.InTxAs(ctx, m.db, func(tx *tenants.Tx, _ tenants.Subject) (Ticket, error) {
			return m.TransferIn(ctx, tx, in.Ticket, in.Body)
		})
	})
	modules.Register(r, "queue:call", huma.Operation{
		OperationID: "finish-ticket", Method: http.MethodPost, Path: "/tickets/{ticket}/finish", Summary: "办结 Finish a ticket",
		Description: "Records the case handled; when the tenant has the ratings module on, the case goes to it (task ratings:case, " +
			"payload queue.CasePayload) with the item, department, window, staff and the hall's region.",
	}, func(ctx context.Context, in *ticketPath) (*modules.Body[Ticket], error) {
		return modules.InTxAs(ctx, m.db, func(tx *tenants.Tx, s tenants.Subject) (Ticket, error) {
			return m.FinishIn(ctx, tx, in.Ticket, staffOf(s))
		})
	})

	pub := r.Public()
	modules.Register(pub, "public", modules.TenantWide(rowsTickets, huma.Operation{
		OperationID: "get-queue-waiting", Method: http.MethodGet, Path: "/halls/{hall}/waiting", Summary: "等候人数 People waiting per item",
	}), func(ctx context.Context, in *hallPath) (*modules.Body[[]Waiting], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) ([]Waiting, error) { return WaitingCounts(ctx, q, in.Hall) })
	})
	modules.Register(pub, "public", modules.TenantWide(rowsTickets, huma.Operation{
		OperationID: "get-queue-ticket-position", Method: http.MethodGet, Path: "/tickets/{ticket}/position", Summary: "排队进度 Where my ticket stands",
		Description: "For the ticket's holder: the secret printed in the ticket's QR code is needed, and a wrong one is answered as an unknown ticket.",
	}), func(ctx context.Context, in *positionInput) (*modules.Body[Position], error) {
		return modules.Read(ctx, m.db, func(q tenants.Querier) (Position, error) { return TicketPosition(ctx, q, in.Ticket, in.Secret) })
	})
	modules.Register(pub, "public", huma.Operation{
		OperationID: "stream-queue-board", Method: http.MethodGet, Path: "/halls/{hall}/board/stream", Summary: "叫号屏 The hall's calls, live",
		Description: "Server-Sent Events for display boards: one event `call` or `recall` per call at a window of the hall (data: " +
			"JSON with number, window_number, window_location, item_name, recalls, text such as \"A012 请到 3 号窗口\", at), and a comment every 15 s.",
	}, m.boardStream)
}
