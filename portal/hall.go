package portal

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"yamen/modules/booking"
	"yamen/modules/catalog"
	"yamen/problem"
	"yamen/tenants"
)

// The hall's public pages: a tenant's halls, a hall's service items
// searched by name, department or theme, an item's free slots; booking one
// needs a signed-in citizen.

type hallListPage struct {
	Halls []catalog.Hall
}

// listHalls lists the tenant's halls open to the public.
func (p *Portal) listHalls(v *view) error {
	halls, err := v.activeHalls()
	if err != nil {
		return err
	}
	v.render(http.StatusOK, "hall_list", v.t("hall.list"), hallListPage{Halls: halls})
	return nil
}

// activeHalls are the tenant's halls open to the public.
func (v *view) activeHalls() ([]catalog.Hall, error) {
	r, err := v.reader()
	if err != nil {
		return nil, err
	}
	return catalog.ListHalls(v.ctx, r, catalog.HallFilter{ActiveOnly: true})
}

type hallPage struct {
	Hall                 catalog.HallDetail
	Items                []catalog.Item
	Themes               []catalog.Theme
	Q, Department, Theme string
	Error                string
	Next                 string
	Searched, Bookable   bool
}

// showHall is a hall with its items, searched by words of the name (or the
// item code), department and theme.
func (p *Portal) showHall(v *view) error {
	hall, err := uuid.Parse(v.r.PathValue("hall"))
	if err != nil {
		return errNotFound
	}
	r, err := v.reader()
	if err != nil {
		return err
	}
	q := v.r.URL.Query()
	pg := hallPage{Q: strings.TrimSpace(q.Get("q")), Department: q.Get("department"), Theme: q.Get("theme")}
	if pg.Hall, err = catalog.GetHallDetail(v.ctx, r, hall, true); err != nil {
		return err
	}
	if pg.Themes, err = catalog.ListThemes(v.ctx, r, catalog.ThemeFilter{Hall: hall.String()}); err != nil {
		return err
	}
	page, err := catalog.ListItems(v.ctx, r, catalog.ItemFilter{Q: pg.Q, Department: pg.Department, Theme: pg.Theme, Hall: hall.String(),
		Cursor: q.Get("cursor"), Limit: 50, ActiveOnly: true})
	if pe, ok := problem.As(err); ok && pe.Status < 500 {
		pg.Error = v.problemText(err)
	} else if err != nil {
		return err
	} else {
		pg.Items, pg.Next = page.Items, page.NextCursor
	}
	pg.Bookable = v.enabledModules()["booking"]
	v.render(http.StatusOK, "hall", pg.Hall.Name, pg)
	return nil
}

type slotsPage struct {
	Slots booking.ItemSlots
	Days  []slotDay
	Error string
}

type slotDay struct {
	Day   string
	Slots []booking.Slot
}

// itemSlots shows an item's free slots for the next days, each with a
// button to book it.
func (p *Portal) itemSlots(v *view) error {
	return p.renderSlots(v, http.StatusOK, "")
}

func (p *Portal) renderSlots(v *view, status int, msg string) error {
	item, err := uuid.Parse(v.r.PathValue("item"))
	if err != nil {
		return errNotFound
	}
	m, err := p.bookingModule()
	if err != nil {
		return err
	}
	r, err := v.reader()
	if err != nil {
		return err
	}
	cal := m.Calendar(v.ctx)
	now := m.Now()
	loc := cal.Location()
	y, mo, d := now.In(loc).Date()
	from := time.Date(y, mo, d, 0, 0, 0, 0, loc)
	s, err := booking.ListSlots(v.ctx, r, cal, item, from, from.AddDate(0, 0, 15).Add(-time.Nanosecond), now)
	if err != nil {
		return err
	}
	pg := slotsPage{Slots: s, Error: msg}
	for _, sl := range s.Slots {
		day := sl.Start.In(loc).Format("2006-01-02 Mon")
		if len(pg.Days) == 0 || pg.Days[len(pg.Days)-1].Day != day {
			pg.Days = append(pg.Days, slotDay{Day: day})
		}
		last := &pg.Days[len(pg.Days)-1]
		last.Slots = append(last.Slots, sl)
	}
	v.render(status, "slots", v.t("slots.title", s.ItemName), pg)
	return nil
}

// book books the slot chosen for the signed-in citizen and shows the
// appointment with its QR code.
func (p *Portal) book(v *view) error {
	item, err := uuid.Parse(v.r.PathValue("item"))
	if err != nil {
		return errNotFound
	}
	start, err := time.Parse(time.RFC3339, v.r.PostFormValue("slot_start"))
	if err != nil {
		return p.renderSlots(v, http.StatusUnprocessableEntity, v.t("slots.bad"))
	}
	m, c, err := p.citizenBooking(v)
	if err != nil {
		return err
	}
	cal := m.Calendar(v.ctx)
	// The form's token keys the booking: a form posted twice books once.
	key := "portal:" + v.r.PostFormValue(csrfField)[:16] + ":" + item.String() + ":" + start.UTC().Format(time.RFC3339)
	var a booking.Appointment
	err = v.inTx(func(ctx context.Context, tx *tenants.Tx) error {
		a, err = m.Book(ctx, tx, cal, c, booking.NewAppointment{ItemID: item, SlotStart: start}, key, m.Now())
		return err
	})
	if pe, ok := problem.As(err); ok && pe.Status < 500 {
		return p.renderSlots(v, pe.Status, v.problemText(err))
	}
	if err != nil {
		return err
	}
	return v.redirect("/t/" + v.tenant.Slug + "/me/appointments/" + a.ID.String() + "?done=booked")
}
