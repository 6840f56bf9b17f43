package portal

import (
	"context"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"yamen/modules/booking"
	"yamen/problem"
	"yamen/tenants"
)

// A citizen's own appointments in a tenant: the list with their standing
// (bars, appeals), one appointment with its QR code for check-in, cancel
// with a reason, appeal a bar.

type appointmentsPage struct {
	Appointments []booking.Appointment
	Standing     booking.Standing
	Error        string
	Reason       string
}

// myAppointments lists the citizen's appointments, newest slot first, and
// whether they may book.
func (p *Portal) myAppointments(v *view) error {
	return p.renderAppointments(v, http.StatusOK, "", "")
}

func (p *Portal) renderAppointments(v *view, status int, msg, reason string) error {
	m, c, err := p.citizenBooking(v)
	if err != nil {
		return err
	}
	r, err := v.reader()
	if err != nil {
		return err
	}
	pg := appointmentsPage{Error: msg, Reason: reason}
	if pg.Appointments, err = booking.ListOwn(v.ctx, r, c.ID, 50); err != nil {
		return err
	}
	if pg.Standing, err = booking.GetStanding(v.ctx, r, c.ID, m.Now()); err != nil {
		return err
	}
	v.render(status, "appointments", v.t("appointments.title"), pg)
	return nil
}

type appointmentPage struct {
	Appointment booking.Appointment
	Pass        *booking.Pass
	Error       string
	Reason      string
}

func appointmentOf(v *view) (uuid.UUID, error) {
	id, err := uuid.Parse(v.r.PathValue("appointment"))
	if err != nil {
		return uuid.Nil, errNotFound
	}
	return id, nil
}

// showAppointment is one appointment; while booked, with the QR code the
// window or kiosk scans and the pass as text, for a clerk to type.
func (p *Portal) showAppointment(v *view) error {
	return p.renderAppointment(v, http.StatusOK, "", "")
}

func (p *Portal) renderAppointment(v *view, status int, msg, reason string) error {
	id, err := appointmentOf(v)
	if err != nil {
		return err
	}
	m, c, err := p.citizenBooking(v)
	if err != nil {
		return err
	}
	r, err := v.reader()
	if err != nil {
		return err
	}
	pg := appointmentPage{Error: msg, Reason: reason}
	if pg.Appointment, err = booking.GetOwn(v.ctx, r, c.ID, id); err != nil {
		return err
	}
	if pg.Appointment.Status == "booked" {
		ps, err := m.PassFor(v.ctx, r, c.ID, id)
		if err != nil {
			return err
		}
		pg.Pass = &ps
	}
	v.render(status, "appointment", v.t("appointment.title", pg.Appointment.ItemName), pg)
	return nil
}

// appointmentQR is the QR code of the appointment's pass, as SVG.
func (p *Portal) appointmentQR(v *view) error {
	id, err := appointmentOf(v)
	if err != nil {
		return err
	}
	m, c, err := p.citizenBooking(v)
	if err != nil {
		return err
	}
	r, err := v.reader()
	if err != nil {
		return err
	}
	ps, err := m.PassFor(v.ctx, r, c.ID, id)
	if err != nil {
		return err
	}
	svg, err := qrSVG(ps.Token)
	if err != nil {
		return err
	}
	h := v.w.Header()
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Cache-Control", "private, no-store")
	_, _ = v.w.Write(svg)
	return nil
}

// maxReason bounds a cancellation's or an appeal's reason, in characters.
const maxReason = 500

// cancelAppointment cancels the citizen's booking with a reason.
func (p *Portal) cancelAppointment(v *view) error {
	id, err := appointmentOf(v)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(v.r.PostFormValue("reason"))
	switch {
	case reason == "":
		return p.renderAppointment(v, http.StatusUnprocessableEntity, v.t("appointment.reason.required"), reason)
	case len([]rune(reason)) > maxReason:
		return p.renderAppointment(v, http.StatusUnprocessableEntity, v.t("field.too_long", maxReason), reason)
	}
	m, c, err := p.citizenBooking(v)
	if err != nil {
		return err
	}
	cal := m.Calendar(v.ctx)
	err = v.inTx(func(ctx context.Context, tx *tenants.Tx) error {
		_, err := m.Cancel(ctx, tx, cal, c.ID, id, reason, m.Now())
		return err
	})
	if pe, ok := problem.As(err); ok && pe.Status < 500 {
		return p.renderAppointment(v, pe.Status, v.problemText(err), reason)
	}
	if err != nil {
		return err
	}
	return v.redirect("/t/" + v.tenant.Slug + "/me/appointments/" + id.String() + "?done=cancelled")
}

// appealBar files the citizen's appeal against one of their bars.
func (p *Portal) appealBar(v *view) error {
	bar, err := uuid.Parse(v.r.PostFormValue("bar_id"))
	if err != nil {
		return p.renderAppointments(v, http.StatusUnprocessableEntity, v.t("appeal.bar.required"), "")
	}
	reason := strings.TrimSpace(v.r.PostFormValue("reason"))
	switch {
	case reason == "":
		return p.renderAppointments(v, http.StatusUnprocessableEntity, v.t("appeal.reason.required"), reason)
	case len([]rune(reason)) > maxReason:
		return p.renderAppointments(v, http.StatusUnprocessableEntity, v.t("field.too_long", maxReason), reason)
	}
	m, c, err := p.citizenBooking(v)
	if err != nil {
		return err
	}
	err = v.inTx(func(ctx context.Context, tx *tenants.Tx) error {
		_, err := booking.FileAppeal(ctx, tx, c.ID, booking.NewAppeal{BarID: bar, Reason: reason}, m.Now())
		return err
	})
	if pe, ok := problem.As(err); ok && pe.Status < 500 {
		return p.renderAppointments(v, pe.Status, v.problemText(err), reason)
	}
	if err != nil {
		return err
	}
	return v.redirect("/t/" + v.tenant.Slug + "/me/appointments?done=appealed")
}
