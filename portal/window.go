package portal

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"yamen/modules/catalog"
	"yamen/modules/queue"
	"yamen/problem"
	"yamen/tenants"
)

// The window page is what a clerk at a 办事窗口 keeps open: call the next
// citizen, recall, mark a no-show, transfer to another item, finish; check
// an appointment in from its QR pass; how many wait for each item.

type windowPickPage struct {
	Halls []hallWindows
}

type hallWindows struct {
	catalog.Hall
	Windows []catalog.Window
}

// pickWindow lists the halls' windows in use, to choose the one the clerk
// sits at.
func (p *Portal) pickWindow(v *view) error {
	r, err := v.reader()
	if err != nil {
		return err
	}
	halls, err := catalog.ListHalls(v.ctx, r, catalog.HallFilter{ActiveOnly: true})
	if err != nil {
		return err
	}
	ws, err := catalog.ListWindows(v.ctx, r, catalog.WindowFilter{ActiveOnly: true})
	if err != nil {
		return err
	}
	var pg windowPickPage
	for _, h := range halls {
		hw := hallWindows{Hall: h}
		for _, w := range ws {
			if w.HallID == h.ID {
				hw.Windows = append(hw.Windows, w)
			}
		}
		pg.Halls = append(pg.Halls, hw)
	}
	v.render(http.StatusOK, "window_pick", v.t("window.pick"), pg)
	return nil
}

type windowPage struct {
	Window  catalog.Window
	Hall    catalog.Hall
	Current *queue.Ticket
	Waiting []queue.Waiting
	// Items are the hall's items a called ticket can be transferred to.
	Items   []queue.Waiting
	Error   string
	CheckIn string
	Issued  *queue.Ticket
}

func windowOf(v *view) (uuid.UUID, error) {
	id, err := uuid.Parse(v.r.PathValue("window"))
	if err != nil {
		return uuid.Nil, errNotFound
	}
	return id, nil
}

// showWindow is the clerk's page of one window.
func (p *Portal) showWindow(v *view) error {
	return p.renderWindow(v, http.StatusOK, "", nil)
}

func (p *Portal) renderWindow(v *view, status int, msg string, issued *queue.Ticket) error {
	id, err := windowOf(v)
	if err != nil {
		return err
	}
	r, err := v.reader()
	if err != nil {
		return err
	}
	pg := windowPage{Error: msg, Issued: issued}
	if pg.Window, err = catalog.GetWindow(v.ctx, r, id); err != nil {
		return err
	}
	if pg.Hall, err = catalog.GetHall(v.ctx, r, pg.Window.HallID); err != nil {
		return err
	}
	if pg.Current, err = queue.AtWindow(v.ctx, r, id); err != nil {
		return err
	}
	all, err := queue.WaitingCounts(v.ctx, r, pg.Window.HallID)
	if err != nil {
		return err
	}
	handles := map[uuid.UUID]bool{}
	for _, it := range pg.Window.ItemIDs {
		handles[it] = true
	}
	for _, w := range all {
		if handles[w.ItemID] {
			pg.Waiting = append(pg.Waiting, w)
		}
		if pg.Current == nil || w.ItemID != pg.Current.ItemID {
			pg.Items = append(pg.Items, w)
		}
	}
	v.render(status, "window", v.t("window.title", pg.Window.Number, pg.Hall.Name), pg)
	return nil
}

// windowAction runs a clerk's action on the window's ticket; a refusal (a
// 4xx problem: nobody waiting, not recalled enough) shows on the page.
func (p *Portal) windowAction(v *view, done string, fn func(ctx context.Context, m *queue.Module, tx *tenants.Tx, window uuid.UUID) error) error {
	window, err := windowOf(v)
	if err != nil {
		return err
	}
	m, err := p.queueModule()
	if err != nil {
		return err
	}
	err = v.inTx(func(ctx context.Context, tx *tenants.Tx) error { return fn(ctx, m, tx, window) })
	if pe, ok := problem.As(err); ok && pe.Status < 500 {
		return p.renderWindow(v, pe.Status, v.problemText(err), nil)
	}
	if err != nil {
		return err
	}
	return v.redirect("/t/" + v.tenant.Slug + "/window/" + window.String() + "?done=" + done)
}

// problemText is a refusal's words, fields included.
func (v *view) problemText(err error) string {
	fe, _ := v.errorsOf(err)
	msg := fe.Form
	for _, f := range fe.Fields {
		if msg != "" {
			msg += "；"
		}
		msg += f
	}
	return msg
}

func (v *view) staffID() *uuid.UUID {
	if v.person != nil && v.person.Kind == tenants.SubjectMember && v.person.ID != uuid.Nil {
		id := v.person.ID
		return &id
	}
	return nil
}

// callNext calls the next citizen to the window.
func (p *Portal) callNext(v *view) error {
	return p.windowAction(v, "called", func(ctx context.Context, m *queue.Module, tx *tenants.Tx, window uuid.UUID) error {
		_, err := m.CallNextIn(ctx, tx, window, v.staffID())
		return err
	})
}

// ticketAction is recall, no-show, transfer or finish of the ticket the
// window serves.
func (p *Portal) ticketAction(v *view) error {
	ticket, err := uuid.Parse(v.r.PathValue("ticket"))
	if err != nil {
		return errNotFound
	}
	verb := v.r.PathValue("verb")
	var run func(ctx context.Context, m *queue.Module, tx *tenants.Tx) error
	switch verb {
	case "recall":
		run = func(ctx context.Context, m *queue.Module, tx *tenants.Tx) error {
			_, err := m.RecallIn(ctx, tx, ticket)
			return err
		}
	case "no-show":
		run = func(ctx context.Context, m *queue.Module, tx *tenants.Tx) error {
			_, err := m.NoShowIn(ctx, tx, ticket)
			return err
		}
	case "finish":
		run = func(ctx context.Context, m *queue.Module, tx *tenants.Tx) error {
			_, err := m.FinishIn(ctx, tx, ticket, v.staffID())
			return err
		}
	case "transfer":
		item := v.r.PostFormValue("item_id")
		run = func(ctx context.Context, m *queue.Module, tx *tenants.Tx) error {
			_, err := m.TransferIn(ctx, tx, ticket, queue.Transfer{ItemID: item})
			return err
		}
	default:
		return errNotFound
	}
	return p.windowAction(v, verb, func(ctx context.Context, m *queue.Module, tx *tenants.Tx, window uuid.UUID) error {
		// Only the ticket this window serves: a stale page must not act on
		// a ticket another window has taken since.
		cur, err := queue.AtWindow(ctx, tx, window)
		if err != nil {
			return err
		}
		if cur == nil || cur.ID != ticket {
			return problem.Conflict("该号已不在本窗口，请刷新 (the ticket is no longer at this window; reload)")
		}
		return run(ctx, m, tx)
	})
}

// checkIn turns an appointment's QR pass (scanned or typed at the window)
// into a ticket.
func (p *Portal) checkIn(v *view) error {
	token := v.r.PostFormValue("token")
	m, err := p.queueModule()
	if err != nil {
		return err
	}
	var t queue.Ticket
	err = v.inTx(func(ctx context.Context, tx *tenants.Tx) error {
		t, err = m.CheckInIn(ctx, tx, queue.CheckIn{Token: token}, time.Now())
		return err
	})
	if pe, ok := problem.As(err); ok && pe.Status < 500 {
		return p.renderWindow(v, pe.Status, v.problemText(err), nil)
	}
	if err != nil {
		return err
	}
	return p.renderWindow(v, http.StatusOK, "", &t)
}
