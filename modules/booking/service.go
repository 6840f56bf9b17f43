package booking

import (
	"context"
	"time"

	"github.com/google/uuid"

	"yamen/modules/booking/pass"
	"yamen/problem"
	"yamen/tenants"
	"yamen/tenants/calendar"
)

// What the portal's pages call, beside the store functions: the pages act
// as the HTTP operations do, with the module's calendar, clock and pass key.

// Calendar is the jurisdiction's working-day calendar the module counts
// slots and deadlines with.
func (m *Module) Calendar(ctx context.Context) *calendar.Calendar { return m.calendar(ctx) }

// Now is the module's clock.
func (m *Module) Now() time.Time { return m.now() }

// CitizenOf is the citizen a signed-in subject books as; anyone else is
// refused.
func CitizenOf(ctx context.Context) (Citizen, error) { return citizenFrom(ctx) }

// PassFor signs the check-in pass of the citizen's booked appointment id:
// the token its QR code carries, valid until the slot ends plus the
// no-show grace.
func (m *Module) PassFor(ctx context.Context, q tenants.Querier, citizen, id uuid.UUID) (Pass, error) {
	a, err := GetOwn(ctx, q, citizen, id)
	if err != nil {
		return Pass{}, err
	}
	if a.Status != "booked" {
		return Pass{}, problem.Conflict("该预约已取号、取消或违约，没有二维码 (the appointment is not booked any more)")
	}
	s, err := LoadSettings(ctx, q)
	if err != nil {
		return Pass{}, err
	}
	exp := a.SlotEnd.Add(time.Duration(s.NoShowGraceMinutes) * time.Minute)
	return Pass{AppointmentID: a.ID, ExpiresAt: exp, Token: pass.Sign(m.passKey, pass.Claim{Tenant: a.TenantID, Appointment: a.ID, Expires: exp})}, nil
}
