package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"yamen/modules"
	"yamen/modules/catalog"
	"yamen/modules/queue"
	"yamen/problem"
	"yamen/tenants"
)

// A citizen takes an on-site ticket (现场取号) from their phone, in their
// own name, and follows its place in the queue live: the ticket page polls
// its position every few seconds (static/app.js), the page works without.

func init() {
	RegisterNav(NavItem{Path: "/me/tickets", Title: modules.Text{ZH: "我的排队", EN: "My tickets"}, Module: "queue", Citizen: true})
	for k, v := range ticketMessages {
		messages[k] = v
	}
}

var ticketMessages = map[string][2]string{
	"tickets.title":      {"我的排队", "My tickets"},
	"tickets.none":       {"今天还没有取号。", "No ticket today."},
	"tickets.take":       {"现场取号", "Take a ticket"},
	"tickets.take.help":  {"到达大厅后取号，按叫号到窗口办理。实名事项须先完成实名认证。", "Take a ticket once at the hall and go to the window when called. Real-name items need a verified ID."},
	"tickets.take.item":  {"取号", "Take"},
	"tickets.waiting":    {"%d 人等候", "%d waiting"},
	"tickets.noitems":    {"该网点暂无可现场取号的事项。", "No item takes on-site tickets here."},
	"ticket.title":       {"号票 %s", "Ticket %s"},
	"ticket.ahead":       {"前面等候", "Waiting ahead"},
	"ticket.ahead.n":     {"%d 人", "%d"},
	"ticket.goto":        {"请前往", "Go to"},
	"ticket.window.n":    {"%d 号窗口", "window %d"},
	"ticket.live":        {"本页每隔几秒自动更新排队进度。", "This page updates your place every few seconds."},
	"ticket.st.waiting":  {"等候中", "Waiting"},
	"ticket.st.called":   {"已叫号，请到窗口办理", "Called: go to the window"},
	"ticket.st.finished": {"已办结", "Finished"},
	"ticket.st.no_show":  {"已过号", "Missed"},
	"done.taken":         {"取号成功。", "Here is your ticket."},
}

// citizenIdentity reads the signed-in citizen's traits from Kratos: the
// session the portal resolved carries the name and real-name level, not
// the ID number.
func (p *Portal) citizenIdentityOf(v *view) (queue.CitizenIdentity, error) {
	who := queue.CitizenIdentity{ID: v.person.ID, Name: v.person.Name, RealNameLevel: v.person.RealNameLevel}
	s, _, err := p.kratos.FrontendAPI.ToSession(v.r.Context()).Cookie(v.r.Header.Get("Cookie")).Execute()
	if err != nil {
		return who, fmt.Errorf("portal: kratos session: %w", err)
	}
	if s.Identity != nil {
		if traits, ok := s.Identity.Traits.(map[string]any); ok {
			who.IDNumber, _ = traits["id_number"].(string)
		}
	}
	return who, nil
}

type ticketsPage struct {
	Tickets []queue.Ticket
	Halls   []hallItems
	Error   string
}

type hallItems struct {
	catalog.Hall
	Items []queue.Waiting
}

// myTickets is the citizen's tickets of today and the halls' items to take
// a ticket for.
func (p *Portal) myTickets(v *view) error {
	return p.renderTickets(v, http.StatusOK, "")
}

func (p *Portal) renderTickets(v *view, status int, msg string) error {
	r, err := v.reader()
	if err != nil {
		return err
	}
	pg := ticketsPage{Error: msg}
	if pg.Tickets, err = queue.CitizenTickets(v.ctx, r, v.person.ID, time.Now()); err != nil {
		return err
	}
	halls, err := catalog.ListHalls(v.ctx, r, catalog.HallFilter{ActiveOnly: true})
	if err != nil {
		return err
	}
	for _, h := range halls {
		ws, err := queue.WaitingCounts(v.ctx, r, h.ID)
		if err != nil {
			return err
		}
		pg.Halls = append(pg.Halls, hallItems{Hall: h, Items: ws})
	}
	v.render(status, "my_tickets", v.t("tickets.title"), pg)
	return nil
}

// takeTicket issues a walk-in ticket in the citizen's name.
func (p *Portal) takeTicket(v *view) error {
	m, err := p.queueModule()
	if err != nil {
		return err
	}
	who, err := p.citizenIdentityOf(v)
	if err != nil {
		return err
	}
	var t queue.Ticket
	err = v.inTx(func(ctx context.Context, tx *tenants.Tx) error {
		t, err = m.TakeTicketAsCitizen(ctx, tx, who, v.r.PostFormValue("item_id"))
		return err
	})
	if pe, ok := problem.As(err); ok && pe.Status < 500 {
		return p.renderTickets(v, pe.Status, v.problemText(err))
	}
	if err != nil {
		return err
	}
	return v.redirect("/t/" + v.tenant.Slug + "/me/tickets/" + t.ID.String() + "?done=taken")
}

type ticketPage struct {
	Ticket   queue.Ticket
	Position queue.Position
}

func (v *view) ownTicket() (uuid.UUID, queue.Position, error) {
	id, err := uuid.Parse(v.r.PathValue("ticket"))
	if err != nil {
		return uuid.Nil, queue.Position{}, errNotFound
	}
	r, err := v.reader()
	if err != nil {
		return id, queue.Position{}, err
	}
	pos, err := queue.CitizenPosition(v.ctx, r, v.person.ID, id)
	return id, pos, err
}

// showTicket is the citizen's ticket with its place in the queue.
func (p *Portal) showTicket(v *view) error {
	_, pos, err := v.ownTicket()
	if err != nil {
		return err
	}
	v.render(http.StatusOK, "my_ticket", v.t("ticket.title", pos.Number), ticketPage{Position: pos})
	return nil
}

// ticketPosition is the ticket's place as JSON, for the page to poll.
func (p *Portal) ticketPosition(v *view) error {
	_, pos, err := v.ownTicket()
	if err != nil {
		return err
	}
	out := map[string]any{"status": pos.Status, "status_text": v.t("ticket.st." + pos.Status), "waiting_ahead": pos.WaitingAhead,
		"ahead_text": v.t("ticket.ahead.n", pos.WaitingAhead)}
	if pos.WindowNumber != nil {
		out["window_text"] = v.t("ticket.window.n", *pos.WindowNumber) + " " + pos.WindowLocation
	}
	h := v.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	return json.NewEncoder(v.w).Encode(out)
}
